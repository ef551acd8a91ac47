//! Checks from the app through the operating system's WebAuthn API
//! (webauthn.dll on Windows) instead of raw HID. On Windows without
//! administrator rights raw HID is closed to this program, so a check of a
//! USB key goes through the Windows Security dialog, as a browser's does;
//! `webauthn:` asks for this path explicitly. The API is opened through
//! [`OsApi::open`], so tests put a simulated API there.

use std::sync::Arc;
use std::sync::mpsc::Sender;

use crate::ctap::probe::ProbeEvent;
use crate::ctap::probe::platform::{self, PlatformAuthenticator, PlatformError};
use crate::diagnose::platform_key::key_facts_from_platform;

use super::action::Msg;
use super::worker::{WorkerConfig, send_diagnosis};

/// Opens the API on the thread that uses it.
pub type OpenApi =
    Arc<dyn Fn() -> Result<Box<dyn PlatformAuthenticator>, PlatformError> + Send + Sync>;

/// The OS's WebAuthn API as the app uses it.
#[derive(Clone)]
pub struct OsApi {
    /// Opens the API (loads webauthn.dll on Windows).
    pub open: OpenApi,
    /// Raw HID is closed to this process (Windows without administrator
    /// rights): checks of USB keys go through the API.
    pub hid_closed: bool,
}

/// The real API: on Windows, webauthn.dll and the process token's
/// elevation; elsewhere there is none.
pub fn real() -> Option<OsApi> {
    #[cfg(windows)]
    {
        use crate::ctap::probe::platform_windows::WindowsWebAuthn;
        use crate::diagnose::{RealSystem, System};
        let open: OpenApi = Arc::new(|| {
            WindowsWebAuthn::load().map(|a| Box::new(a) as Box<dyn PlatformAuthenticator>)
        });
        Some(OsApi {
            open,
            hid_closed: RealSystem.windows_elevated() == Some(false),
        })
    }
    #[cfg(not(windows))]
    None
}

/// Whether a check of `device` goes through the API.
pub fn takes(api: Option<&OsApi>, device: &str) -> bool {
    platform::is_device(device) || api.is_some_and(|a| a.hid_closed && device.starts_with("hid:"))
}

/// Runs the check through the API and reports it like a HID check: stage
/// events, the finished report, then the diagnosis with the key's facts.
/// Returns `false`, having sent nothing, when the API cannot be opened and
/// the check may go on over HID instead (only for a `hid:` device).
pub fn run_check(device: &str, api: &OsApi, tx: &Sender<Msg>, config: &WorkerConfig) -> bool {
    let mut opened = match (api.open)() {
        Ok(a) => a,
        Err(_) if !platform::is_device(device) => return false,
        Err(e) => {
            let _ = tx.send(Msg::ProbeOpenFailed {
                device: device.to_string(),
                error: e.to_string(),
            });
            return true;
        }
    };
    let sink = tx.clone();
    let mut on_event = move |e: ProbeEvent| {
        let _ = sink.send(Msg::Probe(e));
    };
    let probe = platform::run(opened.as_mut(), &config.probe, &mut on_event);
    let keys = config
        .content
        .as_ref()
        .map(|c| vec![key_facts_from_platform(&probe, &c.aaguids)])
        .unwrap_or_default();
    if tx.send(Msg::ProbeFinished(Box::new(probe.report))).is_ok() {
        send_diagnosis(tx, config, keys);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{ContentSource, Lang};
    use crate::ctap::probe::ProbeOptions;
    use crate::ctap::probe::platform::tests::SimApi;
    use crate::diagnose::{DiagnosisContent, FakeSystem, FindingId};
    use std::sync::mpsc;

    fn config() -> WorkerConfig {
        WorkerConfig {
            environment: Arc::new(|| {
                let sys = FakeSystem {
                    elevated: Some(false),
                    ..FakeSystem::new("windows")
                };
                crate::diagnose::gather_environment(&sys)
            }),
            content: Some(Arc::new(
                DiagnosisContent::load(&ContentSource::Embedded, Lang::En).unwrap(),
            )),
            probe: ProbeOptions::default(),
            export_dir: std::env::temp_dir(),
            panic_after_first_frame: false,
            os_api: None,
        }
    }

    fn simulated(hid_closed: bool) -> OsApi {
        OsApi {
            open: Arc::new(
                || Ok(Box::new(SimApi::new("modern")) as Box<dyn PlatformAuthenticator>),
            ),
            hid_closed,
        }
    }

    #[test]
    fn usb_keys_take_the_api_only_when_raw_hid_is_closed() {
        let closed = simulated(true);
        let open = simulated(false);
        assert!(takes(Some(&closed), "hid:\\\\?\\hid#vid_1050"));
        assert!(!takes(Some(&open), "hid:\\\\?\\hid#vid_1050"));
        assert!(!takes(Some(&closed), "sim:modern"));
        assert!(!takes(None, "hid:/dev/hidraw0"));
        // Asked for by name, it is taken even where no API exists (and fails there).
        assert!(takes(None, "webauthn:"));
    }

    #[test]
    fn a_check_through_the_api_reports_like_a_hid_check() {
        let (tx, rx) = mpsc::channel();
        assert!(run_check(
            "hid:\\\\?\\hid#x",
            &simulated(true),
            &tx,
            &config()
        ));
        drop(tx);
        let msgs: Vec<Msg> = rx.iter().collect();
        let report = msgs
            .iter()
            .find_map(|m| match m {
                Msg::ProbeFinished(r) => Some(r),
                _ => None,
            })
            .expect("the finished report");
        assert_eq!(report.device, "webauthn:");
        assert!(report.registration.is_ok() && report.authentication.is_ok());
        assert!(
            msgs.iter()
                .any(|m| matches!(m, Msg::Probe(ProbeEvent::Stage(_))))
        );
        let diagnosis = msgs
            .iter()
            .find_map(|m| match m {
                Msg::DiagnosisReady(r) => Some(r),
                _ => None,
            })
            .expect("the diagnosis after the check");
        assert!(
            diagnosis
                .findings
                .iter()
                .any(|f| f.id == FindingId::CheckedThroughWebauthnApi),
            "{:?}",
            diagnosis.findings
        );
    }

    #[test]
    fn an_api_that_cannot_open_hands_a_usb_key_back_to_hid_but_fails_when_asked_by_name() {
        let missing = OsApi {
            open: Arc::new(|| Err(platform::tests::err(platform::hresult::MOD_NOT_FOUND))),
            hid_closed: true,
        };
        let (tx, rx) = mpsc::channel();
        assert!(!run_check("hid:\\\\?\\hid#x", &missing, &tx, &config()));
        assert!(rx.try_recv().is_err(), "nothing sent: the HID path goes on");
        assert!(run_check("webauthn:", &missing, &tx, &config()));
        assert!(
            matches!(rx.try_recv(), Ok(Msg::ProbeOpenFailed { device, .. }) if device == "webauthn:")
        );
    }
}
