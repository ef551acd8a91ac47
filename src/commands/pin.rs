//! Where the command line gets a PIN from: the first line of standard input
//! (`--pin-stdin`), or a masked prompt on the terminal. The PIN lives in
//! zeroized memory and is never printed.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use fido_doctor::content::text::Texts;
use fido_doctor::ctap::probe::{PinSource, RememberedPin};
use fido_doctor::diagnose::pin_safety::pin_warning;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::crossterm::terminal;
use zeroize::Zeroizing;

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
}

impl PinSource for StdinPin {
    fn pin(&mut self, retries: Option<u32>) -> Option<Zeroizing<String>> {
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

/// Asks on the terminal with echo off, showing `*` per character, after
/// saying what the attempts left mean. Declines when there is no terminal,
/// and records that (see [`PromptPin::no_terminal`]).
pub struct PromptPin {
    texts: Texts,
    no_terminal: Arc<AtomicBool>,
}

impl PromptPin {
    /// A prompt in the language of `texts`.
    pub fn new(texts: Texts) -> PromptPin {
        PromptPin {
            texts,
            no_terminal: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A flag that turns true when a PIN was needed but there was no terminal to ask on.
    pub fn no_terminal(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.no_terminal)
    }
}

impl PinSource for PromptPin {
    fn pin(&mut self, retries: Option<u32>) -> Option<Zeroizing<String>> {
        if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            self.no_terminal.store(true, Ordering::SeqCst);
            return None;
        }
        let mut err = std::io::stderr();
        if let Some(w) = pin_warning(&self.texts, retries) {
            eprintln!("{w}");
        }
        match retries {
            Some(n) => eprint!("{}", self.texts.fill("pin.prompt", &[("n", &n)])),
            None => eprint!("{}", self.texts.get("pin.prompt_unknown")),
        }
        let _ = err.flush();
        terminal::enable_raw_mode().ok()?;
        let pin = read_masked(&mut err);
        let _ = terminal::disable_raw_mode();
        eprintln!();
        pin
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
