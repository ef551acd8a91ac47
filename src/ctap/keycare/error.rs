//! [`KeycareError`]: why a key-care operation did not happen, in terms a
//! caller can map to advice. Messages never contain a PIN.

use crate::ctap::ctap2::DecodeError;
use crate::ctap::ctap2::pin_protocol::PinError;
use crate::ctap::error::CtapError;
use crate::ctap::status::CtapStatus;
use crate::transport::TransportError;

use super::new_pin::NewPinError;

/// Why a key-care operation did not complete.
#[derive(Debug, thiserror::Error)]
pub enum KeycareError {
    /// The key speaks only U2F (CTAP1): no PIN, no reset, no credential list.
    #[error(
        "this key speaks only U2F (CTAP1): it has no PIN, no CTAP2 reset and no credential list"
    )]
    U2fOnly,
    /// GetInfo has no `clientPin` option: the key cannot have a PIN.
    #[error("this key cannot have a PIN")]
    NoPinSupport,
    /// `pin set` on a key that already has a PIN.
    #[error("this key already has a PIN; change it instead")]
    PinAlreadySet,
    /// The operation needs a PIN and the key has none.
    #[error("this key has no PIN yet; set one first")]
    PinNotSet,
    /// The new PIN breaks the rules checked before sending it.
    #[error("the new PIN cannot be used: {0}")]
    NewPin(#[from] NewPinError),
    /// The current PIN given is not a possible PIN (too short or too long).
    #[error("the current PIN cannot be right: {0}")]
    CurrentPinShape(PinError),
    /// The new PIN is the current one.
    #[error("the new PIN is the same as the current one")]
    SamePin,
    /// Nobody gave a PIN (prompt cancelled or nothing on standard input).
    #[error("no PIN was given")]
    PinDeclined,
    /// One attempt is left and the caller did not allow spending it.
    #[error(
        "only one PIN attempt is left: a wrong PIN now blocks the key (allow the last attempt explicitly to go on)"
    )]
    LastAttemptRefused,
    /// The key rejected the PIN (CTAP2_ERR_PIN_INVALID).
    #[error("wrong PIN{}", retries.map(|r| format!(" ({r} attempts left)")).unwrap_or_default())]
    PinInvalid {
        /// Attempts left after this one, when the key said.
        retries: Option<u32>,
    },
    /// No PIN attempts left (CTAP2_ERR_PIN_BLOCKED): only a reset helps.
    #[error("the PIN is blocked: no attempts are left; only a reset makes the key usable again")]
    PinBlocked,
    /// Too many wrong PINs in a row (CTAP2_ERR_PIN_AUTH_BLOCKED) or the key
    /// reports powerCycleState: unplug it and plug it back in.
    #[error("the key takes no more PIN attempts until it is unplugged and plugged back in")]
    PowerCycleNeeded,
    /// The key refused the new PIN (CTAP2_ERR_PIN_POLICY_VIOLATION).
    #[error(
        "the key refused the new PIN: it breaks the key's own PIN rules (length or complexity)"
    )]
    PinPolicyViolation,
    /// The key demands a new PIN before it gives out tokens (forcePINChange).
    #[error("the key demands a new PIN before it can be used; change the PIN first")]
    ForcePinChange,
    /// The key has no credential management (neither 2.1 nor the preview).
    #[error("this key cannot list the sign-ins it holds (no credential management)")]
    NoCredentialManagement,
    /// authenticatorReset came too late after the key was plugged in
    /// (CTAP2_ERR_NOT_ALLOWED): keys accept it only in the first seconds.
    #[error("the key refused the reset: it came too late after the key was plugged in")]
    ResetTooLate,
    /// The user (or the key's policy) refused the reset (CTAP2_ERR_OPERATION_DENIED).
    #[error("the key refused the reset (operation denied)")]
    ResetDenied,
    /// Nobody touched the key in time (CTAP2_ERR_USER_ACTION_TIMEOUT or the wait ran out).
    #[error("the key was not touched in time")]
    NoTouch,
    /// The user cancelled the running command.
    #[error("cancelled")]
    Cancelled,
    /// The key answered with a status this operation does not expect.
    #[error("the key answered {0}")]
    Refused(CtapStatus),
    /// The platform side of the PIN protocol failed (bad key agreement key…).
    #[error("PIN protocol: {0}")]
    Protocol(PinError),
    /// Talking to the key failed (unplugged, timeout, garbage).
    #[error(transparent)]
    Ctap(CtapError),
}

impl KeycareError {
    /// A stable identifier for JSON output and for mapping to advice.
    pub fn code(&self) -> &'static str {
        match self {
            Self::U2fOnly => "u2f-only",
            Self::NoPinSupport => "no-pin-support",
            Self::PinAlreadySet => "pin-already-set",
            Self::PinNotSet => "pin-not-set",
            Self::NewPin(NewPinError::TooShort { .. }) => "new-pin-too-short",
            Self::NewPin(NewPinError::TooLong { .. }) => "new-pin-too-long",
            Self::NewPin(NewPinError::ControlCharacter) => "new-pin-control-character",
            Self::NewPin(NewPinError::Mismatch) => "new-pin-mismatch",
            Self::CurrentPinShape(_) => "current-pin-impossible",
            Self::SamePin => "same-pin",
            Self::PinDeclined => "pin-declined",
            Self::LastAttemptRefused => "last-attempt-refused",
            Self::PinInvalid { .. } => "pin-invalid",
            Self::PinBlocked => "pin-blocked",
            Self::PowerCycleNeeded => "power-cycle-needed",
            Self::PinPolicyViolation => "pin-policy-violation",
            Self::ForcePinChange => "force-pin-change",
            Self::NoCredentialManagement => "no-credential-management",
            Self::ResetTooLate => "reset-too-late",
            Self::ResetDenied => "reset-denied",
            Self::NoTouch => "no-touch",
            Self::Cancelled => "cancelled",
            Self::Refused(_) => "refused",
            Self::Protocol(_) => "pin-protocol",
            Self::Ctap(CtapError::Transport(TransportError::Gone(_))) => "unplugged",
            Self::Ctap(
                CtapError::Transport(TransportError::Timeout(_))
                | CtapError::NoAnswer(_)
                | CtapError::StoppedAnswering(_),
            ) => "timeout",
            Self::Ctap(CtapError::Malformed { .. }) => "malformed",
            Self::Ctap(_) => "device-error",
        }
    }

    /// True when nothing was sent to the key because of what the caller
    /// supplied (bad new PIN, mismatch, same PIN, last attempt not allowed,
    /// nothing given): a usage problem rather than the key's answer.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::NewPin(_)
                | Self::CurrentPinShape(_)
                | Self::SamePin
                | Self::PinDeclined
                | Self::LastAttemptRefused
        )
    }

    /// True when the program could not talk to the key properly (as opposed
    /// to the key answering "no").
    pub fn is_device_failure(&self) -> bool {
        matches!(self, Self::Ctap(_) | Self::Protocol(_))
    }
}

impl From<CtapError> for KeycareError {
    fn from(e: CtapError) -> Self {
        match e {
            CtapError::Cancelled => Self::Cancelled,
            CtapError::Status(s) => from_status(s, None),
            // The key asked for a touch and nobody gave one before the deadline.
            CtapError::UserPresenceTimeout(_) => Self::NoTouch,
            other => Self::Ctap(other),
        }
    }
}

impl From<DecodeError> for KeycareError {
    fn from(e: DecodeError) -> Self {
        Self::Ctap(e.into())
    }
}

impl From<PinError> for KeycareError {
    fn from(e: PinError) -> Self {
        Self::Protocol(e)
    }
}

/// Maps the PIN-related CTAP statuses; `retries` is what the key reports as
/// left after a PIN_INVALID.
pub fn from_status(s: CtapStatus, retries: Option<u32>) -> KeycareError {
    match s {
        CtapStatus::PinInvalid => KeycareError::PinInvalid { retries },
        CtapStatus::PinBlocked => KeycareError::PinBlocked,
        CtapStatus::PinAuthBlocked => KeycareError::PowerCycleNeeded,
        CtapStatus::PinPolicyViolation => KeycareError::PinPolicyViolation,
        CtapStatus::PinNotSet => KeycareError::PinNotSet,
        CtapStatus::KeepaliveCancel => KeycareError::Cancelled,
        other => KeycareError::Refused(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_distinct_codes() {
        let codes: Vec<&str> = [
            CtapStatus::PinInvalid,
            CtapStatus::PinBlocked,
            CtapStatus::PinAuthBlocked,
            CtapStatus::PinPolicyViolation,
            CtapStatus::PinNotSet,
            CtapStatus::OperationDenied,
        ]
        .into_iter()
        .map(|s| KeycareError::from(CtapError::Status(s)).code())
        .collect();
        assert_eq!(
            codes,
            [
                "pin-invalid",
                "pin-blocked",
                "power-cycle-needed",
                "pin-policy-violation",
                "pin-not-set",
                "refused"
            ]
        );
        assert_eq!(
            from_status(CtapStatus::PinInvalid, Some(3)).to_string(),
            "wrong PIN (3 attempts left)"
        );
        assert!(KeycareError::LastAttemptRefused.is_usage());
        assert!(!KeycareError::PinBlocked.is_usage());
    }
}
