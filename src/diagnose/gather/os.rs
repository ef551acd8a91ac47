//! The OS family, name and version, and the kind of session: SSH, Remote
//! Desktop, WSL, container or virtual machine.

use std::time::Duration;

use crate::diagnose::facts::{OsFacts, OsFamily, SessionFacts};
use crate::diagnose::system::System;

const SMALL: usize = 16 * 1024;
const CMD_TIMEOUT: Duration = Duration::from_secs(3);

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The OS family from the build target, refined by what the system shows
/// (Linux inside ChromeOS's Crostini counts as ChromeOS).
pub fn os_facts(sys: &dyn System) -> OsFacts {
    let info = sys.os_info();
    let family = match info.target_os.as_str() {
        "windows" => OsFamily::Windows,
        "macos" => OsFamily::Macos,
        "ios" => OsFamily::Ios,
        "android" => OsFamily::Android,
        "linux" if sys.exists("/dev/.cros_milestone") => OsFamily::Chromeos,
        "linux" => OsFamily::Linux,
        _ => OsFamily::Other,
    };
    OsFacts {
        family,
        name: non_empty(info.name),
        version: non_empty(info.version).or_else(|| non_empty(info.long_version)),
        arch: non_empty(info.arch),
    }
}

fn env_set(sys: &dyn System, name: &str) -> bool {
    non_empty(sys.env_var(name)).is_some()
}

/// SSH, RDP, WSL, container and VM detection.
pub fn session_facts(sys: &dyn System, family: OsFamily) -> SessionFacts {
    let ssh = ["SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT"]
        .iter()
        .any(|v| env_set(sys, v));
    let rdp = sys
        .env_var("SESSIONNAME")
        .is_some_and(|s| s.trim().to_ascii_uppercase().starts_with("RDP-"));
    let unix_like = matches!(family, OsFamily::Linux | OsFamily::Chromeos);
    let wsl = unix_like
        && (env_set(sys, "WSL_DISTRO_NAME")
            || env_set(sys, "WSL_INTEROP")
            || sys
                .read_file("/proc/version", SMALL)
                .is_some_and(|v| v.to_ascii_lowercase().contains("microsoft")));
    let container = unix_like && in_container(sys);
    let vm = if wsl || !unix_like {
        if family == OsFamily::Macos {
            macos_vm(sys)
        } else {
            None
        }
    } else {
        linux_vm(sys)
    };
    SessionFacts {
        ssh,
        rdp,
        wsl,
        container,
        vm,
    }
}

fn in_container(sys: &dyn System) -> bool {
    if sys.exists("/.dockerenv") || sys.exists("/run/.containerenv") {
        return true;
    }
    if let Some(c) = non_empty(sys.env_var("container")) {
        // Flatpak sets container=flatpak for sandboxed apps; that is still a sandbox.
        return !c.is_empty();
    }
    sys.read_file("/proc/1/cgroup", SMALL).is_some_and(|cg| {
        ["docker", "kubepods", "containerd", "libpod", "lxc"]
            .iter()
            .any(|w| cg.contains(w))
    })
}

/// Names the hypervisor from DMI strings (`/sys/class/dmi/id`).
pub fn hypervisor_from_dmi(vendor: &str, product: &str) -> Option<String> {
    let v = vendor.to_ascii_lowercase();
    let p = product.to_ascii_lowercase();
    let both = format!("{v} {p}");
    let name = if both.contains("kvm") {
        "kvm"
    } else if both.contains("qemu") {
        "qemu"
    } else if both.contains("vmware") {
        "vmware"
    } else if both.contains("virtualbox") || v.contains("innotek") {
        "virtualbox"
    } else if v.contains("microsoft") && p.contains("virtual machine") {
        "hyper-v"
    } else if both.contains("xen") {
        "xen"
    } else if both.contains("parallels") {
        "parallels"
    } else {
        return None;
    };
    Some(name.to_string())
}

fn linux_vm(sys: &dyn System) -> Option<String> {
    let vendor = sys
        .read_file("/sys/class/dmi/id/sys_vendor", SMALL)
        .unwrap_or_default();
    let product = sys
        .read_file("/sys/class/dmi/id/product_name", SMALL)
        .unwrap_or_default();
    if let Some(h) = hypervisor_from_dmi(vendor.trim(), product.trim()) {
        return Some(h);
    }
    let out = sys.run("systemd-detect-virt", &["--vm"], CMD_TIMEOUT)?;
    let name = out.stdout.trim();
    (out.status == Some(0) && !name.is_empty() && name != "none").then(|| name.to_string())
}

fn macos_vm(sys: &dyn System) -> Option<String> {
    let out = sys.run("sysctl", &["-n", "kern.hv_vmm_present"], CMD_TIMEOUT)?;
    (out.status == Some(0) && out.stdout.trim() == "1").then(|| "vm".to_string())
}
