//! Full probes over NFC framing without any PC/SC service: the simulator's
//! APDU front-end (`sim::nfc_card`) is the card, `ctap::nfc::NfcTransport`
//! turns it into CTAPHID, and the unchanged probe runs on top. Short APDUs
//! (chaining, 61XX) and extended ones are both exercised.

use std::time::Duration;

use fido_doctor::ctap::ctaphid::{CancelHandle, HidOptions};
use fido_doctor::ctap::nfc::{Length, NfcTransport};
use fido_doctor::ctap::probe::{
    self, FailureCode, FixedPin, KeyKind, Method, ProbeEvent, ProbeOptions, ProbeReport,
};
use fido_doctor::sim::nfc_card::NfcCard;
use fido_doctor::sim::{self, AfterDelay};
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

fn probe(name: &str, length: Length) -> (ProbeReport, Vec<ProbeEvent>) {
    let scenario = sim::scenario::find(name).expect("scenario");
    // The user taps the card a moment after each prompt, so the card
    // answers 0x9100 ("still processing") first.
    let card = NfcCard::new(
        scenario,
        Box::new(AfterDelay::new(Duration::from_millis(300))),
    )
    .expect("card");
    let transport = NfcTransport::open(card, length).expect("FIDO applet selected");
    let mut pin = FixedPin(Zeroizing::new("1234".into()));
    let mut events = Vec::new();
    let report = probe::run(
        transport,
        &opts(),
        &mut pin,
        &mut |e| events.push(e),
        &CancelHandle::default(),
    );
    (report, events)
}

#[test]
fn modern_card_registers_and_signs_in_with_short_apdus() {
    let (report, events) = probe("modern", Length::Short);
    assert!(report.all_ok(), "{report:#?}");
    let key = report.key.ok().unwrap();
    assert_eq!(key.kind, KeyKind::Fido2);
    assert_eq!(key.init.device_version, (0, 0, 0), "synthesized for NFC");
    assert_eq!(report.registration.ok().unwrap().method, Method::Ctap2);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ProbeEvent::TouchNeeded { .. })),
        "0x9100 with status 2 reaches the probe as a touch prompt: {events:?}"
    );
}

#[test]
fn modern_card_works_with_extended_apdus() {
    let (report, _) = probe("modern", Length::Extended);
    assert!(report.all_ok(), "{report:#?}");
}

#[test]
fn u2f_only_card_is_probed_with_u2f_apdus() {
    let (report, _) = probe("u2f-only", Length::Short);
    assert!(report.all_ok(), "{report:#?}");
    let key = report.key.ok().unwrap();
    assert_eq!(key.kind, KeyKind::U2fOnly);
    assert_eq!(report.registration.ok().unwrap().method, Method::U2f);
}

#[test]
fn faulty_cards_fail_with_the_usb_failure_codes() {
    for (name, code) in [
        ("pin-blocked", FailureCode::PinBlocked),
        ("refuse", FailureCode::UserRefused),
        ("unplugged", FailureCode::DeviceGone),
    ] {
        let (report, _) = probe(name, Length::Short);
        assert_eq!(
            report.registration.failure().map(|f| f.code),
            Some(code),
            "{name}: {report:#?}"
        );
    }
    let (report, _) = probe("malformed", Length::Short);
    assert!(!report.all_ok() && report.key.ok().is_none(), "{report:#?}");
}

#[test]
fn cancel_while_the_card_waits_for_a_tap() {
    let scenario = sim::scenario::find("modern").unwrap();
    let (button, _press) = sim::PresenceButton::new();
    let card = NfcCard::new(scenario, Box::new(button)).unwrap();
    let transport = NfcTransport::open(card, Length::Short).unwrap();
    let cancel = CancelHandle::default();
    let canceller = cancel.clone();
    let mut pin = FixedPin(Zeroizing::new("1234".into()));
    let started = std::time::Instant::now();
    let report = probe::run(
        transport,
        &opts(),
        &mut pin,
        &mut |e| {
            if matches!(e, ProbeEvent::TouchNeeded { .. }) {
                canceller.cancel();
            }
        },
        &cancel,
    );
    assert!(report.key.is_ok(), "{report:#?}");
    assert_eq!(
        report.registration.failure().map(|f| f.code),
        Some(FailureCode::Cancelled),
        "{report:#?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the card stopped waiting when told to"
    );
}
