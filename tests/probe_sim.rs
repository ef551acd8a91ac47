//! Full probes (`probe::run`) against the in-process simulator: the happy
//! paths (FIDO2 with PIN, U2F-only) verify end to end, and the faulty
//! scenarios end with the failure codes the diagnosis relies on.

use std::time::Duration;

use fido_doctor::ctap::ctaphid::{CancelHandle, HidOptions};
use fido_doctor::ctap::probe::{
    self, FailureCode, FixedPin, KeyKind, Method, NoPin, Outcome, PinSource, ProbeEvent,
    ProbeOptions, ProbeReport, Stage, UserVerification,
};
use fido_doctor::sim::{self, AutoTouch};
use zeroize::Zeroizing;

fn opts() -> ProbeOptions {
    ProbeOptions {
        hid: HidOptions {
            response_timeout: Duration::from_secs(10),
            ..HidOptions::default()
        },
        touch_timeout: Duration::from_secs(10),
        ..ProbeOptions::default()
    }
}

fn probe(name: &str, pin: &mut dyn PinSource) -> (ProbeReport, Vec<ProbeEvent>) {
    let scenario = sim::scenario::find(name).expect("scenario");
    let (t, _handle) = sim::spawn_inproc(scenario, Box::new(AutoTouch));
    let mut events = Vec::new();
    let report = probe::run(
        t,
        &opts(),
        pin,
        &mut |e| events.push(e),
        &CancelHandle::default(),
    );
    (report, events)
}

/// A PIN source that records how it was asked.
struct Recording {
    pin: &'static str,
    asked: Vec<Option<u32>>,
}

impl PinSource for Recording {
    fn pin(&mut self, retries: Option<u32>) -> Option<Zeroizing<String>> {
        self.asked.push(retries);
        Some(Zeroizing::new(self.pin.to_owned()))
    }
}

#[test]
fn modern_key_registers_and_authenticates_with_pin() {
    let mut pin = Recording {
        pin: "1234",
        asked: Vec::new(),
    };
    let (report, events) = probe("modern", &mut pin);
    assert!(report.all_ok(), "{report:#?}");
    let key = report.key.ok().unwrap();
    assert_eq!(key.kind, KeyKind::Fido2);
    let info = key.info.as_ref().unwrap();
    assert_eq!(info.client_pin(), Some(true));
    assert_eq!(key.pin_retries, Some(8));

    let reg = report.registration.ok().unwrap();
    assert_eq!(reg.method, Method::Ctap2);
    assert_eq!(reg.user_verification, UserVerification::Pin);
    assert_eq!(reg.rp_id, probe::DEFAULT_RP_ID);
    assert!(reg.attestation.auth_data.flags.user_verified);
    assert_eq!(reg.attestation.aaguid.0, sim::scenario::SIM_AAGUID);
    let auth = report.authentication.ok().unwrap();
    assert!(auth.user_present && auth.user_verified);
    // A fresh token per operation: the PIN was asked once per stage.
    assert_eq!(pin.asked, [Some(8), Some(8)]);
    assert!(events.contains(&ProbeEvent::PinNeeded { retries: Some(8) }));
    assert!(events.contains(&ProbeEvent::Stage(Stage::Authenticate)));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["registration"]["result"], "ok");
    assert_eq!(json["authentication"]["result"], "ok");
}

#[test]
fn u2f_only_key_uses_ctap1_and_verifies() {
    let (report, events) = probe("u2f-only", &mut NoPin);
    assert!(report.all_ok(), "{report:#?}");
    let key = report.key.ok().unwrap();
    assert_eq!(key.kind, KeyKind::U2fOnly);
    assert!(key.info.is_none());
    assert_eq!(key.u2f_version.as_deref(), Some("U2F_V2"));
    let reg = report.registration.ok().unwrap();
    assert_eq!(reg.method, Method::U2f);
    assert_eq!(reg.attestation.format, "fido-u2f");
    let auth = report.authentication.ok().unwrap();
    assert!(auth.user_present);
    assert!(!auth.user_verified);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ProbeEvent::PinNeeded { .. }))
    );
}

#[test]
fn no_pin_key_works_without_asking() {
    let (report, _) = probe("no-pin", &mut NoPin);
    assert!(report.all_ok(), "{report:#?}");
    assert_eq!(
        report.registration.ok().unwrap().user_verification,
        UserVerification::None
    );
}

#[test]
fn declined_and_wrong_pins_fail_with_codes() {
    let (report, _) = probe("modern", &mut NoPin);
    assert!(report.key.is_ok());
    assert_eq!(
        report.registration.failure().unwrap().code,
        FailureCode::PinDeclined
    );
    assert!(matches!(report.authentication, Outcome::Skipped { .. }));

    let mut wrong = FixedPin(Zeroizing::new("9999".into()));
    let (report, _) = probe("modern", &mut wrong);
    let f = report.registration.failure().unwrap();
    assert!(
        matches!(
            f.code,
            FailureCode::PinInvalid | FailureCode::PinAuthBlocked
        ),
        "{f:?}"
    );
}

#[test]
fn faulty_scenarios_map_to_failure_codes() {
    let pin = || FixedPin(Zeroizing::new("1234".into()));
    let (report, _) = probe("pin-blocked", &mut pin());
    assert_eq!(report.key.ok().unwrap().pin_retries, Some(0));
    assert_eq!(
        report.registration.failure().unwrap().code,
        FailureCode::PinBlocked
    );

    let (report, _) = probe("refuse", &mut pin());
    assert_eq!(
        report.registration.failure().unwrap().code,
        FailureCode::UserRefused
    );

    let (report, _) = probe("unplugged", &mut pin());
    assert_eq!(
        report.registration.failure().unwrap().code,
        FailureCode::DeviceGone
    );

    let (report, _) = probe("malformed", &mut pin());
    assert_eq!(report.key.failure().unwrap().code, FailureCode::Malformed);
    assert!(matches!(report.registration, Outcome::Skipped { .. }));

    // The simulated user never touches; the key gives up after 3 s.
    let (report, events) = probe("no-touch", &mut pin());
    assert_eq!(
        report.registration.failure().unwrap().code,
        FailureCode::TouchTimeout
    );
    assert!(events.contains(&ProbeEvent::TouchNeeded));
}

/// A PIN source that types a wrong PIN first, then the right one.
struct Corrected {
    answers: Vec<&'static str>,
}

impl PinSource for Corrected {
    fn pin(&mut self, _retries: Option<u32>) -> Option<Zeroizing<String>> {
        (!self.answers.is_empty()).then(|| Zeroizing::new(self.answers.remove(0).to_owned()))
    }
}

#[test]
fn a_corrected_pin_is_accepted_within_the_stage() {
    let mut pin = Corrected {
        answers: vec!["0000", "1234", "1234"],
    };
    let (report, _) = probe("modern", &mut pin);
    assert!(report.all_ok(), "{report:#?}");
    assert!(pin.answers.is_empty());
}

#[test]
fn too_short_pin_is_refused_before_sending() {
    let mut pin = FixedPin(Zeroizing::new("12".into()));
    let (report, _) = probe("modern", &mut pin);
    assert_eq!(
        report.registration.failure().unwrap().code,
        FailureCode::PinFormat
    );
}

#[test]
fn cancel_while_waiting_for_touch() {
    let scenario = sim::scenario::find("modern").unwrap();
    let (button, _press) = sim::PresenceButton::new();
    let (t, _handle) = sim::spawn_inproc(scenario, Box::new(button));
    let cancel = CancelHandle::default();
    let canceller = cancel.clone();
    let mut pin = FixedPin(Zeroizing::new("1234".into()));
    let report = probe::run(
        t,
        &opts(),
        &mut pin,
        &mut |e| {
            if e == ProbeEvent::TouchNeeded {
                canceller.cancel();
            }
        },
        &cancel,
    );
    assert!(report.key.is_ok());
    assert_eq!(
        report.registration.failure().unwrap().code,
        FailureCode::Cancelled
    );
    assert!(!report.all_ok());
}

#[test]
fn cancel_before_start_never_talks_to_the_device() {
    let scenario = sim::scenario::find("modern").unwrap();
    let (t, _handle) = sim::spawn_inproc(scenario, Box::new(AutoTouch));
    let cancel = CancelHandle::default();
    cancel.cancel();
    let report = probe::run(t, &opts(), &mut NoPin, &mut |_| {}, &cancel);
    assert_eq!(report.key.failure().unwrap().code, FailureCode::Cancelled);
    assert!(matches!(report.registration, Outcome::Skipped { .. }));
}
