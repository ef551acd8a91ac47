//! authenticatorClientPIN on the device side (CTAP 2.1 §6.5.5): the PIN with
//! its retry counters, built-in user verification with its own counter,
//! `forcePINChange`, and the pinUvAuthToken with its permissions and RP id.

use ciborium::Value;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand::RngCore;
use rand_core::OsRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::cbor::{self, as_bytes, as_int, as_text, bytes, get, int};
use super::crypto::constant_time_eq;
use super::pin::{Protocol, new_pin, pin_hash};
use super::scenario::{BuiltInUv, CredMgmt, Scenario};
use super::status::*;

/// PIN retries after a successful PIN entry (and after a reset).
pub const MAX_PIN_RETRIES: u8 = 8;
/// Built-in UV attempts after a successful match (and after a reset).
pub const MAX_UV_RETRIES: u8 = 3;
/// Wrong PINs in a row that block PIN entry until the key is plugged in again.
pub const MAX_CONSECUTIVE: u8 = 3;

/// Permission bit: makeCredential.
pub const PERM_MC: u8 = 0x01;
/// Permission bit: getAssertion.
pub const PERM_GA: u8 = 0x02;
/// Permission bit: credential management.
pub const PERM_CM: u8 = 0x04;

/// ClientPIN subcommands.
pub mod sub {
    /// getPINRetries.
    pub const GET_PIN_RETRIES: i64 = 0x01;
    /// getKeyAgreement.
    pub const GET_KEY_AGREEMENT: i64 = 0x02;
    /// setPIN.
    pub const SET_PIN: i64 = 0x03;
    /// changePIN.
    pub const CHANGE_PIN: i64 = 0x04;
    /// getPinToken (legacy: mc and ga permissions).
    pub const GET_PIN_TOKEN: i64 = 0x05;
    /// getPinUvAuthTokenUsingUvWithPermissions.
    pub const GET_UV_TOKEN: i64 = 0x06;
    /// getUVRetries.
    pub const GET_UV_RETRIES: i64 = 0x07;
    /// getPinUvAuthTokenUsingPinWithPermissions.
    pub const GET_PIN_TOKEN_WITH_PERMISSIONS: i64 = 0x09;
}

/// What a ClientPIN request leads to.
pub enum PinStep {
    /// Answered: the response map, or `None` for an empty success.
    Done(Option<Value>),
    /// A token by built-in UV: needs a finger on the sensor first, then
    /// [`PinState::finish_uv_token`].
    NeedUv(UvGrant),
}

/// A validated getPinUvAuthTokenUsingUvWithPermissions waiting for the finger.
pub struct UvGrant {
    proto: Protocol,
    secret: Zeroizing<Vec<u8>>,
    perms: u8,
    rp: Option<String>,
}

/// PIN and UV state of one device.
pub struct PinState {
    supported: bool,
    protocols: Vec<Protocol>,
    /// Permissions this key implements.
    known_perms: u8,
    /// Permissions of a legacy getPinToken token.
    legacy_perms: u8,
    /// The `pinUvAuthToken` option: subcommands 0x06 and 0x09 exist.
    token_subcommands: bool,
    pin_hash: Option<Zeroizing<[u8; 16]>>,
    retries: u8,
    consecutive: u8,
    force_change: bool,
    uv: BuiltInUv,
    uv_retries: u8,
    key_agreement: p256::SecretKey,
    token: Zeroizing<[u8; 32]>,
    token_issued: bool,
    token_perms: u8,
    token_rp: Option<String>,
}

fn random_token() -> Zeroizing<[u8; 32]> {
    let mut t = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(t.as_mut());
    t
}

fn need(params: &[(Value, Value)], k: i64) -> Result<&Value, u8> {
    get(params, k).ok_or(ERR_MISSING_PARAMETER)
}

impl PinState {
    /// Power-up state of `scenario`'s key.
    pub fn new(scenario: &Scenario) -> Self {
        let protocols = scenario
            .pin_protocols
            .iter()
            .filter_map(|&n| Protocol::from_int(i64::from(n)).ok())
            .collect();
        let cm = if scenario.cred_mgmt == CredMgmt::Absent {
            0
        } else {
            PERM_CM
        };
        Self {
            supported: scenario.client_pin.is_some(),
            protocols,
            known_perms: PERM_MC | PERM_GA | cm,
            // Without pinUvAuthToken there is only the legacy token, which
            // must then do everything.
            legacy_perms: PERM_MC | PERM_GA | if scenario.pin_uv_auth_token { 0 } else { cm },
            token_subcommands: scenario.pin_uv_auth_token,
            pin_hash: match (scenario.client_pin, scenario.pin) {
                (Some(true), Some(p)) => Some(pin_hash(p.as_bytes())),
                _ => None,
            },
            retries: scenario.pin_retries.min(MAX_PIN_RETRIES),
            consecutive: 0,
            force_change: scenario.force_pin_change,
            uv: scenario.uv,
            uv_retries: scenario.uv_retries.min(MAX_UV_RETRIES),
            key_agreement: p256::SecretKey::random(&mut OsRng),
            token: random_token(),
            token_issued: false,
            token_perms: 0,
            token_rp: None,
        }
    }

    /// ClientPIN implemented at all.
    pub fn supported(&self) -> bool {
        self.supported
    }

    /// A PIN is set.
    pub fn is_set(&self) -> bool {
        self.pin_hash.is_some()
    }

    /// GetInfo `forcePINChange`.
    pub fn force_change(&self) -> bool {
        self.force_change
    }

    /// Built-in UV as it is now (a reset removes the enrolled finger).
    pub fn uv(&self) -> BuiltInUv {
        self.uv
    }

    /// The key can verify the user itself or with a PIN.
    pub fn protected(&self) -> bool {
        self.is_set() || self.uv.option() == Some(true)
    }

    /// GetInfo `pinUvAuthToken`.
    pub fn token_subcommands(&self) -> bool {
        self.token_subcommands
    }

    /// GetInfo pinUvAuthProtocols.
    pub fn protocols(&self) -> &[Protocol] {
        &self.protocols
    }

    /// A request's pinUvAuthProtocol, if this key offers it.
    pub fn protocol(&self, v: &Value) -> Result<Protocol, u8> {
        let p = Protocol::from_int(as_int(v)?)?;
        if self.protocols.contains(&p) {
            Ok(p)
        } else {
            Err(ERR_INVALID_PARAMETER)
        }
    }

    /// authenticatorReset: no PIN, full counters, new keys, no enrolled finger.
    pub fn reset(&mut self) {
        self.pin_hash = None;
        self.retries = MAX_PIN_RETRIES;
        self.uv_retries = MAX_UV_RETRIES;
        self.force_change = false;
        if matches!(self.uv, BuiltInUv::Matches | BuiltInUv::Fails) {
            self.uv = BuiltInUv::NotEnrolled;
        }
        self.power_cycle();
    }

    /// The key was unplugged and plugged in again: the run of wrong PINs,
    /// the key agreement key and the token are forgotten.
    pub fn power_cycle(&mut self) {
        self.consecutive = 0;
        self.key_agreement = p256::SecretKey::random(&mut OsRng);
        self.new_token();
    }

    fn new_token(&mut self) {
        self.token = random_token();
        self.token_issued = false;
        self.token_perms = 0;
        self.token_rp = None;
    }

    fn key_agreement_cose(&self) -> Value {
        let p = self.key_agreement.public_key().to_encoded_point(false);
        let x = p.x().map(|x| x.to_vec()).unwrap_or_default();
        let y = p.y().map(|y| y.to_vec()).unwrap_or_default();
        Value::Map(vec![
            (int(1), int(2)),
            (int(3), int(-25)),
            (int(-1), int(1)),
            (int(-2), bytes(&x)),
            (int(-3), bytes(&y)),
        ])
    }

    /// The shared secret with the platform key `platform_key` (a COSE_Key).
    pub fn shared_secret(
        &self,
        proto: Protocol,
        platform_key: &Value,
    ) -> Result<Zeroizing<Vec<u8>>, u8> {
        let m = cbor::as_map(platform_key)?;
        let x = as_bytes(get(m, -2).ok_or(ERR_MISSING_PARAMETER)?)?;
        let y = as_bytes(get(m, -3).ok_or(ERR_MISSING_PARAMETER)?)?;
        if x.len() != 32 || y.len() != 32 {
            return Err(ERR_INVALID_PARAMETER);
        }
        let sec1 = [&[0x04u8][..], x, y].concat();
        let peer = p256::PublicKey::from_sec1_bytes(&sec1).map_err(|_| ERR_INVALID_PARAMETER)?;
        let shared =
            p256::ecdh::diffie_hellman(self.key_agreement.to_nonzero_scalar(), peer.as_affine());
        Ok(proto.kdf(shared.raw_secret_bytes().as_slice()))
    }

    /// PIN_BLOCKED when no retries are left, PIN_AUTH_BLOCKED after three
    /// wrong PINs in a row since power-up.
    fn blocked(&self) -> Result<(), u8> {
        if self.retries == 0 {
            Err(ERR_PIN_BLOCKED)
        } else if self.consecutive >= MAX_CONSECUTIVE {
            Err(ERR_PIN_AUTH_BLOCKED)
        } else {
            Ok(())
        }
    }

    /// Checks the encrypted PIN hash, updating the retry counters.
    fn check_pin_hash(
        &mut self,
        proto: Protocol,
        secret: &[u8],
        pin_hash_enc: &[u8],
    ) -> Result<(), u8> {
        let Some(stored) = self.pin_hash.as_ref() else {
            return Err(ERR_PIN_NOT_SET);
        };
        self.retries = self.retries.saturating_sub(1);
        let ok = proto
            .decrypt(secret, pin_hash_enc)
            .is_some_and(|h| h.len() == 16 && constant_time_eq(&h, stored.as_ref()));
        if ok {
            self.retries = MAX_PIN_RETRIES;
            self.consecutive = 0;
            return Ok(());
        }
        self.key_agreement = p256::SecretKey::random(&mut OsRng);
        self.consecutive = self.consecutive.saturating_add(1);
        self.blocked().and(Err(ERR_PIN_INVALID))
    }

    /// Decrypts `new_pin_enc` and stores the PIN it holds.
    fn store_new_pin(
        &mut self,
        proto: Protocol,
        secret: &[u8],
        new_pin_enc: &[u8],
    ) -> Result<(), u8> {
        let padded = proto
            .decrypt(secret, new_pin_enc)
            .ok_or(ERR_INVALID_PARAMETER)?;
        let pin = new_pin(&padded)?;
        let hash = pin_hash(pin);
        if self.force_change
            && self
                .pin_hash
                .as_ref()
                .is_some_and(|old| constant_time_eq(old.as_ref(), hash.as_ref()))
        {
            return Err(ERR_PIN_POLICY_VIOLATION);
        }
        self.pin_hash = Some(hash);
        self.retries = MAX_PIN_RETRIES;
        self.consecutive = 0;
        self.force_change = false;
        self.new_token();
        Ok(())
    }

    /// Reads and checks a permissions/rpId pair (subcommands 0x06 and 0x09).
    fn permissions(&self, params: &[(Value, Value)]) -> Result<(u8, Option<String>), u8> {
        let p = as_int(need(params, 0x09)?)?;
        let rp = get(params, 0x0A)
            .map(as_text)
            .transpose()?
            .map(str::to_string);
        if p == 0 {
            return Err(ERR_INVALID_PARAMETER);
        }
        let p = u8::try_from(p).map_err(|_| ERR_UNAUTHORIZED_PERMISSION)?;
        if p & !self.known_perms != 0 {
            return Err(ERR_UNAUTHORIZED_PERMISSION);
        }
        Ok((p, rp))
    }

    fn issue_token(
        &mut self,
        proto: Protocol,
        secret: &[u8],
        perms: u8,
        rp: Option<String>,
    ) -> Result<Value, u8> {
        self.new_token();
        self.token_issued = true;
        self.token_perms = perms;
        self.token_rp = rp;
        let enc = proto
            .encrypt(secret, self.token.as_ref())
            .ok_or(ERR_INVALID_PARAMETER)?;
        Ok(Value::Map(vec![(int(2), bytes(&enc))]))
    }

    /// authenticatorClientPIN.
    pub fn command(&mut self, params: &[(Value, Value)]) -> Result<PinStep, u8> {
        if !self.supported {
            return Err(ERR_INVALID_COMMAND);
        }
        let subcommand = as_int(need(params, 0x02)?)?;
        let done = |v: Value| Ok(PinStep::Done(Some(v)));
        match subcommand {
            sub::GET_PIN_RETRIES => done(Value::Map(vec![
                (int(3), int(i64::from(self.retries))),
                (int(4), Value::Bool(self.consecutive >= MAX_CONSECUTIVE)),
            ])),
            sub::GET_KEY_AGREEMENT => {
                self.protocol(need(params, 0x01)?)?;
                done(Value::Map(vec![(int(1), self.key_agreement_cose())]))
            }
            sub::SET_PIN => {
                let (proto, ka) = (need(params, 0x01)?, need(params, 0x03)?);
                let auth = as_bytes(need(params, 0x04)?)?;
                let new_pin_enc = as_bytes(need(params, 0x05)?)?;
                let proto = self.protocol(proto)?;
                if self.is_set() {
                    return Err(ERR_NOT_ALLOWED);
                }
                let secret = self.shared_secret(proto, ka)?;
                if !proto.verify(&secret, new_pin_enc, auth) {
                    return Err(ERR_PIN_AUTH_INVALID);
                }
                self.store_new_pin(proto, &secret, new_pin_enc)?;
                Ok(PinStep::Done(None))
            }
            sub::CHANGE_PIN => {
                let (proto, ka) = (need(params, 0x01)?, need(params, 0x03)?);
                let auth = as_bytes(need(params, 0x04)?)?;
                let new_pin_enc = as_bytes(need(params, 0x05)?)?;
                let pin_hash_enc = as_bytes(need(params, 0x06)?)?;
                let proto = self.protocol(proto)?;
                if !self.is_set() {
                    return Err(ERR_PIN_NOT_SET);
                }
                self.blocked()?;
                let secret = self.shared_secret(proto, ka)?;
                if !proto.verify(&secret, &[new_pin_enc, pin_hash_enc].concat(), auth) {
                    return Err(ERR_PIN_AUTH_INVALID);
                }
                self.check_pin_hash(proto, &secret, pin_hash_enc)?;
                self.store_new_pin(proto, &secret, new_pin_enc)?;
                Ok(PinStep::Done(None))
            }
            sub::GET_PIN_TOKEN | sub::GET_PIN_TOKEN_WITH_PERMISSIONS => {
                let with_perms = subcommand == sub::GET_PIN_TOKEN_WITH_PERMISSIONS;
                if with_perms && !self.token_subcommands {
                    return Err(ERR_INVALID_SUBCOMMAND);
                }
                let (proto, ka) = (need(params, 0x01)?, need(params, 0x03)?);
                let pin_hash_enc = as_bytes(need(params, 0x06)?)?;
                let proto = self.protocol(proto)?;
                let (perms, rp) = if with_perms {
                    self.permissions(params)?
                } else {
                    (self.legacy_perms, None)
                };
                if !self.is_set() {
                    return Err(ERR_PIN_NOT_SET);
                }
                self.blocked()?;
                let secret = self.shared_secret(proto, ka)?;
                self.check_pin_hash(proto, &secret, pin_hash_enc)?;
                if self.force_change {
                    return Err(ERR_PIN_POLICY_VIOLATION);
                }
                self.issue_token(proto, &secret, perms, rp)
                    .map(|v| PinStep::Done(Some(v)))
            }
            sub::GET_UV_TOKEN => {
                if self.uv == BuiltInUv::Absent || !self.token_subcommands {
                    return Err(ERR_INVALID_SUBCOMMAND);
                }
                let (proto, ka) = (need(params, 0x01)?, need(params, 0x03)?);
                let proto = self.protocol(proto)?;
                let (perms, rp) = self.permissions(params)?;
                self.uv_ready()?;
                let secret = self.shared_secret(proto, ka)?;
                Ok(PinStep::NeedUv(UvGrant {
                    proto,
                    secret,
                    perms,
                    rp,
                }))
            }
            sub::GET_UV_RETRIES => {
                if self.uv == BuiltInUv::Absent {
                    return Err(ERR_INVALID_SUBCOMMAND);
                }
                done(Value::Map(vec![(int(5), int(i64::from(self.uv_retries)))]))
            }
            _ => Err(ERR_INVALID_SUBCOMMAND),
        }
    }

    /// Built-in UV can be tried: a finger is enrolled (else NOT_ALLOWED) and
    /// attempts are left (else UV_BLOCKED).
    pub fn uv_ready(&self) -> Result<(), u8> {
        if self.uv.option() != Some(true) {
            return Err(ERR_NOT_ALLOWED);
        }
        if self.uv_retries == 0 {
            return Err(ERR_UV_BLOCKED);
        }
        Ok(())
    }

    /// One built-in UV attempt (the finger that just touched the sensor).
    pub fn builtin_uv(&mut self) -> Result<(), u8> {
        self.uv_ready()?;
        if self.uv == BuiltInUv::Matches {
            self.uv_retries = MAX_UV_RETRIES;
            return Ok(());
        }
        self.uv_retries = self.uv_retries.saturating_sub(1);
        if self.uv_retries == 0 {
            Err(ERR_UV_BLOCKED)
        } else {
            Err(ERR_UV_INVALID)
        }
    }

    /// Finishes getPinUvAuthTokenUsingUvWithPermissions after the finger.
    pub fn finish_uv_token(&mut self, g: UvGrant) -> Result<Value, u8> {
        self.builtin_uv()?;
        self.issue_token(g.proto, &g.secret, g.perms, g.rp)
    }

    /// Checks a pinUvAuthParam over `msg` made with the current token. Any
    /// failure is PIN_AUTH_INVALID, as CTAP 2.1 asks: no token, a MAC that
    /// does not verify, a missing permission (also one used up), or a token
    /// bound to another RP id.
    pub fn check_token(
        &mut self,
        proto: Protocol,
        msg: &[u8],
        param: &[u8],
        perm: u8,
        rp_id: &str,
    ) -> Result<(), u8> {
        self.verify_token(proto, msg, param, perm)?;
        match &self.token_rp {
            Some(rp) if rp != rp_id => return Err(ERR_PIN_AUTH_INVALID),
            Some(_) => {}
            None => self.token_rp = Some(rp_id.to_string()),
        }
        Ok(())
    }

    /// Like [`check_token`](Self::check_token) for credential management
    /// (`cm`): with `rp_id_hash` the token may be bound to that RP id only;
    /// without, it must not be bound at all.
    pub fn check_cm_token(
        &self,
        proto: Protocol,
        msg: &[u8],
        param: &[u8],
        rp_id_hash: Option<&[u8; 32]>,
    ) -> Result<(), u8> {
        self.verify_token(proto, msg, param, PERM_CM)?;
        match (&self.token_rp, rp_id_hash) {
            (None, _) => Ok(()),
            (Some(rp), Some(h)) if Sha256::digest(rp.as_bytes()).as_slice() == h => Ok(()),
            _ => Err(ERR_PIN_AUTH_INVALID),
        }
    }

    fn verify_token(&self, proto: Protocol, msg: &[u8], param: &[u8], perm: u8) -> Result<(), u8> {
        if !self.token_issued
            || !proto.verify(self.token.as_ref(), msg, param)
            || self.token_perms & perm == 0
        {
            return Err(ERR_PIN_AUTH_INVALID);
        }
        Ok(())
    }

    /// Drops the token's permissions once user presence was collected.
    pub fn consume_token(&mut self) {
        self.token_perms = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario;

    #[test]
    fn unsupported_pin_answers_invalid_command() {
        let u2f = scenario::find("u2f-only").unwrap();
        let mut p = PinState::new(u2f);
        let req = vec![(int(1), int(2)), (int(2), int(1))];
        assert!(matches!(p.command(&req), Err(ERR_INVALID_COMMAND)));
        let mut p = PinState::new(scenario::find("modern").unwrap());
        for (proto, subcommand, want) in [
            (3, 2, ERR_INVALID_PARAMETER),
            (2, 0x0F, ERR_INVALID_SUBCOMMAND),
            (2, 7, ERR_INVALID_SUBCOMMAND),
        ] {
            let req = [(int(1), int(proto)), (int(2), int(subcommand))];
            assert!(
                matches!(p.command(&req), Err(e) if e == want),
                "{subcommand}"
            );
        }
        let mut one = PinState::new(scenario::find("pin-protocol-1").unwrap());
        let req = [(int(1), int(2)), (int(2), int(2))];
        assert!(matches!(one.command(&req), Err(ERR_INVALID_PARAMETER)));
    }

    #[test]
    fn built_in_uv_counts_down_then_blocks() {
        let mut p = PinState::new(scenario::find("bio-failing").unwrap());
        assert_eq!(p.builtin_uv(), Err(ERR_UV_INVALID));
        assert_eq!(p.builtin_uv(), Err(ERR_UV_INVALID));
        assert_eq!(p.builtin_uv(), Err(ERR_UV_BLOCKED));
        assert_eq!(p.uv_ready(), Err(ERR_UV_BLOCKED));
        let mut ok = PinState::new(scenario::find("bio").unwrap());
        assert_eq!(ok.builtin_uv(), Ok(()));
        ok.reset();
        assert_eq!(ok.uv(), BuiltInUv::NotEnrolled);
        assert_eq!(ok.uv_ready(), Err(ERR_NOT_ALLOWED));
    }
}
