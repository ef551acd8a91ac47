//! Advice texts for diagnosis findings (`content/{en,ja}/findings.toml`):
//! a title, an explanation, a fix and the guide step to open, per finding id,
//! with `{name}` placeholders the diagnosis fills in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ContentError, ContentSource, Lang};

/// The texts of one finding, as written in the file (placeholders unfilled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingText {
    /// One-line title.
    pub title: String,
    /// What is wrong and why (Markdown-light).
    pub explain: String,
    /// What to do about it (Markdown-light).
    pub fix: String,
    /// Id of the guide step that helps, or "" for none.
    #[serde(default)]
    pub guide: String,
}

impl FindingText {
    /// The guide step id, when there is one.
    pub fn guide_step(&self) -> Option<&str> {
        let g = self.guide.trim();
        (!g.is_empty()).then_some(g)
    }
}

/// All finding texts of one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingTexts {
    lang: Lang,
    texts: BTreeMap<String, FindingText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    finding: BTreeMap<String, FindingText>,
}

/// Path of the findings file for `lang` below the content root.
pub fn findings_path(lang: Lang) -> String {
    format!("{}/findings.toml", lang.code())
}

impl FindingTexts {
    /// Loads `{lang}/findings.toml`.
    pub fn load(src: &ContentSource, lang: Lang) -> Result<Self, ContentError> {
        let path = findings_path(lang);
        let text = src.read(&path)?;
        Self::parse(&text, lang)
    }

    /// Parses the text of a findings file (errors name `{lang}/findings.toml`).
    pub fn parse(text: &str, lang: Lang) -> Result<Self, ContentError> {
        let path = findings_path(lang);
        let raw: RawFile =
            toml::from_str(text).map_err(|e| ContentError::from_toml(&path, text, &e, 0))?;
        for (id, t) in &raw.finding {
            if t.title.trim().is_empty() {
                let line = text
                    .lines()
                    .position(|l| l.contains(&format!("finding.{id}]")))
                    .map(|i| i + 1)
                    .unwrap_or(0);
                return Err(ContentError::invalid(
                    &path,
                    line,
                    format!("finding {id} has an empty title"),
                ));
            }
        }
        Ok(FindingTexts {
            lang,
            texts: raw.finding,
        })
    }

    /// The language of these texts.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The raw texts of one finding.
    pub fn get(&self, id: &str) -> Option<&FindingText> {
        self.texts.get(id)
    }

    /// All finding ids that have text, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.texts.keys().map(String::as_str)
    }

    /// The texts of `id` with every `{name}` whose name is in `placeholders`
    /// replaced by its value (escaped in the Markdown texts). Unknown placeholders stay as written, so a
    /// missing value is visible rather than silently dropped.
    pub fn render(&self, id: &str, placeholders: &BTreeMap<String, String>) -> Option<FindingText> {
        let t = self.texts.get(id)?;
        Some(FindingText {
            title: fill(&t.title, placeholders),
            explain: fill_markdown(&t.explain, placeholders),
            fix: fill_markdown(&t.fix, placeholders),
            guide: t.guide.clone(),
        })
    }
}

/// Replaces `{name}` by `values[name]` in `text`. Names are letters, digits,
/// `_` and `-`; anything else in braces is left alone.
pub fn fill(text: &str, values: &BTreeMap<String, String>) -> String {
    fill_with(text, values, false)
}

/// [`fill`] for a Markdown text (`explain`, `fix`): the values are escaped,
/// so a Windows device path (`\\?\hid#…`) or a name with `*` or `_` reads
/// as written once the Markdown is rendered.
pub fn fill_markdown(text: &str, values: &BTreeMap<String, String>) -> String {
    fill_with(text, values, true)
}

/// `value` with every character Markdown could read as markup escaped.
pub fn escape_markdown(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn fill_with(text: &str, values: &BTreeMap<String, String>, markdown: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        let closes = after[name_len..].starts_with('}');
        match values.get(name) {
            Some(v) if closes && !name.is_empty() => {
                if markdown {
                    out.push_str(&escape_markdown(v));
                } else {
                    out.push_str(v);
                }
                rest = &after[name_len + 1..];
                // "このキー は" → "このキー は" reads wrong: a space the text
                // keeps for Latin model names goes when the value is Japanese.
                if v.chars().last().is_some_and(is_wide)
                    && let Some(tail) = rest.strip_prefix(' ')
                    && tail.chars().next().is_some_and(is_wide)
                {
                    rest = tail;
                }
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_wide(c: char) -> bool {
    unicode_width::UnicodeWidthChar::width(c) == Some(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_values_drop_the_space_kept_for_latin_names() {
        let v = vals(&[("ja", "このキー")]);
        assert_eq!(fill("{ja} は古い", &v), "このキーは古い");
        let latin = vals(&[("ja", "YubiKey 5")]);
        assert_eq!(fill("{ja} は古い", &latin), "YubiKey 5 は古い");
    }

    const SAMPLE: &str = r#"
[finding.pin-retries-low]
title = "Only {retries} PIN tries left"
explain = "The key {key} locks itself after {retries} more wrong PINs."
fix = "Type carefully. {unknown} stays."
guide = "trouble-pin"

[finding.no-key]
title = "No key"
explain = "Plug it in."
fix = "Insert the key."
"#;

    fn vals(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn renders_placeholders() {
        let t = FindingTexts::parse(SAMPLE, Lang::En).unwrap();
        assert_eq!(t.lang(), Lang::En);
        assert_eq!(
            t.ids().collect::<Vec<_>>(),
            vec!["no-key", "pin-retries-low"]
        );
        let r = t
            .render(
                "pin-retries-low",
                &vals(&[("retries", "2"), ("key", "YubiKey 5")]),
            )
            .unwrap();
        assert_eq!(r.title, "Only 2 PIN tries left");
        assert_eq!(
            r.explain,
            "The key YubiKey 5 locks itself after 2 more wrong PINs."
        );
        assert_eq!(r.fix, "Type carefully. {unknown} stays.");
        assert_eq!(r.guide_step(), Some("trouble-pin"));
        assert_eq!(t.get("no-key").unwrap().guide_step(), None);
        assert!(t.render("store-full", &BTreeMap::new()).is_none());
    }

    #[test]
    fn fill_leaves_odd_braces() {
        let v = vals(&[("a", "X")]);
        assert_eq!(fill("{a}{a} {b} { a} {a", &v), "XX {b} { a} {a");
        assert_eq!(fill("日本{a}語", &v), "日本X語");
        assert_eq!(fill("{", &v), "{");
    }

    #[test]
    fn unknown_field_names_file_and_line() {
        let bad = SAMPLE.replace("guide = \"trouble-pin\"", "guid = \"x\"");
        let err = FindingTexts::parse(&bad, Lang::Ja).unwrap_err().to_string();
        assert!(err.starts_with("ja/findings.toml:"), "{err}");
    }

    #[test]
    fn empty_title_is_refused() {
        let bad = SAMPLE.replace("title = \"No key\"", "title = \" \"");
        let err = FindingTexts::parse(&bad, Lang::En).unwrap_err().to_string();
        assert!(err.starts_with("en/findings.toml:8:"), "{err}");
    }
}
