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
/// How long to wait for the user to unplug, and then to plug in, the key.
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
        DeviceSpec::Pcsc { .. } => {
            // A card is powered up when it is put on the reader; the key
            // refuses the reset (too late) if that was more than ~10 s ago.
            eprintln!(
                "The reset is sent now. If the key says it is too late, lift it off the reader, put it back and run this again at once."
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
                super::out_line(&format!(
                    "Reset done. Next: `fido-doctor pin set`, then delete the old key at {SECURITY_INFO} and register it again."
                ))?;
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
    let mut list = || -> anyhow::Result<Vec<String>> {
        Ok(hid::enumerate()?.into_iter().map(|k| k.path).collect())
    };
    let mut say = |s: &str| eprintln!("{s}");
    let path = replug(path, &mut list, REPLUG_POLL, REPLUG_WAIT, &mut say)?;
    Ok(DeviceSpec::Hid { path })
}

/// How often the attached keys are listed while waiting for a re-plug.
const REPLUG_POLL: Duration = Duration::from_millis(100);

/// The re-plug wait over any key lister: first `path` must disappear; then
/// exactly one key must appear that was not attached while it was out (other
/// keys that stay plugged in are never chosen).
fn replug(
    path: &str,
    list: &mut dyn FnMut() -> anyhow::Result<Vec<String>>,
    poll: Duration,
    limit: Duration,
    say: &mut dyn FnMut(&str),
) -> anyhow::Result<String> {
    say("Unplug the key now.");
    let start = Instant::now();
    let others = loop {
        let now = list()?;
        if !now.iter().any(|p| p == path) {
            break now;
        }
        if start.elapsed() > limit {
            anyhow::bail!("the key was not unplugged in time; nothing was done");
        }
        std::thread::sleep(poll);
    };
    say("Now plug it back in, then touch it within 10 seconds.");
    let start = Instant::now();
    loop {
        let new: Vec<String> = list()?
            .into_iter()
            .filter(|p| !others.contains(p))
            .collect();
        match new.as_slice() {
            [one] => return Ok(one.clone()),
            [] => {}
            _ => anyhow::bail!(
                "several keys were plugged in; plug in only the key to reset; nothing was done"
            ),
        }
        if start.elapsed() > limit {
            anyhow::bail!("no key was plugged in in time; nothing was done");
        }
        std::thread::sleep(poll);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lister that returns the given snapshots in turn (the last one repeats).
    fn script(steps: Vec<Vec<&'static str>>) -> impl FnMut() -> anyhow::Result<Vec<String>> {
        let mut i = 0;
        move || {
            let step = steps[i.min(steps.len() - 1)].iter().map(|s| s.to_string());
            i += 1;
            Ok(step.collect())
        }
    }

    fn run(steps: Vec<Vec<&'static str>>) -> anyhow::Result<String> {
        let mut said = Vec::new();
        let r = replug(
            "/dev/hidraw3",
            &mut script(steps),
            Duration::from_millis(1),
            Duration::from_millis(200),
            &mut |s| said.push(s.to_owned()),
        );
        assert!(said[0].contains("Unplug"), "{said:?}");
        r
    }

    #[test]
    fn the_same_key_comes_back_under_a_new_path() {
        let steps = vec![
            vec!["/dev/hidraw3"],
            vec!["/dev/hidraw3"],
            vec![],
            vec![],
            vec!["/dev/hidraw5"],
        ];
        assert_eq!(run(steps).unwrap(), "/dev/hidraw5");
    }

    #[test]
    fn another_attached_key_is_never_chosen() {
        let steps = vec![
            vec!["/dev/hidraw3", "/dev/hidraw1"],
            vec!["/dev/hidraw1"],
            vec!["/dev/hidraw1"],
            vec!["/dev/hidraw1", "/dev/hidraw3"],
        ];
        assert_eq!(run(steps).unwrap(), "/dev/hidraw3");
        // The other key alone never counts as the re-plugged one.
        let err = run(vec![
            vec!["/dev/hidraw3", "/dev/hidraw1"],
            vec!["/dev/hidraw1"],
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("nothing was done"), "{err}");
    }

    #[test]
    fn two_new_keys_or_no_unplug_end_without_a_reset() {
        let err = run(vec![
            vec!["/dev/hidraw3"],
            vec![],
            vec!["/dev/hidraw4", "/dev/hidraw5"],
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("several keys"), "{err}");
        let err = run(vec![vec!["/dev/hidraw3"]]).unwrap_err().to_string();
        assert!(err.contains("not unplugged"), "{err}");
    }
}
