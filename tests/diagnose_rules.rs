//! Every diagnosis rule fires on the facts it is about and stays quiet
//! otherwise; reports carry the schema version, no PIN, and redact what
//! identifies the user; the shipped content has text for every finding.

use std::collections::BTreeSet;

use fido_doctor::content::aaguid::{AaguidTable, AuthenticatorKind};
use fido_doctor::content::compat::CompatMatrix;
use fido_doctor::content::findings::FindingTexts;
use fido_doctor::content::{ContentSource, Lang};
use fido_doctor::ctap::CtapError;
use fido_doctor::ctap::status::CtapStatus;
use fido_doctor::diagnose::{
    Browser, BrowserId, Environment, FailureKind, Finding, FindingId, KeyFacts, OsFamily,
    Packaging, PinState, ProbeFailure, Protocol, Report, Severity, StepOutcome, evaluate,
    evaluate_combo,
};
use fido_doctor::transport::TransportError;

const COMPAT: &str = r#"
[source.guide]
title = "Guide"
url = "https://example.org/guide"
as_of = "2024-05"

[source.microsoft]
title = "Matrix"
url = "https://example.org/ms"
as_of = "2025-05-12"

[[entry]]
os = "windows"
browser = "chrome"
guide = true
microsoft = "yes"
register = "yes"

[[entry]]
os = "windows"
browser = "safari"
guide = false
microsoft = "na"
register = "no"

[[entry]]
os = "linux"
browser = "chrome"
guide = true
microsoft = "yes"
register = "unknown"

[[entry]]
os = "linux"
browser = "firefox"
guide = false
microsoft = "yes"
register = "unknown"

[[entry]]
os = "macos"
browser = "chrome"
guide = true
microsoft = "yes"
register = "yes"

[[entry]]
os = "macos"
browser = "safari"
guide = true
microsoft = "yes"
register = "no"
note = "combo-registration-unsupported"

[[entry]]
os = "ios"
browser = "safari"
guide = true
microsoft = "yes"
register = "no"

[[entry]]
os = "android"
browser = "chrome"
guide = false
microsoft = "yes"
register = "no"
note = "pin-not-set"

[[entry]]
os = "android"
browser = "firefox"
guide = false
microsoft = "no"
register = "no"
"#;

const TITAN: &str = "42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3";
const UNLISTED: &str = "27cd1436-ff4d-40aa-a2fe-59b397b41751";
const PHONE: &str = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4";

const AAGUIDS: &str = r#"
[[authenticator]]
aaguid = "42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3"
name = "Google Titan Security Key v2"
vendor = "Google"
kind = "hardware"
eligible = true

[[authenticator]]
aaguid = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"
name = "Google Password Manager"
kind = "platform"
eligible = false
"#;

fn compat() -> CompatMatrix {
    CompatMatrix::parse(COMPAT).unwrap()
}

fn aaguids() -> AaguidTable {
    AaguidTable::parse(AAGUIDS).unwrap()
}

fn env(os: OsFamily, browsers: &[BrowserId]) -> Environment {
    Environment::bare(os, browsers)
}

fn linux_chrome() -> Environment {
    env(OsFamily::Linux, &[BrowserId::Chrome])
}

/// A key that passes every check.
fn ready_key() -> KeyFacts {
    KeyFacts {
        protocol: Some(Protocol::Fido2),
        versions: vec!["FIDO_2_0".into(), "FIDO_2_1".into()],
        aaguid: Some(TITAN.into()),
        rk: Some(true),
        rk_remaining: Some(25),
        client_pin: Some(PinState::Set),
        pin_retries: Some(8),
        hmac_secret: Some(true),
        algorithms: vec![-7, -8],
        firmware: Some("5.4.3".into()),
        registration: Some(StepOutcome {
            ok: true,
            millis: Some(900),
            error: None,
        }),
        sign_in: Some(StepOutcome {
            ok: true,
            millis: Some(700),
            error: None,
        }),
        attestation_format: Some("packed".into()),
        attestation_verified: Some(true),
        ..KeyFacts::unknown("hid:/dev/hidraw3")
    }
}

fn failed_key(e: CtapError) -> KeyFacts {
    KeyFacts {
        protocol: Some(Protocol::Fido2),
        aaguid: Some(TITAN.into()),
        failure: Some(ProbeFailure::from_ctap("register", &e)),
        ..KeyFacts::unknown("hid:/dev/hidraw3")
    }
}

fn run(env: &Environment, keys: &[KeyFacts]) -> Vec<Finding> {
    evaluate(env, keys, &compat(), &aaguids())
}

fn find(findings: &[Finding], id: FindingId) -> Option<&Finding> {
    findings.iter().find(|f| f.id == id)
}

fn has(findings: &[Finding], id: FindingId) -> bool {
    find(findings, id).is_some()
}

fn severity(findings: &[Finding], id: FindingId) -> Option<Severity> {
    find(findings, id).map(|f| f.severity)
}

fn ph<'a>(f: &'a Finding, name: &str) -> &'a str {
    f.placeholders.get(name).map(String::as_str).unwrap_or("")
}

// ---- combinations ---------------------------------------------------------

#[test]
fn ok_combination_fires_for_listed_pairs_only() {
    let f = run(&linux_chrome(), &[ready_key()]);
    let ok = find(&f, FindingId::OkCombination).unwrap();
    assert_eq!(ok.severity, Severity::Ok);
    assert_eq!(ph(ok, "as_of"), "2024-05");
    assert_eq!(ph(ok, "browser"), "Google Chrome");
    assert_eq!(ph(ok, "os"), "Linux");
    let f = run(&env(OsFamily::Linux, &[BrowserId::Firefox]), &[ready_key()]);
    assert!(!has(&f, FindingId::OkCombination));
}

#[test]
fn combo_newer_matrix_names_both_dates() {
    let f = run(&env(OsFamily::Linux, &[BrowserId::Firefox]), &[ready_key()]);
    let n = find(&f, FindingId::ComboNewerMatrix).unwrap();
    assert_eq!(n.severity, Severity::Warn);
    assert_eq!(ph(n, "guide_as_of"), "2024-05");
    assert_eq!(ph(n, "microsoft_as_of"), "2025-05-12");
    assert_eq!(ph(n, "as_of"), "2025-05-12");
    assert!(!has(
        &run(&linux_chrome(), &[ready_key()]),
        FindingId::ComboNewerMatrix
    ));
}

#[test]
fn combo_unsupported_for_unlisted_browsers_unless_another_works() {
    let brave_only = run(&env(OsFamily::Linux, &[BrowserId::Brave]), &[ready_key()]);
    let u = find(&brave_only, FindingId::ComboUnsupported).unwrap();
    assert_eq!(u.severity, Severity::Fail);
    assert_eq!(ph(u, "browser"), "Brave");
    assert_eq!(ph(u, "as_of"), "2025-05-12");
    let with_chrome = run(
        &env(OsFamily::Linux, &[BrowserId::Brave, BrowserId::Chrome]),
        &[ready_key()],
    );
    assert_eq!(
        severity(&with_chrome, FindingId::ComboUnsupported),
        Some(Severity::Info)
    );
    assert!(!has(
        &run(&linux_chrome(), &[ready_key()]),
        FindingId::ComboUnsupported
    ));
    // Listed as "na" / "no" in the matrix.
    let safari_win = run(&env(OsFamily::Windows, &[BrowserId::Safari]), &[]);
    assert_eq!(
        severity(&safari_win, FindingId::ComboUnsupported),
        Some(Severity::Fail)
    );
}

#[test]
fn combo_registration_unsupported_where_the_matrix_says_so() {
    let f = run(&env(OsFamily::Macos, &[BrowserId::Safari]), &[]);
    assert_eq!(
        severity(&f, FindingId::ComboRegistrationUnsupported),
        Some(Severity::Warn)
    );
    let f = run(&env(OsFamily::Macos, &[BrowserId::Chrome]), &[]);
    assert!(!has(&f, FindingId::ComboRegistrationUnsupported));
    // "unknown" is not "no".
    assert!(!has(
        &run(&linux_chrome(), &[]),
        FindingId::ComboRegistrationUnsupported
    ));
}

#[test]
fn what_if_combination_for_another_computer() {
    let f = evaluate_combo(OsFamily::Android, BrowserId::Chrome, &compat());
    let ids: Vec<FindingId> = f.iter().map(|f| f.id).collect();
    assert_eq!(
        ids,
        vec![
            FindingId::ComboNewerMatrix,
            FindingId::ComboRegistrationUnsupported,
            FindingId::PinNotSet
        ]
    );
    assert_eq!(f[2].severity, Severity::Info);
    let f = evaluate_combo(OsFamily::Android, BrowserId::Firefox, &compat());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].id, FindingId::ComboUnsupported);
    let f = evaluate_combo(OsFamily::Windows, BrowserId::Chrome, &compat());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].id, FindingId::OkCombination);
    // The note is not repeated when the rules already emit it.
    let f = evaluate_combo(OsFamily::Macos, BrowserId::Safari, &compat());
    assert_eq!(
        f.iter()
            .filter(|f| f.id == FindingId::ComboRegistrationUnsupported)
            .count(),
        1
    );
}

// ---- browsers and sessions ------------------------------------------------

#[test]
fn browser_missing_on_desktops_only() {
    let f = run(&env(OsFamily::Linux, &[]), &[]);
    assert_eq!(
        severity(&f, FindingId::BrowserMissing),
        Some(Severity::Warn)
    );
    assert!(!has(&f, FindingId::OkCombination));
    assert!(!has(
        &run(&env(OsFamily::Android, &[]), &[]),
        FindingId::BrowserMissing
    ));
    assert!(!has(&run(&linux_chrome(), &[]), FindingId::BrowserMissing));
    // ChromeOS always has Chrome.
    let cros = run(&env(OsFamily::Chromeos, &[]), &[]);
    assert!(!has(&cros, FindingId::BrowserMissing));
    assert!(has(&cros, FindingId::ComboUnsupported));
}

#[test]
fn sandboxed_browsers_are_named() {
    let mut e = env(OsFamily::Linux, &[BrowserId::Firefox, BrowserId::Chrome]);
    e.browsers[0].packaging = Packaging::Snap;
    e.browsers.push(Browser {
        packaging: Packaging::Flatpak,
        ..e.browsers[1].clone()
    });
    let f = run(&e, &[ready_key()]);
    let s = find(&f, FindingId::BrowserSandboxed).unwrap();
    assert_eq!(s.severity, Severity::Warn);
    assert_eq!(ph(s, "browsers"), "Firefox (Snap), Google Chrome (Flatpak)");
    assert!(!has(
        &run(&linux_chrome(), &[ready_key()]),
        FindingId::BrowserSandboxed
    ));
}

#[test]
fn remote_wsl_container_and_vm_sessions() {
    let base = run(&linux_chrome(), &[ready_key()]);
    for id in [
        FindingId::RemoteSession,
        FindingId::WslSession,
        FindingId::ContainerOrVm,
    ] {
        assert!(!has(&base, id), "{id}");
    }
    let mut e = linux_chrome();
    e.session.ssh = true;
    let f = run(&e, &[]);
    assert_eq!(
        ph(find(&f, FindingId::RemoteSession).unwrap(), "kind"),
        "SSH"
    );
    let mut e = env(OsFamily::Windows, &[BrowserId::Chrome]);
    e.session.rdp = true;
    let f = run(&e, &[]);
    assert_eq!(
        ph(find(&f, FindingId::RemoteSession).unwrap(), "kind"),
        "Remote Desktop"
    );
    let mut e = linux_chrome();
    e.session.wsl = true;
    assert_eq!(
        severity(&run(&e, &[]), FindingId::WslSession),
        Some(Severity::Warn)
    );
    let mut e = linux_chrome();
    e.session.container = true;
    assert_eq!(
        severity(&run(&e, &[]), FindingId::ContainerOrVm),
        Some(Severity::Warn)
    );
    let mut e = linux_chrome();
    e.session.vm = Some("kvm".into());
    let f = run(&e, &[]);
    let vm = find(&f, FindingId::ContainerOrVm).unwrap();
    assert_eq!(vm.severity, Severity::Info);
    assert_eq!(ph(vm, "kind"), "kvm");
}

#[test]
fn linux_permission_from_hidraw_or_probe() {
    let mut e = linux_chrome();
    e.hid.hidraw_total = 2;
    e.hid.hidraw_fido = 1;
    e.hid.hidraw_fido_unreadable = vec!["/dev/hidraw1".into()];
    let f = run(&e, &[]);
    let p = find(&f, FindingId::PermissionLinuxUdev).unwrap();
    assert_eq!(p.severity, Severity::Fail);
    assert_eq!(ph(p, "devices"), "/dev/hidraw1");
    // The key is there, just unreadable: "no key" would mislead.
    assert!(!has(&f, FindingId::NoKey));

    let denied = failed_key(
        TransportError::PermissionDenied {
            path: "/dev/hidraw3".into(),
        }
        .into(),
    );
    let f = run(&linux_chrome(), std::slice::from_ref(&denied));
    assert!(has(&f, FindingId::PermissionLinuxUdev));
    assert!(!has(&f, FindingId::ProbeFailed));
    assert!(!has(&f, FindingId::OkKeyReady));
    assert!(!has(
        &run(&linux_chrome(), &[ready_key()]),
        FindingId::PermissionLinuxUdev
    ));
    // On Windows the same failure is the administrator finding.
    let f = run(&env(OsFamily::Windows, &[BrowserId::Chrome]), &[denied]);
    assert!(!has(&f, FindingId::PermissionLinuxUdev));
    assert_eq!(
        severity(&f, FindingId::PermissionWindowsAdmin),
        Some(Severity::Info)
    );
}

#[test]
fn windows_admin_when_not_elevated_and_nothing_probed() {
    let mut e = env(OsFamily::Windows, &[BrowserId::Chrome]);
    e.hid.windows_elevated = Some(false);
    assert!(has(&run(&e, &[]), FindingId::PermissionWindowsAdmin));
    assert!(!has(
        &run(&e, &[ready_key()]),
        FindingId::PermissionWindowsAdmin
    ));
    e.hid.windows_elevated = Some(true);
    assert!(!has(&run(&e, &[]), FindingId::PermissionWindowsAdmin));
}

// ---- keys ---------------------------------------------------------------

#[test]
fn ok_key_ready_only_when_everything_passes() {
    let f = run(&linux_chrome(), &[ready_key()]);
    let ok = find(&f, FindingId::OkKeyReady).unwrap();
    assert_eq!(ok.severity, Severity::Ok);
    assert_eq!(ph(ok, "model"), "Google Titan Security Key v2");
    let no_warn_or_fail = f
        .iter()
        .all(|f| matches!(f.severity, Severity::Ok | Severity::Info));
    assert!(no_warn_or_fail, "{f:?}");
    let low = KeyFacts {
        pin_retries: Some(2),
        ..ready_key()
    };
    assert!(!has(&run(&linux_chrome(), &[low]), FindingId::OkKeyReady));
    // hmac-secret only matters on Windows: still ready on Linux.
    let no_hmac = KeyFacts {
        hmac_secret: Some(false),
        ..ready_key()
    };
    assert!(has(
        &run(&linux_chrome(), &[no_hmac]),
        FindingId::OkKeyReady
    ));
}

#[test]
fn no_key_when_nothing_was_probed() {
    assert_eq!(
        severity(&run(&linux_chrome(), &[]), FindingId::NoKey),
        Some(Severity::Warn)
    );
    assert!(!has(
        &run(&linux_chrome(), &[ready_key()]),
        FindingId::NoKey
    ));
}

/// When the OS could not list HID devices, nothing is known about keys:
/// that is said instead of "no key".
#[test]
fn a_failed_hid_listing_is_not_no_key() {
    let mut env = linux_chrome();
    env.hid.list_error = Some("HID error on hidapi: WinError: Config(19)".into());
    let f = run(&env, &[]);
    assert!(!has(&f, FindingId::NoKey), "{f:?}");
    let listed = f
        .iter()
        .find(|x| x.id == FindingId::HidListFailed)
        .expect("hid-list-failed");
    assert_eq!(listed.severity, Severity::Warn);
    assert!(listed.placeholders["error"].contains("Config(19)"));
    // A key checked by name is a key: no listing finding then.
    assert!(!has(&run(&env, &[ready_key()]), FindingId::HidListFailed));
}

#[test]
fn u2f_only_key_fails() {
    let u2f = KeyFacts {
        protocol: Some(Protocol::U2fOnly),
        versions: vec!["U2F_V2".into()],
        ..KeyFacts::unknown("hid:/dev/hidraw3")
    };
    let f = run(&linux_chrome(), &[u2f]);
    assert_eq!(severity(&f, FindingId::KeyU2fOnly), Some(Severity::Fail));
    assert!(!has(&f, FindingId::OkKeyReady));
    assert!(!has(&f, FindingId::NotDefaultMethod));
    assert!(!has(
        &run(&linux_chrome(), &[ready_key()]),
        FindingId::KeyU2fOnly
    ));
}

#[test]
fn pin_not_set_and_its_apple_variant() {
    let no_pin = KeyFacts {
        client_pin: Some(PinState::NotSet),
        pin_retries: None,
        ..ready_key()
    };
    let f = run(&linux_chrome(), std::slice::from_ref(&no_pin));
    assert_eq!(severity(&f, FindingId::PinNotSet), Some(Severity::Warn));
    assert!(!has(&f, FindingId::PinNotSetApple));
    let f = run(
        &env(OsFamily::Macos, &[BrowserId::Safari]),
        std::slice::from_ref(&no_pin),
    );
    let apple = find(&f, FindingId::PinNotSetApple).unwrap();
    assert_eq!(apple.severity, Severity::Fail);
    assert_eq!(ph(apple, "os"), "macOS");
    assert_eq!(ph(apple, "browser"), "Safari");
    assert!(!has(&f, FindingId::PinNotSet));
    // Chrome on a Mac sets up a PIN itself.
    let f = run(
        &env(OsFamily::Macos, &[BrowserId::Safari, BrowserId::Chrome]),
        std::slice::from_ref(&no_pin),
    );
    assert!(has(&f, FindingId::PinNotSet));
    assert!(!has(&f, FindingId::PinNotSetApple));
    assert!(has(
        &run(&env(OsFamily::Ios, &[BrowserId::Safari]), &[no_pin]),
        FindingId::PinNotSetApple
    ));
    let f = run(&linux_chrome(), &[ready_key()]);
    assert!(!has(&f, FindingId::PinNotSet) && !has(&f, FindingId::PinNotSetApple));
}

#[test]
fn key_without_any_user_verification_fails() {
    let none = KeyFacts {
        client_pin: Some(PinState::Unsupported),
        pin_retries: None,
        uv: None,
        ..ready_key()
    };
    let f = run(&linux_chrome(), std::slice::from_ref(&none));
    assert_eq!(
        severity(&f, FindingId::PinUnsupported),
        Some(Severity::Fail)
    );
    // A key that cannot have a PIN is not told that it has none "yet".
    assert!(!has(&f, FindingId::PinNotSet), "{f:?}");
    let pu = f
        .iter()
        .find(|x| x.id == FindingId::PinUnsupported)
        .unwrap();
    assert_eq!(pu.failure.as_deref(), Some("pin-unsupported"));
    let bio = KeyFacts {
        uv: Some(true),
        ..none
    };
    let f = run(&linux_chrome(), &[bio]);
    assert!(!has(&f, FindingId::PinNotSet) && !has(&f, FindingId::PinUnsupported));
}

#[test]
fn pin_blocked_from_counter_flag_or_probe() {
    let zero = KeyFacts {
        pin_retries: Some(0),
        ..ready_key()
    };
    let f = run(&linux_chrome(), &[zero]);
    assert_eq!(severity(&f, FindingId::PinBlocked), Some(Severity::Fail));
    assert!(!has(&f, FindingId::PinRetriesLow));
    let flagged = KeyFacts {
        pin_blocked: true,
        ..ready_key()
    };
    assert!(has(
        &run(&linux_chrome(), &[flagged]),
        FindingId::PinBlocked
    ));
    let probe = failed_key(CtapError::Status(CtapStatus::PinBlocked));
    let f = run(&linux_chrome(), &[probe]);
    assert_eq!(
        f.iter().filter(|f| f.id == FindingId::PinBlocked).count(),
        1
    );
    assert!(!has(
        &run(&linux_chrome(), &[ready_key()]),
        FindingId::PinBlocked
    ));
}

#[test]
fn pin_retries_low_at_three_or_fewer() {
    for (retries, low) in [(1, true), (3, true), (4, false), (8, false)] {
        let k = KeyFacts {
            pin_retries: Some(retries),
            ..ready_key()
        };
        let f = run(&linux_chrome(), &[k]);
        assert_eq!(has(&f, FindingId::PinRetriesLow), low, "{retries}");
        if low {
            let l = find(&f, FindingId::PinRetriesLow).unwrap();
            assert_eq!(l.severity, Severity::Warn);
            assert_eq!(ph(l, "retries"), retries.to_string());
        }
    }
}

#[test]
fn store_full_from_counter_or_probe() {
    let full = KeyFacts {
        rk_remaining: Some(0),
        ..ready_key()
    };
    assert_eq!(
        severity(&run(&linux_chrome(), &[full]), FindingId::StoreFull),
        Some(Severity::Fail)
    );
    let one = KeyFacts {
        rk_remaining: Some(1),
        ..ready_key()
    };
    assert!(!has(&run(&linux_chrome(), &[one]), FindingId::StoreFull));
    let probe = failed_key(CtapError::Status(CtapStatus::KeyStoreFull));
    assert!(has(&run(&linux_chrome(), &[probe]), FindingId::StoreFull));
}

#[test]
fn no_resident_key_fails() {
    let k = KeyFacts {
        rk: Some(false),
        rk_remaining: None,
        ..ready_key()
    };
    let f = run(&linux_chrome(), &[k]);
    assert_eq!(severity(&f, FindingId::NoResidentKey), Some(Severity::Fail));
    assert!(!has(&f, FindingId::StoreFull));
    assert!(!has(
        &run(&linux_chrome(), &[ready_key()]),
        FindingId::NoResidentKey
    ));
}

#[test]
fn hmac_secret_matters_most_on_windows() {
    let k = KeyFacts {
        hmac_secret: Some(false),
        ..ready_key()
    };
    let win = env(OsFamily::Windows, &[BrowserId::Chrome]);
    assert_eq!(
        severity(
            &run(&win, std::slice::from_ref(&k)),
            FindingId::HmacSecretMissing
        ),
        Some(Severity::Warn)
    );
    assert_eq!(
        severity(&run(&linux_chrome(), &[k]), FindingId::HmacSecretMissing),
        Some(Severity::Info)
    );
    assert!(!has(
        &run(&win, &[ready_key()]),
        FindingId::HmacSecretMissing
    ));
}

#[test]
fn unlisted_aaguid_is_not_eligible() {
    let k = KeyFacts {
        aaguid: Some(UNLISTED.into()),
        ..ready_key()
    };
    let f = run(&linux_chrome(), &[k]);
    let n = find(&f, FindingId::AaguidNotEligible).unwrap();
    assert_eq!(n.severity, Severity::Warn);
    assert_eq!(ph(n, "aaguid"), UNLISTED);
    assert!(!has(&f, FindingId::OkKeyReady));
    assert!(!has(
        &run(&linux_chrome(), &[ready_key()]),
        FindingId::AaguidNotEligible
    ));
}

#[test]
fn a_roaming_key_with_a_passkey_aaguid_reports_another_products_id() {
    // A key that answered over CTAPHID is a roaming key whatever its
    // AAGUID says: the id is another product's, never a passkey.
    let k = KeyFacts {
        aaguid: Some(PHONE.into()),
        ..ready_key()
    };
    let f = run(&linux_chrome(), std::slice::from_ref(&k));
    let foreign = find(&f, FindingId::AaguidForeign).unwrap();
    assert_eq!(foreign.severity, Severity::Warn);
    assert_eq!(ph(foreign, "aaguid"), PHONE);
    assert!(!foreign.placeholders.contains_key("model"), "model unknown");
    assert!(!has(&f, FindingId::PasskeyNotAccepted));
    assert!(!has(&f, FindingId::AaguidNotEligible));
    assert!(!has(&f, FindingId::OkKeyReady));
    assert!(!has(
        &run(&linux_chrome(), &[ready_key()]),
        FindingId::AaguidForeign
    ));
    let table = aaguids();
    assert_eq!(
        table.lookup_str(PHONE).map(|a| a.kind),
        Some(AuthenticatorKind::Platform)
    );
}

#[test]
fn attestation_unverified_warns() {
    let k = KeyFacts {
        attestation_verified: Some(false),
        attestation_format: Some("none".into()),
        ..ready_key()
    };
    let f = run(&linux_chrome(), &[k]);
    let a = find(&f, FindingId::AttestationUnverified).unwrap();
    assert_eq!(a.severity, Severity::Warn);
    assert_eq!(ph(a, "format"), "none");
    assert!(!has(
        &run(&linux_chrome(), &[ready_key()]),
        FindingId::AttestationUnverified
    ));
}

#[test]
fn probe_failures_map_to_their_findings() {
    let cases: Vec<(CtapError, FindingId, Severity)> = vec![
        (
            CtapError::Status(CtapStatus::UserActionTimeout),
            FindingId::PresenceTimeout,
            Severity::Warn,
        ),
        (
            CtapError::Status(CtapStatus::OperationDenied),
            FindingId::UserRefused,
            Severity::Warn,
        ),
        (
            TransportError::Gone("hid:/dev/hidraw3".into()).into(),
            FindingId::DeviceUnplugged,
            Severity::Fail,
        ),
        (
            CtapError::malformed("makeCredential response", "truncated CBOR"),
            FindingId::DeviceMalformed,
            Severity::Fail,
        ),
        (
            CtapError::NotSupported("ES256"),
            FindingId::ProbeFailed,
            Severity::Fail,
        ),
    ];
    let all_ids = [
        FindingId::PresenceTimeout,
        FindingId::UserRefused,
        FindingId::DeviceUnplugged,
        FindingId::DeviceMalformed,
        FindingId::ProbeFailed,
    ];
    for (err, want, sev) in cases {
        let msg = err.to_string();
        let f = run(&linux_chrome(), &[failed_key(err)]);
        let hit = find(&f, want).unwrap_or_else(|| panic!("{want} missing for {msg}"));
        assert_eq!(hit.severity, sev, "{msg}");
        assert_eq!(ph(hit, "error"), msg);
        assert_eq!(ph(hit, "stage"), "register");
        assert!(!has(&f, FindingId::OkKeyReady));
        for other in all_ids.iter().filter(|i| **i != want) {
            assert!(!has(&f, *other), "{other} fired for {msg}");
        }
    }
    let f = run(&linux_chrome(), &[ready_key()]);
    for id in all_ids {
        assert!(!has(&f, id), "{id}");
    }
}

#[test]
fn failed_registration_without_a_classified_failure_is_reported() {
    let k = KeyFacts {
        registration: Some(StepOutcome {
            ok: false,
            millis: Some(10),
            error: Some("verification failed: bad signature".into()),
        }),
        ..ready_key()
    };
    let f = run(&linux_chrome(), &[k]);
    let p = find(&f, FindingId::ProbeFailed).unwrap();
    assert_eq!(ph(p, "error"), "verification failed: bad signature");
    assert!(!has(&f, FindingId::OkKeyReady));
}

#[test]
fn not_default_method_once_for_fido2_keys() {
    let f = run(&linux_chrome(), &[ready_key(), ready_key()]);
    assert_eq!(
        f.iter()
            .filter(|f| f.id == FindingId::NotDefaultMethod)
            .count(),
        1
    );
    assert_eq!(
        severity(&f, FindingId::NotDefaultMethod),
        Some(Severity::Info)
    );
    assert!(!has(
        &run(&linux_chrome(), &[]),
        FindingId::NotDefaultMethod
    ));
}

#[test]
fn failure_kinds_classify_typed_errors() {
    assert_eq!(
        FailureKind::from_ctap(&CtapError::Status(CtapStatus::ActionTimeout)),
        FailureKind::PresenceTimeout
    );
    assert_eq!(
        FailureKind::from_ctap(&TransportError::NotFound("hid:x".into()).into()),
        FailureKind::Gone
    );
}

#[test]
fn findings_are_sorted_most_severe_first() {
    let mut e = env(OsFamily::Linux, &[BrowserId::Firefox]);
    e.session.vm = Some("kvm".into());
    let k = KeyFacts {
        rk: Some(false),
        pin_retries: Some(2),
        ..ready_key()
    };
    let f = run(&e, &[k]);
    let sev: Vec<Severity> = f.iter().map(|f| f.severity).collect();
    let mut sorted = sev.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(sev, sorted);
    assert_eq!(sev.first(), Some(&Severity::Fail));
    assert!(sev.contains(&Severity::Warn) && sev.contains(&Severity::Info));
}

// ---- report ----------------------------------------------------------------

const TEXTS_EN: &str = r#"
[finding.ok-key-ready]
title = "{model} is ready"
explain = "All good on {os}."
fix = "Nothing."
guide = "register-step-1"

[finding.pin-retries-low]
title = "Only {retries} tries"
explain = "Careful."
fix = "Type slowly."
guide = ""
"#;

fn texts() -> FindingTexts {
    FindingTexts::parse(TEXTS_EN, Lang::En).unwrap()
}

fn collect_keys(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                collect_keys(v, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_keys(v, out)),
        _ => {}
    }
}

fn report_for(keys: Vec<KeyFacts>) -> Report {
    let e = linux_chrome();
    let f = run(&e, &keys);
    Report::build(e, keys, &f, &texts())
}

#[test]
fn report_json_has_schema_version_and_no_pin() {
    let r = report_for(vec![ready_key()]);
    let json: serde_json::Value = serde_json::from_str(&r.to_json().unwrap()).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["generated_by"]["name"], "fido-doctor");
    assert_eq!(json["lang"], "en");
    assert_eq!(json["environment"]["os"]["family"], "linux");
    assert_eq!(json["keys"][0]["client_pin"], "set");
    let mut keys = Vec::new();
    collect_keys(&json, &mut keys);
    assert!(keys.contains(&"pin_retries".to_string()));
    assert!(
        !keys.iter().any(|k| k.eq_ignore_ascii_case("pin")),
        "a field named pin: {keys:?}"
    );
    let first = &json["findings"][0];
    assert!(first["id"].is_string() && first["severity"].is_string());
}

#[test]
fn report_renders_texts_with_placeholders_and_fallbacks() {
    let r = report_for(vec![ready_key()]);
    let ok = r
        .findings
        .iter()
        .find(|f| f.id == FindingId::OkKeyReady)
        .unwrap();
    assert_eq!(ok.title, "Google Titan Security Key v2 is ready");
    assert_eq!(ok.explain, "All good on Linux.");
    assert_eq!(ok.guide_step.as_deref(), Some("register-step-1"));
    // No text in this small file: the id stands in for the title.
    let pna = r
        .findings
        .iter()
        .find(|f| f.id == FindingId::OkCombination)
        .unwrap();
    assert_eq!(pna.title, "ok-combination");
    // A key without a known model is "this key", capitalised at the start of a sentence.
    let anon = KeyFacts {
        aaguid: None,
        ..ready_key()
    };
    let r = report_for(vec![anon]);
    let ok = r
        .findings
        .iter()
        .find(|f| f.id == FindingId::OkKeyReady)
        .unwrap();
    assert_eq!(ok.title, "This key is ready");
}

#[test]
fn exit_codes_follow_the_worst_severity() {
    let ok = report_for(vec![ready_key()]);
    assert_eq!(ok.exit_code(), 0);
    assert_eq!(ok.summary.warn + ok.summary.fail, 0);
    let warn = report_for(vec![KeyFacts {
        pin_retries: Some(2),
        ..ready_key()
    }]);
    assert_eq!(warn.exit_code(), 1);
    assert_eq!(warn.summary.warn, 1);
    let fail = report_for(vec![KeyFacts {
        rk: Some(false),
        ..ready_key()
    }]);
    assert_eq!(fail.exit_code(), 2);
    assert_eq!(fail.summary.fail, 1);
    let total = fail.summary.ok + fail.summary.info + fail.summary.warn + fail.summary.fail;
    assert_eq!(total, fail.findings.len());
}

#[test]
fn redact_removes_serials_device_paths_and_user_names() {
    let key = KeyFacts {
        serial: Some("SN-0042-7731".into()),
        failure: None,
        ..ready_key()
    };
    let mut e = linux_chrome();
    e.browsers[0].path = Some("/home/alice/.local/bin/google-chrome".into());
    e.hid.hidraw_fido_unreadable = vec!["/dev/hidraw7".into()];
    let f = run(&e, std::slice::from_ref(&key));
    let mut r = Report::build(e, vec![key], &f, &texts());
    let before = r.to_json().unwrap();
    assert!(before.contains("SN-0042-7731"));
    assert!(before.contains("/dev/hidraw3"));
    r.redact();
    let after = r.to_json().unwrap();
    for secret in ["SN-0042-7731", "/dev/hidraw3", "/dev/hidraw7", "alice"] {
        assert!(!after.contains(secret), "{secret} left in {after}");
    }
    assert!(r.redacted);
    assert_eq!(r.keys[0].serial, None);
    assert_eq!(r.keys[0].device, "hid:<device 1>");
    assert_eq!(
        r.environment.browsers[0].path.as_deref(),
        Some("/home/~/.local/bin/google-chrome")
    );
    // The diagnosis itself survives redaction.
    assert_eq!(r.findings.len(), f.len());
}

#[test]
fn markdown_for_tickets_in_both_languages() {
    let r = report_for(vec![KeyFacts {
        pin_retries: Some(2),
        ..ready_key()
    }]);
    let md = r.to_markdown();
    assert!(md.starts_with("# Security key diagnosis"), "{md}");
    assert!(md.contains("### [WARN] Only 2 tries"), "{md}");
    // The fix starts on a line of its own, so a list in it renders as a list.
    assert!(md.contains("**What to do:**\n\nType slowly."), "{md}");
    assert!(!md.contains("**Fix:**"), "{md}");
    assert!(
        md.contains("AAGUID: 42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3"),
        "{md}"
    );
    assert!(!md.to_lowercase().contains("pin: 1234"));
    let ja_texts = FindingTexts::parse(TEXTS_EN, Lang::Ja).unwrap();
    let e = linux_chrome();
    let keys = vec![ready_key()];
    let f = run(&e, &keys);
    let md = Report::build(e, keys, &f, &ja_texts).to_markdown();
    assert!(md.starts_with("# セキュリティキー診断"), "{md}");
}

// ---- shipped content ---------------------------------------------------------

/// Placeholders the rules and the report fill in.
const KNOWN_PLACEHOLDERS: &[&str] = &[
    "status",
    "issuer",
    "anchor",
    "os",
    "browser",
    "browsers",
    "as_of",
    "guide_as_of",
    "microsoft_as_of",
    "min_version",
    "min_browser_version",
    "version",
    "model",
    "device",
    "devices",
    "count",
    "usb_ids",
    "retries",
    "aaguid",
    "format",
    "kind",
    "stage",
    "error",
    "reason",
    // A key checked through the OS's WebAuthn API: what it hides, whose declaration stands in.
    "unavailable",
    "declared_by",
    // Stored sign-ins: the accounts, how many, the services.
    "user",
    "existing",
    "services",
];

fn placeholders_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(after.len());
        if len > 0 && after[len..].starts_with('}') {
            out.push(after[..len].to_string());
        }
        rest = after;
    }
    out
}

#[test]
fn shipped_content_has_text_for_every_finding_in_both_languages() {
    let src = ContentSource::Embedded;
    for lang in Lang::ALL {
        let t = FindingTexts::load(&src, lang).unwrap();
        for id in FindingId::ALL
            .iter()
            .filter(|i| !FindingId::FROM_FAILURES.contains(i))
        {
            let text = t
                .get(id.as_str())
                .unwrap_or_else(|| panic!("{lang}: no text for {id}"));
            for field in [&text.title, &text.explain, &text.fix] {
                for p in placeholders_in(field) {
                    // ATTRS{idVendor} in a udev rule is not a placeholder.
                    if p == "idVendor" {
                        continue;
                    }
                    assert!(
                        KNOWN_PLACEHOLDERS.contains(&p.as_str()),
                        "{lang} {id}: unknown placeholder {{{p}}}"
                    );
                }
            }
        }
        let known: BTreeSet<&str> = FindingId::ALL.iter().map(|i| i.as_str()).collect();
        for id in t.ids() {
            assert!(known.contains(id), "{lang}: text for unknown finding {id}");
        }
    }
}

#[test]
fn shipped_matrix_and_model_table_load() {
    let src = ContentSource::Embedded;
    let m = CompatMatrix::load(&src).unwrap();
    let lc = m.lookup(OsFamily::Linux, BrowserId::Chrome).unwrap();
    assert!(lc.guide);
    // Every note names a finding.
    for e in &m.entries {
        if let Some(n) = &e.note {
            assert!(n.parse::<FindingId>().is_ok(), "{n}");
        }
    }
    let t = AaguidTable::load(&src).unwrap();
    let titan = t.lookup_str(TITAN).unwrap();
    assert!(titan.eligible);
    assert!(t.lookup_str(UNLISTED).is_none());
}

#[test]
fn one_call_diagnosis_and_what_if_with_shipped_content() {
    use fido_doctor::diagnose::{DiagnosisContent, diagnose, what_if};
    let en = DiagnosisContent::load(&ContentSource::Embedded, Lang::En).unwrap();
    let ja = DiagnosisContent::load(&ContentSource::Embedded, Lang::Ja).unwrap();
    let r = diagnose(linux_chrome(), vec![ready_key()], &en);
    assert_eq!(r.exit_code(), 0, "{:?}", r.findings);
    assert!(r.findings.iter().any(|f| f.id == FindingId::OkKeyReady));
    for f in &r.findings {
        assert_ne!(f.title, f.id.as_str(), "no text for {}", f.id);
        assert!(!f.title.contains('{'), "unfilled placeholder: {}", f.title);
        assert!(!f.explain.contains("{model}"), "{}", f.explain);
    }
    let w = what_if(OsFamily::Android, BrowserId::Chrome, &en);
    let ids: Vec<FindingId> = w.findings.iter().map(|f| f.id).collect();
    assert!(ids.contains(&FindingId::ComboNewerMatrix), "{ids:?}");
    assert!(
        ids.contains(&FindingId::ComboRegistrationUnsupported),
        "{ids:?}"
    );
    assert!(w.keys.is_empty());
    assert_eq!(w.environment.os.family, OsFamily::Android);
    let wj = what_if(OsFamily::Android, BrowserId::Chrome, &ja);
    assert_eq!(wj.lang, "ja");
    assert_ne!(wj.findings[0].title, w.findings[0].title);
}

#[test]
fn keys_that_cannot_be_opened_carry_their_usb_ids() {
    use fido_doctor::transport::hid::HidKeyInfo;
    let info = HidKeyInfo {
        path: "/dev/hidraw5".into(),
        vendor_id: 0x1050,
        product_id: 0x0407,
        manufacturer: Some("Yubico".into()),
        product: Some("YubiKey OTP+FIDO+CCID".into()),
        serial: Some("12345678".into()),
        release: 0x0543,
        interface: 1,
    };
    let err = TransportError::PermissionDenied {
        path: "/dev/hidraw5".into(),
    };
    let mut k = KeyFacts::open_failed(&info.spec(), &err);
    k.apply_hid_info(&info);
    assert_eq!(k.product.as_deref(), Some("Yubico YubiKey OTP+FIDO+CCID"));
    assert_eq!(k.usb_id.as_deref(), Some("1050:0407"));
    assert_eq!(
        k.failure.as_ref().map(|f| (f.kind, f.stage.as_str())),
        Some((FailureKind::PermissionDenied, "open"))
    );
    let f = run(&linux_chrome(), &[k]);
    let p = find(&f, FindingId::PermissionLinuxUdev).unwrap();
    assert_eq!(ph(p, "usb_ids"), "1050:0407");
    assert_eq!(ph(p, "devices"), "hid:/dev/hidraw5");
}
