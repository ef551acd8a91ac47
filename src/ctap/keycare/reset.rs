//! authenticatorReset (0x07): erases every credential on the key and its PIN.
//! Keys accept it only shortly after power-up (about 10 s) and only with a
//! touch; the answers for "too late", "refused" and "no touch" are told apart.
//! The caller is responsible for the warning and the typed confirmation.

use serde::Serialize;

use crate::ctap::ctap2::cmd;
use crate::ctap::ctaphid::HidEvent;
use crate::ctap::error::CtapError;
use crate::ctap::status::CtapStatus;
use crate::transport::TransportError;

use super::state::{KeyState, read_state};
use super::{Ctap2Channel, KeycareError};

/// How a reset attempt ended, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResetOutcome {
    /// The key is factory-fresh: no credentials, no PIN.
    Done,
    /// NOT_ALLOWED: too late after plugging the key in.
    TooLate,
    /// OPERATION_DENIED: refused on the key.
    Denied,
    /// USER_ACTION_TIMEOUT or no touch within the wait.
    NoTouch,
    /// The key has no CTAP2 reset (U2F only).
    NotSupported,
    /// Anything else (see the error).
    Failed,
}

impl ResetOutcome {
    /// The outcome an error stands for.
    pub fn of(e: &KeycareError) -> Self {
        match e {
            KeycareError::ResetTooLate => Self::TooLate,
            KeycareError::ResetDenied => Self::Denied,
            KeycareError::NoTouch => Self::NoTouch,
            KeycareError::U2fOnly => Self::NotSupported,
            _ => Self::Failed,
        }
    }
}

/// Maps what the reset command ended with; `touch_asked` = the key sent a
/// "waiting for touch" keep-alive before the wait ran out.
pub fn map_reset_error(e: CtapError, touch_asked: bool) -> KeycareError {
    match e {
        CtapError::Status(CtapStatus::NotAllowed) => KeycareError::ResetTooLate,
        CtapError::Status(CtapStatus::OperationDenied) => KeycareError::ResetDenied,
        CtapError::Status(CtapStatus::UserActionTimeout | CtapStatus::ActionTimeout) => {
            KeycareError::NoTouch
        }
        CtapError::Status(CtapStatus::InvalidCommand) => KeycareError::U2fOnly,
        CtapError::Transport(TransportError::Timeout(_)) if touch_asked => KeycareError::NoTouch,
        other => other.into(),
    }
}

/// Sends authenticatorReset and waits for the touch; `on_event` sees the
/// key's keep-alives (to show a countdown while it waits for the touch).
/// Returns the key's state afterwards (no PIN).
pub fn reset(
    dev: &mut dyn Ctap2Channel,
    on_event: &mut dyn FnMut(HidEvent),
) -> Result<KeyState, KeycareError> {
    if !dev.speaks_ctap2() {
        return Err(KeycareError::U2fOnly);
    }
    let mut touch_asked = false;
    let mut on = |e: HidEvent| {
        if e == HidEvent::UpNeeded {
            touch_asked = true;
        }
        on_event(e);
    };
    let result = dev.ctap2(cmd::RESET, &[], &mut on);
    if let Err(e) = result {
        return Err(map_reset_error(e, touch_asked));
    }
    Ok(read_state(dev)?.1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn reset_answers_are_told_apart() {
        let st = |s| map_reset_error(CtapError::Status(s), true);
        assert!(matches!(
            st(CtapStatus::NotAllowed),
            KeycareError::ResetTooLate
        ));
        assert!(matches!(
            st(CtapStatus::OperationDenied),
            KeycareError::ResetDenied
        ));
        assert!(matches!(
            st(CtapStatus::UserActionTimeout),
            KeycareError::NoTouch
        ));
        let timeout = || CtapError::Transport(TransportError::Timeout(Duration::from_secs(1)));
        assert!(matches!(
            map_reset_error(timeout(), true),
            KeycareError::NoTouch
        ));
        // Silence without a touch prompt is a device problem, not "no touch".
        assert!(matches!(
            map_reset_error(timeout(), false),
            KeycareError::Ctap(CtapError::Transport(TransportError::Timeout(_)))
        ));
        assert_eq!(
            ResetOutcome::of(&KeycareError::ResetTooLate),
            ResetOutcome::TooLate
        );
        assert_eq!(
            ResetOutcome::of(&KeycareError::U2fOnly),
            ResetOutcome::NotSupported
        );
    }
}
