//! The key-care library against a scripted authenticator that checks every
//! MAC and decrypts every PIN: what is sent, what is refused before sending,
//! and how the key's answers are mapped.

mod keycare_support;

use fido_doctor::ctap::keycare::{
    self, KeycareError, NewPin, NewPinError, PinSafety, ResetOutcome,
};
use fido_doctor::ctap::probe::{FixedPin, PinAnswer, PinRequest, PinSource};
use keycare_support::FakeKey;
use zeroize::Zeroizing;

const CLIENT_PIN: u8 = 0x06;
const SET_PIN: Option<i64> = Some(3);
const CHANGE_PIN: Option<i64> = Some(4);

fn strict() -> PinSafety {
    PinSafety::default()
}

fn allow_last() -> PinSafety {
    PinSafety {
        allow_last_attempt: true,
    }
}

fn pin(s: &str) -> NewPin {
    NewPin::new(s, None).unwrap()
}

#[test]
fn set_pin_on_a_key_without_one_reads_back_the_new_state() {
    let mut key = FakeKey::no_pin();
    let after = keycare::set_pin(&mut key, &pin("5678")).unwrap();
    assert_eq!(key.pin.as_deref(), Some("5678"));
    assert_eq!(after.client_pin, Some(true));
    assert_eq!(after.pin_retries, Some(8));
    assert_eq!(key.count(CLIENT_PIN, SET_PIN), 1);
}

#[test]
fn set_pin_sends_the_nfc_form() {
    let mut key = FakeKey::no_pin();
    keycare::set_pin(&mut key, &pin("cafe\u{301}1")).unwrap();
    assert_eq!(key.pin.as_deref(), Some("caf\u{e9}1"));
}

#[test]
fn set_pin_is_refused_when_the_key_cannot_take_one() {
    let mut has_pin = FakeKey::new();
    assert!(matches!(
        keycare::set_pin(&mut has_pin, &pin("5678")),
        Err(KeycareError::PinAlreadySet)
    ));
    let mut no_support = FakeKey {
        client_pin: None,
        pin: None,
        ..FakeKey::new()
    };
    assert!(matches!(
        keycare::set_pin(&mut no_support, &pin("5678")),
        Err(KeycareError::NoPinSupport)
    ));
    let mut u2f = FakeKey {
        ctap2: false,
        ..FakeKey::no_pin()
    };
    assert!(matches!(
        keycare::set_pin(&mut u2f, &pin("5678")),
        Err(KeycareError::U2fOnly)
    ));
    for k in [&has_pin, &no_support, &u2f] {
        assert_eq!(k.count(CLIENT_PIN, SET_PIN), 0);
    }
}

#[test]
fn set_pin_honours_the_keys_min_pin_length_before_sending() {
    let mut key = FakeKey {
        min_len: Some(6),
        ..FakeKey::no_pin()
    };
    let err = keycare::set_pin(&mut key, &pin("12345")).unwrap_err();
    assert!(matches!(
        err,
        KeycareError::NewPin(NewPinError::TooShort { min: 6 })
    ));
    assert_eq!(key.count(CLIENT_PIN, SET_PIN), 0);
    keycare::set_pin(&mut key, &pin("123456")).unwrap();
}

#[test]
fn a_policy_violation_from_the_key_is_reported_as_such() {
    // The key enforces more than it reports.
    let mut key = FakeKey {
        enforced_min: 8,
        ..FakeKey::no_pin()
    };
    let err = keycare::set_pin(&mut key, &pin("123456")).unwrap_err();
    assert!(matches!(err, KeycareError::PinPolicyViolation), "{err:?}");
    assert_eq!(err.code(), "pin-policy-violation");
    assert_eq!(key.pin, None);
}

#[test]
fn change_pin_with_the_right_pin() {
    let mut key = FakeKey::new();
    let after = keycare::change_pin(&mut key, "1234", &pin("4321"), strict()).unwrap();
    assert_eq!(key.pin.as_deref(), Some("4321"));
    assert_eq!(after.pin_retries, Some(8));
}

#[test]
fn a_wrong_current_pin_is_reported_with_the_attempts_left_and_sent_once() {
    let mut key = FakeKey::new();
    let err = keycare::change_pin(&mut key, "9999", &pin("4321"), strict()).unwrap_err();
    assert!(
        matches!(err, KeycareError::PinInvalid { retries: Some(7) }),
        "{err:?}"
    );
    assert_eq!(key.count(CLIENT_PIN, CHANGE_PIN), 1);
    assert_eq!(key.pin.as_deref(), Some("1234"));
    assert!(!err.to_string().contains("9999") && !err.to_string().contains("4321"));
}

#[test]
fn the_last_attempt_is_spent_only_when_allowed() {
    let mut key = FakeKey {
        retries: 1,
        ..FakeKey::new()
    };
    let err = keycare::change_pin(&mut key, "1234", &pin("4321"), strict()).unwrap_err();
    assert!(matches!(err, KeycareError::LastAttemptRefused));
    assert!(err.is_usage());
    assert_eq!(key.count(CLIENT_PIN, CHANGE_PIN), 0);
    keycare::change_pin(&mut key, "1234", &pin("4321"), allow_last()).unwrap();
    assert_eq!(key.pin.as_deref(), Some("4321"));
}

#[test]
fn a_wrong_pin_on_the_last_attempt_reports_the_block() {
    let mut key = FakeKey {
        retries: 1,
        ..FakeKey::new()
    };
    let err = keycare::change_pin(&mut key, "0000", &pin("4321"), allow_last()).unwrap_err();
    assert!(matches!(err, KeycareError::PinBlocked), "{err:?}");
}

#[test]
fn blocked_and_power_cycle_states_send_no_pin() {
    let mut blocked = FakeKey {
        retries: 0,
        ..FakeKey::new()
    };
    assert!(matches!(
        keycare::change_pin(&mut blocked, "1234", &pin("4321"), allow_last()),
        Err(KeycareError::PinBlocked)
    ));
    let mut cycle = FakeKey {
        power_cycle: true,
        ..FakeKey::new()
    };
    assert!(matches!(
        keycare::change_pin(&mut cycle, "1234", &pin("4321"), allow_last()),
        Err(KeycareError::PowerCycleNeeded)
    ));
    assert_eq!(blocked.count(CLIENT_PIN, CHANGE_PIN), 0);
    assert_eq!(cycle.count(CLIENT_PIN, CHANGE_PIN), 0);
}

#[test]
fn change_pin_refuses_the_same_pin_and_a_key_without_pin() {
    let mut key = FakeKey::new();
    assert!(matches!(
        keycare::change_pin(&mut key, "1234", &pin("1234"), strict()),
        Err(KeycareError::SamePin)
    ));
    let mut none = FakeKey::no_pin();
    assert!(matches!(
        keycare::change_pin(&mut none, "1234", &pin("4321"), strict()),
        Err(KeycareError::PinNotSet)
    ));
    assert_eq!(key.count(CLIENT_PIN, CHANGE_PIN), 0);
}

#[test]
fn force_pin_change_blocks_tokens_until_the_pin_is_changed() {
    let mut key = FakeKey {
        force_change: true,
        rps: vec![(
            "login.microsoft.com".into(),
            vec![("a@b".into(), "A".into())],
        )],
        ..FakeKey::new()
    };
    let mut p = FixedPin(Zeroizing::new("1234".into()));
    let err = keycare::registrations(&mut key, &mut p, strict()).unwrap_err();
    assert!(matches!(err, KeycareError::ForcePinChange), "{err:?}");
    let (_, state) = keycare::read_state(&mut key).unwrap();
    assert!(state.force_pin_change);
    let after = keycare::change_pin(&mut key, "1234", &pin("13579"), strict()).unwrap();
    assert!(!after.force_pin_change);
    let mut p = FixedPin(Zeroizing::new("13579".into()));
    assert!(
        keycare::registrations(&mut key, &mut p, strict())
            .unwrap()
            .has_entra()
    );
}

#[test]
fn reset_answers_map_to_distinct_outcomes() {
    let cases = [
        (0x30u8, "reset-too-late", ResetOutcome::TooLate),
        (0x27, "reset-denied", ResetOutcome::Denied),
        (0x2F, "no-touch", ResetOutcome::NoTouch),
    ];
    for (status, code, outcome) in cases {
        let mut key = FakeKey {
            reset_status: status,
            ..FakeKey::new()
        };
        let err = keycare::reset(&mut key, &mut |_| {}).unwrap_err();
        assert_eq!(err.code(), code);
        assert_eq!(ResetOutcome::of(&err), outcome);
        assert_eq!(key.pin.as_deref(), Some("1234"), "nothing was erased");
    }
    let mut u2f = FakeKey {
        ctap2: false,
        ..FakeKey::new()
    };
    let err = keycare::reset(&mut u2f, &mut |_| {}).unwrap_err();
    assert_eq!(ResetOutcome::of(&err), ResetOutcome::NotSupported);
    assert!(u2f.log.is_empty());
}

#[test]
fn reset_erases_and_reports_the_fresh_state() {
    let mut key = FakeKey::new();
    let mut touch_prompts = 0;
    let after = keycare::reset(&mut key, &mut |_| touch_prompts += 1).unwrap();
    assert_eq!(touch_prompts, 1);
    assert_eq!(after.client_pin, Some(false));
    assert_eq!(key.pin, None);
}

fn registered_key() -> FakeKey {
    FakeKey {
        rps: vec![
            (
                "github.com".into(),
                vec![("octo".into(), "Octo Cat".into())],
            ),
            (
                "login.microsoft.com".into(),
                vec![
                    ("1234567890@utac.u-tokyo.ac.jp".into(), "Todai Taro".into()),
                    ("old@utac.u-tokyo.ac.jp".into(), "Old Account".into()),
                ],
            ),
        ],
        remaining: 0,
        ..FakeKey::new()
    }
}

#[test]
fn registrations_list_the_entra_users_and_the_slots_left() {
    let mut key = registered_key();
    let mut p = FixedPin(Zeroizing::new("1234".into()));
    let inv = keycare::registrations(&mut key, &mut p, strict()).unwrap();
    assert_eq!(inv.existing, 3);
    assert_eq!(inv.remaining, Some(0));
    assert!(inv.is_full() && inv.has_entra());
    let names: Vec<_> = inv
        .entra
        .iter()
        .map(|u| u.user_name.clone().unwrap())
        .collect();
    assert_eq!(
        names,
        ["1234567890@utac.u-tokyo.ac.jp", "old@utac.u-tokyo.ac.jp"]
    );
    assert_eq!(inv.entra[0].display_name.as_deref(), Some("Todai Taro"));
    let rps: Vec<_> = inv
        .relying_parties
        .iter()
        .map(|r| (r.id.clone().unwrap(), r.credentials))
        .collect();
    assert_eq!(
        rps,
        [
            ("github.com".to_string(), 1),
            ("login.microsoft.com".to_string(), 2)
        ]
    );
    // Read-only: only metadata and enumeration subcommands were sent.
    assert!(
        key.log
            .iter()
            .filter(|(c, _)| *c == 0x0A)
            .all(|(_, s)| matches!(s, Some(1..=5)))
    );
}

#[test]
fn redaction_removes_user_names_and_other_services() {
    let mut key = registered_key();
    let mut p = FixedPin(Zeroizing::new("1234".into()));
    let mut inv = keycare::registrations(&mut key, &mut p, strict()).unwrap();
    inv.redact();
    let json = serde_json::to_string(&inv).unwrap();
    for secret in ["utac", "Todai", "github", "Octo"] {
        assert!(!json.contains(secret), "{secret} in {json}");
    }
    assert!(json.contains("login.microsoft.com"));
}

#[test]
fn an_empty_key_and_a_key_without_entra() {
    let mut empty = FakeKey::new();
    let mut p = FixedPin(Zeroizing::new("1234".into()));
    let inv = keycare::registrations(&mut empty, &mut p, strict()).unwrap();
    assert_eq!(inv.existing, 0);
    assert!(!inv.has_entra() && inv.relying_parties.is_empty());
    let mut other = FakeKey {
        rps: vec![("github.com".into(), vec![("octo".into(), "Octo".into())])],
        ..FakeKey::new()
    };
    let inv = keycare::registrations(&mut other, &mut p, strict()).unwrap();
    assert!(!inv.has_entra());
    assert_eq!(inv.relying_parties.len(), 1);
}

#[test]
fn preview_keys_use_the_preview_command_and_a_plain_pin_token() {
    let mut key = FakeKey {
        cm: Some(0x41),
        fido21: false,
        ..registered_key()
    };
    let mut p = FixedPin(Zeroizing::new("1234".into()));
    let inv = keycare::registrations(&mut key, &mut p, strict()).unwrap();
    assert_eq!(inv.entra.len(), 2);
    assert!(key.count(0x41, None) > 0);
    assert_eq!(key.count(0x0A, None), 0);
    // getPinToken (5), not the permissions variant (9).
    assert_eq!(key.count(CLIENT_PIN, Some(5)), 1);
    assert_eq!(key.count(CLIENT_PIN, Some(9)), 0);
}

#[test]
fn keys_without_credential_management_are_told_apart() {
    let mut key = FakeKey {
        cm: None,
        ..FakeKey::new()
    };
    let mut p = FixedPin(Zeroizing::new("1234".into()));
    assert!(matches!(
        keycare::registrations(&mut key, &mut p, strict()),
        Err(KeycareError::NoCredentialManagement)
    ));
    assert_eq!(
        key.count(CLIENT_PIN, Some(5)) + key.count(CLIENT_PIN, Some(9)),
        0,
        "no PIN was sent"
    );
}

/// Gives the PINs in order, then declines; counts requests and the retries shown.
struct Script(Vec<&'static str>, Vec<Option<u32>>);

impl PinSource for Script {
    fn request_pin(&mut self, request: &PinRequest) -> PinAnswer {
        self.1.push(request.retries);
        PinAnswer::from_option(
            (!self.0.is_empty()).then(|| Zeroizing::new(self.0.remove(0).to_owned())),
        )
    }
}

#[test]
fn a_wrong_pin_is_asked_again_with_the_new_count_and_never_resent() {
    let mut key = registered_key();
    let mut script = Script(vec!["0000", "1234"], Vec::new());
    keycare::registrations(&mut key, &mut script, strict()).unwrap();
    assert_eq!(script.1, [Some(8), Some(7)]);

    // The same wrong PIN twice: the second is not submitted.
    let mut key = registered_key();
    let mut script = Script(vec!["0000", "0000"], Vec::new());
    let err = keycare::registrations(&mut key, &mut script, strict()).unwrap_err();
    assert!(
        matches!(err, KeycareError::PinInvalid { retries: Some(7) }),
        "{err:?}"
    );
    assert_eq!(key.count(CLIENT_PIN, Some(9)), 1);
    assert_eq!(key.retries, 7);
}

#[test]
fn registrations_refuse_the_last_attempt_and_declined_prompts() {
    let mut key = FakeKey {
        retries: 1,
        ..registered_key()
    };
    let mut script = Script(vec!["1234"], Vec::new());
    assert!(matches!(
        keycare::registrations(&mut key, &mut script, strict()),
        Err(KeycareError::LastAttemptRefused)
    ));
    assert!(script.1.is_empty(), "the PIN was not even asked for");
    let mut key = registered_key();
    let mut script = Script(vec![], Vec::new());
    assert!(matches!(
        keycare::registrations(&mut key, &mut script, strict()),
        Err(KeycareError::PinDeclined)
    ));
}

#[test]
fn nothing_secret_in_debug_output() {
    let p = pin("8642");
    assert!(!format!("{p:?}").contains("8642"));
    let err = KeycareError::from(NewPinError::TooShort { min: 6 });
    assert!(!format!("{err:?}").contains("8642"));
}
