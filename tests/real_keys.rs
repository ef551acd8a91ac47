//! The corpus of real key answers (tests/data/verify/real_vectors.toml) and
//! the authenticatorGetInfo every hardware model declares in the FIDO
//! metadata: each answer decodes, and its model, Entra eligibility and
//! attestation trust are judged as the reference data says.
//!
//! Attestations are checked at 2026-01-01T00:00:00Z (1767225600), a time
//! inside the validity window of every certificate in the corpus, so the
//! result does not depend on when the test runs. The expectations in the
//! TOML were computed from the reference data by
//! scripts/corpus_expectations.py (openssl path validation, the MDS3 payload
//! and Microsoft's list), not by this program.

use std::collections::BTreeMap;

use ciborium::Value;
use fido_doctor::content::ContentSource;
use fido_doctor::content::aaguid::{AaguidTable, AuthenticatorKind};
use fido_doctor::ctap::ctap2::get_info::GetInfo;
use fido_doctor::ctap::u2f::U2fRegistration;
use fido_doctor::ctap::verify::attestation::{AttestationObject, TrustLevel, VerifyOptions};
use fido_doctor::ctap::verify::{Metadata, VerifyError, attestation};
use fido_doctor::diagnose::{KeyFacts, PinState, Protocol};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// 2026-01-01T00:00:00Z.
const CHECK_TIME: u64 = 1_767_225_600;

#[derive(Deserialize)]
struct Corpus {
    vector: Vec<Vector>,
    get_info: Vec<GetInfoEntry>,
    u2f_register: Vec<U2fEntry>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    expect_aaguid: String,
    expect_model: String,
    expect_eligible: bool,
    expect_trust: String,
    expect_error: Option<String>,
    registration_client_data_json: String,
    client_data_hash: Option<String>,
    attestation_object: String,
}

#[derive(Deserialize)]
struct GetInfoEntry {
    name: String,
    expect_aaguid: String,
    expect_model: String,
    expect_eligible: bool,
    response: String,
}

#[derive(Deserialize)]
struct U2fEntry {
    name: String,
    expect_trust: String,
    app_param: String,
    client_param: String,
    response: String,
}

fn corpus() -> Corpus {
    toml::from_str(include_str!("data/verify/real_vectors.toml")).expect("corpus parses")
}

fn table() -> AaguidTable {
    AaguidTable::load(&ContentSource::Embedded).expect("aaguid table")
}

fn options() -> VerifyOptions<'static> {
    VerifyOptions {
        now: CHECK_TIME,
        metadata: Metadata::embedded(),
    }
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

/// Facts of a key that otherwise meets every Entra requirement.
fn good_key(aaguid: &str) -> KeyFacts {
    KeyFacts {
        protocol: Some(Protocol::Fido2),
        versions: vec!["FIDO_2_0".into()],
        aaguid: Some(aaguid.into()),
        rk: Some(true),
        client_pin: Some(PinState::Set),
        hmac_secret: Some(true),
        ..KeyFacts::unknown("hid:/dev/hidraw0")
    }
}

#[test]
fn the_corpus_covers_several_models_and_all_kinds_of_answer() {
    let c = corpus();
    let mut models: Vec<&str> = c
        .vector
        .iter()
        .map(|v| v.expect_model.as_str())
        .chain(c.get_info.iter().map(|g| g.expect_model.as_str()))
        .filter(|m| !m.is_empty())
        .collect();
    models.sort_unstable();
    models.dedup();
    assert!(models.len() >= 8, "{models:?}");
    assert!(c.vector.len() >= 20);
    assert!(c.get_info.len() >= 4);
    assert!(!c.u2f_register.is_empty());
}

#[test]
fn every_real_attestation_is_judged_as_the_reference_says() {
    let table = table();
    for v in corpus().vector {
        let object = AttestationObject::parse(&unhex(&v.attestation_object));
        let cdh: [u8; 32] = match &v.client_data_hash {
            Some(h) => unhex(h).try_into().expect("32 bytes"),
            None => Sha256::digest(v.registration_client_data_json.as_bytes()).into(),
        };
        let result = object.and_then(|o| o.verify_with(&cdh, &options()));
        if let Some(err) = &v.expect_error {
            assert_eq!(err, "malformed-auth-data", "{}", v.name);
            assert!(
                matches!(
                    result,
                    Err(VerifyError::TrailingBytes { .. } | VerifyError::BadCbor(_))
                ),
                "{}: {result:?}",
                v.name
            );
            continue;
        }
        let out = result.unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(out.aaguid.to_string(), v.expect_aaguid, "{}", v.name);
        assert_eq!(out.trust.as_str(), v.expect_trust, "{}", v.name);
        if out.trust == TrustLevel::MakerRoot {
            assert!(out.chain_signatures_verified, "{}", v.name);
        }

        let mut key = good_key(&v.expect_aaguid);
        key.apply_attestation(&out);
        key.apply_aaguid_table(&table);
        let passkey_id = table
            .lookup_str(&v.expect_aaguid)
            .is_some_and(|r| r.kind == AuthenticatorKind::Platform)
            || Metadata::embedded()
                .lookup_str(&v.expect_aaguid)
                .is_some_and(|m| !m.roaming);
        if passkey_id {
            // Answered like a security key with a passkey provider's id:
            // another product's id, model unknown, not eligible.
            assert!(key.aaguid_foreign, "{}", v.name);
            assert_eq!(key.model, None, "{}", v.name);
            assert_eq!(key.eligible, Some(false), "{}", v.name);
            assert!(!key.entra_check().meets(), "{}", v.name);
            continue;
        }
        if !v.expect_model.is_empty() {
            assert_eq!(
                key.model.as_deref(),
                Some(v.expect_model.as_str()),
                "{}",
                v.name
            );
        }
        assert_eq!(key.eligible, Some(v.expect_eligible), "{}", v.name);
        assert_eq!(
            key.attestation_verified.is_some(),
            out.trust != TrustLevel::None
        );
        let entra = key.entra_check();
        assert_eq!(
            entra.meets(),
            v.expect_eligible && v.expect_trust == "maker-root",
            "{}: {:?}",
            v.name,
            entra.missing()
        );
        if v.expect_eligible && v.expect_trust != "maker-root" {
            assert_eq!(entra.missing(), vec!["attestation"], "{}", v.name);
        }
    }
}

#[test]
fn every_real_get_info_decodes_and_names_its_model() {
    let table = table();
    for g in corpus().get_info {
        let info =
            GetInfo::decode(&unhex(&g.response)).unwrap_or_else(|e| panic!("{}: {e}", g.name));
        let mut key = KeyFacts::unknown("hid:/dev/hidraw0");
        key.apply_get_info(&info);
        key.apply_aaguid_table(&table);
        assert_eq!(
            key.aaguid.as_deref(),
            Some(g.expect_aaguid.as_str()),
            "{}",
            g.name
        );
        assert_eq!(
            key.model.as_deref(),
            Some(g.expect_model.as_str()),
            "{}",
            g.name
        );
        assert_eq!(key.eligible, Some(g.expect_eligible), "{}", g.name);
        assert!(!key.aaguid_foreign, "{}", g.name);
        assert_eq!(
            key.biometric,
            Some(info.options.contains_key("uv")),
            "{}",
            g.name
        );
        let entra = key.entra_check();
        assert_eq!(entra.fido2, Some(true), "{}", g.name);
        assert_eq!(
            entra.on_microsoft_list,
            Some(g.expect_eligible),
            "{}",
            g.name
        );
        // Without a registration nothing is known about the attestation.
        assert_eq!(entra.attestation_backed, None, "{}", g.name);
        assert!(!entra.meets(), "{}", g.name);
    }
}

/// Builds the fido-u2f attestation a client makes from a U2F REGISTER answer.
fn u2f_attestation(reg: &U2fRegistration, app: &[u8]) -> (Vec<u8>, Value) {
    let point = &reg.user_public_key;
    let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
    cose.extend_from_slice(&point[1..33]);
    cose.extend_from_slice(&[0x22, 0x58, 0x20]);
    cose.extend_from_slice(&point[33..65]);
    let mut ad = app.to_vec();
    ad.push(0x41);
    ad.extend_from_slice(&[0; 4 + 16]);
    ad.extend_from_slice(&u16::try_from(reg.key_handle.len()).unwrap().to_be_bytes());
    ad.extend_from_slice(&reg.key_handle);
    ad.extend_from_slice(&cose);
    let stmt = Value::Map(vec![
        (
            Value::Text("sig".into()),
            Value::Bytes(reg.signature.clone()),
        ),
        (
            Value::Text("x5c".into()),
            Value::Array(vec![Value::Bytes(reg.attestation_cert.clone())]),
        ),
    ]);
    (ad, stmt)
}

#[test]
fn every_real_u2f_registration_verifies_and_chains_to_its_maker() {
    for u in corpus().u2f_register {
        let reg = U2fRegistration::parse(&unhex(&u.response))
            .unwrap_or_else(|e| panic!("{}: {e}", u.name));
        let (ad, stmt) = u2f_attestation(&reg, &unhex(&u.app_param));
        let cdh: [u8; 32] = unhex(&u.client_param).try_into().unwrap();
        let out = attestation::verify_with("fido-u2f", &ad, &stmt, &cdh, &options())
            .unwrap_or_else(|e| panic!("{}: {e}", u.name));
        assert_eq!(out.trust.as_str(), u.expect_trust, "{}", u.name);
        assert_eq!(out.anchor.map(|a| a.maker).as_deref(), Some("yubico"));
        // Another challenge: the same answer no longer verifies.
        let other = [0u8; 32];
        assert_eq!(
            attestation::verify_with("fido-u2f", &ad, &stmt, &other, &options()).map(|_| ()),
            Err(VerifyError::AttestationSignatureInvalid),
            "{}",
            u.name
        );
    }
}

// ---------------------------------------------------------------------------
// The authenticatorGetInfo each hardware model declares in the metadata
// ---------------------------------------------------------------------------

/// authenticatorGetInfo member names and their CBOR keys.
const GET_INFO_KEYS: &[(&str, i64)] = &[
    ("versions", 1),
    ("extensions", 2),
    ("aaguid", 3),
    ("options", 4),
    ("maxMsgSize", 5),
    ("pinUvAuthProtocols", 6),
    ("maxCredentialCountInList", 7),
    ("maxCredentialIdLength", 8),
    ("transports", 9),
    ("algorithms", 10),
    ("minPINLength", 13),
    ("firmwareVersion", 14),
    ("remainingDiscoverableCredentials", 20),
];

fn json_to_cbor(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i.into()),
            None => Value::Float(n.as_f64().unwrap_or_default()),
        },
        serde_json::Value::String(s) => Value::Text(s.clone()),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(json_to_cbor).collect()),
        serde_json::Value::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| (Value::Text(k.clone()), json_to_cbor(v)))
                .collect(),
        ),
    }
}

fn aaguid_bytes(text: &str) -> Vec<u8> {
    hex::decode(text.replace('-', "")).unwrap_or_default()
}

/// Encodes a declared GetInfo (JSON, as in the metadata) as the CBOR answer
/// a key of the model `aaguid` would send: integer keys in ascending order,
/// the model's own AAGUID as bytes.
fn encode_get_info(gi: &serde_json::Value, aaguid: &str) -> Vec<u8> {
    let mut map: BTreeMap<i64, Value> = BTreeMap::new();
    for (name, key) in GET_INFO_KEYS {
        let Some(v) = gi.get(*name) else { continue };
        let value = if *name == "aaguid" {
            Value::Bytes(aaguid_bytes(aaguid))
        } else {
            json_to_cbor(v)
        };
        map.insert(*key, value);
    }
    let value = Value::Map(
        map.into_iter()
            .map(|(k, v)| (Value::Integer(k.into()), v))
            .collect(),
    );
    let mut out = Vec::new();
    ciborium::into_writer(&value, &mut out).unwrap();
    out
}

#[test]
fn every_hardware_model_in_the_metadata_is_judged_as_it_declares() {
    let md = Metadata::embedded();
    let table = table();
    let mut checked = 0;
    let mut foreign = Vec::new();
    let mut copied = Vec::new();
    for entry in md.models.iter().filter(|m| m.is_hardware_key()) {
        let Some(gi) = &entry.get_info else { continue };
        // A few statements copy another model's GetInfo (its AAGUID differs):
        // the key itself answers with its own AAGUID.
        let declared = gi.get("aaguid").and_then(|a| a.as_str()).map(aaguid_bytes);
        if declared.is_some_and(|d| d != aaguid_bytes(&entry.aaguid)) {
            copied.push(entry.name.clone());
        }
        let bytes = encode_get_info(gi, &entry.aaguid);
        let info = GetInfo::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", entry.name));
        assert_eq!(
            fido_doctor::content::aaguid::Aaguid(info.aaguid).to_string(),
            entry.aaguid,
            "{}",
            entry.name
        );
        let mut key = KeyFacts::unknown("hid:/dev/hidraw0");
        key.apply_get_info(&info);
        key.apply_aaguid_table(&table);
        let row = table.lookup_str(&entry.aaguid);
        if row.is_some_and(|r| r.kind == AuthenticatorKind::Platform) {
            // The content table gives this AAGUID to a passkey provider: a
            // key answering with it is using another product's id.
            assert!(key.aaguid_foreign, "{}", entry.name);
            assert_eq!(key.model, None);
            foreign.push(entry.aaguid.clone());
            continue;
        }
        assert!(!key.aaguid_foreign, "{}", entry.name);
        assert_eq!(key.model.as_deref(), Some(entry.name.as_str()));
        assert_ne!(
            key.kind,
            Some(AuthenticatorKind::Platform),
            "{}",
            entry.name
        );
        // GetInfo decides built-in verification, whatever the tables say.
        assert_eq!(
            key.biometric,
            Some(info.options.contains_key("uv")),
            "{}",
            entry.name
        );
        assert_eq!(
            key.eligible,
            Some(row.is_some_and(|r| r.eligible)),
            "{}",
            entry.name
        );
        let entra = key.entra_check();
        let declares = |name: &str| {
            gi.get("options")
                .and_then(|o| o.get(name))
                .and_then(|b| b.as_bool())
        };
        assert_eq!(
            entra.discoverable,
            Some(declares("rk") == Some(true)),
            "{}",
            entry.name
        );
        assert_eq!(
            entra.hmac_secret,
            Some(info.extensions.iter().any(|e| e == "hmac-secret")),
            "{}",
            entry.name
        );
        assert_eq!(
            entra.user_verification,
            Some(declares("clientPin").is_some() || declares("uv") == Some(true)),
            "{}",
            entry.name
        );
        checked += 1;
    }
    assert!(checked > 250, "only {checked} hardware models checked");
    assert!(foreign.len() < 5, "{foreign:?}");
    assert!(copied.len() < 10, "{copied:?}");
}
