//! The parts of X.509 that attestation needs: decode a certificate, pull out
//! its P-256 key, names, basic constraints and FIDO AAGUID extension, and
//! check that one certificate signed another. No path building, no trust
//! anchors, no revocation, no validity-period check.

use der::asn1::{AnyRef, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Reader, SliceReader};
use x509_cert::Certificate;
use x509_cert::certificate::Version;
use x509_cert::ext::pkix::BasicConstraints;

use super::VerifyError;
use super::authdata::Aaguid;
use super::cose::CoseKey;

/// id-fido-gen-ce-aaguid: the AAGUID extension of FIDO attestation certificates.
const OID_FIDO_AAGUID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.45724.1.1.4");
/// id-ce-basicConstraints.
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
/// id-ecPublicKey.
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// prime256v1 (P-256).
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// ecdsa-with-SHA256.
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// What attestation verification needs from one certificate.
#[derive(Debug, Clone)]
pub(crate) struct CertInfo {
    /// X.509 version 3.
    pub is_v3: bool,
    /// RFC 4514 subject.
    pub subject: String,
    /// RFC 4514 issuer.
    pub issuer: String,
    /// The P-256 public key, if the certificate has one.
    pub p256_key: Option<CoseKey>,
    /// basicConstraints cA (false when the extension is absent).
    pub is_ca: bool,
    /// The AAGUID extension, if present.
    pub aaguid: Option<Aaguid>,
    /// Whether the AAGUID extension was marked critical (WebAuthn forbids it).
    pub aaguid_critical: bool,
    /// Signature algorithm is ecdsa-with-SHA256.
    pub signed_with_es256: bool,
    /// The exact DER of tbsCertificate (what the issuer signed).
    tbs_der: Vec<u8>,
    /// The signature value bytes.
    signature: Vec<u8>,
}

fn bad(msg: impl Into<String>) -> VerifyError {
    VerifyError::BadCertificate(msg.into())
}

/// Decodes a DER certificate.
pub(crate) fn parse(der_bytes: &[u8]) -> Result<CertInfo, VerifyError> {
    let cert =
        Certificate::from_der(der_bytes).map_err(|e| bad(format!("not a DER certificate: {e}")))?;
    let tbs = &cert.tbs_certificate;

    let spki = &tbs.subject_public_key_info;
    let p256_key = if spki.algorithm.oid == OID_EC_PUBLIC_KEY
        && spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            == Some(OID_P256)
    {
        let point = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| bad("public key bit string has unused bits"))?;
        Some(
            CoseKey::from_sec1_uncompressed(point)
                .map_err(|_| bad("P-256 public key is not an uncompressed point"))?,
        )
    } else {
        None
    };

    let mut is_ca = false;
    let mut aaguid = None;
    let mut aaguid_critical = false;
    for ext in tbs.extensions.iter().flatten() {
        if ext.extn_id == OID_BASIC_CONSTRAINTS {
            let bc = BasicConstraints::from_der(ext.extn_value.as_bytes())
                .map_err(|e| bad(format!("basicConstraints: {e}")))?;
            is_ca = bc.ca;
        } else if ext.extn_id == OID_FIDO_AAGUID {
            // extnValue wraps an OCTET STRING holding the 16 AAGUID bytes.
            let inner = OctetString::from_der(ext.extn_value.as_bytes())
                .map_err(|e| bad(format!("AAGUID extension: {e}")))?;
            let bytes = <[u8; 16]>::try_from(inner.as_bytes())
                .map_err(|_| bad("AAGUID extension is not 16 bytes"))?;
            aaguid = Some(Aaguid(bytes));
            aaguid_critical = ext.critical;
        }
    }

    let signature = cert
        .signature
        .as_bytes()
        .ok_or_else(|| bad("signature bit string has unused bits"))?
        .to_vec();

    Ok(CertInfo {
        is_v3: tbs.version == Version::V3,
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        p256_key,
        is_ca,
        aaguid,
        aaguid_critical,
        signed_with_es256: cert.signature_algorithm.oid == OID_ECDSA_SHA256,
        tbs_der: raw_tbs(der_bytes)?,
        signature,
    })
}

/// The exact bytes of tbsCertificate, taken from the original encoding.
fn raw_tbs(der_bytes: &[u8]) -> Result<Vec<u8>, VerifyError> {
    let mut reader = SliceReader::new(der_bytes).map_err(|e| bad(e.to_string()))?;
    let tbs = reader
        .sequence(|r| {
            let tbs = AnyRef::decode(r)?;
            // Skip signatureAlgorithm and signature.
            AnyRef::decode(r)?;
            AnyRef::decode(r)?;
            Ok(tbs)
        })
        .map_err(|e| bad(e.to_string()))?;
    tbs.to_der().map_err(|e| bad(e.to_string()))
}

impl CertInfo {
    /// Checks that `issuer`'s P-256 key signed this certificate (ES256 only).
    /// `Ok(false)` when the signature uses an algorithm this crate cannot check.
    pub(crate) fn verify_signed_by(&self, issuer: &CertInfo) -> Result<bool, VerifyError> {
        let Some(key) = issuer.p256_key.as_ref() else {
            return Ok(false);
        };
        if !self.signed_with_es256 {
            return Ok(false);
        }
        key.verify(&self.tbs_der, &self.signature).map_err(|_| {
            bad(format!(
                "certificate \"{}\" is not signed by \"{}\"",
                self.subject, issuer.subject
            ))
        })?;
        Ok(true)
    }
}
