//! ClientPIN on the device side: PIN/UV auth protocols 1 and 2 (key agreement,
//! encryption, authentication), the PIN itself with its retry counters, and
//! the pinUvAuthToken with its permissions.

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use ciborium::Value;
use hmac::{Hmac, Mac};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand::RngCore;
use rand_core::OsRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::cbor::{self, as_bytes, as_int, as_text, bytes, get, int};
use super::crypto::constant_time_eq;
use super::status::*;

type HmacSha256 = Hmac<Sha256>;

/// PIN retries after a successful PIN entry.
pub const MAX_PIN_RETRIES: u8 = 8;
/// Wrong PINs in a row that block PIN entry until power-cycle.
pub const MAX_CONSECUTIVE: u8 = 3;
/// Minimum PIN length in code points.
pub const MIN_PIN_LENGTH: usize = 4;

/// Permission bit: makeCredential.
pub const PERM_MC: u8 = 0x01;
/// Permission bit: getAssertion.
pub const PERM_GA: u8 = 0x02;

/// A PIN/UV auth protocol (1 or 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Protocol one (CBC with zero IV, 16-byte HMAC).
    One,
    /// Protocol two (HKDF keys, random IV, full HMAC).
    Two,
}

impl Protocol {
    /// From the request's pinUvAuthProtocol number.
    pub fn from_int(v: i64) -> Result<Self, u8> {
        match v {
            1 => Ok(Protocol::One),
            2 => Ok(Protocol::Two),
            _ => Err(ERR_INVALID_PARAMETER),
        }
    }

    fn kdf(self, z: &[u8]) -> Zeroizing<Vec<u8>> {
        match self {
            Protocol::One => Zeroizing::new(Sha256::digest(z).to_vec()),
            Protocol::Two => {
                let hk = hkdf::Hkdf::<Sha256>::new(Some(&[0u8; 32]), z);
                let mut out = Zeroizing::new(vec![0u8; 64]);
                let (hmac_key, aes_key) = out.split_at_mut(32);
                // 32-byte outputs are always within HKDF's limit.
                let _ = hk.expand(b"CTAP2 HMAC key", hmac_key);
                let _ = hk.expand(b"CTAP2 AES key", aes_key);
                out
            }
        }
    }

    fn aes_key(self, secret: &[u8]) -> Option<[u8; 32]> {
        match self {
            Protocol::One => secret.get(..32)?.try_into().ok(),
            Protocol::Two => secret.get(32..64)?.try_into().ok(),
        }
    }

    /// Encrypts `plain` (a multiple of 16 bytes) under a shared secret.
    pub fn encrypt(self, secret: &[u8], plain: &[u8]) -> Option<Vec<u8>> {
        if !plain.len().is_multiple_of(16) {
            return None;
        }
        let key = Zeroizing::new(self.aes_key(secret)?);
        let mut iv = [0u8; 16];
        if self == Protocol::Two {
            OsRng.fill_bytes(&mut iv);
        }
        let ct = cbc::Encryptor::<aes::Aes256>::new(key.as_ref().into(), &iv.into())
            .encrypt_padded_vec_mut::<NoPadding>(plain);
        Some(match self {
            Protocol::One => ct,
            Protocol::Two => [iv.as_slice(), &ct].concat(),
        })
    }

    /// Decrypts what the platform encrypted under a shared secret.
    pub fn decrypt(self, secret: &[u8], data: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let key = Zeroizing::new(self.aes_key(secret)?);
        let (iv, ct): ([u8; 16], &[u8]) = match self {
            Protocol::One => ([0u8; 16], data),
            Protocol::Two => (data.get(..16)?.try_into().ok()?, data.get(16..)?),
        };
        if ct.is_empty() || !ct.len().is_multiple_of(16) {
            return None;
        }
        cbc::Decryptor::<aes::Aes256>::new(key.as_ref().into(), &iv.into())
            .decrypt_padded_vec_mut::<NoPadding>(ct)
            .ok()
            .map(Zeroizing::new)
    }

    /// authenticate(key, message).
    pub fn authenticate(self, key: &[u8], msg: &[u8]) -> Vec<u8> {
        let key = key.get(..32).unwrap_or(key);
        let Ok(mut m) = <HmacSha256 as Mac>::new_from_slice(key) else {
            return Vec::new();
        };
        m.update(msg);
        let full = m.finalize().into_bytes();
        match self {
            Protocol::One => full[..16].to_vec(),
            Protocol::Two => full.to_vec(),
        }
    }

    /// verify(key, message, signature).
    pub fn verify(self, key: &[u8], msg: &[u8], sig: &[u8]) -> bool {
        let expect = self.authenticate(key, msg);
        !expect.is_empty() && constant_time_eq(&expect, sig)
    }
}

/// PIN state of one device.
pub struct PinState {
    supported: bool,
    pin_hash: Option<Zeroizing<[u8; 16]>>,
    retries: u8,
    consecutive: u8,
    key_agreement: p256::SecretKey,
    token: Zeroizing<[u8; 32]>,
    token_issued: bool,
    token_perms: u8,
    token_rp: Option<String>,
}

fn pin_hash(pin: &[u8]) -> Zeroizing<[u8; 16]> {
    let d = Sha256::digest(pin);
    let mut h = Zeroizing::new([0u8; 16]);
    h.copy_from_slice(&d[..16]);
    h
}

fn random_token() -> Zeroizing<[u8; 32]> {
    let mut t = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(t.as_mut());
    t
}

impl PinState {
    /// Power-up state: `supported` = ClientPIN implemented; `pin` when set.
    pub fn new(supported: bool, pin: Option<&str>, retries: u8) -> Self {
        Self {
            supported,
            pin_hash: pin.map(|p| pin_hash(p.as_bytes())),
            retries: retries.min(MAX_PIN_RETRIES),
            consecutive: 0,
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

    /// Factory reset: no PIN, full retries, new keys.
    pub fn reset(&mut self) {
        *self = Self::new(self.supported, None, MAX_PIN_RETRIES);
    }

    fn regenerate(&mut self) {
        self.key_agreement = p256::SecretKey::random(&mut OsRng);
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
        self.regenerate();
        self.consecutive = self.consecutive.saturating_add(1);
        if self.retries == 0 {
            Err(ERR_PIN_BLOCKED)
        } else if self.consecutive >= MAX_CONSECUTIVE {
            Err(ERR_PIN_AUTH_BLOCKED)
        } else {
            Err(ERR_PIN_INVALID)
        }
    }

    fn blocked(&self) -> Result<(), u8> {
        if self.retries == 0 {
            Err(ERR_PIN_BLOCKED)
        } else if self.consecutive >= MAX_CONSECUTIVE {
            Err(ERR_PIN_AUTH_BLOCKED)
        } else {
            Ok(())
        }
    }

    fn set_new_pin(
        &mut self,
        proto: Protocol,
        secret: &[u8],
        new_pin_enc: &[u8],
    ) -> Result<(), u8> {
        let padded = proto
            .decrypt(secret, new_pin_enc)
            .ok_or(ERR_INVALID_PARAMETER)?;
        if padded.len() != 64 {
            return Err(ERR_INVALID_PARAMETER);
        }
        let end = padded.iter().position(|&b| b == 0).unwrap_or(padded.len());
        let pin = padded.get(..end).unwrap_or_default();
        let chars = std::str::from_utf8(pin)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        if chars < MIN_PIN_LENGTH || pin.len() > 63 {
            return Err(ERR_PIN_POLICY_VIOLATION);
        }
        self.pin_hash = Some(pin_hash(pin));
        self.retries = MAX_PIN_RETRIES;
        self.consecutive = 0;
        self.new_token();
        Ok(())
    }

    /// authenticatorClientPIN: the response map, or `None` for an empty success.
    pub fn command(&mut self, params: &[(Value, Value)]) -> Result<Option<Value>, u8> {
        if !self.supported {
            return Err(ERR_INVALID_COMMAND);
        }
        let sub = as_int(get(params, 0x02).ok_or(ERR_MISSING_PARAMETER)?)?;
        let proto = || -> Result<Protocol, u8> {
            Protocol::from_int(as_int(get(params, 0x01).ok_or(ERR_MISSING_PARAMETER)?)?)
        };
        let need = |k: i64| get(params, k).ok_or(ERR_MISSING_PARAMETER);
        match sub {
            0x01 => Ok(Some(Value::Map(vec![(
                int(3),
                int(i64::from(self.retries)),
            )]))),
            0x02 => {
                proto()?;
                Ok(Some(Value::Map(vec![(int(1), self.key_agreement_cose())])))
            }
            0x03 => {
                let proto = proto()?;
                let ka = need(0x03)?;
                let auth = as_bytes(need(0x04)?)?;
                let new_pin_enc = as_bytes(need(0x05)?)?;
                if self.is_set() {
                    return Err(ERR_NOT_ALLOWED);
                }
                let secret = self.shared_secret(proto, ka)?;
                if !proto.verify(&secret, new_pin_enc, auth) {
                    return Err(ERR_PIN_AUTH_INVALID);
                }
                self.set_new_pin(proto, &secret, new_pin_enc)?;
                Ok(None)
            }
            0x04 => {
                let proto = proto()?;
                let ka = need(0x03)?;
                let auth = as_bytes(need(0x04)?)?;
                let new_pin_enc = as_bytes(need(0x05)?)?;
                let pin_hash_enc = as_bytes(need(0x06)?)?;
                if !self.is_set() {
                    return Err(ERR_PIN_NOT_SET);
                }
                self.blocked()?;
                let secret = self.shared_secret(proto, ka)?;
                let msg = [new_pin_enc, pin_hash_enc].concat();
                if !proto.verify(&secret, &msg, auth) {
                    return Err(ERR_PIN_AUTH_INVALID);
                }
                self.check_pin_hash(proto, &secret, pin_hash_enc)?;
                self.set_new_pin(proto, &secret, new_pin_enc)?;
                Ok(None)
            }
            0x05 | 0x09 => {
                let proto = proto()?;
                let ka = need(0x03)?;
                let pin_hash_enc = as_bytes(need(0x06)?)?;
                let (perms, rp) = if sub == 0x09 {
                    let p = as_int(need(0x09)?)?;
                    let rp = get(params, 0x0A)
                        .map(as_text)
                        .transpose()?
                        .map(str::to_string);
                    if p == 0 {
                        return Err(ERR_INVALID_PARAMETER);
                    }
                    // Only mc and ga are implemented here.
                    if p & !i64::from(PERM_MC | PERM_GA) != 0 {
                        return Err(ERR_UNAUTHORIZED_PERMISSION);
                    }
                    (u8::try_from(p).map_err(|_| ERR_INVALID_PARAMETER)?, rp)
                } else {
                    (PERM_MC | PERM_GA, None)
                };
                if !self.is_set() {
                    return Err(ERR_PIN_NOT_SET);
                }
                self.blocked()?;
                let secret = self.shared_secret(proto, ka)?;
                self.check_pin_hash(proto, &secret, pin_hash_enc)?;
                self.new_token();
                self.token_issued = true;
                self.token_perms = perms;
                self.token_rp = rp;
                let enc = proto
                    .encrypt(&secret, self.token.as_ref())
                    .ok_or(ERR_INVALID_PARAMETER)?;
                Ok(Some(Value::Map(vec![(int(2), bytes(&enc))])))
            }
            _ => Err(ERR_INVALID_PARAMETER),
        }
    }

    /// Checks a MakeCredential/GetAssertion pinUvAuthParam over `client_data_hash`
    /// for permission `perm` and `rp_id`.
    pub fn check_token(
        &mut self,
        proto: Protocol,
        client_data_hash: &[u8],
        param: &[u8],
        perm: u8,
        rp_id: &str,
    ) -> Result<(), u8> {
        if !self.is_set() {
            return Err(ERR_PIN_NOT_SET);
        }
        if !self.token_issued || !proto.verify(self.token.as_ref(), client_data_hash, param) {
            return Err(ERR_PIN_AUTH_INVALID);
        }
        if self.token_perms & perm == 0 {
            return Err(ERR_UNAUTHORIZED_PERMISSION);
        }
        match &self.token_rp {
            Some(rp) if rp != rp_id => return Err(ERR_UNAUTHORIZED_PERMISSION),
            Some(_) => {}
            None => self.token_rp = Some(rp_id.to_string()),
        }
        Ok(())
    }

    /// Drops the token's permissions after use (CTAP 2.1 behaviour).
    pub fn consume_token(&mut self) {
        self.token_perms = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_round_trip_and_authenticate() {
        let secret_one = Protocol::One.kdf(&[7u8; 32]);
        let secret_two = Protocol::Two.kdf(&[7u8; 32]);
        assert_eq!(secret_one.len(), 32);
        assert_eq!(secret_two.len(), 64);
        assert_ne!(&secret_two[..32], &secret_two[32..]);
        let plain = [0x42u8; 32];
        for (proto, secret, extra, mac_len) in [
            (Protocol::One, &secret_one, 0, 16),
            (Protocol::Two, &secret_two, 16, 32),
        ] {
            let ct = proto.encrypt(secret, &plain).unwrap();
            assert_eq!(ct.len(), plain.len() + extra);
            assert_eq!(proto.decrypt(secret, &ct).unwrap().as_slice(), &plain);
            assert!(proto.encrypt(secret, &plain[..5]).is_none());
            let tag = proto.authenticate(secret, b"msg");
            assert_eq!(tag.len(), mac_len);
            assert!(proto.verify(secret, b"msg", &tag));
            assert!(!proto.verify(secret, b"msh", &tag));
            assert!(!proto.verify(secret, b"msg", &tag[..8]));
        }
        // Protocol two uses a fresh IV each time.
        let a = Protocol::Two.encrypt(&secret_two, &plain).unwrap();
        let b = Protocol::Two.encrypt(&secret_two, &plain).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn unsupported_pin_answers_invalid_command() {
        let mut p = PinState::new(false, None, 8);
        let req = vec![(int(1), int(2)), (int(2), int(1))];
        assert_eq!(p.command(&req), Err(ERR_INVALID_COMMAND));
        let mut p = PinState::new(true, Some("1234"), 8);
        assert_eq!(
            p.command(&[(int(1), int(3)), (int(2), int(2))]),
            Err(ERR_INVALID_PARAMETER)
        );
    }
}
