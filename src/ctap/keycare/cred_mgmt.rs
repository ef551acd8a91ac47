//! authenticatorCredentialManagement (0x0A, or 0x41 on 2.1-preview keys):
//! the read-only subcommands — getCredsMetadata, enumerateRPsBegin /
//! GetNextRP, enumerateCredentialsBegin / GetNextCredential — encoded in
//! canonical CBOR with their pinUvAuthParam, and their responses decoded
//! tolerantly (unknown fields ignored). Nothing here deletes or updates.

use ciborium::Value;
use sha2::{Digest, Sha256};

use crate::ctap::ctap2::DecodeError;
use crate::ctap::ctap2::cbor::{IntMap, bytes, encode_canonical, encode_int_map, int, text_key};

use super::token::Token;

const WHAT: &str = "CredentialManagement response";

/// Read-only subcommand numbers.
pub mod sub {
    /// getCredsMetadata.
    pub const GET_CREDS_METADATA: u8 = 0x01;
    /// enumerateRPsBegin.
    pub const ENUMERATE_RPS_BEGIN: u8 = 0x02;
    /// enumerateRPsGetNextRP.
    pub const ENUMERATE_RPS_NEXT: u8 = 0x03;
    /// enumerateCredentialsBegin.
    pub const ENUMERATE_CREDENTIALS_BEGIN: u8 = 0x04;
    /// enumerateCredentialsGetNextCredential.
    pub const ENUMERATE_CREDENTIALS_NEXT: u8 = 0x05;
}

/// A subcommand that needs the token: {1: sub, 2: params?, 3: protocol, 4: param},
/// where param = authenticate(token, sub || params).
fn authenticated(sub: u8, params: Option<Value>, token: &Token) -> Vec<u8> {
    let mut message = vec![sub];
    if let Some(p) = &params {
        message.extend_from_slice(&encode_canonical(p));
    }
    let auth = token.authenticate(&message);
    encode_int_map(vec![
        (0x01, Some(int(i64::from(sub)))),
        (0x02, params),
        (0x03, Some(int(token.version.number() as i64))),
        (0x04, Some(bytes(&auth))),
    ])
}

/// getCredsMetadata request.
pub fn encode_get_creds_metadata(token: &Token) -> Vec<u8> {
    authenticated(sub::GET_CREDS_METADATA, None, token)
}

/// enumerateRPsBegin request.
pub fn encode_enumerate_rps_begin(token: &Token) -> Vec<u8> {
    authenticated(sub::ENUMERATE_RPS_BEGIN, None, token)
}

/// enumerateRPsGetNextRP request (no token needed).
pub fn encode_enumerate_rps_next() -> Vec<u8> {
    encode_int_map(vec![(0x01, Some(int(i64::from(sub::ENUMERATE_RPS_NEXT))))])
}

/// enumerateCredentialsBegin request for the relying party with `rp_id_hash`.
pub fn encode_enumerate_credentials_begin(token: &Token, rp_id_hash: &[u8]) -> Vec<u8> {
    let params = Value::Map(vec![(int(0x01), bytes(rp_id_hash))]);
    authenticated(sub::ENUMERATE_CREDENTIALS_BEGIN, Some(params), token)
}

/// enumerateCredentialsGetNextCredential request (no token needed).
pub fn encode_enumerate_credentials_next() -> Vec<u8> {
    encode_int_map(vec![(
        0x01,
        Some(int(i64::from(sub::ENUMERATE_CREDENTIALS_NEXT))),
    )])
}

/// SHA-256 of an RP id, as credential management identifies relying parties.
pub fn rp_id_hash(rp_id: &str) -> [u8; 32] {
    Sha256::digest(rp_id.as_bytes()).into()
}

/// A relying party as the key stores it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RpEntity {
    /// `id`.
    pub id: Option<String>,
    /// `name`, when the key kept one.
    pub name: Option<String>,
}

/// A user entity as the key stores it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserEntity {
    /// `id` (the relying party's opaque user handle).
    pub id: Vec<u8>,
    /// `name` (for Entra ID, the sign-in name).
    pub name: Option<String>,
    /// `displayName`.
    pub display_name: Option<String>,
}

/// The fields a credential management response may carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredMgmtResponse {
    /// 0x01 existingResidentCredentialsCount.
    pub existing: Option<u64>,
    /// 0x02 maxPossibleRemainingResidentCredentialsCount.
    pub remaining: Option<u64>,
    /// 0x03 rp.
    pub rp: Option<RpEntity>,
    /// 0x04 rpIDHash.
    pub rp_id_hash: Option<Vec<u8>>,
    /// 0x05 totalRPs.
    pub total_rps: Option<u64>,
    /// 0x06 user.
    pub user: Option<UserEntity>,
    /// 0x07 credentialID (descriptor `id`).
    pub credential_id: Option<Vec<u8>>,
    /// 0x09 totalCredentials.
    pub total_credentials: Option<u64>,
    /// 0x0A credProtect.
    pub cred_protect: Option<u64>,
}

fn text_field(
    map: &[(Value, Value)],
    key: &str,
    field: &str,
) -> Result<Option<String>, DecodeError> {
    match text_key(map, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Text(t)) => Ok(Some(t.clone())),
        Some(_) => Err(DecodeError::WrongType {
            what: WHAT,
            field: format!("{field}.{key}"),
            expected: "text string",
        }),
    }
}

impl CredMgmtResponse {
    /// Decodes a response; an empty body is a valid, empty response.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        if data.is_empty() {
            return Ok(Self::default());
        }
        let mut m = IntMap::decode(data, WHAT)?;
        let rp = match m.map(0x03)? {
            None => None,
            Some(e) => Some(RpEntity {
                id: text_field(&e, "id", "3 (rp)")?,
                name: text_field(&e, "name", "3 (rp)")?,
            }),
        };
        let user = match m.map(0x06)? {
            None => None,
            Some(e) => Some(UserEntity {
                id: match text_key(&e, "id") {
                    Some(Value::Bytes(b)) => b.clone(),
                    _ => Vec::new(),
                },
                name: text_field(&e, "name", "6 (user)")?,
                display_name: text_field(&e, "displayName", "6 (user)")?,
            }),
        };
        let credential_id = match m.map(0x07)? {
            None => None,
            Some(e) => match text_key(&e, "id") {
                Some(Value::Bytes(b)) => Some(b.clone()),
                _ => {
                    return Err(DecodeError::Missing {
                        what: WHAT,
                        key: 0x07,
                    });
                }
            },
        };
        Ok(Self {
            existing: m.uint(0x01)?,
            remaining: m.uint(0x02)?,
            rp,
            rp_id_hash: m.bytes(0x04)?,
            total_rps: m.uint(0x05)?,
            user,
            credential_id,
            total_credentials: m.uint(0x09)?,
            cred_protect: m.uint(0x0A)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctap::ctap2::cbor::text;

    #[test]
    fn rp_id_hash_is_sha256_of_the_id() {
        assert_eq!(
            hex::encode(rp_id_hash("login.microsoft.com")),
            hex::encode(Sha256::digest(b"login.microsoft.com"))
        );
    }

    #[test]
    fn responses_decode_and_tolerate_unknown_fields() {
        let v = Value::Map(vec![
            (
                int(3),
                Value::Map(vec![(text("id"), text("login.microsoft.com"))]),
            ),
            (int(4), bytes(&[1u8; 32])),
            (int(5), int(2)),
            (int(0x30), text("future field")),
        ]);
        let r = CredMgmtResponse::decode(&encode_canonical(&v)).unwrap();
        assert_eq!(r.rp.unwrap().id.as_deref(), Some("login.microsoft.com"));
        assert_eq!(r.total_rps, Some(2));
        assert_eq!(r.rp_id_hash, Some(vec![1u8; 32]));
        assert_eq!(
            CredMgmtResponse::decode(&[]).unwrap(),
            CredMgmtResponse::default()
        );
        let bad = Value::Map(vec![(int(1), text("three"))]);
        assert!(CredMgmtResponse::decode(&encode_canonical(&bad)).is_err());
        assert!(CredMgmtResponse::decode(&[0xA1, 0x01]).is_err());
    }
}
