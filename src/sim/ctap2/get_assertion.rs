//! authenticatorGetAssertion and GetNextAssertion: finding the credentials
//! (allow list or discoverable), credProtect, hmac-secret, and signing.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use ciborium::Value;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::super::cbor::{as_bytes, as_map, as_text, bytes, get, get_text_key, int, text};
use super::super::client_pin::PERM_GA;
use super::super::crypto::CredKey;
use super::super::pin::Protocol;
use super::super::status::*;
use super::make_credential::{Verification, descriptor_ids, options};
use super::{Authenticator, Deferred, FLAG_ED, FLAG_UP, FLAG_UV, Resident, Step};
use super::{auth_data, ok, sha256};

/// How long GetNextAssertion state lives.
const NEXT_ASSERTION_TTL: Duration = Duration::from_secs(30);

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
    how: Verification,
    discovered: bool,
    hmac: Option<HmacRequest>,
}

/// The credentials GetNextAssertion still has to sign.
pub(super) struct NextState {
    signing: Signing,
    creds: VecDeque<Found>,
    expires: Instant,
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

impl Authenticator {
    pub(super) fn get_assertion(&mut self, p: &[(Value, Value)], now: Instant) -> Result<Step, u8> {
        let rp_id = as_text(get(p, 0x01).ok_or(ERR_MISSING_PARAMETER)?)?.to_string();
        let cdh = as_bytes(get(p, 0x02).ok_or(ERR_MISSING_PARAMETER)?)?.to_vec();
        let allow = get(p, 0x03)
            .map(descriptor_ids)
            .transpose()?
            .unwrap_or_default();
        let ext = get(p, 0x04).map(as_map).transpose()?.unwrap_or_default();
        let (rk, up, uv_opt) = options(p, 0x05)?;
        let pin_param = get(p, 0x06).map(as_bytes).transpose()?;
        if pin_param.is_some_and(<[u8]>::is_empty) {
            return Ok(self.pin_probe());
        }
        if rk.is_some() {
            return Err(ERR_UNSUPPORTED_OPTION);
        }
        let up = up.unwrap_or(true);
        let how =
            self.verification(p, (pin_param, 0x07), uv_opt, (&cdh, PERM_GA, &rp_id), false)?;
        let uv = how != Verification::None;
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
                        user: Some(resident_user(r, uv)),
                        hmac_secret: u.flags.hmac_secret,
                    });
                }
            }
        } else {
            for id in &allow {
                let Some(u) = self.wrap.unwrap(id, &rp_id_hash) else {
                    continue;
                };
                let resident = self.residents.iter().find(|r| &r.id == id);
                // A deleted discoverable credential is gone, even by its id.
                if (u.flags.resident && resident.is_none()) || (u.flags.cred_protect >= 3 && !uv) {
                    continue;
                }
                creds.push(Found {
                    id: id.clone(),
                    key: u.key,
                    user: resident.map(|r| resident_user(r, uv)),
                    hmac_secret: u.flags.hmac_secret,
                });
                break;
            }
        }
        if creds.is_empty() {
            return Err(ERR_NO_CREDENTIALS);
        }
        let hmac = get_text_key(ext, "hmac-secret")
            .map(|v| self.hmac_request(v))
            .transpose()?;
        let plan = GaPlan {
            rp_id_hash,
            client_data_hash: cdh,
            creds,
            up,
            how,
            discovered,
            hmac,
        };
        if up || how == Verification::BuiltIn {
            Ok(Step::NeedPresence(Deferred::GetAssertion(Box::new(plan))))
        } else {
            Ok(Step::Reply(self.finish_get_assertion(plan, now)))
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
            Some(v) => self.pin.protocol(v)?,
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

    pub(super) fn finish_get_assertion(&mut self, p: GaPlan, now: Instant) -> Vec<u8> {
        if p.how == Verification::BuiltIn
            && let Err(code) = self.pin.builtin_uv()
        {
            return vec![code];
        }
        // Only a request that collected user presence uses up the token (a
        // silent pre-flight with up=false does not).
        if p.up && p.how == Verification::Token {
            self.pin.consume_token();
        }
        let uv = p.how != Verification::None;
        let mut flags = 0;
        if p.up {
            flags |= FLAG_UP;
        }
        if uv {
            flags |= FLAG_UV;
        }
        let signing = Signing {
            rp_id_hash: p.rp_id_hash,
            client_data_hash: p.client_data_hash,
            flags,
            uv,
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
                expires: now + NEXT_ASSERTION_TTL,
            });
        }
        out
    }

    pub(super) fn get_next_assertion(&mut self, now: Instant) -> Result<Vec<u8>, u8> {
        let mut st = self.next.take().ok_or(ERR_NOT_ALLOWED)?;
        if now > st.expires {
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
