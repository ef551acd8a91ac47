//! PIN/UV auth protocols 1 and 2 on the device side (key derivation,
//! encryption and authentication, CTAP 2.1 §6.5.6, §6.5.7) and the rules a
//! new PIN must meet. The PIN's counters and the pinUvAuthToken live in
//! [`super::client_pin`].

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand_core::OsRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::crypto::constant_time_eq;
use super::status::*;

type HmacSha256 = Hmac<Sha256>;

/// Minimum PIN length in Unicode code points (GetInfo minPINLength).
pub const MIN_PIN_LENGTH: usize = 4;
/// Longest PIN in UTF-8 bytes.
pub const MAX_PIN_BYTES: usize = 63;
/// Length of the decrypted, zero-padded new PIN.
pub const PADDED_PIN_LEN: usize = 64;

/// LEFT(SHA-256(pin), 16): what the key stores and compares.
pub fn pin_hash(pin: &[u8]) -> Zeroizing<[u8; 16]> {
    let d = Sha256::digest(pin);
    let mut h = Zeroizing::new([0u8; 16]);
    h.copy_from_slice(&d[..16]);
    h
}

/// The new PIN inside a decrypted, zero-padded block, checked against the
/// length rules: at least [`MIN_PIN_LENGTH`] code points (and 4 bytes), at
/// most [`MAX_PIN_BYTES`] bytes.
pub fn new_pin(padded: &[u8]) -> Result<&[u8], u8> {
    if padded.len() != PADDED_PIN_LEN {
        return Err(ERR_INVALID_PARAMETER);
    }
    let end = padded.iter().position(|&b| b == 0).unwrap_or(padded.len());
    let pin = padded.get(..end).unwrap_or_default();
    let chars = std::str::from_utf8(pin)
        .map(|s| s.chars().count())
        .map_err(|_| ERR_PIN_POLICY_VIOLATION)?;
    if chars < MIN_PIN_LENGTH || pin.len() < 4 || pin.len() > MAX_PIN_BYTES {
        return Err(ERR_PIN_POLICY_VIOLATION);
    }
    Ok(pin)
}

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

    /// The protocol's number in requests and GetInfo.
    pub fn number(self) -> i64 {
        match self {
            Protocol::One => 1,
            Protocol::Two => 2,
        }
    }

    /// The shared secret from the ECDH output `z`.
    pub(super) fn kdf(self, z: &[u8]) -> Zeroizing<Vec<u8>> {
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
    fn new_pin_length_rules() {
        let pad = |pin: &[u8]| {
            let mut p = pin.to_vec();
            p.resize(PADDED_PIN_LEN, 0);
            p
        };
        assert_eq!(new_pin(&pad(b"1234")), Ok(&b"1234"[..]));
        assert_eq!(new_pin(&pad(b"123")), Err(ERR_PIN_POLICY_VIOLATION));
        // Four code points, twelve bytes.
        assert!(new_pin(&pad("あいうえ".as_bytes())).is_ok());
        // Two code points but six bytes: too few characters.
        assert_eq!(
            new_pin(&pad("あい".as_bytes())),
            Err(ERR_PIN_POLICY_VIOLATION)
        );
        assert!(new_pin(&pad(&[b'7'; 63])).is_ok());
        assert_eq!(new_pin(&[b'7'; 64]), Err(ERR_PIN_POLICY_VIOLATION));
        assert_eq!(new_pin(&pad(b"12345")[..48]), Err(ERR_INVALID_PARAMETER));
        assert_eq!(
            new_pin(&pad(&[0xff, 0xfe, 0xfd, 0xfc])),
            Err(ERR_PIN_POLICY_VIOLATION)
        );
    }
}
