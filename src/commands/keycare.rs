//! `pin set`, `pin change` and `credentials`, and what they share with
//! `reset-key` ([`super::reset_key`]): the commands that change a key (each
//! only after its own explicit confirmation) and the read-only list of
//! sign-ins on it. Exit codes: 0 done, 2 the key refused or cannot do it,
//! 3 the key could not be reached or answered nonsense, 64 the command line
//! or the typed input was not usable (nothing was sent).

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::Context;
use fido_doctor::content::Lang;
use fido_doctor::content::text::Texts;
use fido_doctor::ctap::ctaphid::{CancelHandle, CtapHid, HidOptions};
use fido_doctor::ctap::keycare::{
    self, CredentialInventory, KeyState, KeycareError, NewPin, PinSafety, ResetOutcome,
};
use fido_doctor::ctap::probe::{PinSource, RememberedPin};
use fido_doctor::device::{self, OpenDevice};
use fido_doctor::sim::AfterDelay;
use fido_doctor::transport::DeviceSpec;
use serde::Serialize;
use zeroize::Zeroizing;

use super::keys::SIM_TOUCH_DELAY;
use super::pin::{PromptPin, StdinPin, prompt_masked};
use crate::cli::{CredentialsArgs, PinChangeArgs, PinSetArgs};

/// Exit code when the command line or typed input was unusable.
const EXIT_USAGE: u8 = 64;
/// Times a new PIN is asked for on the terminal before giving up.
const NEW_PIN_TRIES: usize = 3;

/// What `--json` prints for every key-care command. Never holds a PIN.
#[derive(Debug, Serialize)]
struct Outcome<'a> {
    command: &'a str,
    device: String,
    /// "done" or the error code.
    outcome: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reset: Option<ResetOutcome>,
    /// The key's state afterwards (before, when nothing changed).
    key: Option<KeyState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credentials: Option<CredentialInventory>,
}

fn exit_for(e: &KeycareError) -> ExitCode {
    if e.is_usage() {
        ExitCode::from(EXIT_USAGE)
    } else if e.is_device_failure() {
        ExitCode::from(3)
    } else {
        ExitCode::from(2)
    }
}

/// A usage failure found before anything was sent.
pub(super) fn usage(
    json: bool,
    command: &str,
    device: &str,
    msg: &str,
) -> anyhow::Result<ExitCode> {
    finish(
        json,
        Outcome {
            command,
            device: device.to_owned(),
            outcome: "usage",
            message: Some(msg.to_owned()),
            reset: None,
            key: None,
            credentials: None,
        },
        ExitCode::from(EXIT_USAGE),
    )
}

fn finish(json: bool, o: Outcome<'_>, code: ExitCode) -> anyhow::Result<ExitCode> {
    if json {
        super::out_line(&serde_json::to_string_pretty(&o)?)?;
    } else if let Some(m) = &o.message {
        eprintln!("fido-doctor: {m}");
    }
    Ok(code)
}

pub(super) fn failed(
    json: bool,
    command: &str,
    device: String,
    e: &KeycareError,
    key: Option<KeyState>,
) -> anyhow::Result<ExitCode> {
    let mut message = e.to_string();
    if let Some(hint) = hint(e) {
        message = format!("{message}\n{hint}");
    }
    finish(
        json,
        Outcome {
            command,
            device,
            outcome: e.code(),
            message: Some(message),
            reset: (command == "reset-key").then(|| ResetOutcome::of(e)),
            key,
            credentials: None,
        },
        exit_for(e),
    )
}

/// What to do next, for the errors where there is something to do.
fn hint(e: &KeycareError) -> Option<&'static str> {
    Some(match e {
        KeycareError::PinAlreadySet => "Use `fido-doctor pin change` to choose a new one.",
        KeycareError::PinNotSet => "Use `fido-doctor pin set` first.",
        KeycareError::LastAttemptRefused => {
            "If you are sure of the PIN, run again with --allow-last-pin-attempt. If not, a reset (`fido-doctor reset-key`) is the way out."
        }
        KeycareError::PinBlocked => {
            "The key must be reset (`fido-doctor reset-key`); this erases everything on it."
        }
        KeycareError::PowerCycleNeeded => "Unplug the key, plug it back in, and try again.",
        KeycareError::ForcePinChange => "Use `fido-doctor pin change` to choose a new PIN.",
        KeycareError::ResetTooLate => {
            "Unplug the key, plug it back in, and touch it within 10 seconds: run `fido-doctor reset-key` again."
        }
        KeycareError::NoTouch => {
            "Touch the key's button or contact when it blinks; run `fido-doctor reset-key` again."
        }
        _ => return None,
    })
}

/// Opens `spec`; a simulated user touches `sim:` keys.
pub(super) fn open(spec: &DeviceSpec) -> anyhow::Result<CtapHid<OpenDevice>> {
    let dev = device::open(spec, Box::new(AfterDelay::new(SIM_TOUCH_DELAY)))
        .with_context(|| format!("opening {spec}"))?;
    CtapHid::open(dev, HidOptions::default(), CancelHandle::default())
        .with_context(|| format!("talking to {spec}"))
}

/// Where secrets come from: lines of standard input, or a masked prompt.
struct Secrets {
    stdin: bool,
}

impl Secrets {
    fn interactive(&self) -> bool {
        !self.stdin
    }

    fn read(&self, label: &str) -> Option<Zeroizing<String>> {
        if self.stdin {
            // Sized up front so reading does not reallocate (and leave copies).
            let mut line = Zeroizing::new(String::with_capacity(256));
            let n = std::io::stdin().lock().read_line(&mut line).ok()?;
            if n == 0 {
                return None;
            }
            Some(Zeroizing::new(
                line.trim_end_matches(['\r', '\n']).to_string(),
            ))
        } else {
            prompt_masked(label)
        }
    }

    /// Asks for a new PIN twice; on the terminal asks again after a bad
    /// entry, from standard input the first bad entry ends it.
    fn new_pin(&self, min_len: u32) -> Result<NewPin, KeycareError> {
        let tries = if self.interactive() { NEW_PIN_TRIES } else { 1 };
        let mut last = KeycareError::PinDeclined;
        for _ in 0..tries {
            let Some(first) = self.read("New PIN: ") else {
                return Err(KeycareError::PinDeclined);
            };
            if let Err(e) = NewPin::new(&first, Some(u64::from(min_len))) {
                if self.interactive() {
                    eprintln!("That PIN cannot be used: {e}.");
                }
                last = e.into();
                continue;
            }
            let Some(second) = self.read("The same PIN again: ") else {
                return Err(KeycareError::PinDeclined);
            };
            match NewPin::confirmed(&first, &second, Some(u64::from(min_len))) {
                Ok(p) => return Ok(p),
                Err(e) => {
                    last = e.into();
                    if self.interactive() {
                        eprintln!("The two entries differ; nothing was sent. Once more:");
                    }
                }
            }
        }
        Err(last)
    }
}

fn pin_rules(state: &KeyState) -> String {
    format!(
        "The PIN needs at least {} characters (letters, digits or symbols) and at most 63 bytes.",
        state.min_pin_length
    )
}

pub(super) fn show_state(state: &KeyState) {
    let pin = match state.client_pin {
        Some(true) => "set",
        Some(false) => "not set",
        None => "not supported",
    };
    eprint!("The key now reports: PIN {pin}");
    if let Some(r) = state.pin_retries {
        eprint!(", {r} attempts left");
    }
    eprintln!(", minimum length {}.", state.min_pin_length);
}

/// `fido-doctor pin set`.
pub fn pin_set(a: &PinSetArgs) -> anyhow::Result<ExitCode> {
    const CMD: &str = "pin-set";
    let json = a.device.json;
    let spec = device::resolve(a.device.device.as_deref())?;
    let mut hid = open(&spec)?;
    let name = hid.name();
    let state = match keycare::read_state(&mut hid) {
        Ok((_, s)) => s,
        Err(e) => return failed(json, CMD, name, &e, None),
    };
    let refusal = match state.client_pin {
        None => Some(KeycareError::NoPinSupport),
        Some(true) => Some(KeycareError::PinAlreadySet),
        Some(false) => None,
    };
    if let Some(e) = refusal {
        return failed(json, CMD, name, &e, Some(state));
    }
    let secrets = Secrets { stdin: a.pin_stdin };
    if !a.pin_stdin && !std::io::stdin().is_terminal() {
        return usage(
            json,
            CMD,
            &name,
            "no terminal to ask for the PIN on: use --pin-stdin",
        );
    }
    eprintln!(
        "Setting a PIN on {name}.\n\
         The PIN protects the key: whoever holds it also needs the PIN to sign in as you.\n\
         It is kept on the key only; it is not your UTokyo Account password and nobody,\n\
         not even the help desk, can read it back. If it is forgotten, or blocked after\n\
         too many wrong tries, the only way out is a reset that erases the key.\n{}",
        pin_rules(&state)
    );
    let new = match secrets.new_pin(state.min_pin_length) {
        Ok(p) => p,
        Err(e) => return failed(json, CMD, name, &e, Some(state)),
    };
    match keycare::set_pin(&mut hid, &new) {
        Ok(after) => {
            if !json {
                eprintln!("PIN set.");
                show_state(&after);
                super::out_line(
                    "The key has a PIN and is ready to be registered for UTokyo Account.",
                )?;
            }
            done(json, CMD, name, after)
        }
        Err(e) => failed(json, CMD, name, &e, Some(state)),
    }
}

pub(super) fn done(
    json: bool,
    command: &str,
    device: String,
    key: KeyState,
) -> anyhow::Result<ExitCode> {
    if json {
        let o = Outcome {
            command,
            device,
            outcome: "done",
            message: None,
            reset: (command == "reset-key").then_some(ResetOutcome::Done),
            key: Some(key),
            credentials: None,
        };
        super::out_line(&serde_json::to_string_pretty(&o)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `fido-doctor pin change`.
pub fn pin_change(a: &PinChangeArgs) -> anyhow::Result<ExitCode> {
    const CMD: &str = "pin-change";
    let json = a.device.json;
    let spec = device::resolve(a.device.device.as_deref())?;
    let mut hid = open(&spec)?;
    let name = hid.name();
    let state = match keycare::read_state(&mut hid) {
        Ok((_, s)) => s,
        Err(e) => return failed(json, CMD, name, &e, None),
    };
    let refusal = match state.client_pin {
        None => Some(KeycareError::NoPinSupport),
        Some(false) => Some(KeycareError::PinNotSet),
        Some(true) => None,
    };
    if let Some(e) = refusal {
        return failed(json, CMD, name, &e, Some(state));
    }
    if state.force_pin_change {
        eprintln!(
            "This key demands a new PIN before it can be used again (its current PIN was\n\
             set as temporary or no longer meets its rules). Choose a different one."
        );
    }
    if let Some(r) = state.pin_retries {
        eprintln!("PIN attempts left on this key: {r}.");
    }
    let safety = PinSafety {
        allow_last_attempt: a.allow_last_pin_attempt,
    };
    if let Err(e) = state.check_attempt(safety) {
        return failed(json, CMD, name, &e, Some(state));
    }
    if !a.pin_stdin && !std::io::stdin().is_terminal() {
        return usage(
            json,
            CMD,
            &name,
            "no terminal to ask for the PIN on: use --pin-stdin",
        );
    }
    let secrets = Secrets { stdin: a.pin_stdin };
    let label = match state.pin_retries {
        Some(r) => format!("Current PIN ({r} attempts left, Esc to cancel): "),
        None => "Current PIN (Esc to cancel): ".to_owned(),
    };
    let Some(current) = secrets.read(&label) else {
        return failed(json, CMD, name, &KeycareError::PinDeclined, Some(state));
    };
    eprintln!("{}", pin_rules(&state));
    let new = match secrets.new_pin(state.min_pin_length) {
        Ok(p) => p,
        Err(e) => return failed(json, CMD, name, &e, Some(state)),
    };
    match keycare::change_pin(&mut hid, &current, &new, safety) {
        Ok(after) => {
            if !json {
                eprintln!("PIN changed.");
                show_state(&after);
                super::out_line("The key's PIN is changed; use the new one from now on.")?;
            }
            done(json, CMD, name, after)
        }
        Err(e) => {
            let key = keycare::read_state(&mut hid).ok().map(|(_, s)| s);
            failed(json, CMD, name, &e, key.or(Some(state)))
        }
    }
}

/// `fido-doctor credentials`.
pub fn credentials(a: &CredentialsArgs) -> anyhow::Result<ExitCode> {
    const CMD: &str = "credentials";
    let json = a.device.json;
    let spec = device::resolve(a.device.device.as_deref())?;
    let mut hid = open(&spec)?;
    let name = hid.name();
    let mut pin: Box<dyn PinSource> = if a.pin_stdin {
        Box::new(StdinPin::new(Texts::embedded(Lang::En)))
    } else {
        Box::new(RememberedPin::new(PromptPin::new(Texts::embedded(
            Lang::En,
        ))))
    };
    let safety = PinSafety {
        allow_last_attempt: a.allow_last_pin_attempt,
    };
    match keycare::registrations(&mut hid, pin.as_mut(), safety) {
        Ok(mut inv) => {
            if a.redact {
                inv.redact();
            }
            let key = keycare::read_state(&mut hid).ok().map(|(_, s)| s);
            if json {
                let o = Outcome {
                    command: CMD,
                    device: name,
                    outcome: "done",
                    message: None,
                    reset: None,
                    key,
                    credentials: Some(inv),
                };
                super::out_line(&serde_json::to_string_pretty(&o)?)?;
            } else {
                super::out(&describe_inventory(&inv))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let key = keycare::read_state(&mut hid).ok().map(|(_, s)| s);
            failed(json, CMD, name, &e, key)
        }
    }
}

/// Plain-text description of the sign-ins on a key.
pub fn describe_inventory(inv: &CredentialInventory) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let room = match inv.remaining {
        Some(n) => format!("room for about {n} more"),
        None => "free room not reported".to_owned(),
    };
    let _ = writeln!(s, "sign-ins on the key: {} ({room})", inv.existing);
    for rp in &inv.relying_parties {
        let _ = writeln!(
            s,
            "  {}: {}",
            rp.id.as_deref().unwrap_or("(service not named by the key)"),
            rp.credentials
        );
    }
    if inv.has_entra() {
        for u in &inv.entra {
            let who = match (&u.user_name, &u.display_name) {
                (Some(n), Some(d)) if n != d => format!("{n} ({d})"),
                (Some(n), _) => n.clone(),
                (None, Some(d)) => d.clone(),
                (None, None) => "an unnamed account".to_owned(),
            };
            let _ = writeln!(s, "This key already holds a UTokyo sign-in for {who}.");
        }
    } else {
        let _ = writeln!(s, "No UTokyo credential on this key yet.");
    }
    if inv.is_full() {
        let _ = writeln!(
            s,
            "The key is full: an old sign-in must be removed (maker's tool or Windows Settings) or the key reset before a new registration."
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use fido_doctor::ctap::keycare::{RegisteredUser, RelyingParty};

    fn inventory(remaining: u64, entra: Vec<RegisteredUser>) -> CredentialInventory {
        CredentialInventory {
            existing: 1 + entra.len() as u64,
            remaining: Some(remaining),
            relying_parties: vec![RelyingParty {
                id: Some("github.com".into()),
                credentials: 1,
            }],
            entra,
        }
    }

    #[test]
    fn inventory_text_names_the_utokyo_sign_in_or_its_absence() {
        let user = RegisteredUser {
            user_name: Some("1234567890@utac.u-tokyo.ac.jp".into()),
            display_name: Some("Todai Taro".into()),
            cred_protect: Some(2),
        };
        let text = describe_inventory(&inventory(0, vec![user]));
        assert!(
            text.contains(
                "already holds a UTokyo sign-in for 1234567890@utac.u-tokyo.ac.jp (Todai Taro)"
            ),
            "{text}"
        );
        assert!(text.contains("The key is full"), "{text}");
        let text = describe_inventory(&inventory(24, vec![]));
        assert!(
            text.contains("No UTokyo credential on this key yet."),
            "{text}"
        );
        assert!(text.contains("room for about 24 more"), "{text}");
        assert!(!text.contains("full"), "{text}");
    }
}
