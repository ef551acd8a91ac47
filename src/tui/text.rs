//! Labels of the live parts of the app (`{lang}/live.toml`): keys pane,
//! checks, PIN entry, practice, export. Every key is required, so a missing
//! label is an error at load time rather than a blank on screen.

use serde::Deserialize;

use crate::content::{ContentError, ContentSource, Lang};

/// Path of the live labels for `lang` below the content root.
pub fn live_path(lang: Lang) -> String {
    format!("{}/live.toml", lang.code())
}

/// All live labels in one language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveText {
    /// The keys pane.
    pub keys: KeysText,
    /// The check (probe) view.
    pub probe: ProbeText,
    /// The PIN entry window.
    pub pin: PinText,
    /// The practice scenario picker.
    pub practice: PracticeText,
    /// Report export messages.
    pub export: ExportText,
    /// The live box on the "have your key ready" guide page.
    pub live: LiveBoxText,
    /// Extra key hints in the status bar.
    pub status: LiveStatusText,
    /// Extra rows of the help overlay.
    pub help: LiveHelpText,
}

/// The keys pane.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysText {
    /// "Connected keys"
    pub title: String,
    /// "No security key found. Plug one in: it appears here by itself. No k..."
    pub none: String,
    /// "Cannot list keys: {error}"
    pub error: String,
    /// "Selected key"
    pub detail: String,
    /// "Device"
    pub device: String,
    /// "USB id"
    pub usb: String,
    /// "Product"
    pub product: String,
    /// "Model"
    pub model: String,
    /// "Protocol"
    pub protocol: String,
    /// "FIDO2"
    pub fido2: String,
    /// "U2F only (cannot be used with UTokyo Account)"
    pub u2f_only: String,
    /// "PIN"
    pub pin: String,
    /// "set"
    pub pin_set: String,
    /// "set, {n} attempts left"
    pub pin_retries: String,
    /// "not set"
    pub pin_not_set: String,
    /// "blocked"
    pub pin_blocked: String,
    /// "not supported"
    pub pin_unsupported: String,
    /// "not checked yet: press Enter to check this key"
    pub not_checked: String,
    /// "simulated key"
    pub simulated: String,
    /// "Asked the key to blink."
    pub winking: String,
    /// "The key could not blink: {error}"
    pub wink_failed: String,
    /// "Could not ask the key what it is: {error}"
    pub info_failed: String,
    /// "Enter: check this key (a test registration and sign-in; nothing sta..."
    pub hint: String,
}

/// The check (probe) view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeText {
    /// "Checking {device}"
    pub title: String,
    /// "Practice: {title}"
    pub practice_title: String,
    /// "Read what the key is"
    pub info: String,
    /// "Test registration"
    pub register: String,
    /// "Test sign-in"
    pub signin: String,
    /// "waiting"
    pub pending: String,
    /// "running"
    pub running: String,
    /// "ok"
    pub ok: String,
    /// "failed"
    pub failed: String,
    /// "skipped"
    pub skipped: String,
    /// "Touch your key now"
    pub touch: String,
    /// "Press Space to touch the simulated key"
    pub touch_sim: String,
    /// "Touch the sensor with an enrolled finger"
    pub touch_uv: String,
    /// "{s} s left"
    pub countdown: String,
    /// "Cancelling"
    pub cancelling: String,
    /// "The key works: a registration and a sign-in were made and verified."
    pub works: String,
    /// "The test registration and sign-in worked, but the diagnosis found a problem:"
    pub works_but: String,
    /// "The check stopped at: {stage}."
    pub failed_at: String,
    /// "Reason: {reason}"
    pub reason: String,
    /// "Detail: {detail}" (the probe's technical message, untranslated)
    pub detail: String,
    /// "The Diagnosis tab explains what to do."
    pub next: String,
    /// "Enter or Esc: back"
    pub back: String,
    /// "What the browser shows now"
    pub browser: String,
    /// "What the browser would say"
    pub browser_error: String,
}

/// The PIN entry window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinText {
    /// "PIN"
    pub title: String,
    /// "Enter the PIN of the key. It is not stored, shown or logged."
    pub prompt: String,
    /// "{n} attempts left"
    pub retries: String,
    /// "attempts left: unknown"
    pub unknown_retries: String,
    /// "Enter: confirm   Esc: cancel"
    pub keys: String,
    /// Before the prompt at 2 or 3 attempts left: what 0 means ({n}).
    pub warn_low: String,
    /// With one attempt left: a wrong PIN now blocks the key.
    pub warn_last: String,
    /// "Use the last attempt?"
    pub confirm_last: String,
    /// "y: enter the PIN   Esc: stop"
    pub confirm_keys: String,
}

/// The practice scenario picker.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeText {
    /// "Practise with a simulated key"
    pub title: String,
    /// "Pick a kind of key. The check then runs against a simulated key tha..."
    pub intro: String,
    /// "What happens"
    pub expect: String,
}

/// Report export messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportText {
    /// "Report written to {path}"
    pub written: String,
    /// "The report could not be written: {error}"
    pub failed: String,
    /// "No diagnosis to export yet."
    pub nothing: String,
}

/// The live box on the "have your key ready" guide page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveBoxText {
    /// "Your key now"
    pub title: String,
    /// "Key detected"
    pub detected: String,
    /// "FIDO2"
    pub fido2: String,
    /// "yes"
    pub yes: String,
    /// "no"
    pub no: String,
    /// "not checked (Keys tab)"
    pub unknown: String,
}

/// Extra key hints in the status bar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveStatusText {
    /// "check"
    pub check: String,
    /// "blink"
    pub wink: String,
    /// "practise"
    pub practice: String,
    /// "touch"
    pub touch: String,
    /// "cancel"
    pub cancel: String,
    /// "back"
    pub back: String,
    /// "choose"
    pub choose: String,
    /// "start"
    pub start: String,
    /// "confirm"
    pub confirm: String,
    /// "export"
    pub export: String,
    /// "findings"
    pub select: String,
    /// "guide"
    pub open: String,
}

/// Extra rows of the help overlay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveHelpText {
    /// "Keys tab: check the selected key"
    pub check: String,
    /// "Keys tab: ask the selected key again what it is"
    pub info: String,
    /// "Keys tab: make the selected key blink"
    pub wink: String,
    /// "Practise with a simulated key"
    pub practice: String,
    /// "During practice: touch the simulated key"
    pub touch: String,
    /// "Cancel a running check, close a view"
    pub cancel: String,
    /// "PIN: type it, Enter confirms, Esc cancels"
    pub pin: String,
    /// "Diagnosis tab: choose a finding, Enter opens its guide page"
    pub findings: String,
    /// "Write the diagnosis to a Markdown file"
    pub export: String,
}

impl LiveText {
    /// Loads `{lang}/live.toml`.
    pub fn load(src: &ContentSource, lang: Lang) -> Result<LiveText, ContentError> {
        let path = live_path(lang);
        let text = src.read(&path)?;
        LiveText::parse(&path, &text)
    }

    /// Loads from `src`, falling back to the built-in copy when `src` has no
    /// such file (a content folder copied from an older version).
    pub fn load_or_embedded(src: &ContentSource, lang: Lang) -> Result<LiveText, ContentError> {
        match LiveText::load(src, lang) {
            Err(ContentError::Missing { .. }) if *src != ContentSource::Embedded => {
                LiveText::load(&ContentSource::Embedded, lang)
            }
            other => other,
        }
    }

    /// Parses the text of a `live.toml`; `path` is used in errors.
    pub fn parse(path: &str, text: &str) -> Result<LiveText, ContentError> {
        toml::from_str(text).map_err(|e| ContentError::from_toml(path, text, &e, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_load_with_their_placeholders() {
        for lang in Lang::ALL {
            let t = LiveText::load(&ContentSource::Embedded, lang).unwrap();
            assert!(t.probe.countdown.contains("{s}"));
            assert!(t.pin.retries.contains("{n}"));
            assert!(t.pin.warn_low.contains("{n}"));
            assert!(t.export.written.contains("{path}"));
            assert!(t.keys.error.contains("{error}"));
        }
    }

    #[test]
    fn a_missing_key_names_the_file() {
        let e = LiveText::parse("en/live.toml", "[keys]\ntitle = \"x\"\n").unwrap_err();
        assert!(e.to_string().starts_with("en/live.toml:"), "{e}");
    }
}
