//! The mockup DSL: a few lines in a fenced ```mockup block describing a
//! browser dialog (title bar, headings, options, buttons, …) that the guide
//! draws so a user can recognise the screen and the item to click.
//!
//! One item per line: `KEYWORD: TEXT`, or `divider` alone. A `*` after the
//! keyword (`button*: Next`) marks the item the user must click or pick.

use serde::Serialize;

/// What kind of element a mockup line draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MockKind {
    /// Title bar or address of the window.
    Window,
    /// A heading inside the dialog.
    Heading,
    /// Plain text.
    Text,
    /// A choice in a list of options.
    Option,
    /// A link.
    Link,
    /// A button.
    Button,
    /// A text input field (the text is its placeholder or label).
    Input,
    /// A horizontal separator (no text).
    Divider,
}

impl MockKind {
    /// The DSL keyword for this kind.
    pub fn keyword(self) -> &'static str {
        match self {
            MockKind::Window => "window",
            MockKind::Heading => "heading",
            MockKind::Text => "text",
            MockKind::Option => "option",
            MockKind::Link => "link",
            MockKind::Button => "button",
            MockKind::Input => "input",
            MockKind::Divider => "divider",
        }
    }

    fn from_keyword(s: &str) -> Option<MockKind> {
        Some(match s {
            "window" => MockKind::Window,
            "heading" => MockKind::Heading,
            "text" => MockKind::Text,
            "option" => MockKind::Option,
            "link" => MockKind::Link,
            "button" => MockKind::Button,
            "input" => MockKind::Input,
            "divider" => MockKind::Divider,
            _ => return None,
        })
    }

    /// Whether a `*` (must click/pick) is allowed on this kind.
    pub fn can_be_target(self) -> bool {
        matches!(
            self,
            MockKind::Option | MockKind::Link | MockKind::Button | MockKind::Input
        )
    }
}

/// One element of a mockup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MockItem {
    /// What it is.
    pub kind: MockKind,
    /// Its label (empty for a divider).
    pub text: String,
    /// Whether the user must click/pick it (`*` in the DSL).
    pub target: bool,
    /// A target that is an alternative to the one before it (`?` in the
    /// DSL: "click this or that"), rather than the next action.
    pub alternative: bool,
}

/// A parsed mockup: the elements, top to bottom.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Mockup {
    /// The elements in order.
    pub items: Vec<MockItem>,
}

/// A mockup line that could not be understood: its index (0-based, within
/// the block) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockupLineError {
    /// 0-based line index inside the block.
    pub index: usize,
    /// What is wrong.
    pub message: String,
}

impl Mockup {
    /// Parses the text of a mockup block. Blank lines are skipped.
    pub fn parse(text: &str) -> Result<Mockup, MockupLineError> {
        let mut items = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let err = |message: String| MockupLineError { index, message };
            if line == "divider" {
                items.push(MockItem {
                    kind: MockKind::Divider,
                    text: String::new(),
                    target: false,
                    alternative: false,
                });
                continue;
            }
            let Some((head, rest)) = line.split_once(':') else {
                return Err(err(format!(
                    "mockup line `{line}` has no `keyword:` (expected window, heading, text, option, link, button, input or divider)"
                )));
            };
            let head = head.trim();
            let (head, alternative) = match head.strip_suffix('?') {
                Some(w) => (w.trim_end(), true),
                None => (head, false),
            };
            let (word, target) = match head.strip_suffix('*') {
                Some(w) => (w.trim_end(), true),
                None => (head, alternative),
            };
            let Some(kind) = MockKind::from_keyword(word) else {
                return Err(err(format!(
                    "unknown mockup keyword `{word}` (expected window, heading, text, option, link, button, input or divider)"
                )));
            };
            if kind == MockKind::Divider {
                return Err(err("`divider` takes no text".to_string()));
            }
            if target && !kind.can_be_target() {
                return Err(err(format!(
                    "`{word}*`: only option, link, button and input can be marked with `*`"
                )));
            }
            let text = rest.trim();
            if text.is_empty() {
                return Err(err(format!("`{word}:` needs a text")));
            }
            if alternative && !items.iter().any(|i: &MockItem| i.target) {
                return Err(err(format!(
                    "`{word}?` is an alternative to an earlier target: mark one with `*` first"
                )));
            }
            items.push(MockItem {
                kind,
                text: text.to_string(),
                target,
                alternative,
            });
        }
        if items.is_empty() {
            return Err(MockupLineError {
                index: 0,
                message: "empty mockup block".to_string(),
            });
        }
        Ok(Mockup { items })
    }

    /// The items the user must click or pick, in order.
    pub fn targets(&self) -> impl Iterator<Item = &MockItem> {
        self.items.iter().filter(|i| i.target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_items_and_targets() {
        let m = Mockup::parse(
            "window: Security info\n\nheading: Add a method\noption*: Security key\ndivider\nbutton*: Next\n",
        )
        .unwrap();
        assert_eq!(m.items.len(), 5);
        assert_eq!(m.items[0].kind, MockKind::Window);
        assert_eq!(m.items[2].text, "Security key");
        assert!(m.items[2].target);
        assert_eq!(m.items[3].kind, MockKind::Divider);
        let targets: Vec<_> = m.targets().map(|t| t.text.as_str()).collect();
        assert_eq!(targets, ["Security key", "Next"]);
    }

    #[test]
    fn bad_lines_report_their_index() {
        let e = Mockup::parse("window: A\nbuton: Next").unwrap_err();
        assert_eq!(e.index, 1);
        assert!(e.message.contains("buton"), "{}", e.message);
        assert_eq!(Mockup::parse("text*: x").unwrap_err().index, 0);
        assert_eq!(Mockup::parse("heading:\n").unwrap_err().index, 0);
        assert!(Mockup::parse("just words").is_err());
        assert!(Mockup::parse("\n\n").is_err());
    }

    #[test]
    fn text_may_contain_colons() {
        let m = Mockup::parse("window: https://mysignins.microsoft.com/security-info").unwrap();
        assert_eq!(
            m.items[0].text,
            "https://mysignins.microsoft.com/security-info"
        );
    }
}
