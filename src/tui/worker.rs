//! The threads behind the app: a device watcher (lists FIDO keys about
//! every 700 ms and reports only changes), the check (probe) worker with its
//! PIN channel, touch button and cancel handle, the diagnosis worker (after
//! each check and once at start), winks and report exports. They talk to
//! the app only through `Msg`s on one channel; the event loop hands them
//! [`Command`]s through the [`Effects`] trait, so tests run the loop with
//! fake effects and never touch a real device.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::ctap::ctaphid::{CancelHandle, CtapHid, HidOptions};
use crate::ctap::probe::{self, ProbeOptions};
use crate::device;
use crate::diagnose::{self, DiagnosisContent, Environment, KeyFacts, RealSystem};
use crate::sim::{AutoTouch, PresenceButton};
use crate::transport::DeviceSpec;
use crate::transport::hid::{self, HidKeyInfo};

use super::action::{Command, Msg, PinSecret};
pub use super::probe_run::{ChannelPin, read_as_cancelled, run_probe};

/// How often the device watcher lists the attached keys.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(700);
/// How long a check waits for the user to type the PIN.
pub const PIN_TIMEOUT: Duration = Duration::from_secs(120);
/// How often sleeping threads check whether they should stop.
const STOP_POLL: Duration = Duration::from_millis(50);
/// Most report files tried in one folder (`fido-doctor-report-1.md` …).
const MAX_REPORT_FILES: u32 = 9999;

/// Carries out what the app asks for. The real implementation is
/// [`Workers`]; tests use fakes that record the commands.
pub trait Effects {
    /// Starts or signals a worker for `cmd` (never blocks for long).
    fn apply(&mut self, cmd: Command);
    /// Called once, right after the first frame was drawn.
    fn first_frame(&mut self) {}
}

/// Effects that do nothing (for loops driven by scripted messages).
#[derive(Debug, Default)]
pub struct NoEffects;

impl Effects for NoEffects {
    fn apply(&mut self, _cmd: Command) {}
}

/// Reads the facts about this computer (injected so tests use fakes).
pub type EnvSource = Arc<dyn Fn() -> Environment + Send + Sync>;

/// The real environment: [`diagnose::gather_environment`] on this machine.
pub fn real_environment() -> EnvSource {
    Arc::new(|| diagnose::gather_environment(&RealSystem))
}

/// Settings of the workers.
#[derive(Clone)]
pub struct WorkerConfig {
    /// Where the facts about this computer come from.
    pub environment: EnvSource,
    /// Content the diagnosis needs (no diagnosis without it).
    pub content: Option<Arc<DiagnosisContent>>,
    /// Probe settings (touch timeout, CTAPHID timeouts).
    pub probe: ProbeOptions,
    /// Folder that exported reports go to.
    pub export_dir: PathBuf,
    /// Panic right after the first frame (`FIDO_DOCTOR_PANIC_AFTER_FIRST_FRAME=1`;
    /// proves the terminal is restored after a panic).
    pub panic_after_first_frame: bool,
    /// The OS's WebAuthn API, where there is one ([`super::os_api::real`]).
    pub os_api: Option<super::os_api::OsApi>,
}

struct RunningProbe {
    cancel: CancelHandle,
    pin_tx: Option<Sender<PinSecret>>,
    touch_tx: Option<Sender<()>>,
}

/// The real workers: threads that report back on `tx`.
pub struct Workers {
    tx: Sender<Msg>,
    config: WorkerConfig,
    stop: Arc<AtomicBool>,
    watcher: Option<JoinHandle<()>>,
    probe: Option<RunningProbe>,
    exports: Arc<Mutex<()>>,
    care: super::keycare::worker::CareWorker,
}

impl Workers {
    /// Workers sending to `tx`. Nothing runs until [`Workers::start`].
    pub fn new(tx: Sender<Msg>, config: WorkerConfig) -> Workers {
        Workers {
            tx,
            config,
            stop: Arc::new(AtomicBool::new(false)),
            watcher: None,
            probe: None,
            exports: Arc::new(Mutex::new(())),
            care: Default::default(),
        }
    }

    /// Starts the device watcher and the first diagnosis (without keys).
    pub fn start(&mut self) -> std::io::Result<()> {
        let tx = self.tx.clone();
        let stop = Arc::clone(&self.stop);
        self.watcher = Some(
            std::thread::Builder::new()
                .name("tui-devices".into())
                .spawn(move || watch_devices(hid::enumerate, &tx, &stop, WATCH_INTERVAL))?,
        );
        if crate::transport::pcsc::BUILT {
            let (tx, stop) = (self.tx.clone(), Arc::clone(&self.stop));
            std::thread::Builder::new()
                .name("tui-nfc".into())
                .spawn(move || watch_nfc(nfc_keys, &tx, &stop, WATCH_INTERVAL))?;
        }
        let tx = self.tx.clone();
        let config = self.config.clone();
        std::thread::Builder::new()
            .name("tui-diagnosis".into())
            .spawn(move || send_diagnosis(&tx, &config, Vec::new()))?;
        Ok(())
    }

    /// Starts a check. The app starts one only after the previous one
    /// reported its end, so at most one talks to a device at a time (the
    /// previous thread may still be finishing its diagnosis).
    fn start_probe(&mut self, device: String) {
        let cancel = CancelHandle::default();
        let (pin_tx, pin_rx) = mpsc::channel();
        let (button, touch_tx) = PresenceButton::new();
        let tx = self.tx.clone();
        let config = self.config.clone();
        let c = cancel.clone();
        let thread = std::thread::Builder::new()
            .name("tui-probe".into())
            .spawn(move || run_probe(&device, Box::new(button), pin_rx, &c, &tx, &config));
        // The thread ends on its own (every wait in a check is bounded).
        match thread {
            Ok(_detached) => {
                self.probe = Some(RunningProbe {
                    cancel,
                    pin_tx: Some(pin_tx),
                    touch_tx: Some(touch_tx),
                });
            }
            Err(e) => {
                let _ = self.tx.send(Msg::ProbeOpenFailed {
                    device: String::new(),
                    error: e.to_string(),
                });
            }
        }
    }

    fn cancel_probe(&mut self) {
        if let Some(p) = &mut self.probe {
            p.cancel.cancel();
            // A PIN wait ends at once; a simulated key's wait reads "refused".
            p.pin_tx = None;
            p.touch_tx = None;
        }
    }

    fn wink(&self, device: String) {
        let tx = self.tx.clone();
        let _ = std::thread::Builder::new()
            .name("tui-wink".into())
            .spawn(move || {
                let error = wink(&device).err();
                let _ = tx.send(Msg::WinkDone { device, error });
            });
    }

    fn info(&self, devices: Vec<String>) {
        let tx = self.tx.clone();
        let opts = self.config.probe.clone();
        let _ = std::thread::Builder::new()
            .name("tui-info".into())
            .spawn(move || {
                for device in devices {
                    let result = device
                        .parse::<DeviceSpec>()
                        .and_then(|spec| device::open(&spec, Box::new(AutoTouch)))
                        .map_err(|e| e.to_string())
                        .and_then(|dev| probe::info(dev, &opts).map_err(|e| e.to_string()))
                        .map(Box::new);
                    if tx.send(Msg::InfoReady { device, result }).is_err() {
                        return;
                    }
                }
            });
    }

    fn export(&self, report: diagnose::Report) {
        let tx = self.tx.clone();
        let dir = self.config.export_dir.clone();
        let lock = Arc::clone(&self.exports);
        let _ = std::thread::Builder::new()
            .name("tui-export".into())
            .spawn(move || {
                let _guard = lock.lock();
                let msg = match write_report(&dir, &report.to_markdown()) {
                    Ok(path) => Msg::ExportDone(path.display().to_string()),
                    Err(e) => Msg::ExportFailed(e.to_string()),
                };
                let _ = tx.send(msg);
            });
    }
}

impl Effects for Workers {
    fn apply(&mut self, cmd: Command) {
        match cmd {
            Command::Quit => {}
            Command::StartProbe { device } => self.start_probe(device),
            Command::Pin(pin) => {
                if let Some(p) = &mut self.probe {
                    match pin {
                        Some(secret) => {
                            if let Some(tx) = &p.pin_tx {
                                let _ = tx.send(secret);
                            }
                        }
                        None => p.pin_tx = None,
                    }
                }
            }
            Command::Touch => {
                if let Some(tx) = self.probe.as_ref().and_then(|p| p.touch_tx.as_ref()) {
                    let _ = tx.send(());
                }
            }
            Command::CancelProbe => self.cancel_probe(),
            Command::Wink { device } => self.wink(device),
            Command::Info { devices } => self.info(devices),
            Command::Export(report) => self.export(*report),
            Command::Diagnose(keys) => {
                let tx = self.tx.clone();
                let config = self.config.clone();
                let _ = std::thread::Builder::new()
                    .name("tui-diagnosis".into())
                    .spawn(move || send_diagnosis(&tx, &config, keys));
            }
            Command::Care(cmd) => self.care.apply(cmd, &self.tx),
        }
    }

    fn first_frame(&mut self) {
        if self.config.panic_after_first_frame {
            panic!("FIDO_DOCTOR_PANIC_AFTER_FIRST_FRAME is set: panicking after the first frame");
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.cancel_probe();
        if let Some(t) = self.watcher.take() {
            let _ = t.join();
        }
        // A probe thread ends on its own once cancelled (bounded by the
        // CTAPHID timeouts); it is not joined so quitting stays instant.
    }
}

/// Lists keys with `list` every `interval` until `stop` is set or the
/// receiver is gone; sends the list (or the error) only when it changed.
pub fn watch_devices<F>(list: F, tx: &Sender<Msg>, stop: &AtomicBool, interval: Duration)
where
    F: Fn() -> Result<Vec<HidKeyInfo>, crate::transport::TransportError>,
{
    let mut last: Option<Result<Vec<HidKeyInfo>, String>> = None;
    while !stop.load(Ordering::Relaxed) {
        let now = list().map_err(|e| e.to_string());
        if last.as_ref() != Some(&now) {
            let msg = match &now {
                Ok(keys) => Msg::Devices(keys.clone()),
                Err(e) => Msg::DevicesError(e.clone()),
            };
            if tx.send(msg).is_err() {
                return;
            }
            last = Some(now);
        }
        let mut slept = Duration::ZERO;
        while slept < interval && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(STOP_POLL);
            slept += STOP_POLL;
        }
    }
}

/// Device strings of the cards on PC/SC readers (none when PC/SC is not
/// built in or not running).
pub fn nfc_keys() -> Vec<String> {
    crate::transport::pcsc::state()
        .readers()
        .iter()
        .filter(|r| r.card_present)
        .map(|r| r.spec())
        .collect()
}

/// Lists NFC keys with `list` every `interval` until `stop` is set or the
/// receiver is gone; sends [`Msg::NfcKeys`] only when the list changed.
pub fn watch_nfc<F>(list: F, tx: &Sender<Msg>, stop: &AtomicBool, interval: Duration)
where
    F: Fn() -> Vec<String>,
{
    let mut last: Option<Vec<String>> = None;
    while !stop.load(Ordering::Relaxed) {
        let now = list();
        if last.as_ref() != Some(&now) {
            if tx.send(Msg::NfcKeys(now.clone())).is_err() {
                return;
            }
            last = Some(now);
        }
        let mut slept = Duration::ZERO;
        while slept < interval && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(STOP_POLL);
            slept += STOP_POLL;
        }
    }
}

/// Diagnoses this computer with `keys` and sends the report (nothing when
/// the diagnosis content is missing).
pub fn send_diagnosis(tx: &Sender<Msg>, config: &WorkerConfig, keys: Vec<KeyFacts>) {
    let Some(content) = &config.content else {
        return;
    };
    let env = (config.environment)();
    let report = diagnose::diagnose(env, keys, content);
    let _ = tx.send(Msg::DiagnosisReady(Box::new(report)));
}

fn wink(device: &str) -> Result<(), String> {
    let spec = device.parse::<DeviceSpec>().map_err(|e| e.to_string())?;
    let dev = device::open(&spec, Box::new(AutoTouch)).map_err(|e| e.to_string())?;
    let mut hid = CtapHid::open(dev, HidOptions::default(), CancelHandle::default())
        .map_err(|e| e.to_string())?;
    hid.wink().map_err(|e| e.to_string())
}

/// Writes `text` to the first free `fido-doctor-report-<n>.md` in `dir`
/// (never overwriting a file) and returns its path.
pub fn write_report(dir: &std::path::Path, text: &str) -> std::io::Result<PathBuf> {
    use std::io::Write;
    for n in 1..=MAX_REPORT_FILES {
        let path = dir.join(format!("fido-doctor-report-{n}.md"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(text.as_bytes())?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(
        "too many report files in this folder",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctap::probe::{PinAnswer, PinRequest, PinSource};
    use crate::transport::TransportError;
    use zeroize::Zeroizing;

    fn key(path: &str) -> HidKeyInfo {
        HidKeyInfo {
            path: path.into(),
            vendor_id: 0x1050,
            product_id: 0x0407,
            manufacturer: None,
            product: None,
            serial: None,
            release: 0,
            interface: 0,
        }
    }

    #[test]
    fn watcher_sends_only_changes_and_errors_as_messages() {
        let script: Mutex<Vec<Result<Vec<HidKeyInfo>, TransportError>>> = Mutex::new(vec![
            Ok(vec![]),
            Ok(vec![]),
            Ok(vec![key("/a")]),
            Ok(vec![key("/a")]),
            Err(TransportError::Hid {
                path: "-".into(),
                message: "boom".into(),
            }),
            Ok(vec![key("/a")]),
        ]);
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let s2 = Arc::clone(&stop);
        let list = move || {
            let mut v = script.lock().unwrap();
            if v.is_empty() {
                s2.store(true, Ordering::Relaxed);
                return Ok(vec![key("/a")]);
            }
            v.remove(0)
        };
        watch_devices(list, &tx, &stop, Duration::ZERO);
        drop(tx);
        let got: Vec<Msg> = rx.iter().collect();
        assert_eq!(
            got,
            vec![
                Msg::Devices(vec![]),
                Msg::Devices(vec![key("/a")]),
                Msg::DevicesError("HID error on -: boom".into()),
                Msg::Devices(vec![key("/a")]),
            ]
        );
    }

    /// Asks `src` for the PIN as the probe does and returns the answer's text.
    fn asked(src: &mut dyn PinSource, retries: Option<u32>) -> Option<String> {
        let request = PinRequest {
            retries,
            last_attempt: retries == Some(1),
            previous_wrong: false,
            rp_id: "fido-doctor.invalid".into(),
            uv_fallback: None,
        };
        match src.request_pin(&request) {
            PinAnswer::Pin(p) => Some(p.to_string()),
            _ => None,
        }
    }

    #[test]
    fn nfc_watcher_sends_only_changes() {
        let card = || vec!["pcsc:Reader 0".to_string()];
        let script = Mutex::new(vec![vec![], vec![], card(), card(), vec![]]);
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let s2 = Arc::clone(&stop);
        let list = move || {
            let mut v = script.lock().unwrap();
            if v.len() == 1 {
                s2.store(true, Ordering::Relaxed);
            }
            v.remove(0)
        };
        watch_nfc(list, &tx, &stop, Duration::ZERO);
        drop(tx);
        let got: Vec<Msg> = rx.iter().collect();
        assert_eq!(
            got,
            vec![
                Msg::NfcKeys(vec![]),
                Msg::NfcKeys(card()),
                Msg::NfcKeys(vec![])
            ]
        );
    }

    #[test]
    fn channel_pin_asks_once_and_asks_again_after_a_wrong_pin() {
        let (tx, rx) = mpsc::channel();
        let (pin_tx, pin_rx) = mpsc::channel();
        let mut src = ChannelPin::new(tx, pin_rx, Duration::from_secs(5));
        pin_tx
            .send(PinSecret(Zeroizing::new("1234".into())))
            .unwrap();
        // That answer was typed before any request: it is dropped as stale.
        let answer = std::thread::spawn(move || {
            let first = rx.recv().unwrap();
            pin_tx
                .send(PinSecret(Zeroizing::new("1234".into())))
                .unwrap();
            let second = rx.recv().unwrap();
            pin_tx
                .send(PinSecret(Zeroizing::new("5678".into())))
                .unwrap();
            (first, second)
        });
        assert_eq!(asked(&mut src, Some(8)).as_deref(), Some("1234"));
        assert_eq!(asked(&mut src, Some(8)).as_deref(), Some("1234"));
        assert_eq!(asked(&mut src, Some(7)).as_deref(), Some("5678"));
        let (first, second) = answer.join().unwrap();
        assert_eq!(first, Msg::PinRequested { retries: Some(8) });
        assert_eq!(second, Msg::PinRequested { retries: Some(7) });
    }

    #[test]
    fn declined_when_the_ui_goes_away() {
        let (tx, _rx) = mpsc::channel();
        let (pin_tx, pin_rx) = mpsc::channel::<PinSecret>();
        drop(pin_tx);
        let mut src = ChannelPin::new(tx, pin_rx, Duration::from_secs(30));
        assert_eq!(asked(&mut src, None), None);
    }

    #[test]
    fn reports_never_overwrite_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_report(dir.path(), "one").unwrap();
        let b = write_report(dir.path(), "two").unwrap();
        assert_eq!(a.file_name().unwrap(), "fido-doctor-report-1.md");
        assert_eq!(b.file_name().unwrap(), "fido-doctor-report-2.md");
        assert_eq!(std::fs::read_to_string(a).unwrap(), "one");
        assert_eq!(std::fs::read_to_string(b).unwrap(), "two");
        let missing = dir.path().join("no/such/dir");
        assert!(write_report(&missing, "x").is_err());
    }
}
