//! Built-in user verification, PIN protocol one and the PIN_AUTH_INVALID
//! retry, probed end to end. The simulator has no fingerprint, so a proxy
//! between the client and the simulator plays one (see
//! `fixtures/uv_proxy.rs`).

#[path = "fixtures/uv_proxy.rs"]
mod uv_proxy;

use std::time::Duration;

use fido_doctor::ctap::ctaphid::{CancelHandle, HidOptions};
use fido_doctor::ctap::probe::{
    self, FailureCode, FixedPin, NoPin, PinAnswer, PinRequest, ProbeEvent, ProbeOptions,
    ProbeReport, UserInteraction, UserVerification, UvFallback, UvRequest,
};
use uv_proxy::{Finger, PIN, Proxy, Recorder, Script};
use zeroize::Zeroizing;

fn opts() -> ProbeOptions {
    ProbeOptions {
        hid: HidOptions {
            command_timeout: Duration::from_secs(5),
            ..HidOptions::default()
        },
        touch_timeout: Duration::from_secs(10),
        ..ProbeOptions::default()
    }
}

fn run(
    scenario: &str,
    script: Script,
    ui: &mut dyn UserInteraction,
) -> (ProbeReport, Vec<ProbeEvent>, Vec<i64>) {
    let mut proxy = Proxy::new(scenario, script);
    if let Some(Finger::FailsTimes(n)) = proxy.script.fingerprint {
        proxy.failures_left = n;
    }
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let wrapper = Recorder {
        proxy,
        seen: std::sync::Arc::clone(&seen),
    };
    let mut events = Vec::new();
    let report = probe::run(
        wrapper,
        &opts(),
        ui,
        &mut |e| events.push(e),
        &CancelHandle::default(),
    );
    let protocols = seen.lock().unwrap().clone();
    (report, events, protocols)
}

/// Counts PIN requests; answers the right PIN; may decline built-in UV.
struct Counting {
    asked: usize,
    allow_uv: bool,
}

impl UserInteraction for Counting {
    fn request_pin(&mut self, _request: &PinRequest) -> PinAnswer {
        self.asked += 1;
        PinAnswer::Pin(Zeroizing::new(PIN.into()))
    }
    fn request_uv(&mut self, _request: &UvRequest) -> bool {
        self.allow_uv
    }
}

fn fingerprint(f: Finger) -> Script {
    Script {
        fingerprint: Some(f),
        ..Script::default()
    }
}

#[test]
fn a_fingerprint_key_verifies_with_its_finger_and_no_pin() {
    let (report, events, _) = run("modern", fingerprint(Finger::Enrolled), &mut NoPin);
    assert!(report.all_ok(), "{report:#?}");
    let reg = report.registration.ok().unwrap();
    assert_eq!(reg.user_verification, UserVerification::BuiltIn);
    assert_eq!(reg.uv_fallback, None);
    assert!(reg.attestation.auth_data.flags.user_verified);
    let auth = report.authentication.ok().unwrap();
    assert_eq!(auth.user_verification, UserVerification::BuiltIn);
    assert!(auth.user_verified);
    assert!(events.contains(&ProbeEvent::UvNeeded { retries: Some(3) }));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ProbeEvent::PinNeeded { .. }))
    );
    assert_eq!(report.key.ok().unwrap().uv_retries, Some(3));
}

#[test]
fn one_failed_finger_is_tried_again() {
    let (report, events, _) = run("modern", fingerprint(Finger::FailsTimes(1)), &mut NoPin);
    assert!(report.all_ok(), "{report:#?}");
    assert_eq!(
        report.registration.ok().unwrap().user_verification,
        UserVerification::BuiltIn
    );
    assert!(events.contains(&ProbeEvent::UvNeeded { retries: Some(2) }));
}

#[test]
fn a_finger_that_fails_until_blocked_falls_back_to_the_pin_saying_so() {
    let mut ui = Counting {
        asked: 0,
        allow_uv: true,
    };
    let (report, events, _) = run("modern", fingerprint(Finger::NeverMatches), &mut ui);
    assert!(report.all_ok(), "{report:#?}");
    let reg = report.registration.ok().unwrap();
    assert_eq!(reg.user_verification, UserVerification::Pin);
    assert_eq!(reg.uv_fallback, Some(UvFallback::Blocked));
    assert!(events.contains(&ProbeEvent::UvFallbackToPin {
        reason: UvFallback::Blocked
    }));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["registration"]["value"]["uv_fallback"], "blocked");
    // Sign-in: UV is blocked now (no attempts left), so the PIN at once.
    let auth = report.authentication.ok().unwrap();
    assert_eq!(auth.user_verification, UserVerification::Pin);
    assert_eq!(auth.uv_fallback, Some(UvFallback::Blocked));
    assert_eq!(ui.asked, 2);
}

#[test]
fn a_blocked_finger_without_a_pin_is_uv_blocked() {
    let script = Script {
        fingerprint: Some(Finger::NeverMatches),
        hide_pin: true,
        ..Script::default()
    };
    let (report, _, _) = run("modern", script, &mut NoPin);
    assert_eq!(
        report.registration.failure().unwrap().code,
        FailureCode::UvBlocked
    );
}

#[test]
fn the_user_may_choose_the_pin_over_the_finger() {
    let mut ui = Counting {
        asked: 0,
        allow_uv: false,
    };
    let (report, events, _) = run("modern", fingerprint(Finger::Enrolled), &mut ui);
    assert!(report.all_ok(), "{report:#?}");
    assert_eq!(
        report.registration.ok().unwrap().uv_fallback,
        Some(UvFallback::Declined)
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ProbeEvent::UvNeeded { .. }))
    );
    assert_eq!(ui.asked, 2);
}

#[test]
fn pin_protocol_one_works_against_the_simulator() {
    let script = Script {
        protocols: Some(vec![1]),
        ..Script::default()
    };
    let mut pin = FixedPin(Zeroizing::new(PIN.into()));
    let (report, _, protocols) = run("modern", script, &mut pin);
    assert!(report.all_ok(), "{report:#?}");
    assert!(!protocols.is_empty());
    assert!(protocols.iter().all(|p| *p == 1), "{protocols:?}");
}

#[test]
fn a_ctap20_fingerprint_key_gets_the_uv_option_then_the_pin_when_it_fails() {
    let script = Script {
        legacy_uv: true,
        ..Script::default()
    };
    let mut ui = Counting {
        asked: 0,
        allow_uv: true,
    };
    let (report, events, seen) = run("modern", script, &mut ui);
    assert!(report.all_ok(), "{report:#?}");
    // Both operations first went out with uv=true (and no token).
    assert!(seen.contains(&101) && seen.contains(&102), "{seen:?}");
    let reg = report.registration.ok().unwrap();
    assert_eq!(reg.user_verification, UserVerification::Pin);
    assert_eq!(reg.uv_fallback, Some(UvFallback::Invalid));
    assert!(events.contains(&ProbeEvent::UvFallbackToPin {
        reason: UvFallback::Invalid
    }));
    assert_eq!(ui.asked, 2);
}

#[test]
fn a_token_taken_away_once_is_replaced_without_asking_again() {
    let script = Script {
        invalidate_make_credential: 1,
        ..Script::default()
    };
    let mut ui = Counting {
        asked: 0,
        allow_uv: true,
    };
    let (report, _, _) = run("modern", script, &mut ui);
    assert!(report.all_ok(), "{report:#?}");
    // Once for registration (its retry reused the accepted PIN), once for sign-in.
    assert_eq!(ui.asked, 2);
}

#[test]
fn a_token_taken_away_twice_means_another_program_uses_the_key() {
    let script = Script {
        invalidate_make_credential: 2,
        ..Script::default()
    };
    let mut pin = FixedPin(Zeroizing::new(PIN.into()));
    let (report, _, _) = run("modern", script, &mut pin);
    assert_eq!(
        report.registration.failure().unwrap().code,
        FailureCode::KeyInUse
    );
}
