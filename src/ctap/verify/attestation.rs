//! Attestation statement verification (WebAuthn §8) for the formats a
//! security key returns: `packed` (certificate or self attestation),
//! `fido-u2f` and `none`.
//!
//! Scope: the statement's structure, the signature, and the leaf
//! certificate's WebAuthn requirements (version 3, not a CA, matching AAGUID
//! extension). Certificates after the leaf are checked only as far as "each
//! ES256-signed certificate is signed by the next one". Chaining to a trusted
//! root (FIDO Metadata Service) is NOT done: a [`AttestationKind::Basic`]
//! outcome does not prove the authenticator model is genuine. Also not
//! checked: certificate validity periods, revocation, and the packed subject's
//! C/O/OU/CN contents (reported in the outcome instead).
//!
//! Note that `fido-u2f` signs rpIdHash, client data hash, credential id and
//! key only: its flags and signature counter are not covered by the signature.

use ciborium::Value;
use serde::Serialize;

use super::authdata::{Aaguid, AuthenticatorData, decode};
use super::cose::ALG_ES256;
use super::{VerifyError, cbor_scan, x509};

/// Most certificates accepted in `x5c`.
const MAX_CHAIN: usize = 8;

/// What kind of attestation the statement carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttestationKind {
    /// Signed by an attestation certificate (x5c).
    Basic,
    /// Signed by the credential key itself (no model information).
    SelfAttested,
    /// No attestation (`none`).
    None,
}

/// The result of a successful verification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttestationOutcome {
    /// The attestation statement format (`packed`, `fido-u2f`, `none`).
    pub format: String,
    /// Basic, self or none.
    pub kind: AttestationKind,
    /// RFC 4514 subject of the attestation (leaf) certificate.
    pub certificate_subject: Option<String>,
    /// RFC 4514 issuer of the attestation (leaf) certificate.
    pub certificate_issuer: Option<String>,
    /// The AAGUID in the leaf certificate's id-fido-gen-ce-aaguid extension, if any.
    pub certificate_aaguid: Option<Aaguid>,
    /// Number of certificates in x5c (0 without one).
    pub chain_len: usize,
    /// True when every certificate in x5c after the leaf was shown to sign
    /// its predecessor (vacuously true for a single certificate).
    pub chain_signatures_verified: bool,
    /// The AAGUID from the authenticator data.
    pub aaguid: Aaguid,
    /// The parsed authenticator data.
    pub auth_data: AuthenticatorData,
}

/// Verifies an attestation statement of format `fmt` over `auth_data` and
/// `client_data_hash`. Unknown formats give [`VerifyError::UnknownFormat`],
/// registered but unsupported ones (tpm, android-key, apple, …)
/// [`VerifyError::UnsupportedFormat`].
pub fn verify(
    fmt: &str,
    auth_data: &[u8],
    att_stmt: &Value,
    client_data_hash: &[u8; 32],
) -> Result<AttestationOutcome, VerifyError> {
    match fmt {
        "packed" | "fido-u2f" | "none" => {}
        "tpm" | "android-key" | "android-safetynet" | "apple" | "compound" => {
            return Err(VerifyError::UnsupportedFormat(fmt.to_string()));
        }
        other => return Err(VerifyError::UnknownFormat(other.to_string())),
    }
    let parsed = AuthenticatorData::parse(auth_data)?;
    let cred = parsed
        .attested_credential
        .as_ref()
        .ok_or(VerifyError::BadFlags(
            "attestation without attested credential data (AT clear)",
        ))?;
    let aaguid = cred.aaguid;
    let stmt = Statement::new(att_stmt)?;
    let mut signed = Vec::with_capacity(auth_data.len() + 32);
    signed.extend_from_slice(auth_data);
    signed.extend_from_slice(client_data_hash);

    let mut outcome = AttestationOutcome {
        format: fmt.to_string(),
        kind: AttestationKind::None,
        certificate_subject: None,
        certificate_issuer: None,
        certificate_aaguid: None,
        chain_len: 0,
        chain_signatures_verified: false,
        aaguid,
        auth_data: parsed.clone(),
    };

    match fmt {
        "none" => {
            if !stmt.is_empty() {
                return Err(VerifyError::InvalidField {
                    field: "attStmt",
                    reason: "must be empty for format none",
                });
            }
        }
        "packed" => {
            let alg = stmt.alg()?;
            let sig = stmt.bytes("sig")?;
            if stmt.has("ecdaaKeyId") {
                return Err(VerifyError::UnsupportedFormat("packed with ECDAA".into()));
            }
            match stmt.x5c()? {
                Some(chain) => {
                    if alg != ALG_ES256 {
                        return Err(VerifyError::UnsupportedAlgorithm(alg));
                    }
                    let certs = parse_chain(&chain)?;
                    let leaf = certs.first().ok_or(VerifyError::MissingField("x5c"))?;
                    if !leaf.is_v3 {
                        return Err(VerifyError::BadCertificate(
                            "attestation certificate is not X.509 version 3".into(),
                        ));
                    }
                    if leaf.is_ca {
                        return Err(VerifyError::BadCertificate(
                            "attestation certificate is a CA (basicConstraints cA=true)".into(),
                        ));
                    }
                    if let Some(cert_aaguid) = leaf.aaguid {
                        if leaf.aaguid_critical {
                            return Err(VerifyError::BadCertificate(
                                "AAGUID extension is marked critical".into(),
                            ));
                        }
                        if cert_aaguid != aaguid {
                            return Err(VerifyError::AaguidMismatch {
                                certificate: cert_aaguid,
                                auth_data: aaguid,
                            });
                        }
                    }
                    let key = leaf.p256_key.as_ref().ok_or_else(|| {
                        VerifyError::BadCertificate(
                            "attestation certificate key is not P-256".into(),
                        )
                    })?;
                    key.verify(&signed, sig)?;
                    fill_from_chain(&mut outcome, &certs)?;
                    outcome.kind = AttestationKind::Basic;
                }
                None => {
                    let key = cred.public_key()?;
                    if alg != key.alg() {
                        return Err(VerifyError::AlgorithmMismatch {
                            statement: alg,
                            key: key.alg(),
                        });
                    }
                    key.verify(&signed, sig)?;
                    outcome.kind = AttestationKind::SelfAttested;
                }
            }
        }
        _ => {
            // fido-u2f
            let sig = stmt.bytes("sig")?;
            let chain = stmt.x5c()?.ok_or(VerifyError::MissingField("x5c"))?;
            if chain.len() != 1 {
                return Err(VerifyError::InvalidField {
                    field: "x5c",
                    reason: "fido-u2f needs exactly one certificate",
                });
            }
            let certs = parse_chain(&chain)?;
            let leaf = certs.first().ok_or(VerifyError::MissingField("x5c"))?;
            let cert_key = leaf.p256_key.as_ref().ok_or_else(|| {
                VerifyError::BadCertificate("fido-u2f certificate key is not P-256".into())
            })?;
            let cred_key = cred.public_key()?;
            let point = cred_key
                .sec1_uncompressed()
                .ok_or(VerifyError::UnsupportedAlgorithm(cred_key.alg()))?;
            let mut data = Vec::with_capacity(1 + 32 + 32 + cred.credential_id.len() + 65);
            data.push(0x00);
            data.extend_from_slice(&parsed.rp_id_hash);
            data.extend_from_slice(client_data_hash);
            data.extend_from_slice(&cred.credential_id);
            data.extend_from_slice(&point);
            cert_key.verify(&data, sig)?;
            fill_from_chain(&mut outcome, &certs)?;
            outcome.kind = AttestationKind::Basic;
        }
    }
    Ok(outcome)
}

/// An attestation object: the WebAuthn `attestationObject` (text keys `fmt`,
/// `authData`, `attStmt`) or a CTAP2 authenticatorMakeCredential response
/// (integer keys 1, 2, 3) — both are accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct AttestationObject {
    /// The attestation statement format.
    pub fmt: String,
    /// The authenticator data, as signed.
    pub auth_data: Vec<u8>,
    /// The attestation statement.
    pub att_stmt: Value,
}

impl AttestationObject {
    /// Decodes exactly one CBOR map; trailing bytes are an error.
    pub fn parse(bytes: &[u8]) -> Result<Self, VerifyError> {
        let len = cbor_scan::item_len(bytes, "attestation object")?;
        if len != bytes.len() {
            return Err(VerifyError::TrailingBytes {
                what: "attestation object",
                count: bytes.len() - len,
            });
        }
        Self::from_cbor(&decode(bytes, "attestation object")?)
    }

    /// Interprets a decoded attestation object map.
    pub fn from_cbor(value: &Value) -> Result<Self, VerifyError> {
        let Value::Map(entries) = value else {
            return Err(VerifyError::InvalidField {
                field: "attestation object",
                reason: "not a CBOR map",
            });
        };
        let get = |name: &str, index: i128| {
            entries.iter().find_map(|(k, v)| match k {
                Value::Text(t) if t == name => Some(v),
                Value::Integer(i) if i128::from(*i) == index => Some(v),
                _ => None,
            })
        };
        let fmt = match get("fmt", 1) {
            Some(Value::Text(t)) => t.clone(),
            Some(_) => {
                return Err(VerifyError::InvalidField {
                    field: "fmt",
                    reason: "not a text string",
                });
            }
            None => return Err(VerifyError::MissingField("fmt")),
        };
        let auth_data = match get("authData", 2) {
            Some(Value::Bytes(b)) => b.clone(),
            Some(_) => {
                return Err(VerifyError::InvalidField {
                    field: "authData",
                    reason: "not a byte string",
                });
            }
            None => return Err(VerifyError::MissingField("authData")),
        };
        let att_stmt = get("attStmt", 3)
            .cloned()
            .ok_or(VerifyError::MissingField("attStmt"))?;
        Ok(AttestationObject {
            fmt,
            auth_data,
            att_stmt,
        })
    }

    /// Verifies the statement; see [`verify`].
    pub fn verify(&self, client_data_hash: &[u8; 32]) -> Result<AttestationOutcome, VerifyError> {
        verify(&self.fmt, &self.auth_data, &self.att_stmt, client_data_hash)
    }
}

fn parse_chain(chain: &[&[u8]]) -> Result<Vec<x509::CertInfo>, VerifyError> {
    chain.iter().map(|der| x509::parse(der)).collect()
}

fn fill_from_chain(
    outcome: &mut AttestationOutcome,
    certs: &[x509::CertInfo],
) -> Result<(), VerifyError> {
    let mut all_verified = true;
    for pair in certs.windows(2) {
        if let [child, parent] = pair {
            all_verified &= child.verify_signed_by(parent)?;
        }
    }
    if let Some(leaf) = certs.first() {
        outcome.certificate_subject = Some(leaf.subject.clone());
        outcome.certificate_issuer = Some(leaf.issuer.clone());
        outcome.certificate_aaguid = leaf.aaguid;
    }
    outcome.chain_len = certs.len();
    outcome.chain_signatures_verified = all_verified;
    Ok(())
}

/// Text-keyed view of an attestation statement map.
struct Statement<'a> {
    entries: &'a [(Value, Value)],
}

impl<'a> Statement<'a> {
    fn new(value: &'a Value) -> Result<Self, VerifyError> {
        match value {
            Value::Map(entries) => Ok(Statement { entries }),
            _ => Err(VerifyError::InvalidField {
                field: "attStmt",
                reason: "not a CBOR map",
            }),
        }
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.entries.iter().find_map(|(k, v)| match k {
            Value::Text(t) if t == key => Some(v),
            _ => None,
        })
    }

    fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn alg(&self) -> Result<i64, VerifyError> {
        match self.get("alg") {
            Some(Value::Integer(i)) => {
                i64::try_from(i128::from(*i)).map_err(|_| VerifyError::InvalidField {
                    field: "alg",
                    reason: "out of range",
                })
            }
            Some(_) => Err(VerifyError::InvalidField {
                field: "alg",
                reason: "not an integer",
            }),
            None => Err(VerifyError::MissingField("alg")),
        }
    }

    fn bytes(&self, key: &'static str) -> Result<&'a [u8], VerifyError> {
        match self.get(key) {
            Some(Value::Bytes(b)) => Ok(b),
            Some(_) => Err(VerifyError::InvalidField {
                field: key,
                reason: "not a byte string",
            }),
            None => Err(VerifyError::MissingField(key)),
        }
    }

    fn x5c(&self) -> Result<Option<Vec<&'a [u8]>>, VerifyError> {
        let bad = |reason| VerifyError::InvalidField {
            field: "x5c",
            reason,
        };
        match self.get("x5c") {
            None => Ok(None),
            Some(Value::Array(items)) => {
                if items.is_empty() {
                    return Err(bad("empty certificate list"));
                }
                if items.len() > MAX_CHAIN {
                    return Err(bad("more than 8 certificates"));
                }
                items
                    .iter()
                    .map(|item| match item {
                        Value::Bytes(b) => Ok(b.as_slice()),
                        _ => Err(bad("certificate is not a byte string")),
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
            }
            Some(_) => Err(bad("not an array")),
        }
    }
}
