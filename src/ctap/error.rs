//! [`CtapError`]: everything that can go wrong talking to an authenticator,
//! from the transport up to CTAP status codes and malformed responses.

use crate::ctap::status::{CtapStatus, HidErrorCode};
use crate::transport::TransportError;

/// An error from the FIDO client layer.
#[derive(Debug, thiserror::Error)]
pub enum CtapError {
    /// The transport failed (timeout, unplugged, permission, I/O).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The authenticator completed the command with a non-zero CTAP status.
    #[error("authenticator returned {0}")]
    Status(CtapStatus),
    /// The authenticator answered with a CTAPHID ERROR frame.
    #[error("CTAPHID error {0}")]
    Hid(HidErrorCode),
    /// A response arrived on a channel other than ours.
    #[error("response on channel {got:08X}, expected {expected:08X}")]
    BadChannel {
        /// Our channel.
        expected: u32,
        /// The channel in the report.
        got: u32,
    },
    /// A continuation packet was out of order.
    #[error("continuation packet with sequence {got}, expected {expected}")]
    BadSequence {
        /// The next sequence number.
        expected: u8,
        /// The one received.
        got: u8,
    },
    /// A response carried a different command than the request.
    #[error("response command 0x{got:02X}, expected 0x{expected:02X}")]
    UnexpectedCommand {
        /// The command sent (without the 0x80 bit).
        expected: u8,
        /// The command received (without the 0x80 bit).
        got: u8,
    },
    /// A message longer than allowed.
    #[error("message of {len} bytes exceeds the maximum of {max}")]
    Oversized {
        /// Declared or requested length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// No INIT response carried our nonce.
    #[error("no CTAPHID_INIT response carried our nonce")]
    NonceMismatch,
    /// A response could not be understood (truncated, invalid CBOR, …).
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being parsed.
        what: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// A U2F (CTAP1) command ended with a status word other than 0x9000.
    #[error("U2F status word 0x{sw:04X}")]
    U2f {
        /// The status word.
        sw: u16,
    },
    /// The key sent nothing at all within this long (hung, or not a
    /// working authenticator).
    #[error("the key did not answer within {} ms", .0.as_millis())]
    NoAnswer(std::time::Duration),
    /// The key started answering (KEEPALIVE or part of a response) and then
    /// went silent for this long, mid-command.
    #[error("the key stopped answering mid-command (silent for {} ms)", .0.as_millis())]
    StoppedAnswering(std::time::Duration),
    /// The key asked for a touch (KEEPALIVE UP_NEEDED) and nobody touched it
    /// within this long.
    #[error("the key was not touched within {} s", .0.as_secs())]
    UserPresenceTimeout(std::time::Duration),
    /// The operation was cancelled by the user of this program.
    #[error("cancelled")]
    Cancelled,
    /// The authenticator does not support what was asked.
    #[error("not supported by this authenticator: {0}")]
    NotSupported(&'static str),
}

impl CtapError {
    /// Shorthand for [`CtapError::Malformed`].
    pub fn malformed(what: &'static str, detail: impl Into<String>) -> Self {
        CtapError::Malformed {
            what,
            detail: detail.into(),
        }
    }

    /// The CTAP status, when the authenticator answered with one.
    pub fn status(&self) -> Option<CtapStatus> {
        match self {
            CtapError::Status(s) => Some(*s),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn messages_carry_the_details() {
        let e = CtapError::Status(CtapStatus::PinInvalid);
        assert_eq!(
            e.to_string(),
            "authenticator returned CTAP2_ERR_PIN_INVALID (0x31)"
        );
        assert_eq!(e.status(), Some(CtapStatus::PinInvalid));
        let e = CtapError::BadChannel {
            expected: 0x0102_0304,
            got: 0xFFFF_FFFF,
        };
        assert_eq!(
            e.to_string(),
            "response on channel FFFFFFFF, expected 01020304"
        );
        assert_eq!(e.status(), None);
        let e: CtapError = TransportError::Timeout(Duration::from_secs(1)).into();
        assert!(matches!(
            e,
            CtapError::Transport(TransportError::Timeout(_))
        ));
        assert_eq!(
            CtapError::malformed("getInfo", "truncated").to_string(),
            "malformed getInfo: truncated"
        );
    }
}
