//! Relying-party style verification of what an authenticator returns:
//! authenticator data, COSE public keys, attestation statements and
//! assertion signatures. Pure functions over bytes — no I/O.
//!
//! Attestation certificate chains are validated against the trust anchors
//! of the embedded FIDO metadata ([`metadata`]); the outcome's
//! [`TrustLevel`] says whether the chain backs the model the key claims.

pub mod assertion;
pub mod attestation;
pub mod authdata;
pub mod chain;
pub mod cose;
pub mod metadata;
mod x509;

pub use attestation::{
    AttestationKind, AttestationObject, AttestationOutcome, TrustLevel, VerifyOptions,
};
pub use authdata::{Aaguid, AttestedCredentialData, AuthenticatorData, Flags};
pub use chain::AnchorSummary;
pub use cose::CoseKey;
pub use metadata::{Metadata, ModelEntry, StatusReport, StatusWeight};

/// Everything that can make verification fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The input ended before `what` was complete.
    #[error("truncated data: {what} is incomplete")]
    Truncated {
        /// The field that was being read.
        what: &'static str,
    },
    /// Bytes were left over after a complete structure.
    #[error("{count} unexpected trailing byte(s) after {what}")]
    TrailingBytes {
        /// The structure that was complete.
        what: &'static str,
        /// How many bytes were left.
        count: usize,
    },
    /// The flags byte contradicts the data or a requirement.
    #[error("bad authenticator data flags: {0}")]
    BadFlags(&'static str),
    /// A credential id longer than WebAuthn allows (1023 bytes).
    #[error("credential id of {0} bytes is longer than the 1023 bytes allowed")]
    CredentialIdTooLong(usize),
    /// The authenticator data is for a different relying party.
    #[error("rpIdHash does not match the relying party id")]
    RpIdHashMismatch,
    /// User presence was required but the UP flag is clear.
    #[error("user presence was required but the UP flag is clear")]
    UserNotPresent,
    /// User verification was required but the UV flag is clear.
    #[error("user verification was required but the UV flag is clear")]
    UserNotVerified,
    /// A COSE algorithm this crate does not verify (e.g. RS256 = -257).
    #[error("unsupported COSE algorithm {0}")]
    UnsupportedAlgorithm(i64),
    /// The statement's algorithm differs from the key's.
    #[error("algorithm {statement} in the statement does not match the key's algorithm {key}")]
    AlgorithmMismatch {
        /// `alg` from the attestation statement.
        statement: i64,
        /// Algorithm of the key that must have signed.
        key: i64,
    },
    /// A malformed COSE key (wrong key type, curve, or coordinates).
    #[error("bad COSE key: {0}")]
    BadKey(String),
    /// A signature that is malformed or does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// The attestation statement's signature (over the new credential) does
    /// not verify: the key's answer cannot be trusted.
    #[error("the attestation signature does not verify")]
    AttestationSignatureInvalid,
    /// An attestation certificate that is malformed or violates WebAuthn's rules.
    #[error("bad attestation certificate: {0}")]
    BadCertificate(String),
    /// The certificate's AAGUID extension differs from the authenticator data.
    #[error("certificate AAGUID {certificate} differs from authenticator data AAGUID {auth_data}")]
    AaguidMismatch {
        /// AAGUID in the certificate extension 1.3.6.1.4.1.45724.1.1.4.
        certificate: Aaguid,
        /// AAGUID in the attested credential data.
        auth_data: Aaguid,
    },
    /// A required field is absent.
    #[error("missing field: {0}")]
    MissingField(&'static str),
    /// A field has the wrong CBOR type or an impossible value.
    #[error("invalid field {field}: {reason}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Bytes that are not well-formed CBOR.
    #[error("malformed CBOR: {0}")]
    BadCbor(String),
    /// An attestation format that is not registered with WebAuthn.
    #[error("unknown attestation format {0:?}")]
    UnknownFormat(String),
    /// A registered attestation format this crate does not verify (tpm, apple, …).
    #[error("attestation format {0:?} is not supported")]
    UnsupportedFormat(String),
}

/// Entry points for the fuzz targets in `fuzz/`, built only with
/// `--cfg fuzzing` (which cargo-fuzz sets): certificate parsing and path
/// validation, which the attestation signature check otherwise shields
/// from arbitrary input.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    use super::authdata::Aaguid;
    use super::metadata::Metadata;
    use super::{TrustLevel, VerifyError, chain, x509};

    /// Parses each DER certificate (leaf first) and validates the path at
    /// `now` against the embedded metadata for a key claiming `aaguid`.
    pub fn certificate_path(
        ders: &[&[u8]],
        aaguid: [u8; 16],
        now: u64,
    ) -> Result<TrustLevel, VerifyError> {
        let certs = ders
            .iter()
            .map(|d| x509::parse(d))
            .collect::<Result<Vec<_>, _>>()?;
        for c in &certs {
            let _ = c.valid_at(now);
        }
        let verdict = chain::evaluate(&certs, &Aaguid(aaguid), Metadata::embedded(), now)?;
        Ok(verdict.trust)
    }
}
