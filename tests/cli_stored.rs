//! "Is this key already registered?" on the command line: after a check
//! that used the PIN, `check` and `report` name the UTokyo account stored on
//! the key (removed by `--redact`), a full key's old sign-ins, or the absence
//! of a UTokyo sign-in; keys without credential management, and checks that
//! did not use the PIN, read nothing more. In process and over UDP.

#[path = "fixtures/cli_support.rs"]
mod cli_support;
use cli_support::*;

const USER: &str = "1234567890@utac.u-tokyo.ac.jp";

fn check(device: &str, pin: &str) -> serde_json::Value {
    json(&run(
        &["check", "--device", device, "--pin-stdin", "--json"],
        pin,
    ))
}

fn finding<'a>(v: &'a serde_json::Value, id: &str) -> Option<&'a serde_json::Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
}

#[test]
fn a_registered_key_names_its_utokyo_account() {
    let v = check("sim:registered", "1234\n");
    let stored = &v["keys"][0]["stored"];
    assert_eq!(stored["utokyo_users"], serde_json::json!([USER]), "{v}");
    assert_eq!(stored["existing"], 1);
    assert!(
        stored["remaining"].as_u64().is_some_and(|n| n > 0),
        "{stored}"
    );
    let f = finding(&v, "already-registered").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(f["severity"], "info");
    assert!(f["title"].as_str().unwrap().contains(USER), "{f}");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("mysignins.microsoft.com")
    );
    assert!(finding(&v, "no-utokyo-credential").is_none());
    // Still ready: holding a sign-in is no problem.
    assert!(finding(&v, "ok-key-ready").is_some(), "{v}");
    assert!(!v.to_string().contains("1234\""), "the PIN leaked: {v}");
}

#[test]
fn a_redacted_report_keeps_the_finding_but_not_the_account() {
    let out = run(
        &[
            "report",
            "--device",
            "sim:store-full",
            "--pin-stdin",
            "--format",
            "json",
            "--redact",
        ],
        "1234\n",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for private in [
        "9876543210@utac",
        "github.com",
        "taro.sample",
        "webauthn.io",
    ] {
        assert!(!text.contains(private), "{private} in {text}");
    }
    let v = json(&out);
    let stored = &v["keys"][0]["stored"];
    assert_eq!(stored["utokyo_users"], serde_json::json!(["<user>"]), "{v}");
    assert!(
        stored["other_services"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s == "<service>"),
        "{stored}"
    );
    assert!(finding(&v, "already-registered").is_some(), "{v}");
    // The markdown report hides them too, and says what is stored.
    let md = run(
        &[
            "report",
            "--device",
            "sim:registered",
            "--pin-stdin",
            "--redact",
        ],
        "1234\n",
    );
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(!md.contains(USER), "{md}");
    assert!(md.contains("Sign-ins stored on the key: 1"), "{md}");
    // Without --redact, the account is in the report.
    let plain = run(
        &["report", "--device", "sim:registered", "--pin-stdin"],
        "1234\n",
    );
    assert!(String::from_utf8_lossy(&plain.stdout).contains(USER));
}

#[test]
fn a_full_key_names_the_old_sign_ins() {
    let v = check("sim:store-full", "1234\n");
    let f = finding(&v, "store-full").unwrap_or_else(|| panic!("{v}"));
    let explain = f["explain"].as_str().unwrap();
    for service in [
        "login.microsoft.com",
        "github.com",
        "google.com",
        "webauthn.io",
    ] {
        assert!(explain.contains(service), "{service}: {explain}");
    }
    assert_eq!(v["keys"][0]["stored"]["remaining"], 0, "{v}");
    let who = finding(&v, "already-registered").unwrap();
    assert!(
        who["title"]
            .as_str()
            .unwrap()
            .contains("9876543210@utac.u-tokyo.ac.jp")
    );
}

#[test]
fn a_full_key_checked_without_its_pin_says_the_list_needs_it() {
    // No PIN given: the check stops before using it, nothing more is read.
    let v = check("sim:store-full", "");
    assert!(v["keys"][0].get("stored").is_none(), "{v}");
    let f = finding(&v, "store-full").unwrap_or_else(|| panic!("{v}"));
    let explain = f["explain"].as_str().unwrap();
    assert!(!explain.contains('{'), "{explain}");
    assert!(explain.contains("needs the PIN"), "{explain}");
}

#[test]
fn a_key_without_a_utokyo_sign_in_says_so() {
    let v = check("sim:modern", "1234\n");
    assert_eq!(v["keys"][0]["stored"]["existing"], 0, "{v}");
    let f = finding(&v, "no-utokyo-credential").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(f["severity"], "info");
    assert!(finding(&v, "already-registered").is_none());
    // The 2.1-pre command works the same.
    let v = check("sim:cred-mgmt-preview", "1234\n");
    assert!(finding(&v, "no-utokyo-credential").is_some(), "{v}");
}

#[test]
fn nothing_more_is_read_without_credential_management_or_a_good_pin() {
    // no-resident-key: no credential management; no-pin: no PIN to use.
    for device in ["sim:no-resident-key", "sim:no-pin"] {
        let v = check(device, "1234\n");
        let key = &v["keys"][0];
        assert!(key.get("stored").is_none(), "{device}: {v}");
        assert!(key.get("stored_unreadable").is_none(), "{device}: {v}");
        assert!(finding(&v, "no-utokyo-credential").is_none(), "{device}");
    }
    // A wrong PIN: no second attempt is spent for the list.
    let v = check("sim:registered", "9999\n");
    assert!(v["keys"][0].get("stored").is_none(), "{v}");
    assert_eq!(v["keys"][0]["pin_retries"], 7, "{v}");
    assert!(finding(&v, "already-registered").is_none());
}

#[test]
fn over_udp_the_stored_sign_in_is_read_too() {
    let (_server, device) = serve("registered");
    let v = check(&device, "1234\n");
    assert_eq!(
        v["keys"][0]["stored"]["utokyo_users"],
        serde_json::json!([USER]),
        "{v}"
    );
    assert!(finding(&v, "already-registered").is_some(), "{v}");
}
