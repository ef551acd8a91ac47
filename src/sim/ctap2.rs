//! The CTAP2.1 authenticator proper: GetInfo, MakeCredential (packed
//! attestation), GetAssertion/GetNextAssertion, ClientPIN, Selection and
//! Reset. Commands needing a touch return [`Step::NeedPresence`]; the CTAPHID
//! layer waits (with keepalives) and then calls [`Authenticator::complete`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ciborium::Value;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::SimError;
use super::cbor::{
    self, as_array, as_bool, as_bytes, as_int, as_map, as_text, bytes, get, get_text_key, int, text,
};
use super::crypto::{
    Alg, Attestation, COSE_EDDSA, COSE_ES256, CRED_ID_LEN, CredFlags, CredKey, WrapKeys,
};
use super::pin::{PERM_GA, PERM_MC, PinState, Protocol};
use super::scenario::Scenario;
use super::status::*;

/// Largest CTAPHID message the device accepts (advertised as maxMsgSize).
pub const MAX_MSG_SIZE: usize = 1200;
/// Firmware version reported in GetInfo.
pub const FIRMWARE_VERSION: i64 = 0x0001_0000;
/// How long GetNextAssertion state lives.
const NEXT_ASSERTION_TTL: Duration = Duration::from_secs(30);

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
    /// authenticatorSelection.
    pub const SELECTION: u8 = 0x0B;
}

/// The result of a CTAP2 request.
pub enum Step {
    /// Finished: status byte followed by CBOR (if any).
    Reply(Vec<u8>),
    /// Needs a touch first; then [`Authenticator::complete`].
    NeedPresence(Deferred),
}

/// Work waiting for user presence.
pub enum Deferred {
    /// Create the credential.
    MakeCredential(Box<McPlan>),
    /// Sign the assertion(s).
    GetAssertion(Box<GaPlan>),
    /// authenticatorSelection.
    Selection,
    /// authenticatorReset. Real keys accept it only within ~10 s of power-up;
    /// the simulator accepts it at any time, but only as this explicit
    /// command confirmed by a touch.
    Reset,
    /// Answer this error after the touch (excluded credential, PIN probe).
    Fail(u8),
}

/// A validated MakeCredential.
pub struct McPlan {
    rp_id: String,
    rp_id_hash: [u8; 32],
    client_data_hash: Vec<u8>,
    user_id: Vec<u8>,
    user_name: Option<String>,
    display_name: Option<String>,
    alg: Alg,
    rk: bool,
    uv: bool,
    cred_protect: Option<u8>,
    hmac_secret: bool,
}

struct Found {
    id: Vec<u8>,
    key: CredKey,
    user: Option<Value>,
    hmac_secret: bool,
}

/// A decoded hmac-secret request of GetAssertion.
struct HmacRequest {
    proto: Protocol,
    secret: Zeroizing<Vec<u8>>,
    salts: Zeroizing<Vec<u8>>,
}

/// What every assertion of one GetAssertion shares.
struct Signing {
    rp_id_hash: [u8; 32],
    client_data_hash: Vec<u8>,
    flags: u8,
    uv: bool,
    hmac: Option<HmacRequest>,
}

/// A validated GetAssertion.
pub struct GaPlan {
    rp_id_hash: [u8; 32],
    client_data_hash: Vec<u8>,
    creds: Vec<Found>,
    up: bool,
    uv: bool,
    discovered: bool,
    hmac: Option<HmacRequest>,
}

struct Resident {
    id: Vec<u8>,
    rp_id: String,
    rp_id_hash: [u8; 32],
    user_id: Vec<u8>,
    user_name: Option<String>,
    display_name: Option<String>,
    cred_protect: u8,
}

struct NextState {
    signing: Signing,
    creds: VecDeque<Found>,
    expires: Instant,
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
    next: Option<NextState>,
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

fn opt_text(m: &[(Value, Value)], k: &str) -> Result<Option<String>, u8> {
    get_text_key(m, k)
        .map(|v| as_text(v).map(str::to_string))
        .transpose()
}

/// The rk, up and uv options of a request (absent = `None`).
type Options = (Option<bool>, Option<bool>, Option<bool>);

/// Reads `options` (key `k`) as (rk, up, uv).
fn options(params: &[(Value, Value)], k: i64) -> Result<Options, u8> {
    let Some(v) = get(params, k) else {
        return Ok((None, None, None));
    };
    let m = as_map(v)?;
    let b = |name| get_text_key(m, name).map(as_bool).transpose();
    Ok((b("rk")?, b("up")?, b("uv")?))
}

fn cred_ids(v: &Value) -> Result<Vec<Vec<u8>>, u8> {
    as_array(v)?
        .iter()
        .map(|d| {
            let m = as_map(d)?;
            Ok(as_bytes(get_text_key(m, "id").ok_or(ERR_MISSING_PARAMETER)?)?.to_vec())
        })
        .collect()
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
    /// Power-up state for `scenario`.
    pub fn new(scenario: &Scenario) -> Result<Self, SimError> {
        Ok(Self {
            scenario: scenario.clone(),
            wrap: WrapKeys::generate(),
            att: Attestation::for_aaguid(&scenario.aaguid)?,
            pin: PinState::new(
                scenario.client_pin.is_some(),
                if scenario.client_pin == Some(true) {
                    scenario.pin
                } else {
                    None
                },
                scenario.pin_retries,
            ),
            residents: Vec::new(),
            slots: if scenario.resident_keys {
                scenario.resident_slots
            } else {
                0
            },
            counter: 0,
            next: None,
        })
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

    /// Handles one CTAP2 request (command byte + CBOR).
    pub fn request(&mut self, req: &[u8]) -> Step {
        let Some((&command, data)) = req.split_first() else {
            return Step::Reply(vec![ERR_INVALID_LENGTH]);
        };
        if command != cmd::GET_NEXT_ASSERTION {
            self.next = None;
        }
        let res = match command {
            cmd::GET_INFO => Ok(Step::Reply(ok(Some(self.info())))),
            cmd::MAKE_CREDENTIAL => cbor::decode_map(data).and_then(|p| self.make_credential(&p)),
            cmd::GET_ASSERTION => cbor::decode_map(data).and_then(|p| self.get_assertion(&p)),
            cmd::GET_NEXT_ASSERTION => self.get_next_assertion().map(Step::Reply),
            cmd::CLIENT_PIN => cbor::decode_map(data)
                .and_then(|p| self.pin.command(&p))
                .map(|v| Step::Reply(ok(v))),
            cmd::RESET => Ok(Step::NeedPresence(Deferred::Reset)),
            cmd::SELECTION => Ok(Step::NeedPresence(Deferred::Selection)),
            _ => Err(ERR_INVALID_COMMAND),
        };
        res.unwrap_or_else(|code| Step::Reply(vec![code]))
    }

    /// Finishes deferred work after the user touched the key.
    pub fn complete(&mut self, d: Deferred) -> Vec<u8> {
        match d {
            Deferred::MakeCredential(p) => self.finish_make_credential(*p),
            Deferred::GetAssertion(p) => self.finish_get_assertion(*p),
            Deferred::Selection => ok(None),
            Deferred::Reset => {
                self.residents.clear();
                self.pin.reset();
                self.wrap = WrapKeys::generate();
                self.next = None;
                ok(None)
            }
            Deferred::Fail(code) => vec![code],
        }
    }

    /// The GetInfo response map.
    pub fn info(&self) -> Value {
        let mut opts = vec![
            (text("rk"), Value::Bool(self.scenario.resident_keys)),
            (text("up"), Value::Bool(true)),
            (text("plat"), Value::Bool(false)),
        ];
        if self.pin.supported() {
            opts.push((text("clientPin"), Value::Bool(self.pin.is_set())));
            opts.push((text("pinUvAuthToken"), Value::Bool(true)));
        }
        opts.push((text("makeCredUvNotRqd"), Value::Bool(true)));
        let alg = |a: i64| {
            Value::Map(vec![
                (text("alg"), int(a)),
                (text("type"), text("public-key")),
            ])
        };
        let mut m = vec![
            (
                int(0x01),
                Value::Array(vec![text("U2F_V2"), text("FIDO_2_0"), text("FIDO_2_1")]),
            ),
            (
                int(0x02),
                Value::Array(vec![text("credProtect"), text("hmac-secret")]),
            ),
            (int(0x03), bytes(&self.scenario.aaguid)),
            (int(0x04), Value::Map(opts)),
            (int(0x05), int(MAX_MSG_SIZE as i64)),
        ];
        if self.pin.supported() {
            m.push((int(0x06), Value::Array(vec![int(2), int(1)])));
        }
        m.extend([
            (int(0x07), int(8)),
            (int(0x08), int(CRED_ID_LEN as i64)),
            (int(0x09), Value::Array(vec![text("usb")])),
            (
                int(0x0A),
                Value::Array(vec![alg(COSE_ES256), alg(COSE_EDDSA)]),
            ),
            (int(0x0D), int(super::pin::MIN_PIN_LENGTH as i64)),
            (int(0x0E), int(FIRMWARE_VERSION)),
        ]);
        if self.scenario.resident_keys {
            m.push((int(0x14), int(self.remaining() as i64)));
        }
        Value::Map(m)
    }

    fn pin_protocol(params: &[(Value, Value)], k: i64) -> Result<Protocol, u8> {
        Protocol::from_int(as_int(get(params, k).ok_or(ERR_MISSING_PARAMETER)?)?)
    }

    fn pin_probe(&self) -> Step {
        Step::NeedPresence(Deferred::Fail(if self.pin.is_set() {
            ERR_PIN_INVALID
        } else {
            ERR_PIN_NOT_SET
        }))
    }

    fn make_credential(&mut self, p: &[(Value, Value)]) -> Result<Step, u8> {
        let cdh = as_bytes(get(p, 0x01).ok_or(ERR_MISSING_PARAMETER)?)?.to_vec();
        let rp = as_map(get(p, 0x02).ok_or(ERR_MISSING_PARAMETER)?)?;
        let rp_id = as_text(get_text_key(rp, "id").ok_or(ERR_MISSING_PARAMETER)?)?.to_string();
        let user = as_map(get(p, 0x03).ok_or(ERR_MISSING_PARAMETER)?)?;
        let user_id = as_bytes(get_text_key(user, "id").ok_or(ERR_MISSING_PARAMETER)?)?.to_vec();
        if user_id.len() > 64 {
            return Err(ERR_INVALID_LENGTH);
        }
        let mut alg = None;
        for entry in as_array(get(p, 0x04).ok_or(ERR_MISSING_PARAMETER)?)? {
            let e = as_map(entry)?;
            let ty = as_text(get_text_key(e, "type").ok_or(ERR_MISSING_PARAMETER)?)?;
            let a = as_int(get_text_key(e, "alg").ok_or(ERR_MISSING_PARAMETER)?)?;
            if ty == "public-key" && alg.is_none() {
                alg = Alg::from_cose(a);
            }
        }
        let alg = alg.ok_or(ERR_UNSUPPORTED_ALGORITHM)?;
        let exclude = get(p, 0x05).map(cred_ids).transpose()?.unwrap_or_default();
        let ext = get(p, 0x06).map(as_map).transpose()?.unwrap_or_default();
        let (rk, up, uv_opt) = options(p, 0x07)?;
        let rk = rk.unwrap_or(false);
        let pin_param = get(p, 0x08).map(as_bytes).transpose()?;
        if pin_param.is_some_and(<[u8]>::is_empty) {
            return Ok(self.pin_probe());
        }
        if up == Some(false) || uv_opt == Some(true) {
            return Err(ERR_INVALID_OPTION);
        }
        if rk && !self.scenario.resident_keys {
            return Err(ERR_UNSUPPORTED_OPTION);
        }
        let uv = match pin_param {
            Some(param) => {
                let proto = Self::pin_protocol(p, 0x09)?;
                self.pin.check_token(proto, &cdh, param, PERM_MC, &rp_id)?;
                true
            }
            None if self.pin.is_set() && rk => return Err(ERR_PUAT_REQUIRED),
            None => false,
        };
        let rp_id_hash = sha256(rp_id.as_bytes());
        let excluded = exclude.iter().any(|id| {
            self.residents
                .iter()
                .any(|r| &r.id == id && r.rp_id_hash == rp_id_hash)
                || self.wrap.unwrap(id, &rp_id_hash).is_some()
        });
        if excluded {
            return Ok(Step::NeedPresence(Deferred::Fail(ERR_CREDENTIAL_EXCLUDED)));
        }
        let replaces = self
            .residents
            .iter()
            .any(|r| r.rp_id == rp_id && r.user_id == user_id);
        if rk && !replaces && self.remaining() == 0 {
            return Err(ERR_KEY_STORE_FULL);
        }
        let cred_protect = match get_text_key(ext, "credProtect") {
            Some(v) => {
                let n = as_int(v)?;
                if !(1..=3).contains(&n) {
                    return Err(ERR_INVALID_OPTION);
                }
                Some(n as u8)
            }
            None => None,
        };
        let hmac_secret = get_text_key(ext, "hmac-secret")
            .map(as_bool)
            .transpose()?
            .unwrap_or(false);
        Ok(Step::NeedPresence(Deferred::MakeCredential(Box::new(
            McPlan {
                rp_id,
                rp_id_hash,
                client_data_hash: cdh,
                user_id,
                user_name: opt_text(user, "name")?,
                display_name: opt_text(user, "displayName")?,
                alg,
                rk,
                uv,
                cred_protect,
                hmac_secret,
            },
        ))))
    }

    fn finish_make_credential(&mut self, p: McPlan) -> Vec<u8> {
        // CTAP 2.1: permissions are cleared once user presence was collected.
        if p.uv {
            self.pin.consume_token();
        }
        let key = CredKey::generate(p.alg);
        let level = p.cred_protect.unwrap_or(1);
        let flags = CredFlags {
            resident: p.rk,
            cred_protect: level,
            hmac_secret: p.hmac_secret,
        };
        let id = self.wrap.wrap(&key, &p.rp_id_hash, flags);
        if p.rk {
            self.residents
                .retain(|r| !(r.rp_id == p.rp_id && r.user_id == p.user_id));
            self.residents.push(Resident {
                id: id.clone(),
                rp_id: p.rp_id.clone(),
                rp_id_hash: p.rp_id_hash,
                user_id: p.user_id.clone(),
                user_name: p.user_name.clone(),
                display_name: p.display_name.clone(),
                cred_protect: level,
            });
        }
        let mut ext = Vec::new();
        if let Some(level) = p.cred_protect {
            ext.push((text("credProtect"), int(i64::from(level))));
        }
        if p.hmac_secret {
            ext.push((text("hmac-secret"), Value::Bool(true)));
        }
        let ext = (!ext.is_empty()).then_some(Value::Map(ext));
        let mut attested = Vec::with_capacity(200);
        attested.extend_from_slice(&self.scenario.aaguid);
        attested.extend_from_slice(&(id.len() as u16).to_be_bytes());
        attested.extend_from_slice(&id);
        attested.extend(cbor::encode(&key.cose_public()));
        let mut flags = FLAG_UP | FLAG_AT;
        if p.uv {
            flags |= FLAG_UV;
        }
        if ext.is_some() {
            flags |= FLAG_ED;
        }
        let counter = self.next_counter();
        let ad = auth_data(&p.rp_id_hash, flags, counter, Some(&attested), ext.as_ref());
        let sig = self
            .att
            .sign(&[ad.as_slice(), &p.client_data_hash].concat());
        let att_stmt = Value::Map(vec![
            (text("alg"), int(COSE_ES256)),
            (text("sig"), bytes(&sig)),
            (text("x5c"), Value::Array(vec![bytes(&self.att.leaf_der)])),
        ]);
        ok(Some(Value::Map(vec![
            (int(1), text("packed")),
            (int(2), bytes(&ad)),
            (int(3), att_stmt),
        ])))
    }

    fn resident_user(r: &Resident, uv: bool) -> Value {
        let mut u = vec![(text("id"), bytes(&r.user_id))];
        if uv {
            if let Some(n) = &r.user_name {
                u.push((text("name"), text(n)));
            }
            if let Some(n) = &r.display_name {
                u.push((text("displayName"), text(n)));
            }
        }
        Value::Map(u)
    }

    fn get_assertion(&mut self, p: &[(Value, Value)]) -> Result<Step, u8> {
        let rp_id = as_text(get(p, 0x01).ok_or(ERR_MISSING_PARAMETER)?)?.to_string();
        let cdh = as_bytes(get(p, 0x02).ok_or(ERR_MISSING_PARAMETER)?)?.to_vec();
        let allow = get(p, 0x03).map(cred_ids).transpose()?.unwrap_or_default();
        let (_, up, uv_opt) = options(p, 0x05)?;
        let pin_param = get(p, 0x06).map(as_bytes).transpose()?;
        if pin_param.is_some_and(<[u8]>::is_empty) {
            return Ok(self.pin_probe());
        }
        if uv_opt == Some(true) {
            return Err(ERR_INVALID_OPTION);
        }
        let up = up.unwrap_or(true);
        let uv = match pin_param {
            Some(param) => {
                let proto = Self::pin_protocol(p, 0x07)?;
                self.pin.check_token(proto, &cdh, param, PERM_GA, &rp_id)?;
                true
            }
            None => false,
        };
        let rp_id_hash = sha256(rp_id.as_bytes());
        let mut creds = Vec::new();
        let discovered = allow.is_empty();
        if discovered {
            for r in self
                .residents
                .iter()
                .rev()
                .filter(|r| r.rp_id_hash == rp_id_hash)
            {
                if r.cred_protect >= 2 && !uv {
                    continue;
                }
                if let Some(u) = self.wrap.unwrap(&r.id, &rp_id_hash) {
                    creds.push(Found {
                        id: r.id.clone(),
                        key: u.key,
                        user: Some(Self::resident_user(r, uv)),
                        hmac_secret: u.flags.hmac_secret,
                    });
                }
            }
        } else {
            for id in &allow {
                let Some(u) = self.wrap.unwrap(id, &rp_id_hash) else {
                    continue;
                };
                if u.flags.cred_protect >= 3 && !uv {
                    continue;
                }
                let user = self
                    .residents
                    .iter()
                    .find(|r| &r.id == id)
                    .map(|r| Self::resident_user(r, uv));
                creds.push(Found {
                    id: id.clone(),
                    key: u.key,
                    user,
                    hmac_secret: u.flags.hmac_secret,
                });
                break;
            }
        }
        if creds.is_empty() {
            return Err(ERR_NO_CREDENTIALS);
        }
        let ext = get(p, 0x04).map(as_map).transpose()?.unwrap_or_default();
        let hmac = get_text_key(ext, "hmac-secret")
            .map(|v| self.hmac_request(v))
            .transpose()?;
        let plan = GaPlan {
            rp_id_hash,
            client_data_hash: cdh,
            creds,
            up,
            uv,
            discovered,
            hmac,
        };
        if up {
            Ok(Step::NeedPresence(Deferred::GetAssertion(Box::new(plan))))
        } else {
            Ok(Step::Reply(self.finish_get_assertion(plan)))
        }
    }

    /// Decodes and checks the hmac-secret input {1: keyAgreement, 2: saltEnc,
    /// 3: saltAuth, 4: pinUvAuthProtocol}.
    fn hmac_request(&self, v: &Value) -> Result<HmacRequest, u8> {
        let m = as_map(v)?;
        let ka = get(m, 1).ok_or(ERR_MISSING_PARAMETER)?;
        let salt_enc = as_bytes(get(m, 2).ok_or(ERR_MISSING_PARAMETER)?)?;
        let salt_auth = as_bytes(get(m, 3).ok_or(ERR_MISSING_PARAMETER)?)?;
        let proto = match get(m, 4) {
            Some(v) => Protocol::from_int(as_int(v)?)?,
            None => Protocol::One,
        };
        let secret = self.pin.shared_secret(proto, ka)?;
        if !proto.verify(&secret, salt_enc, salt_auth) {
            return Err(ERR_PIN_AUTH_INVALID);
        }
        let salts = proto
            .decrypt(&secret, salt_enc)
            .ok_or(ERR_INVALID_PARAMETER)?;
        if salts.len() != 32 && salts.len() != 64 {
            return Err(ERR_INVALID_LENGTH);
        }
        Ok(HmacRequest {
            proto,
            secret,
            salts,
        })
    }

    /// The encrypted hmac-secret output for credential `c`, if asked for and possible.
    fn hmac_output(&self, s: &Signing, c: &Found) -> Option<Vec<u8>> {
        let h = s.hmac.as_ref().filter(|_| c.hmac_secret)?;
        let cred_random = self.wrap.cred_random(&c.id, s.uv);
        let mut out = Zeroizing::new(Vec::with_capacity(64));
        for salt in h.salts.chunks(32) {
            let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&cred_random).ok()?;
            m.update(salt);
            out.extend_from_slice(&m.finalize().into_bytes());
        }
        h.proto.encrypt(&h.secret, &out)
    }

    fn sign_assertion(&mut self, s: &Signing, c: &Found, count: Option<usize>) -> Vec<u8> {
        let ext = self
            .hmac_output(s, c)
            .map(|o| Value::Map(vec![(text("hmac-secret"), bytes(&o))]));
        let flags = if ext.is_some() {
            s.flags | FLAG_ED
        } else {
            s.flags
        };
        let counter = self.next_counter();
        let ad = auth_data(&s.rp_id_hash, flags, counter, None, ext.as_ref());
        let sig = c.key.sign(&[ad.as_slice(), &s.client_data_hash].concat());
        let mut m = vec![
            (
                int(1),
                Value::Map(vec![
                    (text("id"), bytes(&c.id)),
                    (text("type"), text("public-key")),
                ]),
            ),
            (int(2), bytes(&ad)),
            (int(3), bytes(&sig)),
        ];
        if let Some(u) = &c.user {
            m.push((int(4), u.clone()));
        }
        if let Some(n) = count {
            m.push((int(5), int(n as i64)));
        }
        ok(Some(Value::Map(m)))
    }

    fn finish_get_assertion(&mut self, p: GaPlan) -> Vec<u8> {
        // Only a request that collected user presence uses up the token (a
        // silent pre-flight with up=false does not).
        if p.up && p.uv {
            self.pin.consume_token();
        }
        let mut flags = 0;
        if p.up {
            flags |= FLAG_UP;
        }
        if p.uv {
            flags |= FLAG_UV;
        }
        let signing = Signing {
            rp_id_hash: p.rp_id_hash,
            client_data_hash: p.client_data_hash,
            flags,
            uv: p.uv,
            hmac: p.hmac,
        };
        let count = p.creds.len();
        let mut creds: VecDeque<Found> = p.creds.into();
        let Some(first) = creds.pop_front() else {
            return vec![ERR_NO_CREDENTIALS];
        };
        let shown = (p.discovered && count > 1).then_some(count);
        let out = self.sign_assertion(&signing, &first, shown);
        if !creds.is_empty() {
            self.next = Some(NextState {
                signing,
                creds,
                expires: Instant::now() + NEXT_ASSERTION_TTL,
            });
        }
        out
    }

    fn get_next_assertion(&mut self) -> Result<Vec<u8>, u8> {
        let mut st = self.next.take().ok_or(ERR_NOT_ALLOWED)?;
        if Instant::now() > st.expires {
            return Err(ERR_NOT_ALLOWED);
        }
        let c = st.creds.pop_front().ok_or(ERR_NOT_ALLOWED)?;
        let out = self.sign_assertion(&st.signing, &c, None);
        if !st.creds.is_empty() {
            self.next = Some(st);
        }
        Ok(out)
    }
}
