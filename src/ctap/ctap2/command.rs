//! Each CTAP2 command byte tied to its request encoding and its response
//! type: a [`Command`] knows its byte, how long the key may take, how to
//! encode itself and how to decode the answer, so a caller cannot send a
//! GetAssertion request and decode the answer as GetInfo.

use super::DecodeError;
use super::client_pin::ClientPinResponse;
use super::cmd;
use super::get_assertion::{Assertion, GetAssertionRequest};
use super::get_info::GetInfo;
use super::make_credential::{Attestation, MakeCredentialRequest};

/// A CTAP2 command: request encoding and response decoding.
pub trait Command {
    /// The command byte sent before the CBOR parameters.
    const CMD: u8;
    /// True for commands without crypto or user action (answered at once).
    const QUICK: bool;
    /// What the authenticator answers.
    type Response;
    /// The CBOR parameters (empty for commands without parameters).
    fn encode(&self) -> Vec<u8>;
    /// Decodes the answer body (status byte already stripped).
    fn decode(body: &[u8]) -> Result<Self::Response, DecodeError>;
}

/// authenticatorGetInfo (0x04): no parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct GetInfoRequest;

impl Command for GetInfoRequest {
    const CMD: u8 = cmd::GET_INFO;
    const QUICK: bool = true;
    type Response = GetInfo;
    fn encode(&self) -> Vec<u8> {
        Vec::new()
    }
    fn decode(body: &[u8]) -> Result<GetInfo, DecodeError> {
        GetInfo::decode(body)
    }
}

impl Command for MakeCredentialRequest {
    const CMD: u8 = cmd::MAKE_CREDENTIAL;
    const QUICK: bool = false;
    type Response = Attestation;
    fn encode(&self) -> Vec<u8> {
        MakeCredentialRequest::encode(self)
    }
    fn decode(body: &[u8]) -> Result<Attestation, DecodeError> {
        Attestation::decode(body)
    }
}

impl Command for GetAssertionRequest {
    const CMD: u8 = cmd::GET_ASSERTION;
    const QUICK: bool = false;
    type Response = Assertion;
    fn encode(&self) -> Vec<u8> {
        GetAssertionRequest::encode(self)
    }
    fn decode(body: &[u8]) -> Result<Assertion, DecodeError> {
        Assertion::decode(body)
    }
}

/// authenticatorClientPIN (0x06) with parameters already encoded by one of
/// the `client_pin::encode_*` functions (subcommands differ in fields).
#[derive(Debug, Clone)]
pub struct ClientPinRequest(pub Vec<u8>);

impl Command for ClientPinRequest {
    const CMD: u8 = cmd::CLIENT_PIN;
    const QUICK: bool = false;
    type Response = ClientPinResponse;
    fn encode(&self) -> Vec<u8> {
        self.0.clone()
    }
    fn decode(body: &[u8]) -> Result<ClientPinResponse, DecodeError> {
        ClientPinResponse::decode(body)
    }
}

/// authenticatorGetNextAssertion (0x08): no parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct GetNextAssertionRequest;

impl Command for GetNextAssertionRequest {
    const CMD: u8 = cmd::GET_NEXT_ASSERTION;
    const QUICK: bool = true;
    type Response = Assertion;
    fn encode(&self) -> Vec<u8> {
        Vec::new()
    }
    fn decode(body: &[u8]) -> Result<Assertion, DecodeError> {
        Assertion::decode(body)
    }
}

/// authenticatorSelection (0x0B, CTAP 2.1): no parameters; the key blinks
/// until touched and answers with an empty body.
#[derive(Debug, Clone, Copy, Default)]
pub struct SelectionRequest;

impl Command for SelectionRequest {
    const CMD: u8 = cmd::SELECTION;
    const QUICK: bool = false;
    type Response = ();
    fn encode(&self) -> Vec<u8> {
        Vec::new()
    }
    fn decode(_body: &[u8]) -> Result<(), DecodeError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_bytes_match_the_specification() {
        assert_eq!(MakeCredentialRequest::CMD, 0x01);
        assert_eq!(GetAssertionRequest::CMD, 0x02);
        assert_eq!(GetInfoRequest::CMD, 0x04);
        assert_eq!(ClientPinRequest::CMD, 0x06);
        assert_eq!(GetNextAssertionRequest::CMD, 0x08);
        assert_eq!(SelectionRequest::CMD, 0x0B);
        assert!(GetInfoRequest.encode().is_empty());
        assert!(SelectionRequest::decode(&[]).is_ok());
    }
}
