//! The simulated key's ClientPIN, reset and built-in UV against the CTAP 2.1
//! rules, over CTAPHID reports on a test clock: setPIN/changePIN length and
//! retry rules with both PIN protocols, forcePINChange, the error codes for
//! misused tokens, the 10-second reset window and its touch, fingerprint
//! scenarios and the protocol-1-only key.

mod sim_common;

use std::time::Duration;

use ciborium::Value;
use fido_doctor::sim::{Never, Refuse};
use sim_common::*;

const MC: u8 = 0x01;
const GA: u8 = 0x02;
const CLIENT_PIN: u8 = 0x06;
const RESET: u8 = 0x07;

const PIN_INVALID: u8 = 0x31;
const PIN_BLOCKED: u8 = 0x32;
const PIN_AUTH_INVALID: u8 = 0x33;
const PIN_AUTH_BLOCKED: u8 = 0x34;
const PIN_NOT_SET: u8 = 0x35;
const PUAT_REQUIRED: u8 = 0x36;
const PIN_POLICY_VIOLATION: u8 = 0x37;
const NOT_ALLOWED: u8 = 0x30;
const UV_BLOCKED: u8 = 0x3C;
const UV_INVALID: u8 = 0x3F;
const UNAUTHORIZED_PERMISSION: u8 = 0x40;

/// A makeCredential asking for built-in user verification (the `uv` option).
fn mc_uv(rp: &str) -> Value {
    let Value::Map(mut m) = make_credential(rp, false, vec![]) else {
        unreachable!()
    };
    m[4].1 = map(vec![
        (t("rk"), Value::Bool(false)),
        (t("uv"), Value::Bool(true)),
    ]);
    Value::Map(m)
}

#[test]
fn set_pin_follows_the_length_rules_with_both_protocols() {
    for proto in [1, 2] {
        let mut k = Key::open("no-pin");
        assert_eq!(k.option("clientPin"), Some(false));
        assert_eq!(int_of(get(&k.info(), 0x0D)), 4, "minPINLength");
        // Too short: three characters.
        assert_eq!(k.set_pin(proto, "123"), PIN_POLICY_VIOLATION);
        // Two code points in six bytes are still too few characters.
        assert_eq!(k.set_pin(proto, "あい"), PIN_POLICY_VIOLATION);
        // 64 bytes without a terminating zero: longer than 63 bytes.
        assert_eq!(k.set_pin_block(proto, &[b'7'; 64]), PIN_POLICY_VIOLATION);
        // The padded block must be exactly 64 bytes.
        assert_eq!(k.set_pin_block(proto, &pad(b"5678")[..32]), 0x02);
        // A pinUvAuthParam that does not verify.
        let s = k.shared(proto);
        let new_pin_enc = s.encrypt(&pad(b"5678"));
        let mut auth = s.authenticate(&new_pin_enc);
        auth[0] ^= 1;
        let req = vec![
            (i(1), i(proto.into())),
            (i(2), i(3)),
            (i(3), s.platform.clone()),
            (i(4), b(&auth)),
            (i(5), b(&new_pin_enc)),
        ];
        assert_eq!(k.client_pin(req).0, PIN_AUTH_INVALID);
        // Missing newPinEnc.
        let req = vec![
            (i(1), i(proto.into())),
            (i(2), i(3)),
            (i(3), s.platform.clone()),
            (i(4), b(&auth)),
        ];
        assert_eq!(k.client_pin(req).0, 0x14);
        assert_eq!(k.option("clientPin"), Some(false), "nothing was set yet");
        // Four code points (twelve bytes) are enough.
        assert_eq!(k.set_pin(proto, "あいうえ"), 0);
        assert_eq!(k.option("clientPin"), Some(true));
        assert_eq!(k.pin_retries(), 8);
        assert!(k.pin_token(proto, "あいうえ", None).is_ok());
        // A PIN exists now: setPIN is not allowed.
        assert_eq!(k.set_pin(proto, "9999"), NOT_ALLOWED);
    }
    // The longest PIN: 63 bytes.
    let mut k = Key::open("no-pin");
    let long = "8".repeat(63);
    assert_eq!(k.set_pin(2, &long), 0);
    assert!(k.pin_token(1, &long, None).is_ok());
}

#[test]
fn change_pin_checks_the_current_pin_and_counts_retries() {
    for proto in [1, 2] {
        let mut k = Key::open("no-pin");
        assert_eq!(k.change_pin(proto, "1234", "5678"), PIN_NOT_SET);
        let mut k = Key::open("modern");
        assert_eq!(k.change_pin(proto, "0000", "5678"), PIN_INVALID);
        assert_eq!(k.pin_retries(), 7);
        // The new PIN is checked only after the current one.
        assert_eq!(k.change_pin(proto, "1234", "56"), PIN_POLICY_VIOLATION);
        assert_eq!(k.pin_retries(), 8, "the right PIN resets the counter");
        assert_eq!(k.change_pin(proto, "1234", "5678"), 0);
        assert_eq!(k.pin_token(proto, "1234", None).err(), Some(PIN_INVALID));
        assert!(k.pin_token(proto, "5678", None).is_ok());
        // Three wrong in a row block PIN entry until the key is re-plugged.
        assert_eq!(k.change_pin(proto, "0001", "4321"), PIN_INVALID);
        assert_eq!(k.change_pin(proto, "0002", "4321"), PIN_INVALID);
        assert_eq!(k.change_pin(proto, "0003", "4321"), PIN_AUTH_BLOCKED);
        assert_eq!(k.change_pin(proto, "5678", "4321"), PIN_AUTH_BLOCKED);
        let (_, body) = k.client_pin(vec![(i(1), i(2)), (i(2), i(1))]);
        assert_eq!(get(&body.unwrap(), 4), Some(&Value::Bool(true)));
        k.replug();
        assert_eq!(k.pin_retries(), 5);
        assert_eq!(k.change_pin(proto, "5678", "4321"), 0);
        assert_eq!(k.pin_retries(), 8);
    }
}

#[test]
fn retries_run_out_into_pin_blocked() {
    let mut k = Key::open("pin-low");
    assert_eq!(k.change_pin(2, "0000", "5678"), PIN_INVALID);
    assert_eq!(k.change_pin(2, "0000", "5678"), PIN_BLOCKED);
    assert_eq!(k.pin_retries(), 0);
    assert_eq!(k.change_pin(2, "1234", "5678"), PIN_BLOCKED);
    k.replug();
    assert_eq!(k.pin_token(2, "1234", None).err(), Some(PIN_BLOCKED));
}

#[test]
fn force_pin_change_refuses_tokens_until_the_pin_is_changed() {
    let mut k = Key::open("pin-change-required");
    assert_eq!(get(&k.info(), 0x0C), Some(&Value::Bool(true)));
    assert_eq!(
        k.pin_token(2, "1234", None).err(),
        Some(PIN_POLICY_VIOLATION)
    );
    assert_eq!(
        k.pin_token(2, "1234", Some((MC, Some("example.com"))))
            .err(),
        Some(PIN_POLICY_VIOLATION)
    );
    assert_eq!(k.pin_retries(), 8, "the PIN itself was right");
    // The same PIN again is no change.
    assert_eq!(k.change_pin(2, "1234", "1234"), PIN_POLICY_VIOLATION);
    assert_eq!(k.change_pin(2, "1234", "2468"), 0);
    assert_eq!(get(&k.info(), 0x0C), Some(&Value::Bool(false)));
    assert!(k.pin_token(2, "2468", None).is_ok());
    // Other keys report forcePINChange false.
    assert_eq!(
        get(&Key::open("modern").info(), 0x0C),
        Some(&Value::Bool(false))
    );
}

#[test]
fn misused_tokens_answer_pin_auth_invalid() {
    let mut k = Key::open("modern");
    // Bound to another RP id.
    let tok = k
        .pin_token(2, "1234", Some((MC, Some("example.com"))))
        .unwrap();
    let req = make_credential("other.example", false, mc_auth(&tok));
    assert_eq!(k.status(0x01, req), PIN_AUTH_INVALID);
    // Without the mc permission.
    let tok = k
        .pin_token(2, "1234", Some((GA, Some("example.com"))))
        .unwrap();
    let req = make_credential("example.com", false, mc_auth(&tok));
    assert_eq!(k.status(0x01, req), PIN_AUTH_INVALID);
    // Used once (permissions cleared after the touch), then reused.
    let tok = k
        .pin_token(2, "1234", Some((MC, Some("example.com"))))
        .unwrap();
    let (st, body) = k.call(
        0x01,
        Some(make_credential("example.com", true, mc_auth(&tok))),
    );
    assert_eq!(st, 0);
    assert_eq!(flags(get(&body.unwrap(), 2).unwrap()) & 0x05, 0x05, "UP+UV");
    let req = make_credential("example.com", true, mc_auth(&tok));
    assert_eq!(k.status(0x01, req), PIN_AUTH_INVALID);
    // A legacy token binds to the first RP id it is used with.
    let tok = k.pin_token(1, "1234", None).unwrap();
    let req = get_assertion("other.example", ga_auth(&tok));
    assert_eq!(
        k.status(0x02, req),
        0x2E,
        "no credentials, but the token passed"
    );
    let req = get_assertion("example.com", ga_auth(&tok));
    assert_eq!(k.status(0x02, req), PIN_AUTH_INVALID);
    // A token of another protocol's MAC length does not verify.
    let tok = k.pin_token(1, "1234", None).unwrap();
    let mut extra = mc_auth(&tok);
    extra[1] = (i(9), i(2));
    let req = make_credential("example.com", false, extra);
    assert_eq!(k.status(0x01, req), PIN_AUTH_INVALID);
    // Permissions this key does not implement: be, lbw, acfg.
    for perm in [0x08, 0x10, 0x20] {
        assert_eq!(
            k.pin_token(2, "1234", Some((perm, None))).err(),
            Some(UNAUTHORIZED_PERMISSION),
            "{perm:#x}"
        );
    }
    assert_eq!(k.pin_token(2, "1234", Some((0, None))).err(), Some(0x02));
    // A discoverable credential without any verification.
    let req = make_credential("example.com", true, vec![]);
    assert_eq!(k.status(0x01, req), PUAT_REQUIRED);
}

#[test]
fn reset_only_within_ten_seconds_of_power_up_and_with_a_touch() {
    let mut k = Key::open("pin-blocked");
    k.wait(Duration::from_secs(11));
    assert_eq!(k.call(RESET, None).0, NOT_ALLOWED);
    assert_eq!(k.option("clientPin"), Some(true), "nothing changed");
    // Re-plugging starts the window again.
    k.replug();
    k.wait(Duration::from_secs(9));
    assert_eq!(k.call(RESET, None).0, 0);
    assert_eq!(k.option("clientPin"), Some(false), "PIN cleared");
    assert_eq!(k.pin_retries(), 8, "retries reset");
    // Then the student sets a new PIN.
    assert_eq!(k.set_pin(2, "2580"), 0);
    assert!(k.pin_token(2, "2580", None).is_ok());

    // No touch: USER_ACTION_TIMEOUT; a refused touch: OPERATION_DENIED.
    let mut k = Key::open_with("pin-blocked", Box::new(Never));
    assert_eq!(k.call(RESET, None).0, 0x2F);
    assert!(k.keepalives.contains(&2), "waited for the touch");
    assert_eq!(k.option("clientPin"), Some(true));
    let mut k = Key::open_with("pin-blocked", Box::new(Refuse));
    assert_eq!(k.call(RESET, None).0, 0x27);
    assert_eq!(k.option("clientPin"), Some(true));
}

#[test]
fn reset_erases_credentials() {
    let mut k = Key::open("registered");
    let req = get_assertion("login.microsoft.com", vec![]);
    let tok = k.pin_token(2, "1234", None).unwrap();
    let mut with_uv = ga_auth(&tok);
    with_uv.insert(0, (i(5), map(vec![(t("up"), Value::Bool(false))])));
    assert_eq!(
        k.status(0x02, get_assertion("login.microsoft.com", with_uv)),
        0
    );
    let remaining = int_of(get(&k.info(), 0x14));
    assert_eq!(k.call(RESET, None).0, 0);
    assert_eq!(k.status(0x02, req), 0x2E, "no credentials after reset");
    assert_eq!(int_of(get(&k.info(), 0x14)), remaining + 1);
}

#[test]
fn fingerprint_key_gives_uv_tokens_and_uv_option() {
    let mut k = Key::open("bio");
    assert_eq!(k.option("uv"), Some(true));
    assert_eq!(k.option("pinUvAuthToken"), Some(true));
    assert_eq!(int_of(get(&k.info(), 0x12)), 2, "uvModality: fingerprint");
    assert_eq!(k.uv_retries(), 3);
    let tok = k.uv_token(2, MC | GA, Some("example.com")).unwrap();
    let (st, body) = k.call(
        0x01,
        Some(make_credential("example.com", true, mc_auth(&tok))),
    );
    assert_eq!(st, 0);
    assert_eq!(flags(get(&body.unwrap(), 2).unwrap()) & 0x05, 0x05);
    // The uv option: the touching finger verifies.
    let (st, body) = k.call(0x01, Some(mc_uv("example.com")));
    assert_eq!(st, 0);
    assert_eq!(flags(get(&body.unwrap(), 2).unwrap()) & 0x05, 0x05);
    let uv = vec![(i(5), map(vec![(t("uv"), Value::Bool(true))]))];
    let (st, body) = k.call(0x02, Some(get_assertion("example.com", uv)));
    assert_eq!(st, 0);
    assert_eq!(flags(get(&body.unwrap(), 2).unwrap()) & 0x05, 0x05);
    // The PIN works as well.
    assert!(k.pin_token(1, "1234", None).is_ok());
    // A key without a reader has no UV subcommands.
    let mut m = Key::open("modern");
    assert_eq!(m.option("uv"), None);
    assert_eq!(m.uv_token(2, MC, None).err(), Some(0x3E));
}

#[test]
fn fingerprint_key_without_a_finger() {
    let mut k = Key::open("bio-not-enrolled");
    assert_eq!(k.option("uv"), Some(false));
    assert_eq!(
        k.uv_token(2, MC, Some("example.com")).err(),
        Some(NOT_ALLOWED)
    );
    assert_eq!(k.status(0x01, mc_uv("example.com")), 0x2C);
    let tok = k
        .pin_token(2, "1234", Some((MC, Some("example.com"))))
        .unwrap();
    assert_eq!(
        k.status(0x01, make_credential("example.com", true, mc_auth(&tok))),
        0
    );
}

#[test]
fn failing_fingerprint_counts_down_to_uv_blocked_and_the_pin_still_works() {
    let mut k = Key::open("bio-failing");
    assert_eq!(k.option("uv"), Some(true));
    assert_eq!(
        k.uv_token(2, MC, Some("example.com")).err(),
        Some(UV_INVALID)
    );
    assert_eq!(k.uv_retries(), 2);
    assert_eq!(k.status(0x01, mc_uv("example.com")), UV_INVALID);
    assert_eq!(k.uv_retries(), 1);
    assert_eq!(
        k.uv_token(2, MC, Some("example.com")).err(),
        Some(UV_BLOCKED)
    );
    assert_eq!(k.uv_retries(), 0);
    assert_eq!(
        k.uv_token(2, MC, Some("example.com")).err(),
        Some(UV_BLOCKED)
    );
    assert_eq!(k.status(0x01, mc_uv("example.com")), UV_BLOCKED);
    let tok = k
        .pin_token(2, "1234", Some((MC, Some("example.com"))))
        .unwrap();
    assert_eq!(
        k.status(0x01, make_credential("example.com", true, mc_auth(&tok))),
        0
    );
}

#[test]
fn protocol_one_only_key() {
    let mut k = Key::open("pin-protocol-1");
    assert_eq!(get(&k.info(), 6), Some(&Value::Array(vec![i(1)])));
    let (st, _) = k.client_pin(vec![(i(1), i(2)), (i(2), i(2))]);
    assert_eq!(st, 0x02, "protocol 2 is not offered");
    let tok = k
        .pin_token(1, "1234", Some((MC, Some("example.com"))))
        .unwrap();
    assert_eq!(
        k.status(0x01, make_credential("example.com", true, mc_auth(&tok))),
        0
    );
    assert_eq!(k.change_pin(1, "1234", "4321"), 0);
    let (st, _) = k.call(CLIENT_PIN, Some(map(vec![(i(1), i(2)), (i(2), i(1))])));
    assert_eq!(st, 0, "getPINRetries does not use the protocol");
}
