//! `check` and `report`: gather facts about this computer, probe the key(s),
//! and print the verdict or a help-desk report.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use fido_doctor::content::{ContentSource, Lang};
use fido_doctor::diagnose::{self, DiagnosisContent, KeyFacts, RealSystem, Report, Severity};
use fido_doctor::transport::{DeviceSpec, TransportError, hid, pcsc};

use super::keys::run_probe;
use super::pin::PinInput;
use crate::cli::{CheckArgs, ReportArgs, ReportFormat};

fn exit(report: &Report) -> ExitCode {
    ExitCode::from(u8::try_from(report.exit_code()).unwrap_or(2))
}

/// Probes the chosen device, or every attached key when none is chosen.
/// A key that cannot be opened becomes a fact too (permission denied, gone…).
fn probe_keys(
    device: Option<&str>,
    nfc_keys: Vec<String>,
    pin: PinInput,
    progress: bool,
    content: &DiagnosisContent,
) -> anyhow::Result<Vec<KeyFacts>> {
    let attached = hid::enumerate().unwrap_or_default();
    let targets: Vec<String> = match device {
        Some(d) => {
            d.parse::<DeviceSpec>()?;
            vec![d.to_string()]
        }
        None => attached.iter().map(|k| k.spec()).chain(nfc_keys).collect(),
    };
    let mut keys = Vec::new();
    for target in targets {
        let facts = match run_probe(Some(&target), pin, progress) {
            Ok(report) => diagnose::keys_from_probes(std::slice::from_ref(&report), content),
            Err(e) => match e.downcast_ref::<TransportError>() {
                // Nothing at that address: the same as no key at all.
                Some(TransportError::NotFound(_)) => Vec::new(),
                Some(t) => vec![KeyFacts::open_failed(&target, t)],
                None => return Err(e),
            },
        };
        for mut f in facts {
            if let Some(info) = attached.iter().find(|k| k.spec() == target) {
                f.apply_hid_info(info);
            }
            keys.push(f);
        }
    }
    Ok(keys)
}

fn build_report(
    source: &ContentSource,
    lang: Lang,
    device: Option<&str>,
    pin: PinInput,
    progress: bool,
) -> anyhow::Result<Report> {
    let content = DiagnosisContent::load(source, lang).context("loading content")?;
    let mut env = diagnose::gather_environment(&RealSystem);
    let nfc_chosen = device.is_some_and(|d| matches!(d.parse(), Ok(DeviceSpec::Pcsc { .. })));
    if nfc_chosen || pcsc::BUILT {
        env.nfc = Some(diagnose::gather::nfc::gather_nfc(nfc_chosen));
    }
    // Keys lying on a reader are checked too when no device was chosen.
    let nfc_keys = env
        .nfc
        .iter()
        .flat_map(|n| &n.readers)
        .filter(|r| r.fido_applet == Some(true))
        .map(|r| r.device.clone())
        .collect();
    let keys = if nfc_chosen && !pcsc::BUILT {
        Vec::new() // nothing to probe with: the `nfc-not-built` finding says why
    } else {
        probe_keys(device, nfc_keys, pin, progress, &content)?
    };
    Ok(diagnose::diagnose(env, keys, &content))
}

fn severity_tag(s: Severity) -> &'static str {
    match s {
        Severity::Ok => "[ OK ]",
        Severity::Info => "[INFO]",
        Severity::Warn => "[WARN]",
        Severity::Fail => "[FAIL]",
    }
}

/// The verdict as plain text for a terminal.
fn describe(report: &Report) -> String {
    let mut s = String::new();
    for f in &report.findings {
        let _ = writeln!(s, "{} {}", severity_tag(f.severity), f.title);
        for line in f.explain.lines().chain(f.fix.lines()) {
            if !line.trim().is_empty() {
                let _ = writeln!(s, "       {line}");
            }
        }
        if let Some(step) = &f.guide_step {
            let _ = writeln!(s, "       guide: {step}");
        }
        s.push('\n');
    }
    let sum = &report.summary;
    let _ = writeln!(
        s,
        "{} failure(s), {} warning(s), {} note(s), {} ok; exit code {}",
        sum.fail,
        sum.warn,
        sum.info,
        sum.ok,
        report.exit_code()
    );
    s
}

/// `fido-doctor check`.
pub fn check(args: &CheckArgs, source: &ContentSource, lang: Lang) -> anyhow::Result<ExitCode> {
    let report = match (args.os, args.browser) {
        (Some(os), Some(browser)) => {
            let content = DiagnosisContent::load(source, lang).context("loading content")?;
            diagnose::what_if(os, browser, &content)
        }
        _ => build_report(
            source,
            lang,
            args.device.device.as_deref(),
            PinInput {
                stdin: args.pin_stdin,
                allow_last_attempt: args.allow_last_pin_attempt,
            },
            !args.device.json,
        )?,
    };
    if args.device.json {
        println!("{}", report.to_json()?);
    } else {
        print!("{}", describe(&report));
    }
    Ok(exit(&report))
}

/// `fido-doctor report`.
pub fn report(args: &ReportArgs, source: &ContentSource, lang: Lang) -> anyhow::Result<ExitCode> {
    let mut report = build_report(
        source,
        lang,
        args.device.as_deref(),
        PinInput {
            stdin: args.pin_stdin,
            allow_last_attempt: args.allow_last_pin_attempt,
        },
        true,
    )?;
    if args.redact {
        report.redact();
    }
    let text = match args.format {
        ReportFormat::Md => report.to_markdown(),
        ReportFormat::Json => report.to_json()? + "\n",
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("report written to {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(exit(&report))
}
