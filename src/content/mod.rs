//! Loading the guide, advice and data files from `content/`: embedded in the
//! binary by default, or read from a directory given with `--content DIR` so
//! a help desk can edit the text without rebuilding.
//!
//! This module owns file access, languages and content errors; the parsers for
//! each kind of file live in the submodules.

pub mod aaguid;
pub mod compat;
pub mod failures;
pub mod findings;
pub mod guide;
pub mod markdown;
pub mod mockup;
pub mod text;
pub mod ui;

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

/// The languages the content is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Lang {
    /// English.
    En,
    /// Japanese.
    Ja,
}

impl Lang {
    /// All languages, in display order.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    /// The folder name and code (`en`, `ja`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// Parses `en`, `ja`, `ja_JP.UTF-8`, `ja-JP`, … (case-insensitive).
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("ja") {
            Some(Lang::Ja)
        } else if s.starts_with("en") || s == "c" || s == "posix" || s.starts_with("c.") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// Picks the language from locale variables as a user's shell sets them
    /// (`LC_ALL`, then `LC_MESSAGES`, then `LANG`), falling back to the OS
    /// locale and then English. `get` reads one variable (injected for tests).
    pub fn detect(get: impl Fn(&str) -> Option<String>) -> Lang {
        for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Some(v) = get(var).filter(|v| !v.is_empty()) {
                return Lang::parse(&v).unwrap_or(Lang::En);
            }
        }
        sys_locale::get_locale()
            .and_then(|l| Lang::parse(&l))
            .unwrap_or(Lang::En)
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why content could not be loaded. Every variant names the file, and the
/// line where one is known.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// A file could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// File path (relative to the content root).
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A required file is not there.
    #[error("{path}: missing")]
    Missing {
        /// File path (relative to the content root).
        path: String,
    },
    /// A file is there but its content is wrong.
    #[error("{path}:{line}: {message}")]
    Invalid {
        /// File path (relative to the content root).
        path: String,
        /// 1-based line number (0 when the whole file is concerned).
        line: usize,
        /// What is wrong, in plain words.
        message: String,
    },
}

impl ContentError {
    /// An [`ContentError::Invalid`] for `path` at `line`.
    pub fn invalid(path: &str, line: usize, message: impl Into<String>) -> Self {
        ContentError::Invalid {
            path: path.to_string(),
            line,
            message: message.into(),
        }
    }

    /// Turns a TOML parse error into an [`ContentError::Invalid`] with the
    /// line it points at. `line_offset` is added (for front matter that
    /// starts below line 1).
    pub fn from_toml(path: &str, text: &str, err: &toml::de::Error, line_offset: usize) -> Self {
        let line = err
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(1);
        ContentError::invalid(path, line + line_offset, err.message().to_string())
    }
}

#[derive(rust_embed::Embed)]
#[folder = "content/"]
struct Embedded;

/// Where content files come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ContentSource {
    /// The copy built into the binary.
    #[default]
    Embedded,
    /// A directory laid out like `content/`.
    Dir(PathBuf),
}

impl ContentSource {
    /// Reads one file, by path relative to the content root (`en/findings.toml`).
    pub fn read(&self, rel: &str) -> Result<String, ContentError> {
        let bytes: Cow<'static, [u8]> = match self {
            ContentSource::Embedded => {
                Embedded::get(rel)
                    .ok_or_else(|| ContentError::Missing {
                        path: rel.to_string(),
                    })?
                    .data
            }
            ContentSource::Dir(root) => {
                let p = root.join(rel);
                match std::fs::read(&p) {
                    Ok(b) => Cow::Owned(b),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Err(ContentError::Missing {
                            path: rel.to_string(),
                        });
                    }
                    Err(source) => {
                        return Err(ContentError::Io {
                            path: rel.to_string(),
                            source,
                        });
                    }
                }
            }
        };
        String::from_utf8(bytes.into_owned())
            .map_err(|e| ContentError::invalid(rel, 0, format!("not UTF-8 text: {e}")))
    }

    /// Lists the files below `prefix` (relative paths with `/` separators), sorted.
    pub fn list(&self, prefix: &str) -> Result<Vec<String>, ContentError> {
        let prefix = prefix.trim_end_matches('/');
        let mut out: Vec<String> = match self {
            ContentSource::Embedded => Embedded::iter()
                .filter(|p| p.starts_with(&format!("{prefix}/")))
                .map(|p| p.into_owned())
                .collect(),
            ContentSource::Dir(root) => {
                let mut v = Vec::new();
                walk(root, &root.join(prefix), &mut v).map_err(|source| ContentError::Io {
                    path: prefix.to_string(),
                    source,
                })?;
                v
            }
        };
        out.sort();
        Ok(out)
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let rel: Vec<_> = rel.iter().map(|c| c.to_string_lossy()).collect();
            out.push(rel.join("/"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_from_locale_variables() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Lang::detect(env(&[("LANG", "ja_JP.UTF-8")])), Lang::Ja);
        assert_eq!(
            Lang::detect(env(&[("LC_ALL", "en_US.UTF-8"), ("LANG", "ja_JP.UTF-8")])),
            Lang::En
        );
        assert_eq!(Lang::detect(env(&[("LANG", "C.UTF-8")])), Lang::En);
        assert_eq!(Lang::parse("JA"), Some(Lang::Ja));
        assert_eq!(Lang::parse("fr"), None);
    }

    #[test]
    fn toml_errors_carry_the_line() {
        let text = "a = 1\nb = = 2\n";
        let err = toml::from_str::<toml::Table>(text).unwrap_err();
        let e = ContentError::from_toml("x.toml", text, &err, 0);
        assert!(e.to_string().starts_with("x.toml:2:"), "{e}");
    }

    #[test]
    fn directory_source_reads_and_lists() {
        let dir = std::env::temp_dir().join(format!("fd-content-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("en/guide")).unwrap();
        std::fs::write(dir.join("en/guide/a.md"), "hello").unwrap();
        let src = ContentSource::Dir(dir.clone());
        assert_eq!(src.read("en/guide/a.md").unwrap(), "hello");
        assert_eq!(src.list("en/guide").unwrap(), vec!["en/guide/a.md"]);
        assert!(matches!(
            src.read("en/none.md"),
            Err(ContentError::Missing { .. })
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
