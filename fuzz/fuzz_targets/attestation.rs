//! Fuzzes attestation objects end to end: the object (WebAuthn text keys or
//! CTAP2 integer keys), each statement format, the X.509 parser for every
//! x5c certificate and, past the signature check that normally guards it,
//! certificate path validation against the embedded metadata's anchors.
//! Errors are fine; a panic or a "verified" outcome without a signature that
//! verifies is not.

#![no_main]

use ciborium::Value;
use fido_doctor::ctap::verify::attestation::verify_with;
use fido_doctor::ctap::verify::fuzzing::certificate_path;
use fido_doctor::ctap::verify::{AttestationObject, Metadata, TrustLevel, VerifyOptions};
use libfuzzer_sys::fuzz_target;

/// 2026-01-01T00:00:00Z, inside the validity of the corpus certificates.
const NOW: u64 = 1_767_225_600;

fn x5c(stmt: &Value) -> Vec<&[u8]> {
    let Value::Map(entries) = stmt else {
        return Vec::new();
    };
    entries
        .iter()
        .find_map(|(k, v)| match (k, v) {
            (Value::Text(t), Value::Array(items)) if t == "x5c" => Some(items),
            _ => None,
        })
        .map(|items| {
            items
                .iter()
                .filter_map(|i| match i {
                    Value::Bytes(b) => Some(b.as_slice()),
                    _ => None,
                })
                .take(8)
                .collect()
        })
        .unwrap_or_default()
}

fuzz_target!(|data: &[u8]| {
    let Ok(obj) = AttestationObject::parse(data) else {
        // Bare DER: the certificate parser alone.
        let _ = certificate_path(&[data], [0; 16], NOW);
        return;
    };
    let options = VerifyOptions {
        now: NOW,
        metadata: Metadata::embedded(),
    };
    // A client data hash the statement cannot have signed (unless the
    // object was made for it, which the fuzzer cannot do): nothing verifies.
    let cdh = [0x5A; 32];
    if let Ok(out) = verify_with(&obj.fmt, &obj.auth_data, &obj.att_stmt, &cdh, &options) {
        assert!(
            out.trust == TrustLevel::None,
            "{} attestation verified over a foreign client data hash",
            obj.fmt
        );
    }
    let _ = obj.verify_with(&[0; 32], &options);
    let certs = x5c(&obj.att_stmt);
    if !certs.is_empty() {
        let aaguid = obj
            .auth_data
            .get(37..53)
            .and_then(|a| <[u8; 16]>::try_from(a).ok())
            .unwrap_or([0; 16]);
        let _ = certificate_path(&certs, aaguid, NOW);
        let _ = certificate_path(&certs, aaguid, 0);
        let _ = certificate_path(&certs, aaguid, u64::MAX);
    }
});
