//! Test certificates: X.509 v1/v3 certificates with P-256 keys, signed
//! ES256, with optional basicConstraints and FIDO AAGUID extensions, chosen
//! validity and (for the tolerance test) a signature BIT STRING with unused
//! bits. Shared by the verification test crates.
#![allow(dead_code)]

use std::str::FromStr;
use std::time::Duration;

use der::Encode;
use der::asn1::{BitString, ObjectIdentifier, OctetString, UtcTime};
use p256::ecdsa::{DerSignature, SigningKey, signature::Signer};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

pub struct Spec<'a> {
    pub subject: &'a str,
    pub issuer: &'a str,
    pub key: &'a SigningKey,
    pub signer: &'a SigningKey,
    pub version: Version,
    pub ca: Option<bool>,
    pub aaguid: Option<([u8; 16], bool)>,
    /// Validity period, Unix seconds.
    pub not_before: u64,
    pub not_after: u64,
    /// Encode the signature BIT STRING with this many unused bits (0 = normal).
    pub sig_unused_bits: u8,
}

/// The default validity of certificates made here: 2023-11-14 .. 2033-05-18.
pub const NOT_BEFORE: u64 = 1_700_000_000;
pub const NOT_AFTER: u64 = 2_000_000_000;

fn ecdsa_sha256() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"),
        parameters: None,
    }
}

fn time(secs: u64) -> Time {
    Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(secs)).unwrap())
}

pub fn make(spec: &Spec) -> Vec<u8> {
    let mut extensions = Vec::new();
    if let Some(ca) = spec.ca {
        let bc = BasicConstraints {
            ca,
            path_len_constraint: None,
        };
        extensions.push(Extension {
            extn_id: ObjectIdentifier::new_unwrap("2.5.29.19"),
            critical: true,
            extn_value: OctetString::new(bc.to_der().unwrap()).unwrap(),
        });
    }
    if let Some((aaguid, critical)) = spec.aaguid {
        let inner = OctetString::new(aaguid.to_vec()).unwrap();
        extensions.push(Extension {
            extn_id: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.45724.1.1.4"),
            critical,
            extn_value: OctetString::new(inner.to_der().unwrap()).unwrap(),
        });
    }
    let tbs = TbsCertificate {
        version: spec.version,
        serial_number: SerialNumber::new(&[0x01, 0x23]).unwrap(),
        signature: ecdsa_sha256(),
        issuer: Name::from_str(spec.issuer).unwrap(),
        validity: Validity {
            not_before: time(spec.not_before),
            not_after: time(spec.not_after),
        },
        subject: Name::from_str(spec.subject).unwrap(),
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_key(*spec.key.verifying_key())
            .unwrap(),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: if extensions.is_empty() {
            None
        } else {
            Some(extensions)
        },
    };
    let sig: DerSignature = spec.signer.sign(&tbs.to_der().unwrap());
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: ecdsa_sha256(),
        signature: BitString::new(spec.sig_unused_bits, sig.as_bytes()).unwrap(),
    };
    cert.to_der().unwrap()
}
