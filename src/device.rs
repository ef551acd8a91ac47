//! Opening a device selection (`hid:…`, `udp:…`, `sim:…`, `pcsc:…`) as a live
//! [`Transport`], and listing what can be selected.
//!
//! This is the one place that knows every kind of device; the probes above it
//! only see a [`Transport`].

use crate::ctap::nfc::{Length, NfcTransport};
use crate::sim::{self, Presence, SimHandle};
use crate::transport::hid::{self, HidKeyInfo, HidTransport};
use crate::transport::pcsc;
use crate::transport::udp::UdpTransport;
use crate::transport::{DeviceSpec, Report, Transport, TransportError};

/// An open device. Keeps a simulator running for as long as it lives.
pub struct OpenDevice {
    transport: Box<dyn Transport>,
    _sim: Option<SimHandle>,
}

impl OpenDevice {
    /// The selection string of the device.
    pub fn name(&self) -> String {
        self.transport.name()
    }
}

impl Transport for OpenDevice {
    fn send(&mut self, report: &Report) -> Result<(), TransportError> {
        self.transport.send(report)
    }

    fn recv(&mut self, timeout: std::time::Duration) -> Result<Report, TransportError> {
        self.transport.recv(timeout)
    }

    fn name(&self) -> String {
        self.transport.name()
    }
}

/// Opens `spec`. `presence` answers touch prompts of a built-in simulator
/// (ignored for real keys and UDP simulators, whose users touch for real).
pub fn open(spec: &DeviceSpec, presence: Box<dyn Presence>) -> Result<OpenDevice, TransportError> {
    match spec {
        DeviceSpec::Hid { path } => Ok(OpenDevice {
            transport: Box::new(HidTransport::open(path)?),
            _sim: None,
        }),
        DeviceSpec::Udp { remote, listen } => Ok(OpenDevice {
            transport: Box::new(UdpTransport::open(*remote, *listen)?),
            _sim: None,
        }),
        DeviceSpec::Pcsc { reader } => Ok(OpenDevice {
            transport: Box::new(NfcTransport::open(pcsc::connect(reader)?, Length::Short)?),
            _sim: None,
        }),
        DeviceSpec::Sim { scenario } => {
            let found = sim::scenario::find(scenario).ok_or_else(|| TransportError::BadSpec {
                input: spec.to_string(),
                reason: format!(
                    "no simulator scenario {scenario:?} (known: {})",
                    scenario_names().join(", ")
                ),
            })?;
            let (transport, handle) =
                sim::try_spawn_inproc(found, presence).map_err(|e| TransportError::Io {
                    path: spec.to_string(),
                    source: std::io::Error::other(e.to_string()),
                })?;
            Ok(OpenDevice {
                transport: Box::new(transport),
                _sim: Some(handle),
            })
        }
    }
}

/// Names of the simulator's scenarios, in registry order.
pub fn scenario_names() -> Vec<&'static str> {
    sim::scenario::all().iter().map(|s| s.name).collect()
}

/// Resolves an optional `--device` string: parses it when given, otherwise
/// picks the only attached FIDO key. Errors say what to do when there are
/// none or several.
pub fn resolve(selection: Option<&str>) -> Result<DeviceSpec, TransportError> {
    if let Some(s) = selection {
        return s.parse();
    }
    let keys = hid::enumerate()?;
    if keys.is_empty()
        && let [reader] = pcsc::state()
            .readers()
            .iter()
            .filter(|r| r.card_present)
            .collect::<Vec<_>>()
            .as_slice()
    {
        // No USB key, but one card on a reader: the NFC key.
        return Ok(DeviceSpec::Pcsc {
            reader: reader.name.clone(),
        });
    }
    pick_default(keys)
}

fn pick_default(keys: Vec<HidKeyInfo>) -> Result<DeviceSpec, TransportError> {
    match keys.as_slice() {
        [] => Err(TransportError::NotFound(
            "no FIDO security key is attached (or none is readable); plug one in, or practise with --device sim:modern".into(),
        )),
        [one] => Ok(DeviceSpec::Hid {
            path: one.path.clone(),
        }),
        many => Err(TransportError::NotFound(format!(
            "{} keys are attached; choose one with --device ({})",
            many.len(),
            many.iter()
                .map(|k| format!("hid:{}", k.path))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The devices `check` probes when none is chosen: every attached USB key,
/// then every FIDO card on a reader. On Windows without administrator
/// rights raw HID is closed to this process (Windows 10 1903 and later), so
/// when the OS's WebAuthn API can be used the USB keys are probed once
/// through it instead ([`crate::ctap::probe::platform::DEVICE`]), where the
/// Windows Security dialog lets the user pick the key, as a browser does.
pub fn check_targets(
    usb_keys: &[String],
    nfc_keys: &[String],
    through_os_api: bool,
) -> Vec<String> {
    let usb: Vec<String> = if through_os_api && !usb_keys.is_empty() {
        vec![crate::ctap::probe::platform::DEVICE.to_string()]
    } else {
        usb_keys.to_vec()
    };
    usb.into_iter().chain(nfc_keys.iter().cloned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::AutoTouch;

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
    fn default_device_is_the_only_key() {
        assert_eq!(
            pick_default(vec![key("/dev/hidraw2")]).unwrap(),
            DeviceSpec::Hid {
                path: "/dev/hidraw2".into()
            }
        );
        let none = pick_default(vec![]).unwrap_err().to_string();
        assert!(none.contains("sim:modern"), "{none}");
        let two = pick_default(vec![key("/a"), key("/b")])
            .unwrap_err()
            .to_string();
        assert!(two.contains("hid:/a") && two.contains("hid:/b"), "{two}");
    }

    #[test]
    fn unknown_scenario_lists_the_known_ones() {
        let spec: DeviceSpec = "sim:nope".parse().unwrap();
        let err = open(&spec, Box::new(AutoTouch)).err().unwrap().to_string();
        assert!(err.contains("modern") && err.contains("u2f-only"), "{err}");
    }

    #[test]
    fn simulator_opens_and_answers() {
        let spec: DeviceSpec = "sim:modern".parse().unwrap();
        let mut dev = open(&spec, Box::new(AutoTouch)).unwrap();
        assert_eq!(dev.name(), "sim:modern");
        // CTAPHID INIT on the broadcast channel must be answered with our nonce.
        let mut init = [0u8; 64];
        init[..4].copy_from_slice(&[0xff; 4]);
        init[4] = 0x86;
        init[6] = 8;
        init[7..15].copy_from_slice(b"nonce-01");
        dev.send(&init).unwrap();
        let reply = dev.recv(std::time::Duration::from_secs(2)).unwrap();
        assert_eq!(reply[4], 0x86);
        assert_eq!(&reply[7..15], b"nonce-01");
    }
}

#[cfg(test)]
mod check_target_tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn usb_keys_go_through_the_os_api_once_when_raw_hid_is_closed() {
        let usb = s(&["hid:\\\\?\\hid#a", "hid:\\\\?\\hid#b"]);
        let nfc = s(&["pcsc:Reader 0"]);
        assert_eq!(
            check_targets(&usb, &nfc, true),
            s(&["webauthn:", "pcsc:Reader 0"])
        );
        assert_eq!(
            check_targets(&usb, &nfc, false),
            s(&["hid:\\\\?\\hid#a", "hid:\\\\?\\hid#b", "pcsc:Reader 0"])
        );
    }

    #[test]
    fn no_usb_key_means_no_dialog() {
        assert_eq!(check_targets(&[], &s(&["pcsc:R"]), true), s(&["pcsc:R"]));
        assert!(check_targets(&[], &[], true).is_empty());
    }
}
