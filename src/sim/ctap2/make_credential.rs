//! authenticatorMakeCredential: request checks (CBOR types of the entities,
//! credential descriptors, options, pinUvAuthParam or built-in UV) and the
//! packed attestation of the new credential.

use ciborium::Value;

use super::super::cbor::{
    self, as_array, as_bool, as_bytes, as_int, as_map, as_text, bytes, get, get_text_key, int, text,
};
use super::super::client_pin::PERM_MC;
use super::super::crypto::{Alg, COSE_ES256, CredFlags, CredKey};
use super::super::status::*;
use super::{Authenticator, Deferred, FLAG_AT, FLAG_ED, FLAG_UP, FLAG_UV, Resident, Step};
use super::{auth_data, ok, sha256};

/// A validated MakeCredential.
pub struct McPlan {
    rp_id: String,
    rp_name: Option<String>,
    rp_id_hash: [u8; 32],
    client_data_hash: Vec<u8>,
    user_id: Vec<u8>,
    user_name: Option<String>,
    display_name: Option<String>,
    alg: Alg,
    rk: bool,
    /// Verified by a pinUvAuthToken.
    token_uv: bool,
    /// Verified by the fingerprint that touches the key.
    builtin_uv: bool,
    cred_protect: Option<u8>,
    hmac_secret: bool,
}

/// How a request verifies the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verification {
    /// Not at all.
    None,
    /// A pinUvAuthParam made with a valid token.
    Token,
    /// The `uv` option: the key's own fingerprint reader.
    BuiltIn,
}

/// The optional text member `k` of an entity map (CBOR_UNEXPECTED_TYPE if not text).
pub(super) fn opt_text(m: &[(Value, Value)], k: &str) -> Result<Option<String>, u8> {
    get_text_key(m, k)
        .map(|v| as_text(v).map(str::to_string))
        .transpose()
}

/// The rk, up and uv options of a request (absent = `None`).
pub(super) type Options = (Option<bool>, Option<bool>, Option<bool>);

/// Reads `options` (key `k`) as (rk, up, uv).
pub(super) fn options(params: &[(Value, Value)], k: i64) -> Result<Options, u8> {
    let Some(v) = get(params, k) else {
        return Ok((None, None, None));
    };
    let m = as_map(v)?;
    let b = |name| get_text_key(m, name).map(as_bool).transpose();
    Ok((b("rk")?, b("up")?, b("uv")?))
}

/// The ids of the `public-key` descriptors in an exclude or allow list.
/// Every descriptor needs a text `type` and a byte-string `id`; descriptors
/// of other types are ignored.
pub(super) fn descriptor_ids(v: &Value) -> Result<Vec<Vec<u8>>, u8> {
    let mut ids = Vec::new();
    for d in as_array(v)? {
        let m = as_map(d)?;
        let ty = as_text(get_text_key(m, "type").ok_or(ERR_MISSING_PARAMETER)?)?;
        let id = as_bytes(get_text_key(m, "id").ok_or(ERR_MISSING_PARAMETER)?)?;
        if ty == "public-key" {
            ids.push(id.to_vec());
        }
    }
    Ok(ids)
}

impl Authenticator {
    /// How the request verifies the user: `param` (pinUvAuthParam, checked
    /// over `cdh` for `perm` and `rp_id`; its protocol at `proto_key`) or the
    /// `uv` option. `needs_uv`: without either, a protected key refuses.
    pub(super) fn verification(
        &mut self,
        p: &[(Value, Value)],
        (param, proto_key): (Option<&[u8]>, i64),
        uv_opt: Option<bool>,
        (cdh, perm, rp_id): (&[u8], u8, &str),
        needs_uv: bool,
    ) -> Result<Verification, u8> {
        if let Some(param) = param {
            let proto = self
                .pin
                .protocol(get(p, proto_key).ok_or(ERR_MISSING_PARAMETER)?)?;
            self.pin.check_token(proto, cdh, param, perm, rp_id)?;
            return Ok(Verification::Token);
        }
        if uv_opt == Some(true) {
            if self.pin.uv().option() != Some(true) {
                return Err(ERR_INVALID_OPTION);
            }
            self.pin.uv_ready()?;
            return Ok(Verification::BuiltIn);
        }
        if self.scenario.always_uv {
            return Err(if self.pin.protected() {
                ERR_PUAT_REQUIRED
            } else {
                ERR_PIN_NOT_SET
            });
        }
        if needs_uv && self.pin.protected() {
            return Err(ERR_PUAT_REQUIRED);
        }
        Ok(Verification::None)
    }

    /// Waits for a touch, then answers PIN_INVALID or PIN_NOT_SET (a client
    /// asking which key the user means with an empty pinUvAuthParam).
    pub(super) fn pin_probe(&self) -> Step {
        Step::NeedPresence(Deferred::Fail(if self.pin.is_set() {
            ERR_PIN_INVALID
        } else {
            ERR_PIN_NOT_SET
        }))
    }

    pub(super) fn make_credential(&mut self, p: &[(Value, Value)]) -> Result<Step, u8> {
        let cdh = as_bytes(get(p, 0x01).ok_or(ERR_MISSING_PARAMETER)?)?.to_vec();
        let rp = as_map(get(p, 0x02).ok_or(ERR_MISSING_PARAMETER)?)?;
        let rp_id = as_text(get_text_key(rp, "id").ok_or(ERR_MISSING_PARAMETER)?)?.to_string();
        let rp_name = opt_text(rp, "name")?;
        opt_text(rp, "icon")?;
        let user = as_map(get(p, 0x03).ok_or(ERR_MISSING_PARAMETER)?)?;
        let user_id = as_bytes(get_text_key(user, "id").ok_or(ERR_MISSING_PARAMETER)?)?.to_vec();
        let user_name = opt_text(user, "name")?;
        let display_name = opt_text(user, "displayName")?;
        opt_text(user, "icon")?;
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
        let exclude = get(p, 0x05)
            .map(descriptor_ids)
            .transpose()?
            .unwrap_or_default();
        let ext = get(p, 0x06).map(as_map).transpose()?.unwrap_or_default();
        let (rk, up, uv_opt) = options(p, 0x07)?;
        let rk = rk.unwrap_or(false);
        let pin_param = get(p, 0x08).map(as_bytes).transpose()?;
        if pin_param.is_some_and(<[u8]>::is_empty) {
            return Ok(self.pin_probe());
        }
        let alg = alg.ok_or(ERR_UNSUPPORTED_ALGORITHM)?;
        if up == Some(false) {
            return Err(ERR_INVALID_OPTION);
        }
        if rk && !self.scenario.resident_keys {
            return Err(ERR_UNSUPPORTED_OPTION);
        }
        let needs_uv = rk || !self.scenario.make_cred_uv_not_rqd;
        let how = self.verification(
            p,
            (pin_param, 0x09),
            uv_opt,
            (&cdh, PERM_MC, &rp_id),
            needs_uv,
        )?;
        let rp_id_hash = sha256(rp_id.as_bytes());
        let excluded = exclude.iter().any(|id| {
            self.residents
                .iter()
                .any(|r| &r.id == id && r.rp_id_hash == rp_id_hash)
                || self
                    .wrap
                    .unwrap(id, &rp_id_hash)
                    .is_some_and(|u| !u.flags.resident)
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
                rp_name,
                rp_id_hash,
                client_data_hash: cdh,
                user_id,
                user_name,
                display_name,
                alg,
                rk,
                token_uv: how == Verification::Token,
                builtin_uv: how == Verification::BuiltIn,
                cred_protect,
                hmac_secret,
            },
        ))))
    }

    pub(super) fn finish_make_credential(&mut self, p: McPlan) -> Vec<u8> {
        if p.builtin_uv
            && let Err(code) = self.pin.builtin_uv()
        {
            return vec![code];
        }
        // CTAP 2.1: permissions are cleared once user presence was collected.
        if p.token_uv {
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
                rp_name: p.rp_name.clone(),
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
        if p.token_uv || p.builtin_uv {
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
}
