//! Where the command line gets a PIN from: the first line of standard input
//! (`--pin-stdin`), or a masked prompt on the terminal. The PIN lives in
//! zeroized memory and is never printed. The last PIN attempt is spent only
//! with `--allow-last-pin-attempt`.

use std::io::{BufRead, IsTerminal, Write};

use fido_doctor::ctap::probe::{
    LastAttemptAllowed, PinAnswer, PinRequest, PinSource, RememberedPin, UserInteraction,
};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::crossterm::terminal;
use zeroize::Zeroizing;

/// Reads the PIN from the first line of standard input; there is no second
/// line, so a second request (after a wrong PIN) is declined. Wrap it in
/// [`RememberedPin`] to reuse the PIN for each operation of a probe.
pub struct StdinPin {
    read: bool,
}

impl StdinPin {
    /// A remembered source reading one line from stdin.
    pub fn new() -> RememberedPin<StdinPin> {
        RememberedPin::new(StdinPin { read: false })
    }
}

impl StdinPin {
    fn read(&mut self) -> Option<Zeroizing<String>> {
        if std::mem::replace(&mut self.read, true) {
            return None;
        }
        let mut line = Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line).ok()?;
        let pin = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
        (!pin.is_empty()).then_some(pin)
    }
}

impl PinSource for StdinPin {
    fn request_pin(&mut self, _request: &PinRequest) -> PinAnswer {
        PinAnswer::from_option(self.read())
    }
}

/// Asks on the terminal with echo off, showing `*` per character.
/// Declines when there is no terminal.
pub struct PromptPin;

impl PinSource for PromptPin {
    fn request_pin(&mut self, request: &PinRequest) -> PinAnswer {
        if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return PinAnswer::Unavailable;
        }
        let mut err = std::io::stderr();
        match request.retries {
            Some(1) => eprint!(
                "PIN of the security key (LAST attempt: a wrong PIN blocks the key, Esc to cancel): "
            ),
            Some(n) => eprint!("PIN of the security key ({n} attempts left, Esc to cancel): "),
            None => eprint!("PIN of the security key (Esc to cancel): "),
        }
        let _ = err.flush();
        if terminal::enable_raw_mode().is_err() {
            return PinAnswer::Unavailable;
        }
        let pin = read_masked(&mut err);
        let _ = terminal::disable_raw_mode();
        eprintln!();
        PinAnswer::from_option(pin)
    }
}

/// The PIN input the command line chose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PinInput {
    /// `--pin-stdin`: read the PIN from standard input.
    pub stdin: bool,
    /// `--allow-last-pin-attempt`: spend the last PIN attempt if it comes to that.
    pub allow_last_attempt: bool,
}

impl From<bool> for PinInput {
    fn from(stdin: bool) -> Self {
        PinInput {
            stdin,
            allow_last_attempt: false,
        }
    }
}

impl PinInput {
    /// The interaction to hand to the probe.
    pub fn interaction(self) -> Box<dyn UserInteraction> {
        let base: Box<dyn UserInteraction> = if self.stdin {
            Box::new(StdinPin::new())
        } else {
            Box::new(RememberedPin::new(PromptPin))
        };
        if self.allow_last_attempt {
            Box::new(LastAttemptAllowed(base))
        } else {
            base
        }
    }
}

fn read_masked(out: &mut impl Write) -> Option<Zeroizing<String>> {
    let mut pin = Zeroizing::new(String::new());
    loop {
        let Event::Key(key) = event::read().ok()? else {
            continue;
        };
        if key.kind != KeyEventKind::Press {
            continue;
        }
        match key.code {
            KeyCode::Enter => return (!pin.is_empty()).then_some(pin),
            KeyCode::Esc => return None,
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => return None,
            KeyCode::Backspace if pin.pop().is_some() => {
                let _ = write!(out, "\x08 \x08");
            }
            KeyCode::Char(c) if pin.len() < 64 => {
                pin.push(c);
                let _ = write!(out, "*");
            }
            _ => {}
        }
        let _ = out.flush();
    }
}

/// Asks on the terminal with echo off (`*` per character) after printing
/// `label`. `None` when there is no terminal or the user pressed Esc.
pub fn prompt_masked(label: &str) -> Option<Zeroizing<String>> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return None;
    }
    let mut err = std::io::stderr();
    eprint!("{label}");
    let _ = err.flush();
    terminal::enable_raw_mode().ok()?;
    let pin = read_masked(&mut err);
    let _ = terminal::disable_raw_mode();
    eprintln!();
    pin
}
