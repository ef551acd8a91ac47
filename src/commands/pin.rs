//! Where the command line gets a PIN from: the first line of standard input
//! (`--pin-stdin`), or a masked prompt on the terminal. The PIN lives in
//! zeroized memory and is never printed. Before asking, the prompt says what
//! the attempts left mean; the last PIN attempt is spent only with
//! `--allow-last-pin-attempt` (the probe withholds it otherwise).

use std::io::{BufRead, IsTerminal, Write};

use fido_doctor::content::text::Texts;
use fido_doctor::ctap::probe::{
    LastAttemptAllowed, PinAnswer, PinRequest, PinSource, RememberedPin, UserInteraction,
};
use fido_doctor::diagnose::pin_safety::pin_warning;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::crossterm::terminal;
use zeroize::Zeroizing;

use crate::cli::PinArgs;

/// Reads the PIN from the first line of standard input; there is no second
/// line, so a second request (after a wrong PIN) is declined. Wrap it in
/// [`RememberedPin`] to reuse the PIN for each operation of a probe.
pub struct StdinPin {
    read: bool,
    texts: Texts,
}

impl StdinPin {
    /// A remembered source reading one line from stdin; warnings about the
    /// attempts left go to stderr in the language of `texts`.
    pub fn new(texts: Texts) -> RememberedPin<StdinPin> {
        RememberedPin::new(StdinPin { read: false, texts })
    }

    fn read(&mut self, retries: Option<u32>) -> Option<Zeroizing<String>> {
        if std::mem::replace(&mut self.read, true) {
            return None;
        }
        if let Some(w) = pin_warning(&self.texts, retries) {
            eprintln!("{w}");
        }
        let mut line = Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line).ok()?;
        let pin = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
        (!pin.is_empty()).then_some(pin)
    }
}

impl PinSource for StdinPin {
    fn request_pin(&mut self, request: &PinRequest) -> PinAnswer {
        PinAnswer::from_option(self.read(request.retries))
    }
}

/// Asks on the terminal with echo off, showing `*` per character, after
/// saying what the attempts left mean. Without a terminal there is no way
/// to ask: the answer is [`PinAnswer::Unavailable`].
pub struct PromptPin {
    texts: Texts,
}

impl PromptPin {
    /// A prompt in the language of `texts`.
    pub fn new(texts: Texts) -> PromptPin {
        PromptPin { texts }
    }
}

impl PinSource for PromptPin {
    fn request_pin(&mut self, request: &PinRequest) -> PinAnswer {
        if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return PinAnswer::Unavailable;
        }
        let mut err = std::io::stderr();
        if let Some(w) = pin_warning(&self.texts, request.retries) {
            eprintln!("{w}");
        }
        match request.retries {
            Some(n) => eprint!("{}", self.texts.fill("pin.prompt", &[("n", &n)])),
            None => eprint!("{}", self.texts.get("pin.prompt_unknown")),
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

impl From<PinArgs> for PinInput {
    fn from(a: PinArgs) -> Self {
        PinInput {
            stdin: a.pin_stdin,
            allow_last_attempt: a.allow_last_pin_attempt,
        }
    }
}

impl PinInput {
    /// The interaction to hand to the probe; prompts and warnings in the
    /// language of `texts`.
    pub fn interaction(self, texts: &Texts) -> Box<dyn UserInteraction> {
        let base: Box<dyn UserInteraction> = if self.stdin {
            Box::new(StdinPin::new(texts.clone()))
        } else {
            Box::new(RememberedPin::new(PromptPin::new(texts.clone())))
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
