//! The parts of X.509 that attestation needs: decode a certificate, pull out
//! its public key (P-256, P-384 or RSA), names, validity period, basic
//! constraints and FIDO AAGUID extension, and check that one certificate
//! signed another (ECDSA with SHA-256/384/512, RSA PKCS#1 v1.5 with
//! SHA-256/384/512). Path building against trust anchors lives in
//! [`super::chain`]. No revocation.

use der::asn1::{AnyRef, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Reader, SliceReader};
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::Certificate;
use x509_cert::certificate::Version;
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::name::Name;

use super::VerifyError;
use super::authdata::Aaguid;
use super::cose::CoseKey;

/// id-fido-gen-ce-aaguid: the AAGUID extension of FIDO attestation certificates.
const OID_FIDO_AAGUID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.45724.1.1.4");
/// id-ce-basicConstraints.
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
/// id-ecPublicKey.
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// rsaEncryption.
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// prime256v1 (P-256).
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// secp384r1 (P-384).
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// Signature algorithms this module can check: (OID, hash, family).
const SIG_ALGS: &[(ObjectIdentifier, Hash, Family)] = &[
    (
        ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"),
        Hash::Sha256,
        Family::Ecdsa,
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3"),
        Hash::Sha384,
        Family::Ecdsa,
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4"),
        Hash::Sha512,
        Family::Ecdsa,
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11"),
        Hash::Sha256,
        Family::Rsa,
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12"),
        Hash::Sha384,
        Family::Rsa,
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13"),
        Hash::Sha512,
        Family::Rsa,
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Ecdsa,
    Rsa,
}

/// A certificate's public key, as far as signatures can be checked with it.
#[derive(Debug, Clone)]
pub(crate) enum PublicKey {
    /// P-256 (also the key attestation statements are signed with).
    P256(CoseKey),
    /// P-384.
    P384(Box<p384::ecdsa::VerifyingKey>),
    /// RSA.
    Rsa(Box<rsa::RsaPublicKey>),
    /// Anything else (P-521, unusual encodings): signatures are not checked.
    Unsupported,
}

/// What attestation verification needs from one certificate.
#[derive(Debug, Clone)]
pub(crate) struct CertInfo {
    /// X.509 version 3.
    pub is_v3: bool,
    /// RFC 4514 subject.
    pub subject: String,
    /// RFC 4514 issuer.
    pub issuer: String,
    /// The subject name, for matching against an issuer name.
    pub subject_name: Name,
    /// The issuer name.
    pub issuer_name: Name,
    /// The P-256 public key, if the certificate has one.
    pub p256_key: Option<CoseKey>,
    /// The public key in any supported form.
    pub key: PublicKey,
    /// basicConstraints cA (false when the extension is absent).
    pub is_ca: bool,
    /// The AAGUID extension, if present.
    pub aaguid: Option<Aaguid>,
    /// Whether the AAGUID extension was marked critical (WebAuthn forbids it).
    pub aaguid_critical: bool,
    /// notBefore, seconds since the Unix epoch.
    pub not_before: u64,
    /// notAfter, seconds since the Unix epoch.
    pub not_after: u64,
    /// The whole certificate, DER.
    pub der: Vec<u8>,
    /// The exact DER of tbsCertificate (what the issuer signed).
    tbs_der: Vec<u8>,
    /// The signature algorithm, when it is one this module checks.
    sig_alg: Option<(Hash, Family)>,
    /// The signature bytes; `None` when the BIT STRING has unused bits (such a
    /// certificate is accepted as long as its signature is never checked).
    signature: Option<Vec<u8>>,
}

fn bad(msg: impl Into<String>) -> VerifyError {
    VerifyError::BadCertificate(msg.into())
}

fn public_key(spki: &spki::SubjectPublicKeyInfoOwned) -> PublicKey {
    let Some(bits) = spki.subject_public_key.as_bytes() else {
        return PublicKey::Unsupported;
    };
    if spki.algorithm.oid == OID_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        if curve == Some(OID_P256) {
            return CoseKey::from_sec1_uncompressed(bits)
                .map(PublicKey::P256)
                .unwrap_or(PublicKey::Unsupported);
        }
        if curve == Some(OID_P384) {
            return p384::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                .map(|k| PublicKey::P384(Box::new(k)))
                .unwrap_or(PublicKey::Unsupported);
        }
    } else if spki.algorithm.oid == OID_RSA {
        use rsa::pkcs1::DecodeRsaPublicKey;
        return rsa::RsaPublicKey::from_pkcs1_der(bits)
            .map(|k| PublicKey::Rsa(Box::new(k)))
            .unwrap_or(PublicKey::Unsupported);
    }
    PublicKey::Unsupported
}

/// Decodes a DER certificate.
pub(crate) fn parse(der_bytes: &[u8]) -> Result<CertInfo, VerifyError> {
    let cert =
        Certificate::from_der(der_bytes).map_err(|e| bad(format!("not a DER certificate: {e}")))?;
    let tbs = &cert.tbs_certificate;

    let key = public_key(&tbs.subject_public_key_info);
    let p256_key = match &key {
        PublicKey::P256(k) => Some(k.clone()),
        _ => None,
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

    let sig_alg = SIG_ALGS
        .iter()
        .find(|(oid, _, _)| *oid == cert.signature_algorithm.oid)
        .map(|(_, h, f)| (*h, *f));
    let validity = &tbs.validity;
    Ok(CertInfo {
        is_v3: tbs.version == Version::V3,
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        subject_name: tbs.subject.clone(),
        issuer_name: tbs.issuer.clone(),
        p256_key,
        key,
        is_ca,
        aaguid,
        aaguid_critical,
        not_before: validity.not_before.to_unix_duration().as_secs(),
        not_after: validity.not_after.to_unix_duration().as_secs(),
        der: der_bytes.to_vec(),
        tbs_der: raw_tbs(der_bytes)?,
        sig_alg,
        signature: cert.signature.as_bytes().map(<[u8]>::to_vec),
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

/// How a signature check between two certificates came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignedBy {
    /// The issuer's key signed this certificate.
    Yes,
    /// The signature does not verify under the issuer's key.
    No,
    /// The algorithm or key type is one this module does not check.
    Unchecked,
}

impl CertInfo {
    /// True when `time` (Unix seconds) is inside the validity period.
    pub(crate) fn valid_at(&self, time: u64) -> bool {
        self.not_before <= time && time <= self.not_after
    }

    /// Checks whether `issuer_key` signed this certificate.
    pub(crate) fn signed_by_key(&self, issuer_key: &PublicKey) -> SignedBy {
        let Some((hash, family)) = self.sig_alg else {
            return SignedBy::Unchecked;
        };
        let Some(sig) = self.signature.as_deref() else {
            // A signature BIT STRING with unused bits cannot be a valid
            // ECDSA or RSA signature.
            return SignedBy::No;
        };
        let digest: Vec<u8> = match hash {
            Hash::Sha256 => Sha256::digest(&self.tbs_der).to_vec(),
            Hash::Sha384 => Sha384::digest(&self.tbs_der).to_vec(),
            Hash::Sha512 => Sha512::digest(&self.tbs_der).to_vec(),
        };
        let ok = match (family, issuer_key) {
            (Family::Ecdsa, PublicKey::P256(k)) => k.verify_prehash_der(&digest, sig),
            (Family::Ecdsa, PublicKey::P384(k)) => {
                use p384::ecdsa::signature::hazmat::PrehashVerifier;
                p384::ecdsa::Signature::from_der(sig)
                    .is_ok_and(|s| k.verify_prehash(&digest, &s).is_ok())
            }
            (Family::Rsa, PublicKey::Rsa(k)) => {
                let scheme = match hash {
                    Hash::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
                    Hash::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
                    Hash::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
                };
                k.verify(scheme, &digest, sig).is_ok()
            }
            _ => return SignedBy::Unchecked,
        };
        if ok { SignedBy::Yes } else { SignedBy::No }
    }

    /// Checks that `issuer` signed this certificate. `Ok(false)` when the
    /// signature uses an algorithm or key this module cannot check.
    pub(crate) fn verify_signed_by(&self, issuer: &CertInfo) -> Result<bool, VerifyError> {
        match self.signed_by_key(&issuer.key) {
            SignedBy::Yes => Ok(true),
            SignedBy::Unchecked => Ok(false),
            SignedBy::No => Err(bad(format!(
                "certificate \"{}\" is not signed by \"{}\"",
                self.subject, issuer.subject
            ))),
        }
    }
}
