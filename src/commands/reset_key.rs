//! `reset-key`: the plain-words warning, the typed confirmation word, then
//! unplug → plug in → touch within the key's reset window, with a countdown
//! (simulated keys are restarted instead; UDP keys cannot be re-plugged).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use fido_doctor::ctap::ctaphid::HidEvent;
use fido_doctor::ctap::keycare::{self, KeycareError};
use fido_doctor::device;
use fido_doctor::transport::DeviceSpec;
use fido_doctor::transport::hid;

use super::keycare::{done, failed, open, show_state, usage};
use crate::cli::ResetKeyArgs;

/// The word `reset-key` wants typed (or given with `--confirm`).
pub const CONFIRM_WORD: &str = "RESET";
/// Where UTokyo Account users delete an old security key registration.
const SECURITY_INFO: &str = "https://mysignins.microsoft.com/security-info";
/// Keys accept a reset only this long after being plugged in.
const RESET_WINDOW: Duration = Duration::from_secs(10);
/// How long to wait for the user to unplug or plug in the key.
const REPLUG_WAIT: Duration = Duration::from_secs(60);

/// `fido-doctor reset-key`.
pub fn reset_key(a: &ResetKeyArgs) -> anyhow::Result<ExitCode> {
    const CMD: &str = "reset-key";
    let json = a.device.json;
    let spec = device::resolve(a.device.device.as_deref())?;
    let name = spec.to_string();
    if let Some(word) = &a.confirm
        && word != CONFIRM_WORD
    {
        let msg = format!("--confirm must be {CONFIRM_WORD} exactly; nothing was done");
        return usage(json, CMD, &name, &msg);
    }
    let hid = open(&spec)?;
    if !keycare::Ctap2Channel::speaks_ctap2(&hid) {
        return failed(json, CMD, name, &KeycareError::U2fOnly, None);
    }
    eprintln!(
        "RESET {name}: this erases EVERYTHING on the key, for every service it is used\n\
         with (UTokyo Account and any other sign-in), and removes its PIN. It cannot be undone.\n\
         Afterwards, delete the old security key at Security info ({SECURITY_INFO})\n\
         and register the key again (after setting a new PIN)."
    );
    if a.confirm.is_none() {
        if !std::io::stdin().is_terminal() {
            let msg = format!(
                "not confirmed: type {CONFIRM_WORD} at the prompt, or pass --confirm {CONFIRM_WORD}; nothing was done"
            );
            return usage(json, CMD, &name, &msg);
        }
        eprint!("Type {CONFIRM_WORD} to erase the key, anything else to stop: ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        if line.trim() != CONFIRM_WORD {
            return usage(json, CMD, &name, "not confirmed; nothing was done");
        }
    }
    let (mut hid, plugged) = match spec {
        DeviceSpec::Hid { ref path } => {
            drop(hid);
            let new_spec = wait_replug(path)?;
            let plugged = Instant::now();
            (open(&new_spec)?, plugged)
        }
        DeviceSpec::Sim { .. } => {
            eprintln!(
                "A simulated key cannot be unplugged: it is restarted instead, as if plugged in again."
            );
            drop(hid);
            let plugged = Instant::now();
            (open(&spec)?, plugged)
        }
        DeviceSpec::Udp { .. } => {
            eprintln!(
                "A key reached over UDP cannot be unplugged from here: the reset is sent now."
            );
            (hid, Instant::now())
        }
    };
    let name = hid.name();
    // From here on Ctrl-C sends CTAPHID_CANCEL to the key instead of killing
    // us while it waits for the touch.
    let cancel = hid.cancel_handle();
    let _ = ctrlc::set_handler(move || cancel.cancel());
    eprintln!("Touch the key now to confirm the reset.");
    let mut countdown = Countdown::new(plugged);
    let mut on_event = |e: HidEvent| countdown.event(e);
    let result = keycare::reset(&mut hid, &mut on_event);
    countdown.end();
    match result {
        Ok(after) => {
            if !json {
                eprintln!("The key is reset: no credentials and no PIN are left on it.");
                show_state(&after);
                println!(
                    "Reset done. Next: `fido-doctor pin set`, then delete the old key at {SECURITY_INFO} and register it again."
                );
            }
            done(json, CMD, name, after)
        }
        Err(e) => failed(json, CMD, name, &e, None),
    }
}

/// Shows the seconds left of the reset window while the key waits for a touch.
struct Countdown {
    plugged: Instant,
    shown: Option<u64>,
    tty: bool,
}

impl Countdown {
    fn new(plugged: Instant) -> Self {
        Self {
            plugged,
            shown: None,
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn event(&mut self, e: HidEvent) {
        if e != HidEvent::UpNeeded {
            return;
        }
        let left = RESET_WINDOW
            .saturating_sub(self.plugged.elapsed())
            .as_secs();
        if self.shown == Some(left) || (!self.tty && self.shown.is_some()) {
            return;
        }
        self.shown = Some(left);
        if self.tty {
            eprint!("\r  the key blinks: touch it ({left:>2} s left)  ");
            let _ = std::io::stderr().flush();
        } else {
            eprintln!("  the key blinks: touch it ({left} s left)");
        }
    }

    fn end(&self) {
        if self.tty && self.shown.is_some() {
            eprintln!();
        }
    }
}

/// Waits for the key at `path` to be unplugged, then for a FIDO key to be
/// plugged in; returns the new one (its path may differ).
fn wait_replug(path: &str) -> anyhow::Result<DeviceSpec> {
    eprintln!("Unplug the key now (within 60 s).");
    let start = Instant::now();
    while hid::enumerate()?.iter().any(|k| k.path == path) {
        if start.elapsed() > REPLUG_WAIT {
            anyhow::bail!("the key was not unplugged within 60 s; nothing was done");
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    eprintln!("Now plug it back in; then touch it within 10 seconds.");
    let start = Instant::now();
    loop {
        let keys = hid::enumerate()?;
        let pick = keys
            .iter()
            .find(|k| k.path == path)
            .or_else(|| (keys.len() == 1).then(|| &keys[0]));
        if let Some(k) = pick {
            return Ok(DeviceSpec::Hid {
                path: k.path.clone(),
            });
        }
        if start.elapsed() > REPLUG_WAIT {
            anyhow::bail!("no key was plugged in within 60 s; nothing was done");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
