//! Failure kinds: every way a probe stage can end, as [`ProbeError`] (typed,
//! from the client layer) and as [`Failure`] / [`FailureCode`] (stable,
//! serialisable, for the report and the tables that turn codes into advice).

use serde::Serialize;

use crate::ctap::ctap2::pin_protocol::PinError;
use crate::ctap::error::CtapError;
use crate::ctap::status::{CtapStatus, HidErrorCode};
use crate::ctap::u2f;
use crate::ctap::verify::VerifyError;
use crate::transport::TransportError;

/// Stable machine-readable failure codes (kebab-case in JSON). Each code is
/// one way a probe stage can end; tables keyed by code (texts in content/)
/// turn them into advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureCode {
    /// The OS refused access to the device (Linux udev rule missing,
    /// Windows without elevation).
    PermissionDenied,
    /// The device went away (unplugged, simulator stopped) after it was opened.
    DeviceGone,
    /// Nothing answers at that address: no such device.
    NotFound,
    /// A transport-level wait ran out outside the CTAPHID rules (rare; the
    /// CTAPHID layer reports [`FailureCode::KeyHung`] or
    /// [`FailureCode::KeyStopped`] instead).
    Timeout,
    /// Other transport failure after the device was opened.
    Transport,
    /// The key asked for a touch and nobody touched it in time.
    TouchTimeout,
    /// The key refused (OPERATION_DENIED / NOT_ALLOWED on the key itself,
    /// not after a cancel from this program).
    UserRefused,
    /// The PIN is blocked (no attempts left: the key must be reset).
    PinBlocked,
    /// Too many wrong PINs in a row: re-plug the key before trying again.
    PinAuthBlocked,
    /// The PIN was wrong (and the user did not give another, or gave the
    /// same wrong PIN again, which is never resubmitted).
    PinInvalid,
    /// User verification is needed but the key supports a PIN that is not set.
    PinNotSet,
    /// The user declined to enter the PIN (Esc, empty answer).
    PinDeclined,
    /// The PIN entered breaks the length rules.
    PinFormat,
    /// Built-in user verification is blocked and no PIN can stand in.
    UvBlocked,
    /// The key cannot store more credentials.
    KeyStoreFull,
    /// The key does not support what was asked (algorithm, option, command).
    NotSupported,
    /// The key answered with another CTAP status.
    CtapStatus,
    /// The key answered with a CTAPHID ERROR frame.
    HidError,
    /// The key answered with another U2F status word.
    U2fStatus,
    /// The key's answer was not well-formed.
    Malformed,
    /// The answer was well-formed but failed relying-party verification
    /// (flags, rpIdHash, assertion signature, certificate rules, …).
    VerificationFailed,
    /// Cancelled by the user of this program (Esc, Ctrl-C). Whatever the key
    /// answers after our cancel (KEEPALIVE_CANCEL, OPERATION_DENIED) reads
    /// as this, never as a refusal.
    Cancelled,
    /// The key sent nothing at all within the limit for the command (hung,
    /// or not a working authenticator).
    KeyHung,
    /// The key started answering (keep-alives or part of a response) and
    /// then went silent mid-command.
    KeyStopped,
    /// A PIN is needed but this program has no way to ask for one (no
    /// terminal, no `--pin-stdin`): the check could not run.
    PinUnavailable,
    /// User verification is needed but the key cannot have a PIN at all
    /// (no `clientPin` option) and has no built-in method ready.
    PinUnsupported,
    /// Another program is using the key: its PIN token invalidated ours
    /// twice (PIN_AUTH_INVALID right after a fresh token, again after one
    /// retry), or the key stayed busy with another channel.
    KeyInUse,
    /// One PIN attempt was left and the user did not confirm spending it:
    /// nothing was submitted.
    PinLastAttemptWithheld,
    /// Built-in user verification (fingerprint) failed
    /// (CTAP2_ERR_UV_INVALID) and no PIN could stand in.
    UvInvalid,
    /// User verification is needed, the key has a built-in method with
    /// nothing enrolled, and no PIN can stand in.
    UvNotEnrolled,
    /// The attestation signature does not verify: the key's answer is not
    /// signed by the certificate it presents.
    AttestationInvalid,
    /// The device could not be opened (address in use, I/O error); the
    /// message carries the operating system's reason.
    OpenFailed,
    /// The key demands a new PIN before it gives a PIN token
    /// (CTAP2_ERR_PIN_POLICY_VIOLATION, GetInfo forcePINChange).
    PinChangeRequired,
}

impl FailureCode {
    /// Every code, for tables keyed by code (texts in content/). A new code
    /// goes here and into [`FailureCode::as_str`], whose match is exhaustive.
    pub const ALL: [FailureCode; 33] = [
        FailureCode::PermissionDenied,
        FailureCode::DeviceGone,
        FailureCode::NotFound,
        FailureCode::Timeout,
        FailureCode::Transport,
        FailureCode::TouchTimeout,
        FailureCode::UserRefused,
        FailureCode::PinBlocked,
        FailureCode::PinAuthBlocked,
        FailureCode::PinInvalid,
        FailureCode::PinNotSet,
        FailureCode::PinDeclined,
        FailureCode::PinFormat,
        FailureCode::UvBlocked,
        FailureCode::KeyStoreFull,
        FailureCode::NotSupported,
        FailureCode::CtapStatus,
        FailureCode::HidError,
        FailureCode::U2fStatus,
        FailureCode::Malformed,
        FailureCode::VerificationFailed,
        FailureCode::Cancelled,
        FailureCode::KeyHung,
        FailureCode::KeyStopped,
        FailureCode::PinUnavailable,
        FailureCode::PinUnsupported,
        FailureCode::KeyInUse,
        FailureCode::PinLastAttemptWithheld,
        FailureCode::UvInvalid,
        FailureCode::UvNotEnrolled,
        FailureCode::AttestationInvalid,
        FailureCode::OpenFailed,
        FailureCode::PinChangeRequired,
    ];

    /// The code as it appears in JSON (`touch-timeout`).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCode::PermissionDenied => "permission-denied",
            FailureCode::DeviceGone => "device-gone",
            FailureCode::NotFound => "not-found",
            FailureCode::Timeout => "timeout",
            FailureCode::Transport => "transport",
            FailureCode::TouchTimeout => "touch-timeout",
            FailureCode::UserRefused => "user-refused",
            FailureCode::PinBlocked => "pin-blocked",
            FailureCode::PinAuthBlocked => "pin-auth-blocked",
            FailureCode::PinInvalid => "pin-invalid",
            FailureCode::PinNotSet => "pin-not-set",
            FailureCode::PinDeclined => "pin-declined",
            FailureCode::PinFormat => "pin-format",
            FailureCode::UvBlocked => "uv-blocked",
            FailureCode::KeyStoreFull => "key-store-full",
            FailureCode::NotSupported => "not-supported",
            FailureCode::CtapStatus => "ctap-status",
            FailureCode::HidError => "hid-error",
            FailureCode::U2fStatus => "u2f-status",
            FailureCode::Malformed => "malformed",
            FailureCode::VerificationFailed => "verification-failed",
            FailureCode::Cancelled => "cancelled",
            FailureCode::KeyHung => "key-hung",
            FailureCode::KeyStopped => "key-stopped",
            FailureCode::PinUnavailable => "pin-unavailable",
            FailureCode::PinUnsupported => "pin-unsupported",
            FailureCode::KeyInUse => "key-in-use",
            FailureCode::PinLastAttemptWithheld => "pin-last-attempt-withheld",
            FailureCode::UvInvalid => "uv-invalid",
            FailureCode::UvNotEnrolled => "uv-not-enrolled",
            FailureCode::AttestationInvalid => "attestation-invalid",
            FailureCode::OpenFailed => "open-failed",
            FailureCode::PinChangeRequired => "pin-change-required",
        }
    }

    /// The code for a device that could not be opened.
    pub fn for_open_error(e: &TransportError) -> FailureCode {
        match e {
            TransportError::PermissionDenied { .. } => FailureCode::PermissionDenied,
            TransportError::NotFound(_)
            | TransportError::Gone(_)
            | TransportError::BadSpec { .. } => FailureCode::NotFound,
            TransportError::Timeout(_) => FailureCode::KeyHung,
            TransportError::Io { .. } | TransportError::Hid { .. } => FailureCode::OpenFailed,
        }
    }
}

/// Everything that can end a probe stage.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// Talking to the key failed or the key refused.
    #[error(transparent)]
    Ctap(#[from] CtapError),
    /// The key's answer failed verification.
    #[error("verification failed: {0}")]
    Verify(#[from] VerifyError),
    /// The attestation statement failed verification.
    #[error("verification failed: {0}")]
    Attestation(VerifyError),
    /// PIN protocol failure on this side (bad PIN format, bad key agreement key).
    #[error(transparent)]
    Pin(#[from] PinError),
    /// The user declined to give the PIN.
    #[error("PIN entry declined")]
    PinDeclined,
    /// A PIN is needed and there is no way to ask for it.
    #[error("a PIN is needed and there is no way to ask for it here")]
    PinUnavailable,
    /// One attempt left and the user did not confirm spending it.
    #[error("one PIN attempt left; not used without confirmation")]
    LastPinAttemptWithheld,
    /// User verification needed; the key cannot have a PIN.
    #[error("user verification is needed but the key supports no PIN")]
    PinUnsupported,
    /// User verification needed; the built-in method has nothing enrolled.
    #[error("user verification is needed but nothing is enrolled for the built-in method")]
    UvNotEnrolled,
    /// Another program's PIN token invalidated ours twice.
    #[error("another program is using the key (PIN token invalidated twice)")]
    KeyInUse,
    /// The user did not touch the key in time.
    #[error("the key was not touched in time")]
    TouchTimeout,
    /// The operating system's WebAuthn API failed (see [`super::platform`]).
    #[error("WebAuthn API: {0}")]
    Platform(super::platform::PlatformError),
}

impl ProbeError {
    /// The stable failure code.
    pub fn code(&self) -> FailureCode {
        match self {
            ProbeError::Ctap(e) => ctap_code(e),
            ProbeError::Verify(_) => FailureCode::VerificationFailed,
            ProbeError::Attestation(
                VerifyError::AttestationSignatureInvalid | VerifyError::BadSignature,
            ) => FailureCode::AttestationInvalid,
            ProbeError::Attestation(_) => FailureCode::VerificationFailed,
            ProbeError::Pin(PinError::TooShort { .. } | PinError::TooLong) => {
                FailureCode::PinFormat
            }
            ProbeError::Pin(PinError::Unsupported) => FailureCode::NotSupported,
            ProbeError::Pin(_) => FailureCode::Malformed,
            ProbeError::PinDeclined => FailureCode::PinDeclined,
            ProbeError::PinUnavailable => FailureCode::PinUnavailable,
            ProbeError::LastPinAttemptWithheld => FailureCode::PinLastAttemptWithheld,
            ProbeError::PinUnsupported => FailureCode::PinUnsupported,
            ProbeError::UvNotEnrolled => FailureCode::UvNotEnrolled,
            ProbeError::KeyInUse => FailureCode::KeyInUse,
            ProbeError::TouchTimeout => FailureCode::TouchTimeout,
            ProbeError::Platform(e) => e.code(),
        }
    }

    /// The CTAP status byte, when the key answered with one.
    pub fn ctap_status(&self) -> Option<CtapStatus> {
        match self {
            ProbeError::Ctap(e) => e.status(),
            _ => None,
        }
    }
}

fn ctap_code(e: &CtapError) -> FailureCode {
    match e {
        CtapError::Transport(t) => match t {
            TransportError::PermissionDenied { .. } => FailureCode::PermissionDenied,
            TransportError::Gone(_) => FailureCode::DeviceGone,
            TransportError::NotFound(_) => FailureCode::NotFound,
            TransportError::Timeout(_) => FailureCode::Timeout,
            _ => FailureCode::Transport,
        },
        CtapError::Status(s) => match s {
            CtapStatus::UserActionTimeout | CtapStatus::ActionTimeout => FailureCode::TouchTimeout,
            CtapStatus::OperationDenied | CtapStatus::NotAllowed => FailureCode::UserRefused,
            CtapStatus::PinBlocked => FailureCode::PinBlocked,
            CtapStatus::PinAuthBlocked => FailureCode::PinAuthBlocked,
            CtapStatus::PinInvalid => FailureCode::PinInvalid,
            CtapStatus::PinNotSet | CtapStatus::PuatRequired => FailureCode::PinNotSet,
            CtapStatus::PinPolicyViolation => FailureCode::PinChangeRequired,
            CtapStatus::UvBlocked => FailureCode::UvBlocked,
            CtapStatus::UvInvalid => FailureCode::UvInvalid,
            CtapStatus::KeyStoreFull => FailureCode::KeyStoreFull,
            CtapStatus::UnsupportedAlgorithm
            | CtapStatus::UnsupportedOption
            | CtapStatus::UnsupportedExtension
            | CtapStatus::InvalidCommand => FailureCode::NotSupported,
            CtapStatus::KeepaliveCancel => FailureCode::Cancelled,
            _ => FailureCode::CtapStatus,
        },
        CtapError::Hid(HidErrorCode::ChannelBusy) => FailureCode::KeyInUse,
        CtapError::Hid(_) => FailureCode::HidError,
        CtapError::U2f { sw } => match *sw {
            u2f::sw::CONDITIONS_NOT_SATISFIED => FailureCode::TouchTimeout,
            u2f::sw::INS_NOT_SUPPORTED | u2f::sw::CLA_NOT_SUPPORTED => FailureCode::NotSupported,
            _ => FailureCode::U2fStatus,
        },
        CtapError::NoAnswer(_) => FailureCode::KeyHung,
        CtapError::StoppedAnswering(_) => FailureCode::KeyStopped,
        CtapError::UserPresenceTimeout(_) => FailureCode::TouchTimeout,
        CtapError::Cancelled => FailureCode::Cancelled,
        CtapError::NotSupported(_) => FailureCode::NotSupported,
        CtapError::BadChannel { .. }
        | CtapError::BadSequence { .. }
        | CtapError::UnexpectedCommand { .. }
        | CtapError::Oversized { .. }
        | CtapError::NonceMismatch
        | CtapError::Malformed { .. } => FailureCode::Malformed,
    }
}

/// A failure, in a form that serializes and clones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Stable code.
    pub code: FailureCode,
    /// Human-readable message (English, technical; never a PIN).
    pub message: String,
    /// CTAP status byte, if the key sent one.
    pub ctap_status: Option<u8>,
    /// U2F status word, if the key sent one.
    pub u2f_sw: Option<u16>,
}

impl Failure {
    /// The failure for a device that could not be opened; the message keeps
    /// the operating system's reason (address in use, permission, …).
    pub fn open_failed(e: &TransportError) -> Self {
        let mut message = e.to_string();
        if let Some(source) = std::error::Error::source(e) {
            let s = source.to_string();
            if !message.contains(&s) {
                message = format!("{message}: {s}");
            }
        }
        Failure {
            code: FailureCode::for_open_error(e),
            message,
            ctap_status: None,
            u2f_sw: None,
        }
    }
}

impl From<&ProbeError> for Failure {
    fn from(e: &ProbeError) -> Self {
        Failure {
            code: e.code(),
            message: e.to_string(),
            ctap_status: e.ctap_status().map(CtapStatus::code),
            u2f_sw: match e {
                ProbeError::Ctap(CtapError::U2f { sw }) => Some(*sw),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn failure_codes_are_listed_once_with_their_json_names() {
        let mut seen = std::collections::HashSet::new();
        for code in FailureCode::ALL {
            assert!(seen.insert(code), "{code:?} twice");
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        assert_eq!(seen.len(), FailureCode::ALL.len());
    }

    #[test]
    fn every_way_to_end_has_its_own_code() {
        let cases: Vec<(ProbeError, FailureCode)> = vec![
            (
                CtapError::NoAnswer(Duration::from_secs(1)).into(),
                FailureCode::KeyHung,
            ),
            (
                CtapError::StoppedAnswering(Duration::from_secs(1)).into(),
                FailureCode::KeyStopped,
            ),
            (
                CtapError::UserPresenceTimeout(Duration::from_secs(30)).into(),
                FailureCode::TouchTimeout,
            ),
            (CtapError::Cancelled.into(), FailureCode::Cancelled),
            (
                CtapError::Status(CtapStatus::KeepaliveCancel).into(),
                FailureCode::Cancelled,
            ),
            (
                CtapError::Status(CtapStatus::OperationDenied).into(),
                FailureCode::UserRefused,
            ),
            (ProbeError::PinUnavailable, FailureCode::PinUnavailable),
            (ProbeError::PinDeclined, FailureCode::PinDeclined),
            (ProbeError::PinUnsupported, FailureCode::PinUnsupported),
            (
                CtapError::Status(CtapStatus::PinNotSet).into(),
                FailureCode::PinNotSet,
            ),
            (ProbeError::KeyInUse, FailureCode::KeyInUse),
            (
                CtapError::Hid(HidErrorCode::ChannelBusy).into(),
                FailureCode::KeyInUse,
            ),
            (
                ProbeError::LastPinAttemptWithheld,
                FailureCode::PinLastAttemptWithheld,
            ),
            (
                CtapError::Status(CtapStatus::UvInvalid).into(),
                FailureCode::UvInvalid,
            ),
            (ProbeError::UvNotEnrolled, FailureCode::UvNotEnrolled),
            (
                ProbeError::Attestation(VerifyError::AttestationSignatureInvalid),
                FailureCode::AttestationInvalid,
            ),
            (
                ProbeError::Attestation(VerifyError::BadSignature),
                FailureCode::AttestationInvalid,
            ),
            (
                ProbeError::Attestation(VerifyError::RpIdHashMismatch),
                FailureCode::VerificationFailed,
            ),
            (
                ProbeError::Verify(VerifyError::BadSignature),
                FailureCode::VerificationFailed,
            ),
        ];
        for (e, code) in cases {
            assert_eq!(e.code(), code, "{e:?}");
        }
    }

    #[test]
    fn open_failures_keep_the_os_reason() {
        let e = TransportError::Io {
            path: "udp:127.0.0.1:8111".into(),
            source: std::io::Error::new(std::io::ErrorKind::AddrInUse, "Address in use"),
        };
        let f = Failure::open_failed(&e);
        assert_eq!(f.code, FailureCode::OpenFailed);
        assert!(f.message.contains("Address in use"), "{}", f.message);
        let f = Failure::open_failed(&TransportError::PermissionDenied {
            path: "/dev/hidraw0".into(),
        });
        assert_eq!(f.code, FailureCode::PermissionDenied);
        let f = Failure::open_failed(&TransportError::NotFound("hid:/nope".into()));
        assert_eq!(f.code, FailureCode::NotFound);
    }

    #[test]
    fn failure_serialization() {
        let e = ProbeError::Ctap(CtapError::Status(CtapStatus::PinBlocked));
        let f = Failure::from(&e);
        assert_eq!(f.code, FailureCode::PinBlocked);
        assert_eq!(f.ctap_status, Some(0x32));
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["code"], "pin-blocked");
        assert_eq!(
            ProbeError::Ctap(CtapError::U2f { sw: 0x6985 }).code(),
            FailureCode::TouchTimeout
        );
    }
}
