//! Finding installed browsers and their versions: executables on `PATH`,
//! Snap and Flatpak packages on Linux; app bundles on macOS; well-known
//! the registry on Windows ([`super::browsers_windows`]), with well-known
//! install folders as the fallback. No network.

use std::cmp::Ordering;
use std::time::Duration;

use crate::diagnose::facts::{Browser, BrowserId, OsFamily, Packaging};
use crate::diagnose::system::System;

const SMALL: usize = 64 * 1024;
const VERSION_TIMEOUT: Duration = Duration::from_secs(3);

/// Compares dotted version strings numerically (`120.0.10` > `120.0.9`);
/// non-numeric parts compare as 0.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let parse = |s: &str| -> Vec<u64> {
        s.split(['.', '-', ' '])
            .map(|p| {
                let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().unwrap_or(0)
            })
            .collect()
    };
    crate::diagnose::browser_version::cmp_parts(&parse(a), &parse(b))
}

/// The first version-looking word (`120.0.6099.109`) in a `--version` line.
pub fn parse_version_output(text: &str) -> Option<String> {
    text.split_whitespace().find_map(|w| {
        let w = w.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let ok = w.starts_with(|c: char| c.is_ascii_digit())
            && w.contains('.')
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        ok.then(|| w.to_string())
    })
}

fn is_version_dir(name: &str) -> bool {
    name.contains('.') && name.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Finds the browsers installed for `family`'s usual layout.
pub fn find_browsers(sys: &dyn System, family: OsFamily) -> Vec<Browser> {
    match family {
        OsFamily::Linux => linux(sys),
        OsFamily::Macos => macos(sys),
        OsFamily::Windows => windows(sys),
        _ => Vec::new(),
    }
}

fn browser(id: BrowserId, version: Option<String>, packaging: Packaging, path: String) -> Browser {
    Browser {
        id,
        name: id.display_name().to_string(),
        version,
        packaging,
        path: Some(path),
    }
}

struct LinuxCandidate {
    id: BrowserId,
    exes: &'static [&'static str],
    snaps: &'static [&'static str],
    flatpak: Option<&'static str>,
}

const LINUX: &[LinuxCandidate] = &[
    LinuxCandidate {
        id: BrowserId::Chrome,
        exes: &["google-chrome", "google-chrome-stable"],
        snaps: &[],
        flatpak: Some("com.google.Chrome"),
    },
    LinuxCandidate {
        id: BrowserId::Edge,
        exes: &["microsoft-edge", "microsoft-edge-stable"],
        snaps: &[],
        flatpak: Some("com.microsoft.Edge"),
    },
    LinuxCandidate {
        id: BrowserId::Firefox,
        exes: &["firefox", "firefox-esr"],
        snaps: &["firefox"],
        flatpak: Some("org.mozilla.firefox"),
    },
    LinuxCandidate {
        id: BrowserId::Chromium,
        exes: &["chromium", "chromium-browser"],
        snaps: &["chromium"],
        flatpak: Some("org.chromium.Chromium"),
    },
    LinuxCandidate {
        id: BrowserId::Brave,
        exes: &["brave-browser", "brave"],
        snaps: &["brave"],
        flatpak: Some("com.brave.Browser"),
    },
    LinuxCandidate {
        id: BrowserId::Opera,
        exes: &["opera"],
        snaps: &["opera"],
        flatpak: None,
    },
    LinuxCandidate {
        id: BrowserId::Vivaldi,
        exes: &["vivaldi", "vivaldi-stable"],
        snaps: &[],
        flatpak: Some("com.vivaldi.Vivaldi"),
    },
];

fn linux(sys: &dyn System) -> Vec<Browser> {
    let path_dirs: Vec<String> = sys
        .env_var("PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|d| !d.is_empty())
        .map(str::to_string)
        .collect();
    let home = sys.env_var("HOME").filter(|h| !h.is_empty());
    let mut out = Vec::new();
    for c in LINUX {
        let snap = c.snaps.iter().find_map(|s| linux_snap(sys, s));
        let had_snap = snap.is_some();
        if let Some((path, version)) = snap {
            out.push(browser(c.id, version, Packaging::Snap, path));
        }
        if let Some(app) = c.flatpak {
            let mut bases = vec!["/var/lib/flatpak/app".to_string()];
            if let Some(h) = &home {
                bases.push(format!("{h}/.local/share/flatpak/app"));
            }
            if let Some(base) = bases.iter().find(|b| sys.exists(&format!("{b}/{app}"))) {
                let dir = format!("{base}/{app}");
                out.push(browser(
                    c.id,
                    flatpak_version(sys, &dir, app),
                    Packaging::Flatpak,
                    dir,
                ));
            }
        }
        // With a Snap installed, /usr/bin/NAME is usually only its launcher.
        if had_snap {
            continue;
        }
        let native = c.exes.iter().find_map(|exe| {
            path_dirs
                .iter()
                .map(|d| format!("{}/{exe}", d.trim_end_matches('/')))
                .find(|p| !p.starts_with("/snap/") && sys.exists(p))
        });
        if let Some(path) = native {
            let version = sys
                .run(&path, &["--version"], VERSION_TIMEOUT)
                .filter(|o| !o.timed_out)
                .and_then(|o| parse_version_output(&o.stdout));
            out.push(browser(c.id, version, Packaging::Native, path));
        }
    }
    out
}

fn linux_snap(sys: &dyn System, name: &str) -> Option<(String, Option<String>)> {
    let bin = format!("/snap/bin/{name}");
    let dir = format!("/snap/{name}");
    if !sys.exists(&bin) && !sys.exists(&dir) {
        return None;
    }
    let version = sys
        .read_file(&format!("{dir}/current/meta/snap.yaml"), SMALL)
        .and_then(|y| {
            y.lines().find_map(|l| {
                l.strip_prefix("version:")
                    .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
            })
        })
        .filter(|v| !v.is_empty());
    Some((bin, version))
}

fn flatpak_version(sys: &dyn System, dir: &str, app: &str) -> Option<String> {
    let files = format!("{dir}/current/active/files/share");
    [
        format!("{files}/metainfo/{app}.metainfo.xml"),
        format!("{files}/appdata/{app}.appdata.xml"),
    ]
    .iter()
    .find_map(|p| sys.read_file(p, SMALL))
    .and_then(|xml| {
        let at = xml.find("<release ")?;
        let rest = xml.get(at..)?;
        let end = rest.find('>').unwrap_or(rest.len());
        xml_attr(rest.get(..end)?, "version")
    })
}

fn xml_attr(tag: &str, name: &str) -> Option<String> {
    let key = format!("{name}=");
    let at = tag.find(&key)? + key.len();
    let rest = tag.get(at..)?;
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = rest.get(1..)?;
    let end = body.find(quote)?;
    body.get(..end).map(str::to_string)
}

const MAC_APPS: &[(&str, BrowserId)] = &[
    ("Google Chrome.app", BrowserId::Chrome),
    ("Microsoft Edge.app", BrowserId::Edge),
    ("Firefox.app", BrowserId::Firefox),
    ("Safari.app", BrowserId::Safari),
    ("Chromium.app", BrowserId::Chromium),
    ("Brave Browser.app", BrowserId::Brave),
    ("Opera.app", BrowserId::Opera),
    ("Vivaldi.app", BrowserId::Vivaldi),
];

/// `CFBundleShortVersionString` from an XML `Info.plist` (binary plists give None).
pub fn plist_short_version(plist: &str) -> Option<String> {
    let at = plist.find("<key>CFBundleShortVersionString</key>")?;
    let rest = plist.get(at..)?;
    let open = rest.find("<string>")? + "<string>".len();
    let rest = rest.get(open..)?;
    let close = rest.find("</string>")?;
    let v = rest.get(..close)?.trim();
    (!v.is_empty()).then(|| v.to_string())
}

fn macos(sys: &dyn System) -> Vec<Browser> {
    let mut roots = vec!["/Applications".to_string()];
    if let Some(h) = sys.env_var("HOME").filter(|h| !h.is_empty()) {
        roots.push(format!("{h}/Applications"));
    }
    let mut out = Vec::new();
    for (app, id) in MAC_APPS {
        if let Some(path) = roots
            .iter()
            .map(|r| format!("{r}/{app}"))
            .find(|p| sys.exists(p))
        {
            let version = sys
                .read_file(&format!("{path}/Contents/Info.plist"), SMALL)
                .and_then(|p| plist_short_version(&p));
            out.push(browser(*id, version, Packaging::Native, path));
        }
    }
    out
}

#[derive(Clone, Copy)]
enum Root {
    ProgramFiles,
    ProgramFilesX86,
    LocalAppData,
}

const WINDOWS: &[(BrowserId, &[Root], &str, &str)] = &[
    (
        BrowserId::Chrome,
        &[
            Root::ProgramFiles,
            Root::ProgramFilesX86,
            Root::LocalAppData,
        ],
        "Google\\Chrome\\Application",
        "chrome.exe",
    ),
    (
        BrowserId::Edge,
        &[Root::ProgramFilesX86, Root::ProgramFiles],
        "Microsoft\\Edge\\Application",
        "msedge.exe",
    ),
    (
        BrowserId::Firefox,
        &[Root::ProgramFiles, Root::ProgramFilesX86],
        "Mozilla Firefox",
        "firefox.exe",
    ),
    (
        BrowserId::Brave,
        &[
            Root::ProgramFiles,
            Root::ProgramFilesX86,
            Root::LocalAppData,
        ],
        "BraveSoftware\\Brave-Browser\\Application",
        "brave.exe",
    ),
    (
        BrowserId::Chromium,
        &[Root::LocalAppData],
        "Chromium\\Application",
        "chrome.exe",
    ),
    (
        BrowserId::Vivaldi,
        &[Root::LocalAppData, Root::ProgramFiles],
        "Vivaldi\\Application",
        "vivaldi.exe",
    ),
    (
        BrowserId::Opera,
        &[Root::LocalAppData, Root::ProgramFiles],
        "Programs\\Opera",
        "opera.exe",
    ),
];

/// The registry first; the install folders for what it does not name (and
/// for a version it does not give).
fn windows(sys: &dyn System) -> Vec<Browser> {
    let folders = windows_folders(sys);
    let mut out: Vec<Browser> = Vec::new();
    for r in super::browsers_windows::from_registry(sys) {
        let scanned = folders.iter().find(|b| b.id == r.id);
        let path = r.path.or_else(|| scanned.and_then(|b| b.path.clone()));
        let version = r
            .version
            .or_else(|| scanned.and_then(|b| b.version.clone()));
        let mut b = browser(r.id, version, Packaging::Native, String::new());
        b.path = path;
        out.push(b);
    }
    for b in folders {
        if !out.iter().any(|o| o.id == b.id) {
            out.push(b);
        }
    }
    out
}

fn windows_folders(sys: &dyn System) -> Vec<Browser> {
    let root = |r: Root| -> Option<String> {
        let (var, default) = match r {
            Root::ProgramFiles => ("ProgramFiles", Some("C:\\Program Files")),
            Root::ProgramFilesX86 => ("ProgramFiles(x86)", Some("C:\\Program Files (x86)")),
            Root::LocalAppData => ("LOCALAPPDATA", None),
        };
        sys.env_var(var)
            .filter(|v| !v.is_empty())
            .or_else(|| default.map(str::to_string))
            .map(|v| v.trim_end_matches('\\').to_string())
    };
    let mut out = Vec::new();
    for (id, roots, sub, exe) in WINDOWS {
        let Some(dir) = roots
            .iter()
            .filter_map(|r| root(*r))
            .map(|r| format!("{r}\\{sub}"))
            .find(|d| sys.exists(&format!("{d}\\{exe}")))
        else {
            continue;
        };
        let version = if *id == BrowserId::Firefox {
            sys.read_file(&format!("{dir}\\application.ini"), SMALL)
                .and_then(|ini| {
                    ini.lines().find_map(|l| {
                        l.trim()
                            .strip_prefix("Version=")
                            .map(|v| v.trim().to_string())
                    })
                })
        } else {
            sys.list_dir(&dir)
                .into_iter()
                .filter(|n| is_version_dir(n))
                .max_by(|a, b| compare_versions(a, b))
        };
        out.push(browser(
            *id,
            version,
            Packaging::Native,
            format!("{dir}\\{exe}"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare_versions("120.0.10", "120.0.9"), Ordering::Greater);
        assert_eq!(compare_versions("76", "76.0.0"), Ordering::Equal);
        assert_eq!(compare_versions("66.0", "121.0"), Ordering::Less);
    }

    #[test]
    fn version_output_is_parsed() {
        assert_eq!(
            parse_version_output("Google Chrome 120.0.6099.109 \n").as_deref(),
            Some("120.0.6099.109")
        );
        assert_eq!(
            parse_version_output("Mozilla Firefox 121.0").as_deref(),
            Some("121.0")
        );
        assert_eq!(parse_version_output("no version here"), None);
    }

    #[test]
    fn plist_version_is_read() {
        let p = "<dict>\n<key>CFBundleName</key>\n<string>Firefox</string>\n\
                 <key>CFBundleShortVersionString</key>\n\t<string>133.0</string>\n</dict>";
        assert_eq!(plist_short_version(p).as_deref(), Some("133.0"));
        assert_eq!(plist_short_version("bplist00..."), None);
    }

    #[test]
    fn xml_release_attribute() {
        assert_eq!(
            xml_attr("<release version='1.2' date=\"x\"", "version").as_deref(),
            Some("1.2")
        );
        assert_eq!(xml_attr("<release date=\"x\"", "version"), None);
    }
}
