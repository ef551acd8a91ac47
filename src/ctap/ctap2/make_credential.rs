//! authenticatorMakeCredential (0x01): request encoding and the attestation
//! object returned (fmt, authData, attStmt).

use ciborium::Value;
use serde::Serialize;

use super::DecodeError;
use super::cbor::{IntMap, bytes, encode_int_map, int, text};

const WHAT: &str = "MakeCredential response";

/// A PublicKeyCredentialDescriptor `{"id": …, "type": "public-key"}`.
pub fn credential_descriptor(id: &[u8]) -> Value {
    Value::Map(vec![
        (text("id"), bytes(id)),
        (text("type"), text("public-key")),
    ])
}

/// Builds the options map (only set keys), or `None` if empty.
pub(crate) fn options(entries: &[(&str, Option<bool>)]) -> Option<Value> {
    let map: Vec<(Value, Value)> = entries
        .iter()
        .filter_map(|(k, v)| v.map(|b| (text(k), Value::Bool(b))))
        .collect();
    (!map.is_empty()).then_some(Value::Map(map))
}

/// Parameters of authenticatorMakeCredential.
#[derive(Debug, Clone, PartialEq)]
pub struct MakeCredentialRequest {
    /// 0x01 clientDataHash (SHA-256 of the clientDataJSON).
    pub client_data_hash: [u8; 32],
    /// 0x02 rp.id.
    pub rp_id: String,
    /// 0x02 rp.name.
    pub rp_name: Option<String>,
    /// 0x03 user.id (at most 64 bytes).
    pub user_id: Vec<u8>,
    /// 0x03 user.name.
    pub user_name: Option<String>,
    /// 0x03 user.displayName.
    pub user_display_name: Option<String>,
    /// 0x04 pubKeyCredParams: COSE algorithms in order of preference.
    pub algorithms: Vec<i64>,
    /// 0x05 excludeList: credential ids.
    pub exclude_list: Vec<Vec<u8>>,
    /// 0x07 options.rk (discoverable credential); sent only when true.
    pub rk: bool,
    /// 0x07 options.uv (built-in user verification); sent only when set.
    pub uv: Option<bool>,
    /// 0x08 pinUvAuthParam.
    pub pin_uv_auth_param: Option<Vec<u8>>,
    /// 0x09 pinUvAuthProtocol.
    pub pin_uv_auth_protocol: Option<u64>,
}

impl MakeCredentialRequest {
    /// Encodes the request parameters as canonical CBOR.
    pub fn encode(&self) -> Vec<u8> {
        let mut rp = vec![(text("id"), text(&self.rp_id))];
        if let Some(n) = &self.rp_name {
            rp.push((text("name"), text(n)));
        }
        let mut user = vec![(text("id"), bytes(&self.user_id))];
        if let Some(n) = &self.user_name {
            user.push((text("name"), text(n)));
        }
        if let Some(n) = &self.user_display_name {
            user.push((text("displayName"), text(n)));
        }
        let params = self
            .algorithms
            .iter()
            .map(|alg| {
                Value::Map(vec![
                    (text("alg"), int(*alg)),
                    (text("type"), text("public-key")),
                ])
            })
            .collect();
        let exclude = (!self.exclude_list.is_empty()).then(|| {
            Value::Array(
                self.exclude_list
                    .iter()
                    .map(|id| credential_descriptor(id))
                    .collect(),
            )
        });
        encode_int_map(vec![
            (0x01, Some(bytes(&self.client_data_hash))),
            (0x02, Some(Value::Map(rp))),
            (0x03, Some(Value::Map(user))),
            (0x04, Some(Value::Array(params))),
            (0x05, exclude),
            (
                0x07,
                options(&[("rk", self.rk.then_some(true)), ("uv", self.uv)]),
            ),
            (0x08, self.pin_uv_auth_param.as_deref().map(bytes)),
            (0x09, self.pin_uv_auth_protocol.map(|p| int(p as i64))),
        ])
    }
}

/// The attestation object returned by authenticatorMakeCredential.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attestation {
    /// 0x01 fmt: attestation statement format ("packed", "fido-u2f", "none", ...).
    pub fmt: String,
    /// 0x02 authData, raw.
    #[serde(serialize_with = "super::hex_serde::bytes")]
    pub auth_data: Vec<u8>,
    /// 0x03 attStmt, kept as CBOR for the verifier.
    #[serde(skip)]
    pub att_stmt: Value,
    /// 0x04 epAtt: enterprise attestation was returned.
    pub ep_att: Option<bool>,
    /// 0x05 largeBlobKey.
    #[serde(skip)]
    pub large_blob_key: Option<Vec<u8>>,
}

impl Attestation {
    /// Decodes a MakeCredential response body.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut m = IntMap::decode(data, WHAT)?;
        let fmt = m.required(0x01, IntMap::text)?;
        let auth_data = m.required(0x02, IntMap::bytes)?;
        let att_stmt = match m.take(0x03) {
            Some(v @ Value::Map(_)) => v,
            Some(_) => {
                return Err(DecodeError::WrongType {
                    what: WHAT,
                    field: "3 (attStmt)".into(),
                    expected: "map",
                });
            }
            None => {
                return Err(DecodeError::Missing {
                    what: WHAT,
                    key: 0x03,
                });
            }
        };
        Ok(Self {
            fmt,
            auth_data,
            att_stmt,
            ep_att: m.boolean(0x04)?,
            large_blob_key: m.bytes(0x05)?,
        })
    }
}
