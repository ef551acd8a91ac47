//! `check` and `report`: gather facts about this computer (or take the one a
//! user describes with `--os/--browser`), probe the key(s), and print the
//! verdict or a help-desk report.

use std::process::ExitCode;

use anyhow::Context;
use fido_doctor::content::compat::{BrowserId, OsFamily};
use fido_doctor::content::ui::UiText;
use fido_doctor::content::{ContentSource, Lang};
use fido_doctor::ctap::probe::platform;
use fido_doctor::diagnose::{self, DiagnosisContent, KeyFacts, RealSystem, Report};
use fido_doctor::transport::hid::HidKeyInfo;
use fido_doctor::transport::{DeviceSpec, TransportError, hid, pcsc};

use super::keys::run_check_probe;
use super::pin::PinInput;
use super::webauthn;
use crate::cli::{CheckArgs, DescribedComputer, ReportArgs, ReportFormat};

fn exit(report: &Report) -> ExitCode {
    ExitCode::from(u8::try_from(report.exit_code()).unwrap_or(2))
}

/// Probes the chosen device, or every attached key when none is chosen
/// (through the WebAuthn API when `hid_closed`: Windows without
/// administrator rights). A key that cannot be opened becomes a fact too
/// (nothing at that address, permission denied, address in use…).
fn probe_keys(
    device: Option<&str>,
    attached: &[HidKeyInfo],
    nfc_keys: Vec<String>,
    hid_closed: bool,
    pin: PinInput,
    progress: bool,
    content: &DiagnosisContent,
) -> anyhow::Result<Vec<KeyFacts>> {
    let targets: Vec<String> = match device {
        Some(d) if platform::is_device(d) => vec![platform::DEVICE.to_string()],
        Some(d) => {
            d.parse::<DeviceSpec>()?;
            vec![d.to_string()]
        }
        None => {
            let usb: Vec<String> = attached.iter().map(|k| k.spec()).collect();
            let os_api = hid_closed && webauthn::available();
            fido_doctor::device::check_targets(&usb, &nfc_keys, os_api)
        }
    };
    let mut keys = Vec::new();
    for target in targets {
        if target == platform::DEVICE {
            let probe = webauthn::run(progress, &content.labels)?;
            keys.push(diagnose::platform_key::key_facts_from_platform(
                &probe,
                &content.aaguids,
            ));
            continue;
        }
        let facts = match run_check_probe(Some(&target), pin, progress, &content.labels) {
            Ok((report, stored)) => {
                let mut facts = diagnose::keys_from_probes(std::slice::from_ref(&report), content);
                if let (Some(read), Some(f)) = (stored, facts.first_mut()) {
                    f.apply_stored(read);
                }
                facts
            }
            Err(e) => match e.downcast_ref::<TransportError>() {
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

fn load_content(source: &ContentSource, lang: Lang) -> anyhow::Result<DiagnosisContent> {
    DiagnosisContent::load(source, lang).context("loading content")
}

/// The verdict: for this computer, or for the computer described with
/// `--os/--browser` (then the key, when one is named, is judged as it would
/// be there, and this computer is not looked at).
fn build_report(
    content: &DiagnosisContent,
    device: Option<&str>,
    computer: &DescribedComputer,
    pin: PinInput,
    progress: bool,
) -> anyhow::Result<Report> {
    match described(computer) {
        Some((os, browser)) => {
            let keys = match device {
                Some(_) => {
                    let attached = hid::enumerate().unwrap_or_default();
                    probe_keys(device, &attached, Vec::new(), false, pin, progress, content)?
                }
                None => Vec::new(),
            };
            Ok(diagnose::what_if_with_keys(os, browser, keys, content))
        }
        None => {
            let mut env = diagnose::gather_environment(&RealSystem);
            let nfc_chosen =
                device.is_some_and(|d| matches!(d.parse(), Ok(DeviceSpec::Pcsc { .. })));
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
                let hid_closed = env.hid.windows_elevated == Some(false);
                // A failed listing is already a fact of `env` (hid.list_error).
                let attached = hid::enumerate().unwrap_or_default();
                probe_keys(
                    device, &attached, nfc_keys, hid_closed, pin, progress, content,
                )?
            };
            Ok(diagnose::diagnose(env, keys, content))
        }
    }
}

fn described(c: &DescribedComputer) -> Option<(OsFamily, BrowserId)> {
    c.os.zip(c.browser)
}

/// `fido-doctor check`.
pub fn check(args: &CheckArgs, source: &ContentSource, lang: Lang) -> anyhow::Result<ExitCode> {
    let content = load_content(source, lang)?;
    let report = build_report(
        &content,
        args.device.device.as_deref(),
        &args.computer,
        args.pin.into(),
        !args.device.json,
    )?;
    if args.device.json {
        super::out_line(&report.to_json()?)?;
    } else {
        let ui = UiText::load(source, lang).context("loading content")?;
        super::out(&fido_doctor::tui::print::verdict_text(
            &report,
            &content.labels,
            &ui,
        ))?;
    }
    Ok(exit(&report))
}

/// `fido-doctor report`: the exit code tells the verdict, whether the
/// report goes to standard output or to a file.
pub fn report(args: &ReportArgs, source: &ContentSource, lang: Lang) -> anyhow::Result<ExitCode> {
    let content = load_content(source, lang)?;
    let mut report = build_report(
        &content,
        args.device.as_deref(),
        &args.computer,
        args.pin.into(),
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
            eprintln!(
                "{}",
                content
                    .labels
                    .fill("report.written", &[("path", &path.display())])
            );
        }
        None => super::out(&text)?,
    }
    Ok(exit(&report))
}
