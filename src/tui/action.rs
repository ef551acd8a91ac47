//! Messages that drive the app: everything that happens (keys, resizes,
//! animation ticks, device lists, probe progress, diagnoses, exports) arrives
//! as one [`Msg`] on one channel; what the app wants done outside arrives at
//! the event loop as a [`Command`].

use ratatui::crossterm::event::KeyEvent;
use zeroize::Zeroizing;

use crate::ctap::probe::{KeyReport, ProbeEvent, ProbeReport};
use crate::diagnose::Report;
use crate::transport::hid::HidKeyInfo;

/// Something that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// A key was pressed (releases are filtered out by the input thread).
    Key(KeyEvent),
    /// The terminal now has this many columns and rows.
    Resize(u16, u16),
    /// An animation frame is due (sent only while something animates).
    Tick,
    /// The attached FIDO keys changed (the watcher sends only changes).
    Devices(Vec<HidKeyInfo>),
    /// The NFC keys on PC/SC readers changed (`pcsc:READER` device strings;
    /// the watcher sends only changes).
    NfcKeys(Vec<String>),
    /// Listing the keys failed (shown as a status, never fatal).
    DevicesError(String),
    /// Progress of the running check.
    Probe(ProbeEvent),
    /// The running check ended.
    ProbeFinished(Box<ProbeReport>),
    /// The check could not start: the device could not be opened.
    ProbeOpenFailed {
        /// The device selection string.
        device: String,
        /// Why (English, technical).
        error: String,
    },
    /// What a key says about itself (CTAPHID INIT + GetInfo), or why it
    /// could not be asked.
    InfoReady {
        /// The device.
        device: String,
        /// The answer.
        result: Result<Box<KeyReport>, String>,
    },
    /// The running check needs the key's PIN.
    PinRequested {
        /// Attempts left, as the key reports them.
        retries: Option<u32>,
    },
    /// A new diagnosis of this computer and the last checked key.
    DiagnosisReady(Box<Report>),
    /// A wink request ended.
    WinkDone {
        /// The device.
        device: String,
        /// Why it failed, if it did.
        error: Option<String>,
    },
    /// The report was written to this path.
    ExportDone(String),
    /// The report could not be written.
    ExportFailed(String),
    /// Progress or end of a key-care flow (set or change the PIN, reset).
    Care(super::keycare::CareMsg),
}

/// A PIN typed by the user: wiped from memory when dropped, never shown by
/// `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct PinSecret(pub Zeroizing<String>);

impl std::fmt::Debug for PinSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinSecret(<redacted>)")
    }
}

/// Something the event loop must do after an update (the update itself
/// never does I/O).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Leave the app.
    Quit,
    /// Run the full check (info, registration, sign-in) on a device.
    /// `sim:NAME` devices get a presence button pressed by [`Command::Touch`].
    StartProbe {
        /// The device selection string.
        device: String,
    },
    /// Answer the running check's PIN request (`None` declines).
    Pin(Option<PinSecret>),
    /// Touch the simulated key of the running practice check.
    Touch,
    /// Cancel the running check (CTAPHID_CANCEL, PIN request declined).
    CancelProbe,
    /// Ask keys what they are (no touch, no PIN, nothing written).
    Info {
        /// The device selection strings.
        devices: Vec<String>,
    },
    /// Make a key blink (CTAPHID_WINK).
    Wink {
        /// The device selection string.
        device: String,
    },
    /// Write the report to a new `fido-doctor-report-<n>.md`.
    Export(Box<Report>),
    /// Diagnose again with what is known about these keys (from asking
    /// them what they are), so the diagnosis and the keys pane agree.
    Diagnose(Vec<crate::diagnose::KeyFacts>),
    /// A key-care step (read the PIN state, set or change the PIN, reset).
    Care(super::keycare::CareCommand),
}
