//! A new PIN as CTAP 2.1 wants it (Unicode NFC, at least the key's
//! minPINLength code points and never fewer than 4, at most 63 UTF-8 bytes,
//! padded with zeros to 64 bytes), and the setPIN (0x03) / changePIN (0x04)
//! ClientPIN requests built from it with the negotiated PIN protocol.

use std::fmt;

use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::ctap::ctap2::cbor::{bytes, encode_int_map, int};
use crate::ctap::ctap2::pin_protocol::{
    MAX_PIN_BYTES, MIN_PIN_CODE_POINTS, Pin, PinError, PinProtocol,
};

/// ClientPIN subcommand setPIN.
pub const SUB_SET_PIN: u8 = 0x03;
/// ClientPIN subcommand changePIN.
pub const SUB_CHANGE_PIN: u8 = 0x04;
/// Length of the zero-padded PIN block that is encrypted (newPinEnc).
pub const PADDED_PIN_LEN: usize = 64;

/// Why a new PIN is refused before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NewPinError {
    /// Fewer code points than the key (or the specification) asks for.
    #[error("too short: at least {min} characters are needed")]
    TooShort {
        /// The minimum, in Unicode code points.
        min: usize,
    },
    /// More than 63 bytes once encoded as UTF-8.
    #[error("too long: at most 63 bytes (this one has {bytes})")]
    TooLong {
        /// Its length in UTF-8 bytes.
        bytes: usize,
    },
    /// Contains a control character (a NUL would cut the PIN short on the key).
    #[error("contains a control character")]
    ControlCharacter,
    /// The two entries differ.
    #[error("the two entries differ")]
    Mismatch,
}

/// The minimum length a key asks for: its minPINLength, never below 4.
pub fn effective_min_len(min_pin_length: Option<u64>) -> usize {
    min_pin_length
        .and_then(|m| usize::try_from(m).ok())
        .unwrap_or(0)
        .max(MIN_PIN_CODE_POINTS)
}

/// Unicode NFC form of a PIN, in zeroized memory. The buffer is sized up
/// front (NFC grows text at most threefold) so no copy is left behind by a
/// reallocation.
pub fn normalize(raw: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(raw.len().saturating_mul(3) + 4));
    out.extend(raw.nfc());
    out
}

/// A checked, NFC-normalised new PIN. `Debug` never shows it.
pub struct NewPin(Zeroizing<String>);

impl fmt::Debug for NewPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPin(<redacted>)")
    }
}

impl NewPin {
    /// Normalises `raw` to NFC and checks it against `min_pin_length` (the
    /// key's GetInfo 0x0D; 4 when absent or lower) and the 63-byte limit.
    pub fn new(raw: &str, min_pin_length: Option<u64>) -> Result<Self, NewPinError> {
        let pin = normalize(raw);
        if pin.chars().any(char::is_control) {
            return Err(NewPinError::ControlCharacter);
        }
        let min = effective_min_len(min_pin_length);
        if pin.chars().count() < min {
            return Err(NewPinError::TooShort { min });
        }
        if pin.len() > MAX_PIN_BYTES {
            return Err(NewPinError::TooLong { bytes: pin.len() });
        }
        Ok(Self(pin))
    }

    /// Like [`new`](Self::new), and the confirmation must be the same PIN
    /// (compared after normalisation).
    pub fn confirmed(
        raw: &str,
        confirmation: &str,
        min_pin_length: Option<u64>,
    ) -> Result<Self, NewPinError> {
        let pin = Self::new(raw, min_pin_length)?;
        if *normalize(confirmation) != *pin.0 {
            return Err(NewPinError::Mismatch);
        }
        Ok(pin)
    }

    /// Length in Unicode code points.
    pub fn code_points(&self) -> usize {
        self.0.chars().count()
    }

    /// The PIN as the key will know it, for building tokens afterwards.
    pub fn as_pin(&self) -> Result<Pin, PinError> {
        Pin::new(self.0.clone(), None)
    }

    /// Whether `current` (normalised) is this PIN.
    pub fn same_as(&self, current: &str) -> bool {
        *normalize(current) == *self.0
    }

    /// The PIN's UTF-8 bytes followed by zeros, 64 bytes in all.
    pub fn padded(&self) -> Zeroizing<[u8; PADDED_PIN_LEN]> {
        let mut out = Zeroizing::new([0u8; PADDED_PIN_LEN]);
        let b = self.0.as_bytes();
        out[..b.len()].copy_from_slice(b);
        out
    }
}

/// setPIN request: newPinEnc = encrypt(padded PIN), pinUvAuthParam =
/// authenticate(shared secret, newPinEnc).
pub fn encode_set_pin(proto: &PinProtocol, new: &NewPin) -> Result<Vec<u8>, PinError> {
    let new_pin_enc = proto.encrypt(new.padded().as_ref())?;
    let auth = proto.authenticate(&new_pin_enc);
    Ok(encode_int_map(vec![
        (0x01, Some(int(proto.version().number() as i64))),
        (0x02, Some(int(i64::from(SUB_SET_PIN)))),
        (0x03, Some(proto.platform_key().clone())),
        (0x04, Some(bytes(&auth))),
        (0x05, Some(bytes(&new_pin_enc))),
    ]))
}

/// changePIN request: newPinEnc, pinHashEnc = encrypt(LEFT(SHA-256(current), 16)),
/// pinUvAuthParam = authenticate(shared secret, newPinEnc || pinHashEnc).
pub fn encode_change_pin(
    proto: &PinProtocol,
    current: &Pin,
    new: &NewPin,
) -> Result<Vec<u8>, PinError> {
    let new_pin_enc = proto.encrypt(new.padded().as_ref())?;
    let pin_hash_enc = proto.pin_hash_enc(current)?;
    let mut message = new_pin_enc.clone();
    message.extend_from_slice(&pin_hash_enc);
    let auth = proto.authenticate(&message);
    Ok(encode_int_map(vec![
        (0x01, Some(int(proto.version().number() as i64))),
        (0x02, Some(int(i64::from(SUB_CHANGE_PIN)))),
        (0x03, Some(proto.platform_key().clone())),
        (0x04, Some(bytes(&auth))),
        (0x05, Some(bytes(&new_pin_enc))),
        (0x06, Some(bytes(&pin_hash_enc))),
    ]))
}

/// The current PIN as typed, normalised like a new one and checked for the
/// specification's limits only (the key's minPINLength may have grown since
/// it was set).
pub fn current_pin(raw: &str) -> Result<Pin, PinError> {
    Pin::new(normalize(raw), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctap::ctap2::cbor::IntMap;
    use crate::ctap::ctap2::pin_protocol::{PinProtocolVersion, cose_key_agreement};
    use p256::SecretKey;

    #[test]
    fn length_rules_count_code_points_and_bytes() {
        assert_eq!(
            NewPin::new("123", None).unwrap_err(),
            NewPinError::TooShort { min: 4 }
        );
        assert_eq!(
            NewPin::new("123456", Some(8)).unwrap_err(),
            NewPinError::TooShort { min: 8 }
        );
        // A minPINLength below 4 does not lower the floor.
        assert_eq!(
            NewPin::new("12", Some(2)).unwrap_err(),
            NewPinError::TooShort { min: 4 }
        );
        // 4 code points but 12 bytes: long enough.
        assert_eq!(NewPin::new("東京大学", None).unwrap().code_points(), 4);
        assert!(NewPin::new(&"a".repeat(63), None).is_ok());
        assert_eq!(
            NewPin::new(&"a".repeat(64), None).unwrap_err(),
            NewPinError::TooLong { bytes: 64 }
        );
        // 21 three-byte characters = 63 bytes; 22 = 66.
        assert!(NewPin::new(&"東".repeat(21), None).is_ok());
        assert_eq!(
            NewPin::new(&"東".repeat(22), None).unwrap_err(),
            NewPinError::TooLong { bytes: 66 }
        );
        assert_eq!(
            NewPin::new("12\u{0}34", None).unwrap_err(),
            NewPinError::ControlCharacter
        );
    }

    #[test]
    fn pins_are_nfc_normalised_before_counting_and_comparing() {
        // "é" typed as e + combining acute (2 code points) is one code point in NFC.
        let decomposed = "e\u{301}e\u{301}e\u{301}";
        assert_eq!(
            NewPin::new(decomposed, None).unwrap_err(),
            NewPinError::TooShort { min: 4 }
        );
        let pin = NewPin::confirmed("cafe\u{301}", "caf\u{e9}", None).unwrap();
        assert_eq!(&pin.padded()[..5], "caf\u{e9}".as_bytes());
        assert!(pin.same_as("caf\u{e9}"));
        assert_eq!(
            NewPin::confirmed("1234", "1235", None).unwrap_err(),
            NewPinError::Mismatch
        );
        assert_eq!(format!("{pin:?}"), "NewPin(<redacted>)");
    }

    #[test]
    fn padding_is_64_bytes_of_pin_then_zeros() {
        let p = NewPin::new("4321", None).unwrap().padded();
        assert_eq!(&p[..4], b"4321");
        assert!(p[4..].iter().all(|&b| b == 0));
    }

    fn authenticator_view(
        version: PinProtocolVersion,
        platform: &PinProtocol,
        auth_secret: &SecretKey,
    ) -> PinProtocol {
        // ECDH is symmetric: the authenticator derives the same keys from the
        // platform's public key and its own secret.
        PinProtocol::encapsulate_with(version, platform.platform_key(), auth_secret).unwrap()
    }

    #[test]
    fn set_and_change_requests_verify_on_the_authenticator_side() {
        for version in [PinProtocolVersion::V1, PinProtocolVersion::V2] {
            let auth_secret = SecretKey::from_slice(&[7u8; 32]).unwrap();
            let auth_cose = cose_key_agreement(&auth_secret.public_key());
            let platform = PinProtocol::encapsulate(version, &auth_cose).unwrap();
            let auth = authenticator_view(version, &platform, &auth_secret);
            let new = NewPin::new("246810", None).unwrap();

            let mut m = IntMap::decode(&encode_set_pin(&platform, &new).unwrap(), "t").unwrap();
            assert_eq!(m.uint(0x01).unwrap(), Some(version.number()));
            assert_eq!(m.uint(0x02).unwrap(), Some(3));
            assert!(m.map(0x03).unwrap().is_some());
            let mac = m.bytes(0x04).unwrap().unwrap();
            let enc = m.bytes(0x05).unwrap().unwrap();
            assert_eq!(mac, auth.authenticate(&enc));
            let plain = auth.decrypt(&enc).unwrap();
            assert_eq!(plain.as_slice(), new.padded().as_slice());

            let current = current_pin("1234").unwrap();
            let req = encode_change_pin(&platform, &current, &new).unwrap();
            let mut m = IntMap::decode(&req, "t").unwrap();
            assert_eq!(m.uint(0x02).unwrap(), Some(4));
            let mac = m.bytes(0x04).unwrap().unwrap();
            let enc = m.bytes(0x05).unwrap().unwrap();
            let hash_enc = m.bytes(0x06).unwrap().unwrap();
            assert_eq!(
                mac,
                auth.authenticate(&[enc.clone(), hash_enc.clone()].concat())
            );
            assert_eq!(
                auth.decrypt(&hash_enc).unwrap().as_slice(),
                current.hash16().as_slice()
            );
            assert_eq!(
                auth.decrypt(&enc).unwrap().as_slice(),
                new.padded().as_slice()
            );
        }
    }
}
