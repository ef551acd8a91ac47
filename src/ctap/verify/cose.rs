//! COSE public keys (RFC 9053) as WebAuthn uses them: EC2 P-256 with ES256
//! (-7) and OKP Ed25519 with EdDSA (-8). Other algorithms (RS256 = -257, …)
//! are recognised and reported as [`VerifyError::UnsupportedAlgorithm`].

use ciborium::Value;
use serde::Serialize;

use super::{VerifyError, authdata::decode_prefix};
use crate::ctap::ctap2::hex_serde;

/// COSE algorithm ES256 (ECDSA P-256 with SHA-256).
pub const ALG_ES256: i64 = -7;
/// COSE algorithm EdDSA.
pub const ALG_EDDSA: i64 = -8;
/// COSE algorithm RS256 (RSASSA-PKCS1-v1_5 with SHA-256); recognised, not verified.
pub const ALG_RS256: i64 = -257;

/// Most key parameters accepted (real keys have four or five).
const MAX_PARAMETERS: usize = 16;

const KTY_OKP: i128 = 1;
const KTY_EC2: i128 = 2;
const CRV_P256: i128 = 1;
const CRV_ED25519: i128 = 6;

/// A credential or attestation public key that can verify signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "alg")]
pub enum CoseKey {
    /// EC2 key on P-256 used with ES256; signatures are ASN.1 DER.
    Es256 {
        /// Affine x coordinate, big-endian.
        #[serde(serialize_with = "hex_serde::bytes")]
        x: [u8; 32],
        /// Affine y coordinate, big-endian.
        #[serde(serialize_with = "hex_serde::bytes")]
        y: [u8; 32],
    },
    /// OKP key on Ed25519 used with EdDSA; signatures are 64 raw bytes.
    EdDsa {
        /// The 32-byte public key.
        #[serde(serialize_with = "hex_serde::bytes")]
        x: [u8; 32],
    },
}

impl CoseKey {
    /// Decodes exactly one CBOR-encoded COSE key; trailing bytes are an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VerifyError> {
        let (value, len) = decode_prefix(bytes, "COSE key")?;
        if len != bytes.len() {
            return Err(VerifyError::TrailingBytes {
                what: "COSE key",
                count: bytes.len() - len,
            });
        }
        Self::from_cbor(&value)
    }

    /// Interprets a decoded COSE_Key map.
    pub fn from_cbor(value: &Value) -> Result<Self, VerifyError> {
        let Value::Map(entries) = value else {
            return Err(VerifyError::BadKey("not a CBOR map".into()));
        };
        if entries.len() > MAX_PARAMETERS {
            return Err(VerifyError::BadKey(format!("{} parameters", entries.len())));
        }
        // CTAP2 canonical CBOR never repeats a label; a repeated one would
        // make the key ambiguous.
        for (i, (k, _)) in entries.iter().enumerate() {
            if entries.iter().skip(i + 1).any(|(other, _)| other == k) {
                return Err(VerifyError::BadKey("a label appears twice".into()));
            }
        }
        let get = |label: i128| {
            entries.iter().find_map(|(k, v)| match k {
                Value::Integer(k) if i128::from(*k) == label => Some(v),
                _ => None,
            })
        };
        let int = |label: i128, name: &'static str| -> Result<i128, VerifyError> {
            match get(label) {
                Some(Value::Integer(i)) => Ok(i128::from(*i)),
                Some(_) => Err(VerifyError::InvalidField {
                    field: name,
                    reason: "not an integer",
                }),
                None => Err(VerifyError::MissingField(name)),
            }
        };
        let coord = |label: i128, name: &'static str| -> Result<[u8; 32], VerifyError> {
            match get(label) {
                Some(Value::Bytes(b)) => <[u8; 32]>::try_from(b.as_slice()).map_err(|_| {
                    VerifyError::BadKey(format!("{name} is {} bytes, not 32", b.len()))
                }),
                Some(_) => Err(VerifyError::InvalidField {
                    field: name,
                    reason: "not a byte string",
                }),
                None => Err(VerifyError::MissingField(name)),
            }
        };

        let kty = int(1, "kty")?;
        let alg_wide = int(3, "alg")?;
        let alg = i64::try_from(alg_wide).map_err(|_| VerifyError::InvalidField {
            field: "alg",
            reason: "out of range",
        })?;
        match alg {
            ALG_ES256 => {
                if kty != KTY_EC2 {
                    return Err(VerifyError::BadKey(format!("ES256 key with kty {kty}")));
                }
                let crv = int(-1, "crv")?;
                if crv != CRV_P256 {
                    return Err(VerifyError::BadKey(format!(
                        "ES256 key on curve {crv}, not P-256"
                    )));
                }
                let key = CoseKey::Es256 {
                    x: coord(-2, "x")?,
                    y: coord(-3, "y")?,
                };
                key.p256_key()?;
                Ok(key)
            }
            ALG_EDDSA => {
                if kty != KTY_OKP {
                    return Err(VerifyError::BadKey(format!("EdDSA key with kty {kty}")));
                }
                let crv = int(-1, "crv")?;
                if crv != CRV_ED25519 {
                    return Err(VerifyError::BadKey(format!(
                        "EdDSA key on curve {crv}, not Ed25519"
                    )));
                }
                let key = CoseKey::EdDsa { x: coord(-2, "x")? };
                key.ed25519_key()?;
                Ok(key)
            }
            other => Err(VerifyError::UnsupportedAlgorithm(other)),
        }
    }

    /// Builds an ES256 key from an uncompressed SEC1 point (0x04||x||y).
    pub fn from_sec1_uncompressed(point: &[u8]) -> Result<Self, VerifyError> {
        match point {
            [0x04, rest @ ..] if rest.len() == 64 => {
                let (x, y) = rest.split_at(32);
                let key = CoseKey::Es256 {
                    x: x.try_into().map_err(|_| VerifyError::BadKey("x".into()))?,
                    y: y.try_into().map_err(|_| VerifyError::BadKey("y".into()))?,
                };
                key.p256_key()?;
                Ok(key)
            }
            _ => Err(VerifyError::BadKey(
                "not an uncompressed P-256 point".into(),
            )),
        }
    }

    /// The COSE algorithm identifier.
    pub fn alg(&self) -> i64 {
        match self {
            CoseKey::Es256 { .. } => ALG_ES256,
            CoseKey::EdDsa { .. } => ALG_EDDSA,
        }
    }

    /// The key as a COSE_Key map in CTAP2 canonical key order (1, 3, -1, -2, -3).
    pub fn to_value(&self) -> Value {
        let int = |i: i64| Value::Integer(i.into());
        match self {
            CoseKey::Es256 { x, y } => Value::Map(vec![
                (int(1), int(2)),
                (int(3), int(ALG_ES256)),
                (int(-1), int(1)),
                (int(-2), Value::Bytes(x.to_vec())),
                (int(-3), Value::Bytes(y.to_vec())),
            ]),
            CoseKey::EdDsa { x } => Value::Map(vec![
                (int(1), int(1)),
                (int(3), int(ALG_EDDSA)),
                (int(-1), int(6)),
                (int(-2), Value::Bytes(x.to_vec())),
            ]),
        }
    }

    /// The key encoded as canonical CTAP2 CBOR.
    pub fn to_cbor(&self) -> Vec<u8> {
        // Encoded by hand: the layout is fixed, so no encoder can fail here.
        let mut out = Vec::with_capacity(77);
        match self {
            CoseKey::Es256 { x, y } => {
                out.extend_from_slice(&[
                    0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20,
                ]);
                out.extend_from_slice(x);
                out.extend_from_slice(&[0x22, 0x58, 0x20]);
                out.extend_from_slice(y);
            }
            CoseKey::EdDsa { x } => {
                out.extend_from_slice(&[
                    0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20,
                ]);
                out.extend_from_slice(x);
            }
        }
        out
    }

    /// Verifies `signature` over `message` (the algorithm hashes the message
    /// itself). ES256 signatures are DER-encoded; EdDSA signatures are 64 bytes.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        match self {
            CoseKey::Es256 { .. } => {
                use p256::ecdsa::signature::Verifier;
                let key = self.p256_key()?;
                let sig = p256::ecdsa::Signature::from_der(signature)
                    .map_err(|_| VerifyError::BadSignature)?;
                key.verify(message, &sig)
                    .map_err(|_| VerifyError::BadSignature)
            }
            CoseKey::EdDsa { .. } => {
                let key = self.ed25519_key()?;
                let bytes =
                    <[u8; 64]>::try_from(signature).map_err(|_| VerifyError::BadSignature)?;
                let sig = ed25519_dalek::Signature::from_bytes(&bytes);
                key.verify_strict(message, &sig)
                    .map_err(|_| VerifyError::BadSignature)
            }
        }
    }

    /// True when `signature` (DER ECDSA) verifies over an already hashed
    /// message `digest` under this P-256 key (any hash length: certificates
    /// signed with SHA-384 or SHA-512 by a P-256 key).
    pub(crate) fn verify_prehash_der(&self, digest: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        let Ok(key) = self.p256_key() else {
            return false;
        };
        p256::ecdsa::Signature::from_der(signature)
            .is_ok_and(|sig| key.verify_prehash(digest, &sig).is_ok())
    }

    /// The uncompressed SEC1 point 0x04||x||y of an ES256 key.
    pub fn sec1_uncompressed(&self) -> Option<[u8; 65]> {
        match self {
            CoseKey::Es256 { x, y } => {
                let mut out = [0u8; 65];
                out[0] = 0x04;
                out[1..33].copy_from_slice(x);
                out[33..].copy_from_slice(y);
                Some(out)
            }
            CoseKey::EdDsa { .. } => None,
        }
    }

    fn p256_key(&self) -> Result<p256::ecdsa::VerifyingKey, VerifyError> {
        let point = self
            .sec1_uncompressed()
            .ok_or_else(|| VerifyError::BadKey("not a P-256 key".into()))?;
        p256::ecdsa::VerifyingKey::from_sec1_bytes(&point)
            .map_err(|_| VerifyError::BadKey("point is not on P-256".into()))
    }

    fn ed25519_key(&self) -> Result<ed25519_dalek::VerifyingKey, VerifyError> {
        match self {
            CoseKey::EdDsa { x } => ed25519_dalek::VerifyingKey::from_bytes(x)
                .map_err(|_| VerifyError::BadKey("not a valid Ed25519 point".into())),
            CoseKey::Es256 { .. } => Err(VerifyError::BadKey("not an Ed25519 key".into())),
        }
    }
}
