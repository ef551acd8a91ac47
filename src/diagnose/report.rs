//! The diagnosis report: facts, findings rendered in one language, summary
//! and exit code; as JSON (schema in `docs/report-schema.md`) or Markdown for
//! a help-desk ticket (see [`super::markdown`]), optionally redacted. No PIN
//! ever appears in it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::content::ContentSource;
use crate::content::failures::{FailureOutcome, FailureSeverity, FailureTable};
use crate::content::findings::{FindingText, FindingTexts};
use crate::content::text::Texts;

use super::facts::Environment;
use super::findings::{Finding, FindingId, Severity};
use super::keys::KeyFacts;

/// Version of the JSON layout; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Exit code when nothing needs attention.
pub const EXIT_OK: i32 = 0;
/// Exit code when there are warnings but no failures.
pub const EXIT_WARN: i32 = 1;
/// Exit code when something fails.
pub const EXIT_FAIL: i32 = 2;
/// Exit code when the check could not run (cancelled, no PIN prompt, key hung…).
pub const EXIT_COULD_NOT_RUN: i32 = 3;
/// Exit code for a usage error (bad arguments), as in BSD's sysexits.
pub const EXIT_USAGE: i32 = 64;

/// The program that wrote the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedBy {
    /// Tool name.
    pub name: String,
    /// Tool version.
    pub version: String,
}

impl Default for GeneratedBy {
    fn default() -> Self {
        GeneratedBy {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// A finding with its advice text in the report's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportFinding {
    /// Finding id.
    pub id: FindingId,
    /// Severity.
    pub severity: Severity,
    /// Title (placeholders filled).
    pub title: String,
    /// Explanation.
    pub explain: String,
    /// What to do.
    pub fix: String,
    /// Guide step that helps, if any.
    pub guide_step: Option<String>,
    /// Title of that guide step, as students see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guide_title: Option<String>,
    /// The probe's failure code, when the finding reports a stopped check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// For a stopped check: the key failed, or the check could not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<FailureOutcome>,
    /// The placeholder values used.
    pub placeholders: BTreeMap<String, String>,
}

/// Count of findings per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Ok findings.
    pub ok: usize,
    /// Info findings.
    pub info: usize,
    /// Warnings.
    pub warn: usize,
    /// Failures.
    pub fail: usize,
}

/// A complete diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Tool name and version.
    pub generated_by: GeneratedBy,
    /// Language of the texts (`en`, `ja`).
    pub lang: String,
    /// Whether [`Report::redact`] was applied.
    pub redacted: bool,
    /// The computer.
    pub environment: Environment,
    /// The keys probed.
    pub keys: Vec<KeyFacts>,
    /// Findings, most severe first.
    pub findings: Vec<ReportFinding>,
    /// Counts per severity.
    pub summary: Summary,
    /// Process exit code for this report (0 ok, 1 warnings, 2 failures,
    /// 3 could not run).
    pub exit_code: i32,
    /// Labels of the Markdown form, in the report's language.
    #[serde(skip)]
    pub labels: Texts,
}

/// Exit code for a set of findings: 2 with any failure, 1 with any warning, else 0.
pub fn exit_code_for(findings: &[Finding]) -> i32 {
    let worst = findings.iter().map(|f| f.severity).max();
    match worst {
        Some(Severity::Fail) => EXIT_FAIL,
        Some(Severity::Warn) => EXIT_WARN,
        _ => EXIT_OK,
    }
}

/// Exit code for rendered findings: 2 when something fails (a stopped check
/// that could not run does not count as a failure of the key), else 3 when a
/// check could not run, else 1 with any warning, else 0.
pub fn exit_code_for_report(findings: &[ReportFinding]) -> i32 {
    let could_not_run = |f: &&ReportFinding| f.outcome == Some(FailureOutcome::CouldNotRun);
    if findings
        .iter()
        .any(|f| f.severity == Severity::Fail && !could_not_run(&f))
    {
        EXIT_FAIL
    } else if findings.iter().any(|f| could_not_run(&f)) {
        EXIT_COULD_NOT_RUN
    } else if findings.iter().any(|f| f.severity == Severity::Warn) {
        EXIT_WARN
    } else {
        EXIT_OK
    }
}

fn severity_of(s: FailureSeverity) -> Severity {
    match s {
        FailureSeverity::Ok => Severity::Ok,
        FailureSeverity::Info => Severity::Info,
        FailureSeverity::Warn => Severity::Warn,
        FailureSeverity::Fail => Severity::Fail,
    }
}

/// "the key did not answer" → "The key did not answer." (a reason written to
/// follow "Reason:" as a sentence of its own).
pub fn as_sentence(reason: &str) -> String {
    let r = reason.trim();
    let mut out: String = match r.chars().next() {
        Some(c) => c.to_uppercase().chain(r.chars().skip(1)).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?', '。', ')', '）']) {
        let wide = out
            .chars()
            .last()
            .is_some_and(|c| unicode_width::UnicodeWidthChar::width(c) == Some(2));
        out.push(if wide { '。' } else { '.' });
    }
    out
}

/// Everything a report is rendered with, in one language.
#[derive(Debug, Clone, Copy)]
pub struct ReportTexts<'a> {
    /// Advice per finding id.
    pub findings: &'a FindingTexts,
    /// Words per failure code.
    pub failures: &'a FailureTable,
    /// Guide page titles by id.
    pub guide_titles: &'a BTreeMap<String, String>,
    /// Labels.
    pub labels: &'a Texts,
}

/// The texts of `f` in `texts`' language with its placeholders filled; a
/// `{model}`, `{browser}` or `{os}` the rules could not name reads "this
/// key", "the browser", "this computer" in that language.
pub fn render_finding(f: &Finding, texts: &FindingTexts) -> Option<FindingText> {
    let labels = Texts::embedded(texts.lang());
    let values = with_defaults(f, &labels);
    let mut text = texts.render(f.id.as_str(), &values)?;
    capitalise_defaults(
        f,
        &labels,
        [&mut text.title, &mut text.explain, &mut text.fix],
    );
    Some(text)
}

const DEFAULT_PLACEHOLDERS: [(&str, &str); 4] = [
    ("model", "report.default_model"),
    ("browser", "report.default_browser"),
    ("os", "report.default_os"),
    ("services", "report.default_services"),
];

/// The finding's placeholder values plus "this key", "the browser", "this
/// computer" (in the labels' language) for the ones the rules could not name.
fn with_defaults(f: &Finding, labels: &Texts) -> BTreeMap<String, String> {
    let mut values = f.placeholders.clone();
    for (name, key) in DEFAULT_PLACEHOLDERS {
        values
            .entry(name.to_string())
            .or_insert_with(|| labels.get(key));
    }
    values
}

fn capitalise_defaults<const N: usize>(f: &Finding, labels: &Texts, parts: [&mut String; N]) {
    let defaults: Vec<String> = DEFAULT_PLACEHOLDERS
        .iter()
        .filter(|(name, _)| !f.placeholders.contains_key(*name))
        .map(|(_, key)| labels.get(key))
        .collect();
    for part in parts {
        for d in &defaults {
            *part = capitalise_at_sentence_start(part, d);
        }
    }
}

/// "this key is old. this key…" → "This key is old. This key…": a default
/// placeholder value that opens a sentence gets a capital letter.
fn capitalise_at_sentence_start(text: &str, phrase: &str) -> String {
    let mut capital = phrase.to_string();
    if let Some(first) = capital.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(phrase) {
        let before = format!("{out}{}", &rest[..at]);
        let trimmed = before.trim_end();
        let opens = trimmed.is_empty() || trimmed.ends_with(['.', '!', '?', ':', '\n']);
        let capital = if capital.is_ascii() {
            capital.as_str()
        } else {
            phrase
        };
        out.push_str(&rest[..at]);
        out.push_str(if opens { capital } else { phrase });
        rest = &rest[at + phrase.len()..];
    }
    out.push_str(rest);
    out
}

impl Report {
    /// Renders `findings` with `texts` and the built-in failure table and
    /// labels of the same language (see [`Report::build_with`]).
    pub fn build(
        environment: Environment,
        keys: Vec<KeyFacts>,
        findings: &[Finding],
        texts: &FindingTexts,
    ) -> Report {
        let lang = texts.lang();
        let failures = FailureTable::load(&ContentSource::Embedded, lang)
            .expect("the built-in failure table loads");
        let labels = Texts::embedded(lang);
        let titles = BTreeMap::new();
        Report::build_with(
            environment,
            keys,
            findings,
            ReportTexts {
                findings: texts,
                failures: &failures,
                guide_titles: &titles,
                labels: &labels,
            },
        )
    }

    /// Renders `findings` and assembles the report. A finding that reports
    /// a stopped check takes its words, severity and outcome from the
    /// failure table; any other finding without text keeps its id as title.
    pub fn build_with(
        environment: Environment,
        keys: Vec<KeyFacts>,
        findings: &[Finding],
        texts: ReportTexts<'_>,
    ) -> Report {
        let mut rendered: Vec<ReportFinding> =
            findings.iter().map(|f| render_one(f, &texts)).collect();
        // Severities may have changed: most severe first again.
        rendered.sort_by_key(|f| std::cmp::Reverse(f.severity));
        let mut summary = Summary::default();
        for f in &rendered {
            match f.severity {
                Severity::Ok => summary.ok += 1,
                Severity::Info => summary.info += 1,
                Severity::Warn => summary.warn += 1,
                Severity::Fail => summary.fail += 1,
            }
        }
        Report {
            schema_version: SCHEMA_VERSION,
            generated_by: GeneratedBy::default(),
            lang: texts.findings.lang().code().to_string(),
            redacted: false,
            environment,
            keys,
            exit_code: exit_code_for_report(&rendered),
            findings: rendered,
            summary,
            labels: texts.labels.clone(),
        }
    }

    /// 0 when all is well, 1 with warnings, 2 with failures, 3 when a check
    /// could not run.
    pub fn exit_code(&self) -> i32 {
        self.exit_code
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// Removes what identifies the user or the machine: key serial numbers,
    /// device paths and addresses, user names in paths (home folders), and
    /// the accounts and services of the sign-ins stored on a key.
    pub fn redact(&mut self) {
        let mut swaps: Vec<(String, String)> = Vec::new();
        for (i, k) in self.keys.iter_mut().enumerate() {
            if let Some(s) = k.serial.take()
                && !s.is_empty()
            {
                swaps.push((s, "<serial>".to_string()));
            }
            if let Some(stored) = &mut k.stored {
                swaps.extend(stored.redact());
            }
            let red = redact_device(&k.device, i + 1);
            if red != k.device {
                swaps.push((std::mem::replace(&mut k.device, red.clone()), red));
            }
        }
        for (i, d) in self
            .environment
            .hid
            .hidraw_fido_unreadable
            .iter_mut()
            .enumerate()
        {
            let red = format!("<device {}>", i + 1);
            swaps.push((std::mem::replace(d, red.clone()), red));
        }
        // Longest first, so a path is replaced before any prefix of it.
        swaps.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        let scrub = |s: &str| scrub_text(s, &swaps);
        for b in &mut self.environment.browsers {
            b.path = b.path.as_deref().map(scrub);
        }
        for k in &mut self.keys {
            if let Some(f) = &mut k.failure {
                f.detail = scrub(&f.detail);
            }
            for step in [&mut k.registration, &mut k.sign_in].into_iter().flatten() {
                step.error = step.error.as_deref().map(scrub);
            }
        }
        for f in &mut self.findings {
            f.title = scrub(&f.title);
            f.explain = scrub(&f.explain);
            f.fix = scrub(&f.fix);
            for v in f.placeholders.values_mut() {
                *v = scrub(v);
            }
        }
        self.redacted = true;
    }
}

/// The text key (`exit.*` in `text.toml`) that says what an exit code means.
pub fn exit_key(code: i32) -> &'static str {
    match code {
        EXIT_OK => "exit.ok",
        EXIT_WARN => "exit.warn",
        EXIT_FAIL => "exit.fail",
        EXIT_COULD_NOT_RUN => "exit.could_not_run",
        _ => "exit.usage",
    }
}

fn render_one(f: &Finding, texts: &ReportTexts<'_>) -> ReportFinding {
    let values = with_defaults(f, texts.labels);
    let (mut title, mut explain, mut fix, severity, outcome, guide) = match &f.failure {
        Some(code) => {
            let t = texts.failures.render(code, &values);
            let guide = t.guide_step().map(str::to_string);
            (
                t.title,
                as_sentence(&t.reason),
                t.fix,
                severity_of(t.severity),
                Some(t.outcome),
                guide,
            )
        }
        None => match texts.findings.render(f.id.as_str(), &values) {
            Some(t) => {
                let guide = t.guide_step().map(str::to_string);
                (t.title, t.explain, t.fix, f.severity, None, guide)
            }
            None => (
                f.id.as_str().to_string(),
                String::new(),
                String::new(),
                f.severity,
                None,
                None,
            ),
        },
    };
    capitalise_defaults(f, texts.labels, [&mut title, &mut explain, &mut fix]);
    let guide_step = f.guide_step.clone().or(guide);
    let guide_title = guide_step
        .as_ref()
        .and_then(|g| texts.guide_titles.get(g).cloned());
    ReportFinding {
        id: f.id,
        severity,
        title,
        explain,
        fix,
        guide_step,
        guide_title,
        failure: f.failure.clone(),
        outcome,
        placeholders: f.placeholders.clone(),
    }
}

/// `hid:/dev/hidraw3` → `hid:<device 1>`; `udp:host:port` → `udp:<address>`;
/// `sim:NAME` stays (it names a built-in scenario, nothing personal).
fn redact_device(device: &str, n: usize) -> String {
    match device.split_once(':') {
        Some(("sim", _)) => device.to_string(),
        Some(("udp", _)) => "udp:<address>".to_string(),
        Some((kind, _)) => format!("{kind}:<device {n}>"),
        None => format!("<device {n}>"),
    }
}

/// Applies the swaps, then replaces user names in home-folder paths
/// (`/home/NAME`, `/Users/NAME`, `C:\Users\NAME`) with `~`.
fn scrub_text(s: &str, swaps: &[(String, String)]) -> String {
    let mut out = s.to_string();
    for (from, to) in swaps {
        if !from.is_empty() {
            out = out.replace(from.as_str(), to);
        }
    }
    for (prefix, sep) in [
        ("/home/", '/'),
        ("/Users/", '/'),
        ("/var/home/", '/'),
        ("\\Users\\", '\\'),
    ] {
        out = replace_user_segment(&out, prefix, sep);
    }
    out
}

fn replace_user_segment(s: &str, prefix: &str, sep: char) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at]);
        let after = &rest[at + prefix.len()..];
        let end = after
            .find(|c: char| c == sep || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(after.len());
        let user = &after[..end];
        if user.is_empty() || user == "~" || user == "Public" || user == "Shared" {
            out.push_str(prefix);
            out.push_str(user);
        } else {
            // Keep the path shape so the kind of install stays visible.
            out.push_str(prefix);
            out.push('~');
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_phrases_open_sentences_with_a_capital() {
        assert_eq!(
            capitalise_at_sentence_start(
                "this key is old. Then this key is slow: this key",
                "this key"
            ),
            "This key is old. Then this key is slow: This key"
        );
        assert_eq!(
            capitalise_at_sentence_start("nothing here", "this key"),
            "nothing here"
        );
    }

    #[test]
    fn home_folders_lose_the_user_name() {
        let swaps = [("/dev/hidraw3".to_string(), "<device 1>".to_string())];
        assert_eq!(
            scrub_text("/home/alice/.local/share/flatpak/app/x", &swaps),
            "/home/~/.local/share/flatpak/app/x"
        );
        assert_eq!(
            scrub_text("C:\\Users\\Bob\\AppData\\Local\\Google", &swaps),
            "C:\\Users\\~\\AppData\\Local\\Google"
        );
        assert_eq!(
            scrub_text("open /dev/hidraw3 failed", &swaps),
            "open <device 1> failed"
        );
        assert_eq!(scrub_text("/Users/Shared/x", &swaps), "/Users/Shared/x");
    }

    #[test]
    fn devices_are_redacted_by_kind() {
        assert_eq!(redact_device("hid:/dev/hidraw3", 1), "hid:<device 1>");
        assert_eq!(redact_device("udp:10.0.0.1:8111", 2), "udp:<address>");
        assert_eq!(redact_device("sim:modern", 3), "sim:modern");
    }
}
