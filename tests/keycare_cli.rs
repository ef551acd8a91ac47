//! `pin set`, `pin change`, `reset-key` and `credentials` run as a user would:
//! against the built-in simulator and over UDP against `fido-doctor simulate`,
//! checking exit codes, JSON outcomes and that no PIN is ever printed.

use std::process::Output;

#[path = "fixtures/cli_support.rs"]
mod cli_support;
use cli_support::*;

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

/// Neither stdout nor stderr shows any of `pins`.
fn no_pin_shown(out: &Output, pins: &[&str]) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for p in pins {
        assert!(!all.contains(p), "PIN {p} printed:\n{all}");
    }
}

#[test]
fn pin_set_on_a_key_without_pin() {
    let out = run(
        &[
            "pin",
            "set",
            "--device",
            "sim:no-pin",
            "--pin-stdin",
            "--json",
        ],
        "583920\n583920\n",
    );
    let v = json(&out);
    assert_eq!(code(&out), 0, "{v}");
    assert_eq!(v["outcome"], "done");
    assert_eq!(v["key"]["client_pin"], true);
    assert_eq!(v["key"]["pin_retries"], 8);
    assert_eq!(v["key"]["min_pin_length"], 4);
    no_pin_shown(&out, &["583920"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot") || err.contains("nobody"), "{err}");
}

#[test]
fn pin_set_refuses_bad_new_pins_without_sending_them() {
    let cases = [
        ("123\n123\n", "new-pin-too-short"),
        (&*format!("{0}\n{0}\n", "7".repeat(64)), "new-pin-too-long"),
        ("583920\n583921\n", "new-pin-mismatch"),
        ("583920\n", "pin-declined"),
    ];
    for (input, expected) in cases {
        let out = run(
            &[
                "pin",
                "set",
                "--device",
                "sim:no-pin",
                "--pin-stdin",
                "--json",
            ],
            input,
        );
        let v = json(&out);
        assert_eq!(code(&out), 64, "{input:?}: {v}");
        assert_eq!(v["outcome"], expected, "{input:?}");
        // The key was left as it was.
        assert_eq!(v["key"]["client_pin"], false, "{input:?}");
        no_pin_shown(&out, &["583920", "583921", &"7".repeat(64)]);
    }
}

#[test]
fn pin_set_on_keys_that_cannot_take_it() {
    let out = run(
        &[
            "pin",
            "set",
            "--device",
            "sim:modern",
            "--pin-stdin",
            "--json",
        ],
        "583920\n583920\n",
    );
    assert_eq!(code(&out), 2);
    assert_eq!(json(&out)["outcome"], "pin-already-set");
    assert!(
        json(&out)["message"]
            .as_str()
            .unwrap()
            .contains("pin change")
    );
    let out = run(
        &[
            "pin",
            "set",
            "--device",
            "sim:u2f-only",
            "--pin-stdin",
            "--json",
        ],
        "583920\n583920\n",
    );
    assert_eq!(code(&out), 2);
    assert_eq!(json(&out)["outcome"], "u2f-only");
}

#[test]
fn pin_set_without_terminal_or_stdin_flag_is_a_usage_error() {
    let out = run(&["pin", "set", "--device", "sim:no-pin"], "");
    assert_eq!(code(&out), 64);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--pin-stdin"));
}

#[test]
fn pin_change_with_the_right_and_a_wrong_pin() {
    let out = run(
        &[
            "pin",
            "change",
            "--device",
            "sim:modern",
            "--pin-stdin",
            "--json",
        ],
        "1234\n86420\n86420\n",
    );
    let v = json(&out);
    assert_eq!(code(&out), 0, "{v}");
    assert_eq!(v["key"]["pin_retries"], 8);
    no_pin_shown(&out, &["1234", "86420"]);

    let out = run(
        &[
            "pin",
            "change",
            "--device",
            "sim:modern",
            "--pin-stdin",
            "--json",
        ],
        "9999\n86420\n86420\n",
    );
    let v = json(&out);
    assert_eq!(code(&out), 2, "{v}");
    assert_eq!(v["outcome"], "pin-invalid");
    assert_eq!(v["key"]["pin_retries"], 7);
    assert!(v["message"].as_str().unwrap().contains("7 attempts left"));
    no_pin_shown(&out, &["9999", "86420"]);
}

#[test]
fn pin_change_refusals() {
    let blocked = run(
        &[
            "pin",
            "change",
            "--device",
            "sim:pin-blocked",
            "--pin-stdin",
            "--json",
        ],
        "1234\n86420\n86420\n",
    );
    assert_eq!(code(&blocked), 2);
    assert_eq!(json(&blocked)["outcome"], "pin-blocked");
    assert!(
        json(&blocked)["message"]
            .as_str()
            .unwrap()
            .contains("reset-key")
    );

    let no_pin = run(
        &[
            "pin",
            "change",
            "--device",
            "sim:no-pin",
            "--pin-stdin",
            "--json",
        ],
        "1234\n86420\n86420\n",
    );
    assert_eq!(code(&no_pin), 2);
    assert_eq!(json(&no_pin)["outcome"], "pin-not-set");

    let same = run(
        &[
            "pin",
            "change",
            "--device",
            "sim:modern",
            "--pin-stdin",
            "--json",
        ],
        "1234\n1234\n1234\n",
    );
    assert_eq!(code(&same), 64);
    assert_eq!(json(&same)["outcome"], "same-pin");
    assert_eq!(json(&same)["key"]["pin_retries"], 8, "no attempt spent");
}

#[test]
fn reset_key_needs_the_confirmation_word() {
    let out = run(&["reset-key", "--device", "sim:pin-blocked", "--json"], "");
    assert_eq!(code(&out), 64);
    assert_eq!(json(&out)["outcome"], "usage");
    let out = run(
        &[
            "reset-key",
            "--device",
            "sim:pin-blocked",
            "--confirm",
            "yes",
        ],
        "",
    );
    assert_eq!(code(&out), 64);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("RESET"), "{err}");
}

#[test]
fn reset_key_warns_then_resets_a_blocked_key() {
    let out = run(
        &[
            "reset-key",
            "--device",
            "sim:pin-blocked",
            "--confirm",
            "RESET",
            "--json",
        ],
        "",
    );
    let v = json(&out);
    assert_eq!(code(&out), 0, "{v}");
    assert_eq!(v["reset"], "done");
    assert_eq!(v["key"]["client_pin"], false);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("every service"), "{err}");
    assert!(
        err.contains("mysignins.microsoft.com/security-info"),
        "{err}"
    );
    assert!(err.contains("cannot be unplugged"), "{err}");
}

#[test]
fn reset_key_outcomes_refused_no_touch_u2f() {
    let refused = run(
        &[
            "reset-key",
            "--device",
            "sim:refuse",
            "--confirm",
            "RESET",
            "--json",
        ],
        "",
    );
    assert_eq!(code(&refused), 2);
    assert_eq!(json(&refused)["reset"], "denied");

    let u2f = run(
        &[
            "reset-key",
            "--device",
            "sim:u2f-only",
            "--confirm",
            "RESET",
            "--json",
        ],
        "",
    );
    assert_eq!(code(&u2f), 2);
    assert_eq!(json(&u2f)["reset"], "not-supported");

    let untouched = run(
        &[
            "reset-key",
            "--device",
            "sim:no-touch",
            "--confirm",
            "RESET",
            "--json",
        ],
        "",
    );
    assert_eq!(code(&untouched), 2);
    assert_eq!(json(&untouched)["reset"], "no-touch");
}

#[test]
fn credentials_on_a_u2f_key() {
    let out = run(
        &[
            "credentials",
            "--device",
            "sim:u2f-only",
            "--pin-stdin",
            "--json",
        ],
        "1234\n",
    );
    assert_eq!(code(&out), 2);
    assert_eq!(json(&out)["outcome"], "u2f-only");
}

// ---- over UDP, where the key keeps its state between commands ----

#[test]
fn over_udp_a_pin_set_by_the_cli_works_for_a_probe() {
    let (_server, device) = serve("no-pin");
    let out = run(
        &["pin", "set", "--device", &device, "--pin-stdin", "--json"],
        "735146\n735146\n",
    );
    assert_eq!(code(&out), 0, "{}", json(&out));
    // Setting again is refused: the key keeps its PIN.
    let again = run(
        &["pin", "set", "--device", &device, "--pin-stdin", "--json"],
        "111111\n111111\n",
    );
    assert_eq!(json(&again)["outcome"], "pin-already-set");
    let probe = run(
        &["probe", "--device", &device, "--pin-stdin", "--json"],
        "735146\n",
    );
    let v = json(&probe);
    assert_eq!(code(&probe), 0, "{v}");
    assert_eq!(v["registration"]["result"], "ok");
    assert_eq!(v["authentication"]["result"], "ok");
}

#[test]
fn over_udp_the_last_attempt_needs_the_flag() {
    let (_server, device) = serve("pin-low");
    // 2 attempts left; a wrong current PIN leaves 1.
    let wrong = run(
        &[
            "pin",
            "change",
            "--device",
            &device,
            "--pin-stdin",
            "--json",
        ],
        "0000\n86420\n86420\n",
    );
    assert_eq!(json(&wrong)["key"]["pin_retries"], 1);
    let refused = run(
        &[
            "pin",
            "change",
            "--device",
            &device,
            "--pin-stdin",
            "--json",
        ],
        "1234\n86420\n86420\n",
    );
    let v = json(&refused);
    assert_eq!(code(&refused), 64, "{v}");
    assert_eq!(v["outcome"], "last-attempt-refused");
    assert_eq!(v["key"]["pin_retries"], 1, "no attempt spent");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("--allow-last-pin-attempt")
    );
    let allowed = run(
        &[
            "pin",
            "change",
            "--device",
            &device,
            "--pin-stdin",
            "--allow-last-pin-attempt",
            "--json",
        ],
        "1234\n86420\n86420\n",
    );
    let v = json(&allowed);
    assert_eq!(code(&allowed), 0, "{v}");
    assert_eq!(v["key"]["pin_retries"], 8);
}

#[test]
fn over_udp_reset_unblocks_a_key_then_a_pin_can_be_set() {
    let (_server, device) = serve("pin-blocked");
    let out = run(
        &[
            "reset-key",
            "--device",
            &device,
            "--confirm",
            "RESET",
            "--json",
        ],
        "",
    );
    let v = json(&out);
    // The simulator was started moments ago, inside any power-up window.
    assert_eq!(code(&out), 0, "{v}");
    assert_eq!(v["key"]["client_pin"], false);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot be unplugged from here"), "{err}");
    let set = run(
        &["pin", "set", "--device", &device, "--pin-stdin", "--json"],
        "246813\n246813\n",
    );
    assert_eq!(code(&set), 0, "{}", json(&set));
}
