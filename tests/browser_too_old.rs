//! A browser on this computer older than the minimum version Microsoft's
//! matrix names is reported (`browser-too-old`) with the version found and
//! the minimum; equal, newer or unreadable versions, rows without a minimum
//! and what-if checks of another computer add nothing.

use fido_doctor::content::aaguid::AaguidTable;
use fido_doctor::content::compat::CompatMatrix;
use fido_doctor::content::{ContentSource, Lang};
use fido_doctor::diagnose::{
    BrowserId, DiagnosisContent, Environment, FakeSystem, Finding, FindingId, KeyFacts, OsFamily,
    Severity, diagnose, evaluate, evaluate_combo, gather_environment, what_if, what_if_with_keys,
};

const COMPAT: &str = r#"
[source.guide]
title = "Guide"
url = "https://example.org/guide"
as_of = "2024-05"

[source.microsoft]
title = "Matrix"
url = "https://example.org/ms"
as_of = "2025-05-12"

[[entry]]
os = "windows"
browser = "chrome"
guide = true
microsoft = "yes"
register = "yes"
min_version = "Chrome 76"
min_browser_version = "76"

[[entry]]
os = "windows"
browser = "edge"
guide = true
microsoft = "yes"
register = "yes"

[[entry]]
os = "windows"
browser = "firefox"
guide = true
microsoft = "yes"
register = "yes"
min_browser_version = "66"

[[entry]]
os = "linux"
browser = "chrome"
guide = true
microsoft = "yes"
register = "unknown"

[[entry]]
os = "macos"
browser = "chrome"
guide = true
microsoft = "yes"
register = "yes"

[[entry]]
os = "macos"
browser = "safari"
guide = true
microsoft = "yes"
register = "no"
min_browser_version = "14"
"#;

fn compat() -> CompatMatrix {
    CompatMatrix::parse(COMPAT).unwrap()
}

/// An environment with these browsers and versions (None: unreadable).
fn env(os: OsFamily, browsers: &[(BrowserId, Option<&str>)]) -> Environment {
    let ids: Vec<BrowserId> = browsers.iter().map(|(b, _)| *b).collect();
    let mut e = Environment::bare(os, &ids);
    for (b, (_, v)) in e.browsers.iter_mut().zip(browsers) {
        b.version = v.map(str::to_string);
    }
    e
}

fn run(env: &Environment) -> Vec<Finding> {
    let aaguids = AaguidTable::load(&ContentSource::Embedded).unwrap();
    evaluate(env, &[], &compat(), &aaguids)
}

fn too_old(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.id == FindingId::BrowserTooOld)
        .collect()
}

fn ph<'a>(f: &'a Finding, name: &str) -> &'a str {
    f.placeholders.get(name).map(String::as_str).unwrap_or("")
}

#[test]
fn an_older_browser_is_named_with_its_version_and_the_minimum() {
    let f = run(&env(
        OsFamily::Windows,
        &[(BrowserId::Chrome, Some("75.0.3770.142"))],
    ));
    let old = too_old(&f);
    assert_eq!(old.len(), 1, "{f:?}");
    let o = old[0];
    // The only browser here cannot sign in: a real cause.
    assert_eq!(o.severity, Severity::Fail);
    assert_eq!(ph(o, "browser"), "Google Chrome");
    assert_eq!(ph(o, "version"), "75.0.3770.142");
    assert_eq!(ph(o, "min_browser_version"), "76");
    assert_eq!(ph(o, "os"), "Windows");
    assert_eq!(ph(o, "as_of"), "2025-05-12");
    // Sorted with the other failures, ahead of the combination's Ok.
    assert_eq!(f[0].severity, Severity::Fail);
}

#[test]
fn real_version_strings_below_the_minimum_are_read() {
    for (browser, version, shown) in [
        (
            BrowserId::Chrome,
            "Google Chrome 75.0.3770.142",
            "75.0.3770.142",
        ),
        (BrowserId::Firefox, "60.9.0esr", "60.9.0"),
        (BrowserId::Firefox, "65.0b12", "65.0"),
        (BrowserId::Chrome, " 9.1 ", "9.1"),
    ] {
        let f = run(&env(OsFamily::Windows, &[(browser, Some(version))]));
        let old = too_old(&f);
        assert_eq!(old.len(), 1, "{version:?}: {f:?}");
        assert_eq!(ph(old[0], "version"), shown);
    }
}

#[test]
fn equal_and_newer_versions_add_nothing() {
    for v in [
        "76",
        "76.0",
        "76.0.0.0",
        "76.0.3809.100",
        "120.0.6099.109",
        "Google Chrome 120.0.6099.109",
        "1000",
    ] {
        let f = run(&env(OsFamily::Windows, &[(BrowserId::Chrome, Some(v))]));
        assert!(too_old(&f).is_empty(), "{v:?}: {f:?}");
        assert!(f.iter().any(|f| f.id == FindingId::OkCombination));
    }
    let f = run(&env(
        OsFamily::Windows,
        &[(BrowserId::Firefox, Some("115.0esr"))],
    ));
    assert!(too_old(&f).is_empty(), "{f:?}");
}

#[test]
fn an_unknown_version_adds_nothing() {
    for v in [None, Some(""), Some("  "), Some("garbage"), Some("unknown")] {
        let f = run(&env(OsFamily::Windows, &[(BrowserId::Chrome, v)]));
        assert!(too_old(&f).is_empty(), "{v:?}: {f:?}");
        assert!(!f.iter().any(|f| f.severity == Severity::Fail), "{f:?}");
    }
}

#[test]
fn a_row_without_a_minimum_adds_nothing() {
    // Edge on Windows and Chrome on Linux have no minimum in this matrix.
    let f = run(&env(OsFamily::Windows, &[(BrowserId::Edge, Some("1.0"))]));
    assert!(too_old(&f).is_empty(), "{f:?}");
    let f = run(&env(OsFamily::Linux, &[(BrowserId::Chrome, Some("10"))]));
    assert!(too_old(&f).is_empty(), "{f:?}");
    // Chrome's Windows minimum does not apply to Chrome on macOS.
    let f = run(&env(OsFamily::Macos, &[(BrowserId::Chrome, Some("10"))]));
    assert!(too_old(&f).is_empty(), "{f:?}");
}

#[test]
fn another_current_browser_turns_the_failure_into_a_warning() {
    let sev = |browsers: &[(BrowserId, Option<&str>)]| -> Vec<(String, Severity)> {
        too_old(&run(&env(OsFamily::Windows, browsers)))
            .into_iter()
            .map(|f| (ph(f, "browser").to_string(), f.severity))
            .collect()
    };
    let chrome_old = (BrowserId::Chrome, Some("75.0"));
    assert_eq!(
        sev(&[chrome_old, (BrowserId::Firefox, Some("133.0"))]),
        [("Google Chrome".to_string(), Severity::Warn)]
    );
    // An unreadable version is not held against the other browser.
    assert_eq!(
        sev(&[chrome_old, (BrowserId::Edge, None)]),
        [("Google Chrome".to_string(), Severity::Warn)]
    );
    // Both too old: neither is an alternative.
    assert_eq!(
        sev(&[chrome_old, (BrowserId::Firefox, Some("60.0"))]),
        [
            ("Google Chrome".to_string(), Severity::Fail),
            ("Firefox".to_string(), Severity::Fail)
        ]
    );
    // A browser no source lists is no alternative.
    assert_eq!(
        sev(&[chrome_old, (BrowserId::Brave, Some("1.60"))]),
        [("Google Chrome".to_string(), Severity::Fail)]
    );
    // Safari on macOS, with and without Chrome next to it.
    let mac = |browsers: &[(BrowserId, Option<&str>)]| -> Vec<Severity> {
        too_old(&run(&env(OsFamily::Macos, browsers)))
            .into_iter()
            .map(|f| f.severity)
            .collect()
    };
    assert_eq!(
        mac(&[(BrowserId::Safari, Some("13.1.2"))]),
        [Severity::Fail]
    );
    assert_eq!(
        mac(&[
            (BrowserId::Safari, Some("13.1.2")),
            (BrowserId::Chrome, None)
        ]),
        [Severity::Warn]
    );
    assert!(mac(&[(BrowserId::Safari, Some("14.0"))]).is_empty());
}

#[test]
fn what_if_checks_of_another_computer_never_report_it() {
    for b in [BrowserId::Chrome, BrowserId::Firefox] {
        let f = evaluate_combo(OsFamily::Windows, b, &compat());
        assert!(too_old(&f).is_empty(), "{f:?}");
    }
    let en = DiagnosisContent::load(&ContentSource::Embedded, Lang::En).unwrap();
    for (os, b) in [
        (OsFamily::Windows, BrowserId::Chrome),
        (OsFamily::Windows, BrowserId::Firefox),
        (OsFamily::Macos, BrowserId::Safari),
    ] {
        let r = what_if(os, b, &en);
        assert!(
            !r.findings.iter().any(|f| f.id == FindingId::BrowserTooOld),
            "{os:?} {b:?}"
        );
        // `check --os X --browser Y --device D`: the key is judged, the
        // browser's version is not known.
        let key = KeyFacts::unknown("sim:modern");
        let r = what_if_with_keys(os, b, vec![key], &en);
        assert!(!r.findings.is_empty());
        assert!(
            !r.findings.iter().any(|f| f.id == FindingId::BrowserTooOld),
            "{os:?} {b:?}"
        );
    }
}

#[test]
fn shipped_matrix_names_only_the_browser_minimums_microsoft_gives() {
    let m = CompatMatrix::load(&ContentSource::Embedded).unwrap();
    let min = |os, b| m.lookup(os, b).and_then(|e| e.min_browser_version.clone());
    assert_eq!(
        min(OsFamily::Windows, BrowserId::Chrome).as_deref(),
        Some("76")
    );
    assert_eq!(
        min(OsFamily::Windows, BrowserId::Firefox).as_deref(),
        Some("66")
    );
    assert_eq!(
        min(OsFamily::Macos, BrowserId::Safari).as_deref(),
        Some("14")
    );
    let with_min: Vec<_> = m
        .entries
        .iter()
        .filter(|e| e.min_browser_version.is_some())
        .map(|e| (e.os, e.browser))
        .collect();
    assert_eq!(with_min.len(), 3, "{with_min:?}");
}

/// Old Chrome and Firefox in their usual Windows folders, found by the
/// browser search and judged with the shipped matrix, in both languages.
#[test]
fn gathered_old_browsers_on_windows_are_reported_in_both_languages() {
    let sys = FakeSystem::new("windows")
        .with_env("ProgramFiles", "C:\\Program Files")
        .with_file(
            "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
            "",
        )
        .with_dir("C:\\Program Files\\Google\\Chrome\\Application\\75.0.3770.142")
        .with_file("C:\\Program Files\\Mozilla Firefox\\firefox.exe", "")
        .with_file(
            "C:\\Program Files\\Mozilla Firefox\\application.ini",
            "[App]\r\nVersion=65.0.2\r\n",
        );
    let env = gather_environment(&sys);
    for lang in Lang::ALL {
        let content = DiagnosisContent::load(&ContentSource::Embedded, lang).unwrap();
        let r = diagnose(env.clone(), Vec::new(), &content);
        let old: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.id == FindingId::BrowserTooOld)
            .collect();
        assert_eq!(old.len(), 2, "{lang}: {:?}", r.findings);
        for (f, (version, min)) in old.iter().zip([("75.0.3770.142", "76"), ("65.0.2", "66")]) {
            assert_eq!(f.severity, Severity::Fail);
            assert_ne!(f.title, "browser-too-old", "{lang}: no text");
            for text in [&f.title, &f.explain, &f.fix] {
                assert!(
                    !text.contains('{'),
                    "{lang}: unfilled placeholder in {text}"
                );
            }
            assert!(f.title.contains(version), "{lang}: {}", f.title);
            assert!(f.explain.contains(version), "{lang}: {}", f.explain);
            assert!(
                f.explain.contains(&format!(" {min} ")),
                "{lang}: {}",
                f.explain
            );
            assert_eq!(f.guide_step.as_deref(), Some("compat-list"));
        }
        assert_eq!(r.exit_code(), 2, "{lang}");
    }
}
