//! The report layer: what a probe found, in serialisable form. Nothing here
//! talks to a device; the client layer ([`super::session`], [`super::ctap2_path`],
//! [`super::u2f_path`]) fills these types and [`super::run`] assembles them.

use std::time::Duration;

use serde::{Serialize, Serializer};

use super::failure::{Failure, ProbeError};
use crate::ctap::ctap2::GetInfo;
use crate::ctap::ctaphid::InitInfo;
use crate::ctap::verify::CoseKey;
use crate::ctap::verify::attestation::AttestationOutcome;

/// The stages of a full probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// INIT + GetInfo (or U2F VERSION).
    Info,
    /// MakeCredential (or U2F REGISTER) and its verification.
    Register,
    /// GetAssertion (or U2F AUTHENTICATE) and its verification.
    Authenticate,
}

/// What kind of authenticator answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyKind {
    /// Speaks CTAP2 (FIDO2).
    Fido2,
    /// Speaks only CTAP1/U2F: cannot be used for Entra ID passkey sign-in.
    U2fOnly,
}

/// What the key says about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyReport {
    /// The device selection string (`hid:…`, `udp:…`, `sim:…`).
    pub device: String,
    /// FIDO2 or U2F-only.
    pub kind: KeyKind,
    /// The CTAPHID INIT answer (its `device_version` is the CTAPHID device
    /// version, not GetInfo's firmwareVersion: see [`KeyReport::firmware_version`]).
    pub init: InitInfo,
    /// GetInfo (FIDO2 keys).
    pub info: Option<GetInfo>,
    /// U2F VERSION answer, when asked (U2F-only keys).
    pub u2f_version: Option<String>,
    /// PIN attempts left (only when a PIN is set). After a probe that
    /// submitted a PIN, this is re-read from the key: it describes the key
    /// after the check (a correct PIN resets the counter).
    pub pin_retries: Option<u32>,
    /// PIN attempts left when the probe started, before any PIN was
    /// submitted (absent in JSON when the probe did not re-read the counter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin_retries_at_start: Option<u32>,
    /// The key must be re-plugged before PIN attempts continue.
    pub pin_power_cycle_required: Option<bool>,
    /// Built-in UV attempts left (keys with built-in UV).
    pub uv_retries: Option<u32>,
    /// Odd but tolerated things in the key's answers (an optional GetInfo
    /// field of the wrong type, …), in English; empty for a clean key.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<String>,
    /// Time to open the channel (CTAPHID INIT).
    #[serde(serialize_with = "ser_ms", rename = "open_ms")]
    pub open_time: Duration,
    /// Time for GetInfo / VERSION and the retry counters.
    #[serde(serialize_with = "ser_ms", rename = "info_ms")]
    pub info_time: Duration,
}

impl KeyReport {
    /// GetInfo's firmwareVersion (0x0E), when the key reports one. This is
    /// not the CTAPHID device version in [`KeyReport::init`].
    pub fn firmware_version(&self) -> Option<u64> {
        self.info.as_ref().and_then(|i| i.firmware_version)
    }
}

/// How a credential was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// CTAP2 makeCredential / getAssertion.
    Ctap2,
    /// CTAP1/U2F REGISTER / AUTHENTICATE.
    U2f,
    /// The operating system's WebAuthn API (webauthn.dll), which picks the
    /// protocol itself.
    Platform,
}

/// How the user was verified for an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserVerification {
    /// No user verification asked (no PIN set, or U2F).
    None,
    /// PIN, through a pinUvAuthToken.
    Pin,
    /// The key's built-in method (fingerprint…).
    BuiltIn,
    /// Verified in the operating system's dialog (WebAuthn API); which
    /// method (PIN or built-in) it used is not reported.
    System,
}

/// Why built-in user verification gave way to the PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UvFallback {
    /// The built-in method is blocked (CTAP2_ERR_UV_BLOCKED or no attempts left).
    Blocked,
    /// The built-in method kept failing (CTAP2_ERR_UV_INVALID).
    Invalid,
    /// The user chose the PIN instead.
    Declined,
}

/// A verified registration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Registration {
    /// Protocol used.
    pub method: Method,
    /// Relying party id the credential is bound to.
    pub rp_id: String,
    /// Credential id (U2F: key handle).
    #[serde(serialize_with = "crate::ctap::ctap2::hex_serde::bytes")]
    pub credential_id: Vec<u8>,
    /// The credential public key.
    pub public_key: CoseKey,
    /// How the user was verified.
    pub user_verification: UserVerification,
    /// Set when built-in UV was tried and the PIN was used instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uv_fallback: Option<UvFallback>,
    /// The verified attestation (format, kind, certificate, AAGUID, authData).
    pub attestation: AttestationOutcome,
}

/// A verified authentication.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Authentication {
    /// Protocol used.
    pub method: Method,
    /// How the user was verified.
    pub user_verification: UserVerification,
    /// Set when built-in UV was tried and the PIN was used instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uv_fallback: Option<UvFallback>,
    /// UP flag (always true for a successful probe).
    pub user_present: bool,
    /// UV flag.
    pub user_verified: bool,
    /// Signature counter after this sign-in.
    pub sign_count: u32,
    /// Whether the counter went up since registration (`None` if the key
    /// does not keep counters: both zero).
    pub counter_increased: Option<bool>,
}

/// The result of one stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Outcome<T> {
    /// The stage completed against the device and verified.
    Ok {
        /// What it produced.
        value: T,
        /// How long it took.
        #[serde(serialize_with = "ser_ms", rename = "elapsed_ms")]
        elapsed: Duration,
    },
    /// The stage failed.
    Failed {
        /// Why.
        error: Failure,
        /// How long it took.
        #[serde(serialize_with = "ser_ms", rename = "elapsed_ms")]
        elapsed: Duration,
    },
    /// The stage did not run.
    Skipped {
        /// Why not (English, technical).
        reason: String,
    },
}

impl<T> Outcome<T> {
    /// The value, if the stage succeeded.
    pub fn ok(&self) -> Option<&T> {
        match self {
            Outcome::Ok { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The failure, if the stage failed.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Outcome::Failed { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Whether the stage succeeded.
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok { .. })
    }

    pub(super) fn from_result(r: Result<T, ProbeError>, elapsed: Duration) -> Self {
        match r {
            Ok(value) => Outcome::Ok { value, elapsed },
            Err(e) => Outcome::Failed {
                error: Failure::from(&e),
                elapsed,
            },
        }
    }

    pub(super) fn skipped(reason: &str) -> Self {
        Outcome::Skipped {
            reason: reason.to_owned(),
        }
    }
}

/// The result of a full probe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeReport {
    /// The device selection string.
    pub device: String,
    /// What the key says about itself.
    pub key: Outcome<KeyReport>,
    /// Registration.
    pub registration: Outcome<Registration>,
    /// Authentication.
    pub authentication: Outcome<Authentication>,
}

impl ProbeReport {
    /// True only when every stage ran against the device and verified.
    pub fn all_ok(&self) -> bool {
        self.key.is_ok() && self.registration.is_ok() && self.authentication.is_ok()
    }

    /// The report for a device that could not even be opened (see
    /// [`Failure::open_failed`]): nothing ran against it.
    pub fn open_failed(device: &str, error: &crate::transport::TransportError) -> Self {
        ProbeReport {
            device: device.to_owned(),
            key: Outcome::Failed {
                error: Failure::open_failed(error),
                elapsed: Duration::ZERO,
            },
            registration: Outcome::skipped("the key could not be opened"),
            authentication: Outcome::skipped("the key could not be opened"),
        }
    }
}

pub(super) fn ser_ms<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
