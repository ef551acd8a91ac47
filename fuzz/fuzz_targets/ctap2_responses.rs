//! Feeds arbitrary bytes to every response decoder the client has for what
//! an authenticator sends: CTAP2 GetInfo, MakeCredential, GetAssertion and
//! ClientPIN responses, and U2F VERSION / REGISTER / AUTHENTICATE bodies.
//! None may panic, whatever the input.

#![no_main]

use fido_doctor::ctap::ctap2::{Assertion, Attestation, ClientPinResponse, GetInfo};
use fido_doctor::ctap::u2f;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = GetInfo::decode(data);
    let _ = Attestation::decode(data);
    let _ = Assertion::decode(data);
    if let Ok(r) = ClientPinResponse::decode(data) {
        let _ = r
            .require_key_agreement()
            .map(|k| fido_doctor::ctap::ctap2::pin_protocol::peer_key_from_cose(k));
    }
    if let Ok(body) = u2f::expect_ok(data) {
        let _ = u2f::parse_version(body);
        let _ = u2f::U2fRegistration::parse(body);
        let _ = u2f::U2fAuthentication::parse(body);
    }
    let _ = u2f::U2fRegistration::parse(data);
    let _ = u2f::U2fAuthentication::parse(data);
});
