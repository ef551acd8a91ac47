//! `fido-doctor probe --device webauthn:`: the registration and sign-in
//! probe through the operating system's WebAuthn API (webauthn.dll on
//! Windows: the Windows Security dialog a browser shows), for a process
//! without the administrator rights raw HID needs.

use std::process::ExitCode;

use fido_doctor::ctap::probe::platform::{self, PlatformProbe};
use fido_doctor::ctap::probe::{ProbeEvent, Stage};

use fido_doctor::content::text::Texts;

use super::keys::describe_probe;

/// Whether `device` selects this path.
pub fn selected(device: Option<&str>) -> bool {
    device.is_some_and(platform::is_device)
}

/// Runs the probe and prints it; exit code 0 when registration and sign-in verified.
pub fn probe(json: bool, texts: &Texts) -> anyhow::Result<ExitCode> {
    let probe = run(!json, texts)?;
    if json {
        super::out_line(&serde_json::to_string_pretty(&probe)?)?;
    } else {
        super::out(&describe_probe(&probe.report, texts))?;
        let items = probe.not_available.join(", ");
        super::out_line(&texts.fill("webauthn.not_available", &[("items", &items)]))?;
        if let Some(model) = &probe.model {
            super::out_line(&texts.fill("webauthn.model", &[("model", model)]))?;
        }
    }
    let ok = probe.report.registration.is_ok() && probe.report.authentication.is_ok();
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

#[cfg_attr(not(windows), allow(dead_code))]
fn progress(e: ProbeEvent, texts: &Texts) {
    match e {
        ProbeEvent::Stage(Stage::Register) => eprintln!("{}", texts.get("webauthn.register")),
        ProbeEvent::Stage(Stage::Authenticate) => eprintln!("{}", texts.get("webauthn.signin")),
        ProbeEvent::StageDone { ok, elapsed, .. } => {
            let key = if ok {
                "progress.done"
            } else {
                "progress.failed"
            };
            eprintln!("{}", texts.fill(key, &[("ms", &elapsed.as_millis())]));
        }
        _ => {}
    }
}

/// Whether the OS's WebAuthn API can be used here (webauthn.dll loads).
#[cfg(windows)]
pub fn available() -> bool {
    fido_doctor::ctap::probe::platform_windows::WindowsWebAuthn::load().is_ok()
}

/// Whether the OS's WebAuthn API can be used here: Windows only.
#[cfg(not(windows))]
pub fn available() -> bool {
    false
}

/// Runs the probe through the OS's WebAuthn API, with progress on stderr
/// when `show_progress`.
#[cfg(windows)]
pub fn run(show_progress: bool, texts: &Texts) -> anyhow::Result<PlatformProbe> {
    use fido_doctor::ctap::probe::ProbeOptions;
    use fido_doctor::ctap::probe::platform_windows::WindowsWebAuthn;
    let mut api = WindowsWebAuthn::load()
        .map_err(|e| anyhow::anyhow!(texts.fill("webauthn.api_missing", &[("error", &e)])))?;
    Ok(platform::run(
        &mut api,
        &ProbeOptions::default(),
        &mut |e| {
            if show_progress {
                progress(e, texts)
            }
        },
    ))
}

/// The WebAuthn-API path exists on Windows only: an error elsewhere.
#[cfg(not(windows))]
pub fn run(_show_progress: bool, texts: &Texts) -> anyhow::Result<PlatformProbe> {
    anyhow::bail!(texts.get("webauthn.windows_only"))
}
