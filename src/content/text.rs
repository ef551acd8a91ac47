//! Short user-facing texts of the command line and the reports
//! (`content/{en,ja}/text.toml`): labels, prompts and status lines, looked
//! up by a dotted key (`report.summary`, `pin.warn_last`). Tables in the file
//! become key prefixes. Both languages must have the same keys (a test
//! checks it), so nothing falls back to English by accident.

use std::collections::BTreeMap;

use super::{ContentError, ContentSource, Lang};

/// All short texts of one language, by dotted key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Texts {
    lang: Option<Lang>,
    map: BTreeMap<String, String>,
}

/// Path of the texts for `lang` below the content root.
pub fn text_path(lang: Lang) -> String {
    format!("{}/text.toml", lang.code())
}

impl Texts {
    /// Loads `{lang}/text.toml`, falling back to the built-in copy when a
    /// content folder copied from an older version has no such file.
    pub fn load(src: &ContentSource, lang: Lang) -> Result<Texts, ContentError> {
        let path = text_path(lang);
        let text = match src.read(&path) {
            Err(ContentError::Missing { .. }) if *src != ContentSource::Embedded => {
                ContentSource::Embedded.read(&path)?
            }
            other => other?,
        };
        Texts::parse(&path, &text, lang)
    }

    /// The built-in texts of `lang` (they are checked by the tests, so this
    /// cannot fail in a released build; a broken copy gives an empty set).
    pub fn embedded(lang: Lang) -> Texts {
        Texts::load(&ContentSource::Embedded, lang).unwrap_or_default()
    }

    /// Parses a `text.toml`; `path` is used in errors.
    pub fn parse(path: &str, text: &str, lang: Lang) -> Result<Texts, ContentError> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| ContentError::from_toml(path, text, &e, 0))?;
        let mut map = BTreeMap::new();
        flatten("", &table, &mut map).map_err(|key| {
            let line = text
                .lines()
                .position(|l| {
                    l.trim_start()
                        .starts_with(key.rsplit('.').next().unwrap_or(""))
                })
                .map_or(0, |i| i + 1);
            ContentError::invalid(path, line, format!("{key}: only text values are allowed"))
        })?;
        Ok(Texts {
            lang: Some(lang),
            map,
        })
    }

    /// The language, when loaded from a file.
    pub fn lang(&self) -> Option<Lang> {
        self.lang
    }

    /// The text of `key`; a missing key shows as `{key}` so it is visible
    /// rather than blank (the tests make sure none is missing).
    pub fn get(&self, key: &str) -> String {
        self.map
            .get(key)
            .cloned()
            .unwrap_or_else(|| format!("{{{key}}}"))
    }

    /// The text of `key` with `{name}` placeholders filled.
    pub fn fill(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        super::ui::fill(&self.get(key), args)
    }

    /// Every key, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }
}

fn flatten(
    prefix: &str,
    table: &toml::Table,
    out: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(t) => flatten(&key, t, out)?,
            _ => return Err(key),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys() {
        let en = Texts::load(&ContentSource::Embedded, Lang::En).unwrap();
        let ja = Texts::load(&ContentSource::Embedded, Lang::Ja).unwrap();
        let (a, b): (Vec<_>, Vec<_>) = (en.keys().collect(), ja.keys().collect());
        for k in &a {
            assert!(b.contains(k), "ja/text.toml lacks {k}");
        }
        for k in &b {
            assert!(a.contains(k), "en/text.toml lacks {k}");
        }
        for k in en.keys() {
            let (x, y) = (en.get(k), ja.get(k));
            assert!(!x.trim().is_empty() && !y.trim().is_empty(), "{k} is empty");
            // The same placeholders in both languages.
            let names = |s: &str| {
                let mut v: Vec<String> = s
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
                    .collect();
                v.sort();
                v
            };
            assert_eq!(names(&x), names(&y), "{k}: placeholders differ");
        }
    }

    #[test]
    fn every_key_is_used_by_the_program() {
        let mut source = String::new();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        collect_rs(&root, &mut source);
        let en = Texts::load(&ContentSource::Embedded, Lang::En).unwrap();
        for k in en.keys() {
            assert!(
                source.contains(&format!("\"{k}\"")),
                "text key {k} is never used: drop it"
            );
        }
    }

    fn collect_rs(dir: &std::path::Path, out: &mut String) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                collect_rs(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("text.rs") {
                out.push_str(&std::fs::read_to_string(&p).unwrap());
            }
        }
    }

    #[test]
    fn missing_keys_are_visible_and_bad_values_name_the_file() {
        let t = Texts::parse("en/text.toml", "[a]\nb = \"x {n}\"\n", Lang::En).unwrap();
        assert_eq!(t.fill("a.b", &[("n", &3)]), "x 3");
        assert_eq!(t.get("a.c"), "{a.c}");
        let e = Texts::parse("en/text.toml", "[a]\nb = 3\n", Lang::En).unwrap_err();
        assert!(e.to_string().starts_with("en/text.toml:"), "{e}");
    }
}
