//! The failure table (`content/{en,ja}/failures.toml`): for every way a check
//! of a key can stop, keyed by the probe's failure code string
//! (`pin-invalid`), a title, a plain-words reason, a fix, a severity, whether
//! the key failed or the check could not run, and the guide page that helps.
//! Every surface (`check` text and JSON, the Markdown report, the terminal
//! app's check view and diagnosis) takes the words from here. A code with no
//! entry gets the `[unknown]` entry, which always shows the technical detail.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::findings::{fill, fill_markdown};
use super::{ContentError, ContentSource, Lang};

/// How bad a failure is (the same scale as the diagnosis' severities).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureSeverity {
    /// Good news (not used by failures, accepted for symmetry).
    Ok,
    /// Worth knowing.
    Info,
    /// Likely to cause trouble.
    Warn,
    /// Will not work as is.
    Fail,
}

/// Whether a failure says something about the key or only that the check
/// did not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureOutcome {
    /// The key or the computer has a problem (exit code 2 when severe).
    Failed,
    /// The check did not finish; nothing is known about the key (exit code 3).
    CouldNotRun,
}

impl FailureOutcome {
    /// The kebab-case name (`could-not-run`).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureOutcome::Failed => "failed",
            FailureOutcome::CouldNotRun => "could-not-run",
        }
    }
}

/// The words for one failure code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureText {
    /// One-line title.
    pub title: String,
    /// What happened, in plain words (no leading capital: it follows "Reason:").
    pub reason: String,
    /// What to do (Markdown-light).
    pub fix: String,
    /// How bad it is.
    pub severity: FailureSeverity,
    /// Failed, or could not run.
    pub outcome: FailureOutcome,
    /// Id of the guide page that helps, or "".
    #[serde(default)]
    pub guide: String,
}

impl FailureText {
    /// The guide page id, when there is one.
    pub fn guide_step(&self) -> Option<&str> {
        let g = self.guide.trim();
        (!g.is_empty()).then_some(g)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    unknown: FailureText,
    #[serde(default)]
    failure: BTreeMap<String, FailureText>,
}

/// The failure table of one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureTable {
    lang: Lang,
    unknown: FailureText,
    entries: BTreeMap<String, FailureText>,
}

/// Path of the failure table for `lang` below the content root.
pub fn failures_path(lang: Lang) -> String {
    format!("{}/failures.toml", lang.code())
}

impl FailureTable {
    /// Loads `{lang}/failures.toml`, falling back to the built-in copy when a
    /// content folder copied from an older version has no such file.
    pub fn load(src: &ContentSource, lang: Lang) -> Result<Self, ContentError> {
        let path = failures_path(lang);
        let text = match src.read(&path) {
            Err(ContentError::Missing { .. }) if *src != ContentSource::Embedded => {
                ContentSource::Embedded.read(&path)?
            }
            other => other?,
        };
        Self::parse(&text, lang)
    }

    /// Parses the text of a failures file (errors name `{lang}/failures.toml`).
    pub fn parse(text: &str, lang: Lang) -> Result<Self, ContentError> {
        let path = failures_path(lang);
        let raw: RawFile =
            toml::from_str(text).map_err(|e| ContentError::from_toml(&path, text, &e, 0))?;
        for (code, t) in std::iter::once(("unknown".to_string(), &raw.unknown))
            .chain(raw.failure.iter().map(|(k, v)| (k.clone(), v)))
        {
            if t.title.trim().is_empty() || t.reason.trim().is_empty() {
                let line = text
                    .lines()
                    .position(|l| l.contains(&format!("{code}]")))
                    .map(|i| i + 1)
                    .unwrap_or(0);
                return Err(ContentError::invalid(
                    &path,
                    line,
                    format!("failure {code} needs a title and a reason"),
                ));
            }
        }
        if !raw.unknown.reason.contains("{detail}") {
            return Err(ContentError::invalid(
                &path,
                0,
                "the [unknown] reason must show {detail}",
            ));
        }
        Ok(FailureTable {
            lang,
            unknown: raw.unknown,
            entries: raw.failure,
        })
    }

    /// The language of these texts.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The entry of `code`, if the table has one.
    pub fn get(&self, code: &str) -> Option<&FailureText> {
        self.entries.get(code)
    }

    /// The entry of `code`, or the `[unknown]` entry.
    pub fn entry(&self, code: &str) -> &FailureText {
        self.entries.get(code).unwrap_or(&self.unknown)
    }

    /// Whether `code` has its own entry.
    pub fn knows(&self, code: &str) -> bool {
        self.entries.contains_key(code)
    }

    /// Every code with an entry, sorted.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// The words of `code` with `{name}` placeholders filled from `values`.
    /// An unknown code's text shows `{detail}`; when the values have none,
    /// the code itself stands in, so the cause is never hidden.
    pub fn render(&self, code: &str, values: &BTreeMap<String, String>) -> FailureText {
        let t = self.entry(code);
        let mut values = values.clone();
        if !self.knows(code) {
            let detail = values.get("detail").cloned().unwrap_or_default();
            let detail = if detail.trim().is_empty() {
                code.to_string()
            } else if detail.contains(code) {
                detail
            } else {
                format!("{detail} [{code}]")
            };
            values.insert("detail".into(), detail);
        }
        values.entry("detail".into()).or_default();
        values.entry("retries".into()).or_insert_with(|| "?".into());
        FailureText {
            title: fill(&t.title, &values),
            reason: fill_markdown(&t.reason, &values),
            fix: fill_markdown(&t.fix, &values),
            severity: t.severity,
            outcome: t.outcome,
            guide: t.guide.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctap::probe::FailureCode;

    fn tables() -> Vec<FailureTable> {
        Lang::ALL
            .iter()
            .map(|l| FailureTable::load(&ContentSource::Embedded, *l).unwrap())
            .collect()
    }

    #[test]
    fn every_failure_code_has_an_entry_in_every_language() {
        for t in tables() {
            for code in FailureCode::ALL {
                assert!(
                    t.knows(code.as_str()),
                    "{}: no entry for {code:?}",
                    t.lang()
                );
            }
        }
    }

    #[test]
    fn languages_have_the_same_codes_severities_and_outcomes() {
        let [en, ja] = [&tables()[0], &tables()[1]].map(Clone::clone);
        assert_eq!(
            en.codes().collect::<Vec<_>>(),
            ja.codes().collect::<Vec<_>>()
        );
        for code in en.codes() {
            let (a, b) = (en.entry(code), ja.entry(code));
            assert_eq!(
                (a.severity, a.outcome, &a.guide),
                (b.severity, b.outcome, &b.guide),
                "{code}"
            );
        }
        assert_eq!(en.unknown.outcome, ja.unknown.outcome);
    }

    #[test]
    fn no_stray_entries() {
        let t = &tables()[0];
        let known: Vec<&str> = FailureCode::ALL.iter().map(|c| c.as_str()).collect();
        for code in t.codes() {
            assert!(
                known.contains(&code),
                "entry {code} matches no failure code"
            );
        }
    }

    #[test]
    fn guide_pages_exist() {
        let guide =
            crate::content::guide::Content::load(&ContentSource::Embedded, Lang::En).unwrap();
        for t in tables() {
            for code in t.codes().chain(["unknown"]) {
                if let Some(g) = t.entry(code).guide_step() {
                    assert!(guide.guide.position(g).is_some(), "{code}: no page {g}");
                }
            }
        }
    }

    #[test]
    fn unknown_codes_show_the_technical_detail() {
        let t = &tables()[0];
        let mut v = BTreeMap::new();
        v.insert(
            "detail".to_string(),
            "CTAP2_ERR_VENDOR_FIRST (0xF0)".to_string(),
        );
        let r = t.render("brand-new-code", &v);
        // The reason is Markdown: the value's underscores are escaped.
        assert!(
            r.reason.contains(r"CTAP2\_ERR\_VENDOR\_FIRST"),
            "{}",
            r.reason
        );
        assert!(r.reason.contains("brand-new-code"), "{}", r.reason);
        let r = t.render("brand-new-code", &BTreeMap::new());
        assert!(r.reason.contains("brand-new-code"), "{}", r.reason);
        // A known code keeps its own words.
        let r = t.render("pin-invalid", &BTreeMap::new());
        assert!(!r.reason.contains("unexpected"), "{}", r.reason);
        assert_eq!(r.outcome, FailureOutcome::Failed);
        assert_eq!(t.entry("cancelled").outcome, FailureOutcome::CouldNotRun);
    }

    #[test]
    fn cancelled_never_reads_as_refused() {
        for t in tables() {
            let c = t.entry("cancelled");
            let words = format!("{} {} {}", c.title, c.reason, c.fix).to_lowercase();
            assert!(
                !words.contains("refus") && !words.contains("拒否"),
                "{words}"
            );
        }
    }

    #[test]
    fn a_missing_unknown_entry_names_the_file() {
        let e = FailureTable::parse("[failure.x]\ntitle = \"t\"\n", Lang::Ja).unwrap_err();
        assert!(e.to_string().starts_with("ja/failures.toml:"), "{e}");
    }
}
