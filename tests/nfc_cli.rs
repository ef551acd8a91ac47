//! NFC on the command line of a build without the `nfc` feature (the
//! default): it says what is missing instead of failing obscurely.
#![cfg(not(feature = "nfc"))]

use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_fido-doctor");

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run fido-doctor")
}

/// The readers are listed whether or not the OS could list HID devices
/// (under wine 8.0 it cannot: cfgmgr32 answers CR_FAILURE); a failed HID
/// listing is said and makes the exit code 3.
#[test]
fn list_says_nfc_is_not_built_and_how_to_get_it() {
    let doc: serde_json::Value = serde_json::from_slice(&run(&["list", "--json"]).stdout).unwrap();
    assert_eq!(doc["pcsc"]["state"], "not-built");
    assert!(doc["hid"].is_array());
    let hid_listed = doc["hid_error"].is_null();
    let out = run(&["list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("NFC support not built: install libpcsclite-dev and rebuild"),
        "{text}"
    );
    if hid_listed {
        assert!(out.status.success(), "{text}");
        assert!(!text.contains("could not be listed"), "{text}");
    } else {
        assert_eq!(out.status.code(), Some(3), "{text}");
        assert!(
            text.contains("USB security keys could not be listed"),
            "{text}"
        );
        assert!(doc["hid"].as_array().unwrap().is_empty());
    }
}

#[test]
fn probing_an_nfc_device_explains_the_missing_support() {
    let out = run(&["probe", "--device", "pcsc:"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("NFC support not built"), "{err}");
}

#[test]
fn checking_with_nfc_chosen_gives_the_not_built_finding_only() {
    let out = run(&["check", "--device", "pcsc:", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"nfc-not-built"), "{ids:?}");
    assert!(
        !ids.contains(&"probe-failed"),
        "nothing was probed: {ids:?}"
    );
    assert_eq!(doc["environment"]["nfc"]["service"], "not-built");
    assert_eq!(doc["environment"]["nfc"]["chosen"], true);
}
