//! The user-interaction side of a probe, as python-fido2's clients have it:
//! the probe tells a [`UserInteraction`] when the key waits for a touch and
//! asks it for the PIN, for a confirmation before the last PIN attempt, and
//! whether to use the built-in user verification. The CLI, the TUI and tests
//! implement it; the probe never reads a terminal itself.
//!
//! A PIN lives in zeroized memory; no `Debug` here ever shows one.

use std::time::Duration;

use zeroize::Zeroizing;

use super::report::UvFallback;

/// Why a PIN is asked for, and what is at stake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinRequest {
    /// PIN attempts left, as the key reported just before asking.
    pub retries: Option<u32>,
    /// True when this is the last attempt: a wrong PIN blocks the key.
    pub last_attempt: bool,
    /// True when the previous PIN given in this probe was wrong.
    pub previous_wrong: bool,
    /// The relying party id the token is for.
    pub rp_id: String,
    /// Set when built-in user verification gave way to the PIN.
    pub uv_fallback: Option<UvFallback>,
}

/// What a [`UserInteraction`] answers to a PIN request.
pub enum PinAnswer {
    /// The PIN the user typed.
    Pin(Zeroizing<String>),
    /// The user declined (Esc, empty answer).
    Declined,
    /// There is no way to ask (no terminal, no PIN input configured).
    Unavailable,
}

impl std::fmt::Debug for PinAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PinAnswer::Pin(_) => "Pin(<redacted>)",
            PinAnswer::Declined => "Declined",
            PinAnswer::Unavailable => "Unavailable",
        })
    }
}

impl PinAnswer {
    /// `Some(pin)` as an answer, `None` as declined.
    pub fn from_option(pin: Option<Zeroizing<String>>) -> Self {
        match pin {
            Some(p) => PinAnswer::Pin(p),
            None => PinAnswer::Declined,
        }
    }
}

/// Built-in user verification is about to be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UvRequest {
    /// Built-in UV attempts left, as the key reported (None if unknown).
    pub retries: Option<u32>,
    /// The relying party id the token is for.
    pub rp_id: String,
}

/// Prompts and answers a probe needs from its user.
pub trait UserInteraction: Send {
    /// The key waits for a touch; the probe gives up after `timeout`.
    fn prompt_up(&mut self, _timeout: Duration) {}

    /// Asks for the PIN. `request` says how many attempts are left and
    /// whether this is the last one.
    fn request_pin(&mut self, request: &PinRequest) -> PinAnswer;

    /// With one PIN attempt left (`request.last_attempt`), asked before
    /// [`UserInteraction::request_pin`]: true only when the user explicitly
    /// chose to spend it. The default refuses, so nothing is submitted.
    fn confirm_last_pin_attempt(&mut self, _request: &PinRequest) -> bool {
        false
    }

    /// Built-in user verification (fingerprint) is about to be asked for:
    /// true to go ahead (the default), false to use the PIN instead.
    fn request_uv(&mut self, _request: &UvRequest) -> bool {
        true
    }
}

/// The older name of [`UserInteraction`].
pub use self::UserInteraction as PinSource;

impl<U: UserInteraction + ?Sized> UserInteraction for Box<U> {
    fn prompt_up(&mut self, timeout: Duration) {
        (**self).prompt_up(timeout)
    }
    fn request_pin(&mut self, request: &PinRequest) -> PinAnswer {
        (**self).request_pin(request)
    }
    fn confirm_last_pin_attempt(&mut self, request: &PinRequest) -> bool {
        (**self).confirm_last_pin_attempt(request)
    }
    fn request_uv(&mut self, request: &UvRequest) -> bool {
        (**self).request_uv(request)
    }
}

/// A [`UserInteraction`] that declines every PIN request.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPin;

impl UserInteraction for NoPin {
    fn request_pin(&mut self, _request: &PinRequest) -> PinAnswer {
        PinAnswer::Declined
    }
}

/// A [`UserInteraction`] with no way to ask for a PIN (non-interactive runs).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoInteraction;

impl UserInteraction for NoInteraction {
    fn request_pin(&mut self, _request: &PinRequest) -> PinAnswer {
        PinAnswer::Unavailable
    }
}

/// A [`UserInteraction`] that answers with a fixed PIN (CLI `--pin-env`,
/// tests). It does not confirm the last attempt unless built with
/// [`FixedPin::allowing_last_attempt`].
#[derive(Clone)]
pub struct FixedPin(pub Zeroizing<String>);

impl FixedPin {
    /// Confirms the last attempt too (tests of that path, explicit flags).
    pub fn allowing_last_attempt(self) -> LastAttemptAllowed<FixedPin> {
        LastAttemptAllowed(self)
    }
}

impl std::fmt::Debug for FixedPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FixedPin(<redacted>)")
    }
}

impl UserInteraction for FixedPin {
    fn request_pin(&mut self, _request: &PinRequest) -> PinAnswer {
        PinAnswer::Pin(self.0.clone())
    }
}

/// Wraps a [`UserInteraction`] and confirms the last PIN attempt (the user
/// said so beforehand, e.g. with a command-line flag).
#[derive(Debug, Clone)]
pub struct LastAttemptAllowed<U>(pub U);

impl<U: UserInteraction> UserInteraction for LastAttemptAllowed<U> {
    fn prompt_up(&mut self, timeout: Duration) {
        self.0.prompt_up(timeout)
    }
    fn request_pin(&mut self, request: &PinRequest) -> PinAnswer {
        self.0.request_pin(request)
    }
    fn confirm_last_pin_attempt(&mut self, _request: &PinRequest) -> bool {
        true
    }
    fn request_uv(&mut self, request: &UvRequest) -> bool {
        self.0.request_uv(request)
    }
}

/// Remembers the PIN its inner interaction gave, so the user types it once
/// per probe although each operation needs a fresh token. A PIN that just
/// failed is never given again: when the request says the previous PIN was
/// wrong, or the key reports fewer attempts left than when the PIN was
/// given, it is forgotten and the inner interaction is asked again.
pub struct RememberedPin<S: UserInteraction> {
    inner: S,
    pin: Option<Zeroizing<String>>,
    retries_seen: Option<u32>,
}

impl<S: UserInteraction> RememberedPin<S> {
    /// Wraps `inner`, which is asked only when no good PIN is remembered.
    pub fn new(inner: S) -> Self {
        RememberedPin {
            inner,
            pin: None,
            retries_seen: None,
        }
    }

    /// The wrapped interaction.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: UserInteraction> UserInteraction for RememberedPin<S> {
    fn prompt_up(&mut self, timeout: Duration) {
        self.inner.prompt_up(timeout)
    }

    fn request_pin(&mut self, request: &PinRequest) -> PinAnswer {
        let fewer = matches!((request.retries, self.retries_seen), (Some(n), Some(b)) if n < b);
        self.retries_seen = request.retries;
        if fewer || request.previous_wrong {
            self.pin = None;
        }
        if let Some(p) = &self.pin {
            return PinAnswer::Pin(p.clone());
        }
        let answer = self.inner.request_pin(request);
        if let PinAnswer::Pin(p) = &answer {
            self.pin = Some(p.clone());
        }
        answer
    }

    fn confirm_last_pin_attempt(&mut self, request: &PinRequest) -> bool {
        self.inner.confirm_last_pin_attempt(request)
    }

    fn request_uv(&mut self, request: &UvRequest) -> bool {
        self.inner.request_uv(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers "1111", "2222", … and counts how often it was asked.
    struct Counting(u32);

    impl UserInteraction for Counting {
        fn request_pin(&mut self, _request: &PinRequest) -> PinAnswer {
            self.0 += 1;
            PinAnswer::Pin(Zeroizing::new(self.0.to_string().repeat(4)))
        }
    }

    fn req(retries: u32, previous_wrong: bool) -> PinRequest {
        PinRequest {
            retries: Some(retries),
            last_attempt: retries == 1,
            previous_wrong,
            rp_id: "example.invalid".into(),
            uv_fallback: None,
        }
    }

    fn text(a: PinAnswer) -> Option<String> {
        match a {
            PinAnswer::Pin(p) => Some(p.to_string()),
            _ => None,
        }
    }

    #[test]
    fn remembered_pin_is_asked_again_only_after_a_wrong_pin() {
        let mut p = RememberedPin::new(Counting(0));
        assert_eq!(text(p.request_pin(&req(8, false))).as_deref(), Some("1111"));
        assert_eq!(text(p.request_pin(&req(8, false))).as_deref(), Some("1111"));
        // One attempt fewer: the remembered PIN was wrong.
        assert_eq!(text(p.request_pin(&req(7, false))).as_deref(), Some("2222"));
        assert_eq!(text(p.request_pin(&req(7, false))).as_deref(), Some("2222"));
        assert_eq!(p.inner().0, 2);
    }

    #[test]
    fn remembered_pin_never_resends_a_pin_the_probe_says_failed() {
        let mut p = RememberedPin::new(Counting(0));
        assert_eq!(text(p.request_pin(&req(8, false))).as_deref(), Some("1111"));
        // Same counter (the key did not count it, e.g. a power-cycle state),
        // but the probe says the PIN was wrong: ask again.
        assert_eq!(text(p.request_pin(&req(8, true))).as_deref(), Some("2222"));
        assert_eq!(p.inner().0, 2);
    }

    #[test]
    fn the_last_attempt_is_refused_unless_confirmed() {
        assert!(!NoPin.confirm_last_pin_attempt(&req(1, false)));
        assert!(!FixedPin(Zeroizing::new("1234".into())).confirm_last_pin_attempt(&req(1, false)));
        let mut allowed = FixedPin(Zeroizing::new("1234".into())).allowing_last_attempt();
        assert!(allowed.confirm_last_pin_attempt(&req(1, false)));
        let mut remembered = RememberedPin::new(NoPin);
        assert!(!remembered.confirm_last_pin_attempt(&req(1, false)));
    }

    #[test]
    fn debug_output_never_shows_a_pin() {
        let a = PinAnswer::Pin(Zeroizing::new("987654".into()));
        assert!(!format!("{a:?}").contains("987654"));
        let f = FixedPin(Zeroizing::new("987654".into()));
        assert!(!format!("{f:?}").contains("987654"));
        assert!(!format!("{:?}", f.allowing_last_attempt()).contains("987654"));
    }
}
