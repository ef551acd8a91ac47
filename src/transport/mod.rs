//! Transports carry 64-byte CTAPHID reports between this program and an
//! authenticator: real keys over HID ([`hid`]), simulators over UDP ([`udp`])
//! and the built-in simulator over in-process channels ([`inproc`]).
//! NFC keys on a PC/SC reader speak APDUs instead ([`card`], [`pcsc`]); the
//! client turns them into reports in `ctap::nfc`.
//!
//! This layer knows nothing about CTAPHID framing; it moves whole reports.

pub mod card;
pub mod hid;
pub mod inproc;
pub mod pcsc;
mod spec;
pub mod udp;

use std::time::{Duration, Instant};

pub use spec::DeviceSpec;

/// Size of one CTAPHID report (without the HID report-ID byte).
pub const REPORT_LEN: usize = 64;

/// One CTAPHID report.
pub type Report = [u8; REPORT_LEN];

/// What can go wrong below the CTAPHID layer.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The OS refused to open the device (Linux udev rule missing, Windows not elevated).
    #[error("permission denied opening {path}")]
    PermissionDenied {
        /// Device path or address.
        path: String,
    },
    /// The device disappeared (unplugged, simulator stopped).
    #[error("device {0} is gone (unplugged or closed)")]
    Gone(String),
    /// No report arrived within the timeout.
    #[error("no answer from the device within {0:?}")]
    Timeout(Duration),
    /// No device matches the selection.
    #[error("no such device: {0}")]
    NotFound(String),
    /// A device selection string could not be parsed.
    #[error("invalid device {input:?}: {reason}")]
    BadSpec {
        /// The string as given.
        input: String,
        /// Why it was refused.
        reason: String,
    },
    /// Any other I/O failure. The message leads with the kind of failure
    /// (`address in use`), which does not depend on the OS having message
    /// text for its error number.
    #[error("I/O error on {path}: {}", io_reason(source))]
    Io {
        /// Device path or address.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An error reported by hidapi.
    #[error("HID error on {path}: {message}")]
    Hid {
        /// Device path.
        path: String,
        /// hidapi's message.
        message: String,
    },
}

/// The reason an I/O error gives, led by its kind where the kind says more
/// than "other error": some systems (wine among them) give only a number
/// (`OS Error 10048`) for an error the standard library still classifies.
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    let named = matches!(
        e.kind(),
        K::AddrInUse
            | K::AddrNotAvailable
            | K::PermissionDenied
            | K::NotFound
            | K::ConnectionRefused
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::NotConnected
            | K::BrokenPipe
            | K::TimedOut
            | K::InvalidInput
            | K::Unsupported
    );
    let text = e.to_string();
    let kind = e.kind().to_string();
    if named && !text.to_lowercase().contains(&kind) {
        format!("{kind} ({text})")
    } else {
        text
    }
}

/// A bidirectional, report-oriented link to one authenticator.
pub trait Transport: Send {
    /// Sends one 64-byte report.
    fn send(&mut self, report: &Report) -> Result<(), TransportError>;
    /// Waits at most `timeout` for one report; [`TransportError::Timeout`] if none came.
    fn recv(&mut self, timeout: Duration) -> Result<Report, TransportError>;
    /// The device selection string this transport was opened from (`hid:…`, `udp:…`, `sim:…`).
    fn name(&self) -> String;
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn send(&mut self, report: &Report) -> Result<(), TransportError> {
        (**self).send(report)
    }
    fn recv(&mut self, timeout: Duration) -> Result<Report, TransportError> {
        (**self).recv(timeout)
    }
    fn name(&self) -> String {
        (**self).name()
    }
}

/// `now + d`, saturating far in the future instead of overflowing (every
/// bounded wait in the program computes its deadline with this).
pub fn deadline_after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .or_else(|| now.checked_add(Duration::from_secs(86_400 * 365)))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    #[test]
    fn an_error_number_without_text_still_reads_as_its_kind() {
        // What wine gives for WSAEADDRINUSE: a number, no words.
        let e = Error::new(ErrorKind::AddrInUse, "OS Error 10048");
        assert_eq!(io_reason(&e), "address in use (OS Error 10048)");
        let t = TransportError::Io {
            path: "udp:127.0.0.1:7112".into(),
            source: e,
        };
        assert!(t.to_string().contains("address in use"), "{t}");
    }

    #[test]
    fn a_message_that_already_names_the_kind_is_not_repeated() {
        let e = Error::new(ErrorKind::PermissionDenied, "permission denied");
        assert_eq!(io_reason(&e), "permission denied");
        let other = Error::other("short read");
        assert_eq!(io_reason(&other), "short read");
    }
}
