//! Facts about the computer the diagnosis reasons about: the OS, the kind of
//! session (remote, WSL, container, VM), installed browsers and whether FIDO
//! devices can be opened. Plain data, serialisable into the report.

use serde::Serialize;

pub use crate::content::compat::{BrowserId, OsFamily};

/// The operating system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OsFacts {
    /// Family.
    pub family: OsFamily,
    /// Product or distribution name (`Ubuntu`, `Windows`, `Darwin`).
    pub name: Option<String>,
    /// Version as the OS reports it.
    pub version: Option<String>,
    /// CPU architecture (`x86_64`, `arm64`).
    pub arch: Option<String>,
}

impl OsFacts {
    /// A family with nothing else known (for what-if checks and tests).
    pub fn family_only(family: OsFamily) -> Self {
        OsFacts {
            family,
            name: None,
            version: None,
            arch: None,
        }
    }
}

/// How this program is being run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SessionFacts {
    /// Over SSH (`SSH_CONNECTION`/`SSH_TTY`/`SSH_CLIENT`).
    pub ssh: bool,
    /// In a Windows Remote Desktop session (`SESSIONNAME` = `RDP-…`).
    pub rdp: bool,
    /// Inside Windows Subsystem for Linux.
    pub wsl: bool,
    /// Inside a container (Docker, Podman, LXC, Kubernetes, …).
    pub container: bool,
    /// Inside a virtual machine, named by hypervisor (`kvm`, `vmware`, …).
    pub vm: Option<String>,
}

/// How a browser was installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Packaging {
    /// A normal install.
    Native,
    /// A Snap package (confined; USB access depends on its interfaces).
    Snap,
    /// A Flatpak (sandboxed; USB keys usually unreachable).
    Flatpak,
}

impl Packaging {
    /// True for Snap and Flatpak.
    pub fn is_sandboxed(self) -> bool {
        !matches!(self, Packaging::Native)
    }

    /// Short name (`Snap`).
    pub fn display_name(self) -> &'static str {
        match self {
            Packaging::Native => "native",
            Packaging::Snap => "Snap",
            Packaging::Flatpak => "Flatpak",
        }
    }
}

/// An installed browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Browser {
    /// Which browser.
    pub id: BrowserId,
    /// Display name.
    pub name: String,
    /// Version, when it could be read.
    pub version: Option<String>,
    /// How it is installed.
    pub packaging: Packaging,
    /// Where it was found (executable, app bundle or package directory).
    pub path: Option<String>,
}

/// Access to HID devices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HidAccess {
    /// Number of `/dev/hidraw*` nodes (Linux).
    pub hidraw_total: usize,
    /// How many of them are FIDO devices (usage page 0xF1D0).
    pub hidraw_fido: usize,
    /// FIDO device nodes this user may not open.
    pub hidraw_fido_unreadable: Vec<String>,
    /// USB vendor:product ids of those nodes (`1050:0407`), when known.
    pub hidraw_fido_unreadable_ids: Vec<String>,
    /// Windows: whether this program runs as administrator (None elsewhere or unknown).
    pub windows_elevated: Option<bool>,
    /// Why the OS could not list HID devices, when it could not (then no
    /// USB key could be seen, whether one is plugged in or not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_error: Option<String>,
}

/// Everything known about the computer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Environment {
    /// Operating system.
    pub os: OsFacts,
    /// Session kind.
    pub session: SessionFacts,
    /// Installed browsers.
    pub browsers: Vec<Browser>,
    /// HID device access.
    pub hid: HidAccess,
    /// NFC readers and keys, when they were looked at (see `gather::nfc`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nfc: Option<super::gather::nfc::NfcFacts>,
}

impl Environment {
    /// An environment with only an OS family and the given browsers (native,
    /// no version): for what-if checks and tests.
    pub fn bare(family: OsFamily, browsers: &[BrowserId]) -> Self {
        Environment {
            os: OsFacts::family_only(family),
            session: SessionFacts::default(),
            browsers: browsers
                .iter()
                .map(|b| Browser {
                    id: *b,
                    name: b.display_name().to_string(),
                    version: None,
                    packaging: Packaging::Native,
                    path: None,
                })
                .collect(),
            hid: HidAccess::default(),
            nfc: None,
        }
    }
}
