//! Browsers on Windows from the registry: the executable from "App Paths"
//! (per user, then per machine), the version and install folder from the
//! uninstall entries (64-bit, 32-bit and per-user). The folder scan in
//! [`super::browsers`] covers what the registry does not name. Reads go
//! through [`System`], so this is tested with a fake registry anywhere.

use crate::diagnose::facts::BrowserId;
use crate::diagnose::system::System;

const APP_PATHS: &str = "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\App Paths";
const UNINSTALL_ROOTS: [&str; 3] = [
    "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
    "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
    "HKCU\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
];

/// Most uninstall entries looked at per root.
const MAX_ENTRIES: usize = 2048;

/// One browser as the registry describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryBrowser {
    /// Which browser.
    pub id: BrowserId,
    /// Full path of the executable, when known.
    pub path: Option<String>,
    /// DisplayVersion of its uninstall entry.
    pub version: Option<String>,
}

/// The executable name and how its uninstall entry's DisplayName starts.
pub(super) const KNOWN: &[(BrowserId, &str, &[&str])] = &[
    (BrowserId::Chrome, "chrome.exe", &["Google Chrome"]),
    (BrowserId::Edge, "msedge.exe", &["Microsoft Edge"]),
    (BrowserId::Firefox, "firefox.exe", &["Mozilla Firefox"]),
    (BrowserId::Brave, "brave.exe", &["Brave"]),
    (BrowserId::Vivaldi, "vivaldi.exe", &["Vivaldi"]),
    (BrowserId::Opera, "opera.exe", &["Opera Stable", "Opera"]),
    (BrowserId::Chromium, "chromium.exe", &["Chromium"]),
];

/// An uninstall entry worth keeping.
struct Entry {
    name: String,
    version: Option<String>,
    location: Option<String>,
}

fn uninstall_entries(sys: &dyn System) -> Vec<Entry> {
    let mut out = Vec::new();
    for root in UNINSTALL_ROOTS {
        for sub in sys.registry_subkeys(root).into_iter().take(MAX_ENTRIES) {
            let key = format!("{root}\\{sub}");
            let Some(name) = sys.registry_value(&key, "DisplayName") else {
                continue;
            };
            let nonempty =
                |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
            out.push(Entry {
                name,
                version: nonempty(sys.registry_value(&key, "DisplayVersion")),
                location: nonempty(sys.registry_value(&key, "InstallLocation")),
            });
        }
    }
    out
}

/// The App Paths entry of `exe` (quotes removed), per user first.
fn app_path(sys: &dyn System, exe: &str) -> Option<String> {
    ["HKCU", "HKLM"].iter().find_map(|root| {
        sys.registry_value(&format!("{root}\\{APP_PATHS}\\{exe}"), "")
            .map(|p| p.trim().trim_matches('"').to_string())
            .filter(|p| !p.is_empty())
    })
}

/// The browsers the registry names, in [`KNOWN`] order.
pub fn from_registry(sys: &dyn System) -> Vec<RegistryBrowser> {
    let entries = uninstall_entries(sys);
    let mut out = Vec::new();
    for (id, exe, names) in KNOWN {
        // "Brave" must not match "Bravely…": the name is the whole word.
        let entry = entries.iter().find(|e| {
            names.iter().any(|n| {
                e.name == *n
                    || e.name
                        .strip_prefix(n)
                        .is_some_and(|rest| rest.starts_with([' ', '(']))
            })
        });
        let path = app_path(sys, exe).or_else(|| {
            entry
                .and_then(|e| e.location.as_deref())
                .map(|dir| format!("{}\\{exe}", dir.trim_end_matches('\\')))
        });
        if path.is_none() && entry.is_none() {
            continue;
        }
        out.push(RegistryBrowser {
            id: *id,
            path,
            version: entry.and_then(|e| e.version.clone()),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::system::FakeSystem;

    const UN: &str = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall";
    const UN32: &str = "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall";

    #[test]
    fn app_paths_and_uninstall_entries_give_path_and_version() {
        let sys = FakeSystem::new("windows")
            .with_registry(
                &format!("HKLM\\{APP_PATHS}\\chrome.exe"),
                "",
                "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\"",
            )
            .with_registry(
                &format!("{UN}\\Google Chrome"),
                "DisplayName",
                "Google Chrome",
            )
            .with_registry(
                &format!("{UN}\\Google Chrome"),
                "DisplayVersion",
                "131.0.6778.86",
            )
            .with_registry(
                &format!("{UN32}\\Microsoft Edge"),
                "DisplayName",
                "Microsoft Edge",
            )
            .with_registry(
                &format!("{UN32}\\Microsoft Edge"),
                "DisplayVersion",
                "131.0.2903.70",
            )
            .with_registry(
                &format!("{UN32}\\Microsoft Edge"),
                "InstallLocation",
                "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\",
            )
            .with_registry(
                &format!("{UN}\\Mozilla Firefox 133.0 (x64 ja)"),
                "DisplayName",
                "Mozilla Firefox (x64 ja)",
            )
            .with_registry(
                &format!("{UN}\\Mozilla Firefox 133.0 (x64 ja)"),
                "DisplayVersion",
                "133.0",
            )
            .with_registry(&format!("{UN}\\Bravely"), "DisplayName", "Bravely Default");
        let found = from_registry(&sys);
        assert_eq!(
            found,
            vec![
                RegistryBrowser {
                    id: BrowserId::Chrome,
                    path: Some("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe".into()),
                    version: Some("131.0.6778.86".into()),
                },
                RegistryBrowser {
                    id: BrowserId::Edge,
                    path: Some(
                        "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe".into()
                    ),
                    version: Some("131.0.2903.70".into()),
                },
                RegistryBrowser {
                    id: BrowserId::Firefox,
                    path: None,
                    version: Some("133.0".into()),
                },
            ]
        );
    }

    #[test]
    fn an_empty_registry_names_nothing() {
        assert!(from_registry(&FakeSystem::new("windows")).is_empty());
        assert!(from_registry(&FakeSystem::new("linux")).is_empty());
    }

    #[test]
    fn the_folder_scan_fills_in_what_the_registry_does_not_name() {
        use crate::diagnose::facts::OsFamily;
        use crate::diagnose::gather::browsers::find_browsers;
        let sys = FakeSystem::new("windows")
            .with_env("ProgramFiles", "C:\\Program Files")
            .with_registry(
                &format!("HKCU\\{APP_PATHS}\\chrome.exe"),
                "",
                "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
            )
            .with_file(
                "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
                "",
            )
            .with_dir("C:\\Program Files\\Google\\Chrome\\Application\\130.0.1.2")
            .with_file("C:\\Program Files\\Mozilla Firefox\\firefox.exe", "")
            .with_file(
                "C:\\Program Files\\Mozilla Firefox\\application.ini",
                "[App]\nVersion=128.5.0\n",
            );
        let found = find_browsers(&sys, OsFamily::Windows);
        let ids: Vec<BrowserId> = found.iter().map(|b| b.id).collect();
        assert_eq!(ids, [BrowserId::Chrome, BrowserId::Firefox]);
        assert_eq!(found[0].version.as_deref(), Some("130.0.1.2"));
        assert_eq!(
            found[0].path.as_deref(),
            Some("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe")
        );
        assert_eq!(found[1].version.as_deref(), Some("128.5.0"));
    }
}
