//! The diagnosis report: facts, findings rendered in one language, summary
//! and exit code; as JSON (schema in `docs/report-schema.md`) or Markdown for
//! a help-desk ticket, optionally redacted. No PIN ever appears in it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::content::Lang;
use crate::content::findings::{FindingText, FindingTexts};

use super::facts::Environment;
use super::findings::{Finding, FindingId, Severity};
use super::keys::{KeyFacts, PinState, Protocol};

/// Version of the JSON layout; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Exit code when nothing needs attention.
pub const EXIT_OK: i32 = 0;
/// Exit code when there are warnings but no failures.
pub const EXIT_WARN: i32 = 1;
/// Exit code when something fails.
pub const EXIT_FAIL: i32 = 2;

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
    /// Process exit code for this report (0 ok, 1 warnings, 2 failures).
    pub exit_code: i32,
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

/// The texts of `f` in `texts`' language with its placeholders filled; a
/// `{model}`, `{browser}` or `{os}` the rules could not name reads "this
/// key", "the browser", "this computer" in that language.
pub fn render_finding(f: &Finding, texts: &FindingTexts) -> Option<FindingText> {
    let ja = texts.lang() == Lang::Ja;
    let mut values = f.placeholders.clone();
    let mut defaults = Vec::new();
    for (name, en, jp) in [
        ("model", "this key", "このキー"),
        ("browser", "the browser", "ブラウザ"),
        ("os", "this computer", "このコンピュータ"),
    ] {
        if !values.contains_key(name) {
            values.insert(name.to_string(), if ja { jp } else { en }.to_string());
            defaults.push(en);
        }
    }
    let mut text = texts.render(f.id.as_str(), &values)?;
    for d in defaults {
        for part in [&mut text.title, &mut text.explain, &mut text.fix] {
            *part = capitalise_at_sentence_start(part, d);
        }
    }
    Some(text)
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
        out.push_str(&rest[..at]);
        out.push_str(if opens { &capital } else { phrase });
        rest = &rest[at + phrase.len()..];
    }
    out.push_str(rest);
    out
}

impl Report {
    /// Renders `findings` with `texts` (a finding without text keeps its id
    /// as title) and assembles the report.
    pub fn build(
        environment: Environment,
        keys: Vec<KeyFacts>,
        findings: &[Finding],
        texts: &FindingTexts,
    ) -> Report {
        let mut summary = Summary::default();
        let rendered: Vec<ReportFinding> = findings
            .iter()
            .map(|f| {
                match f.severity {
                    Severity::Ok => summary.ok += 1,
                    Severity::Info => summary.info += 1,
                    Severity::Warn => summary.warn += 1,
                    Severity::Fail => summary.fail += 1,
                }
                let text = render_finding(f, texts);
                let guide_step = f.guide_step.clone().or_else(|| {
                    text.as_ref()
                        .and_then(|t| t.guide_step().map(str::to_string))
                });
                let (title, explain, fix) = match text {
                    Some(t) => (t.title, t.explain, t.fix),
                    None => (f.id.as_str().to_string(), String::new(), String::new()),
                };
                ReportFinding {
                    id: f.id,
                    severity: f.severity,
                    title,
                    explain,
                    fix,
                    guide_step,
                    placeholders: f.placeholders.clone(),
                }
            })
            .collect();
        Report {
            schema_version: SCHEMA_VERSION,
            generated_by: GeneratedBy::default(),
            lang: texts.lang().code().to_string(),
            redacted: false,
            environment,
            keys,
            findings: rendered,
            summary,
            exit_code: exit_code_for(findings),
        }
    }

    /// 0 when all is well, 1 with warnings, 2 with failures.
    pub fn exit_code(&self) -> i32 {
        self.exit_code
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// Removes what identifies the user or the machine: key serial numbers,
    /// device paths and addresses, and user names in paths (home folders).
    pub fn redact(&mut self) {
        let mut swaps: Vec<(String, String)> = Vec::new();
        for (i, k) in self.keys.iter_mut().enumerate() {
            if let Some(s) = k.serial.take()
                && !s.is_empty()
            {
                swaps.push((s, "<serial>".to_string()));
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

    /// Markdown for pasting into a help-desk ticket, labels in the report's language.
    pub fn to_markdown(&self) -> String {
        let ja = Lang::parse(&self.lang) == Some(Lang::Ja);
        let l = |en: &'static str, jp: &'static str| if ja { jp } else { en };
        let mut md = String::new();
        md.push_str(&format!(
            "# {} ({} {})\n\n",
            l("Security key diagnosis", "セキュリティキー診断"),
            self.generated_by.name,
            self.generated_by.version
        ));
        let s = &self.summary;
        md.push_str(&format!(
            "**{}:** FAIL {} · WARN {} · INFO {} · OK {}  \n**{}:** {}\n\n",
            l("Summary", "概要"),
            s.fail,
            s.warn,
            s.info,
            s.ok,
            l("Exit code", "終了コード"),
            self.exit_code
        ));

        md.push_str(&format!("## {}\n\n", l("Computer", "コンピュータ")));
        let os = &self.environment.os;
        let mut os_line = os.family.display_name().to_string();
        let extra: Vec<&str> = [
            os.name.as_deref(),
            os.version.as_deref(),
            os.arch.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !extra.is_empty() {
            os_line.push_str(&format!(" ({})", extra.join(", ")));
        }
        md.push_str(&format!("- OS: {os_line}\n"));
        let ses = &self.environment.session;
        let mut kinds: Vec<String> = Vec::new();
        if ses.ssh {
            kinds.push("SSH".into());
        }
        if ses.rdp {
            kinds.push("Remote Desktop".into());
        }
        if ses.wsl {
            kinds.push("WSL".into());
        }
        if ses.container {
            kinds.push(l("container", "コンテナ").into());
        }
        if let Some(vm) = &ses.vm {
            kinds.push(format!("VM ({vm})"));
        }
        if kinds.is_empty() {
            kinds.push(l("local", "ローカル").into());
        }
        md.push_str(&format!(
            "- {}: {}\n",
            l("Session", "セッション"),
            kinds.join(", ")
        ));
        let browsers: Vec<String> = self
            .environment
            .browsers
            .iter()
            .map(|b| {
                let mut s = b.name.clone();
                if let Some(v) = &b.version {
                    s.push(' ');
                    s.push_str(v);
                }
                if b.packaging.is_sandboxed() {
                    s.push_str(&format!(" ({})", b.packaging.display_name()));
                }
                s
            })
            .collect();
        md.push_str(&format!(
            "- {}: {}\n",
            l("Browsers", "ブラウザ"),
            if browsers.is_empty() {
                l("none found", "見つかりません").to_string()
            } else {
                browsers.join(", ")
            }
        ));
        let hid = &self.environment.hid;
        if hid.hidraw_total > 0 {
            md.push_str(&format!(
                "- hidraw: {} / FIDO {} / {} {}\n",
                hid.hidraw_total,
                hid.hidraw_fido,
                l("not accessible", "アクセス不可"),
                hid.hidraw_fido_unreadable.len()
            ));
        }
        if let Some(e) = hid.windows_elevated {
            md.push_str(&format!(
                "- {}: {}\n",
                l("Administrator", "管理者"),
                yes_no(e, ja)
            ));
        }
        md.push('\n');

        md.push_str(&format!("## {}\n\n", l("Findings", "診断結果")));
        for f in &self.findings {
            md.push_str(&format!(
                "### [{}] {}\n\n",
                f.severity.as_str().to_uppercase(),
                f.title
            ));
            if !f.explain.trim().is_empty() {
                md.push_str(f.explain.trim());
                md.push_str("\n\n");
            }
            if !f.fix.trim().is_empty() {
                md.push_str(&format!("**{}:** {}\n\n", l("Fix", "対処"), f.fix.trim()));
            }
            md.push_str(&format!("`{}`\n\n", f.id));
        }

        md.push_str(&format!("## {}\n\n", l("Keys", "キー")));
        if self.keys.is_empty() {
            md.push_str(l(
                "No key was probed.\n\n",
                "キーは検査されていません。\n\n",
            ));
        }
        for (i, k) in self.keys.iter().enumerate() {
            md.push_str(&format!(
                "### {} {}: {}\n\n",
                l("Key", "キー"),
                i + 1,
                k.display_name()
            ));
            md.push_str(&key_markdown(k, ja));
            md.push('\n');
        }
        md
    }
}

fn yes_no(b: bool, ja: bool) -> &'static str {
    match (b, ja) {
        (true, false) => "yes",
        (false, false) => "no",
        (true, true) => "はい",
        (false, true) => "いいえ",
    }
}

fn key_markdown(k: &KeyFacts, ja: bool) -> String {
    let l = |en: &'static str, jp: &'static str| if ja { jp } else { en };
    let mut rows: Vec<(String, String)> = vec![(l("Device", "デバイス").into(), k.device.clone())];
    if let Some(p) = &k.product {
        rows.push((l("Product", "製品").into(), p.clone()));
    }
    if let Some(id) = &k.usb_id {
        rows.push(("USB ID".into(), id.clone()));
    }
    if let Some(p) = k.protocol {
        let proto = match p {
            Protocol::Fido2 => "FIDO2",
            Protocol::U2fOnly => l("U2F only", "U2F のみ"),
        };
        let v = if k.versions.is_empty() {
            proto.to_string()
        } else {
            format!("{proto} ({})", k.versions.join(", "))
        };
        rows.push((l("Protocol", "プロトコル").into(), v));
    }
    if let Some(a) = &k.aaguid {
        rows.push(("AAGUID".into(), a.clone()));
    }
    if let Some(e) = k.eligible {
        rows.push((
            l("Entra attestation list", "Entra 証明書リスト").into(),
            yes_no(e, ja).into(),
        ));
    }
    if let Some(fw) = &k.firmware {
        rows.push((l("Firmware", "ファームウェア").into(), fw.clone()));
    }
    if let Some(p) = k.client_pin {
        let s = match p {
            PinState::Unsupported => l("not supported", "非対応"),
            PinState::NotSet => l("not set", "未設定"),
            PinState::Set => l("set", "設定済み"),
        };
        let s = match k.pin_retries {
            Some(r) => format!("{s} ({} {r})", l("tries left:", "残り回数:")),
            None => s.to_string(),
        };
        rows.push(("PIN".into(), s));
    }
    if let Some(rk) = k.rk {
        let mut s = yes_no(rk, ja).to_string();
        if let Some(n) = k.rk_remaining {
            s.push_str(&format!(" ({} {n})", l("free slots:", "空き:")));
        }
        rows.push((l("Discoverable credentials", "パスキー保存").into(), s));
    }
    if let Some(h) = k.hmac_secret {
        rows.push(("hmac-secret".into(), yes_no(h, ja).into()));
    }
    for (label, step) in [
        (l("Test registration", "テスト登録"), &k.registration),
        (l("Test sign-in", "テストサインイン"), &k.sign_in),
    ] {
        if let Some(s) = step {
            let mut v = if s.ok {
                "OK".to_string()
            } else {
                "NG".to_string()
            };
            if let Some(ms) = s.millis {
                v.push_str(&format!(" ({ms} ms)"));
            }
            if let Some(e) = &s.error {
                v.push_str(&format!(": {e}"));
            }
            rows.push((label.into(), v));
        }
    }
    if let Some(v) = k.attestation_verified {
        let fmt = k.attestation_format.as_deref().unwrap_or("?");
        rows.push((
            l("Attestation verified", "構成証明の検証").into(),
            format!("{} ({fmt})", yes_no(v, ja)),
        ));
    }
    if let Some(f) = &k.failure {
        rows.push((
            l("Probe stopped", "検査中断").into(),
            format!("{} [{}]: {}", f.stage, kebab(&f.kind), f.detail),
        ));
    }
    rows.iter().map(|(a, b)| format!("- {a}: {b}\n")).collect()
}

fn kebab<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
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
