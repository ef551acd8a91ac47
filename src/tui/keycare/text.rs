//! Labels of the key-care screens (`{lang}/keycare.toml`): setting and
//! changing a PIN, resetting a key, and what each outcome means. Every key is
//! required, so a missing label is an error at load time.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::content::{ContentError, ContentSource, Lang};

/// Path of the key-care labels for `lang` below the content root.
pub fn keycare_path(lang: Lang) -> String {
    format!("{}/keycare.toml", lang.code())
}

/// All key-care labels in one language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeycareText {
    /// Hints and notices in the keys pane.
    pub keys: CareKeysText,
    /// Shared labels of the flows.
    pub common: CareCommonText,
    /// Setting a first PIN.
    pub set: CareSetText,
    /// Changing the PIN.
    pub change: CareChangeText,
    /// Resetting a key.
    pub reset: CareResetText,
    /// Why a flow ended without the change, by `KeycareError::code()`.
    pub errors: BTreeMap<String, String>,
}

/// Hints and notices in the keys pane and the practice picker.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareKeysText {
    pub set: String,
    pub change: String,
    pub reset: String,
    pub force_change: String,
    pub read_first: String,
    pub practice_set: String,
    pub practice_reset: String,
    pub help_set: String,
    pub help_change: String,
    pub help_reset: String,
    pub status_set: String,
    pub status_reset: String,
}

/// Labels every flow uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareCommonText {
    pub reading: String,
    pub working: String,
    pub cancelling: String,
    pub new_pin: String,
    pub again: String,
    pub rules: String,
    pub too_short: String,
    pub too_long: String,
    pub control: String,
    pub mismatch: String,
    pub same: String,
    pub nothing_sent: String,
    pub keys_continue: String,
    pub keys_entry: String,
    pub keys_working: String,
    pub keys_replug: String,
    pub keys_back: String,
    pub failed: String,
    pub detail: String,
    pub state: String,
}

/// Setting a first PIN.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareSetText {
    pub title: String,
    pub intro: String,
    pub lost: String,
    pub done: String,
    pub ready: String,
}

/// Changing the PIN.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareChangeText {
    pub title: String,
    pub intro: String,
    pub forced: String,
    pub retries: String,
    pub last_title: String,
    pub last: String,
    pub last_keys: String,
    pub current: String,
    pub done: String,
}

/// Resetting a key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareResetText {
    pub title: String,
    pub erase: String,
    pub entra: String,
    pub window: String,
    pub word: String,
    pub type_word: String,
    pub unplug: String,
    pub plug: String,
    pub unplug_sim: String,
    pub plug_sim: String,
    pub no_replug: String,
    pub touch: String,
    pub touch_sim: String,
    pub countdown: String,
    pub done: String,
    pub next: String,
}

impl KeycareText {
    /// Loads `{lang}/keycare.toml`.
    pub fn load(src: &ContentSource, lang: Lang) -> Result<KeycareText, ContentError> {
        let path = keycare_path(lang);
        let text = src.read(&path)?;
        KeycareText::parse(&path, &text)
    }

    /// Like [`load`](Self::load); a content folder without the file falls
    /// back to the embedded one.
    pub fn load_or_embedded(src: &ContentSource, lang: Lang) -> Result<KeycareText, ContentError> {
        match KeycareText::load(src, lang) {
            Err(ContentError::Missing { .. }) if *src != ContentSource::Embedded => {
                KeycareText::load(&ContentSource::Embedded, lang)
            }
            other => other,
        }
    }

    /// Parses the text of a `keycare.toml`; `path` is used in errors.
    pub fn parse(path: &str, text: &str) -> Result<KeycareText, ContentError> {
        toml::from_str(text).map_err(|e| ContentError::from_toml(path, text, &e, 0))
    }

    /// The plain message for an error code (the generic one when there is
    /// no specific text).
    pub fn error(&self, code: &str) -> &str {
        self.errors
            .get(code)
            .map(String::as_str)
            .unwrap_or(self.common.failed.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code a key-care flow can end with.
    pub const CODES: &[&str] = &[
        "u2f-only",
        "no-pin-support",
        "pin-already-set",
        "pin-not-set",
        "pin-invalid",
        "pin-blocked",
        "power-cycle-needed",
        "pin-policy-violation",
        "last-attempt-refused",
        "same-pin",
        "reset-too-late",
        "reset-denied",
        "no-touch",
        "cancelled",
        "unplugged",
        "timeout",
        "not-unplugged",
        "not-plugged",
        "several-keys",
    ];

    #[test]
    fn both_languages_load_and_name_every_outcome() {
        for lang in Lang::ALL {
            let t = KeycareText::load(&ContentSource::Embedded, lang).unwrap();
            for code in CODES {
                assert!(
                    t.errors.get(*code).is_some_and(|s| !s.is_empty()),
                    "{lang:?}: no text for {code}"
                );
            }
            assert!(!t.reset.word.is_empty());
            assert!(t.reset.type_word.contains("{word}"));
            assert!(t.common.rules.contains("{min}"));
        }
    }
}
