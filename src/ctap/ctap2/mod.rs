//! CTAP2 commands (CTAP 2.0/2.1): request encoding in canonical CBOR and
//! typed, panic-free decoding of authenticator responses, plus the PIN/UV
//! auth protocols 1 and 2. Pure functions: no I/O happens here.

pub mod cbor;
pub mod client_pin;
pub mod command;
pub mod get_assertion;
pub mod get_info;
pub mod hex_serde;
pub mod make_credential;
pub mod pin_protocol;

pub use client_pin::{ClientPinResponse, Permissions};
pub use command::{
    ClientPinRequest, Command, GetInfoRequest, GetNextAssertionRequest, SelectionRequest,
};
pub use get_assertion::{Assertion, GetAssertionRequest};
pub use get_info::GetInfo;
pub use make_credential::{Attestation, MakeCredentialRequest};
pub use pin_protocol::{Pin, PinError, PinProtocol, PinProtocolVersion};

/// CTAP2 command bytes (sent with CTAPHID_CBOR).
pub mod cmd {
    /// authenticatorMakeCredential.
    pub const MAKE_CREDENTIAL: u8 = 0x01;
    /// authenticatorGetAssertion.
    pub const GET_ASSERTION: u8 = 0x02;
    /// authenticatorGetInfo.
    pub const GET_INFO: u8 = 0x04;
    /// authenticatorClientPIN.
    pub const CLIENT_PIN: u8 = 0x06;
    /// authenticatorReset.
    pub const RESET: u8 = 0x07;
    /// authenticatorGetNextAssertion.
    pub const GET_NEXT_ASSERTION: u8 = 0x08;
    /// authenticatorSelection (CTAP 2.1).
    pub const SELECTION: u8 = 0x0B;
}

/// COSE algorithm identifier for ES256 (ECDSA P-256 with SHA-256).
pub const ALG_ES256: i64 = -7;
/// COSE algorithm identifier for EdDSA (Ed25519).
pub const ALG_EDDSA: i64 = -8;

/// A CTAP2 response that could not be decoded: the authenticator sent bytes
/// that are not what the specification says. All variants mean "malformed".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not well-formed CBOR (truncated, garbage, trailing bytes, too deep).
    #[error("malformed CBOR in {what}: {reason}")]
    Cbor {
        /// Which response.
        what: &'static str,
        /// Parser message.
        reason: String,
    },
    /// A required field is absent.
    #[error("malformed {what}: required field {key} missing")]
    Missing {
        /// Which response.
        what: &'static str,
        /// The integer key.
        key: i64,
    },
    /// A field has the wrong CBOR type.
    #[error("malformed {what}: field {field} is not a {expected}")]
    WrongType {
        /// Which response.
        what: &'static str,
        /// Field key or name.
        field: String,
        /// The expected type.
        expected: &'static str,
    },
    /// A field has the right type but an impossible value.
    #[error("malformed {what}: field {field}: {reason}")]
    Invalid {
        /// Which response.
        what: &'static str,
        /// Field key or name.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

/// The GetNextAssertion request has no parameters.
pub fn encode_get_next_assertion() -> Vec<u8> {
    Vec::new()
}

/// The authenticatorSelection request has no parameters.
pub fn encode_selection() -> Vec<u8> {
    Vec::new()
}

/// The GetInfo request has no parameters.
pub fn encode_get_info() -> Vec<u8> {
    Vec::new()
}

impl DecodeError {
    /// Which response was being decoded.
    pub fn what(&self) -> &'static str {
        match self {
            DecodeError::Cbor { what, .. }
            | DecodeError::Missing { what, .. }
            | DecodeError::WrongType { what, .. }
            | DecodeError::Invalid { what, .. } => what,
        }
    }

    /// What was wrong, without the response name.
    pub fn detail(&self) -> String {
        match self {
            DecodeError::Cbor { reason, .. } => format!("invalid CBOR: {reason}"),
            DecodeError::Missing { key, .. } => format!("required field {key} missing"),
            DecodeError::WrongType {
                field, expected, ..
            } => format!("field {field} is not a {expected}"),
            DecodeError::Invalid { field, reason, .. } => format!("field {field}: {reason}"),
        }
    }
}

impl From<DecodeError> for crate::ctap::error::CtapError {
    fn from(e: DecodeError) -> Self {
        crate::ctap::error::CtapError::malformed(e.what(), e.detail())
    }
}
