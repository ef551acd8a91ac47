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
    /// 0x0A algorithms (empty when absent: see [`GetInfo::reported_algorithms`]).
    pub algorithms: Vec<Algorithm>,
    /// True when the key sent no `algorithms` field at all.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub algorithms_absent: bool,
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
    /// Optional fields that were odd (wrong type, bad entries) and were
    /// dropped instead of failing the decoding, in English.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<String>,
    /// Keys not known to this program (kept, not serialized).
    #[serde(skip)]
    pub unknown: BTreeMap<i64, Value>,
}

impl GetInfo {
    /// Decodes a GetInfo response body (status byte already stripped).
    ///
    /// Only what every key must send is strict (a CBOR map with `versions`
    /// and a 16-byte `aaguid`); an optional field of the wrong type is
    /// dropped and described in [`GetInfo::anomalies`], and keys this
    /// program does not know are kept in [`GetInfo::unknown`].
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut m = IntMap::decode(data, WHAT)?;
        let mut anomalies = Vec::new();
        let versions = m.required(0x01, IntMap::text_array)?;
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
        let extensions = opt(&mut anomalies, m.text_array(0x02)).unwrap_or_default();
        let options_raw = opt(&mut anomalies, m.map(0x04));
        let max_msg_size = opt(&mut anomalies, m.uint(0x05));
        let pin_uv_auth_protocols = opt(&mut anomalies, m.uint_array(0x06)).unwrap_or_default();
        let max_credential_count_in_list = opt(&mut anomalies, m.uint(0x07));
        let max_credential_id_length = opt(&mut anomalies, m.uint(0x08));
        let transports = opt(&mut anomalies, m.text_array(0x09)).unwrap_or_default();
        let algorithms_raw = opt(&mut anomalies, m.array(0x0A));
        let max_serialized_large_blob_array = opt(&mut anomalies, m.uint(0x0B));
        let force_pin_change = opt(&mut anomalies, m.boolean(0x0C));
        let min_pin_length = opt(&mut anomalies, m.uint(0x0D));
        let firmware_version = opt(&mut anomalies, m.uint(0x0E));
        let max_cred_blob_length = opt(&mut anomalies, m.uint(0x0F));
        let max_rpids_for_set_min_pin_length = opt(&mut anomalies, m.uint(0x10));
        let preferred_platform_uv_attempts = opt(&mut anomalies, m.uint(0x11));
        let uv_modality = opt(&mut anomalies, m.uint(0x12));
        let certifications_raw = opt(&mut anomalies, m.map(0x13));
        let remaining_discoverable_credentials = opt(&mut anomalies, m.uint(0x14));
        let vendor_prototype_config_commands =
            opt(&mut anomalies, m.uint_array(0x15)).unwrap_or_default();
        let mut options = BTreeMap::new();
        for (k, v) in options_raw.unwrap_or_default() {
            match (k, v) {
                (Value::Text(k), Value::Bool(b)) => {
                    options.insert(k, b);
                }
                // Only booleans are defined.
                (Value::Text(k), _) => anomalies.push(format!("option {k:?} is not a boolean")),
                _ => anomalies.push("field 4 (options) has a key that is not text".into()),
            }
        }
        let algorithms_absent = algorithms_raw.is_none();
        let mut algorithms = Vec::new();
        for item in algorithms_raw.unwrap_or_default() {
            let Value::Map(entries) = &item else {
                anomalies.push("field 10 (algorithms) has an entry that is not a map".into());
                continue;
            };
            let alg = text_key(entries, "alg").and_then(as_i64);
            let kind = match text_key(entries, "type") {
                Some(Value::Text(t)) => Some(t.clone()),
                _ => None,
            };
            match (alg, kind) {
                (Some(alg), Some(kind)) => algorithms.push(Algorithm { kind, alg }),
                _ => anomalies.push(
                    "field 10 (algorithms) has an entry without integer alg and text type".into(),
                ),
            }
        }
        let mut certifications = BTreeMap::new();
        for (k, v) in certifications_raw.unwrap_or_default() {
            match (k, as_u64(&v)) {
                (Value::Text(k), Some(level)) => {
                    certifications.insert(k, level);
                }
                _ => anomalies
                    .push("field 19 (certifications) is not a map of text to integer".into()),
            }
        }
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
            algorithms_absent,
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
            anomalies,
            unknown,
        })
    }

    /// The algorithms the key lists, or `None` when it lists none (then
    /// ES256 is what a client assumes; saying so is the caller's job).
    pub fn reported_algorithms(&self) -> Option<&[Algorithm]> {
        (!self.algorithms_absent).then_some(self.algorithms.as_slice())
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

/// An optional field: a decoding problem becomes an anomaly and the field absent.
fn opt<T>(anomalies: &mut Vec<String>, r: Result<Option<T>, DecodeError>) -> Option<T> {
    r.unwrap_or_else(|e| {
        anomalies.push(e.detail());
        None
    })
}
