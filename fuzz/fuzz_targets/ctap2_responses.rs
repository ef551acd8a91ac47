//! Feeds arbitrary bytes to every response decoder the client has for what
//! an authenticator sends: CTAP2 GetInfo (tolerant: odd optional fields
//! become anomalies), MakeCredential, GetAssertion, ClientPIN (PIN and UV
//! retries, tokens, key agreement) and credential management responses,
//! and U2F VERSION / REGISTER / AUTHENTICATE bodies. None may panic,
//! whatever the input.

#![no_main]

use fido_doctor::ctap::ctap2::pin_protocol::peer_key_from_cose;
use fido_doctor::ctap::ctap2::{
    ALG_EDDSA, ALG_ES256, Assertion, Attestation, ClientPinResponse, GetInfo,
};
use fido_doctor::ctap::keycare::cred_mgmt::CredMgmtResponse;
use fido_doctor::ctap::u2f;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = GetInfo::decode(data) {
        // The accessors the probe and the report use.
        let _ = info.reported_algorithms();
        let _ = (info.supports_alg(ALG_ES256), info.supports_alg(ALG_EDDSA));
        let _ = (info.client_pin(), info.uv(), info.up(), info.resident_key());
        let _ = (info.pin_uv_auth_token(), info.make_cred_uv_not_required());
        let _ = (
            info.is_fido_2_1(),
            info.supports_u2f(),
            info.supports_hmac_secret(),
        );
        assert_eq!(info.algorithms_absent, info.reported_algorithms().is_none());
        let _ = serde_json::to_string(&info).expect("GetInfo serializes");
    }
    let _ = Attestation::decode(data);
    let _ = Assertion::decode(data);
    if let Ok(r) = ClientPinResponse::decode(data) {
        let _ = r.require_pin_retries();
        let _ = r.uv_retries;
        if let Ok(k) = r.require_key_agreement() {
            let _ = peer_key_from_cose(k);
        }
    }
    let _ = CredMgmtResponse::decode(data);
    if let Ok(body) = u2f::expect_ok(data) {
        let _ = u2f::parse_version(body);
        let _ = u2f::U2fRegistration::parse(body);
        let _ = u2f::U2fAuthentication::parse(body);
    }
    let _ = u2f::U2fRegistration::parse(data);
    let _ = u2f::U2fAuthentication::parse(data);
});
