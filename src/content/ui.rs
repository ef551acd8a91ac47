//! The labels of the terminal app (`{lang}/ui.toml`): tab names, chapter
//! names, key hints, help texts, placeholders. Every key is required, so a
//! missing label is an error at load time rather than a blank on screen.

use serde::Deserialize;

use super::{ContentError, ContentSource, Lang};

/// All labels the terminal app and the printed guide use, in one language.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiText {
    /// Application-wide labels.
    pub app: AppText,
    /// Names of the three panes.
    pub tabs: TabsText,
    /// Chapter names, by chapter id.
    pub chapters: ChaptersText,
    /// Labels of the guide pane.
    pub guide: GuideText,
    /// Labels under a drawn dialog.
    pub mockup: MockupText,
    /// The keys pane.
    pub keys: PaneText,
    /// The diagnosis pane.
    pub diagnosis: PaneText,
    /// Key hints in the status bar.
    pub status: StatusText,
    /// The help overlay.
    pub help: HelpText,
    /// The "terminal too small" screen.
    pub small: SmallText,
}

/// Application-wide labels.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppText {
    /// Name shown at the top left.
    pub title: String,
    /// Title of the printed guide (`guide --print`).
    pub guide_title: String,
}

/// Names of the panes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TabsText {
    /// The guide.
    pub guide: String,
    /// Connected keys.
    pub keys: String,
    /// The diagnosis.
    pub diagnosis: String,
}

/// Chapter names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChaptersText {
    /// `intro`.
    pub intro: String,
    /// `compat`.
    pub compat: String,
    /// `register`.
    pub register: String,
    /// `signin`.
    pub signin: String,
    /// `trouble`.
    pub trouble: String,
}

/// Labels of the guide pane.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuideText {
    /// Title of the step list.
    pub contents: String,
    /// "Step {n} of {total}".
    pub step_of: String,
    /// Position among all pages: "{n}/{total}".
    pub page_of: String,
    /// Scroll position: "lines {from}-{to} of {total}".
    pub lines: String,
    /// Shown before the finding ids a step is linked to.
    pub related: String,
}

/// Hint labels under a mockup.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockupText {
    /// Before a button or link to click.
    pub click: String,
    /// Before an option to pick.
    pub choose: String,
    /// Before a field to fill.
    pub fill: String,
    /// Between two actions.
    pub then: String,
    /// Between two alternatives (`?` in a mockup).
    pub or: String,
}

/// A pane that shows a placeholder until its feature exists.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaneText {
    /// Pane title.
    pub title: String,
    /// Text shown while the feature is not available.
    pub unavailable: String,
}

/// Key hints in the status bar (the keys themselves are not translated).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusText {
    /// Up/Down: move between steps.
    pub r#move: String,
    /// PgUp/PgDn: scroll.
    pub scroll: String,
    /// Tab: switch panes.
    pub panes: String,
    /// ?: help.
    pub help: String,
    /// q: quit.
    pub quit: String,
}

/// The help overlay.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpText {
    /// Title of the overlay.
    pub title: String,
    /// Up/Down, j/k.
    pub r#move: String,
    /// Enter, Right.
    pub next: String,
    /// Left.
    pub prev: String,
    /// PgUp/PgDn/Space.
    pub scroll: String,
    /// Home/End.
    pub ends: String,
    /// Tab/Shift-Tab.
    pub panes: String,
    /// ?.
    pub help: String,
    /// q/Esc/Ctrl-C.
    pub quit: String,
    /// "Press any key to close".
    pub close: String,
}

/// The "terminal too small" screen.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmallText {
    /// "Terminal too small (need {w}x{h})".
    pub message: String,
}

impl UiText {
    /// Loads `{lang}/ui.toml`.
    pub fn load(src: &ContentSource, lang: Lang) -> Result<UiText, ContentError> {
        let path = format!("{}/ui.toml", lang.code());
        let text = src.read(&path)?;
        UiText::parse(&path, &text)
    }

    /// Parses the text of a `ui.toml`; `path` is used in errors.
    pub fn parse(path: &str, text: &str) -> Result<UiText, ContentError> {
        toml::from_str(text).map_err(|e| ContentError::from_toml(path, text, &e, 0))
    }
}

/// Replaces `{name}` placeholders in a label.
pub fn fill(template: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut out = template.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), &value.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_placeholders() {
        assert_eq!(
            fill("Step {n} of {total}", &[("n", &3), ("total", &7)]),
            "Step 3 of 7"
        );
    }

    #[test]
    fn missing_key_is_an_error_with_a_line() {
        let e = UiText::parse("en/ui.toml", "[app]\ntitle = \"x\"\n").unwrap_err();
        assert!(e.to_string().starts_with("en/ui.toml:"), "{e}");
        assert!(e.to_string().contains("missing"), "{e}");
    }

    #[test]
    fn both_languages_load() {
        for lang in Lang::ALL {
            let ui = UiText::load(&ContentSource::Embedded, lang).unwrap();
            assert!(!ui.tabs.guide.is_empty());
            assert!(ui.guide.step_of.contains("{n}") && ui.guide.step_of.contains("{total}"));
            assert!(ui.small.message.contains("{w}") && ui.small.message.contains("{h}"));
        }
    }
}
