//! PIN safety before a PIN is asked: what the attempts left mean
//! ([`PinRisk`], [`pin_warning`]) and a guard around any [`PinSource`] that
//! never spends the last attempt unless the user allowed it
//! ([`LastAttemptGuard`]). No PIN value is looked at or kept here.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use zeroize::Zeroizing;

use crate::content::text::Texts;
use crate::ctap::probe::PinSource;

/// At or below this many attempts left, the prompt says what the next
/// mistakes lead to.
pub const WARN_AT_RETRIES: u32 = 3;

/// How risky the next PIN entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinRisk {
    /// Plenty of attempts left, or the key does not say.
    Normal,
    /// `n` attempts left (2 to [`WARN_AT_RETRIES`]): say what 0 means.
    Low(u32),
    /// One attempt left: a wrong PIN blocks the key.
    Last,
}

impl PinRisk {
    /// The risk of asking with `retries` attempts left.
    pub fn of(retries: Option<u32>) -> PinRisk {
        match retries {
            Some(1) => PinRisk::Last,
            Some(n) if (2..=WARN_AT_RETRIES).contains(&n) => PinRisk::Low(n),
            _ => PinRisk::Normal,
        }
    }
}

/// The warning to show before asking for the PIN, if any (`pin.warn_low`,
/// `pin.warn_last` in `text.toml`).
pub fn pin_warning(texts: &Texts, retries: Option<u32>) -> Option<String> {
    match PinRisk::of(retries) {
        PinRisk::Normal => None,
        PinRisk::Low(n) => Some(texts.fill("pin.warn_low", &[("n", &n)])),
        PinRisk::Last => Some(texts.get("pin.warn_last")),
    }
}

/// Wraps a [`PinSource`]: with one attempt left it declines instead of
/// asking, unless `allow_last` is set, and records that it did so
/// ([`LastAttemptGuard::withheld`]) so the verdict can say why.
pub struct LastAttemptGuard {
    inner: Box<dyn PinSource>,
    allow_last: bool,
    withheld: Arc<AtomicBool>,
}

impl LastAttemptGuard {
    /// Guards `inner`.
    pub fn new(inner: Box<dyn PinSource>, allow_last: bool) -> Self {
        LastAttemptGuard {
            inner,
            allow_last,
            withheld: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A flag that turns true once the guard declined the last attempt.
    pub fn withheld(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.withheld)
    }
}

impl PinSource for LastAttemptGuard {
    fn pin(&mut self, retries: Option<u32>) -> Option<Zeroizing<String>> {
        if PinRisk::of(retries) == PinRisk::Last && !self.allow_last {
            self.withheld.store(true, Ordering::SeqCst);
            return None;
        }
        self.inner.pin(retries)
    }
}

/// What the last PIN request of a check looked like: the attempts left the
/// key reported for it, and whether a PIN was given (never the PIN).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LastPinRequest {
    /// Attempts left as reported for the last request.
    pub retries: Option<u32>,
    /// Whether a PIN was given for it.
    pub answered: bool,
}

/// Wraps a [`PinSource`] and records [`LastPinRequest`].
pub struct PinTracker {
    inner: Box<dyn PinSource>,
    last: Arc<std::sync::Mutex<LastPinRequest>>,
}

impl PinTracker {
    /// Tracks `inner`.
    pub fn new(inner: Box<dyn PinSource>) -> Self {
        PinTracker {
            inner,
            last: Arc::default(),
        }
    }

    /// A handle to read the last request after the check.
    pub fn last(&self) -> Arc<std::sync::Mutex<LastPinRequest>> {
        Arc::clone(&self.last)
    }
}

impl PinSource for PinTracker {
    fn pin(&mut self, retries: Option<u32>) -> Option<Zeroizing<String>> {
        let pin = self.inner.pin(retries);
        if let Ok(mut last) = self.last.lock() {
            *last = LastPinRequest {
                retries,
                answered: pin.is_some(),
            };
        }
        pin
    }
}

/// The attempts left after a check that stopped, from its last PIN request:
/// a PIN given and refused used one (CTAP counts every wrong PIN), so the
/// count reported before it is one too high. `None` when no PIN was asked
/// or the check did not stop on a PIN matter.
pub fn retries_after(failure_code: &str, last: LastPinRequest) -> Option<u32> {
    let n = last.retries?;
    match failure_code {
        "pin-invalid" if last.answered => Some(n.saturating_sub(1)),
        "pin-invalid"
        | "pin-declined"
        | "cancelled"
        | "last-pin-attempt-withheld"
        | "no-pin-prompt"
        | "pin-auth-blocked" => Some(n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Lang;

    struct Always(Arc<std::sync::atomic::AtomicU32>);
    impl PinSource for Always {
        fn pin(&mut self, _retries: Option<u32>) -> Option<Zeroizing<String>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Some(Zeroizing::new("1234".into()))
        }
    }

    #[test]
    fn the_last_attempt_is_withheld_unless_allowed() {
        let asked = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let mut g = LastAttemptGuard::new(Box::new(Always(Arc::clone(&asked))), false);
        let flag = g.withheld();
        assert!(g.pin(Some(2)).is_some());
        assert!(!flag.load(Ordering::SeqCst));
        assert!(g.pin(Some(1)).is_none());
        assert!(flag.load(Ordering::SeqCst));
        assert_eq!(
            asked.load(Ordering::SeqCst),
            1,
            "the inner source was not asked"
        );
        let mut allowed = LastAttemptGuard::new(Box::new(Always(asked)), true);
        assert!(allowed.pin(Some(1)).is_some());
        assert!(!allowed.withheld().load(Ordering::SeqCst));
    }

    #[test]
    fn a_refused_pin_counts_one_attempt() {
        let asked = LastPinRequest {
            retries: Some(2),
            answered: true,
        };
        assert_eq!(retries_after("pin-invalid", asked), Some(1));
        let declined = LastPinRequest {
            retries: Some(1),
            answered: false,
        };
        assert_eq!(retries_after("pin-invalid", declined), Some(1));
        assert_eq!(retries_after("touch-timeout", asked), None);
        assert_eq!(
            retries_after("pin-invalid", LastPinRequest::default()),
            None
        );
    }

    #[test]
    fn warnings_say_what_the_next_mistakes_lead_to() {
        for lang in Lang::ALL {
            let t = Texts::embedded(lang);
            assert_eq!(pin_warning(&t, Some(8)), None);
            assert_eq!(pin_warning(&t, None), None);
            let low = pin_warning(&t, Some(3)).unwrap();
            assert!(low.contains('3'), "{low}");
            let last = pin_warning(&t, Some(1)).unwrap();
            assert_ne!(last, low);
        }
        assert_eq!(PinRisk::of(Some(2)), PinRisk::Low(2));
        assert_eq!(PinRisk::of(Some(4)), PinRisk::Normal);
    }
}
