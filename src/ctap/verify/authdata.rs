//! Authenticator data (WebAuthn §6.1): rpIdHash, flags, signature counter,
//! attested credential data and extensions, parsed strictly and bounded.

use std::fmt;

use serde::{Serialize, Serializer};

use super::VerifyError;
use super::cose::CoseKey;
use crate::ctap::ctap2::hex_serde;

/// Longest credential id WebAuthn accepts (Level 3, §6.5.1).
pub const MAX_CREDENTIAL_ID_LEN: usize = 1023;

/// Length of the fixed part: rpIdHash (32) + flags (1) + signCount (4).
pub const FIXED_LEN: usize = 37;

/// An authenticator model identifier (16 bytes). Displays and serializes as a
/// lowercase hyphenated UUID, the form used in `content/aaguids.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Aaguid(pub [u8; 16]);

impl Aaguid {
    /// The all-zero AAGUID that U2F keys and "none" attestation report.
    pub const ZERO: Aaguid = Aaguid([0; 16]);

    /// True for the all-zero AAGUID.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl fmt::Display for Aaguid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Aaguid {
    type Err = VerifyError;

    /// Parses a UUID with or without hyphens, in either case
    /// (`fa2b99dc-9e39-4257-8f92-4a30d23c4118`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason| VerifyError::InvalidField {
            field: "aaguid",
            reason,
        };
        let digits: String = s.trim().chars().filter(|c| *c != '-').collect();
        if digits.len() != 32 {
            return Err(bad("not 32 hex digits"));
        }
        let bytes = hex::decode(&digits).map_err(|_| bad("not hexadecimal"))?;
        <[u8; 16]>::try_from(bytes.as_slice())
            .map(Aaguid)
            .map_err(|_| bad("not 16 bytes"))
    }
}

impl Serialize for Aaguid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The flags byte, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Flags {
    /// The byte as sent.
    pub raw: u8,
    /// UP (0x01): the user was present (touched the key).
    pub user_present: bool,
    /// UV (0x04): the user was verified (PIN or biometric).
    pub user_verified: bool,
    /// BE (0x08): the credential may be backed up (synced passkey).
    pub backup_eligible: bool,
    /// BS (0x10): the credential is backed up.
    pub backed_up: bool,
    /// AT (0x40): attested credential data follows.
    pub attested_data: bool,
    /// ED (0x80): an extensions map follows.
    pub extension_data: bool,
}

impl Flags {
    /// UP bit.
    pub const UP: u8 = 0x01;
    /// UV bit.
    pub const UV: u8 = 0x04;
    /// BE bit.
    pub const BE: u8 = 0x08;
    /// BS bit.
    pub const BS: u8 = 0x10;
    /// AT bit.
    pub const AT: u8 = 0x40;
    /// ED bit.
    pub const ED: u8 = 0x80;

    /// Decodes a flags byte.
    pub fn from_byte(raw: u8) -> Self {
        Flags {
            raw,
            user_present: raw & Self::UP != 0,
            user_verified: raw & Self::UV != 0,
            backup_eligible: raw & Self::BE != 0,
            backed_up: raw & Self::BS != 0,
            attested_data: raw & Self::AT != 0,
            extension_data: raw & Self::ED != 0,
        }
    }
}

/// Attested credential data: present when the AT flag is set (registration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttestedCredentialData {
    /// The authenticator model.
    pub aaguid: Aaguid,
    /// The credential id.
    #[serde(serialize_with = "hex_serde::bytes")]
    pub credential_id: Vec<u8>,
    /// The credential public key exactly as encoded (one CBOR item).
    #[serde(serialize_with = "hex_serde::bytes")]
    pub credential_public_key: Vec<u8>,
    /// The COSE algorithm of the key, when the key carries an integer `alg` (3).
    pub public_key_alg: Option<i64>,
}

impl AttestedCredentialData {
    /// Decodes the credential public key into a key this crate can verify with.
    pub fn public_key(&self) -> Result<CoseKey, VerifyError> {
        CoseKey::from_bytes(&self.credential_public_key)
    }
}

/// Parsed authenticator data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthenticatorData {
    /// SHA-256 of the relying party id.
    #[serde(serialize_with = "hex_serde::bytes")]
    pub rp_id_hash: [u8; 32],
    /// The flags byte.
    pub flags: Flags,
    /// The signature counter (0 if the authenticator does not keep one).
    pub sign_count: u32,
    /// Present exactly when the AT flag is set.
    pub attested_credential: Option<AttestedCredentialData>,
    /// The extensions map as encoded (one CBOR item); present exactly when ED is set.
    #[serde(serialize_with = "hex_serde::opt_bytes")]
    pub extensions_raw: Option<Vec<u8>>,
    /// The extensions map, decoded.
    #[serde(skip)]
    pub extensions: Option<ciborium::Value>,
}

impl AuthenticatorData {
    /// Parses authenticator data. Every length is checked; the AT and ED
    /// flags must agree with what follows; no bytes may be left over.
    pub fn parse(bytes: &[u8]) -> Result<Self, VerifyError> {
        let mut r = Reader { bytes, pos: 0 };
        let rp_id_hash: [u8; 32] = r.array("rpIdHash")?;
        let [flag_byte] = r.array::<1>("flags")?;
        let flags = Flags::from_byte(flag_byte);
        let sign_count = u32::from_be_bytes(r.array("signCount")?);

        let attested_credential = if flags.attested_data {
            let aaguid = Aaguid(r.array("aaguid")?);
            let id_len = usize::from(u16::from_be_bytes(r.array("credentialIdLength")?));
            if id_len > MAX_CREDENTIAL_ID_LEN {
                return Err(VerifyError::CredentialIdTooLong(id_len));
            }
            let credential_id = r.take(id_len, "credentialId")?.to_vec();
            let (key_value, key_len) = decode_prefix(r.rest(), "credentialPublicKey")?;
            let credential_public_key = r.take(key_len, "credentialPublicKey")?.to_vec();
            let ciborium::Value::Map(entries) = &key_value else {
                return Err(VerifyError::InvalidField {
                    field: "credentialPublicKey",
                    reason: "not a CBOR map",
                });
            };
            let public_key_alg = entries.iter().find_map(|(k, v)| match (k, v) {
                (ciborium::Value::Integer(k), ciborium::Value::Integer(v))
                    if i128::from(*k) == 3 =>
                {
                    i64::try_from(i128::from(*v)).ok()
                }
                _ => None,
            });
            Some(AttestedCredentialData {
                aaguid,
                credential_id,
                credential_public_key,
                public_key_alg,
            })
        } else {
            None
        };

        let (extensions_raw, extensions) = if flags.extension_data {
            let (value, len) = decode_prefix(r.rest(), "extensions")?;
            let raw = r.take(len, "extensions")?.to_vec();
            if !matches!(value, ciborium::Value::Map(_)) {
                return Err(VerifyError::InvalidField {
                    field: "extensions",
                    reason: "not a CBOR map",
                });
            }
            (Some(raw), Some(value))
        } else {
            (None, None)
        };

        let left = r.rest().len();
        if left != 0 {
            if !flags.attested_data && !flags.extension_data {
                return Err(VerifyError::BadFlags(
                    "data follows the signature counter but neither AT nor ED is set",
                ));
            }
            return Err(VerifyError::TrailingBytes {
                what: "authenticator data",
                count: left,
            });
        }
        Ok(AuthenticatorData {
            rp_id_hash,
            flags,
            sign_count,
            attested_credential,
            extensions_raw,
            extensions,
        })
    }

    /// The AAGUID, or `None` when there is no attested credential data.
    pub fn aaguid(&self) -> Option<Aaguid> {
        self.attested_credential.as_ref().map(|c| c.aaguid)
    }
}

/// Deepest nesting of arrays, maps and tags accepted in authenticator output.
const MAX_CBOR_DEPTH: usize = 16;

/// Decodes the one CBOR item at the start of `bytes` and says how many bytes
/// it occupies (the reader's cursor position afterwards), so that what
/// follows an embedded item (a COSE key inside authenticator data) can be
/// found. Input that ends inside the item is [`VerifyError::Truncated`].
pub(crate) fn decode_prefix(
    bytes: &[u8],
    what: &'static str,
) -> Result<(ciborium::Value, usize), VerifyError> {
    let mut cursor = std::io::Cursor::new(bytes);
    let value = ciborium::de::from_reader_with_recursion_limit(&mut cursor, MAX_CBOR_DEPTH)
        .map_err(|e| match e {
            ciborium::de::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                VerifyError::Truncated { what }
            }
            other => VerifyError::BadCbor(format!("{what}: {other}")),
        })?;
    let len = usize::try_from(cursor.position()).unwrap_or(bytes.len());
    Ok((value, len))
}

/// Decodes exactly one CBOR item; trailing bytes are an error.
pub(crate) fn decode(bytes: &[u8], what: &'static str) -> Result<ciborium::Value, VerifyError> {
    let (value, len) = decode_prefix(bytes, what)?;
    if len != bytes.len() {
        return Err(VerifyError::TrailingBytes {
            what,
            count: bytes.len() - len,
        });
    }
    Ok(value)
}

/// A bounds-checked cursor.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], VerifyError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(VerifyError::Truncated { what })?;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or(VerifyError::Truncated { what })?;
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], VerifyError> {
        let slice = self.take(N, what)?;
        <[u8; N]>::try_from(slice).map_err(|_| VerifyError::Truncated { what })
    }

    fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aaguid_text_round_trip() {
        let a: Aaguid = "FA2B99DC-9E39-4257-8F92-4A30D23C4118".parse().unwrap();
        assert_eq!(a.0[0], 0xfa);
        assert_eq!(a.0[15], 0x18);
        assert_eq!(a.to_string(), "fa2b99dc-9e39-4257-8f92-4a30d23c4118");
        assert_eq!("fa2b99dc9e3942578f924a30d23c4118".parse::<Aaguid>(), Ok(a));
        assert!("fa2b99dc-9e39".parse::<Aaguid>().is_err());
        assert!(
            "zz2b99dc-9e39-4257-8f92-4a30d23c4118"
                .parse::<Aaguid>()
                .is_err()
        );
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            "\"fa2b99dc-9e39-4257-8f92-4a30d23c4118\""
        );
    }

    #[test]
    fn flags_decode_each_bit() {
        let f = Flags::from_byte(0xdd);
        assert!(f.user_present && f.user_verified && f.backup_eligible && f.backed_up);
        assert!(f.attested_data && f.extension_data);
        let f = Flags::from_byte(0x22);
        assert!(!f.user_present && !f.user_verified && !f.backup_eligible && !f.backed_up);
        assert!(!f.attested_data && !f.extension_data);
        assert_eq!(f.raw, 0x22);
    }
}
