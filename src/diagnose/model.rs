//! Which model a key is and what vouches for it, from facts first: what the
//! key itself said over CTAPHID/GetInfo outranks what the AAGUID tables say.
//! Fills the model, maker, kind and eligibility of [`KeyFacts`] from the
//! FIDO metadata (model names for ~350 FIDO2 models, status reports) with
//! the content table (`aaguids.toml`: Microsoft's list, passkey rows) as
//! fallback; records the attestation's trust level; and says which of
//! Microsoft Entra ID's requirements a key meets ([`EntraCheck`]).

use serde::Serialize;

use crate::content::aaguid::{Aaguid, AaguidTable, AuthenticatorKind};
use crate::ctap::ctap2::get_info::GetInfo;
use crate::ctap::verify::attestation::{AttestationKind, AttestationOutcome, TrustLevel};
use crate::ctap::verify::metadata::{Metadata, StatusWeight};

use super::keys::{KeyFacts, PinState, Protocol};

/// Where the model name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelSource {
    /// The FIDO Metadata Service table embedded in the program.
    Metadata,
    /// The program's own AAGUID table (content/aaguids.toml).
    Table,
}

/// Microsoft Entra ID's requirements for a FIDO2 security key, one by one.
/// `None` means "not found out".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EntraCheck {
    /// Speaks FIDO2 (CTAP2).
    pub fido2: Option<bool>,
    /// Can verify the user: a PIN, or built-in (fingerprint) verification.
    pub user_verification: Option<bool>,
    /// Can store discoverable credentials.
    pub discoverable: Option<bool>,
    /// Supports the hmac-secret extension.
    pub hmac_secret: Option<bool>,
    /// The AAGUID is on Microsoft's list (and really is this key's own).
    pub on_microsoft_list: Option<bool>,
    /// The attestation chains to the root of the maker the AAGUID names.
    pub attestation_backed: Option<bool>,
}

impl EntraCheck {
    /// True only when every requirement is known to be met.
    pub fn meets(&self) -> bool {
        self.missing().is_empty() && self.unknown().is_empty()
    }

    fn parts(&self) -> [(&'static str, Option<bool>); 6] {
        [
            ("fido2", self.fido2),
            ("user-verification", self.user_verification),
            ("discoverable-credentials", self.discoverable),
            ("hmac-secret", self.hmac_secret),
            ("microsoft-list", self.on_microsoft_list),
            ("attestation", self.attestation_backed),
        ]
    }

    /// The requirements known not to be met (kebab-case names).
    pub fn missing(&self) -> Vec<&'static str> {
        self.parts()
            .into_iter()
            .filter(|(_, v)| *v == Some(false))
            .map(|(n, _)| n)
            .collect()
    }

    /// The requirements that could not be checked.
    pub fn unknown(&self) -> Vec<&'static str> {
        self.parts()
            .into_iter()
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| n)
            .collect()
    }
}

impl KeyFacts {
    /// Records what a FIDO2 key's authenticatorGetInfo says: versions,
    /// AAGUID, discoverable credentials, PIN and built-in UV, hmac-secret,
    /// algorithms and firmware version. Marks the key as FIDO2 (it answered
    /// GetInfo over CTAPHID).
    pub fn apply_get_info(&mut self, info: &GetInfo) {
        self.protocol = Some(Protocol::Fido2);
        self.versions = info.versions.clone();
        self.aaguid = Some(Aaguid(info.aaguid).to_string());
        // `rk` absent means false (CTAP 2.1, authenticatorGetInfo options).
        self.rk = Some(info.options.get("rk").copied().unwrap_or(false));
        self.rk_remaining = info
            .remaining_discoverable_credentials
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
        self.client_pin = Some(match info.options.get("clientPin") {
            None => PinState::Unsupported,
            Some(false) => PinState::NotSet,
            Some(true) => PinState::Set,
        });
        self.uv = info.options.get("uv").copied();
        self.hmac_secret = Some(info.extensions.iter().any(|e| e == "hmac-secret"));
        self.algorithms = info.algorithms.iter().map(|a| a.alg).collect();
        if let Some(fw) = info.firmware_version {
            self.firmware = Some(fw.to_string());
        }
    }

    /// True when the facts come from a key that answered over CTAPHID (a
    /// roaming authenticator plugged into this computer).
    fn spoke_ctaphid(&self) -> bool {
        self.protocol.is_some()
    }

    /// Fills model, maker, kind, eligibility, biometric flag and metadata
    /// status from the AAGUID, with the key's own answers taking priority:
    /// a roaming key whose AAGUID the tables give to a platform or software
    /// authenticator is marked [`KeyFacts::aaguid_foreign`] and its model
    /// left unknown. A FIDO2 key whose AAGUID no table knows counts as not
    /// eligible.
    pub fn apply_model_sources(&mut self, table: &AaguidTable, metadata: &Metadata) {
        let Some(a) = self.aaguid.clone() else {
            return;
        };
        let row = table.lookup_str(&a);
        let entry = metadata.lookup_str(&a);
        self.eligible = Some(row.is_some_and(|r| r.eligible));
        let simulator = row.is_some_and(|r| r.kind == AuthenticatorKind::Simulator);
        let platform_claim = row.is_some_and(|r| r.kind == AuthenticatorKind::Platform)
            || entry.is_some_and(|e| !e.roaming);
        if self.spoke_ctaphid() && platform_claim && !simulator {
            self.aaguid_foreign = true;
            // The id is on Microsoft's list for the product it belongs to,
            // not for this key.
            self.eligible = Some(false);
            self.model = None;
            self.vendor = None;
            self.model_source = None;
            self.kind = Some(AuthenticatorKind::Hardware);
        } else {
            match (entry, row) {
                (Some(e), _) => {
                    self.model = Some(e.name.clone());
                    self.model_source = Some(ModelSource::Metadata);
                }
                (None, Some(r)) => {
                    self.model = Some(r.name.clone());
                    self.model_source = Some(ModelSource::Table);
                }
                (None, None) => {}
            }
            self.vendor = row.and_then(|r| r.vendor.clone());
            self.kind = match (row, entry) {
                (Some(r), _) => Some(r.kind),
                (None, Some(e)) if e.roaming => Some(AuthenticatorKind::Hardware),
                (None, Some(_)) => Some(AuthenticatorKind::Platform),
                (None, None) => None,
            };
            if let Some(e) = entry {
                self.metadata_compromise =
                    e.compromised().next().map(|s| match &s.effective_date {
                        Some(d) => format!("{} ({d})", s.status),
                        None => s.status.clone(),
                    });
                self.metadata_update_available = e
                    .status
                    .iter()
                    .any(|s| s.weight() == StatusWeight::UpdateAvailable);
            }
        }
        // GetInfo outranks the tables: built-in user verification is the
        // presence of `options.uv`, whatever a table says about the model.
        self.biometric = if self.versions.is_empty() {
            if self.aaguid_foreign {
                None
            } else {
                row.and_then(|r| r.bio).or(entry.map(|e| e.biometric))
            }
        } else {
            Some(self.uv.is_some())
        };
    }

    /// Records what the test registration's attestation established. A
    /// verified signature counts as verified whatever the trust level
    /// (self attestation included); the trust level says whether the
    /// model claim is backed.
    pub fn apply_attestation(&mut self, att: &AttestationOutcome) {
        self.attestation_format = Some(att.format.clone());
        self.attestation_verified = match att.kind {
            AttestationKind::Basic | AttestationKind::SelfAttested => Some(true),
            AttestationKind::None => None,
        };
        self.attestation_trust = Some(att.trust);
        self.attestation_issuer = att.certificate_issuer.clone();
        self.attestation_anchor = att.anchor.as_ref().map(|a| a.name.clone());
        self.attestation_problem = att.chain_problem.clone();
    }

    /// Which of Entra ID's requirements this key meets.
    pub fn entra_check(&self) -> EntraCheck {
        let fido2 = self.protocol.map(|p| p == Protocol::Fido2);
        let user_verification = match (self.client_pin, self.uv) {
            (Some(PinState::Set | PinState::NotSet), _) | (_, Some(true)) => Some(true),
            (Some(PinState::Unsupported), _) => Some(false),
            (None, _) => None,
        };
        let on_list = self.eligible;
        EntraCheck {
            fido2,
            user_verification: if fido2 == Some(false) {
                Some(false)
            } else {
                user_verification
            },
            discoverable: self.rk,
            hmac_secret: self.hmac_secret,
            on_microsoft_list: on_list,
            attestation_backed: self.attestation_trust.map(TrustLevel::backs_model),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYPR: &str = "0076631b-d4a0-427f-5773-0ec71c9e0279";
    const YUBIKEY_5: &str = "ee882879-721c-4913-9775-3dfcce97072a";

    fn table() -> AaguidTable {
        AaguidTable::parse(&format!(
            "[[authenticator]]\naaguid = \"{HYPR}\"\nname = \"HYPR FIDO2 Authenticator\"\n\
             kind = \"platform\"\neligible = true\nbio = true\n\
             [[authenticator]]\naaguid = \"{YUBIKEY_5}\"\nname = \"YubiKey 5 Series\"\n\
             vendor = \"Yubico\"\nkind = \"hardware\"\neligible = true\nbio = true\n"
        ))
        .unwrap()
    }

    fn roaming(aaguid: &str) -> KeyFacts {
        KeyFacts {
            protocol: Some(Protocol::Fido2),
            versions: vec!["FIDO_2_0".into()],
            aaguid: Some(aaguid.into()),
            ..KeyFacts::unknown("hid:/dev/hidraw0")
        }
    }

    #[test]
    fn a_roaming_key_with_a_platform_aaguid_is_not_a_passkey() {
        let mut k = roaming(HYPR);
        k.apply_model_sources(&table(), Metadata::embedded());
        assert!(k.aaguid_foreign);
        assert_eq!(k.model, None);
        assert_ne!(k.kind, Some(AuthenticatorKind::Platform));
        assert_eq!(k.entra_check().on_microsoft_list, Some(false));
        assert_eq!(k.biometric, Some(false), "GetInfo had no uv option");
    }

    #[test]
    fn metadata_names_the_model_and_getinfo_overrides_table_flags() {
        let mut k = roaming(YUBIKEY_5);
        k.apply_model_sources(&table(), Metadata::embedded());
        assert!(!k.aaguid_foreign);
        assert_eq!(k.model_source, Some(ModelSource::Metadata));
        assert!(k.model.as_deref().is_some_and(|m| m.contains("YubiKey 5")));
        assert_eq!(k.vendor.as_deref(), Some("Yubico"));
        // The table row says bio = true; GetInfo (no `uv` option) says no.
        assert_eq!(k.biometric, Some(false));
        k.uv = Some(false);
        k.apply_model_sources(&table(), Metadata::embedded());
        assert_eq!(
            k.biometric,
            Some(true),
            "uv present (not enrolled) = built in"
        );
    }

    #[test]
    fn entra_needs_every_part() {
        let mut k = roaming(YUBIKEY_5);
        k.apply_model_sources(&table(), Metadata::embedded());
        k.client_pin = Some(PinState::Set);
        k.rk = Some(true);
        k.hmac_secret = Some(true);
        assert_eq!(k.entra_check().unknown(), vec!["attestation"]);
        assert!(!k.entra_check().meets());
        k.attestation_trust = Some(TrustLevel::MakerRoot);
        assert!(k.entra_check().meets());
        for t in [
            TrustLevel::UnknownIssuer,
            TrustLevel::SelfAttested,
            TrustLevel::None,
            TrustLevel::OtherMakerRoot,
        ] {
            k.attestation_trust = Some(t);
            assert_eq!(k.entra_check().missing(), vec!["attestation"], "{t:?}");
        }
        k.attestation_trust = Some(TrustLevel::MakerRoot);
        k.hmac_secret = Some(false);
        assert_eq!(k.entra_check().missing(), vec!["hmac-secret"]);
    }

    fn findings_for(k: &KeyFacts) -> Vec<crate::diagnose::Finding> {
        use crate::diagnose::OsFamily;
        use crate::diagnose::rules::{KeyContext, key_rules};
        let ctx = KeyContext {
            os: OsFamily::Linux,
            browser: None,
            pin_setup_unavailable: false,
        };
        key_rules(&ctx, k)
    }

    fn severity_of(
        f: &[crate::diagnose::Finding],
        id: crate::diagnose::FindingId,
    ) -> Option<crate::diagnose::Severity> {
        f.iter().find(|x| x.id == id).map(|x| x.severity)
    }

    fn ready(aaguid: &str) -> KeyFacts {
        let mut k = roaming(aaguid);
        k.client_pin = Some(PinState::Set);
        k.rk = Some(true);
        k.hmac_secret = Some(true);
        // "Ready" needs a test registration that went through.
        k.registration = Some(crate::diagnose::StepOutcome {
            ok: true,
            millis: Some(1),
            error: None,
        });
        k.apply_model_sources(&table(), Metadata::embedded());
        k
    }

    #[test]
    fn trust_levels_become_findings_weighted_by_eligibility() {
        use crate::diagnose::{FindingId as F, Severity as S};
        let mut k = ready(YUBIKEY_5);
        k.attestation_trust = Some(TrustLevel::MakerRoot);
        let f = findings_for(&k);
        assert_eq!(severity_of(&f, F::OkKeyReady), Some(S::Ok));
        // Only a chain to the maker's root meets Entra's whole list.
        assert_eq!(severity_of(&f, F::EntraRequirementsMet), Some(S::Ok));
        for (trust, id) in [
            (TrustLevel::OtherMakerRoot, F::AttestationOtherMaker),
            (TrustLevel::UnknownIssuer, F::AttestationUnknownIssuer),
            (TrustLevel::SelfAttested, F::AttestationModelUnbacked),
            (TrustLevel::None, F::AttestationModelUnbacked),
            (TrustLevel::InvalidChain, F::AttestationChainInvalid),
        ] {
            k.attestation_trust = Some(trust);
            let f = findings_for(&k);
            // An eligible model whose attestation does not back it: warned.
            assert_eq!(severity_of(&f, id), Some(S::Warn), "{trust:?}");
            assert_eq!(severity_of(&f, F::OkKeyReady), None, "{trust:?}");
            assert_eq!(severity_of(&f, F::EntraRequirementsMet), None, "{trust:?}");
        }
        // Self attestation names its format; its signature counts as verified.
        k.attestation_trust = Some(TrustLevel::SelfAttested);
        let f = findings_for(&k);
        let unbacked = f
            .iter()
            .find(|x| x.id == F::AttestationModelUnbacked)
            .unwrap();
        assert_eq!(unbacked.placeholders["format"], "self");
        // For a model not on Microsoft's list the AAGUID finding is the warning;
        // the attestation is a note.
        let mut u = ready("27cd1436-ff4d-40aa-a2fe-59b397b41751");
        u.attestation_trust = Some(TrustLevel::UnknownIssuer);
        let f = findings_for(&u);
        assert_eq!(severity_of(&f, F::AaguidNotEligible), Some(S::Warn));
        assert_eq!(severity_of(&f, F::AttestationUnknownIssuer), Some(S::Info));
        assert_eq!(severity_of(&f, F::EntraRequirementsMet), None);
        u.attestation_trust = Some(TrustLevel::KnownRoot);
        assert_eq!(
            severity_of(&findings_for(&u), F::AttestationKnownRoot),
            Some(S::Info)
        );
    }

    #[test]
    fn metadata_status_reaches_the_verdict() {
        use crate::diagnose::{FindingId as F, Severity as S};
        let md = Metadata::embedded();
        let revoked = md
            .models
            .iter()
            .find(|m| m.compromised().next().is_some())
            .expect("a revoked model in the metadata");
        // Facts not from CTAPHID (the revoked model is a platform authenticator).
        let mut k = KeyFacts {
            aaguid: Some(revoked.aaguid.clone()),
            ..KeyFacts::unknown("report")
        };
        k.apply_model_sources(&AaguidTable::default(), md);
        let status = k.metadata_compromise.clone().expect("compromise recorded");
        assert!(status.starts_with("REVOKED"), "{status}");

        let mut key = ready(YUBIKEY_5);
        key.attestation_trust = Some(TrustLevel::MakerRoot);
        key.metadata_compromise = Some("USER_VERIFICATION_BYPASS (2024-01-01)".into());
        let f = findings_for(&key);
        let c = f.iter().find(|x| x.id == F::ModelCompromised).unwrap();
        assert_eq!(c.severity, S::Fail);
        assert_eq!(
            c.placeholders["status"],
            "USER_VERIFICATION_BYPASS (2024-01-01)"
        );
        assert_eq!(severity_of(&f, F::OkKeyReady), None);
        key.metadata_compromise = None;
        key.metadata_update_available = true;
        let f = findings_for(&key);
        assert_eq!(severity_of(&f, F::ModelUpdateAvailable), Some(S::Info));
        assert_eq!(severity_of(&f, F::OkKeyReady), Some(S::Ok));
    }
}
