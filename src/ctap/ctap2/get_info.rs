//! authenticatorGetInfo (0x04) response: every CTAP 2.0/2.1 field, typed.
//! Keys this program does not know are kept in [`GetInfo::unknown`].

use std::collections::BTreeMap;

use ciborium::Value;
use serde::Serialize;

use super::DecodeError;
use super::cbor::{IntMap, as_i64, as_u64, text_key};

const WHAT: &str = "GetInfo response";

/// One entry of `algorithms` (0x0A): a public key credential parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Algorithm {
    /// Credential type (normally "public-key").
    #[serde(rename = "type")]
    pub kind: String,
    /// COSE algorithm identifier (-7 ES256, -8 EdDSA, ...).
    pub alg: i64,
}

/// The decoded authenticatorGetInfo response.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GetInfo {
    /// 0x01 versions, e.g. "U2F_V2", "FIDO_2_0", "FIDO_2_1".
    pub versions: Vec<String>,
    /// 0x02 extensions, e.g. "hmac-secret", "credProtect".
    pub extensions: Vec<String>,
    /// 0x03 AAGUID.
    #[serde(serialize_with = "super::hex_serde::aaguid")]
    pub aaguid: [u8; 16],
    /// 0x04 options (only boolean values are kept).
    pub options: BTreeMap<String, bool>,
    /// 0x05 maxMsgSize.
    pub max_msg_size: Option<u64>,
    /// 0x06 pinUvAuthProtocols, in the authenticator's order of preference.
    pub pin_uv_auth_protocols: Vec<u64>,
    /// 0x07 maxCredentialCountInList.
    pub max_credential_count_in_list: Option<u64>,
    /// 0x08 maxCredentialIdLength.
    pub max_credential_id_length: Option<u64>,
    /// 0x09 transports.
    pub transports: Vec<String>,
    /// 0x0A algorithms.
    pub algorithms: Vec<Algorithm>,
    /// 0x0B maxSerializedLargeBlobArray.
    pub max_serialized_large_blob_array: Option<u64>,
    /// 0x0C forcePINChange.
    pub force_pin_change: Option<bool>,
    /// 0x0D minPINLength.
    pub min_pin_length: Option<u64>,
    /// 0x0E firmwareVersion.
    pub firmware_version: Option<u64>,
    /// 0x0F maxCredBlobLength.
    pub max_cred_blob_length: Option<u64>,
    /// 0x10 maxRPIDsForSetMinPINLength.
    pub max_rpids_for_set_min_pin_length: Option<u64>,
    /// 0x11 preferredPlatformUvAttempts.
    pub preferred_platform_uv_attempts: Option<u64>,
    /// 0x12 uvModality (bit field of user verification methods).
    pub uv_modality: Option<u64>,
    /// 0x13 certifications (name → level).
    pub certifications: BTreeMap<String, u64>,
    /// 0x14 remainingDiscoverableCredentials.
    pub remaining_discoverable_credentials: Option<u64>,
    /// 0x15 vendorPrototypeConfigCommands.
    pub vendor_prototype_config_commands: Vec<u64>,
    /// Keys not known to this program (kept, not serialized).
    #[serde(skip)]
    pub unknown: BTreeMap<i64, Value>,
}

impl GetInfo {
    /// Decodes a GetInfo response body (status byte already stripped).
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut m = IntMap::decode(data, WHAT)?;
        let versions = m.required(0x01, IntMap::text_array)?;
        let extensions = m.text_array(0x02)?.unwrap_or_default();
        let aaguid_bytes = m.required(0x03, IntMap::bytes)?;
        let aaguid: [u8; 16] =
            aaguid_bytes
                .as_slice()
                .try_into()
                .map_err(|_| DecodeError::Invalid {
                    what: WHAT,
                    field: "3 (aaguid)".into(),
                    reason: format!("{} bytes, expected 16", aaguid_bytes.len()),
                })?;
        let options = match m.map(0x04)? {
            None => BTreeMap::new(),
            Some(entries) => {
                let mut out = BTreeMap::new();
                for (k, v) in entries {
                    let Value::Text(k) = k else {
                        return Err(wrong("4 (options)", "map with text keys"));
                    };
                    // Only booleans are defined; ignore anything else rather than fail.
                    if let Value::Bool(b) = v {
                        out.insert(k, b);
                    }
                }
                out
            }
        };
        let max_msg_size = m.uint(0x05)?;
        let pin_uv_auth_protocols = m.uint_array(0x06)?.unwrap_or_default();
        let max_credential_count_in_list = m.uint(0x07)?;
        let max_credential_id_length = m.uint(0x08)?;
        let transports = m.text_array(0x09)?.unwrap_or_default();
        let algorithms = match m.array(0x0A)? {
            None => Vec::new(),
            Some(items) => items
                .iter()
                .map(|item| {
                    let Value::Map(entries) = item else {
                        return Err(wrong("10 (algorithms)", "array of maps"));
                    };
                    let alg = text_key(entries, "alg")
                        .and_then(as_i64)
                        .ok_or_else(|| wrong("10 (algorithms).alg", "integer"))?;
                    let kind = match text_key(entries, "type") {
                        Some(Value::Text(t)) => t.clone(),
                        _ => return Err(wrong("10 (algorithms).type", "text string")),
                    };
                    Ok(Algorithm { kind, alg })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let max_serialized_large_blob_array = m.uint(0x0B)?;
        let force_pin_change = m.boolean(0x0C)?;
        let min_pin_length = m.uint(0x0D)?;
        let firmware_version = m.uint(0x0E)?;
        let max_cred_blob_length = m.uint(0x0F)?;
        let max_rpids_for_set_min_pin_length = m.uint(0x10)?;
        let preferred_platform_uv_attempts = m.uint(0x11)?;
        let uv_modality = m.uint(0x12)?;
        let certifications = match m.map(0x13)? {
            None => BTreeMap::new(),
            Some(entries) => {
                let mut out = BTreeMap::new();
                for (k, v) in entries {
                    match (k, as_u64(&v)) {
                        (Value::Text(k), Some(level)) => {
                            out.insert(k, level);
                        }
                        _ => return Err(wrong("19 (certifications)", "map of text to integer")),
                    }
                }
                out
            }
        };
        let remaining_discoverable_credentials = m.uint(0x14)?;
        let vendor_prototype_config_commands = m.uint_array(0x15)?.unwrap_or_default();
        let unknown = m.into_rest().into_iter().collect();
        Ok(Self {
            versions,
            extensions,
            aaguid,
            options,
            max_msg_size,
            pin_uv_auth_protocols,
            max_credential_count_in_list,
            max_credential_id_length,
            transports,
            algorithms,
            max_serialized_large_blob_array,
            force_pin_change,
            min_pin_length,
            firmware_version,
            max_cred_blob_length,
            max_rpids_for_set_min_pin_length,
            preferred_platform_uv_attempts,
            uv_modality,
            certifications,
            remaining_discoverable_credentials,
            vendor_prototype_config_commands,
            unknown,
        })
    }

    fn option(&self, name: &str) -> Option<bool> {
        self.options.get(name).copied()
    }

    /// `clientPin` option: `None` = the key has no PIN support, `Some(false)` =
    /// supported but no PIN set, `Some(true)` = a PIN is set.
    pub fn client_pin(&self) -> Option<bool> {
        self.option("clientPin")
    }

    /// Whether the key can store discoverable (resident) credentials (`rk`, default false).
    pub fn resident_key(&self) -> bool {
        self.option("rk").unwrap_or(false)
    }

    /// Built-in user verification (`uv`): `None` = not capable, `Some(false)` =
    /// capable but not configured (e.g. no fingerprint enrolled), `Some(true)` = ready.
    pub fn uv(&self) -> Option<bool> {
        self.option("uv")
    }

    /// Whether the key can test user presence (`up`, default true).
    pub fn up(&self) -> bool {
        self.option("up").unwrap_or(true)
    }

    /// Whether `pinUvAuthToken` (CTAP 2.1 token with permissions) is supported.
    pub fn pin_uv_auth_token(&self) -> bool {
        self.option("pinUvAuthToken").unwrap_or(false)
    }

    /// Whether the key may make a credential without UV (`makeCredUvNotRqd`).
    pub fn make_cred_uv_not_required(&self) -> bool {
        self.option("makeCredUvNotRqd").unwrap_or(false)
    }

    /// Whether the `hmac-secret` extension is listed (Windows sign-in needs it).
    pub fn supports_hmac_secret(&self) -> bool {
        self.extensions.iter().any(|e| e == "hmac-secret")
    }

    /// Whether the key speaks CTAP 2.1 (versions contains `FIDO_2_1`).
    pub fn is_fido_2_1(&self) -> bool {
        self.versions.iter().any(|v| v == "FIDO_2_1")
    }

    /// Whether the key also speaks CTAP1/U2F.
    pub fn supports_u2f(&self) -> bool {
        self.versions.iter().any(|v| v == "U2F_V2")
    }

    /// Whether the key lists the COSE algorithm `alg` (if it lists none, ES256 is assumed).
    pub fn supports_alg(&self, alg: i64) -> bool {
        if self.algorithms.is_empty() {
            alg == super::ALG_ES256
        } else {
            self.algorithms.iter().any(|a| a.alg == alg)
        }
    }
}

fn wrong(field: &str, expected: &'static str) -> DecodeError {
    DecodeError::WrongType {
        what: WHAT,
        field: field.into(),
        expected,
    }
}
