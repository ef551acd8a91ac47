//! Browser versions against the matrix's minimum: reading the version text a
//! browser search found (`120.0.6099.109`, `115.0esr`, `Google Chrome 120.0…`)
//! into numbers ([`BrowserVersion`]), comparing it with a row's
//! `min_browser_version`, and the `browser-too-old` finding for browsers on
//! this computer that are older than Microsoft's minimum. A version that
//! cannot be read is unknown and never reported.

use std::cmp::Ordering;
use std::fmt;

use crate::content::compat::{CompatMatrix, Support};

use super::facts::{Browser, Environment};
use super::findings::{Finding, FindingId, Severity};

/// Numeric parts kept from a version; later ones never decide a minimum.
const MAX_PARTS: usize = 8;

/// A version as numbers (`17.4.1` → `[17, 4, 1]`). Missing parts count as
/// zero when comparing, so `76` equals `76.0.0`.
#[derive(Debug, Clone)]
pub struct BrowserVersion {
    parts: Vec<u64>,
}

impl BrowserVersion {
    /// Reads the first version-looking word of `text`: a word that starts with
    /// a digit (or `v` and a digit), read as digits separated by dots up to
    /// the first other character (`115.0esr` → `115.0`). None for empty text,
    /// text without such a word, or a number too large to be a version.
    pub fn parse(text: &str) -> Option<BrowserVersion> {
        text.split_whitespace().find_map(Self::parse_word)
    }

    fn parse_word(word: &str) -> Option<BrowserVersion> {
        let word = word.strip_prefix(['v', 'V']).unwrap_or(word);
        if !word.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let mut parts = Vec::new();
        for piece in word.split('.') {
            let digits_len = piece
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(piece.len());
            let digits = &piece[..digits_len];
            if digits.is_empty() {
                break;
            }
            if parts.len() < MAX_PARTS {
                parts.push(digits.parse::<u64>().ok()?);
            }
            if digits_len < piece.len() {
                // `0esr`, `0-beta`: the version ends here.
                break;
            }
        }
        Some(BrowserVersion { parts })
    }

    /// True when this version is older than `min`.
    pub fn is_below(&self, min: &BrowserVersion) -> bool {
        self.cmp(min) == Ordering::Less
    }
}

/// Compares two versions given as numeric parts, a missing part counting
/// as zero (`[76]` equals `[76, 0, 0]`).
pub fn cmp_parts(a: &[u64], b: &[u64]) -> Ordering {
    (0..a.len().max(b.len()))
        .map(|i| {
            let x = a.get(i).copied().unwrap_or(0);
            let y = b.get(i).copied().unwrap_or(0);
            x.cmp(&y)
        })
        .find(|o| *o != Ordering::Equal)
        .unwrap_or(Ordering::Equal)
}

impl Ord for BrowserVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_parts(&self.parts, &other.parts)
    }
}

impl PartialEq for BrowserVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for BrowserVersion {}

impl PartialOrd for BrowserVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for BrowserVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.parts.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// The minimum for `browser` on this OS and its found version, when both are
/// known and the found one is older.
fn too_old(
    env: &Environment,
    compat: &CompatMatrix,
    browser: &Browser,
) -> Option<(BrowserVersion, String)> {
    let min_text = compat
        .lookup(env.os.family, browser.id)?
        .min_browser_version
        .as_deref()?;
    let min = BrowserVersion::parse(min_text)?;
    let found = BrowserVersion::parse(browser.version.as_deref()?)?;
    found.is_below(&min).then(|| (found, min_text.to_string()))
}

/// One `browser-too-old` finding per browser on this computer whose version
/// is below its matrix row's minimum. It fails when no other browser here
/// can sign in (listed, and not known to be too old), and warns otherwise.
/// Browsers without a readable version, and rows without a minimum, add
/// nothing.
pub fn too_old_rules(env: &Environment, compat: &CompatMatrix, out: &mut Vec<Finding>) {
    let family = env.os.family;
    let old: Vec<Option<(BrowserVersion, String)>> = env
        .browsers
        .iter()
        .map(|b| too_old(env, compat, b))
        .collect();
    let usable_and_current = |i: usize, b: &Browser| {
        old[i].is_none()
            && compat
                .lookup(family, b.id)
                .is_some_and(|e| e.guide || e.microsoft == Support::Yes)
    };
    for (i, b) in env.browsers.iter().enumerate() {
        let Some((found, min)) = &old[i] else {
            continue;
        };
        let alternative = env
            .browsers
            .iter()
            .enumerate()
            .any(|(j, other)| j != i && usable_and_current(j, other));
        let severity = if alternative {
            Severity::Warn
        } else {
            Severity::Fail
        };
        out.push(
            Finding::new(FindingId::BrowserTooOld, severity)
                .with("os", family.display_name())
                .with("browser", b.name.clone())
                .with("version", found.to_string())
                .with("min_browser_version", min.clone())
                .with("as_of", compat.microsoft.as_of.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Option<String> {
        BrowserVersion::parse(s).map(|v| v.to_string())
    }

    #[test]
    fn real_version_strings_are_read() {
        assert_eq!(v("120.0.6099.109").as_deref(), Some("120.0.6099.109"));
        assert_eq!(v("115.0esr").as_deref(), Some("115.0"));
        assert_eq!(v("17.4.1").as_deref(), Some("17.4.1"));
        assert_eq!(
            v("Google Chrome 120.0.6099.109 ").as_deref(),
            Some("120.0.6099.109")
        );
        assert_eq!(v("Mozilla Firefox 121.0a1").as_deref(), Some("121.0"));
        assert_eq!(
            v("Chromium 120.0.6099.224 built on Debian 12.4").as_deref(),
            Some("120.0.6099.224")
        );
        assert_eq!(v("131.0.2903.70\r\n").as_deref(), Some("131.0.2903.70"));
        assert_eq!(v("v76").as_deref(), Some("76"));
        assert_eq!(v("120.").as_deref(), Some("120"));
        assert_eq!(v("120.0-beta.3").as_deref(), Some("120.0"));
        assert_eq!(
            v("1.2.3.4.5.6.7.8.9.10").as_deref(),
            Some("1.2.3.4.5.6.7.8")
        );
    }

    #[test]
    fn empty_or_garbage_is_unknown() {
        for s in [
            "",
            "   ",
            "garbage",
            "Google Chrome",
            ".5",
            "esr115",
            "\u{0}\u{fffd}",
            "99999999999999999999999.1",
        ] {
            assert_eq!(v(s), None, "{s:?}");
        }
    }

    #[test]
    fn comparison_is_numeric_and_pads_with_zeros() {
        let p = |s: &str| BrowserVersion::parse(s).unwrap();
        assert!(p("75.0.3770.142").is_below(&p("76")));
        assert!(!p("76").is_below(&p("76")));
        assert!(!p("76.0.3809.100").is_below(&p("76")));
        assert_eq!(p("76"), p("76.0.0"));
        assert_ne!(p("76"), p("76.0.1"));
        assert!(p("120.0.10") > p("120.0.9"));
        assert!(p("9.1") < p("10"));
        assert!(p("115.0esr").is_below(&p("116")));
        assert!(!p("115.0esr").is_below(&p("66")));
        assert!(p("13.1.2").is_below(&p("14")));
        assert!(!p("14.0").is_below(&p("14")));
    }
}
