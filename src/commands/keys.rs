//! `list`, `info` and `probe`: what is attached, what a key is, and whether a
//! registration and sign-in work on it.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use fido_doctor::ctap::ctaphid::CancelHandle;
use fido_doctor::ctap::probe::{
    self, KeyKind, KeyReport, Outcome, ProbeEvent, ProbeOptions, ProbeReport, Stage,
};
use fido_doctor::device::{self, OpenDevice};
use fido_doctor::sim::AfterDelay;
use fido_doctor::transport::DeviceSpec;
use fido_doctor::transport::hid;

use super::pin::PinInput;

/// How long the simulated user of a `sim:` device takes to touch the key on the command line.
pub const SIM_TOUCH_DELAY: Duration = Duration::from_millis(300);

/// `fido-doctor list`.
pub fn list(json: bool) -> anyhow::Result<ExitCode> {
    let keys = hid::enumerate().context("listing HID devices")?;
    let readers = fido_doctor::transport::pcsc::state();
    if json {
        let doc = serde_json::json!({ "hid": keys, "pcsc": readers });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(ExitCode::SUCCESS);
    }
    if keys.is_empty() && readers.readers().iter().all(|r| !r.card_present) {
        println!("No FIDO security key found (HID usage page 0xF1D0).");
        println!("Plug one in, or practise with: fido-doctor --device sim:modern");
    }
    for k in &keys {
        println!(
            "hid:{}  {:04x}:{:04x}  {} {}",
            k.path,
            k.vendor_id,
            k.product_id,
            k.manufacturer.as_deref().unwrap_or("?"),
            k.product.as_deref().unwrap_or("?")
        );
    }
    print!("{}", super::nfc::describe_readers(&readers));
    Ok(ExitCode::SUCCESS)
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
pub fn info(device: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let (spec, dev) = open_selected(device)?;
    let report = probe::info(dev, &ProbeOptions::default())
        .with_context(|| format!("asking {spec} what it is"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", describe_key(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// `fido-doctor probe`: exit code 0 when every stage verified, 2 otherwise.
pub fn probe(
    device: Option<&str>,
    pin: impl Into<PinInput>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let report = run_probe(device, pin, !json)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", describe_probe(&report));
    }
    Ok(if report.all_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// Opens the selected device and runs the full probe, showing progress on
/// stderr when `progress` is set.
pub fn run_probe(
    device: Option<&str>,
    pin: impl Into<PinInput>,
    progress: bool,
) -> anyhow::Result<ProbeReport> {
    let (_, dev) = open_selected(device)?;
    let mut pin = pin.into().interaction();
    let cancel = CancelHandle::default();
    let ctrl_c = cancel.clone();
    // Ctrl-C sends CTAPHID_CANCEL to the key instead of killing us mid-command.
    let _ = ctrlc::set_handler(move || ctrl_c.cancel());
    let mut on_event = |e: ProbeEvent| {
        if let Some(line) = progress.then(|| progress_line(e)).flatten() {
            eprintln!("{line}");
        }
    };
    Ok(probe::run(
        dev,
        &ProbeOptions::default(),
        pin.as_mut(),
        &mut on_event,
        &cancel,
    ))
}

fn progress_line(e: ProbeEvent) -> Option<String> {
    Some(match e {
        ProbeEvent::Stage(Stage::Info) => "- asking the key what it is".into(),
        ProbeEvent::Stage(Stage::Register) => "- registering a throw-away credential".into(),
        ProbeEvent::Stage(Stage::Authenticate) => "- signing in with it".into(),
        ProbeEvent::TouchNeeded { timeout } => format!(
            "  touch your security key now (it blinks; {} s left)",
            timeout.as_secs()
        ),
        ProbeEvent::PinNeeded { .. } => "  the key asks for its PIN".into(),
        ProbeEvent::UvNeeded { .. } => {
            "  touch the key's fingerprint sensor with an enrolled finger".into()
        }
        ProbeEvent::UvFallbackToPin { .. } => {
            "  the fingerprint did not work; the key's PIN is used instead".into()
        }
        ProbeEvent::StageDone { ok, elapsed, .. } => format!(
            "  {} ({} ms)",
            if ok { "done" } else { "failed" },
            elapsed.as_millis()
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

/// Plain-text description of a key (for `info`).
pub fn describe_key(k: &KeyReport) -> String {
    let mut s = String::new();
    let (maj, min, build) = k.init.device_version;
    let _ = writeln!(s, "device:        {}", k.device);
    let _ = writeln!(
        s,
        "kind:          {}",
        match k.kind {
            KeyKind::Fido2 => "FIDO2 (CTAP2)",
            KeyKind::U2fOnly => "U2F only (CTAP1): cannot be used for UTokyo Account",
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
        let algs: Vec<String> = i.algorithms.iter().map(|a| a.alg.to_string()).collect();
        let _ = writeln!(s, "algorithms:    {}", algs.join(", "));
        if let Some(fw) = i.firmware_version {
            let _ = writeln!(s, "firmware:      {fw}");
        }
    }
    s
}

fn outcome_line<T>(label: &str, o: &Outcome<T>) -> String {
    match o {
        Outcome::Ok { elapsed, .. } => format!("{label:<14} ok ({} ms)", elapsed.as_millis()),
        Outcome::Failed { error, elapsed } => format!(
            "{label:<14} FAILED ({} ms): {}",
            elapsed.as_millis(),
            error.message
        ),
        Outcome::Skipped { reason } => format!("{label:<14} skipped: {reason}"),
    }
}

/// Plain-text description of a full probe.
pub fn describe_probe(r: &ProbeReport) -> String {
    let mut s = String::new();
    if let Some(k) = r.key.ok() {
        s.push_str(&describe_key(k));
        s.push('\n');
    }
    let _ = writeln!(s, "{}", outcome_line("key info", &r.key));
    let _ = writeln!(s, "{}", outcome_line("registration", &r.registration));
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
    let _ = writeln!(s, "{}", outcome_line("sign-in", &r.authentication));
    let _ = writeln!(
        s,
        "\n{}",
        if r.all_ok() {
            "verdict: the key registered and signed in, both verified."
        } else {
            "verdict: the probe did not complete; see above."
        }
    );
    s
}
