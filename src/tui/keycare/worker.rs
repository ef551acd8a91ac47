//! The key-care worker: runs each [`CareCommand`] on its own thread with
//! the library's key-care calls (`ctap::keycare`) and reports back as
//! [`CareMsg`]s. It owns the cancel handle of the running command and the
//! touch button of a simulated key; for a USB key's reset it waits for the
//! key to be unplugged and plugged back in before anything is sent.

use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use crate::ctap::ctaphid::{CancelHandle, CtapHid, HidEvent, HidOptions};
use crate::ctap::keycare::{self, KeyState, KeycareError, NewPin, PinSafety};
use crate::device::{self, OpenDevice};
use crate::sim::{AutoTouch, Presence, PresenceButton};
use crate::transport::DeviceSpec;
use crate::transport::hid;

use super::{CareCommand, CareFailure, CareMsg};
use crate::tui::action::{Msg, PinSecret};

/// How often the attached keys are listed while waiting for a re-plug.
const REPLUG_POLL: Duration = Duration::from_millis(100);
/// How long the user has to unplug the key, and then to plug it back in.
const REPLUG_WAIT: Duration = Duration::from_secs(60);

/// The running key-care command's handles.
#[derive(Default)]
pub struct CareWorker {
    cancel: Option<CancelHandle>,
    touch_tx: Option<Sender<()>>,
}

impl CareWorker {
    /// Carries out `cmd`; results arrive on `tx` as `Msg::Care`.
    pub fn apply(&mut self, cmd: CareCommand, tx: &Sender<Msg>) {
        match cmd {
            CareCommand::Touch => {
                if let Some(t) = &self.touch_tx {
                    let _ = t.send(());
                }
            }
            CareCommand::Cancel => {
                // CTAPHID_CANCEL for a command on the key; a re-plug wait
                // stops at its next poll.
                if let Some(c) = &self.cancel {
                    c.cancel();
                }
            }
            other => self.spawn(other, tx.clone()),
        }
    }

    fn spawn(&mut self, cmd: CareCommand, tx: Sender<Msg>) {
        let cancel = CancelHandle::default();
        self.cancel = Some(cancel.clone());
        let (button, touch_tx) = PresenceButton::new();
        self.touch_tx = Some(touch_tx);
        let report = tx.clone();
        let started = std::thread::Builder::new()
            .name("tui-keycare".into())
            .spawn(move || {
                let msg = run(cmd, Box::new(button), &cancel, &tx);
                let _ = tx.send(Msg::Care(msg));
            });
        if let Err(e) = started {
            let failed = Err(own("device-error", &e.to_string()));
            let _ = report.send(Msg::Care(CareMsg::Finished(failed)));
        }
    }
}

impl Drop for CareWorker {
    /// Quitting cancels what runs: a re-plug wait stops, a key gets
    /// CTAPHID_CANCEL.
    fn drop(&mut self) {
        if let Some(c) = &self.cancel {
            c.cancel();
        }
    }
}

/// A failure from a library error (the message never holds a PIN).
pub fn failure(e: &KeycareError) -> CareFailure {
    let retries = match e {
        KeycareError::PinInvalid { retries } => *retries,
        _ => None,
    };
    CareFailure {
        code: e.code().to_string(),
        retries,
        detail: e.to_string(),
    }
}

fn own(code: &str, detail: &str) -> CareFailure {
    CareFailure {
        code: code.to_string(),
        retries: None,
        detail: detail.to_string(),
    }
}

/// Runs one command to its end; the message to send.
pub fn run(
    cmd: CareCommand,
    presence: Box<dyn Presence>,
    cancel: &CancelHandle,
    tx: &Sender<Msg>,
) -> CareMsg {
    match cmd {
        CareCommand::Read { device } => CareMsg::State(
            open(&device, Box::new(AutoTouch), cancel).and_then(|mut d| {
                keycare::read_state(&mut d)
                    .map(|(_, s)| s)
                    .map_err(|e| failure(&e))
            }),
        ),
        CareCommand::SetPin {
            device,
            new,
            min_len,
        } => CareMsg::Finished(set_pin(&device, &new, min_len, cancel)),
        CareCommand::ChangePin {
            device,
            current,
            new,
            min_len,
            allow_last_attempt,
        } => CareMsg::Finished(change_pin(
            &device,
            &current,
            &new,
            min_len,
            PinSafety { allow_last_attempt },
            cancel,
        )),
        CareCommand::Reset { device } => CareMsg::Finished(reset(&device, presence, cancel, tx)),
        CareCommand::Touch | CareCommand::Cancel => CareMsg::Finished(Err(own("cancelled", ""))),
    }
}

fn open(
    device: &str,
    presence: Box<dyn Presence>,
    cancel: &CancelHandle,
) -> Result<CtapHid<OpenDevice>, CareFailure> {
    let spec = device
        .parse::<DeviceSpec>()
        .map_err(|e| own("device-error", &e.to_string()))?;
    let dev = device::open(&spec, presence).map_err(|e| {
        failure(&KeycareError::Ctap(
            crate::ctap::error::CtapError::Transport(e),
        ))
    })?;
    CtapHid::open(dev, HidOptions::default(), cancel.clone()).map_err(|e| failure(&e.into()))
}

fn set_pin(
    device: &str,
    new: &PinSecret,
    min_len: u32,
    cancel: &CancelHandle,
) -> Result<KeyState, CareFailure> {
    let new = NewPin::new(&new.0, Some(u64::from(min_len))).map_err(|e| failure(&e.into()))?;
    let mut dev = open(device, Box::new(AutoTouch), cancel)?;
    keycare::set_pin(&mut dev, &new).map_err(|e| failure(&e))
}

fn change_pin(
    device: &str,
    current: &PinSecret,
    new: &PinSecret,
    min_len: u32,
    safety: PinSafety,
    cancel: &CancelHandle,
) -> Result<KeyState, CareFailure> {
    let new = NewPin::new(&new.0, Some(u64::from(min_len))).map_err(|e| failure(&e.into()))?;
    let mut dev = open(device, Box::new(AutoTouch), cancel)?;
    keycare::change_pin(&mut dev, &current.0, &new, safety).map_err(|e| failure(&e))
}

fn reset(
    device: &str,
    presence: Box<dyn Presence>,
    cancel: &CancelHandle,
    tx: &Sender<Msg>,
) -> Result<KeyState, CareFailure> {
    let device = match device.parse::<DeviceSpec>() {
        Ok(DeviceSpec::Hid { path }) => {
            let mut list = || -> Result<Vec<String>, String> {
                hid::enumerate()
                    .map(|v| v.into_iter().map(|k| k.path).collect())
                    .map_err(|e| e.to_string())
            };
            let new = replug(
                &path,
                &mut list,
                cancel,
                REPLUG_POLL,
                REPLUG_WAIT,
                &mut |m| {
                    let _ = tx.send(Msg::Care(m));
                },
            )?;
            format!("hid:{new}")
        }
        // A simulated key is started afresh: its power-up is now, as after
        // a re-plug (the user unplugged and plugged it on screen).
        _ => device.to_string(),
    };
    let mut dev = open(&device, presence, cancel)?;
    let mut on_event = |_e: HidEvent| {};
    keycare::reset(&mut dev, &mut on_event).map_err(|e| failure(&e))
}

/// Waits until `path` disappears from `list`, then until exactly one key
/// appears that was not attached while it was out (other keys that stay
/// attached are never chosen). Reports [`CareMsg::Unplugged`] and
/// [`CareMsg::Plugged`] through `say`; nothing is sent to any key here.
pub fn replug(
    path: &str,
    list: &mut dyn FnMut() -> Result<Vec<String>, String>,
    cancel: &CancelHandle,
    poll: Duration,
    limit: Duration,
    say: &mut dyn FnMut(CareMsg),
) -> Result<String, CareFailure> {
    let start = Instant::now();
    let others = loop {
        let now = list().map_err(|e| own("device-error", &e))?;
        if !now.iter().any(|p| p == path) {
            break now;
        }
        if cancel.is_cancelled() {
            return Err(own("cancelled", ""));
        }
        if start.elapsed() > limit {
            return Err(own("not-unplugged", ""));
        }
        std::thread::sleep(poll);
    };
    say(CareMsg::Unplugged);
    let start = Instant::now();
    loop {
        let new: Vec<String> = list()
            .map_err(|e| own("device-error", &e))?
            .into_iter()
            .filter(|p| !others.contains(p))
            .collect();
        match new.as_slice() {
            [one] => {
                say(CareMsg::Plugged {
                    device: format!("hid:{one}"),
                });
                return Ok(one.clone());
            }
            [] => {}
            _ => return Err(own("several-keys", "")),
        }
        if cancel.is_cancelled() {
            return Err(own("cancelled", ""));
        }
        if start.elapsed() > limit {
            return Err(own("not-plugged", ""));
        }
        std::thread::sleep(poll);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;
    use crate::sim::AutoTouch;

    fn script(steps: Vec<Vec<&'static str>>) -> impl FnMut() -> Result<Vec<String>, String> {
        let mut i = 0;
        move || {
            let step = steps[i.min(steps.len() - 1)].iter().map(|s| s.to_string());
            i += 1;
            Ok(step.collect())
        }
    }

    fn wait(steps: Vec<Vec<&'static str>>) -> (Result<String, CareFailure>, Vec<CareMsg>) {
        let mut said = Vec::new();
        let r = replug(
            "/dev/hidraw3",
            &mut script(steps),
            &CancelHandle::default(),
            Duration::from_millis(1),
            Duration::from_millis(100),
            &mut |m| said.push(m),
        );
        (r, said)
    }

    #[test]
    fn replug_finds_the_key_again_and_never_another_one() {
        let (r, said) = wait(vec![
            vec!["/dev/hidraw3", "/dev/hidraw1"],
            vec!["/dev/hidraw1"],
            vec!["/dev/hidraw1", "/dev/hidraw5"],
        ]);
        assert_eq!(r.unwrap(), "/dev/hidraw5");
        let plugged = CareMsg::Plugged {
            device: "hid:/dev/hidraw5".into(),
        };
        assert_eq!(said, vec![CareMsg::Unplugged, plugged]);
        let (r, _) = wait(vec![vec!["/dev/hidraw3"]]);
        assert_eq!(r.unwrap_err().code, "not-unplugged");
        let (r, said) = wait(vec![vec!["/dev/hidraw3"], vec!["/dev/hidraw1"]]);
        assert_eq!(r.unwrap_err().code, "not-plugged");
        assert_eq!(said, vec![CareMsg::Unplugged]);
        let (r, _) = wait(vec![vec![], vec!["/dev/hidraw4", "/dev/hidraw5"]]);
        assert_eq!(r.unwrap_err().code, "several-keys");
    }

    #[test]
    fn a_cancelled_replug_wait_ends_without_sending() {
        let cancel = CancelHandle::default();
        cancel.cancel();
        let r = replug(
            "/dev/hidraw3",
            &mut script(vec![vec!["/dev/hidraw3"]]),
            &cancel,
            Duration::from_millis(1),
            Duration::from_secs(5),
            &mut |_| {},
        );
        assert_eq!(r.unwrap_err().code, "cancelled");
    }

    fn secret(s: &str) -> PinSecret {
        PinSecret(zeroize::Zeroizing::new(s.to_string()))
    }

    #[test]
    fn set_pin_on_the_simulated_key_without_pin() {
        let (tx, _rx) = mpsc::channel();
        let c = CancelHandle::default();
        let read = run(
            CareCommand::Read {
                device: "sim:no-pin".into(),
            },
            Box::new(AutoTouch),
            &c,
            &tx,
        );
        let CareMsg::State(Ok(before)) = read else {
            panic!("{read:?}")
        };
        assert_eq!(before.client_pin, Some(false));
        let cmd = CareCommand::SetPin {
            device: "sim:no-pin".into(),
            new: secret("246810"),
            min_len: before.min_pin_length,
        };
        let CareMsg::Finished(Ok(after)) = run(cmd, Box::new(AutoTouch), &c, &tx) else {
            panic!("set failed")
        };
        assert_eq!(after.client_pin, Some(true));
        assert_eq!(after.pin_retries, Some(8));
    }

    #[test]
    fn a_wrong_current_pin_costs_one_attempt_and_says_how_many_are_left() {
        let (tx, _rx) = mpsc::channel();
        let cmd = CareCommand::ChangePin {
            device: "sim:modern".into(),
            current: secret("9999"),
            new: secret("24681012"),
            min_len: 4,
            allow_last_attempt: false,
        };
        let msg = run(cmd, Box::new(AutoTouch), &CancelHandle::default(), &tx);
        let CareMsg::Finished(Err(f)) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!(f.code, "pin-invalid");
        assert_eq!(f.retries, Some(7));
        assert!(!f.detail.contains("9999"));
    }

    #[test]
    fn esc_while_the_key_waits_for_the_touch_cancels_the_reset() {
        let (tx, _rx) = mpsc::channel();
        let c = CancelHandle::default();
        let (button, _touch) = PresenceButton::new();
        let c2 = c.clone();
        let cancel = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            c2.cancel();
        });
        let cmd = CareCommand::Reset {
            device: "sim:pin-blocked".into(),
        };
        let msg = run(cmd, Box::new(button), &c, &tx);
        cancel.join().unwrap();
        let CareMsg::Finished(Err(f)) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!(f.code, "cancelled", "{f:?}");
    }

    #[test]
    fn reset_of_the_blocked_simulated_key_needs_the_touch() {
        let (tx, _rx) = mpsc::channel();
        let reset = || CareCommand::Reset {
            device: "sim:pin-blocked".into(),
        };
        let c = CancelHandle::default();
        let msg = run(reset(), Box::new(AutoTouch), &c, &tx);
        let CareMsg::Finished(Ok(after)) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!(after.client_pin, Some(false));
        // Nobody touches: the key refuses (the button was let go).
        let (button, touch) = PresenceButton::new();
        drop(touch);
        let msg = run(reset(), Box::new(button), &c, &tx);
        let CareMsg::Finished(Err(f)) = msg else {
            panic!("{msg:?}")
        };
        assert!(
            ["reset-denied", "no-touch"].contains(&f.code.as_str()),
            "{f:?}"
        );
    }
}
