//! User presence ("touch the key") as seen by the simulator: the [`Presence`]
//! trait and scripted implementations (auto-touch, never, refuse, after a
//! delay, and a button driven by the TUI through a channel).

use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::time::{Duration, Instant};

/// What the simulated user is doing while the key waits for a touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceState {
    /// No answer yet: keep waiting (and sending keepalives).
    Waiting,
    /// The user touched the key.
    Touched,
    /// The user refused (for example cancelled a prompt).
    Refused,
}

/// A source of user-presence answers, polled while the authenticator waits.
pub trait Presence: Send {
    /// Called when a new wait for presence starts (before the first `poll`).
    /// Implementations may reset timers or drop stale touches here.
    fn begin(&mut self) {}
    /// The current answer; called repeatedly (about every 20 ms) while waiting.
    fn poll(&mut self) -> PresenceState;
}

/// Touches immediately, every time.
#[derive(Debug, Clone, Copy, Default)]
pub struct AutoTouch;

impl Presence for AutoTouch {
    fn poll(&mut self) -> PresenceState {
        PresenceState::Touched
    }
}

/// Never touches: every wait ends with the scenario's timeout.
#[derive(Debug, Clone, Copy, Default)]
pub struct Never;

impl Presence for Never {
    fn poll(&mut self) -> PresenceState {
        PresenceState::Waiting
    }
}

/// Refuses every request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Refuse;

impl Presence for Refuse {
    fn poll(&mut self) -> PresenceState {
        PresenceState::Refused
    }
}

/// Touches once `delay` has passed since the wait began.
#[derive(Debug, Clone, Copy)]
pub struct AfterDelay {
    delay: Duration,
    started: Option<Instant>,
}

impl AfterDelay {
    /// A user who touches `delay` after each prompt.
    pub fn new(delay: Duration) -> Self {
        Self {
            delay,
            started: None,
        }
    }
}

impl Presence for AfterDelay {
    fn begin(&mut self) {
        self.started = Some(Instant::now());
    }

    fn poll(&mut self) -> PresenceState {
        let started = *self.started.get_or_insert_with(Instant::now);
        if started.elapsed() >= self.delay {
            PresenceState::Touched
        } else {
            PresenceState::Waiting
        }
    }
}

/// Touch driven from outside (the TUI sends `()` when the user presses space).
///
/// Presses made before a wait begins are discarded, as with a real key.
/// If every sender is dropped the button reads as [`PresenceState::Refused`].
#[derive(Debug)]
pub struct PresenceButton {
    rx: Receiver<()>,
}

impl PresenceButton {
    /// A button and the sender that presses it.
    pub fn new() -> (Self, Sender<()>) {
        let (tx, rx) = mpsc::channel();
        (Self { rx }, tx)
    }
}

impl Presence for PresenceButton {
    fn begin(&mut self) {
        while self.rx.try_recv().is_ok() {}
    }

    fn poll(&mut self) -> PresenceState {
        match self.rx.try_recv() {
            Ok(()) => PresenceState::Touched,
            Err(TryRecvError::Empty) => PresenceState::Waiting,
            Err(TryRecvError::Disconnected) => PresenceState::Refused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn button_ignores_presses_before_wait_and_counts_later_ones() {
        let (mut b, tx) = PresenceButton::new();
        tx.send(()).unwrap();
        b.begin();
        assert_eq!(b.poll(), PresenceState::Waiting);
        tx.send(()).unwrap();
        assert_eq!(b.poll(), PresenceState::Touched);
        assert_eq!(b.poll(), PresenceState::Waiting);
        drop(tx);
        assert_eq!(b.poll(), PresenceState::Refused);
    }

    #[test]
    fn after_delay_waits_then_touches() {
        let mut p = AfterDelay::new(Duration::from_millis(30));
        p.begin();
        assert_eq!(p.poll(), PresenceState::Waiting);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(p.poll(), PresenceState::Touched);
    }
}
