//! authenticatorClientPIN (0x06): getPINRetries, getKeyAgreement, getPinToken
//! (protocol one), getPinUvAuthTokenUsingPinWithPermissions (0x09),
//! getPinUvAuthTokenUsingUvWithPermissions (0x06) and getUVRetries.

use ciborium::Value;
use zeroize::Zeroizing;

use super::DecodeError;
use super::cbor::{IntMap, bytes, encode_int_map, int, text};
use super::pin_protocol::{Pin, PinError, PinProtocol, PinProtocolVersion};

const WHAT: &str = "ClientPIN response";

/// ClientPIN subcommand numbers.
pub mod sub {
    /// getPINRetries.
    pub const GET_PIN_RETRIES: u8 = 0x01;
    /// getKeyAgreement.
    pub const GET_KEY_AGREEMENT: u8 = 0x02;
    /// getPinToken (superseded in 2.1 by 0x09, still the only way on 2.0 keys).
    pub const GET_PIN_TOKEN: u8 = 0x05;
    /// getPinUvAuthTokenUsingUvWithPermissions.
    pub const GET_TOKEN_USING_UV: u8 = 0x06;
    /// getUVRetries.
    pub const GET_UV_RETRIES: u8 = 0x07;
    /// getPinUvAuthTokenUsingPinWithPermissions.
    pub const GET_TOKEN_USING_PIN: u8 = 0x09;
}

/// pinUvAuthToken permissions (CTAP 2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permissions(pub u8);

impl Permissions {
    /// makeCredential.
    pub const MAKE_CREDENTIAL: Self = Self(0x01);
    /// getAssertion.
    pub const GET_ASSERTION: Self = Self(0x02);
    /// credentialManagement.
    pub const CREDENTIAL_MANAGEMENT: Self = Self(0x04);
}

fn simple(sub: u8, protocol: PinProtocolVersion) -> Vec<u8> {
    encode_int_map(vec![
        (0x01, Some(int(protocol.number() as i64))),
        (0x02, Some(int(i64::from(sub)))),
    ])
}

/// getPINRetries request.
pub fn encode_get_pin_retries(protocol: PinProtocolVersion) -> Vec<u8> {
    simple(sub::GET_PIN_RETRIES, protocol)
}

/// getUVRetries request.
pub fn encode_get_uv_retries(protocol: PinProtocolVersion) -> Vec<u8> {
    simple(sub::GET_UV_RETRIES, protocol)
}

/// getKeyAgreement request.
pub fn encode_get_key_agreement(protocol: PinProtocolVersion) -> Vec<u8> {
    simple(sub::GET_KEY_AGREEMENT, protocol)
}

/// getPinToken request (no permissions; for CTAP 2.0 keys).
pub fn encode_get_pin_token(proto: &PinProtocol, pin: &Pin) -> Result<Vec<u8>, PinError> {
    Ok(encode_int_map(vec![
        (0x01, Some(int(proto.version().number() as i64))),
        (0x02, Some(int(i64::from(sub::GET_PIN_TOKEN)))),
        (0x03, Some(proto.platform_key().clone())),
        (0x06, Some(bytes(&proto.pin_hash_enc(pin)?))),
    ]))
}

/// getPinUvAuthTokenUsingPinWithPermissions request (CTAP 2.1).
pub fn encode_get_token_using_pin(
    proto: &PinProtocol,
    pin: &Pin,
    permissions: Permissions,
    rp_id: Option<&str>,
) -> Result<Vec<u8>, PinError> {
    Ok(encode_int_map(vec![
        (0x01, Some(int(proto.version().number() as i64))),
        (0x02, Some(int(i64::from(sub::GET_TOKEN_USING_PIN)))),
        (0x03, Some(proto.platform_key().clone())),
        (0x06, Some(bytes(&proto.pin_hash_enc(pin)?))),
        (0x09, Some(int(i64::from(permissions.0)))),
        (0x0A, rp_id.map(text)),
    ]))
}

/// getPinUvAuthTokenUsingUvWithPermissions request (built-in UV, CTAP 2.1).
pub fn encode_get_token_using_uv(
    proto: &PinProtocol,
    permissions: Permissions,
    rp_id: Option<&str>,
) -> Vec<u8> {
    encode_int_map(vec![
        (0x01, Some(int(proto.version().number() as i64))),
        (0x02, Some(int(i64::from(sub::GET_TOKEN_USING_UV)))),
        (0x03, Some(proto.platform_key().clone())),
        (0x09, Some(int(i64::from(permissions.0)))),
        (0x0A, rp_id.map(text)),
    ])
}

/// The fields a ClientPIN response may carry (each subcommand fills some).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientPinResponse {
    /// 0x01 keyAgreement: the authenticator's COSE key.
    pub key_agreement: Option<Value>,
    /// 0x02 pinUvAuthToken, encrypted with the shared secret.
    pub pin_uv_auth_token: Option<Vec<u8>>,
    /// 0x03 pinRetries.
    pub pin_retries: Option<u64>,
    /// 0x04 powerCycleState: the key must be re-plugged before more PIN attempts.
    pub power_cycle_state: Option<bool>,
    /// 0x05 uvRetries.
    pub uv_retries: Option<u64>,
}

impl ClientPinResponse {
    /// Decodes a ClientPIN response; an empty body is a valid, empty response.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        if data.is_empty() {
            return Ok(Self::default());
        }
        let mut m = IntMap::decode(data, WHAT)?;
        let key_agreement = match m.take(0x01) {
            None => None,
            Some(v @ Value::Map(_)) => Some(v),
            Some(_) => {
                return Err(DecodeError::WrongType {
                    what: WHAT,
                    field: "1 (keyAgreement)".into(),
                    expected: "map",
                });
            }
        };
        Ok(Self {
            key_agreement,
            pin_uv_auth_token: m.bytes(0x02)?,
            pin_retries: m.uint(0x03)?,
            power_cycle_state: m.boolean(0x04)?,
            uv_retries: m.uint(0x05)?,
        })
    }

    /// The key agreement key, required in a getKeyAgreement response.
    pub fn require_key_agreement(&self) -> Result<&Value, DecodeError> {
        self.key_agreement.as_ref().ok_or(DecodeError::Missing {
            what: WHAT,
            key: 0x01,
        })
    }

    /// The pinRetries counter, required in a getPINRetries response.
    pub fn require_pin_retries(&self) -> Result<u64, DecodeError> {
        self.pin_retries.ok_or(DecodeError::Missing {
            what: WHAT,
            key: 0x03,
        })
    }

    /// Decrypts the pinUvAuthToken with the shared secret; checks its length
    /// (16 or 32 bytes for protocol one, 32 for protocol two).
    pub fn decrypt_token(&self, proto: &PinProtocol) -> Result<Zeroizing<Vec<u8>>, DecodeError> {
        let enc = self
            .pin_uv_auth_token
            .as_ref()
            .ok_or(DecodeError::Missing {
                what: WHAT,
                key: 0x02,
            })?;
        let token = proto.decrypt(enc).map_err(|e| DecodeError::Invalid {
            what: WHAT,
            field: "2 (pinUvAuthToken)".into(),
            reason: e.to_string(),
        })?;
        let ok = match proto.version() {
            PinProtocolVersion::V1 => token.len() == 16 || token.len() == 32,
            PinProtocolVersion::V2 => token.len() == 32,
        };
        if !ok {
            return Err(DecodeError::Invalid {
                what: WHAT,
                field: "2 (pinUvAuthToken)".into(),
                reason: format!("token of {} bytes", token.len()),
            });
        }
        Ok(token)
    }
}
