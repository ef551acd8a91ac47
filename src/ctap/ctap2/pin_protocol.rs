//! PIN/UV auth protocols one and two (CTAP 2.1 §6.5): ECDH key agreement on
//! P-256 with the authenticator's COSE key, the per-protocol KDF, encryption
//! and message authentication, and the PIN itself (held zeroized, never shown).

use std::fmt;

use aes::Aes256;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use ciborium::Value;
use hmac::{Hmac, Mac};
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::{EncodedPoint, PublicKey, SecretKey};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::cbor::{as_i64, int};

type HmacSha256 = Hmac<Sha256>;

/// Shortest PIN the specification allows, in Unicode code points.
pub const MIN_PIN_CODE_POINTS: usize = 4;
/// Longest PIN the specification allows, in UTF-8 bytes.
pub const MAX_PIN_BYTES: usize = 63;

/// What can go wrong in the PIN/UV auth protocol on the platform side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// The PIN has fewer than 4 code points (or fewer than the key's minPINLength).
    #[error("PIN is too short: at least {min} characters are needed")]
    TooShort {
        /// The minimum in code points.
        min: usize,
    },
    /// The PIN is longer than 63 bytes in UTF-8.
    #[error("PIN is too long: at most 63 bytes")]
    TooLong,
    /// The authenticator's key agreement key is not a valid P-256 COSE key.
    #[error("invalid key agreement key from the authenticator: {0}")]
    BadPeerKey(&'static str),
    /// Ciphertext of the wrong length (not a whole number of AES blocks).
    #[error("ciphertext length {0} is not valid for this PIN protocol")]
    BadCiphertext(usize),
    /// The authenticator offers no PIN protocol this program speaks.
    #[error("no supported PIN/UV auth protocol")]
    Unsupported,
}

/// A PIN, zeroized on drop. `Debug` never shows it.
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// Checks the PIN against the specification limits (4 code points at least,
    /// `min_len` if the key asks for more, 63 bytes at most).
    pub fn new(pin: Zeroizing<String>, min_len: Option<u64>) -> Result<Self, PinError> {
        let min = min_len
            .and_then(|m| usize::try_from(m).ok())
            .unwrap_or(0)
            .max(MIN_PIN_CODE_POINTS);
        if pin.chars().count() < min {
            return Err(PinError::TooShort { min });
        }
        if pin.len() > MAX_PIN_BYTES {
            return Err(PinError::TooLong);
        }
        Ok(Self(pin))
    }

    /// LEFT(SHA-256(pin), 16), as sent (encrypted) in pinHashEnc.
    pub fn hash16(&self) -> Zeroizing<[u8; 16]> {
        let digest = Sha256::digest(self.0.as_bytes());
        let mut out = Zeroizing::new([0u8; 16]);
        out.copy_from_slice(&digest[..16]);
        out
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// PIN/UV auth protocol number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum PinProtocolVersion {
    /// Protocol one (CTAP 2.0): SHA-256 KDF, zero-IV AES-CBC, 16-byte MACs.
    V1,
    /// Protocol two (CTAP 2.1): HKDF, random IV, 32-byte MACs.
    V2,
}

impl PinProtocolVersion {
    /// The protocol number sent in `pinUvAuthProtocol`.
    pub fn number(self) -> u64 {
        match self {
            Self::V1 => 1,
            Self::V2 => 2,
        }
    }

    /// Picks the first protocol in the authenticator's list that we speak;
    /// an empty list means protocol one (CTAP 2.0 keys omit the field).
    pub fn choose(offered: &[u64]) -> Result<Self, PinError> {
        if offered.is_empty() {
            return Ok(Self::V1);
        }
        offered
            .iter()
            .find_map(|p| match p {
                2 => Some(Self::V2),
                1 => Some(Self::V1),
                _ => None,
            })
            .ok_or(PinError::Unsupported)
    }

    /// `authenticate(key, message)`: HMAC-SHA-256, truncated to 16 bytes for protocol one.
    pub fn authenticate(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        let tag = hmac_sha256(key, message);
        match self {
            Self::V1 => tag[..16].to_vec(),
            Self::V2 => tag.to_vec(),
        }
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; new_from_slice cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0u8; 32],
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Extracts the P-256 public key from a COSE_Key map (kty 2, crv 1, x, y).
pub fn peer_key_from_cose(v: &Value) -> Result<PublicKey, PinError> {
    let Value::Map(entries) = v else {
        return Err(PinError::BadPeerKey("not a map"));
    };
    let get = |k: i64| {
        entries
            .iter()
            .find(|(key, _)| as_i64(key) == Some(k))
            .map(|(_, v)| v)
    };
    if get(1).and_then(as_i64) != Some(2) {
        return Err(PinError::BadPeerKey("kty is not EC2"));
    }
    if get(-1).and_then(as_i64) != Some(1) {
        return Err(PinError::BadPeerKey("curve is not P-256"));
    }
    let (Some(Value::Bytes(x)), Some(Value::Bytes(y))) = (get(-2), get(-3)) else {
        return Err(PinError::BadPeerKey("x or y missing"));
    };
    if x.len() != 32 || y.len() != 32 {
        return Err(PinError::BadPeerKey("x or y is not 32 bytes"));
    }
    let point =
        EncodedPoint::from_affine_coordinates(x.as_slice().into(), y.as_slice().into(), false);
    Option::from(PublicKey::from_encoded_point(&point))
        .ok_or(PinError::BadPeerKey("point not on the curve"))
}

/// Encodes a P-256 public key as the COSE_Key the platform sends (alg -25, ECDH-ES+HKDF-256).
pub fn cose_key_agreement(public: &PublicKey) -> Value {
    let point = public.to_encoded_point(false);
    let x = point.x().map(|x| x.to_vec()).unwrap_or_default();
    let y = point.y().map(|y| y.to_vec()).unwrap_or_default();
    Value::Map(vec![
        (int(1), int(2)),
        (int(3), int(-25)),
        (int(-1), int(1)),
        (int(-2), Value::Bytes(x)),
        (int(-3), Value::Bytes(y)),
    ])
}

/// A decrypted pinUvAuthToken and the protocol it belongs to, zeroized on
/// drop. `Debug` hides the token.
pub struct PinUvAuthToken {
    /// The PIN/UV auth protocol the token was obtained with.
    pub version: PinProtocolVersion,
    token: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for PinUvAuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinUvAuthToken")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl PinUvAuthToken {
    /// Wraps a decrypted token.
    pub fn new(version: PinProtocolVersion, token: Zeroizing<Vec<u8>>) -> Self {
        Self { version, token }
    }

    /// pinUvAuthParam over `message`: authenticate(token, message).
    pub fn authenticate(&self, message: &[u8]) -> Vec<u8> {
        self.version.authenticate(&self.token, message)
    }
}

/// The result of key agreement: keys shared with the authenticator, and the
/// platform's public key to send it.
pub struct PinProtocol {
    version: PinProtocolVersion,
    hmac_key: Zeroizing<[u8; 32]>,
    aes_key: Zeroizing<[u8; 32]>,
    platform_key: Value,
}

impl fmt::Debug for PinProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinProtocol")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl PinProtocol {
    /// Runs `encapsulate(peerCoseKey)` with a fresh random platform key.
    pub fn encapsulate(version: PinProtocolVersion, peer: &Value) -> Result<Self, PinError> {
        Self::encapsulate_with(version, peer, &SecretKey::random(&mut OsRng))
    }

    /// Like [`encapsulate`](Self::encapsulate) with a given platform secret (for tests).
    pub fn encapsulate_with(
        version: PinProtocolVersion,
        peer: &Value,
        platform_secret: &SecretKey,
    ) -> Result<Self, PinError> {
        let peer = peer_key_from_cose(peer)?;
        let shared =
            p256::ecdh::diffie_hellman(platform_secret.to_nonzero_scalar(), peer.as_affine());
        let z = shared.raw_secret_bytes();
        let (hmac_key, aes_key) = kdf(version, z.as_slice());
        Ok(Self {
            version,
            hmac_key,
            aes_key,
            platform_key: cose_key_agreement(&platform_secret.public_key()),
        })
    }

    /// The protocol in use.
    pub fn version(&self) -> PinProtocolVersion {
        self.version
    }

    /// The platform's key agreement COSE key (sent as keyAgreement, 0x03).
    pub fn platform_key(&self) -> &Value {
        &self.platform_key
    }

    /// `encrypt(sharedSecret, plaintext)`; plaintext must be whole AES blocks.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, PinError> {
        let mut iv = [0u8; 16];
        if self.version == PinProtocolVersion::V2 {
            OsRng.fill_bytes(&mut iv);
        }
        self.encrypt_with_iv(plaintext, iv)
    }

    /// Encryption with a chosen IV (protocol two; protocol one always uses zero).
    pub fn encrypt_with_iv(&self, plaintext: &[u8], iv: [u8; 16]) -> Result<Vec<u8>, PinError> {
        if plaintext.is_empty() || !plaintext.len().is_multiple_of(16) {
            return Err(PinError::BadCiphertext(plaintext.len()));
        }
        let iv = match self.version {
            PinProtocolVersion::V1 => [0u8; 16],
            PinProtocolVersion::V2 => iv,
        };
        let enc = cbc::Encryptor::<Aes256>::new(self.aes_key.as_ref().into(), (&iv).into());
        let ct = enc.encrypt_padded_vec_mut::<NoPadding>(plaintext);
        Ok(match self.version {
            PinProtocolVersion::V1 => ct,
            PinProtocolVersion::V2 => {
                let mut out = iv.to_vec();
                out.extend_from_slice(&ct);
                out
            }
        })
    }

    /// `decrypt(sharedSecret, ciphertext)`.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, PinError> {
        let (iv, body) = match self.version {
            PinProtocolVersion::V1 => ([0u8; 16], ciphertext),
            PinProtocolVersion::V2 => {
                let Some((iv, body)) = ciphertext.split_first_chunk::<16>() else {
                    return Err(PinError::BadCiphertext(ciphertext.len()));
                };
                (*iv, body)
            }
        };
        if body.is_empty() || !body.len().is_multiple_of(16) {
            return Err(PinError::BadCiphertext(ciphertext.len()));
        }
        let dec = cbc::Decryptor::<Aes256>::new(self.aes_key.as_ref().into(), (&iv).into());
        dec.decrypt_padded_vec_mut::<NoPadding>(body)
            .map(Zeroizing::new)
            .map_err(|_| PinError::BadCiphertext(ciphertext.len()))
    }

    /// `authenticate(sharedSecret, message)` with the HMAC key.
    pub fn authenticate(&self, message: &[u8]) -> Vec<u8> {
        self.version.authenticate(self.hmac_key.as_ref(), message)
    }

    /// pinHashEnc = encrypt(LEFT(SHA-256(pin), 16)).
    pub fn pin_hash_enc(&self, pin: &Pin) -> Result<Vec<u8>, PinError> {
        self.encrypt(pin.hash16().as_ref())
    }
}

/// The protocol's KDF: returns (HMAC key, AES key).
/// One: both SHA-256(Z). Two: HKDF-SHA-256 with a 32-byte zero salt and the
/// info strings "CTAP2 HMAC key" / "CTAP2 AES key".
pub fn kdf(version: PinProtocolVersion, z: &[u8]) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>) {
    match version {
        PinProtocolVersion::V1 => {
            let k: [u8; 32] = Sha256::digest(z).into();
            (Zeroizing::new(k), Zeroizing::new(k))
        }
        PinProtocolVersion::V2 => {
            let hk = hkdf::Hkdf::<Sha256>::new(Some(&[0u8; 32]), z);
            let mut h = Zeroizing::new([0u8; 32]);
            let mut a = Zeroizing::new([0u8; 32]);
            // 32 bytes is far below HKDF's 255*32 limit: expand cannot fail.
            let _ = hk.expand(b"CTAP2 HMAC key", h.as_mut());
            let _ = hk.expand(b"CTAP2 AES key", a.as_mut());
            (h, a)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(byte: u8) -> SecretKey {
        SecretKey::from_slice(&[byte; 32]).unwrap()
    }

    /// The authenticator side, built independently from the primitives.
    fn authenticator_side(auth: &SecretKey, platform_cose: &Value) -> [u8; 32] {
        let platform = peer_key_from_cose(platform_cose).unwrap();
        let z = p256::ecdh::diffie_hellman(auth.to_nonzero_scalar(), platform.as_affine());
        let mut out = [0u8; 32];
        out.copy_from_slice(z.raw_secret_bytes().as_slice());
        out
    }

    #[test]
    fn pin_limits() {
        let p = |s: &str| Pin::new(Zeroizing::new(s.to_owned()), None);
        assert_eq!(p("123").unwrap_err(), PinError::TooShort { min: 4 });
        assert!(p("1234").is_ok());
        // 4 code points, 12 bytes: long enough.
        assert!(p("東京大学").is_ok());
        assert_eq!(p(&"1".repeat(64)).unwrap_err(), PinError::TooLong);
        assert!(p(&"1".repeat(63)).is_ok());
        assert_eq!(
            Pin::new(Zeroizing::new("12345".into()), Some(6)).unwrap_err(),
            PinError::TooShort { min: 6 }
        );
        assert_eq!(format!("{:?}", p("9876").unwrap()), "Pin(<redacted>)");
    }

    #[test]
    fn choose_protocol() {
        assert_eq!(
            PinProtocolVersion::choose(&[]).unwrap(),
            PinProtocolVersion::V1
        );
        assert_eq!(
            PinProtocolVersion::choose(&[2, 1]).unwrap(),
            PinProtocolVersion::V2
        );
        assert_eq!(
            PinProtocolVersion::choose(&[1]).unwrap(),
            PinProtocolVersion::V1
        );
        assert_eq!(
            PinProtocolVersion::choose(&[7]).unwrap_err(),
            PinError::Unsupported
        );
    }

    #[test]
    fn v1_matches_independent_authenticator_computation() {
        let auth = secret(7);
        let auth_cose = cose_key_agreement(&auth.public_key());
        let proto =
            PinProtocol::encapsulate_with(PinProtocolVersion::V1, &auth_cose, &secret(9)).unwrap();
        let z = authenticator_side(&auth, proto.platform_key());
        let key: [u8; 32] = Sha256::digest(z).into();

        let pin = Pin::new(Zeroizing::new("1234".into()), None).unwrap();
        let enc = proto.pin_hash_enc(&pin).unwrap();
        assert_eq!(enc.len(), 16);
        let mut block = enc.clone();
        let plain = cbc::Decryptor::<Aes256>::new((&key).into(), (&[0u8; 16]).into())
            .decrypt_padded_mut::<NoPadding>(&mut block)
            .unwrap()
            .to_vec();
        assert_eq!(plain, Sha256::digest(b"1234")[..16].to_vec());

        let mut mac = HmacSha256::new_from_slice(&key).unwrap();
        mac.update(b"msg");
        let full = mac.finalize().into_bytes();
        assert_eq!(proto.authenticate(b"msg"), full[..16].to_vec());

        // Token sent back by the authenticator, encrypted with the same key.
        let token = [0x5Au8; 32];
        let ct = cbc::Encryptor::<Aes256>::new((&key).into(), (&[0u8; 16]).into())
            .encrypt_padded_vec_mut::<NoPadding>(&token);
        assert_eq!(proto.decrypt(&ct).unwrap().as_slice(), &token);
    }

    #[test]
    fn v2_matches_independent_authenticator_computation() {
        let auth = secret(3);
        let auth_cose = cose_key_agreement(&auth.public_key());
        let proto =
            PinProtocol::encapsulate_with(PinProtocolVersion::V2, &auth_cose, &secret(4)).unwrap();
        let z = authenticator_side(&auth, proto.platform_key());
        let hk = hkdf::Hkdf::<Sha256>::new(Some(&[0u8; 32]), &z);
        let mut hmac_key = [0u8; 32];
        let mut aes_key = [0u8; 32];
        hk.expand(b"CTAP2 HMAC key", &mut hmac_key).unwrap();
        hk.expand(b"CTAP2 AES key", &mut aes_key).unwrap();
        assert_ne!(hmac_key, aes_key);

        let iv = [0x11u8; 16];
        let ct = proto.encrypt_with_iv(&[0x22u8; 16], iv).unwrap();
        assert_eq!(ct.len(), 32);
        assert_eq!(&ct[..16], &iv);
        let mut body = ct[16..].to_vec();
        let plain = cbc::Decryptor::<Aes256>::new((&aes_key).into(), (&iv).into())
            .decrypt_padded_mut::<NoPadding>(&mut body)
            .unwrap()
            .to_vec();
        assert_eq!(plain, vec![0x22u8; 16]);

        let mut mac = HmacSha256::new_from_slice(&hmac_key).unwrap();
        mac.update(b"msg");
        assert_eq!(
            proto.authenticate(b"msg"),
            mac.finalize().into_bytes().to_vec()
        );
        // Random IVs differ between two encryptions.
        assert_ne!(
            proto.encrypt(&[0u8; 16]).unwrap(),
            proto.encrypt(&[0u8; 16]).unwrap()
        );
        assert!(matches!(
            proto.decrypt(&[0u8; 20]),
            Err(PinError::BadCiphertext(20))
        ));
        assert!(matches!(
            proto.decrypt(&[0u8; 16]),
            Err(PinError::BadCiphertext(16))
        ));
    }

    #[test]
    fn bad_peer_keys_are_refused() {
        assert!(peer_key_from_cose(&Value::Null).is_err());
        let mut k = cose_key_agreement(&secret(5).public_key());
        if let Value::Map(entries) = &mut k {
            entries[4].1 = Value::Bytes(vec![0u8; 32]);
        }
        assert_eq!(
            peer_key_from_cose(&k).unwrap_err(),
            PinError::BadPeerKey("point not on the curve")
        );
    }
}
