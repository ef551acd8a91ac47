//! Drives the simulator's CTAP2 command handlers with whole, well-framed
//! requests, including ones that carry a valid pinUvAuthParam, so the
//! fuzzer reaches what random reports cannot: ClientPIN (PIN and built-in
//! UV tokens, PIN rules, retries), credential management (0x0A and the
//! 2.1-pre 0x41) with a real `cm` token, discoverable MakeCredential and
//! GetAssertion, reset and replug. Every answer must be one well-formed
//! CTAPHID message on the right channel, and the client's decoders get the
//! simulator's answers. Nothing may panic.
//!
//! Input: byte 0 picks the scenario, byte 1 bit 0 the PIN/UV protocol;
//! then records `[op, len, body…]` (see `Op` below for what each does).

#![no_main]

use std::time::{Duration, Instant};

use ciborium::Value;
use fido_doctor::ctap::ctap2::cbor::{bytes, encode_canonical, int};
use fido_doctor::ctap::ctap2::client_pin::{self, ClientPinResponse, Permissions};
use fido_doctor::ctap::ctap2::pin_protocol::{Pin, PinProtocol, PinProtocolVersion};
use fido_doctor::ctap::ctap2::{
    Assertion, Attestation, GetAssertionRequest, GetInfo, MakeCredentialRequest,
};
use fido_doctor::ctap::ctaphid::{MAX_MESSAGE, Reassembler};
use fido_doctor::ctap::keycare::cred_mgmt::CredMgmtResponse;
use fido_doctor::ctap::keycare::token::Token;
use fido_doctor::sim::ctaphid::{self, BROADCAST, Device, POLL_INTERVAL, cmd};
use fido_doctor::sim::scenario::Behaviour;
use fido_doctor::sim::{AutoTouch, scenario};
use libfuzzer_sys::fuzz_target;
use zeroize::Zeroizing;

const CLIENT_PIN: u8 = 0x06;
const CRED_MGMT: u8 = 0x0A;
const CRED_MGMT_PRE: u8 = 0x41;
/// Simulated time the harness waits for one answer before moving on.
const MAX_TICKS: usize = 400;

struct Session {
    dev: Device,
    cid: u32,
    now: Instant,
    version: PinProtocolVersion,
    token: Option<Token>,
    pin: String,
    /// False for the scenario that answers garbage on purpose.
    strict: bool,
}

impl Session {
    /// One CTAPHID message and its answer (None if the device stays silent).
    fn exchange(&mut self, cid: u32, command: u8, data: &[u8]) -> Option<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        for r in ctaphid::frame(cid, command, data) {
            out.extend(self.dev.handle_report(&r, self.now));
        }
        let mut asm = Reassembler::new(cid, MAX_MESSAGE);
        for _ in 0..MAX_TICKS {
            for r in &out {
                assert_eq!(r.len(), 64);
                let rcid = u32::from_be_bytes([r[0], r[1], r[2], r[3]]);
                assert!(!self.strict || rcid == cid, "answer on another channel");
                match asm.push(r) {
                    Ok(Some(m)) if m.cmd == cmd::KEEPALIVE & 0x7F => {}
                    Ok(Some(m)) => return Some((m.cmd | 0x80, m.data)),
                    Ok(None) => {}
                    Err(e) if self.strict => panic!("simulator sent a broken message: {e}"),
                    Err(_) => return None,
                }
            }
            if self.dev.is_gone() {
                return None;
            }
            self.now += POLL_INTERVAL;
            out = self.dev.tick(self.now);
        }
        None
    }

    fn init(&mut self) -> Option<u32> {
        let (c, data) = self.exchange(BROADCAST, cmd::INIT, &[1, 2, 3, 4, 5, 6, 7, 8])?;
        if !self.strict && (c != cmd::INIT || data.len() < 17) {
            return None;
        }
        assert_eq!(c, cmd::INIT);
        assert!(data.len() >= 17, "INIT answer of {} bytes", data.len());
        assert_eq!(&data[..8], &[1, 2, 3, 4, 5, 6, 7, 8]);
        Some(u32::from_be_bytes([data[8], data[9], data[10], data[11]]))
    }

    /// A CTAP2 request; the status byte and the body of the answer.
    fn call(&mut self, command: u8, params: &[u8]) -> Option<(u8, Vec<u8>)> {
        let mut req = vec![command];
        req.extend_from_slice(params);
        let (c, mut data) = self.exchange(self.cid, cmd::CBOR, &req)?;
        if c == cmd::ERROR {
            assert!(
                !self.strict || data.len() == 1,
                "CTAPHID error of {} bytes",
                data.len()
            );
            return None;
        }
        if !self.strict && (c != cmd::CBOR || data.is_empty()) {
            return None;
        }
        assert_eq!(c, cmd::CBOR);
        assert!(!data.is_empty(), "CTAP2 answer without a status byte");
        let status = data.remove(0);
        if status != 0 {
            assert!(
                !self.strict || data.is_empty(),
                "error status {status:#04x} with a body"
            );
        }
        Some((status, data))
    }

    fn agree(&mut self) -> Option<PinProtocol> {
        let req = client_pin::encode_get_key_agreement(self.version);
        let (st, body) = self.call(CLIENT_PIN, &req)?;
        if st != 0 {
            return None;
        }
        let resp = ClientPinResponse::decode(&body).ok()?;
        PinProtocol::encapsulate(self.version, resp.require_key_agreement().ok()?).ok()
    }

    fn take_token(&mut self, proto: &PinProtocol, req: &[u8]) {
        if let Some((0, body)) = self.call(CLIENT_PIN, req) {
            if let Ok(resp) = ClientPinResponse::decode(&body) {
                if let Ok(t) = resp.decrypt_token(proto) {
                    self.token = Some(Token::new(proto.version(), t));
                }
            }
        }
    }

    fn auth(&self, message: &[u8]) -> Option<Vec<u8>> {
        self.token.as_ref().map(|t| t.authenticate(message))
    }
}

fn text_of(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The answer decoded the way the client would; none of it may panic.
fn decode_answer(command: u8, body: &[u8]) {
    match command {
        0x01 => drop(Attestation::decode(body)),
        0x02 | 0x08 => drop(Assertion::decode(body)),
        0x04 => drop(GetInfo::decode(body)),
        CLIENT_PIN => drop(ClientPinResponse::decode(body)),
        CRED_MGMT | CRED_MGMT_PRE => drop(CredMgmtResponse::decode(body)),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let [pick, flags, rest @ ..] = data else {
        return;
    };
    let mut rest: &[u8] = rest;
    let all = scenario::all();
    let sc = &all[usize::from(*pick) % all.len()];
    let start = Instant::now();
    let Ok(dev) = Device::powered_up_at(sc, Box::new(AutoTouch), start) else {
        return;
    };
    let mut s = Session {
        dev,
        cid: 0,
        now: start,
        version: if flags & 1 == 0 {
            PinProtocolVersion::V2
        } else {
            PinProtocolVersion::V1
        },
        token: None,
        pin: sc.pin.unwrap_or("1234").to_string(),
        strict: sc.behaviour != Behaviour::Malformed,
    };
    let Some(cid) = s.init() else {
        return;
    };
    s.cid = cid;

    while let [op, len, tail @ ..] = rest {
        let take = usize::from(*len).min(tail.len());
        let (body, next) = tail.split_at(take);
        rest = next;
        let first = body.first().copied().unwrap_or(0);
        let cdh = [first; 32];
        let sent: Option<(u8, Vec<u8>)> = match op % 10 {
            // A raw CTAP2 request: command byte and parameters as given.
            0 => match body.split_first() {
                Some((&c, params)) => s.call(c, params).map(|a| (c, a.1)),
                None => None,
            },
            // A PIN token with the permissions (and RP id) in the body; the
            // PIN is the scenario's unless the body's top bit asks for a wrong one.
            1 => {
                let pin = if first & 0x80 != 0 {
                    "9999".to_string()
                } else {
                    s.pin.clone()
                };
                if let (Some(proto), Ok(pin)) = (s.agree(), Pin::new(Zeroizing::new(pin), None)) {
                    let rp = (body.len() > 1).then(|| text_of(&body[1..]));
                    let req = if first & 0x40 != 0 {
                        client_pin::encode_get_pin_token(&proto, &pin)
                    } else {
                        client_pin::encode_get_token_using_pin(
                            &proto,
                            &pin,
                            Permissions(first & 0x3F),
                            rp.as_deref(),
                        )
                    };
                    if let Ok(req) = req {
                        s.take_token(&proto, &req);
                    }
                }
                None
            }
            // A token through built-in UV.
            2 => {
                if let Some(proto) = s.agree() {
                    let rp = (body.len() > 1).then(|| text_of(&body[1..]));
                    let req = client_pin::encode_get_token_using_uv(
                        &proto,
                        Permissions(first),
                        rp.as_deref(),
                    );
                    s.take_token(&proto, &req);
                }
                None
            }
            // Credential management: subcommand, raw CBOR parameters,
            // authenticated with the current token when there is one.
            3 | 4 => {
                let command = if op % 10 == 3 {
                    CRED_MGMT
                } else {
                    CRED_MGMT_PRE
                };
                let params: Option<Value> = body
                    .get(1..)
                    .filter(|p| !p.is_empty())
                    .and_then(|p| ciborium::from_reader(p).ok());
                let mut message = vec![first];
                if let Some(p) = &params {
                    message.extend_from_slice(&encode_canonical(p));
                }
                let mut m = vec![(int(1), int(i64::from(first)))];
                if let Some(p) = params {
                    m.push((int(2), p));
                }
                if let Some(a) = s.auth(&message) {
                    m.push((int(3), int(s.version.number() as i64)));
                    m.push((int(4), bytes(&a)));
                }
                let req = encode_canonical(&Value::Map(m));
                s.call(command, &req).map(|a| (command, a.1))
            }
            // A (discoverable) credential for an RP and user from the body.
            5 => {
                let rp_id = match first % 3 {
                    0 => "login.microsoft.com".to_string(),
                    1 => "example.com".to_string(),
                    _ => text_of(body.get(1..9).unwrap_or_default()),
                };
                let user_id = body.get(1..).unwrap_or_default();
                let req = MakeCredentialRequest {
                    client_data_hash: cdh,
                    rp_id,
                    rp_name: (first & 4 != 0).then(|| "RP".to_string()),
                    user_id: user_id[..user_id.len().min(64)].to_vec(),
                    user_name: Some(text_of(user_id)),
                    user_display_name: None,
                    algorithms: vec![-7, -8],
                    exclude_list: Vec::new(),
                    rk: first & 8 != 0,
                    uv: (first & 16 != 0).then_some(true),
                    pin_uv_auth_param: s.auth(&cdh),
                    pin_uv_auth_protocol: s.token.as_ref().map(|t| t.version.number()),
                };
                s.call(0x01, &req.encode()).map(|a| (0x01, a.1))
            }
            // An assertion, with an allow list from the body.
            6 => {
                let req = GetAssertionRequest {
                    rp_id: if first & 1 == 0 {
                        "login.microsoft.com".into()
                    } else {
                        "example.com".into()
                    },
                    client_data_hash: cdh,
                    allow_list: body
                        .get(1..)
                        .map(|b| b.chunks(48).map(<[u8]>::to_vec).collect())
                        .unwrap_or_default(),
                    up: (first & 2 != 0).then_some(false),
                    uv: (first & 4 != 0).then_some(true),
                    pin_uv_auth_param: s.auth(&cdh),
                    pin_uv_auth_protocol: s.token.as_ref().map(|t| t.version.number()),
                };
                s.call(0x02, &req.encode()).map(|a| (0x02, a.1))
            }
            // ClientPIN with raw parameters plus this session's protocol and
            // platform key (setPIN / changePIN / retries with odd contents).
            7 => {
                if let Some(proto) = s.agree() {
                    let mut m: Vec<(Value, Value)> = ciborium::from_reader::<Value, _>(body)
                        .ok()
                        .and_then(|v| v.into_map().ok())
                        .unwrap_or_default();
                    m.push((int(1), int(proto.version().number() as i64)));
                    m.push((int(3), proto.platform_key().clone()));
                    let req = encode_canonical(&Value::Map(m));
                    s.call(CLIENT_PIN, &req).map(|a| (CLIENT_PIN, a.1))
                } else {
                    None
                }
            }
            // Time passes (up to 25.5 s); odd: unplug and plug in again.
            8 => {
                s.now += Duration::from_millis(100) * u32::from(first);
                if body.get(1).is_some_and(|b| b & 1 != 0) {
                    s.dev.replug(s.now);
                    s.token = None;
                    match s.init() {
                        Some(cid) => s.cid = cid,
                        None => return,
                    }
                }
                None
            }
            // GetInfo, reset, GetNextAssertion, selection.
            _ => {
                let c = [0x04, 0x07, 0x08, 0x0B][usize::from(first) % 4];
                s.call(c, &[]).map(|a| (c, a.1))
            }
        };
        if let Some((c, body)) = sent {
            decode_answer(c, &body);
        }
        if s.dev.is_gone() {
            break;
        }
    }
});
