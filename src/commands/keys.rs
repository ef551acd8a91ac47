//! `list`, `info` and `probe`: what is attached, what a key is, and whether a
//! registration and sign-in work on it.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use fido_doctor::ctap::ctaphid::CancelHandle;
use fido_doctor::ctap::probe::{
    self, FailureCode, KeyKind, KeyReport, Outcome, ProbeEvent, ProbeOptions, ProbeReport, Stage,
};
use fido_doctor::device::{self, OpenDevice};
use fido_doctor::diagnose::stored::{self, StoredSignIns};
use fido_doctor::sim::AfterDelay;
use fido_doctor::transport::DeviceSpec;
use fido_doctor::transport::hid;

use super::pin::PinInput;
use fido_doctor::content::failures::{FailureOutcome, FailureTable};
use fido_doctor::content::text::Texts;
use fido_doctor::content::{ContentSource, Lang};

/// How long the simulated user of a `sim:` device takes to touch the key on the command line.
pub const SIM_TOUCH_DELAY: Duration = Duration::from_millis(300);

/// `fido-doctor list`: the USB keys, then the NFC readers. When the OS
/// cannot list HID devices, that is said (`hid_error` in JSON) and the
/// readers are still listed; the exit code is then 3 (could not check).
pub fn list(json: bool, texts: &Texts) -> anyhow::Result<ExitCode> {
    let (keys, hid_error) = match hid::enumerate() {
        Ok(keys) => (keys, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let readers = fido_doctor::transport::pcsc::state();
    let code = if hid_error.is_some() {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    };
    if json {
        let mut doc = serde_json::json!({ "hid": keys, "pcsc": readers });
        if let Some(e) = &hid_error {
            doc["hid_error"] = serde_json::Value::String(e.clone());
        }
        super::out_line(&serde_json::to_string_pretty(&doc)?)?;
        return Ok(code);
    }
    if let Some(e) = &hid_error {
        super::out_line(&texts.fill("list.hid_failed", &[("error", e)]))?;
    } else if keys.is_empty() && readers.readers().iter().all(|r| !r.card_present) {
        super::out_line(&texts.get("list.none"))?;
        super::out_line(&texts.get("list.hint"))?;
    }
    for k in &keys {
        super::out_line(&format!(
            "hid:{}  {:04x}:{:04x}  {} {}",
            k.path,
            k.vendor_id,
            k.product_id,
            k.manufacturer.as_deref().unwrap_or("?"),
            k.product.as_deref().unwrap_or("?")
        ))?;
    }
    super::out(&super::nfc::describe_readers(&readers))?;
    Ok(code)
}

/// Resolves `--device` (or the only attached key) and opens it; a simulated
/// user touches `sim:` keys after [`SIM_TOUCH_DELAY`].
fn open_selected(device: Option<&str>) -> anyhow::Result<(DeviceSpec, OpenDevice)> {
    let spec = device::resolve(device)?;
    let dev = device::open(&spec, Box::new(AfterDelay::new(SIM_TOUCH_DELAY)))
        .with_context(|| format!("opening {spec}"))?;
    Ok((spec, dev))
}

/// `fido-doctor info`.
pub fn info(device: Option<&str>, json: bool, texts: &Texts) -> anyhow::Result<ExitCode> {
    let (spec, dev) = open_selected(device)?;
    let report = probe::info(dev, &ProbeOptions::default())
        .with_context(|| format!("asking {spec} what it is"))?;
    if json {
        super::out_line(&serde_json::to_string_pretty(&report)?)?;
    } else {
        super::out(&describe_key(&report, texts))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `fido-doctor probe`: exit code 0 when every stage verified, 2 otherwise.
pub fn probe(
    device: Option<&str>,
    pin: impl Into<PinInput>,
    json: bool,
    texts: &Texts,
) -> anyhow::Result<ExitCode> {
    let report = run_probe(device, pin, !json, texts)?;
    if json {
        super::out_line(&serde_json::to_string_pretty(&report)?)?;
    } else {
        super::out(&describe_probe(&report, texts))?;
    }
    Ok(ExitCode::from(probe_exit_code(&report)))
}

/// 0 when every stage verified; 3 when the probe stopped without finding
/// out (cancelled, no touch, key silent… per the failure table), else 2.
fn probe_exit_code(report: &ProbeReport) -> u8 {
    if report.all_ok() {
        return 0;
    }
    let code = report
        .key
        .failure()
        .or_else(|| report.registration.failure())
        .or_else(|| report.authentication.failure())
        .map(|f| f.code.as_str());
    let table = FailureTable::load(&ContentSource::Embedded, Lang::En).ok();
    match (code, table) {
        (Some(c), Some(t)) if t.entry(c).outcome == FailureOutcome::CouldNotRun => 3,
        _ => 2,
    }
}

/// Opens the selected device and runs the full probe, showing progress on
/// stderr when `progress` is set. The PIN comes from stdin or a prompt,
/// never spending the last attempt unless `pin.allow_last_pin_attempt`.
pub fn run_probe(
    device: Option<&str>,
    pin: impl Into<PinInput>,
    progress: bool,
    texts: &Texts,
) -> anyhow::Result<ProbeReport> {
    Ok(probe_and_read_stored(device, pin.into(), progress, texts, false)?.0)
}

/// What reading the sign-ins stored on a key gave (see [`run_check_probe`]).
pub type StoredRead = Result<StoredSignIns, String>;

/// [`run_probe`], then, when the key offers credential management and
/// accepted the PIN during the probe, the sign-ins stored on it, read with
/// the same PIN (nothing is asked again; see `diagnose::stored`).
pub fn run_check_probe(
    device: Option<&str>,
    pin: PinInput,
    progress: bool,
    texts: &Texts,
) -> anyhow::Result<(ProbeReport, Option<StoredRead>)> {
    probe_and_read_stored(device, pin, progress, texts, true)
}

fn probe_and_read_stored(
    device: Option<&str>,
    pin_input: PinInput,
    progress: bool,
    texts: &Texts,
    read_stored: bool,
) -> anyhow::Result<(ProbeReport, Option<StoredRead>)> {
    let (_, dev) = open_selected(device)?;
    let mut pin = pin_input.interaction(texts);
    let cancel = CancelHandle::default();
    let ctrl_c = cancel.clone();
    // Ctrl-C sends CTAPHID_CANCEL to the key instead of killing us mid-command.
    let _ = ctrlc::set_handler(move || ctrl_c.cancel());
    let mut on_event = |e: ProbeEvent| {
        if let Some(line) = progress.then(|| progress_line(e, texts)).flatten() {
            eprintln!("{line}");
        }
    };
    let report = probe::run(
        dev,
        &ProbeOptions::default(),
        pin.as_mut(),
        &mut on_event,
        &cancel,
    );
    let withheld = [
        report.registration.failure(),
        report.authentication.failure(),
    ]
    .iter()
    .flatten()
    .any(|f| f.code == FailureCode::PinLastAttemptWithheld);
    if withheld {
        eprintln!("{}", texts.get("pin.last_refused"));
    }
    let stored =
        (read_stored && !cancel.is_cancelled() && stored::should_read(&report)).then(|| {
            // The probe has closed the device: open it again for the read.
            let (_, dev) = open_selected(device).map_err(|e| format!("{e:#}"))?;
            stored::read_stored(dev, pin.as_mut(), pin_input.allow_last_attempt)
        });
    Ok((report, stored))
}

fn progress_line(e: ProbeEvent, t: &Texts) -> Option<String> {
    Some(match e {
        ProbeEvent::Stage(Stage::Info) => t.get("progress.info"),
        ProbeEvent::Stage(Stage::Register) => t.get("progress.register"),
        ProbeEvent::Stage(Stage::Authenticate) => t.get("progress.signin"),
        ProbeEvent::TouchNeeded { timeout } => {
            t.fill("progress.touch", &[("s", &timeout.as_secs())])
        }
        ProbeEvent::PinNeeded { .. } => t.get("progress.pin"),
        ProbeEvent::UvNeeded { .. } => t.get("progress.uv"),
        ProbeEvent::UvFallbackToPin { .. } => t.get("progress.uv_fallback"),
        ProbeEvent::StageDone { ok, elapsed, .. } => t.fill(
            if ok {
                "progress.done"
            } else {
                "progress.failed"
            },
            &[("ms", &elapsed.as_millis())],
        ),
        ProbeEvent::Processing => return None,
    })
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not supported",
    }
}

/// Plain-text description of a key (for `info`): protocol facts under
/// technical labels, the verdict words from `text.toml`.
pub fn describe_key(k: &KeyReport, t: &Texts) -> String {
    let mut s = String::new();
    let (maj, min, build) = k.init.device_version;
    let _ = writeln!(s, "device:        {}", k.device);
    let _ = writeln!(
        s,
        "kind:          {}",
        match k.kind {
            KeyKind::Fido2 => t.get("info.kind_fido2"),
            KeyKind::U2fOnly => t.get("info.kind_u2f"),
        }
    );
    let caps = k.init.capabilities;
    let _ = writeln!(
        s,
        "CTAPHID:       protocol {}, device version {maj}.{min}.{build}, capabilities{}{}{}",
        k.init.protocol_version,
        if caps.wink { " WINK" } else { "" },
        if caps.cbor { " CBOR" } else { "" },
        if caps.nmsg { " NMSG" } else { "" },
    );
    if let Some(v) = &k.u2f_version {
        let _ = writeln!(s, "U2F version:   {v}");
    }
    if let Some(i) = &k.info {
        let aaguid = fido_doctor::ctap::verify::authdata::Aaguid(i.aaguid);
        let _ = writeln!(s, "versions:      {}", i.versions.join(", "));
        let _ = writeln!(s, "AAGUID:        {aaguid}");
        let _ = writeln!(s, "extensions:    {}", i.extensions.join(", "));
        let _ = writeln!(s, "PIN set:       {}", yes_no(i.client_pin()));
        if let Some(r) = k.pin_retries {
            let _ = writeln!(s, "PIN retries:   {r}");
        }
        let _ = writeln!(s, "built-in UV:   {}", yes_no(i.uv()));
        let _ = writeln!(
            s,
            "resident keys: {}",
            if i.resident_key() { "yes" } else { "no" }
        );
        if let Some(n) = i.remaining_discoverable_credentials {
            let _ = writeln!(s, "free slots:    {n}");
        }
        let algs = match i.reported_algorithms() {
            Some(a) => a
                .iter()
                .map(|a| a.alg.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            None => t.get("info.algorithms_absent"),
        };
        let _ = writeln!(s, "algorithms:    {algs}");
        if let Some(fw) = i.firmware_version {
            let _ = writeln!(s, "firmware:      {fw}");
        }
    }
    s
}

fn outcome_line<T>(label: &str, o: &Outcome<T>, failures: Option<&FailureTable>) -> String {
    match o {
        Outcome::Ok { elapsed, .. } => format!("{label:<14} ok ({} ms)", elapsed.as_millis()),
        Outcome::Failed { error, elapsed } => format!(
            "{label:<14} FAILED ({} ms): {}{}",
            elapsed.as_millis(),
            failures
                .and_then(|t| t.get(error.code.as_str()))
                .map(|e| format!("{} - ", e.title))
                .unwrap_or_default(),
            error.message
        ),
        Outcome::Skipped { reason } => format!("{label:<14} skipped: {reason}"),
    }
}

/// Plain-text description of a full probe; a failed stage is named with
/// the failure table's title, then the technical message.
pub fn describe_probe(r: &ProbeReport, t: &Texts) -> String {
    let table = FailureTable::load(&ContentSource::Embedded, t.lang().unwrap_or(Lang::En)).ok();
    let failures = table.as_ref();
    let mut s = String::new();
    if let Some(k) = r.key.ok() {
        s.push_str(&describe_key(k, t));
        s.push('\n');
    }
    let _ = writeln!(s, "{}", outcome_line("key info", &r.key, failures));
    let _ = writeln!(
        s,
        "{}",
        outcome_line("registration", &r.registration, failures)
    );
    if let Some(reg) = r.registration.ok() {
        let _ = writeln!(
            s,
            "               attestation {} ({:?}){}",
            reg.attestation.format,
            reg.attestation.kind,
            reg.attestation
                .certificate_subject
                .as_deref()
                .map(|c| format!(", certificate {c}"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(
        s,
        "{}",
        outcome_line("sign-in", &r.authentication, failures)
    );
    let _ = writeln!(
        s,
        "\n{}",
        t.get(if r.all_ok() {
            "probe.verdict_ok"
        } else {
            "probe.verdict_failed"
        })
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use fido_doctor::sim::{self, AutoTouch};

    #[test]
    fn a_key_that_lists_no_algorithms_reads_es256_by_default() {
        let scenario = sim::scenario::find("modern").unwrap();
        let (t, _handle) = sim::spawn_inproc(scenario, Box::new(AutoTouch));
        let mut key = probe::info(t, &ProbeOptions::default()).unwrap();
        let texts = Texts::embedded(Lang::En);
        assert!(describe_key(&key, &texts).contains("algorithms:    -7"));
        let info = key.info.as_mut().unwrap();
        info.algorithms.clear();
        info.algorithms_absent = true;
        let text = describe_key(&key, &texts);
        assert!(
            text.contains("algorithms:    not reported (ES256 by default)"),
            "{text}"
        );
    }
}
