//! Facts about one security key, as the diagnosis rules need them: built from
//! a probe report (see [`super::from_probe`]) or by hand in tests. Also the
//! classification of probe errors ([`FailureKind`]). No PIN value is ever
//! kept here; only whether one is set and how many tries remain.

use serde::Serialize;

use super::model::ModelSource;
use super::stored::StoredSignIns;

use crate::content::aaguid::{AaguidTable, AuthenticatorKind};
use crate::ctap::CtapError;
use crate::ctap::probe::UvFallback;
use crate::ctap::status::CtapStatus;
use crate::ctap::verify::attestation::TrustLevel;
use crate::ctap::verify::metadata::Metadata;
use crate::transport::TransportError;
use crate::transport::hid::HidKeyInfo;

/// Which protocol generation a key speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// CTAP2 (FIDO2), possibly also U2F.
    Fido2,
    /// Only CTAP1/U2F: cannot be used with Entra.
    U2fOnly,
}

/// Whether the key has a PIN (getInfo `options.clientPin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PinState {
    /// No PIN support at all.
    Unsupported,
    /// Supported but not set yet.
    NotSet,
    /// Set.
    Set,
}

/// Outcome of one probe step (test registration or test sign-in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepOutcome {
    /// It worked.
    pub ok: bool,
    /// How long it took, including waiting for the touch.
    pub millis: Option<u64>,
    /// What went wrong, when it did not work.
    pub error: Option<String>,
}

/// Why a probe stopped, in the terms the advice is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// Nobody touched the key in time.
    PresenceTimeout,
    /// The user (or key) declined.
    UserRefused,
    /// The OS refused to open the device.
    PermissionDenied,
    /// The device disappeared.
    Gone,
    /// The device stopped answering.
    NoResponse,
    /// The device answered with something that breaks the protocol.
    Malformed,
    /// The PIN is blocked (no tries left).
    PinBlocked,
    /// Too many wrong PINs in a row: the key must be re-plugged.
    PinAuthBlocked,
    /// A wrong PIN was given.
    PinInvalid,
    /// An operation needed a PIN that is not set.
    PinNotSet,
    /// No room for another discoverable credential.
    StoreFull,
    /// Stopped by this program (user pressed cancel).
    Cancelled,
    /// Anything else.
    Other,
}

impl FailureKind {
    /// Classifies a transport error.
    pub fn from_transport(e: &TransportError) -> FailureKind {
        match e {
            TransportError::PermissionDenied { .. } => FailureKind::PermissionDenied,
            TransportError::Gone(_) | TransportError::NotFound(_) => FailureKind::Gone,
            TransportError::Timeout(_) => FailureKind::NoResponse,
            TransportError::Io { source, .. }
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                FailureKind::PermissionDenied
            }
            TransportError::BadSpec { .. }
            | TransportError::Io { .. }
            | TransportError::Hid { .. } => FailureKind::Other,
        }
    }

    /// Classifies a CTAP status code returned by the key.
    pub fn from_status(s: CtapStatus) -> FailureKind {
        match s {
            CtapStatus::UserActionTimeout | CtapStatus::ActionTimeout => {
                FailureKind::PresenceTimeout
            }
            CtapStatus::OperationDenied => FailureKind::UserRefused,
            CtapStatus::PinBlocked => FailureKind::PinBlocked,
            CtapStatus::PinAuthBlocked => FailureKind::PinAuthBlocked,
            CtapStatus::PinInvalid => FailureKind::PinInvalid,
            CtapStatus::PinNotSet | CtapStatus::PuatRequired => FailureKind::PinNotSet,
            CtapStatus::KeyStoreFull => FailureKind::StoreFull,
            CtapStatus::KeepaliveCancel => FailureKind::Cancelled,
            CtapStatus::InvalidCbor
            | CtapStatus::CborUnexpectedType
            | CtapStatus::InvalidLength
            | CtapStatus::InvalidSeq => FailureKind::Malformed,
            _ => FailureKind::Other,
        }
    }

    /// Classifies any client-layer error.
    pub fn from_ctap(e: &CtapError) -> FailureKind {
        match e {
            CtapError::Transport(t) => FailureKind::from_transport(t),
            CtapError::Status(s) => FailureKind::from_status(*s),
            CtapError::Hid(_)
            | CtapError::BadChannel { .. }
            | CtapError::BadSequence { .. }
            | CtapError::UnexpectedCommand { .. }
            | CtapError::Oversized { .. }
            | CtapError::NonceMismatch
            | CtapError::Malformed { .. } => FailureKind::Malformed,
            // 0x6985: conditions not satisfied — U2F's "touch the key" answer.
            CtapError::U2f { sw: 0x6985 } => FailureKind::PresenceTimeout,
            CtapError::U2f { .. } | CtapError::NotSupported(_) => FailureKind::Other,
            CtapError::NoAnswer(_) | CtapError::StoppedAnswering(_) => FailureKind::NoResponse,
            CtapError::UserPresenceTimeout(_) => FailureKind::PresenceTimeout,
            CtapError::Cancelled => FailureKind::Cancelled,
        }
    }
}

/// A probe that stopped early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeFailure {
    /// What kind of failure.
    pub kind: FailureKind,
    /// The probe's failure code (`pin-invalid`), the key of the failure table.
    pub code: String,
    /// Which probe step (`open`, `info`, `register`, `sign-in`, …).
    pub stage: String,
    /// The error message (no secrets).
    pub detail: String,
}

impl ProbeFailure {
    /// Classifies a client error at `stage`.
    pub fn from_ctap(stage: &str, e: &CtapError) -> Self {
        ProbeFailure {
            kind: FailureKind::from_ctap(e),
            code: super::from_probe::ctap_error_code(e).to_string(),
            stage: stage.to_string(),
            detail: e.to_string(),
        }
    }
}

/// What the diagnosis knows about one key. `None` means "not found out"
/// (for instance because the probe stopped before that step).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyFacts {
    /// Device selection string (`hid:/dev/hidraw3`, `sim:modern`).
    pub device: String,
    /// Product name reported by USB/HID.
    pub product: Option<String>,
    /// Serial number reported by USB/HID (removed by `redact`).
    pub serial: Option<String>,
    /// USB vendor and product id (`1050:0407`).
    pub usb_id: Option<String>,
    /// FIDO2 or U2F only (None when the probe failed before finding out).
    pub protocol: Option<Protocol>,
    /// getInfo `versions` (`FIDO_2_0`, `FIDO_2_1`, `U2F_V2`).
    pub versions: Vec<String>,
    /// AAGUID, lowercase hyphenated.
    pub aaguid: Option<String>,
    /// Model name from the AAGUID table.
    pub model: Option<String>,
    /// Maker from the AAGUID table.
    pub vendor: Option<String>,
    /// Hardware key or platform passkey, from the AAGUID table.
    pub kind: Option<AuthenticatorKind>,
    /// Listed as eligible in Entra's attestation table (Some(false) also for unknown models).
    pub eligible: Option<bool>,
    /// Supports discoverable (resident) credentials (`options.rk`).
    pub rk: Option<bool>,
    /// Free discoverable-credential slots (`remainingDiscoverableCredentials`).
    pub rk_remaining: Option<u32>,
    /// PIN support and state.
    pub client_pin: Option<PinState>,
    /// PIN tries left.
    pub pin_retries: Option<u32>,
    /// The PIN is blocked.
    pub pin_blocked: bool,
    /// Built-in user verification (fingerprint): `options.uv` present and true.
    pub uv: Option<bool>,
    /// Supports the `hmac-secret` extension (Windows sign-in needs it).
    pub hmac_secret: Option<bool>,
    /// COSE algorithm ids the key supports.
    pub algorithms: Vec<i64>,
    /// Firmware version (getInfo or CTAPHID INIT).
    pub firmware: Option<String>,
    /// Test registration.
    pub registration: Option<StepOutcome>,
    /// Test sign-in.
    pub sign_in: Option<StepOutcome>,
    /// Attestation format of the test registration (`packed`, `fido-u2f`, `none`).
    pub attestation_format: Option<String>,
    /// The attestation signature verified (certificate or self attestation);
    /// `None` without a signature to check (format `none`, no registration).
    /// Whether the certificate chain backs the model is [`KeyFacts::attestation_trust`].
    pub attestation_verified: Option<bool>,
    /// Set when the probe stopped early.
    pub failure: Option<ProbeFailure>,
    /// How far the attestation backs the claimed model (`maker-root`, `self`, …).
    pub attestation_trust: Option<TrustLevel>,
    /// Issuer of the attestation certificate (RFC 4514), when there was one.
    pub attestation_issuer: Option<String>,
    /// The trust anchor the certificate chain ended at.
    pub attestation_anchor: Option<String>,
    /// Why the certificate chain does not count or reached no anchor.
    pub attestation_problem: Option<String>,
    /// Where [`KeyFacts::model`] came from.
    pub model_source: Option<ModelSource>,
    /// The key answered over CTAPHID but its AAGUID belongs to a platform or
    /// software authenticator: another product's id, shared or copied.
    pub aaguid_foreign: bool,
    /// Built-in (biometric) user verification: from GetInfo when the key
    /// answered it, else from the model tables.
    pub biometric: Option<bool>,
    /// A status report of the FIDO metadata that makes the model unsafe
    /// (`REVOKED (2023-12-20)`, `USER_VERIFICATION_BYPASS …`).
    pub metadata_compromise: Option<String>,
    /// The FIDO metadata reports a firmware update for the model.
    pub metadata_update_available: bool,
    /// The key's built-in user verification (fingerprint) gave way to the
    /// PIN during the check, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uv_fallback: Option<UvFallback>,
    /// The sign-ins stored on the key (read with the PIN after the check,
    /// see [`super::stored`]); user names and other services' ids are
    /// removed by `redact`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored: Option<StoredSignIns>,
    /// Why the stored sign-ins could not be read (a fact, not a failed check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_unreadable: Option<String>,
    /// Set when the key was checked through the operating system's WebAuthn
    /// API instead of raw HID (see [`super::platform_key`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_api: Option<super::platform_key::PlatformApiFacts>,
}

impl KeyFacts {
    /// A key about which nothing but its device string is known.
    pub fn unknown(device: &str) -> Self {
        KeyFacts {
            device: device.to_string(),
            product: None,
            serial: None,
            usb_id: None,
            protocol: None,
            versions: Vec::new(),
            aaguid: None,
            model: None,
            vendor: None,
            kind: None,
            eligible: None,
            rk: None,
            rk_remaining: None,
            client_pin: None,
            pin_retries: None,
            pin_blocked: false,
            uv: None,
            hmac_secret: None,
            algorithms: Vec::new(),
            firmware: None,
            registration: None,
            sign_in: None,
            attestation_format: None,
            attestation_verified: None,
            failure: None,
            attestation_trust: None,
            attestation_issuer: None,
            attestation_anchor: None,
            attestation_problem: None,
            model_source: None,
            aaguid_foreign: false,
            biometric: None,
            metadata_compromise: None,
            metadata_update_available: false,
            uv_fallback: None,
            stored: None,
            stored_unreadable: None,
            platform_api: None,
        }
    }

    /// A key whose probe failed with `e` at `stage`.
    pub fn failed(device: &str, stage: &str, e: &CtapError) -> Self {
        KeyFacts {
            failure: Some(ProbeFailure::from_ctap(stage, e)),
            ..KeyFacts::unknown(device)
        }
    }

    /// A key that could not even be opened (`device::open` failed).
    pub fn open_failed(device: &str, e: &TransportError) -> Self {
        KeyFacts {
            failure: Some(ProbeFailure {
                kind: FailureKind::from_transport(e),
                code: super::from_probe::transport_error_code(e).to_string(),
                stage: "open".to_string(),
                detail: e.to_string(),
            }),
            ..KeyFacts::unknown(device)
        }
    }

    /// Adds what USB enumeration says: product name, serial number, ids.
    pub fn apply_hid_info(&mut self, info: &HidKeyInfo) {
        let product = match (&info.manufacturer, &info.product) {
            (Some(m), Some(p)) if !p.starts_with(m.as_str()) => Some(format!("{m} {p}")),
            (_, Some(p)) => Some(p.clone()),
            (Some(m), None) => Some(m.clone()),
            (None, None) => None,
        };
        self.product = product.filter(|p| !p.trim().is_empty());
        self.serial = info.serial.clone().filter(|s| !s.trim().is_empty());
        self.usb_id = Some(format!("{:04x}:{:04x}", info.vendor_id, info.product_id));
    }

    /// Fills model, vendor, kind and eligibility from the embedded FIDO
    /// metadata and the AAGUID table, facts from the key first (see
    /// [`KeyFacts::apply_model_sources`]). A FIDO2 key whose AAGUID is not in
    /// the table counts as not eligible.
    pub fn apply_aaguid_table(&mut self, table: &AaguidTable) {
        self.apply_model_sources(table, Metadata::embedded());
    }

    /// A name for messages: the model, else the product, else the device.
    pub fn display_name(&self) -> String {
        self.model
            .clone()
            .or_else(|| self.product.clone())
            .unwrap_or_else(|| self.device.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn errors_are_classified() {
        let cases: Vec<(CtapError, FailureKind)> = vec![
            (
                CtapError::Status(CtapStatus::UserActionTimeout),
                FailureKind::PresenceTimeout,
            ),
            (
                CtapError::Status(CtapStatus::OperationDenied),
                FailureKind::UserRefused,
            ),
            (
                CtapError::Status(CtapStatus::PinBlocked),
                FailureKind::PinBlocked,
            ),
            (
                CtapError::Status(CtapStatus::KeyStoreFull),
                FailureKind::StoreFull,
            ),
            (
                TransportError::PermissionDenied {
                    path: "/dev/hidraw0".into(),
                }
                .into(),
                FailureKind::PermissionDenied,
            ),
            (
                TransportError::Gone("sim:x".into()).into(),
                FailureKind::Gone,
            ),
            (
                TransportError::Timeout(Duration::from_secs(1)).into(),
                FailureKind::NoResponse,
            ),
            (
                CtapError::malformed("getInfo", "truncated"),
                FailureKind::Malformed,
            ),
            (CtapError::U2f { sw: 0x6985 }, FailureKind::PresenceTimeout),
            (CtapError::U2f { sw: 0x6A80 }, FailureKind::Other),
            (CtapError::Cancelled, FailureKind::Cancelled),
        ];
        for (e, want) in cases {
            assert_eq!(FailureKind::from_ctap(&e), want, "{e}");
        }
    }

    #[test]
    fn aaguid_table_fills_model_and_eligibility() {
        let table = AaguidTable::parse(
            "[[authenticator]]\naaguid = \"42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3\"\n\
             name = \"Titan v2\"\nvendor = \"Google\"\nkind = \"hardware\"\neligible = true\n",
        )
        .unwrap();
        let mut k = KeyFacts {
            aaguid: Some("42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3".into()),
            ..KeyFacts::unknown("sim:x")
        };
        k.apply_aaguid_table(&table);
        // The FIDO metadata's name wins over the table's.
        assert_eq!(k.model.as_deref(), Some("Google Titan Security Key v2"));
        assert_eq!(k.vendor.as_deref(), Some("Google"));
        assert_eq!(k.eligible, Some(true));
        assert_eq!(k.display_name(), "Google Titan Security Key v2");
        let mut u = KeyFacts {
            aaguid: Some("27cd1436-ff4d-40aa-a2fe-59b397b41751".into()),
            ..KeyFacts::unknown("sim:y")
        };
        u.apply_aaguid_table(&table);
        assert_eq!(u.eligible, Some(false));
        assert_eq!(u.model, None);
        assert_eq!(u.display_name(), "sim:y");
    }
}
