//! Fuzzes the authenticator data and COSE key parsers: arbitrary bytes must
//! give a value or an error, never a panic, and a parsed value must be
//! consistent with its input.
#![no_main]

use fido_doctor::ctap::verify::{AuthenticatorData, CoseKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = AuthenticatorData::parse(data) {
        assert_eq!(parsed.flags.raw, data[32]);
        assert_eq!(
            parsed.flags.attested_data,
            parsed.attested_credential.is_some()
        );
        assert_eq!(parsed.flags.extension_data, parsed.extensions_raw.is_some());
        if let Some(cred) = &parsed.attested_credential {
            let _ = cred.public_key();
        }
    }
    if let Ok(key) = CoseKey::from_bytes(data) {
        // Canonical re-encoding must parse back to the same key.
        assert_eq!(CoseKey::from_bytes(&key.to_cbor()).ok(), Some(key.clone()));
        let _ = key.verify(data, data);
    }
});
