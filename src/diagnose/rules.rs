//! The rules: from environment and key facts to a list of [`Finding`]s,
//! most severe first. Also the "what-if" check of another computer's OS ×
//! browser combination ([`evaluate_combo`]).

use crate::content::aaguid::{AaguidTable, AuthenticatorKind};
use crate::content::compat::{CompatMatrix, Support};
use crate::ctap::probe::UvFallback;
use crate::ctap::verify::attestation::TrustLevel;

use super::facts::{BrowserId, Environment, OsFamily};
use super::findings::{Finding, FindingId, Severity};
use super::keys::{FailureKind, KeyFacts, PinState, Protocol};
use super::stored;

/// PIN tries at or below this count are reported as low.
pub const LOW_PIN_RETRIES: u32 = 3;

/// Everything the rules conclude about this computer and these keys,
/// sorted most severe first (ties keep rule order).
pub fn evaluate(
    env: &Environment,
    keys: &[KeyFacts],
    compat: &CompatMatrix,
    aaguids: &AaguidTable,
) -> Vec<Finding> {
    let mut out = Vec::new();
    combo_rules(env, compat, &mut out);
    session_rules(env, &mut out);
    access_rules(env, keys, &mut out);
    if keys.is_empty() && env.hid.hidraw_fido_unreadable.is_empty() {
        // "No key" only when the OS could say which devices there are.
        out.push(match &env.hid.list_error {
            Some(e) => Finding::new(FindingId::HidListFailed, Severity::Warn).with("error", e),
            None => Finding::new(FindingId::NoKey, Severity::Warn),
        });
    }
    let ctx = KeyContext::new(env, compat);
    for key in keys {
        let mut key = key.clone();
        if key.model.is_none() {
            key.apply_aaguid_table(aaguids);
        }
        out.extend(key_rules(&ctx, &key));
    }
    if keys.iter().any(|k| k.protocol == Some(Protocol::Fido2)) {
        out.push(Finding::new(FindingId::NotDefaultMethod, Severity::Info));
    }
    super::nfc::nfc_rules(env, keys, compat, &mut out);
    sort(&mut out);
    out
}

/// What the key rules need to know about the computer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyContext {
    /// OS family.
    pub os: OsFamily,
    /// The browser the advice talks about (the first usable one found).
    pub browser: Option<BrowserId>,
    /// True when no browser here can create a PIN during registration
    /// (iOS; macOS with only Safari/Firefox), so a key without a PIN fails.
    pub pin_setup_unavailable: bool,
}

impl KeyContext {
    /// Derives the context from the environment and the matrix.
    pub fn new(env: &Environment, compat: &CompatMatrix) -> Self {
        let os = env.os.family;
        let ids = browser_ids(env);
        let usable = |b: &BrowserId| {
            compat
                .lookup(os, *b)
                .is_some_and(|e| e.guide || e.microsoft == Support::Yes)
        };
        let registers = |b: &BrowserId| {
            compat
                .lookup(os, *b)
                .is_some_and(|e| e.register != Support::No)
        };
        let browser = ids.iter().find(|b| usable(b)).or(ids.first()).copied();
        let pin_setup_unavailable = match os {
            OsFamily::Ios => true,
            OsFamily::Macos => !ids.iter().any(|b| usable(b) && registers(b)),
            _ => false,
        };
        KeyContext {
            os,
            browser,
            pin_setup_unavailable,
        }
    }
}

/// Distinct browser ids, in the order found.
fn browser_ids(env: &Environment) -> Vec<BrowserId> {
    let mut ids: Vec<BrowserId> = Vec::new();
    for b in &env.browsers {
        if !ids.contains(&b.id) {
            ids.push(b.id);
        }
    }
    ids
}

/// Sorts findings most severe first, keeping rule order within a severity.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
}

/// What the guide and Microsoft's matrix say about `browser` on `os`, for a
/// computer other than this one (`check --os android --browser chrome`).
/// Includes the matrix row's note finding, when it names one, as Info.
pub fn evaluate_combo(os: OsFamily, browser: BrowserId, compat: &CompatMatrix) -> Vec<Finding> {
    let mut out = combo_findings(os, browser, compat);
    if let Some(note) = compat
        .lookup(os, browser)
        .and_then(|e| e.note.as_deref())
        .and_then(|n| n.parse::<FindingId>().ok())
        && !out.iter().any(|f| f.id == note)
    {
        out.push(Finding::new(note, Severity::Info).with("os", os.display_name()));
    }
    sort(&mut out);
    out
}

/// Whether a combination lets the user sign in (guide or Microsoft).
fn combo_usable(findings: &[Finding]) -> bool {
    findings
        .iter()
        .any(|f| matches!(f.id, FindingId::OkCombination | FindingId::ComboNewerMatrix))
}

fn combo_findings(os: OsFamily, browser: BrowserId, compat: &CompatMatrix) -> Vec<Finding> {
    let entry = compat.lookup(os, browser);
    // `as_of` is the date of the source the finding relies on.
    let base = |id, sev, as_of: &str| {
        let mut f = Finding::new(id, sev)
            .with("os", os.display_name())
            .with("browser", browser.display_name())
            .with("guide_as_of", compat.guide.as_of.clone())
            .with("microsoft_as_of", compat.microsoft.as_of.clone())
            .with("as_of", as_of);
        if let Some(min) = entry.and_then(|e| e.min_version.clone()) {
            f = f.with("min_version", min);
        }
        f
    };
    let ms = compat.microsoft.as_of.as_str();
    let Some(entry) = entry else {
        return vec![base(FindingId::ComboUnsupported, Severity::Fail, ms)];
    };
    let mut out = Vec::new();
    if entry.guide {
        out.push(base(
            FindingId::OkCombination,
            Severity::Ok,
            &compat.guide.as_of,
        ));
    } else if entry.microsoft == Support::Yes {
        out.push(base(FindingId::ComboNewerMatrix, Severity::Warn, ms));
    } else {
        out.push(base(FindingId::ComboUnsupported, Severity::Fail, ms));
        return out;
    }
    if entry.register == Support::No {
        out.push(base(
            FindingId::ComboRegistrationUnsupported,
            Severity::Warn,
            ms,
        ));
    }
    out
}

fn combo_rules(env: &Environment, compat: &CompatMatrix, out: &mut Vec<Finding>) {
    let family = env.os.family;
    let mut browsers = browser_ids(env);
    if browsers.is_empty() {
        match family {
            // Linux under ChromeOS: the browser is ChromeOS's own Chrome.
            OsFamily::Chromeos => browsers.push(BrowserId::Chrome),
            OsFamily::Windows | OsFamily::Macos | OsFamily::Linux => {
                out.push(
                    Finding::new(FindingId::BrowserMissing, Severity::Warn)
                        .with("os", family.display_name()),
                );
                return;
            }
            _ => return,
        }
    }
    let per: Vec<Vec<Finding>> = browsers
        .iter()
        .map(|b| combo_findings(family, *b, compat))
        .collect();
    let any_usable = per.iter().any(|f| combo_usable(f));
    for mut f in per.into_iter().flatten() {
        // An unsupported extra browser does not matter when another one works.
        if any_usable && f.id == FindingId::ComboUnsupported {
            f.severity = Severity::Info;
        }
        out.push(f);
    }
    let sandboxed: Vec<String> = env
        .browsers
        .iter()
        .filter(|b| b.packaging.is_sandboxed())
        .map(|b| format!("{} ({})", b.name, b.packaging.display_name()))
        .collect();
    if !sandboxed.is_empty() {
        out.push(
            Finding::new(FindingId::BrowserSandboxed, Severity::Warn)
                .with("browsers", sandboxed.join(", ")),
        );
    }
    super::browser_version::too_old_rules(env, compat, out);
}

fn session_rules(env: &Environment, out: &mut Vec<Finding>) {
    let s = &env.session;
    let mut remote = Vec::new();
    if s.ssh {
        remote.push("SSH");
    }
    if s.rdp {
        remote.push("Remote Desktop");
    }
    if !remote.is_empty() {
        out.push(
            Finding::new(FindingId::RemoteSession, Severity::Warn).with("kind", remote.join(", ")),
        );
    }
    if s.wsl {
        out.push(Finding::new(FindingId::WslSession, Severity::Warn));
    }
    if s.container {
        out.push(Finding::new(FindingId::ContainerOrVm, Severity::Warn).with("kind", "container"));
    } else if let Some(vm) = &s.vm {
        out.push(Finding::new(FindingId::ContainerOrVm, Severity::Info).with("kind", vm.clone()));
    }
}

fn access_rules(env: &Environment, keys: &[KeyFacts], out: &mut Vec<Finding>) {
    let denied_key = keys.iter().find(|k| {
        k.failure
            .as_ref()
            .is_some_and(|f| f.kind == FailureKind::PermissionDenied)
    });
    match env.os.family {
        OsFamily::Linux | OsFamily::Chromeos => {
            let mut devices = env.hid.hidraw_fido_unreadable.clone();
            let mut ids = env.hid.hidraw_fido_unreadable_ids.clone();
            if let Some(k) = denied_key
                && devices.is_empty()
            {
                devices.push(k.device.clone());
                ids.extend(k.usb_id.clone());
            }
            if !devices.is_empty() {
                out.push(
                    Finding::new(FindingId::PermissionLinuxUdev, Severity::Fail)
                        .with("count", devices.len().to_string())
                        .with("devices", devices.join(", "))
                        .with("usb_ids", ids.join(", ")),
                );
            }
        }
        OsFamily::Windows => {
            if let Some(k) = denied_key {
                // Browsers go through Windows' own WebAuthn service: only
                // this program's direct check is affected.
                out.push(
                    Finding::new(FindingId::PermissionWindowsAdmin, Severity::Info)
                        .with("devices", k.device.clone()),
                );
            } else if keys.is_empty() && env.hid.windows_elevated == Some(false) {
                out.push(Finding::new(
                    FindingId::PermissionWindowsAdmin,
                    Severity::Info,
                ));
            }
        }
        _ => {}
    }
}

/// The findings about one key (its AAGUID already looked up).
pub fn key_rules(ctx: &KeyContext, key: &KeyFacts) -> Vec<Finding> {
    let os = ctx.os;
    let mk = |id, sev| {
        let mut f = Finding::new(id, sev)
            .with("device", key.device.clone())
            .with("os", os.display_name());
        if let Some(m) = key.model.as_ref().or(key.product.as_ref()) {
            f = f.with("model", m.clone());
        }
        if let Some(b) = ctx.browser {
            f = f.with("browser", b.display_name());
        }
        f
    };
    let mut out: Vec<Finding> = Vec::new();

    if let Some(f) = &key.failure {
        // A key known to have no PIN is reported by the PIN rule below.
        let pin_rule_covers = f.code == "pin-not-set" && key.client_pin.is_some();
        // Reported once for the computer by the access rules.
        let access_rule_covers = f.kind == FailureKind::PermissionDenied
            && matches!(os, OsFamily::Linux | OsFamily::Chromeos | OsFamily::Windows);
        if !pin_rule_covers && !access_rule_covers {
            let (id, sev) = match f.code.as_str() {
                // Nothing was there to be unplugged.
                "not-found" | "open-failed" => (FindingId::ProbeFailed, Severity::Warn),
                _ => failure_finding(f.kind),
            };
            let mut finding = mk(id, sev)
                .with("stage", f.stage.clone())
                .with("error", f.detail.clone())
                .with("detail", f.detail.clone())
                .with_failure(f.code.clone());
            if let Some(r) = key.pin_retries {
                finding = finding.with("retries", r.to_string());
            }
            out.push(finding);
        }
    }

    match key.protocol {
        Some(Protocol::U2fOnly) => {
            out.push(mk(FindingId::KeyU2fOnly, Severity::Fail));
        }
        Some(Protocol::Fido2) => fido2_rules(ctx, key, &mk, &mut out),
        None => {}
    }

    if let Some(reg) = key.registration.as_ref().filter(|r| !r.ok)
        && key.failure.is_none()
        && !out.iter().any(|f| f.severity == Severity::Fail)
    {
        out.push(
            mk(FindingId::ProbeFailed, Severity::Fail)
                .with("stage", "register")
                .with("error", reg.error.clone().unwrap_or_default())
                .with("detail", reg.error.clone().unwrap_or_default())
                .with_failure("registration-failed"),
        );
    }

    if let Some(api) = &key.platform_api {
        out.push(
            mk(FindingId::CheckedThroughWebauthnApi, Severity::Info)
                .with("unavailable", api.not_available.join(", "))
                .with(
                    "declared_by",
                    api.declared_by.clone().unwrap_or_else(|| "-".into()),
                ),
        );
    }

    dedupe(&mut out);
    let clean = !out
        .iter()
        .any(|f| matches!(f.severity, Severity::Warn | Severity::Fail));
    // "Ready" needs a test registration that went through, not only getInfo.
    let registered = key.registration.as_ref().is_some_and(|r| r.ok);
    if clean && key.protocol == Some(Protocol::Fido2) && key.failure.is_none() && registered {
        // Only a chain to the maker's root backs the last part of Entra's list.
        if key.entra_check().meets() {
            out.insert(0, mk(FindingId::EntraRequirementsMet, Severity::Ok));
        }
        out.insert(0, mk(FindingId::OkKeyReady, Severity::Ok));
    }
    out
}

/// The finding id a stopped check is filed under, and its severity before
/// the failure table (which has the last word, see `Report::build`) applies.
fn failure_finding(kind: FailureKind) -> (FindingId, Severity) {
    match kind {
        FailureKind::PresenceTimeout => (FindingId::PresenceTimeout, Severity::Warn),
        FailureKind::UserRefused => (FindingId::UserRefused, Severity::Warn),
        FailureKind::Gone => (FindingId::DeviceUnplugged, Severity::Fail),
        FailureKind::Malformed => (FindingId::DeviceMalformed, Severity::Fail),
        FailureKind::PinBlocked => (FindingId::PinBlocked, Severity::Fail),
        FailureKind::StoreFull => (FindingId::StoreFull, Severity::Fail),
        FailureKind::Cancelled => (FindingId::ProbeFailed, Severity::Info),
        FailureKind::PinNotSet => (FindingId::ProbeFailed, Severity::Warn),
        FailureKind::PermissionDenied
        | FailureKind::NoResponse
        | FailureKind::PinAuthBlocked
        | FailureKind::PinInvalid
        | FailureKind::Other => (FindingId::ProbeFailed, Severity::Fail),
    }
}

fn pin_not_set(ctx: &KeyContext, mk: &dyn Fn(FindingId, Severity) -> Finding) -> Finding {
    if ctx.pin_setup_unavailable {
        mk(FindingId::PinNotSetApple, Severity::Fail)
    } else {
        mk(FindingId::PinNotSet, Severity::Warn)
    }
}

fn fido2_rules(
    ctx: &KeyContext,
    key: &KeyFacts,
    mk: &dyn Fn(FindingId, Severity) -> Finding,
    out: &mut Vec<Finding>,
) {
    match key.client_pin {
        Some(PinState::NotSet) => out.push(pin_not_set(ctx, mk)),
        // No PIN and no built-in verification: Entra's user verification is impossible.
        Some(PinState::Unsupported) if key.uv != Some(true) => {
            out.push(mk(FindingId::PinUnsupported, Severity::Fail).with_failure("pin-unsupported"));
        }
        _ => {}
    }
    let blocked =
        key.pin_blocked || (key.client_pin == Some(PinState::Set) && key.pin_retries == Some(0));
    if blocked {
        out.push(mk(FindingId::PinBlocked, Severity::Fail));
    } else if let Some(r) = key.pin_retries
        && key.client_pin == Some(PinState::Set)
        && (1..=LOW_PIN_RETRIES).contains(&r)
    {
        out.push(mk(FindingId::PinRetriesLow, Severity::Warn).with("retries", r.to_string()));
    }
    if key.rk == Some(false) {
        out.push(mk(FindingId::NoResidentKey, Severity::Fail));
    } else if key.rk_remaining == Some(0)
        || key.stored.as_ref().is_some_and(|s| s.remaining == Some(0))
    {
        out.push(stored::with_services(
            mk(FindingId::StoreFull, Severity::Fail),
            key,
        ));
    }
    stored::stored_rules(key, mk, out);
    if key.hmac_secret == Some(false) {
        let sev = if ctx.os == OsFamily::Windows {
            Severity::Warn
        } else {
            Severity::Info
        };
        out.push(mk(FindingId::HmacSecretMissing, sev));
    }
    if let Some(why) = key.uv_fallback {
        let reason = match why {
            UvFallback::Blocked => "blocked",
            UvFallback::Invalid => "invalid",
            UvFallback::Declined => "declined",
        };
        // Choosing the PIN is not a problem with the key.
        let sev = if why == UvFallback::Declined {
            Severity::Info
        } else {
            Severity::Warn
        };
        out.push(mk(FindingId::UvFellBackToPin, sev).with("reason", reason));
    }
    if key.aaguid_foreign {
        out.push(
            mk(FindingId::AaguidForeign, Severity::Warn)
                .with("aaguid", key.aaguid.clone().unwrap_or_default()),
        );
    } else if key.kind == Some(AuthenticatorKind::Platform) {
        out.push(mk(FindingId::PasskeyNotAccepted, Severity::Fail));
    } else if key.eligible == Some(false) && key.kind != Some(AuthenticatorKind::Simulator) {
        out.push(
            mk(FindingId::AaguidNotEligible, Severity::Warn)
                .with("aaguid", key.aaguid.clone().unwrap_or_default()),
        );
    }
    if key.attestation_verified == Some(false) {
        out.push(
            mk(FindingId::AttestationUnverified, Severity::Warn)
                .with("format", key.attestation_format.clone().unwrap_or_default()),
        );
    }
    model_rules(key, mk, out);
}

/// What the FIDO metadata's status reports and the attestation's trust
/// level mean for the key. An attestation that does not back the model
/// matters (Warn) only for a model Entra would otherwise accept; for a
/// model that is not on Microsoft's list anyway it is a note.
fn model_rules(
    key: &KeyFacts,
    mk: &dyn Fn(FindingId, Severity) -> Finding,
    out: &mut Vec<Finding>,
) {
    if let Some(status) = &key.metadata_compromise {
        out.push(mk(FindingId::ModelCompromised, Severity::Fail).with("status", status.clone()));
    } else if key.metadata_update_available {
        out.push(mk(FindingId::ModelUpdateAvailable, Severity::Info));
    }
    let Some(trust) = key.attestation_trust else {
        return;
    };
    let simulator = key.kind == Some(AuthenticatorKind::Simulator);
    let matters = key.eligible == Some(true) && !key.aaguid_foreign && !simulator;
    let weight = if matters {
        Severity::Warn
    } else {
        Severity::Info
    };
    let with_issuer = |f: Finding| {
        f.with("issuer", key.attestation_issuer.clone().unwrap_or_default())
            .with("anchor", key.attestation_anchor.clone().unwrap_or_default())
    };
    let finding = match trust {
        TrustLevel::MakerRoot => None,
        TrustLevel::KnownRoot => Some(with_issuer(mk(
            FindingId::AttestationKnownRoot,
            Severity::Info,
        ))),
        TrustLevel::OtherMakerRoot => {
            Some(with_issuer(mk(FindingId::AttestationOtherMaker, weight)))
        }
        TrustLevel::UnknownIssuer if simulator => Some(with_issuer(mk(
            FindingId::AttestationTestCertificate,
            Severity::Info,
        ))),
        TrustLevel::UnknownIssuer => {
            Some(with_issuer(mk(FindingId::AttestationUnknownIssuer, weight)))
        }
        TrustLevel::InvalidChain => Some(
            with_issuer(mk(FindingId::AttestationChainInvalid, weight)).with(
                "reason",
                key.attestation_problem.clone().unwrap_or_default(),
            ),
        ),
        TrustLevel::SelfAttested | TrustLevel::None => {
            Some(mk(FindingId::AttestationModelUnbacked, weight).with("format", trust.as_str()))
        }
    };
    out.extend(finding);
}

/// Keeps the first (most severe, as emitted) finding of each id.
fn dedupe(findings: &mut Vec<Finding>) {
    let mut seen: Vec<FindingId> = Vec::new();
    findings.retain(|f| {
        if seen.contains(&f.id) {
            false
        } else {
            seen.push(f.id);
            true
        }
    });
}
