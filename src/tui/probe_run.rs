//! One check of a key from the app, run on a worker thread: the probe with
//! its PIN asked through the UI ([`ChannelPin`]), progress and result sent
//! as `Msg`s, a cancelled check read as cancelled, then the diagnosis and
//! the stored sign-ins the check could read.

use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::ctap::ctaphid::CancelHandle;
use crate::ctap::probe::{
    self, Outcome, PinAnswer, PinRequest, PinSource, ProbeEvent, ProbeReport, RememberedPin,
};
use crate::device;
use crate::diagnose::{self, KeyFacts};
use crate::sim::{AutoTouch, Presence};
use crate::transport::DeviceSpec;

use super::action::{Msg, PinSecret};
use super::worker::{PIN_TIMEOUT, WorkerConfig, send_diagnosis};

/// A [`PinSource`] that asks the UI: sends `Msg::PinRequested`, then waits
/// (at most `timeout`) for the PIN typed there. Wrapped in
/// [`RememberedPin`] so the PIN is asked once per check.
pub struct ChannelPin {
    tx: Sender<Msg>,
    rx: Receiver<PinSecret>,
    timeout: Duration,
}

impl ChannelPin {
    /// A source asking through `tx` and reading answers from `rx`; it
    /// remembers the PIN for the rest of the check.
    pub fn new(
        tx: Sender<Msg>,
        rx: Receiver<PinSecret>,
        timeout: Duration,
    ) -> RememberedPin<ChannelPin> {
        RememberedPin::new(ChannelPin { tx, rx, timeout })
    }
}

impl ChannelPin {
    fn ask(&mut self, retries: Option<u32>) -> Option<Zeroizing<String>> {
        // Answers typed for an earlier request are stale.
        while self.rx.try_recv().is_ok() {}
        self.tx.send(Msg::PinRequested { retries }).ok()?;
        let PinSecret(pin) = self.rx.recv_timeout(self.timeout).ok()?;
        (!pin.is_empty()).then_some(pin)
    }
}

impl PinSource for ChannelPin {
    fn request_pin(&mut self, request: &PinRequest) -> PinAnswer {
        PinAnswer::from_option(self.ask(request.retries))
    }

    /// The PIN window itself asks for an explicit confirmation before it
    /// shows the field on the last attempt (Esc there declines), so the
    /// request may go ahead to it.
    fn confirm_last_pin_attempt(&mut self, _request: &PinRequest) -> bool {
        true
    }
}

/// Runs one check of `device` and reports progress, the result and the new
/// diagnosis on `tx`.
pub fn run_probe(
    device: &str,
    presence: Box<dyn Presence>,
    pin_rx: Receiver<PinSecret>,
    cancel: &CancelHandle,
    tx: &Sender<Msg>,
    config: &WorkerConfig,
) {
    if super::os_api::takes(config.os_api.as_ref(), device) {
        match &config.os_api {
            Some(api) if super::os_api::run_check(device, api, tx, config) => return,
            Some(_) => {} // the API did not open: raw HID goes on
            None => {
                let _ = tx.send(Msg::ProbeOpenFailed {
                    device: device.to_string(),
                    error: "no WebAuthn API on this system (webauthn.dll is Windows only)".into(),
                });
                return;
            }
        }
    }
    let opened = device
        .parse::<DeviceSpec>()
        .and_then(|spec| device::open(&spec, presence));
    let dev = match opened {
        Ok(d) => d,
        Err(e) => {
            let _ = tx.send(Msg::ProbeOpenFailed {
                device: device.to_string(),
                error: e.to_string(),
            });
            send_diagnosis(tx, config, vec![KeyFacts::open_failed(device, &e)]);
            return;
        }
    };
    let mut pin = ChannelPin::new(tx.clone(), pin_rx, PIN_TIMEOUT);
    let sink = tx.clone();
    let mut on_event = move |e: ProbeEvent| {
        // Keepalives arrive every ~100 ms and change nothing on screen.
        if e != ProbeEvent::Processing {
            let _ = sink.send(Msg::Probe(e));
        }
    };
    let mut report = probe::run(dev, &config.probe, &mut pin, &mut on_event, cancel);
    if cancel.is_cancelled() {
        read_as_cancelled(&mut report);
    }
    // The key's PIN counter is read again by the probe after a PIN was
    // given, so the facts show the attempts left after the check.
    let mut keys = match &config.content {
        Some(c) => diagnose::keys_from_probes(std::slice::from_ref(&report), c),
        None => Vec::new(),
    };
    // With the PIN the key just accepted (remembered, not asked again): the
    // sign-ins stored on it. Reading them needs no touch.
    if !cancel.is_cancelled()
        && diagnose::stored::should_read(&report)
        && let Some(f) = keys.first_mut()
    {
        let read = device
            .parse::<DeviceSpec>()
            .and_then(|spec| device::open(&spec, Box::new(AutoTouch)))
            .map_err(|e| e.to_string())
            .and_then(|dev| diagnose::stored::read_stored(dev, &mut pin, false));
        f.apply_stored(read);
    }
    if tx.send(Msg::ProbeFinished(Box::new(report))).is_err() {
        return;
    }
    send_diagnosis(tx, config, keys);
}

/// After the user cancelled, a key's answer to CTAPHID_CANCEL (often
/// "operation denied", or a timeout) is not a refusal: the stage that
/// stopped reads as cancelled.
pub fn read_as_cancelled(report: &mut ProbeReport) {
    use crate::ctap::probe::FailureCode;
    let fix = |f: &mut crate::ctap::probe::Failure| {
        if matches!(
            f.code,
            FailureCode::UserRefused
                | FailureCode::TouchTimeout
                | FailureCode::Timeout
                | FailureCode::CtapStatus
                | FailureCode::PinDeclined
        ) {
            f.code = FailureCode::Cancelled;
            f.message = format!("cancelled here; the key then answered: {}", f.message);
        }
    };
    if let Outcome::Failed { error, .. } = &mut report.key {
        fix(error);
    }
    if let Outcome::Failed { error, .. } = &mut report.registration {
        fix(error);
    }
    if let Outcome::Failed { error, .. } = &mut report.authentication {
        fix(error);
    }
}
