//! The CTAP2.1 authenticator proper: request dispatch, GetInfo, Selection
//! and Reset (with its 10-second window after power-up). MakeCredential,
//! GetAssertion and credential management live in the submodules, ClientPIN
//! in [`super::client_pin`]. Commands needing a touch return
//! [`Step::NeedPresence`]; the CTAPHID layer waits (with keepalives) and then
//! calls [`Authenticator::complete`]. Time is always passed in by the caller.

mod cred_mgmt;
mod get_assertion;
mod make_credential;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ciborium::Value;
use sha2::{Digest, Sha256};

use super::SimError;
use super::cbor::{self, bytes, int, text};
use super::client_pin::{PinState, PinStep, UvGrant};
use super::crypto::{
    Alg, Attestation, COSE_EDDSA, COSE_ES256, CRED_ID_LEN, CredFlags, CredKey, WrapKeys,
};
use super::scenario::{CredMgmt, Scenario};
use super::status::*;

pub use get_assertion::GaPlan;
pub use make_credential::McPlan;

/// Largest CTAPHID message the device accepts (advertised as maxMsgSize).
pub const MAX_MSG_SIZE: usize = 1200;
/// Firmware version reported in GetInfo.
pub const FIRMWARE_VERSION: i64 = 0x0001_0000;
/// authenticatorReset is refused (NOT_ALLOWED) this long after power-up.
pub const RESET_WINDOW: Duration = Duration::from_secs(10);

/// CTAP2 command bytes.
pub mod cmd {
    /// authenticatorMakeCredential.
    pub const MAKE_CREDENTIAL: u8 = 0x01;
    /// authenticatorGetAssertion.
    pub const GET_ASSERTION: u8 = 0x02;
    /// authenticatorGetInfo.
    pub const GET_INFO: u8 = 0x04;
    /// authenticatorClientPIN.
    pub const CLIENT_PIN: u8 = 0x06;
    /// authenticatorReset.
    pub const RESET: u8 = 0x07;
    /// authenticatorGetNextAssertion.
    pub const GET_NEXT_ASSERTION: u8 = 0x08;
    /// authenticatorCredentialManagement.
    pub const CREDENTIAL_MANAGEMENT: u8 = 0x0A;
    /// authenticatorSelection.
    pub const SELECTION: u8 = 0x0B;
    /// authenticatorCredentialManagement of CTAP 2.1-pre (credentialMgmtPreview).
    pub const CREDENTIAL_MANAGEMENT_PREVIEW: u8 = 0x41;
}

/// The result of a CTAP2 request.
pub enum Step {
    /// Finished: status byte followed by CBOR (if any).
    Reply(Vec<u8>),
    /// Needs a touch first; then [`Authenticator::complete`].
    NeedPresence(Deferred),
}

/// Work waiting for user presence (or, on fingerprint keys, a finger).
pub enum Deferred {
    /// Create the credential.
    MakeCredential(Box<McPlan>),
    /// Sign the assertion(s).
    GetAssertion(Box<GaPlan>),
    /// A pinUvAuthToken by built-in user verification.
    UvToken(Box<UvGrant>),
    /// authenticatorSelection.
    Selection,
    /// authenticatorReset (asked for within the window after power-up).
    Reset,
    /// Answer this error after the touch (excluded credential, PIN probe).
    Fail(u8),
}

/// A discoverable credential stored on the key.
struct Resident {
    id: Vec<u8>,
    rp_id: String,
    rp_name: Option<String>,
    rp_id_hash: [u8; 32],
    user_id: Vec<u8>,
    user_name: Option<String>,
    display_name: Option<String>,
    cred_protect: u8,
}

/// One simulated CTAP2 authenticator.
pub struct Authenticator {
    scenario: Scenario,
    pub(super) wrap: WrapKeys,
    pub(super) att: Arc<Attestation>,
    pin: PinState,
    residents: Vec<Resident>,
    slots: usize,
    pub(super) counter: u32,
    next: Option<get_assertion::NextState>,
    cm: Option<cred_mgmt::Enumeration>,
    powered_up: Instant,
}

const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_AT: u8 = 0x40;
const FLAG_ED: u8 = 0x80;

fn ok(v: Option<Value>) -> Vec<u8> {
    let mut out = vec![OK];
    if let Some(v) = v {
        out.extend(cbor::encode(&v));
    }
    out
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

fn auth_data(
    rp_id_hash: &[u8; 32],
    flags: u8,
    counter: u32,
    attested: Option<&[u8]>,
    ext: Option<&Value>,
) -> Vec<u8> {
    let mut ad = Vec::with_capacity(256);
    ad.extend_from_slice(rp_id_hash);
    ad.push(flags);
    ad.extend_from_slice(&counter.to_be_bytes());
    if let Some(a) = attested {
        ad.extend_from_slice(a);
    }
    if let Some(e) = ext {
        ad.extend(cbor::encode(e));
    }
    ad
}

impl Authenticator {
    /// `scenario`'s key, powered up at `now`.
    pub fn new(scenario: &Scenario, now: Instant) -> Result<Self, SimError> {
        let mut a = Self {
            scenario: scenario.clone(),
            wrap: WrapKeys::generate(),
            att: Attestation::for_aaguid(&scenario.aaguid)?,
            pin: PinState::new(scenario),
            residents: Vec::new(),
            slots: if scenario.resident_keys {
                scenario.resident_slots
            } else {
                0
            },
            counter: 0,
            next: None,
            cm: None,
            powered_up: now,
        };
        a.store_scenario_credentials();
        Ok(a)
    }

    /// Puts the scenario's pre-existing discoverable credentials on the key.
    fn store_scenario_credentials(&mut self) {
        for c in self.scenario.stored {
            let rp_id_hash = sha256(c.rp_id.as_bytes());
            let flags = CredFlags {
                resident: true,
                cred_protect: c.cred_protect,
                hmac_secret: false,
            };
            let id = self
                .wrap
                .wrap(&CredKey::generate(Alg::Es256), &rp_id_hash, flags);
            self.residents.push(Resident {
                id,
                rp_id: c.rp_id.to_string(),
                rp_name: Some(c.rp_name.to_string()),
                rp_id_hash,
                user_id: c.user_id.to_vec(),
                user_name: Some(c.user_name.to_string()),
                display_name: Some(c.display_name.to_string()),
                cred_protect: c.cred_protect,
            });
        }
    }

    /// The key was unplugged and plugged in again at `now`: volatile state
    /// (PIN token, the run of wrong PINs, pending enumerations) is gone and
    /// the reset window starts again; PIN, counters and credentials stay.
    pub fn power_cycle(&mut self, now: Instant) {
        self.pin.power_cycle();
        self.next = None;
        self.cm = None;
        self.powered_up = now;
    }

    /// DER of the attestation certificate.
    pub fn attestation_cert(&self) -> &[u8] {
        &self.att.leaf_der
    }

    /// DER of the simulator's test CA that issued the attestation certificate.
    pub fn attestation_ca(&self) -> &[u8] {
        &self.att.ca_der
    }

    fn remaining(&self) -> usize {
        self.slots.saturating_sub(self.residents.len())
    }

    fn next_counter(&mut self) -> u32 {
        self.counter = self.counter.wrapping_add(1);
        self.counter
    }

    /// Handles one CTAP2 request (command byte + CBOR) arriving at `now`.
    pub fn request(&mut self, req: &[u8], now: Instant) -> Step {
        let Some((&command, data)) = req.split_first() else {
            return Step::Reply(vec![ERR_INVALID_LENGTH]);
        };
        if command != cmd::GET_NEXT_ASSERTION {
            self.next = None;
        }
        let cm_command = matches!(
            (command, self.scenario.cred_mgmt),
            (cmd::CREDENTIAL_MANAGEMENT, CredMgmt::Full)
                | (
                    cmd::CREDENTIAL_MANAGEMENT_PREVIEW,
                    CredMgmt::Full | CredMgmt::PreviewOnly
                )
        );
        if !cm_command {
            self.cm = None;
        }
        let res = match command {
            cmd::GET_INFO => Ok(Step::Reply(ok(Some(self.info())))),
            cmd::MAKE_CREDENTIAL => cbor::decode_map(data).and_then(|p| self.make_credential(&p)),
            cmd::GET_ASSERTION => cbor::decode_map(data).and_then(|p| self.get_assertion(&p, now)),
            cmd::GET_NEXT_ASSERTION => self.get_next_assertion(now).map(Step::Reply),
            cmd::CLIENT_PIN => cbor::decode_map(data)
                .and_then(|p| self.pin.command(&p))
                .map(|s| match s {
                    PinStep::Done(v) => Step::Reply(ok(v)),
                    PinStep::NeedUv(g) => Step::NeedPresence(Deferred::UvToken(Box::new(g))),
                }),
            cmd::RESET if now.saturating_duration_since(self.powered_up) > RESET_WINDOW => {
                Err(ERR_NOT_ALLOWED)
            }
            cmd::RESET => Ok(Step::NeedPresence(Deferred::Reset)),
            cmd::SELECTION => Ok(Step::NeedPresence(Deferred::Selection)),
            _ if cm_command => cbor::decode_map(data)
                .and_then(|p| self.credential_management(&p))
                .map(|v| Step::Reply(ok(v))),
            _ => Err(ERR_INVALID_COMMAND),
        };
        res.unwrap_or_else(|code| Step::Reply(vec![code]))
    }

    /// Finishes deferred work after the user touched the key at `now`.
    pub fn complete(&mut self, d: Deferred, now: Instant) -> Vec<u8> {
        match d {
            Deferred::MakeCredential(p) => self.finish_make_credential(*p),
            Deferred::GetAssertion(p) => self.finish_get_assertion(*p, now),
            Deferred::UvToken(g) => match self.pin.finish_uv_token(*g) {
                Ok(v) => ok(Some(v)),
                Err(code) => vec![code],
            },
            Deferred::Selection => ok(None),
            Deferred::Reset => {
                self.residents.clear();
                self.pin.reset();
                self.wrap = WrapKeys::generate();
                self.next = None;
                self.cm = None;
                ok(None)
            }
            Deferred::Fail(code) => vec![code],
        }
    }

    /// A model's declared GetInfo with the AAGUID and the state that can
    /// change (PIN set, finger enrolled, forcePINChange, free slots) brought
    /// up to date.
    fn declared_info(&self, raw: &[u8]) -> Value {
        let mut m = match ciborium::from_reader::<Value, _>(raw) {
            Ok(Value::Map(m)) => m,
            _ => Vec::new(),
        };
        m.retain(|(k, _)| k.as_integer() != Some(3.into()));
        m.push((int(0x03), bytes(&self.scenario.aaguid)));
        for (k, v) in &mut m {
            match k.as_integer().and_then(|i| i64::try_from(i).ok()) {
                Some(0x04) => {
                    if let Value::Map(opts) = v {
                        for (name, value) in opts.iter_mut() {
                            match name.as_text() {
                                Some("clientPin") => *value = Value::Bool(self.pin.is_set()),
                                Some("uv") => {
                                    if let Some(uv) = self.pin.uv().option() {
                                        *value = Value::Bool(uv);
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
                Some(0x0C) => *v = Value::Bool(self.pin.force_change()),
                Some(0x14) => *v = int(self.remaining() as i64),
                _ => {}
            }
        }
        Value::Map(m)
    }

    /// The GetInfo response map.
    pub fn info(&self) -> Value {
        let sc = &self.scenario;
        if let Some(raw) = sc.declared_info {
            return self.declared_info(raw);
        }
        let on = |name: &str, v: bool| (text(name), Value::Bool(v));
        let mut opts = vec![
            on("rk", sc.resident_keys),
            on("up", true),
            on("plat", false),
        ];
        if let Some(uv) = self.pin.uv().option() {
            opts.push(on("uv", uv));
        }
        if self.pin.supported() {
            opts.push(on("clientPin", self.pin.is_set()));
            if self.pin.token_subcommands() {
                opts.push(on("pinUvAuthToken", true));
            }
        }
        match sc.cred_mgmt {
            CredMgmt::Full => opts.push(on("credMgmt", true)),
            CredMgmt::PreviewOnly => opts.push(on("credentialMgmtPreview", true)),
            CredMgmt::Absent => {}
        }
        if sc.always_uv {
            opts.push(on("alwaysUv", true));
        }
        opts.push(on(
            "makeCredUvNotRqd",
            sc.make_cred_uv_not_rqd && !sc.always_uv,
        ));
        let alg = |a: i64| {
            Value::Map(vec![
                (text("alg"), int(a)),
                (text("type"), text("public-key")),
            ])
        };
        let newest = if sc.cred_mgmt == CredMgmt::PreviewOnly {
            "FIDO_2_1_PRE"
        } else {
            "FIDO_2_1"
        };
        let mut m = vec![
            (
                int(0x01),
                Value::Array(vec![text("U2F_V2"), text("FIDO_2_0"), text(newest)]),
            ),
            (
                int(0x02),
                Value::Array(vec![text("credProtect"), text("hmac-secret")]),
            ),
            (int(0x03), bytes(&sc.aaguid)),
            (int(0x04), Value::Map(opts)),
            (int(0x05), int(MAX_MSG_SIZE as i64)),
        ];
        if self.pin.supported() {
            let protocols = self.pin.protocols().iter().map(|p| int(p.number()));
            m.push((int(0x06), Value::Array(protocols.collect())));
        }
        m.extend([
            (int(0x07), int(8)),
            (int(0x08), int(CRED_ID_LEN as i64)),
            (int(0x09), Value::Array(vec![text("usb")])),
            (
                int(0x0A),
                Value::Array(vec![alg(COSE_ES256), alg(COSE_EDDSA)]),
            ),
        ]);
        if self.pin.supported() {
            m.push((int(0x0C), Value::Bool(self.pin.force_change())));
            m.push((int(0x0D), int(super::pin::MIN_PIN_LENGTH as i64)));
        }
        m.push((int(0x0E), int(FIRMWARE_VERSION)));
        if self.pin.uv().option().is_some() {
            // preferredPlatformUvAttempts, uvModality (fingerprint).
            m.push((int(0x11), int(1)));
            m.push((int(0x12), int(0x02)));
        }
        if sc.resident_keys {
            m.push((int(0x14), int(self.remaining() as i64)));
        }
        Value::Map(m)
    }
}
