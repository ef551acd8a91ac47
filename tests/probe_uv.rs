//! Built-in user verification, PIN protocol one and the PIN_AUTH_INVALID
//! retry, probed end to end. The simulator has no fingerprint, so a proxy
//! between the client and the simulator plays one: it presents the key as
//! a fingerprint key in GetInfo, answers the UV commands itself (uvRetries,
//! getPinUvAuthTokenUsingUvWithPermissions with a scripted finger) and
//! obtains real tokens from the simulator for it, re-encrypted for the
//! client. Everything else goes to the simulator unchanged.

use std::collections::VecDeque;
use std::time::Duration;

use ciborium::Value;
use fido_doctor::ctap::ctap2::pin_protocol::{Pin, PinProtocol, PinProtocolVersion};
use fido_doctor::ctap::ctaphid::{
    CancelHandle, HidOptions, MAX_MESSAGE, Reassembler, Step, cmd, fragment,
};
use fido_doctor::ctap::probe::{
    self, FailureCode, FixedPin, NoPin, PinAnswer, PinRequest, ProbeEvent, ProbeOptions,
    ProbeReport, UserInteraction, UserVerification, UvFallback, UvRequest,
};
use fido_doctor::sim::{self, AutoTouch, SimHandle};
use fido_doctor::transport::inproc::InProcTransport;
use fido_doctor::transport::{Report, Transport, TransportError};
use p256::SecretKey;
use zeroize::Zeroizing;

/// The simulated keys' PIN.
const PIN: &str = "1234";

/// How the scripted finger behaves on getPinUvAuthTokenUsingUvWithPermissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finger {
    /// Matches at once.
    Enrolled,
    /// Fails (UV_INVALID) this many times, then matches.
    FailsTimes(u32),
    /// Always fails; the key blocks UV when its counter reaches zero.
    NeverMatches,
}

#[derive(Debug, Clone, Default)]
struct Script {
    /// Present built-in UV (uv, pinUvAuthToken) and play the finger.
    fingerprint: Option<Finger>,
    /// Hide the PIN: GetInfo without `clientPin`.
    hide_pin: bool,
    /// Offer only these PIN/UV auth protocols in GetInfo.
    protocols: Option<Vec<i64>>,
    /// Present built-in UV the CTAP 2.0 way (`uv` without `pinUvAuthToken`);
    /// requests with the `uv` option then fail with UV_INVALID.
    legacy_uv: bool,
    /// Answer PIN_AUTH_INVALID to this many MakeCredential requests that
    /// carry a pinUvAuthParam (another program took a token meanwhile).
    invalidate_make_credential: usize,
}

struct Proxy {
    inner: InProcTransport,
    _sim: SimHandle,
    script: Script,
    cid: Option<u32>,
    request: Option<Reassembler>,
    out: VecDeque<Report>,
    patch_next_get_info: bool,
    uv_retries: u32,
    failures_left: u32,
    /// The proxy's key agreement key towards the client.
    secret: SecretKey,
    /// Protocols the client used in ClientPIN requests.
    protocols_seen: Vec<i64>,
    /// Requests (command byte) that carried the `uv` option.
    uv_option_seen: Vec<u8>,
}

fn map_get(m: &[(Value, Value)], key: i64) -> Option<&Value> {
    m.iter()
        .find(|(k, _)| {
            k.as_integer()
                .is_some_and(|i| i128::from(i) == i128::from(key))
        })
        .map(|(_, v)| v)
}

fn int(v: &Value) -> i64 {
    i64::try_from(i128::from(v.as_integer().expect("integer"))).unwrap()
}

fn encode(v: &Value) -> Vec<u8> {
    fido_doctor::ctap::ctap2::cbor::encode_canonical(v)
}

fn ok_map(entries: Vec<(i64, Value)>) -> Vec<u8> {
    let mut out = vec![0x00];
    out.extend(encode(&Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::Integer(k.into()), v))
            .collect(),
    )));
    out
}

impl Proxy {
    fn new(scenario: &str, script: Script) -> Proxy {
        let scenario = sim::scenario::find(scenario).expect("scenario");
        let (inner, handle) = sim::spawn_inproc(scenario, Box::new(AutoTouch));
        Proxy {
            inner,
            _sim: handle,
            script,
            cid: None,
            request: None,
            out: VecDeque::new(),
            patch_next_get_info: false,
            uv_retries: 3,
            failures_left: 0,
            secret: SecretKey::random(&mut rand_core::OsRng),
            protocols_seen: Vec::new(),
            uv_option_seen: Vec::new(),
        }
    }

    fn reply(&mut self, data: &[u8]) {
        let cid = self.cid.expect("channel");
        self.out.extend(fragment(cid, cmd::CBOR, data).unwrap());
    }

    fn forward(&mut self, data: &[u8]) -> Result<(), TransportError> {
        let cid = self.cid.expect("channel");
        for r in fragment(cid, cmd::CBOR, data).unwrap() {
            self.inner.send(&r)?;
        }
        Ok(())
    }

    /// Sends a CTAP2 request to the simulator and waits for its answer.
    fn ask_sim(&mut self, data: &[u8]) -> Vec<u8> {
        self.forward(data).unwrap();
        let cid = self.cid.unwrap();
        let mut r = Reassembler::new(cid, MAX_MESSAGE);
        loop {
            let rep = self
                .inner
                .recv(Duration::from_secs(5))
                .expect("sim answers");
            if let Step::Complete(m) = r.push_step(&rep).unwrap() {
                if m.cmd == cmd::KEEPALIVE {
                    r = Reassembler::new(cid, MAX_MESSAGE);
                    continue;
                }
                return m.data;
            }
        }
    }

    /// Gets a real token from the simulator with the PIN hash `hash16`,
    /// re-encrypted for the client's shared secret; or the simulator's error.
    fn token_from_sim(
        &mut self,
        version: PinProtocolVersion,
        hash16: &[u8],
        permissions: Option<&Value>,
        rp_id: Option<&Value>,
        client: &PinProtocol,
    ) -> Vec<u8> {
        let v = i64::try_from(version.number()).unwrap();
        let ka = self.ask_sim(&{
            let mut d = vec![0x06];
            d.extend(encode(&Value::Map(vec![
                (Value::Integer(1.into()), Value::Integer(v.into())),
                (Value::Integer(2.into()), Value::Integer(2.into())),
            ])));
            d
        });
        assert_eq!(ka[0], 0, "sim key agreement");
        let Value::Map(m) = ciborium::from_reader::<Value, _>(&ka[1..]).unwrap() else {
            panic!()
        };
        let sim_face = PinProtocol::encapsulate(version, map_get(&m, 1).unwrap()).unwrap();
        let mut entries = vec![
            (Value::Integer(1.into()), Value::Integer(v.into())),
            (
                Value::Integer(2.into()),
                Value::Integer(if permissions.is_some() { 9 } else { 5 }.into()),
            ),
            (Value::Integer(3.into()), sim_face.platform_key().clone()),
            (
                Value::Integer(6.into()),
                Value::Bytes(sim_face.encrypt(hash16).unwrap()),
            ),
        ];
        if let Some(p) = permissions {
            entries.push((Value::Integer(9.into()), p.clone()));
        }
        if let Some(r) = rp_id {
            entries.push((Value::Integer(10.into()), r.clone()));
        }
        let mut d = vec![0x06];
        d.extend(encode(&Value::Map(entries)));
        let resp = self.ask_sim(&d);
        if resp[0] != 0 {
            return resp;
        }
        let Value::Map(m) = ciborium::from_reader::<Value, _>(&resp[1..]).unwrap() else {
            panic!()
        };
        let Some(Value::Bytes(enc)) = map_get(&m, 2) else {
            panic!("no token")
        };
        let token = sim_face.decrypt(enc).unwrap();
        ok_map(vec![(2, Value::Bytes(client.encrypt(&token).unwrap()))])
    }

    /// Handles a complete CTAPHID_CBOR request from the client.
    fn on_request(&mut self, data: &[u8]) -> Result<(), TransportError> {
        let mitm = self.script.fingerprint.is_some() || self.script.hide_pin;
        if self.script.legacy_uv && matches!(data.first(), Some(0x01 | 0x02)) {
            let Value::Map(m) = ciborium::from_reader::<Value, _>(&data[1..]).unwrap() else {
                panic!()
            };
            let options_key = if data[0] == 0x01 { 7 } else { 5 };
            if let Some(Value::Map(o)) = map_get(&m, options_key)
                && o.iter()
                    .any(|(k, v)| k.as_text() == Some("uv") && *v == Value::Bool(true))
            {
                self.uv_option_seen.push(data[0]);
                self.reply(&[0x3F]);
                return Ok(());
            }
        }
        match data.first() {
            Some(0x04) => {
                self.patch_next_get_info = true;
                self.forward(data)
            }
            Some(0x01) if self.script.invalidate_make_credential > 0 => {
                let Value::Map(m) = ciborium::from_reader::<Value, _>(&data[1..]).unwrap() else {
                    panic!()
                };
                if map_get(&m, 8).is_some() {
                    self.script.invalidate_make_credential -= 1;
                    self.reply(&[0x33]);
                    return Ok(());
                }
                self.forward(data)
            }
            Some(0x06) => {
                let Value::Map(m) = ciborium::from_reader::<Value, _>(&data[1..]).unwrap() else {
                    panic!()
                };
                let v = int(map_get(&m, 1).unwrap());
                self.protocols_seen.push(v);
                if !mitm {
                    return self.forward(data);
                }
                let version = if v == 1 {
                    PinProtocolVersion::V1
                } else {
                    PinProtocolVersion::V2
                };
                match int(map_get(&m, 2).unwrap()) {
                    // getKeyAgreement: ours, so we can read the client's secrets.
                    0x02 => {
                        let key = fido_doctor::ctap::ctap2::pin_protocol::cose_key_agreement(
                            &self.secret.public_key(),
                        );
                        self.reply(&ok_map(vec![(1, key)]));
                    }
                    0x07 => {
                        let r = self.uv_retries;
                        self.reply(&ok_map(vec![(5, Value::Integer(r.into()))]));
                    }
                    0x06 => {
                        let client = PinProtocol::encapsulate_with(
                            version,
                            map_get(&m, 3).unwrap(),
                            &self.secret,
                        )
                        .unwrap();
                        let matches = match self.script.fingerprint {
                            _ if self.uv_retries == 0 => {
                                self.reply(&[0x3C]);
                                return Ok(());
                            }
                            Some(Finger::Enrolled) => true,
                            Some(Finger::FailsTimes(_)) => {
                                let m = self.failures_left == 0;
                                self.failures_left = self.failures_left.saturating_sub(1);
                                m
                            }
                            Some(Finger::NeverMatches) | None => false,
                        };
                        if !matches {
                            self.uv_retries -= 1;
                            self.reply(&[if self.uv_retries == 0 { 0x3C } else { 0x3F }]);
                            return Ok(());
                        }
                        let pin = Pin::new(Zeroizing::new(PIN.into()), None).unwrap();
                        let resp = self.token_from_sim(
                            version,
                            pin.hash16().as_ref(),
                            map_get(&m, 9),
                            map_get(&m, 10),
                            &client,
                        );
                        self.reply(&resp);
                    }
                    sub @ (0x05 | 0x09) => {
                        let client = PinProtocol::encapsulate_with(
                            version,
                            map_get(&m, 3).unwrap(),
                            &self.secret,
                        )
                        .unwrap();
                        let Some(Value::Bytes(enc)) = map_get(&m, 6) else {
                            panic!("no pinHashEnc")
                        };
                        let hash = client.decrypt(enc).unwrap();
                        let perms = (sub == 0x09).then(|| map_get(&m, 9)).flatten();
                        let rp = (sub == 0x09).then(|| map_get(&m, 10)).flatten();
                        let resp = self.token_from_sim(version, &hash, perms, rp, &client);
                        self.reply(&resp);
                    }
                    _ => self.forward(data)?,
                }
                Ok(())
            }
            _ => self.forward(data),
        }
    }

    fn patch_get_info(&self, data: &[u8]) -> Vec<u8> {
        assert_eq!(data[0], 0);
        let Value::Map(mut m) = ciborium::from_reader::<Value, _>(&data[1..]).unwrap() else {
            panic!()
        };
        for (k, v) in m.iter_mut() {
            let key = int(k);
            if key == 4
                && let Value::Map(opts) = v
            {
                if self.script.hide_pin {
                    opts.retain(|(k, _)| k.as_text() != Some("clientPin"));
                }
                if self.script.fingerprint.is_some() || self.script.legacy_uv {
                    opts.retain(|(k, _)| !matches!(k.as_text(), Some("uv" | "pinUvAuthToken")));
                    opts.push((Value::Text("uv".into()), Value::Bool(true)));
                }
                if self.script.fingerprint.is_some() && !self.script.legacy_uv {
                    opts.push((Value::Text("pinUvAuthToken".into()), Value::Bool(true)));
                }
            }
            if key == 6
                && let Some(p) = &self.script.protocols
            {
                *v = Value::Array(p.iter().map(|i| Value::Integer((*i).into())).collect());
            }
        }
        let mut out = vec![0];
        out.extend(encode(&Value::Map(m)));
        out
    }
}

impl Transport for Proxy {
    fn send(&mut self, report: &Report) -> Result<(), TransportError> {
        let cid = u32::from_be_bytes([report[0], report[1], report[2], report[3]]);
        if Some(cid) != self.cid {
            return self.inner.send(report);
        }
        let r = self
            .request
            .get_or_insert_with(|| Reassembler::new(cid, MAX_MESSAGE));
        match r.push_step(report).unwrap() {
            Step::Complete(m) => {
                self.request = None;
                if m.cmd == cmd::CBOR {
                    self.on_request(&m.data)
                } else {
                    for rep in fragment(cid, m.cmd, &m.data).unwrap() {
                        self.inner.send(&rep)?;
                    }
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    fn recv(&mut self, timeout: Duration) -> Result<Report, TransportError> {
        if let Some(r) = self.out.pop_front() {
            return Ok(r);
        }
        let rep = self.inner.recv(timeout)?;
        if self.cid.is_none() && rep[4] == 0x80 | cmd::INIT {
            self.cid = Some(u32::from_be_bytes([rep[15], rep[16], rep[17], rep[18]]));
            return Ok(rep);
        }
        if self.patch_next_get_info && rep[4] == 0x80 | cmd::CBOR {
            self.patch_next_get_info = false;
            let cid = self.cid.unwrap();
            let mut r = Reassembler::new(cid, MAX_MESSAGE);
            let mut step = r.push_step(&rep).unwrap();
            while !matches!(step, Step::Complete(_)) {
                let next = self.inner.recv(Duration::from_secs(2))?;
                step = r.push_step(&next).unwrap();
            }
            let Step::Complete(m) = step else {
                unreachable!()
            };
            let patched = self.patch_get_info(&m.data);
            self.out.extend(fragment(cid, cmd::CBOR, &patched).unwrap());
            return Ok(self.out.pop_front().unwrap());
        }
        Ok(rep)
    }

    fn name(&self) -> String {
        "sim:proxy".into()
    }
}

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

/// Hands the proxy's record of protocols back after the probe consumed it.
struct Recorder {
    proxy: Proxy,
    seen: std::sync::Arc<std::sync::Mutex<Vec<i64>>>,
}

impl Transport for Recorder {
    fn send(&mut self, report: &Report) -> Result<(), TransportError> {
        let r = self.proxy.send(report);
        let mut seen = self.proxy.protocols_seen.clone();
        // Requests sent with the `uv` option, as 100 + command byte.
        seen.extend(
            self.proxy
                .uv_option_seen
                .iter()
                .map(|c| 100 + i64::from(*c)),
        );
        *self.seen.lock().unwrap() = seen;
        r
    }
    fn recv(&mut self, timeout: Duration) -> Result<Report, TransportError> {
        self.proxy.recv(timeout)
    }
    fn name(&self) -> String {
        self.proxy.name()
    }
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
