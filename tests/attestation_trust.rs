//! Certificate path validation and trust levels of packed attestations made
//! here: two test "makers" with their own roots in a metadata table built
//! for the test, so that a chain to the maker the AAGUID names, to the other
//! maker, to nobody, through an expired or non-CA certificate, and a leaf
//! whose signature BIT STRING has unused bits can each be produced.

#[path = "certs/mod.rs"]
mod certs;

use ciborium::Value;
use fido_doctor::ctap::verify::attestation::{self, TrustLevel, VerifyOptions};
use fido_doctor::ctap::verify::{Metadata, VerifyError};
use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::Signer;
use sha2::{Digest, Sha256};

/// The AAGUID the keys made here claim: a model of maker A.
const MODEL_A: [u8; 16] = [0xaa; 16];
/// A model of maker B.
const MODEL_B: [u8; 16] = [0xbb; 16];

const ROOT_A: &str = "CN=Maker A Root,O=Maker A,C=JP";
const ROOT_B: &str = "CN=Maker B Root,O=Maker B,C=JP";
const INTER_A: &str = "CN=Maker A Batch CA,O=Maker A,C=JP";
const LEAF: &str = "CN=Key,OU=Authenticator Attestation,O=Maker A,C=JP";
/// Inside every certificate's validity (2024-01-01).
const NOW: u64 = 1_704_067_200;

fn key(byte: u8) -> SigningKey {
    SigningKey::from_bytes(&[byte; 32].into()).unwrap()
}

fn spec<'a>(
    subject: &'a str,
    issuer: &'a str,
    key: &'a SigningKey,
    signer: &'a SigningKey,
    ca: bool,
) -> certs::Spec<'a> {
    certs::Spec {
        subject,
        issuer,
        key,
        signer,
        version: x509_cert::certificate::Version::V3,
        ca: Some(ca),
        aaguid: None,
        not_before: certs::NOT_BEFORE,
        not_after: certs::NOT_AFTER,
        sig_unused_bits: 0,
    }
}

struct Makers {
    root_a: Vec<u8>,
    root_b: Vec<u8>,
    metadata: Metadata,
}

/// Two makers' roots, model A listed under root A and model B under root B.
fn makers() -> Makers {
    let (ka, kb) = (key(0x0a), key(0x0b));
    // Roots valid from 2014 (the validity test checks leaves back to 2017).
    let root = |name, k| {
        certs::make(&certs::Spec {
            not_before: 1_400_000_000,
            ..spec(name, name, k, k, true)
        })
    };
    let root_a = root(ROOT_A, &ka);
    let root_b = root(ROOT_B, &kb);
    let anchor = |der: &[u8], maker: &str, name: &str| {
        format!(
            r#"{{"sha256":"{}","maker":"{maker}","name":"{name}","source":"test","der":"{}"}}"#,
            hex::encode(Sha256::digest(der)),
            hex::encode(der)
        )
    };
    let model = |aaguid: [u8; 16], name: &str, anchor: usize| {
        let h = hex::encode(aaguid);
        format!(
            r#"{{"aaguid":"{}-{}-{}-{}-{}","name":"{name}","roaming":true,"biometric":false,"pin":true,"anchors":[{anchor}]}}"#,
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    };
    let json = format!(
        r#"{{"blob_no":1,"next_update":"","legal_header":"","anchors":[{},{}],"models":[{},{}]}}"#,
        anchor(&root_a, "makera", "Maker A Root"),
        anchor(&root_b, "makerb", "Maker B Root"),
        model(MODEL_A, "Model A", 0),
        model(MODEL_B, "Model B", 1),
    );
    Makers {
        root_a,
        root_b,
        metadata: Metadata::parse(&json).unwrap(),
    }
}

fn cose_p256(k: &SigningKey) -> Vec<u8> {
    let p = k.verifying_key().to_encoded_point(false);
    let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
    out.extend_from_slice(p.x().unwrap());
    out.extend_from_slice(&[0x22, 0x58, 0x20]);
    out.extend_from_slice(p.y().unwrap());
    out
}

fn auth_data(aaguid: [u8; 16]) -> Vec<u8> {
    let mut out = Sha256::digest(b"login.microsoft.com").to_vec();
    out.push(0x45); // UP, UV, AT
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&aaguid);
    out.extend_from_slice(&16u16.to_be_bytes());
    out.extend_from_slice(&[0x77; 16]);
    out.extend_from_slice(&cose_p256(&key(0x42)));
    out
}

const CDH: [u8; 32] = [0x11; 32];

/// A packed attestation over `aaguid` signed by `attestation_key` with `x5c`.
fn verify(
    aaguid: [u8; 16],
    attestation_key: &SigningKey,
    x5c: Vec<Vec<u8>>,
    md: &Metadata,
    now: u64,
) -> Result<attestation::AttestationOutcome, VerifyError> {
    let ad = auth_data(aaguid);
    let mut msg = ad.clone();
    msg.extend_from_slice(&CDH);
    let sig: p256::ecdsa::DerSignature = attestation_key.sign(&msg);
    let stmt = Value::Map(vec![
        (Value::Text("alg".into()), Value::Integer((-7).into())),
        (
            Value::Text("sig".into()),
            Value::Bytes(sig.as_bytes().to_vec()),
        ),
        (
            Value::Text("x5c".into()),
            Value::Array(x5c.into_iter().map(Value::Bytes).collect()),
        ),
    ]);
    attestation::verify_with(
        "packed",
        &ad,
        &stmt,
        &CDH,
        &VerifyOptions { now, metadata: md },
    )
}

fn leaf_of(aaguid: [u8; 16], issuer: &str, signer: &SigningKey) -> Vec<u8> {
    certs::make(&certs::Spec {
        aaguid: Some((aaguid, false)),
        ..spec(LEAF, issuer, &key(0x23), signer, false)
    })
}

#[test]
fn a_leaf_signed_by_the_listed_root_is_the_makers() {
    let m = makers();
    let leaf = leaf_of(MODEL_A, ROOT_A, &key(0x0a));
    let out = verify(MODEL_A, &key(0x23), vec![leaf.clone()], &m.metadata, NOW).unwrap();
    assert_eq!(out.trust, TrustLevel::MakerRoot);
    let anchor = out.anchor.unwrap();
    assert_eq!(anchor.name, "Maker A Root");
    assert!(anchor.listed_for_aaguid);
    assert!(out.chain_signatures_verified);
    assert_eq!(out.chain_problem, None);
    // The root may also be sent in x5c: it is found in the chain itself.
    let out = verify(MODEL_A, &key(0x23), vec![leaf, m.root_a], &m.metadata, NOW).unwrap();
    assert_eq!(out.trust, TrustLevel::MakerRoot);
    assert_eq!(out.chain_len, 2);
}

#[test]
fn an_intermediate_must_be_a_ca_and_signed_by_the_root() {
    let m = makers();
    let inter = certs::make(&spec(INTER_A, ROOT_A, &key(0x1a), &key(0x0a), true));
    let leaf = leaf_of(MODEL_A, INTER_A, &key(0x1a));
    let out = verify(
        MODEL_A,
        &key(0x23),
        vec![leaf.clone(), inter],
        &m.metadata,
        NOW,
    )
    .unwrap();
    assert_eq!(out.trust, TrustLevel::MakerRoot);
    // The same intermediate without cA=true may not sign certificates.
    let not_ca = certs::make(&spec(INTER_A, ROOT_A, &key(0x1a), &key(0x0a), false));
    let out = verify(
        MODEL_A,
        &key(0x23),
        vec![leaf.clone(), not_ca],
        &m.metadata,
        NOW,
    )
    .unwrap();
    assert_eq!(out.trust, TrustLevel::InvalidChain);
    assert!(out.chain_problem.unwrap().contains("not a CA"));
    // An intermediate signed by a key that is not the root's reaches no root.
    let forged = certs::make(&spec(INTER_A, ROOT_A, &key(0x1a), &key(0x5f), true));
    let out = verify(MODEL_A, &key(0x23), vec![leaf, forged], &m.metadata, NOW).unwrap();
    assert_eq!(out.trust, TrustLevel::UnknownIssuer);
    assert!(out.anchor.is_none());
}

#[test]
fn a_chain_to_another_makers_root_contradicts_the_model() {
    let m = makers();
    // Claims model A, but maker B's root signed the certificate.
    let leaf = leaf_of(MODEL_A, ROOT_B, &key(0x0b));
    let out = verify(MODEL_A, &key(0x23), vec![leaf], &m.metadata, NOW).unwrap();
    assert_eq!(out.trust, TrustLevel::OtherMakerRoot);
    let anchor = out.anchor.unwrap();
    assert_eq!(anchor.maker, "makerb");
    assert!(!anchor.listed_for_aaguid);
    assert!(!out.trust.backs_model());
    // The same chain for model B is genuine.
    let leaf = leaf_of(MODEL_B, ROOT_B, &key(0x0b));
    let out = verify(MODEL_B, &key(0x23), vec![leaf], &m.metadata, NOW).unwrap();
    assert_eq!(out.trust, TrustLevel::MakerRoot);
    assert!(m.root_b.len() > 100);
}

#[test]
fn a_test_ca_or_a_made_up_certificate_is_an_unknown_issuer() {
    let m = makers();
    // A test CA with the maker's very name but its own key.
    let test_ca_key = key(0x7e);
    let test_ca = certs::make(&spec(ROOT_A, ROOT_A, &test_ca_key, &test_ca_key, true));
    let leaf = leaf_of(MODEL_A, ROOT_A, &test_ca_key);
    let out = verify(MODEL_A, &key(0x23), vec![leaf, test_ca], &m.metadata, NOW).unwrap();
    assert_eq!(out.trust, TrustLevel::UnknownIssuer);
    // A self-signed leaf made up at start-up.
    let made_up = certs::make(&certs::Spec {
        aaguid: Some((MODEL_A, false)),
        ..spec(LEAF, LEAF, &key(0x23), &key(0x23), false)
    });
    let out = verify(MODEL_A, &key(0x23), vec![made_up], &m.metadata, NOW).unwrap();
    assert_eq!(out.trust, TrustLevel::UnknownIssuer);
    assert_eq!(out.kind, attestation::AttestationKind::Basic);
}

#[test]
fn validity_is_checked_at_the_check_time() {
    let m = makers();
    let leaf = certs::make(&certs::Spec {
        aaguid: Some((MODEL_A, false)),
        not_before: 1_600_000_000,
        not_after: 1_650_000_000, // 2022-04-15
        ..spec(LEAF, ROOT_A, &key(0x23), &key(0x0a), false)
    });
    let inside = verify(
        MODEL_A,
        &key(0x23),
        vec![leaf.clone()],
        &m.metadata,
        1_620_000_000,
    )
    .unwrap();
    assert_eq!(inside.trust, TrustLevel::MakerRoot);
    let after = verify(MODEL_A, &key(0x23), vec![leaf.clone()], &m.metadata, NOW).unwrap();
    assert_eq!(after.trust, TrustLevel::InvalidChain);
    assert!(
        after
            .chain_problem
            .unwrap()
            .contains("expired on 2022-04-15")
    );
    let before = verify(MODEL_A, &key(0x23), vec![leaf], &m.metadata, 1_500_000_000).unwrap();
    assert_eq!(before.trust, TrustLevel::InvalidChain);
    assert!(before.chain_problem.unwrap().contains("not valid before"));
}

#[test]
fn an_expired_maker_root_invalidates_the_chain() {
    let m = makers();
    let leaf = leaf_of(MODEL_A, ROOT_A, &key(0x0a));
    // certs::NOT_AFTER is 2033-05-18; check in 2040.
    let out = verify(MODEL_A, &key(0x23), vec![leaf], &m.metadata, 2_208_988_800).unwrap();
    assert_eq!(out.trust, TrustLevel::InvalidChain);
    let problem = out.chain_problem.unwrap();
    assert!(problem.contains("expired on 2033-05-18"), "{problem}");
    assert_eq!(out.anchor.unwrap().name, "Maker A Root");
}

#[test]
fn a_bad_attestation_signature_is_its_own_error() {
    let m = makers();
    let leaf = leaf_of(MODEL_A, ROOT_A, &key(0x0a));
    // Signed by a key that is not the certificate's.
    assert_eq!(
        verify(MODEL_A, &key(0x24), vec![leaf], &m.metadata, NOW).map(|_| ()),
        Err(VerifyError::AttestationSignatureInvalid)
    );
}

#[test]
fn a_leaf_whose_signature_has_unused_bits_is_accepted_when_not_checked() {
    let m = makers();
    // Made-up leaf (no known issuer): its own signature is never checked,
    // so the odd BIT STRING does not matter.
    let odd = certs::make(&certs::Spec {
        aaguid: Some((MODEL_A, false)),
        sig_unused_bits: 3,
        ..spec(LEAF, "CN=Nobody", &key(0x23), &key(0x23), false)
    });
    let out = verify(MODEL_A, &key(0x23), vec![odd], &m.metadata, NOW).unwrap();
    assert_eq!(out.trust, TrustLevel::UnknownIssuer);
    // When the signature must be checked (issued by maker A's root), such a
    // signature cannot verify: the chain does not reach the root.
    let odd = certs::make(&certs::Spec {
        aaguid: Some((MODEL_A, false)),
        sig_unused_bits: 3,
        ..spec(LEAF, ROOT_A, &key(0x23), &key(0x0a), false)
    });
    let out = verify(MODEL_A, &key(0x23), vec![odd], &m.metadata, NOW).unwrap();
    assert_eq!(out.trust, TrustLevel::UnknownIssuer);
}

#[test]
fn trust_levels_serialise_kebab_case() {
    for (t, s) in [
        (TrustLevel::MakerRoot, "maker-root"),
        (TrustLevel::OtherMakerRoot, "other-maker-root"),
        (TrustLevel::KnownRoot, "known-root"),
        (TrustLevel::InvalidChain, "invalid-chain"),
        (TrustLevel::UnknownIssuer, "unknown-issuer"),
        (TrustLevel::SelfAttested, "self"),
        (TrustLevel::None, "none"),
    ] {
        assert_eq!(serde_json::to_value(t).unwrap(), serde_json::json!(s));
        assert_eq!(t.as_str(), s);
    }
}
