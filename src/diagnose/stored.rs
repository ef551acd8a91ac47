//! "Is this key already registered?": the sign-ins stored on a key, read
//! with read-only credential management after a check in which the key
//! accepted the user's PIN ([`should_read`], [`read_stored`]), as key facts
//! ([`StoredSignIns`]) and the findings about them ([`stored_rules`]).
//!
//! The PIN is never asked again for this: the check's own user interaction
//! is reused through [`OnePinRequest`], which passes on one request (the
//! remembered PIN) and declines any further one. Nothing is deleted.

use serde::Serialize;

use crate::ctap::ctaphid::{CancelHandle, CtapHid, HidOptions};
use crate::ctap::keycare::{self, CredentialInventory, ENTRA_RP_ID, PinSafety};
use crate::ctap::probe::{
    FailureCode, PinAnswer, PinRequest, ProbeReport, UserInteraction, UserVerification, UvRequest,
};
use crate::transport::Transport;

use super::findings::{Finding, FindingId, Severity};
use super::keys::KeyFacts;

/// What replaces a user name in a redacted report.
pub const REDACTED_USER: &str = "<user>";
/// What replaces another service's id in a redacted report.
pub const REDACTED_SERVICE: &str = "<service>";
/// How a service or account appears when the key did not keep its name.
pub const UNNAMED: &str = "(unnamed)";

/// The discoverable credentials ("sign-ins") stored on a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredSignIns {
    /// Discoverable credentials on the key, all services.
    pub existing: u64,
    /// How many more the key can store (the key's estimate), if it says.
    pub remaining: Option<u64>,
    /// Accounts with a UTokyo (Entra ID, `login.microsoft.com`) sign-in on
    /// the key: sign-in name, else display name (removed by redaction).
    pub utokyo_users: Vec<String>,
    /// Ids of the other services with sign-ins on the key (removed by
    /// redaction).
    pub other_services: Vec<String>,
}

impl StoredSignIns {
    /// The facts of an inventory read from the key.
    pub fn from_inventory(inv: &CredentialInventory) -> Self {
        let utokyo_users = inv
            .entra
            .iter()
            .map(|u| {
                u.user_name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .or_else(|| u.display_name.clone())
                    .unwrap_or_else(|| UNNAMED.to_owned())
            })
            .collect();
        let other_services = inv
            .relying_parties
            .iter()
            .filter(|rp| rp.id.as_deref() != Some(ENTRA_RP_ID))
            .map(|rp| rp.id.clone().unwrap_or_else(|| UNNAMED.to_owned()))
            .collect();
        StoredSignIns {
            existing: inv.existing,
            remaining: inv.remaining,
            utokyo_users,
            other_services,
        }
    }

    /// Whether the key holds a UTokyo sign-in.
    pub fn has_utokyo(&self) -> bool {
        !self.utokyo_users.is_empty()
    }

    /// Every service with a sign-in on the key, UTokyo first
    /// (`login.microsoft.com (UTokyo Account), github.com`).
    pub fn services(&self) -> String {
        let utokyo = self
            .has_utokyo()
            .then(|| format!("{ENTRA_RP_ID} (UTokyo Account)"));
        utokyo
            .into_iter()
            .chain(self.other_services.iter().cloned())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Replaces user names and other services' ids; returns each replaced
    /// value with its replacement, so texts quoting them can be scrubbed.
    pub fn redact(&mut self) -> Vec<(String, String)> {
        let mut swaps = Vec::new();
        for (list, with) in [
            (&mut self.utokyo_users, REDACTED_USER),
            (&mut self.other_services, REDACTED_SERVICE),
        ] {
            for v in list.iter_mut() {
                if v != with && v != UNNAMED {
                    swaps.push((std::mem::replace(v, with.to_owned()), with.to_owned()));
                }
            }
        }
        swaps
    }
}

/// Whether to read the stored sign-ins after `report`'s check: the key
/// offers credential management (`credMgmt` or `credentialMgmtPreview`),
/// has a PIN, and accepted the PIN the user gave during the check (a stage
/// verified with it and no stage failed on it). Never after a check that
/// did not use the PIN, so reading asks for nothing new.
pub fn should_read(report: &ProbeReport) -> bool {
    let Some(info) = report.key.ok().and_then(|k| k.info.as_ref()) else {
        return false;
    };
    let cred_mgmt = ["credMgmt", "credentialMgmtPreview"]
        .iter()
        .any(|o| info.options.get(*o) == Some(&true));
    let pin_failed = [
        report.registration.failure(),
        report.authentication.failure(),
    ]
    .into_iter()
    .flatten()
    .any(|f| is_pin_failure(f.code));
    let by_pin = |v: UserVerification| v == UserVerification::Pin;
    let pin_accepted = report
        .registration
        .ok()
        .is_some_and(|r| by_pin(r.user_verification))
        || report
            .authentication
            .ok()
            .is_some_and(|a| by_pin(a.user_verification));
    cred_mgmt && info.client_pin() == Some(true) && pin_accepted && !pin_failed
}

fn is_pin_failure(code: FailureCode) -> bool {
    matches!(
        code,
        FailureCode::PinBlocked
            | FailureCode::PinAuthBlocked
            | FailureCode::PinInvalid
            | FailureCode::PinNotSet
            | FailureCode::PinDeclined
            | FailureCode::PinUnavailable
            | FailureCode::PinLastAttemptWithheld
            | FailureCode::Cancelled
    )
}

/// Passes one PIN request on to the check's interaction (which remembers
/// the PIN the key accepted) and declines every further one, and any
/// request after a wrong PIN: reading the sign-ins never prompts anew and
/// never tries a second PIN.
pub struct OnePinRequest<'a> {
    inner: &'a mut dyn UserInteraction,
    asked: bool,
}

impl<'a> OnePinRequest<'a> {
    /// Wraps the interaction the check used.
    pub fn new(inner: &'a mut dyn UserInteraction) -> Self {
        OnePinRequest {
            inner,
            asked: false,
        }
    }
}

impl UserInteraction for OnePinRequest<'_> {
    fn request_pin(&mut self, request: &PinRequest) -> PinAnswer {
        if std::mem::replace(&mut self.asked, true) || request.previous_wrong {
            return PinAnswer::Declined;
        }
        self.inner.request_pin(request)
    }

    fn request_uv(&mut self, _request: &UvRequest) -> bool {
        false
    }
}

/// Opens `t` and lists the sign-ins stored on the key (read-only), with
/// the PIN from the check's interaction `pin` (see [`OnePinRequest`]). The
/// last PIN attempt is spent only when `allow_last_attempt`. The error is
/// the message of what went wrong (never a PIN).
pub fn read_stored<T: Transport>(
    t: T,
    pin: &mut dyn UserInteraction,
    allow_last_attempt: bool,
) -> Result<StoredSignIns, String> {
    let mut hid = CtapHid::open(t, HidOptions::default(), CancelHandle::default())
        .map_err(|e| e.to_string())?;
    let mut once = OnePinRequest::new(pin);
    let safety = PinSafety { allow_last_attempt };
    keycare::registrations(&mut hid, &mut once, safety)
        .map(|inv| StoredSignIns::from_inventory(&inv))
        .map_err(|e| e.to_string())
}

impl KeyFacts {
    /// Records what reading the stored sign-ins gave.
    pub fn apply_stored(&mut self, read: Result<StoredSignIns, String>) {
        match read {
            Ok(s) => self.stored = Some(s),
            Err(e) => self.stored_unreadable = Some(e),
        }
    }
}

/// The findings about the sign-ins stored on `key`, when they were read:
/// the UTokyo account it already holds, or that it holds none yet.
pub fn stored_rules(
    key: &KeyFacts,
    mk: &dyn Fn(FindingId, Severity) -> Finding,
    out: &mut Vec<Finding>,
) {
    let Some(s) = &key.stored else {
        return;
    };
    if s.has_utokyo() {
        out.push(
            mk(FindingId::AlreadyRegistered, Severity::Info)
                .with("user", s.utokyo_users.join(", "))
                .with("count", s.utokyo_users.len().to_string()),
        );
    } else {
        out.push(
            mk(FindingId::NoUtokyoCredential, Severity::Info)
                .with("existing", s.existing.to_string()),
        );
    }
}

/// The services the stored sign-ins belong to, for the store-full
/// finding's `{services}` (when the sign-ins were read).
pub fn with_services(f: Finding, key: &KeyFacts) -> Finding {
    match &key.stored {
        Some(s) if s.existing > 0 => f.with("services", s.services()),
        _ => f,
    }
}

/// One line about the stored sign-ins for reports and the keys pane
/// (`3 — UTokyo Account: 1234567890@…; other services: github.com; free slots: 0`),
/// or why they could not be read; `None` when they were not read. `l` gives
/// the labels (`report.*` in `text.toml`).
pub fn describe(k: &KeyFacts, l: &dyn Fn(&str) -> String) -> Option<String> {
    if let Some(e) = &k.stored_unreadable {
        return Some(format!("{}: {e}", l("report.stored_unreadable")));
    }
    let s = k.stored.as_ref()?;
    let list = |v: &[String]| {
        if v.is_empty() {
            l("report.stored_none")
        } else {
            v.join(", ")
        }
    };
    let mut line = format!(
        "{} — {}: {}; {}: {}",
        s.existing,
        l("report.stored_utokyo"),
        list(&s.utokyo_users),
        l("report.stored_others"),
        list(&s.other_services)
    );
    if let Some(n) = s.remaining {
        line.push_str(&format!("; {} {n}", l("report.free_slots")));
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctap::keycare::{RegisteredUser, RelyingParty};

    fn inventory() -> CredentialInventory {
        CredentialInventory {
            existing: 3,
            remaining: Some(0),
            relying_parties: vec![
                RelyingParty {
                    id: Some(ENTRA_RP_ID.into()),
                    credentials: 1,
                },
                RelyingParty {
                    id: Some("github.com".into()),
                    credentials: 1,
                },
                RelyingParty {
                    id: None,
                    credentials: 1,
                },
            ],
            entra: vec![RegisteredUser {
                user_name: Some("0123456789@utac.u-tokyo.ac.jp".into()),
                display_name: Some("Sample".into()),
                cred_protect: None,
            }],
        }
    }

    #[test]
    fn facts_name_the_account_and_the_other_services() {
        let s = StoredSignIns::from_inventory(&inventory());
        assert_eq!(s.utokyo_users, ["0123456789@utac.u-tokyo.ac.jp"]);
        assert_eq!(s.other_services, ["github.com", UNNAMED]);
        assert_eq!(
            s.services(),
            "login.microsoft.com (UTokyo Account), github.com, (unnamed)"
        );
        let mut k = KeyFacts::unknown("sim:x");
        k.apply_stored(Ok(s.clone()));
        let labels = crate::content::text::Texts::embedded(crate::content::Lang::En);
        let line = describe(&k, &|key| labels.get(key)).unwrap();
        assert!(
            line.starts_with("3 — UTokyo Account: 0123456789@"),
            "{line}"
        );
        assert!(line.ends_with("free slots: 0"), "{line}");
        let mut failed = KeyFacts::unknown("sim:x");
        failed.apply_stored(Err("the key stopped answering".into()));
        let line = describe(&failed, &|key| labels.get(key)).unwrap();
        assert!(
            line.contains("could not read stored sign-ins: the key"),
            "{line}"
        );
        assert_eq!(
            describe(&KeyFacts::unknown("sim:y"), &|key| labels.get(key)),
            None
        );
    }

    #[test]
    fn redaction_replaces_accounts_and_services() {
        let mut s = StoredSignIns::from_inventory(&inventory());
        let swaps = s.redact();
        assert_eq!(s.utokyo_users, [REDACTED_USER]);
        assert_eq!(s.other_services, [REDACTED_SERVICE, UNNAMED]);
        assert_eq!(
            swaps,
            [
                (
                    "0123456789@utac.u-tokyo.ac.jp".to_string(),
                    REDACTED_USER.to_string()
                ),
                ("github.com".to_string(), REDACTED_SERVICE.to_string())
            ]
        );
        // Twice is harmless.
        assert!(s.redact().is_empty());
    }

    #[test]
    fn one_pin_request_is_passed_on_and_no_more() {
        use crate::ctap::probe::FixedPin;
        use zeroize::Zeroizing;
        let mut fixed = FixedPin(Zeroizing::new("1234".into()));
        let mut once = OnePinRequest::new(&mut fixed);
        let req = |previous_wrong| PinRequest {
            retries: Some(8),
            last_attempt: false,
            previous_wrong,
            rp_id: String::new(),
            uv_fallback: None,
        };
        assert!(matches!(once.request_pin(&req(false)), PinAnswer::Pin(_)));
        assert!(matches!(once.request_pin(&req(false)), PinAnswer::Declined));
        let mut fixed = FixedPin(Zeroizing::new("1234".into()));
        let mut once = OnePinRequest::new(&mut fixed);
        assert!(matches!(once.request_pin(&req(true)), PinAnswer::Declined));
    }
}
