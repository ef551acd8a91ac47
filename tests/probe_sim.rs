//! Full probes (`probe::run`) against the in-process simulator: the happy
//! paths (FIDO2 with PIN, U2F-only) verify end to end, and the faulty
//! scenarios end with the failure codes the diagnosis relies on.

use std::time::Duration;

use fido_doctor::ctap::ctaphid::{CancelHandle, HidOptions};
use fido_doctor::ctap::probe::{
    self, FailureCode, FixedPin, KeyKind, Method, NoPin, Outcome, PinAnswer, PinRequest, PinSource,
    ProbeEvent, ProbeOptions, ProbeReport, Stage, UserVerification,
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
    fn request_pin(&mut self, request: &PinRequest) -> PinAnswer {
        self.asked.push(request.retries);
        PinAnswer::Pin(Zeroizing::new(self.pin.to_owned()))
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
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ProbeEvent::TouchNeeded { .. }))
    );
}

/// A PIN source that types a wrong PIN first, then the right one.
struct Corrected {
    answers: Vec<&'static str>,
}

impl PinSource for Corrected {
    fn request_pin(&mut self, _request: &PinRequest) -> PinAnswer {
        PinAnswer::from_option(
            (!self.answers.is_empty()).then(|| Zeroizing::new(self.answers.remove(0).to_owned())),
        )
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
            if matches!(e, ProbeEvent::TouchNeeded { .. }) {
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

type Session = (
    probe::ProbeSession<fido_doctor::transport::inproc::InProcTransport>,
    sim::SimHandle,
);

fn session(name: &str) -> Session {
    session_touching(name, Box::new(AutoTouch))
}

fn session_touching(name: &str, presence: Box<dyn sim::Presence>) -> Session {
    let scenario = sim::scenario::find(name).expect("scenario");
    // The simulator runs until its handle drops: the caller keeps it.
    let (t, handle) = sim::spawn_inproc(scenario, presence);
    (probe::ProbeSession::open(t, &opts()).expect("INIT"), handle)
}

#[test]
fn selection_waits_for_a_touch_and_reports_refusal() {
    // The simulated user touches after 300 ms: the key blinks (keepalive
    // "up needed") until then.
    let (mut s, _sim) = session_touching(
        "modern",
        Box::new(sim::AfterDelay::new(Duration::from_millis(300))),
    );
    let mut events = Vec::new();
    s.select(&mut |e| events.push(e)).expect("touched");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ProbeEvent::TouchNeeded { .. })),
        "{events:?}"
    );

    let (mut refused, _sim2) = session("refuse");
    let err = refused.select(&mut |_| {}).unwrap_err();
    assert_eq!(err.code(), FailureCode::UserRefused, "{err}");

    let (mut old, _sim3) = session("u2f-only");
    let err = old.select(&mut |_| {}).unwrap_err();
    assert_eq!(err.code(), FailureCode::NotSupported, "{err}");
}

#[test]
fn get_next_assertion_walks_the_discoverable_credentials() {
    use fido_doctor::ctap::ctap2::{Attestation, GetAssertionRequest, MakeCredentialRequest, cmd};
    use fido_doctor::ctap::verify::{assertion, authdata::AuthenticatorData};
    use sha2::{Digest, Sha256};

    let rp = "next.fido-doctor.invalid";
    let (mut s, _sim) = session("no-pin");
    let mut keys = Vec::new();
    for user in [b"user-one".to_vec(), b"user-two".to_vec()] {
        let req = MakeCredentialRequest {
            client_data_hash: Sha256::digest(&user).into(),
            rp_id: rp.into(),
            rp_name: None,
            user_id: user,
            user_name: None,
            user_display_name: None,
            algorithms: vec![-7],
            exclude_list: Vec::new(),
            rk: true,
            uv: None,
            pin_uv_auth_param: None,
            pin_uv_auth_protocol: None,
        };
        let body = s
            .hid()
            .cbor(cmd::MAKE_CREDENTIAL, &req.encode(), &mut |_| {})
            .expect("registered");
        let att = Attestation::decode(&body).unwrap();
        let ad = AuthenticatorData::parse(&att.auth_data).unwrap();
        let cred = ad.attested_credential.unwrap();
        keys.push((cred.credential_id.clone(), cred.public_key().unwrap()));
    }
    let cdh: [u8; 32] = Sha256::digest(b"sign in").into();
    let req = GetAssertionRequest {
        rp_id: rp.into(),
        client_data_hash: cdh,
        allow_list: Vec::new(),
        up: None,
        uv: None,
        pin_uv_auth_param: None,
        pin_uv_auth_protocol: None,
    };
    let body = s
        .hid()
        .cbor(cmd::GET_ASSERTION, &req.encode(), &mut |_| {})
        .expect("assertion");
    let first = fido_doctor::ctap::ctap2::Assertion::decode(&body).unwrap();
    assert_eq!(first.number_of_credentials, Some(2));
    let second = s.get_next_assertion().expect("next assertion");
    let mut seen = Vec::new();
    for a in [&first, &second] {
        let id = a.credential_id.clone().expect("credential id");
        let (_, key) = keys.iter().find(|(k, _)| *k == id).expect("one of ours");
        assertion::verify(key, &a.auth_data, &cdh, &a.signature).expect("signature");
        seen.push(id);
    }
    assert_ne!(seen[0], seen[1], "two different credentials");
    // A third one does not exist.
    assert!(s.get_next_assertion().is_err());
}

/// Records every PIN request; answers from a list; confirms the last
/// attempt only when told to.
struct Careful {
    answers: Vec<&'static str>,
    confirm_last: bool,
    requests: Vec<PinRequest>,
    confirmations: usize,
}

impl Careful {
    fn new(answers: &[&'static str], confirm_last: bool) -> Self {
        Careful {
            answers: answers.to_vec(),
            confirm_last,
            requests: Vec::new(),
            confirmations: 0,
        }
    }
}

impl PinSource for Careful {
    fn request_pin(&mut self, request: &PinRequest) -> PinAnswer {
        self.requests.push(request.clone());
        PinAnswer::from_option(
            (!self.answers.is_empty()).then(|| Zeroizing::new(self.answers.remove(0).to_owned())),
        )
    }

    fn confirm_last_pin_attempt(&mut self, request: &PinRequest) -> bool {
        assert!(request.last_attempt);
        self.confirmations += 1;
        self.confirm_last
    }
}

#[test]
fn the_report_shows_the_retry_counter_after_the_check() {
    let mut pin = Careful::new(&["1234", "1234"], false);
    let (report, _) = probe("pin-low", &mut pin);
    assert!(report.all_ok(), "{report:#?}");
    let key = report.key.ok().unwrap();
    // The right PIN reset the counter: the key after the check has 8.
    assert_eq!(key.pin_retries_at_start, Some(2));
    assert_eq!(key.pin_retries, Some(8));
    let asked: Vec<Option<u32>> = pin.requests.iter().map(|r| r.retries).collect();
    assert_eq!(asked, [Some(2), Some(8)]);
    assert!(pin.requests.iter().all(|r| !r.last_attempt));
    assert_eq!(pin.confirmations, 0);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["key"]["value"]["pin_retries"], 8);
    assert_eq!(json["key"]["value"]["pin_retries_at_start"], 2);
}

#[test]
fn the_last_pin_attempt_is_withheld_without_confirmation() {
    let mut pin = Careful::new(&["9999", "1234"], false);
    let (report, _) = probe("pin-low", &mut pin);
    let f = report.registration.failure().unwrap();
    assert_eq!(f.code, FailureCode::PinLastAttemptWithheld, "{f:?}");
    // One wrong PIN was submitted, the second request never came.
    assert_eq!(pin.requests.len(), 1);
    assert_eq!(pin.requests[0].retries, Some(2));
    assert_eq!(pin.confirmations, 1);
    assert_eq!(pin.answers, ["1234"]);
    // The report describes the key now: one attempt left.
    assert_eq!(report.key.ok().unwrap().pin_retries, Some(1));
}

#[test]
fn the_last_pin_attempt_is_spent_only_when_confirmed() {
    let mut pin = Careful::new(&["9999", "1234", "1234"], true);
    let (report, _) = probe("pin-low", &mut pin);
    assert!(report.all_ok(), "{report:#?}");
    assert_eq!(pin.confirmations, 1);
    let second = &pin.requests[1];
    assert_eq!(second.retries, Some(1));
    assert!(second.last_attempt && second.previous_wrong);
    assert_eq!(report.key.ok().unwrap().pin_retries, Some(8));
}

#[test]
fn a_pin_that_cannot_be_asked_for_is_not_a_declined_pin() {
    let (report, _) = probe("modern", &mut probe::NoInteraction);
    assert_eq!(
        report.registration.failure().unwrap().code,
        FailureCode::PinUnavailable
    );
}
