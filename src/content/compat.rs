//! The OS × browser compatibility matrix (`content/compat.toml`): which
//! combinations the university's guide lists, what Microsoft's newer matrix
//! says, and whether a key can be registered there. Each source carries its
//! as-of date so the app can say where an answer comes from. A row may name
//! the oldest browser version Microsoft supports there, both as display text
//! and as a plain version number the diagnosis compares with what it finds.

use std::fmt;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{ContentError, ContentSource};

/// Path of the matrix below the content root.
pub const COMPAT_FILE: &str = "compat.toml";

/// Operating-system families, as the matrix and the environment facts name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OsFamily {
    /// Microsoft Windows.
    Windows,
    /// Apple macOS.
    Macos,
    /// Google ChromeOS.
    Chromeos,
    /// Desktop Linux.
    Linux,
    /// Apple iOS / iPadOS.
    Ios,
    /// Google Android.
    Android,
    /// Anything else (BSDs, …).
    Other,
}

impl OsFamily {
    /// Every family, in display order.
    pub const ALL: [OsFamily; 7] = [
        OsFamily::Windows,
        OsFamily::Macos,
        OsFamily::Chromeos,
        OsFamily::Linux,
        OsFamily::Ios,
        OsFamily::Android,
        OsFamily::Other,
    ];

    /// The identifier used in files and on the command line (`macos`).
    pub fn id(self) -> &'static str {
        match self {
            OsFamily::Windows => "windows",
            OsFamily::Macos => "macos",
            OsFamily::Chromeos => "chromeos",
            OsFamily::Linux => "linux",
            OsFamily::Ios => "ios",
            OsFamily::Android => "android",
            OsFamily::Other => "other",
        }
    }

    /// The usual product name (`macOS`).
    pub fn display_name(self) -> &'static str {
        match self {
            OsFamily::Windows => "Windows",
            OsFamily::Macos => "macOS",
            OsFamily::Chromeos => "ChromeOS",
            OsFamily::Linux => "Linux",
            OsFamily::Ios => "iOS",
            OsFamily::Android => "Android",
            OsFamily::Other => "other OS",
        }
    }

    /// Parses an identifier (case-insensitive; `mac`, `osx`, `win` accepted too).
    pub fn parse(s: &str) -> Option<OsFamily> {
        let s = s.trim().to_ascii_lowercase();
        Some(match s.as_str() {
            "windows" | "win" => OsFamily::Windows,
            "macos" | "mac" | "osx" | "darwin" => OsFamily::Macos,
            "chromeos" | "chrome-os" | "cros" => OsFamily::Chromeos,
            "linux" => OsFamily::Linux,
            "ios" | "ipados" => OsFamily::Ios,
            "android" => OsFamily::Android,
            "other" => OsFamily::Other,
            _ => return None,
        })
    }
}

impl fmt::Display for OsFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// Browsers the app can recognise. The matrix lists only Chrome, Edge,
/// Firefox and Safari; the others are Chromium-based browsers that no source
/// lists, which the app treats as unsupported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrowserId {
    /// Google Chrome.
    Chrome,
    /// Microsoft Edge.
    Edge,
    /// Mozilla Firefox.
    Firefox,
    /// Apple Safari.
    Safari,
    /// Chromium (the open-source build).
    Chromium,
    /// Brave.
    Brave,
    /// Opera.
    Opera,
    /// Vivaldi.
    Vivaldi,
}

impl BrowserId {
    /// Every browser, in display order.
    pub const ALL: [BrowserId; 8] = [
        BrowserId::Chrome,
        BrowserId::Edge,
        BrowserId::Firefox,
        BrowserId::Safari,
        BrowserId::Chromium,
        BrowserId::Brave,
        BrowserId::Opera,
        BrowserId::Vivaldi,
    ];

    /// The identifier used in files and on the command line (`chrome`).
    pub fn id(self) -> &'static str {
        match self {
            BrowserId::Chrome => "chrome",
            BrowserId::Edge => "edge",
            BrowserId::Firefox => "firefox",
            BrowserId::Safari => "safari",
            BrowserId::Chromium => "chromium",
            BrowserId::Brave => "brave",
            BrowserId::Opera => "opera",
            BrowserId::Vivaldi => "vivaldi",
        }
    }

    /// The product name (`Google Chrome`).
    pub fn display_name(self) -> &'static str {
        match self {
            BrowserId::Chrome => "Google Chrome",
            BrowserId::Edge => "Microsoft Edge",
            BrowserId::Firefox => "Firefox",
            BrowserId::Safari => "Safari",
            BrowserId::Chromium => "Chromium",
            BrowserId::Brave => "Brave",
            BrowserId::Opera => "Opera",
            BrowserId::Vivaldi => "Vivaldi",
        }
    }

    /// Parses an identifier (case-insensitive; `msedge`, `google-chrome` accepted too).
    pub fn parse(s: &str) -> Option<BrowserId> {
        let s = s.trim().to_ascii_lowercase();
        Some(match s.as_str() {
            "chrome" | "google-chrome" | "googlechrome" => BrowserId::Chrome,
            "edge" | "msedge" | "microsoft-edge" => BrowserId::Edge,
            "firefox" | "ff" => BrowserId::Firefox,
            "safari" => BrowserId::Safari,
            "chromium" => BrowserId::Chromium,
            "brave" => BrowserId::Brave,
            "opera" => BrowserId::Opera,
            "vivaldi" => BrowserId::Vivaldi,
            _ => return None,
        })
    }
}

impl fmt::Display for BrowserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// A yes/no answer that may also be "not applicable" or "unknown".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Support {
    /// Works (`lightning-yes`, for iPhone Lightning keys, counts as yes).
    #[serde(alias = "lightning-yes")]
    Yes,
    /// Does not work.
    No,
    /// The combination does not exist (Safari on Windows).
    Na,
    /// No source says.
    Unknown,
}

/// One source of the matrix, with the date its content reflects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompatSource {
    /// Title of the source document.
    pub title: String,
    /// Where it can be read.
    pub url: String,
    /// As-of date (`2024-05`, `2025-05-12`).
    pub as_of: String,
}

/// One OS × browser row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompatEntry {
    /// Operating system.
    pub os: OsFamily,
    /// Browser.
    pub browser: BrowserId,
    /// In the university guide's list.
    pub guide: bool,
    /// Microsoft's newer matrix: security-key sign-in works (`yes`, `no`, `na`).
    pub microsoft: Support,
    /// A new key can be registered there (`yes`, `no`, `unknown`).
    pub register: Support,
    /// USB keys.
    pub usb: Support,
    /// NFC keys.
    pub nfc: Support,
    /// Bluetooth keys.
    pub ble: Support,
    /// Oldest browser version that works, when a source names one.
    pub min_version: Option<String>,
    /// The same minimum as a plain version number (`76`, `14.1`), only where
    /// the source names a version of the browser itself; checked on load to
    /// be digits separated by single dots.
    pub min_browser_version: Option<String>,
    /// A finding id with more to say about this combination.
    pub note: Option<String>,
}

/// The whole matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompatMatrix {
    /// The university guide's list.
    pub guide: CompatSource,
    /// Microsoft's compatibility matrix.
    pub microsoft: CompatSource,
    /// All rows, in file order.
    pub entries: Vec<CompatEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    source: RawSources,
    #[serde(default)]
    entry: Vec<Spanned<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSources {
    guide: CompatSource,
    microsoft: CompatSource,
}

fn unknown() -> Support {
    Support::Unknown
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    os: OsFamily,
    browser: BrowserId,
    guide: bool,
    microsoft: Support,
    #[serde(default = "unknown")]
    register: Support,
    #[serde(default = "unknown")]
    usb: Support,
    #[serde(default = "unknown")]
    nfc: Support,
    #[serde(default = "unknown")]
    ble: Support,
    min_version: Option<String>,
    min_browser_version: Option<Spanned<String>>,
    note: Option<String>,
}

/// Most numeric parts a minimum browser version may have (`120.0.6099.109`).
const MAX_VERSION_PARTS: usize = 4;

/// Checks a `min_browser_version` value: one to four groups of at most nine
/// digits separated by single dots (`76`, `14.1`). Returns the reason when not.
fn check_min_browser_version(v: &str) -> Result<(), String> {
    let parts: Vec<&str> = v.split('.').collect();
    let plain = |p: &&str| !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit());
    if parts.len() > MAX_VERSION_PARTS || !parts.iter().all(plain) {
        return Err(format!(
            "min_browser_version {v:?} is not a version number such as \"76\" or \"14.1\" \
             (digits separated by dots, at most {MAX_VERSION_PARTS} parts)"
        ));
    }
    Ok(())
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map(|t| t.matches('\n').count() + 1)
        .unwrap_or(1)
}

impl CompatMatrix {
    /// Loads and checks `compat.toml`: every value must be one of the known
    /// words and no OS × browser pair may appear twice.
    pub fn load(src: &ContentSource) -> Result<Self, ContentError> {
        let text = src.read(COMPAT_FILE)?;
        Self::parse(&text)
    }

    /// Parses the text of `compat.toml` (errors name that file).
    pub fn parse(text: &str) -> Result<Self, ContentError> {
        let raw: RawFile =
            toml::from_str(text).map_err(|e| ContentError::from_toml(COMPAT_FILE, text, &e, 0))?;
        let mut entries: Vec<CompatEntry> = Vec::with_capacity(raw.entry.len());
        for spanned in raw.entry {
            let line = line_of(text, spanned.span().start);
            let e = spanned.into_inner();
            if entries
                .iter()
                .any(|o| o.os == e.os && o.browser == e.browser)
            {
                return Err(ContentError::invalid(
                    COMPAT_FILE,
                    line,
                    format!("{} × {} appears twice", e.os.id(), e.browser.id()),
                ));
            }
            if e.os == OsFamily::Other {
                return Err(ContentError::invalid(
                    COMPAT_FILE,
                    line,
                    "os \"other\" cannot have an entry",
                ));
            }
            let min_browser_version = match e.min_browser_version {
                Some(v) => {
                    let at = line_of(text, v.span().start);
                    let v = v.into_inner();
                    check_min_browser_version(&v)
                        .map_err(|why| ContentError::invalid(COMPAT_FILE, at, why))?;
                    Some(v)
                }
                None => None,
            };
            entries.push(CompatEntry {
                os: e.os,
                browser: e.browser,
                guide: e.guide,
                microsoft: e.microsoft,
                register: e.register,
                usb: e.usb,
                nfc: e.nfc,
                ble: e.ble,
                min_version: e.min_version.filter(|v| !v.trim().is_empty()),
                min_browser_version,
                note: e.note.filter(|v| !v.trim().is_empty()),
            });
        }
        Ok(CompatMatrix {
            guide: raw.source.guide,
            microsoft: raw.source.microsoft,
            entries,
        })
    }

    /// The row for `os` × `browser`, if the matrix has one.
    pub fn lookup(&self, os: OsFamily, browser: BrowserId) -> Option<&CompatEntry> {
        self.entries
            .iter()
            .find(|e| e.os == os && e.browser == browser)
    }

    /// The browsers the guide lists for `os`, in file order.
    pub fn guide_browsers(&self, os: OsFamily) -> Vec<BrowserId> {
        self.entries
            .iter()
            .filter(|e| e.os == os && e.guide)
            .map(|e| e.browser)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[source.guide]
title = "Guide"
url = "https://example.org/guide"
as_of = "2024-05"

[source.microsoft]
title = "Matrix"
url = "https://example.org/ms"
as_of = "2025-05-12"

[[entry]]
os = "linux"
browser = "chrome"
guide = true
microsoft = "yes"
register = "unknown"
usb = "yes"
nfc = "no"
ble = "no"

[[entry]]
os = "android"
browser = "chrome"
guide = false
microsoft = "yes"
register = "no"
min_version = "100"
min_browser_version = "100.0"
note = "combo-registration-unsupported"
"#;

    #[test]
    fn parses_sources_and_rows() {
        let m = CompatMatrix::parse(SAMPLE).unwrap();
        assert_eq!(m.guide.as_of, "2024-05");
        assert_eq!(m.microsoft.as_of, "2025-05-12");
        assert_eq!(m.entries.len(), 2);
        let a = m.lookup(OsFamily::Android, BrowserId::Chrome).unwrap();
        assert!(!a.guide);
        assert_eq!(a.microsoft, Support::Yes);
        assert_eq!(a.register, Support::No);
        assert_eq!(a.usb, Support::Unknown);
        assert_eq!(a.min_version.as_deref(), Some("100"));
        assert_eq!(a.min_browser_version.as_deref(), Some("100.0"));
        let l = m.lookup(OsFamily::Linux, BrowserId::Chrome).unwrap();
        assert_eq!(l.min_browser_version, None);
        assert_eq!(a.note.as_deref(), Some("combo-registration-unsupported"));
        assert!(m.lookup(OsFamily::Linux, BrowserId::Firefox).is_none());
        assert_eq!(m.guide_browsers(OsFamily::Linux), vec![BrowserId::Chrome]);
        assert!(m.guide_browsers(OsFamily::Android).is_empty());
    }

    #[test]
    fn unknown_word_names_the_line() {
        let bad = SAMPLE.replace("os = \"android\"", "os = \"androd\"");
        let err = CompatMatrix::parse(&bad).unwrap_err().to_string();
        let line = bad
            .lines()
            .position(|l| l.contains("androd"))
            .map(|i| i + 1)
            .unwrap();
        assert!(err.starts_with(&format!("compat.toml:{line}:")), "{err}");
    }

    #[test]
    fn duplicate_row_is_refused_with_its_line() {
        let bad = format!(
            "{SAMPLE}\n[[entry]]\nos = \"linux\"\nbrowser = \"chrome\"\nguide = false\nmicrosoft = \"no\"\n"
        );
        let err = CompatMatrix::parse(&bad).unwrap_err().to_string();
        assert!(err.contains("appears twice"), "{err}");
        let line = bad.lines().count() - 4;
        assert!(err.starts_with(&format!("compat.toml:{line}:")), "{err}");
    }

    #[test]
    fn malformed_min_browser_version_is_refused_with_its_line() {
        for bad_value in [
            "",
            "Chrome 76",
            "76.",
            ".76",
            "76..1",
            "76.0esr",
            "-1",
            "1.2.3.4.5",
            " 76",
            "1234567890",
        ] {
            let bad = SAMPLE.replace(
                "min_browser_version = \"100.0\"",
                &format!("min_browser_version = {bad_value:?}"),
            );
            let err = CompatMatrix::parse(&bad).unwrap_err().to_string();
            let line = bad
                .lines()
                .position(|l| l.starts_with("min_browser_version"))
                .map(|i| i + 1)
                .unwrap();
            assert!(
                err.starts_with(&format!("compat.toml:{line}:")),
                "{bad_value:?}: {err}"
            );
            assert!(err.contains("min_browser_version"), "{err}");
        }
        // A number instead of a string is a type error, also refused.
        let bad = SAMPLE.replace(
            "min_browser_version = \"100.0\"",
            "min_browser_version = 100",
        );
        assert!(CompatMatrix::parse(&bad).is_err());
        for good in ["76", "14.1", "1.2.3.4", "123456789"] {
            let ok = SAMPLE.replace("\"100.0\"", &format!("{good:?}"));
            let m = CompatMatrix::parse(&ok).unwrap();
            let a = m.lookup(OsFamily::Android, BrowserId::Chrome).unwrap();
            assert_eq!(a.min_browser_version.as_deref(), Some(good));
        }
    }

    #[test]
    fn missing_source_is_an_error() {
        let bad = SAMPLE.replace("[source.microsoft]", "[source.other]");
        assert!(CompatMatrix::parse(&bad).is_err());
    }

    #[test]
    fn names_parse_both_ways() {
        for os in OsFamily::ALL {
            assert_eq!(OsFamily::parse(os.id()), Some(os));
        }
        for b in BrowserId::ALL {
            assert_eq!(BrowserId::parse(b.id()), Some(b));
        }
        assert_eq!(BrowserId::parse("MSEdge"), Some(BrowserId::Edge));
        assert_eq!(OsFamily::parse("beos"), None);
    }
}
