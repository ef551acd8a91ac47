//! Texts of the simulator scenarios (`content/{lang}/scenarios.toml`): a
//! title, a summary and what the user would see, keyed by the names in
//! [`crate::sim::scenario`], for the practice picker.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::content::{ContentError, ContentSource, Lang};

/// The texts of one scenario.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioText {
    /// Short title.
    pub title: String,
    /// What kind of key is simulated.
    pub summary: String,
    /// What a user with such a key sees, and what this app reports.
    pub expect: String,
}

/// All scenario texts of one language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioTexts {
    texts: BTreeMap<String, ScenarioText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    scenario: BTreeMap<String, ScenarioText>,
}

/// Path of the scenario texts for `lang` below the content root.
pub fn scenarios_path(lang: Lang) -> String {
    format!("{}/scenarios.toml", lang.code())
}

impl ScenarioTexts {
    /// Loads `{lang}/scenarios.toml`.
    pub fn load(src: &ContentSource, lang: Lang) -> Result<Self, ContentError> {
        let path = scenarios_path(lang);
        let text = src.read(&path)?;
        Self::parse(&path, &text)
    }

    /// Parses the text of a `scenarios.toml`; `path` is used in errors.
    pub fn parse(path: &str, text: &str) -> Result<Self, ContentError> {
        let raw: RawFile =
            toml::from_str(text).map_err(|e| ContentError::from_toml(path, text, &e, 0))?;
        Ok(ScenarioTexts {
            texts: raw.scenario,
        })
    }

    /// The texts of scenario `name`.
    pub fn get(&self, name: &str) -> Option<&ScenarioText> {
        self.texts.get(name)
    }

    /// Title of `name`, or the name itself when the content has none.
    pub fn title<'a>(&'a self, name: &'a str) -> &'a str {
        self.get(name).map(|t| t.title.as_str()).unwrap_or(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario;

    #[test]
    fn every_scenario_has_texts_in_both_languages() {
        for lang in Lang::ALL {
            let t = ScenarioTexts::load(&ContentSource::Embedded, lang).unwrap();
            for s in scenario::all() {
                let text = t
                    .get(s.name)
                    .unwrap_or_else(|| panic!("{lang}: {}", s.name));
                assert!(!text.title.is_empty() && !text.summary.is_empty());
            }
            assert_eq!(t.title("no-such"), "no-such");
        }
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = ScenarioTexts::parse(
            "en/scenarios.toml",
            "[scenario.x]\ntitle = \"a\"\nsumary = 1\n",
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("en/scenarios.toml:"), "{e}");
    }
}
