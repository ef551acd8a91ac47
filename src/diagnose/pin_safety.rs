//! PIN safety before a PIN is asked: what the attempts left mean
//! ([`PinRisk`], [`pin_warning`]). The probe itself reads the counter
//! before asking, withholds the last attempt unless the user interaction
//! confirms it, and reads the counter again afterwards
//! (`ctap::probe::UserInteraction`). No PIN value is looked at or kept here.

use crate::content::text::Texts;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Lang;

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
