//! authenticatorGetAssertion (0x02) and GetNextAssertion (0x08): request
//! encoding and the assertion returned.

use ciborium::Value;
use serde::Serialize;

use super::DecodeError;
use super::cbor::{IntMap, bytes, encode_int_map, int, text, text_key};
use super::make_credential::{credential_descriptor, options};

const WHAT: &str = "GetAssertion response";

/// Parameters of authenticatorGetAssertion.
#[derive(Debug, Clone, PartialEq)]
pub struct GetAssertionRequest {
    /// 0x01 rpId.
    pub rp_id: String,
    /// 0x02 clientDataHash.
    pub client_data_hash: [u8; 32],
    /// 0x03 allowList: credential ids.
    pub allow_list: Vec<Vec<u8>>,
    /// 0x05 options.up (sent only when set; default true).
    pub up: Option<bool>,
    /// 0x05 options.uv (sent only when set).
    pub uv: Option<bool>,
    /// 0x06 pinUvAuthParam.
    pub pin_uv_auth_param: Option<Vec<u8>>,
    /// 0x07 pinUvAuthProtocol.
    pub pin_uv_auth_protocol: Option<u64>,
}

impl GetAssertionRequest {
    /// Encodes the request parameters as canonical CBOR.
    pub fn encode(&self) -> Vec<u8> {
        let allow = (!self.allow_list.is_empty()).then(|| {
            Value::Array(
                self.allow_list
                    .iter()
                    .map(|id| credential_descriptor(id))
                    .collect(),
            )
        });
        encode_int_map(vec![
            (0x01, Some(text(&self.rp_id))),
            (0x02, Some(bytes(&self.client_data_hash))),
            (0x03, allow),
            (0x05, options(&[("up", self.up), ("uv", self.uv)])),
            (0x06, self.pin_uv_auth_param.as_deref().map(bytes)),
            (0x07, self.pin_uv_auth_protocol.map(|p| int(p as i64))),
        ])
    }
}

/// The user entity in an assertion (discoverable credentials only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssertionUser {
    /// user.id.
    #[serde(serialize_with = "super::hex_serde::bytes")]
    pub id: Vec<u8>,
    /// user.name, if the key returns it.
    pub name: Option<String>,
    /// user.displayName, if the key returns it.
    pub display_name: Option<String>,
}

/// A GetAssertion / GetNextAssertion response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assertion {
    /// 0x01 credential.id (may be omitted when the allowList had one entry).
    #[serde(serialize_with = "super::hex_serde::opt_bytes")]
    pub credential_id: Option<Vec<u8>>,
    /// 0x02 authData, raw.
    #[serde(serialize_with = "super::hex_serde::bytes")]
    pub auth_data: Vec<u8>,
    /// 0x03 signature.
    #[serde(serialize_with = "super::hex_serde::bytes")]
    pub signature: Vec<u8>,
    /// 0x04 user.
    pub user: Option<AssertionUser>,
    /// 0x05 numberOfCredentials.
    pub number_of_credentials: Option<u64>,
    /// 0x06 userSelected.
    pub user_selected: Option<bool>,
}

impl Assertion {
    /// Decodes a GetAssertion or GetNextAssertion response body.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut m = IntMap::decode(data, WHAT)?;
        let credential_id = match m.map(0x01)? {
            None => None,
            Some(entries) => match text_key(&entries, "id") {
                Some(Value::Bytes(id)) => Some(id.clone()),
                _ => return Err(wrong("1 (credential).id", "byte string")),
            },
        };
        let auth_data = m.required(0x02, IntMap::bytes)?;
        let signature = m.required(0x03, IntMap::bytes)?;
        let user = match m.map(0x04)? {
            None => None,
            Some(entries) => {
                let id = match text_key(&entries, "id") {
                    Some(Value::Bytes(id)) => id.clone(),
                    _ => return Err(wrong("4 (user).id", "byte string")),
                };
                let opt_text = |k: &str| match text_key(&entries, k) {
                    Some(Value::Text(t)) => Some(t.clone()),
                    _ => None,
                };
                Some(AssertionUser {
                    id,
                    name: opt_text("name"),
                    display_name: opt_text("displayName"),
                })
            }
        };
        Ok(Self {
            credential_id,
            auth_data,
            signature,
            user,
            number_of_credentials: m.uint(0x05)?,
            user_selected: m.boolean(0x06)?,
        })
    }
}

fn wrong(field: &str, expected: &'static str) -> DecodeError {
    DecodeError::WrongType {
        what: WHAT,
        field: field.into(),
        expected,
    }
}
