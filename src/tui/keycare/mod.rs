//! Key care in the terminal app: setting a first PIN, changing it and
//! resetting a key, as screens of the keys pane. This module owns the flow's
//! state ([`KeyCare`]), its messages and commands, and the pure update logic
//! (no I/O, no clocks): PINs are checked here before anything is sent, every
//! step can be left with Esc until the key is asked to change, and after that
//! Esc cancels the command on the key. The worker that talks to the key is
//! [`worker`]; the screens are drawn by `widgets::keycare`.

pub mod entry;
pub mod text;
pub mod worker;

pub use entry::{
    diagnosis_key, force_change, keys_pane_key, note_report, offered, practice_flow, practice_key,
    start,
};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use zeroize::Zeroizing;

use crate::ctap::keycare::{KeyState, NewPin, NewPinError};
use crate::sim;

use super::action::{Command, PinSecret};
use super::app::App;

/// Longest PIN accepted from the keyboard, in characters (the byte limit
/// of 63 is checked by [`NewPin`]).
const MAX_INPUT_CHARS: usize = 63;
/// How long keys accept a reset after being plugged in.
pub const RESET_WINDOW_SECS: u64 = 10;

/// Which change the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Set a first PIN (the key has none).
    SetPin,
    /// Change the PIN.
    ChangePin,
    /// Factory-reset the key.
    Reset,
}

/// Where a flow is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The key's PIN state is being read (nothing is changed).
    Reading,
    /// The explanation (set), the attempts left (change) or the warning (reset).
    Intro,
    /// Change with one attempt left: an explicit "y" is needed.
    LastAttempt,
    /// Typing the current PIN (change).
    Current,
    /// Typing the new PIN.
    NewPin,
    /// Typing the new PIN again.
    Confirm,
    /// Typing the confirmation word (reset).
    Word,
    /// Waiting for the key to be unplugged (reset).
    Unplug,
    /// Waiting for the key to be plugged back in (reset).
    Plug,
    /// The reset was sent; the key waits for a touch. `since` is the tick
    /// at which the key was plugged in (for the countdown).
    Touch {
        /// Tick of the (simulated) plug-in.
        since: u64,
    },
    /// Set or change was sent; waiting for the answer.
    Working,
    /// The change was made; the key's state read back afterwards.
    Done(KeyState),
    /// The flow ended without the change.
    Failed(CareFailure),
}

/// Why a flow ended without the change: a `KeycareError::code()` (or a
/// code of the re-plug wait), the attempts left when known, and a technical
/// detail (never a PIN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareFailure {
    /// Stable code; the text comes from `keycare.toml` `[errors]`.
    pub code: String,
    /// PIN attempts left, when the key said.
    pub retries: Option<u32>,
    /// Technical detail (English), shown under the plain message.
    pub detail: String,
}

/// A PIN being typed, wiped from memory when dropped.
type Secret = Zeroizing<String>;

/// An empty entry buffer big enough for the longest accepted entry, so
/// typing never reallocates (which would leave copies of a PIN behind).
fn entry_buffer() -> Secret {
    Zeroizing::new(String::with_capacity(MAX_INPUT_CHARS * 4))
}

/// A running key-care flow.
#[derive(Clone)]
pub struct KeyCare {
    /// The device.
    pub device: String,
    /// What is being done.
    pub flow: Flow,
    /// Where the flow is.
    pub step: Step,
    /// The key's state as read at the start.
    pub state: Option<KeyState>,
    /// What is typed on the current entry step (never drawn, only counted).
    pub input: Secret,
    /// A check of the typed PIN that failed (a `[common]` key: too_short…).
    pub problem: Option<String>,
    /// The user allowed spending the last PIN attempt.
    pub allow_last: bool,
    /// Esc was pressed after the command was sent.
    pub cancelling: bool,
    first: Secret,
    current: Secret,
}

impl std::fmt::Debug for KeyCare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCare")
            .field("device", &self.device)
            .field("flow", &self.flow)
            .field("step", &self.step)
            .field("input", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl KeyCare {
    /// A flow on `device` that starts by reading the key's state.
    pub fn new(device: &str, flow: Flow) -> KeyCare {
        KeyCare {
            device: device.to_string(),
            flow,
            step: Step::Reading,
            state: None,
            input: entry_buffer(),
            problem: None,
            allow_last: false,
            cancelling: false,
            first: Secret::default(),
            current: Secret::default(),
        }
    }

    /// Whether the device is a simulated key (touch and re-plug with Space).
    pub fn simulated(&self) -> bool {
        is_simulated(&self.device)
    }

    /// Whether the key was asked to change and has not answered yet.
    pub fn sent(&self) -> bool {
        matches!(self.step, Step::Working | Step::Touch { .. })
    }

    /// Whether the screen counts down (ticks are wanted).
    pub fn wants_ticks(&self) -> bool {
        matches!(self.step, Step::Touch { .. })
    }

    /// Whether a PIN or word is being typed.
    pub fn typing(&self) -> bool {
        matches!(
            self.step,
            Step::Current | Step::NewPin | Step::Confirm | Step::Word
        )
    }

    /// The shortest PIN the key accepts.
    pub fn min_len(&self) -> u32 {
        self.state.as_ref().map(|s| s.min_pin_length).unwrap_or(4)
    }

    /// Seconds left of the reset window at `tick` (ticks of `tick_ms`).
    pub fn seconds_left(&self, tick: u64, tick_ms: u64) -> Option<u64> {
        let Step::Touch { since } = self.step else {
            return None;
        };
        let elapsed_ms = tick.saturating_sub(since).saturating_mul(tick_ms);
        Some(RESET_WINDOW_SECS.saturating_sub(elapsed_ms / 1000))
    }

    /// Characters of the first new-PIN entry (for the masked echo).
    pub fn first_len(&self) -> usize {
        self.first.chars().count()
    }

    fn clear_secrets(&mut self) {
        self.input = entry_buffer();
        self.first = Secret::default();
        self.current = Secret::default();
    }
}

/// Whether `device` is a built-in simulated key.
pub fn is_simulated(device: &str) -> bool {
    device
        .strip_prefix("sim:")
        .is_some_and(|n| sim::scenario::find(n).is_some())
}

/// What the worker reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CareMsg {
    /// The key's state was read (or could not be).
    State(Result<KeyState, CareFailure>),
    /// The key was unplugged (real re-plug for a reset).
    Unplugged,
    /// The key was plugged back in (its device string may be new); the
    /// reset is being sent.
    Plugged {
        /// The re-plugged key.
        device: String,
    },
    /// The flow's command ended.
    Finished(Result<KeyState, CareFailure>),
}

/// What the worker must do.
#[derive(Clone, PartialEq, Eq)]
pub enum CareCommand {
    /// Read the key's PIN state (nothing is changed).
    Read {
        /// The device.
        device: String,
    },
    /// Set the first PIN.
    SetPin {
        /// The device.
        device: String,
        /// The new PIN, as typed (checked again by the worker).
        new: PinSecret,
        /// The key's minimum length, as read.
        min_len: u32,
    },
    /// Change the PIN.
    ChangePin {
        /// The device.
        device: String,
        /// The current PIN, as typed.
        current: PinSecret,
        /// The new PIN, as typed.
        new: PinSecret,
        /// The key's minimum length, as read.
        min_len: u32,
        /// The user allowed spending the last attempt.
        allow_last_attempt: bool,
    },
    /// Reset the key: for a USB key wait for the re-plug first; a simulated
    /// key is started afresh (its re-plug was done on screen).
    Reset {
        /// The device.
        device: String,
    },
    /// Touch the simulated key.
    Touch,
    /// Stop waiting for a re-plug, or cancel the command on the key
    /// (CTAPHID_CANCEL).
    Cancel,
}

impl std::fmt::Debug for CareCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read { device } => write!(f, "Read({device})"),
            Self::SetPin { device, .. } => write!(f, "SetPin({device}, <redacted>)"),
            Self::ChangePin { device, .. } => write!(f, "ChangePin({device}, <redacted>)"),
            Self::Reset { device } => write!(f, "Reset({device})"),
            Self::Touch => f.write_str("Touch"),
            Self::Cancel => f.write_str("Cancel"),
        }
    }
}

fn care(cmd: CareCommand) -> Option<Command> {
    Some(Command::Care(cmd))
}

/// Applies a worker report.
pub fn on_msg(app: &mut App, msg: CareMsg) -> Option<Command> {
    let c = app.keycare.as_mut()?;
    match msg {
        CareMsg::State(Ok(state)) if c.step == Step::Reading => {
            let refusal = match (c.flow, state.client_pin) {
                (Flow::SetPin | Flow::ChangePin, None) => Some("no-pin-support"),
                (Flow::SetPin, Some(true)) => Some("pin-already-set"),
                (Flow::ChangePin, Some(false)) => Some("pin-not-set"),
                (Flow::ChangePin, _) if state.pin_retries == Some(0) => Some("pin-blocked"),
                (Flow::ChangePin, _) if state.power_cycle_required => Some("power-cycle-needed"),
                _ => None,
            };
            c.step = match refusal {
                Some(code) => Step::Failed(CareFailure {
                    code: code.to_string(),
                    retries: state.pin_retries,
                    detail: String::new(),
                }),
                None => Step::Intro,
            };
            c.state = Some(state);
        }
        CareMsg::State(Err(f)) if c.step == Step::Reading => c.step = Step::Failed(f),
        CareMsg::Unplugged if c.step == Step::Unplug => c.step = Step::Plug,
        CareMsg::Plugged { device } if matches!(c.step, Step::Plug | Step::Unplug) => {
            c.device = device;
            c.step = Step::Touch { since: app.tick };
        }
        CareMsg::Finished(result) if c.sent() || c.step == Step::Plug || c.step == Step::Unplug => {
            c.clear_secrets();
            c.cancelling = false;
            match result {
                Ok(state) => {
                    let device = c.device.clone();
                    c.step = Step::Done(state.clone());
                    entry::record(app, &device, &state);
                }
                Err(f) => c.step = Step::Failed(f),
            }
        }
        _ => {}
    }
    None
}

/// A key pressed while a flow is open (it has the keyboard).
pub fn on_key(app: &mut App, key: KeyEvent) -> Option<Command> {
    let word = app.care_text.reset.word.clone();
    let tick = app.tick;
    let c = app.keycare.as_mut()?;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if c.sent() {
        return match key.code {
            KeyCode::Esc if !c.cancelling => {
                c.cancelling = true;
                care(CareCommand::Cancel)
            }
            KeyCode::Char(' ') if c.simulated() && matches!(c.step, Step::Touch { .. }) => {
                care(CareCommand::Touch)
            }
            _ => None,
        };
    }
    if c.typing() {
        match key.code {
            KeyCode::Char(ch) if !ctrl => {
                if c.input.chars().count() < MAX_INPUT_CHARS {
                    c.input.push(ch);
                }
                return None;
            }
            KeyCode::Backspace => {
                c.input.pop();
                return None;
            }
            KeyCode::Enter => return entered(c, &word, tick),
            KeyCode::Esc => {}
            _ => return None,
        }
    }
    match (&c.step, key.code) {
        (Step::Done(_) | Step::Failed(_), KeyCode::Esc | KeyCode::Enter) => {
            app.keycare = None;
            None
        }
        (Step::Unplug | Step::Plug, KeyCode::Esc) if !c.simulated() => {
            // The worker only waits for the re-plug: nothing was sent yet.
            app.keycare = None;
            care(CareCommand::Cancel)
        }
        (_, KeyCode::Esc) => {
            let reading = c.step == Step::Reading;
            app.keycare = None;
            reading.then_some(Command::Care(CareCommand::Cancel))
        }
        (Step::Intro, KeyCode::Enter) => {
            c.step = match c.flow {
                Flow::SetPin => Step::NewPin,
                Flow::ChangePin if c.state.as_ref().and_then(|s| s.pin_retries) == Some(1) => {
                    Step::LastAttempt
                }
                Flow::ChangePin => Step::Current,
                Flow::Reset => Step::Word,
            };
            None
        }
        (Step::LastAttempt, KeyCode::Char('y')) => {
            c.allow_last = true;
            c.step = Step::Current;
            None
        }
        (Step::Unplug, KeyCode::Char(' ')) => {
            c.step = Step::Plug;
            None
        }
        (Step::Plug, KeyCode::Char(' ')) => {
            c.step = Step::Touch { since: tick };
            care(CareCommand::Reset {
                device: c.device.clone(),
            })
        }
        _ => None,
    }
}

/// Enter on an entry step: check what was typed (nothing is sent until
/// both entries agree and fit the key's rules).
fn entered(c: &mut KeyCare, word: &str, tick: u64) -> Option<Command> {
    c.problem = None;
    let min = Some(u64::from(c.min_len()));
    match c.step {
        Step::Current => {
            if c.input.is_empty() {
                return None;
            }
            c.current = std::mem::replace(&mut c.input, entry_buffer());
            c.step = Step::NewPin;
            None
        }
        Step::NewPin => {
            if let Err(e) = NewPin::new(&c.input, min) {
                c.problem = Some(problem_key(&e).to_string());
                c.input = entry_buffer();
                return None;
            }
            c.first = std::mem::replace(&mut c.input, entry_buffer());
            c.step = Step::Confirm;
            None
        }
        Step::Confirm => {
            let checked = NewPin::confirmed(&c.first, &c.input, min);
            c.input = entry_buffer();
            if let Err(e) = checked {
                c.problem = Some(problem_key(&e).to_string());
                c.first = Secret::default();
                c.step = Step::NewPin;
                return None;
            }
            if c.flow == Flow::ChangePin && *c.first == *c.current {
                c.problem = Some("same".to_string());
                c.first = Secret::default();
                c.step = Step::NewPin;
                return None;
            }
            let new = PinSecret(std::mem::take(&mut c.first));
            c.step = Step::Working;
            let device = c.device.clone();
            let min_len = c.min_len();
            match c.flow {
                Flow::ChangePin => care(CareCommand::ChangePin {
                    device,
                    current: PinSecret(std::mem::take(&mut c.current)),
                    new,
                    min_len,
                    allow_last_attempt: c.allow_last,
                }),
                _ => care(CareCommand::SetPin {
                    device,
                    new,
                    min_len,
                }),
            }
        }
        Step::Word => {
            let ok = c.input.trim() == word;
            c.input = entry_buffer();
            if !ok {
                return None;
            }
            if c.simulated() {
                c.step = Step::Unplug;
                None
            } else if c.device.starts_with("hid:") {
                c.step = Step::Unplug;
                care(CareCommand::Reset {
                    device: c.device.clone(),
                })
            } else {
                // UDP and NFC keys cannot be re-plugged from here.
                c.step = Step::Touch { since: tick };
                care(CareCommand::Reset {
                    device: c.device.clone(),
                })
            }
        }
        _ => None,
    }
}

/// The `[common]` label for a refused new PIN.
pub fn problem_key(e: &NewPinError) -> &'static str {
    match e {
        NewPinError::TooShort { .. } => "too_short",
        NewPinError::TooLong { .. } => "too_long",
        NewPinError::ControlCharacter => "control",
        NewPinError::Mismatch => "mismatch",
    }
}
