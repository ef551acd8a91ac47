//! Real security keys through hidapi: listing FIDO HID interfaces
//! ([`enumerate`]) and exchanging 64-byte reports with one of them
//! ([`HidTransport`]).
//!
//! A fresh [`hidapi::HidApi`] is created for every call that needs one
//! (enumerating, opening) instead of being kept in a global: each `HidApi`
//! holds a snapshot of the device list taken when it was created, so a
//! long-lived one would miss keys plugged in later (and still list removed
//! ones); it is also neither `Sync` nor needed once a device is open. The
//! underlying C/OS library is initialised only once by hidapi itself, so
//! creating a context per call is cheap.
//!
//! The pure parts — the FIDO usage filter and the classification of OS
//! errors — are separate functions so they can be tested without hardware.

use std::ffi::CString;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{REPORT_LEN, Report, Transport, TransportError, deadline_after};

/// HID usage page of FIDO authenticators.
pub const FIDO_USAGE_PAGE: u16 = 0xF1D0;
/// HID usage of the CTAPHID interface within [`FIDO_USAGE_PAGE`].
pub const FIDO_USAGE: u16 = 0x01;

/// One FIDO HID interface, as listed by [`enumerate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HidKeyInfo {
    /// Platform path as hidapi reports it (e.g. `/dev/hidraw3`); open it with `hid:PATH`.
    pub path: String,
    /// USB vendor ID.
    pub vendor_id: u16,
    /// USB product ID.
    pub product_id: u16,
    /// Manufacturer string, if the device has one.
    pub manufacturer: Option<String>,
    /// Product string, if the device has one.
    pub product: Option<String>,
    /// Serial number string, if the device has one.
    pub serial: Option<String>,
    /// Device release number (bcdDevice).
    pub release: u16,
    /// USB interface number (-1 when unknown).
    pub interface: i32,
}

impl HidKeyInfo {
    /// The device selection string for this key (`hid:PATH`).
    pub fn spec(&self) -> String {
        format!("hid:{}", self.path)
    }
}

/// The fields of a hidapi device entry that matter here (hidapi's own
/// `DeviceInfo` cannot be built outside hidapi, so tests use this).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawHidEntry {
    /// The device as it would be listed.
    pub info: HidKeyInfo,
    /// HID usage page of this interface/collection.
    pub usage_page: u16,
    /// HID usage of this interface/collection.
    pub usage: u16,
}

/// True for the CTAPHID interface of a FIDO authenticator.
pub fn is_fido_usage(usage_page: u16, usage: u16) -> bool {
    usage_page == FIDO_USAGE_PAGE && usage == FIDO_USAGE
}

/// Keeps only FIDO interfaces, one entry per path, sorted by path so the
/// order is stable between calls.
pub fn select_fido(entries: impl IntoIterator<Item = RawHidEntry>) -> Vec<HidKeyInfo> {
    let mut out: Vec<HidKeyInfo> = entries
        .into_iter()
        .filter(|e| is_fido_usage(e.usage_page, e.usage))
        .map(|e| e.info)
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    out
}

fn api() -> Result<hidapi::HidApi, TransportError> {
    hidapi::HidApi::new().map_err(|e| map_hid_error("hidapi", HidOp::Open, &e))
}

/// Lists the FIDO security keys attached to this computer (usage page
/// 0xF1D0, usage 0x01). An empty list is not an error.
pub fn enumerate() -> Result<Vec<HidKeyInfo>, TransportError> {
    let api = api()?;
    let entries = api.device_list().map(|d| RawHidEntry {
        info: HidKeyInfo {
            path: d.path().to_string_lossy().into_owned(),
            vendor_id: d.vendor_id(),
            product_id: d.product_id(),
            manufacturer: d.manufacturer_string().map(str::to_owned),
            product: d.product_string().map(str::to_owned),
            serial: d.serial_number().map(str::to_owned),
            release: d.release_number(),
            interface: d.interface_number(),
        },
        usage_page: d.usage_page(),
        usage: d.usage(),
    });
    Ok(select_fido(entries.collect::<Vec<_>>()))
}

/// What was being done when hidapi failed; decides how errors are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HidOp {
    /// Creating the context or opening the device.
    Open,
    /// Reading or writing an open device.
    Io,
}

/// How an OS/hidapi failure should be presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Access refused (udev rule missing, Windows not elevated, macOS privacy).
    PermissionDenied,
    /// The path does not exist.
    NotFound,
    /// The device went away.
    Gone,
    /// Anything else.
    Other,
}

// Raw OS error numbers (Linux/macOS errno, Windows system error codes).
#[cfg(not(windows))]
const EPERM: i32 = 1;
#[cfg(not(windows))]
const ENOENT: i32 = 2;
#[cfg(not(windows))]
const EIO: i32 = 5;
#[cfg(not(windows))]
const ENXIO: i32 = 6;
#[cfg(not(windows))]
const EACCES: i32 = 13;
#[cfg(not(windows))]
const ENODEV: i32 = 19;
#[cfg(not(windows))]
const EPIPE: i32 = 32;
#[cfg(windows)]
const WIN_ACCESS_DENIED: i32 = 5;
const WIN_FILE_NOT_FOUND: i32 = 2;
const WIN_PATH_NOT_FOUND: i32 = 3;
const WIN_INVALID_NAME: i32 = 123;
#[cfg(windows)]
const WIN_DEVICE_NOT_CONNECTED: i32 = 1167;

/// True when a Windows `CreateFileW` error number says nothing exists at the
/// path (no such file, no such path, not a valid name), as opposed to a
/// device that is there but cannot be used.
pub fn windows_path_missing(raw_os: Option<i32>) -> bool {
    matches!(
        raw_os,
        Some(WIN_FILE_NOT_FOUND | WIN_PATH_NOT_FOUND | WIN_INVALID_NAME)
    )
}

/// Classifies a failure from its message text and, when known, its raw OS
/// error number. Pure: used for both hidapi message strings and `io::Error`s.
pub fn classify(op: HidOp, text: &str, raw_os: Option<i32>) -> ErrorClass {
    #[cfg(windows)]
    match raw_os {
        Some(WIN_ACCESS_DENIED) => return ErrorClass::PermissionDenied,
        raw if op == HidOp::Open && windows_path_missing(raw) => return ErrorClass::NotFound,
        Some(WIN_DEVICE_NOT_CONNECTED) => return ErrorClass::Gone,
        _ => {}
    }
    #[cfg(not(windows))]
    match raw_os {
        Some(EPERM | EACCES) => return ErrorClass::PermissionDenied,
        Some(ENOENT) if op == HidOp::Open => return ErrorClass::NotFound,
        Some(ENODEV | ENXIO) if op == HidOp::Open => return ErrorClass::NotFound,
        Some(ENODEV | ENXIO | EIO | EPIPE | ENOENT) => return ErrorClass::Gone,
        _ => {}
    }
    let t = text.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| t.contains(n));
    if has(&[
        "permission denied",
        "access is denied",
        "access denied",
        "operation not permitted",
        "not permitted",
        "(os error 13)",
        "(os error 1)",
        "kioreturnnotpermitted",
        "0xe00002e2",
    ]) {
        return ErrorClass::PermissionDenied;
    }
    let gone = has(&[
        "disconnected",
        "no such device",
        "device not configured",
        "not connected",
        "input/output error",
        "broken pipe",
        "kioreturnnotattached",
        "kioreturnaborted",
    ]);
    match op {
        HidOp::Open
            if gone || has(&["no such file", "not found", "cannot find", "(os error 2)"]) =>
        {
            ErrorClass::NotFound
        }
        HidOp::Io if gone => ErrorClass::Gone,
        _ => ErrorClass::Other,
    }
}

/// Turns a hidapi error into a [`TransportError`] that names `path`.
pub fn map_hid_error(path: &str, op: HidOp, err: &hidapi::HidError) -> TransportError {
    let (text, raw) = match err {
        hidapi::HidError::IoError { error } => (error.to_string(), error.raw_os_error()),
        other => (other.to_string(), None),
    };
    let path = path.to_string();
    match classify(op, &text, raw) {
        ErrorClass::PermissionDenied => TransportError::PermissionDenied { path },
        ErrorClass::NotFound => TransportError::NotFound(path),
        ErrorClass::Gone => TransportError::Gone(path),
        ErrorClass::Other => TransportError::Hid {
            path,
            message: text,
        },
    }
}

/// Copies a read of `n` bytes into a report. Reads shorter than 64 bytes
/// (some backends drop trailing zeros) are zero-padded; 0 means no report.
pub fn report_from_read(buf: &[u8; REPORT_LEN], n: usize) -> Option<Report> {
    if n == 0 {
        return None;
    }
    let n = n.min(REPORT_LEN);
    let mut r = [0u8; REPORT_LEN];
    r[..n].copy_from_slice(&buf[..n]);
    Some(r)
}

/// Builds the 65-byte output buffer: report ID 0 followed by the report.
pub fn output_buffer(report: &Report) -> [u8; REPORT_LEN + 1] {
    let mut out = [0u8; REPORT_LEN + 1];
    out[1..].copy_from_slice(report);
    out
}

/// An open FIDO key.
pub struct HidTransport {
    device: hidapi::HidDevice,
    path: String,
}

impl HidTransport {
    /// Opens the key at `path` (as listed by [`enumerate`]).
    ///
    /// Errors: [`TransportError::PermissionDenied`] when the OS refuses
    /// (no udev rule on Linux, not elevated on Windows),
    /// [`TransportError::NotFound`] when there is no such device.
    pub fn open(path: &str) -> Result<Self, TransportError> {
        let cpath = CString::new(path).map_err(|_| TransportError::NotFound(path.to_string()))?;
        #[cfg(windows)]
        windows_device_exists(path)?;
        // A failure to start hidapi is reported for the device asked for.
        let api = hidapi::HidApi::new().map_err(|e| map_hid_error(path, HidOp::Open, &e))?;
        let device = api
            .open_path(&cpath)
            .map_err(|e| map_hid_error(path, HidOp::Open, &e))?;
        Ok(HidTransport {
            device,
            path: path.to_string(),
        })
    }
}

/// Windows: asks the OS whether anything exists at `path` before hidapi is
/// started. `HidApi::new` lists every HID device first, and when that
/// listing fails the open would report the listing's error instead of "no
/// key at that address". A query-only open (no read or write access) is how
/// hidapi itself looks at devices it may not use.
#[cfg(windows)]
fn windows_device_exists(path: &str) -> Result<(), TransportError> {
    use std::os::windows::fs::OpenOptionsExt;
    const FILE_SHARE_READ_WRITE: u32 = 0x1 | 0x2;
    match std::fs::OpenOptions::new()
        .access_mode(0)
        .share_mode(FILE_SHARE_READ_WRITE)
        .open(path)
    {
        Err(e) if windows_path_missing(e.raw_os_error()) => {
            Err(TransportError::NotFound(path.to_string()))
        }
        // There or not, anything else is for hidapi's open to report.
        _ => Ok(()),
    }
}

impl Transport for HidTransport {
    fn send(&mut self, report: &Report) -> Result<(), TransportError> {
        let buf = output_buffer(report);
        match self.device.write(&buf) {
            Ok(0) => Err(TransportError::Hid {
                path: self.path.clone(),
                message: "write accepted no bytes".into(),
            }),
            Ok(_) => Ok(()),
            Err(e) => Err(map_hid_error(&self.path, HidOp::Io, &e)),
        }
    }

    fn recv(&mut self, timeout: Duration) -> Result<Report, TransportError> {
        let deadline = deadline_after(timeout);
        let mut buf = [0u8; REPORT_LEN];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
            let n = self
                .device
                .read_timeout(&mut buf, ms)
                .map_err(|e| map_hid_error(&self.path, HidOp::Io, &e))?;
            if let Some(r) = report_from_read(&buf, n) {
                return Ok(r);
            }
            if Instant::now() >= deadline {
                return Err(TransportError::Timeout(timeout));
            }
        }
    }

    fn name(&self) -> String {
        format!("hid:{}", self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, usage_page: u16, usage: u16) -> RawHidEntry {
        RawHidEntry {
            info: HidKeyInfo {
                path: path.into(),
                vendor_id: 0x1050,
                product_id: 0x0407,
                manufacturer: Some("Yubico".into()),
                product: None,
                serial: None,
                release: 0x0512,
                interface: 1,
            },
            usage_page,
            usage,
        }
    }

    #[test]
    fn only_fido_interfaces_are_listed_once_and_sorted() {
        let listed = select_fido(vec![
            entry("/dev/hidraw5", 0xF1D0, 0x01),
            entry("/dev/hidraw1", 0x0001, 0x06), // keyboard interface of the same key
            entry("/dev/hidraw2", 0xF1D0, 0x01),
            entry("/dev/hidraw2", 0xF1D0, 0x01),
            entry("/dev/hidraw3", 0xF1D0, 0x02), // other usage on the FIDO page
            entry("/dev/hidraw4", 0x0000, 0x00), // libusb-style "unknown"
        ]);
        let paths: Vec<&str> = listed.iter().map(|k| k.path.as_str()).collect();
        assert_eq!(paths, ["/dev/hidraw2", "/dev/hidraw5"]);
        assert_eq!(listed[0].spec(), "hid:/dev/hidraw2");
        let json = serde_json::to_value(&listed[0]).unwrap();
        assert_eq!(json["vendor_id"], 0x1050);
        assert_eq!(json["manufacturer"], "Yubico");
    }

    #[test]
    fn linux_open_errors_are_classified() {
        let perm = hidapi::HidError::HidApiError {
            message:
                "failed to open device with path /dev/hidraw3: Permission denied (os error 13)"
                    .into(),
        };
        assert!(matches!(
            map_hid_error("/dev/hidraw3", HidOp::Open, &perm),
            TransportError::PermissionDenied { path } if path == "/dev/hidraw3"
        ));
        let missing = hidapi::HidError::HidApiError {
            message: "failed to open device with path /dev/hidraw9: No such file or directory (os error 2)"
                .into(),
        };
        assert!(matches!(
            map_hid_error("/dev/hidraw9", HidOp::Open, &missing),
            TransportError::NotFound(p) if p == "/dev/hidraw9"
        ));
    }

    #[test]
    fn io_errors_use_the_errno_first() {
        #[cfg(not(windows))]
        {
            let e = hidapi::HidError::IoError {
                error: std::io::Error::from_raw_os_error(EACCES),
            };
            assert!(matches!(
                map_hid_error("p", HidOp::Open, &e),
                TransportError::PermissionDenied { .. }
            ));
            let e = hidapi::HidError::IoError {
                error: std::io::Error::from_raw_os_error(ENODEV),
            };
            assert!(matches!(
                map_hid_error("p", HidOp::Io, &e),
                TransportError::Gone(_)
            ));
            assert!(matches!(
                map_hid_error("p", HidOp::Open, &e),
                TransportError::NotFound(_)
            ));
        }
        let e = hidapi::HidError::IncompleteSendError { sent: 3, all: 65 };
        assert!(matches!(
            map_hid_error("p", HidOp::Io, &e),
            TransportError::Hid { path, message } if path == "p" && message.contains("3")
        ));
    }

    #[test]
    fn unplug_and_platform_texts() {
        assert_eq!(
            classify(
                HidOp::Io,
                "unexpected poll error (device disconnected)",
                None
            ),
            ErrorClass::Gone
        );
        assert_eq!(
            classify(HidOp::Open, "hid_open_path: Access is denied.", None),
            ErrorClass::PermissionDenied
        );
        assert_eq!(
            classify(
                HidOp::Open,
                "IOHIDDeviceOpen failed: kIOReturnNotPermitted",
                None
            ),
            ErrorClass::PermissionDenied
        );
        assert_eq!(
            classify(HidOp::Io, "invalid timeout value", None),
            ErrorClass::Other
        );
        // A missing file while reading means the device went away, not "not found".
        assert_eq!(
            classify(HidOp::Io, "No such device", None),
            ErrorClass::Gone
        );
    }

    #[test]
    fn windows_missing_paths_are_told_apart_from_unusable_ones() {
        // ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND, ERROR_INVALID_NAME.
        for raw in [2, 3, 123] {
            assert!(windows_path_missing(Some(raw)), "{raw}");
        }
        // ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION, ERROR_GEN_FAILURE, none.
        for raw in [Some(5), Some(32), Some(31), None] {
            assert!(!windows_path_missing(raw), "{raw:?}");
        }
    }

    #[test]
    fn reports_are_framed_with_report_id_zero_and_short_reads_padded() {
        let mut r = [0u8; REPORT_LEN];
        r[0] = 0xFF;
        r[63] = 0x42;
        let out = output_buffer(&r);
        assert_eq!(out.len(), 65);
        assert_eq!(out[0], 0);
        assert_eq!(out[1], 0xFF);
        assert_eq!(out[64], 0x42);

        let mut buf = [0xAAu8; REPORT_LEN];
        buf[..3].copy_from_slice(&[1, 2, 3]);
        assert_eq!(report_from_read(&buf, 0), None);
        let got = report_from_read(&buf, 3).unwrap();
        assert_eq!(&got[..3], &[1, 2, 3]);
        assert!(got[3..].iter().all(|&b| b == 0));
        assert_eq!(report_from_read(&buf, 64).unwrap(), buf);
    }

    #[test]
    fn opening_a_missing_path_is_not_found_or_permission() {
        // No hardware here; a path that cannot exist must map to a typed error.
        match HidTransport::open("/nonexistent/hidraw-fido-doctor") {
            Err(TransportError::NotFound(p)) => assert_eq!(p, "/nonexistent/hidraw-fido-doctor"),
            Err(TransportError::Hid { path, .. }) => {
                assert_eq!(path, "/nonexistent/hidraw-fido-doctor")
            }
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("opened a nonexistent device"),
        }
        assert!(matches!(
            HidTransport::open("bad\0path"),
            Err(TransportError::NotFound(_))
        ));
    }
}
