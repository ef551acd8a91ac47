//! Attestation statement verification (WebAuthn §8) for the formats a
//! security key returns — one module per format ([`packed`], [`fido_u2f`],
//! [`none`]) behind one [`verify`] function — followed by certificate path
//! validation against the trust anchors of the embedded FIDO metadata
//! ([`super::chain`]), which gives the [`TrustLevel`]: does the certificate
//! chain back the model the key claims (its AAGUID)?
//!
//! Not checked: revocation lists, and the packed subject's C/O/OU/CN
//! contents (reported in the outcome instead). `fido-u2f` signs rpIdHash,
//! client data hash, credential id and key only: its flags and signature
//! counter are not covered by the signature.

mod fido_u2f;
mod none;
mod packed;
mod statement;

use std::time::{SystemTime, UNIX_EPOCH};

use ciborium::Value;
use serde::Serialize;

use super::VerifyError;
use super::authdata::{Aaguid, AttestedCredentialData, AuthenticatorData, decode};
use super::chain::{self, AnchorSummary};
use super::metadata::Metadata;
use super::x509::CertInfo;

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

/// How far the attestation backs the model the key claims. Every level
/// except the error cases means the attestation signature itself verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrustLevel {
    /// The chain ends at a root the metadata lists for this AAGUID (or
    /// another root of the same maker): a genuine product of that maker.
    MakerRoot,
    /// The chain ends at a known root of a different maker than the one
    /// the metadata names for this AAGUID: the model claim is contradicted.
    OtherMakerRoot,
    /// The chain ends at a known maker root, but the metadata has no entry
    /// for this AAGUID (or the key names none): the maker is known, the
    /// model is not confirmed.
    KnownRoot,
    /// The chain reached a known root but a certificate on the way is
    /// expired, not yet valid, or not allowed to sign certificates.
    InvalidChain,
    /// The signature verifies under the certificate, but the certificate
    /// does not chain to any known root (a test CA, or a certificate the
    /// key made up itself): the model claim is not backed.
    UnknownIssuer,
    /// Self attestation: signed by the credential key; no certificate, so
    /// the model claim is not backed.
    #[serde(rename = "self")]
    SelfAttested,
    /// No attestation at all.
    None,
}

impl TrustLevel {
    /// The kebab-case name used in reports (`maker-root`, `self`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TrustLevel::MakerRoot => "maker-root",
            TrustLevel::OtherMakerRoot => "other-maker-root",
            TrustLevel::KnownRoot => "known-root",
            TrustLevel::InvalidChain => "invalid-chain",
            TrustLevel::UnknownIssuer => "unknown-issuer",
            TrustLevel::SelfAttested => "self",
            TrustLevel::None => "none",
        }
    }

    /// True only when the attestation proves the claimed model's maker.
    pub fn backs_model(self) -> bool {
        self == TrustLevel::MakerRoot
    }
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
    /// True when every signature along the certificate path verified (each
    /// x5c certificate by the next, and the last by the anchor when one was
    /// reached); false without certificates.
    pub chain_signatures_verified: bool,
    /// The AAGUID from the authenticator data.
    pub aaguid: Aaguid,
    /// The parsed authenticator data.
    pub auth_data: AuthenticatorData,
    /// How far the attestation backs the claimed model.
    pub trust: TrustLevel,
    /// The trust anchor the chain ended at, if any.
    pub anchor: Option<AnchorSummary>,
    /// Why the chain does not count or reached no anchor (expired, not a
    /// CA, unchecked algorithm), when there is such a reason.
    pub chain_problem: Option<String>,
    /// The time the chain was checked at, Unix seconds.
    pub checked_at: u64,
}

/// What a check is run against: the time certificates must be valid at,
/// and the metadata that supplies trust anchors.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// Check time, seconds since the Unix epoch.
    pub now: u64,
    /// Trust anchors and models.
    pub metadata: &'a Metadata,
}

impl VerifyOptions<'static> {
    /// Now, against the embedded metadata.
    pub fn current() -> Self {
        VerifyOptions {
            now: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            metadata: Metadata::embedded(),
        }
    }
}

/// What one format module established.
pub(super) enum Signed {
    /// Format `none`.
    Nothing,
    /// Signed by the credential key.
    SelfAttested,
    /// Signed by the first of these certificates (leaf first, as in x5c).
    Certificates(Vec<CertInfo>),
}

/// The inputs every format module works on.
pub(super) struct Context<'a> {
    auth_data_bytes: &'a [u8],
    auth_data: &'a AuthenticatorData,
    credential: &'a AttestedCredentialData,
    att_stmt: &'a Value,
    client_data_hash: &'a [u8; 32],
}

impl Context<'_> {
    /// authData || clientDataHash, what packed signatures cover.
    fn signed_data(&self) -> Vec<u8> {
        let mut signed = Vec::with_capacity(self.auth_data_bytes.len() + 32);
        signed.extend_from_slice(self.auth_data_bytes);
        signed.extend_from_slice(self.client_data_hash);
        signed
    }
}

/// Verifies an attestation statement of format `fmt` over `auth_data` and
/// `client_data_hash`, now, against the embedded metadata (see
/// [`verify_with`]).
pub fn verify(
    fmt: &str,
    auth_data: &[u8],
    att_stmt: &Value,
    client_data_hash: &[u8; 32],
) -> Result<AttestationOutcome, VerifyError> {
    verify_with(
        fmt,
        auth_data,
        att_stmt,
        client_data_hash,
        &VerifyOptions::current(),
    )
}

/// Verifies an attestation statement and validates its certificate chain at
/// `options.now` against `options.metadata`. A signature that does not
/// verify is [`VerifyError::AttestationSignatureInvalid`]; unknown formats
/// give [`VerifyError::UnknownFormat`], registered but unsupported ones
/// (tpm, android-key, apple, …) [`VerifyError::UnsupportedFormat`].
pub fn verify_with(
    fmt: &str,
    auth_data: &[u8],
    att_stmt: &Value,
    client_data_hash: &[u8; 32],
    options: &VerifyOptions<'_>,
) -> Result<AttestationOutcome, VerifyError> {
    let check: fn(&Context<'_>) -> Result<Signed, VerifyError> = match fmt {
        "packed" => packed::verify,
        "fido-u2f" => fido_u2f::verify,
        "none" => none::verify,
        "tpm" | "android-key" | "android-safetynet" | "apple" | "compound" => {
            return Err(VerifyError::UnsupportedFormat(fmt.to_string()));
        }
        other => return Err(VerifyError::UnknownFormat(other.to_string())),
    };
    let parsed = AuthenticatorData::parse(auth_data)?;
    let credential = parsed
        .attested_credential
        .as_ref()
        .ok_or(VerifyError::BadFlags(
            "attestation without attested credential data (AT clear)",
        ))?;
    let ctx = Context {
        auth_data_bytes: auth_data,
        auth_data: &parsed,
        credential,
        att_stmt,
        client_data_hash,
    };
    let signed = check(&ctx)?;
    let aaguid = credential.aaguid;
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
        trust: TrustLevel::None,
        anchor: None,
        chain_problem: None,
        checked_at: options.now,
    };
    match signed {
        Signed::Nothing => {}
        Signed::SelfAttested => {
            outcome.kind = AttestationKind::SelfAttested;
            outcome.trust = TrustLevel::SelfAttested;
        }
        Signed::Certificates(certs) => {
            let verdict = chain::evaluate(&certs, &aaguid, options.metadata, options.now)?;
            if let Some(leaf) = certs.first() {
                outcome.certificate_subject = Some(leaf.subject.clone());
                outcome.certificate_issuer = Some(leaf.issuer.clone());
                outcome.certificate_aaguid = leaf.aaguid;
            }
            outcome.kind = AttestationKind::Basic;
            outcome.chain_len = certs.len();
            outcome.chain_signatures_verified = verdict.signatures_verified;
            outcome.trust = verdict.trust;
            outcome.anchor = verdict.anchor;
            outcome.chain_problem = verdict.problem;
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

    /// Verifies the statement now against the embedded metadata; see [`verify`].
    pub fn verify(&self, client_data_hash: &[u8; 32]) -> Result<AttestationOutcome, VerifyError> {
        verify(&self.fmt, &self.auth_data, &self.att_stmt, client_data_hash)
    }

    /// Verifies the statement with explicit options; see [`verify_with`].
    pub fn verify_with(
        &self,
        client_data_hash: &[u8; 32],
        options: &VerifyOptions<'_>,
    ) -> Result<AttestationOutcome, VerifyError> {
        verify_with(
            &self.fmt,
            &self.auth_data,
            &self.att_stmt,
            client_data_hash,
            options,
        )
    }
}
