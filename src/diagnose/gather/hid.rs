//! Whether this user can reach FIDO devices: on Linux, which `/dev/hidraw*`
//! nodes are FIDO devices (HID usage page 0xF1D0 in the report descriptor)
//! and which of those cannot be opened; on Windows, whether the program runs
//! elevated (needed to open FIDO devices directly since Windows 10 1903).

use std::time::Duration;

use crate::diagnose::facts::{HidAccess, OsFamily};
use crate::diagnose::system::{OpenCheck, System};

/// Most bytes of a report descriptor read (the HID limit is 4096).
const DESCRIPTOR_MAX: usize = 4096;

/// True when a HID report descriptor declares the FIDO usage page 0xF1D0
/// (a two-byte Usage Page item: `06 D0 F1`).
pub fn is_fido_descriptor(desc: &[u8]) -> bool {
    desc.windows(3).any(|w| w == [0x06, 0xD0, 0xF1])
}

/// `vvvv:pppp` from a hid device's uevent line `HID_ID=0003:00001050:00000407`.
pub fn usb_id_from_uevent(uevent: &str) -> Option<String> {
    let id = uevent
        .lines()
        .find_map(|l| l.trim().strip_prefix("HID_ID="))?;
    let mut parts = id.split(':').skip(1);
    let v = u32::from_str_radix(parts.next()?, 16).ok()?;
    let p = u32::from_str_radix(parts.next()?, 16).ok()?;
    Some(format!("{v:04x}:{p:04x}"))
}

fn is_hidraw_name(name: &str) -> bool {
    name.strip_prefix("hidraw")
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// Collects HID access facts for `family`.
pub fn hid_access(sys: &dyn System, family: OsFamily) -> HidAccess {
    let mut hid = HidAccess {
        list_error: sys.hid_list_error(),
        ..HidAccess::default()
    };
    match family {
        OsFamily::Linux | OsFamily::Chromeos => {
            for name in sys
                .list_dir("/dev")
                .into_iter()
                .filter(|n| is_hidraw_name(n))
            {
                hid.hidraw_total += 1;
                let desc = sys
                    .read_bytes(
                        &format!("/sys/class/hidraw/{name}/device/report_descriptor"),
                        DESCRIPTOR_MAX,
                    )
                    .unwrap_or_default();
                if !is_fido_descriptor(&desc) {
                    continue;
                }
                hid.hidraw_fido += 1;
                let node = format!("/dev/{name}");
                if sys.can_open_rw(&node) == OpenCheck::Denied {
                    hid.hidraw_fido_unreadable.push(node);
                    let uevent = sys
                        .read_file(&format!("/sys/class/hidraw/{name}/device/uevent"), 4096)
                        .unwrap_or_default();
                    if let Some(id) = usb_id_from_uevent(&uevent)
                        && !hid.hidraw_fido_unreadable_ids.contains(&id)
                    {
                        hid.hidraw_fido_unreadable_ids.push(id);
                    }
                }
            }
        }
        OsFamily::Windows => {
            // The process token first; `net session` (which only an
            // administrator may run) when the token cannot be read.
            hid.windows_elevated = sys.windows_elevated().or_else(|| {
                sys.run("net", &["session"], Duration::from_secs(5))
                    .filter(|o| !o.timed_out)
                    .and_then(|o| o.status)
                    .map(|code| code == 0)
            });
        }
        _ => {}
    }
    hid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::system::FakeSystem;

    #[test]
    fn windows_elevation_comes_from_the_token_then_net_session() {
        let by_token = FakeSystem::new("windows")
            .with_elevated(false)
            .with_command("net session", 0, "");
        assert_eq!(
            hid_access(&by_token, OsFamily::Windows).windows_elevated,
            Some(false)
        );
        let by_token = FakeSystem::new("windows").with_elevated(true);
        assert_eq!(
            hid_access(&by_token, OsFamily::Windows).windows_elevated,
            Some(true)
        );
        let fallback = FakeSystem::new("windows").with_command("net session", 2, "");
        assert_eq!(
            hid_access(&fallback, OsFamily::Windows).windows_elevated,
            Some(false)
        );
        let unknown = FakeSystem::new("windows");
        assert_eq!(
            hid_access(&unknown, OsFamily::Windows).windows_elevated,
            None
        );
    }

    #[test]
    fn fido_usage_page_is_recognised() {
        assert!(is_fido_descriptor(&[0x06, 0xD0, 0xF1, 0x09, 0x01]));
        assert!(!is_fido_descriptor(&[0x05, 0x01, 0x09, 0x06]));
        assert!(!is_fido_descriptor(&[]));
        assert!(is_hidraw_name("hidraw12"));
        assert!(!is_hidraw_name("hidraw"));
        assert!(!is_hidraw_name("hidrawX"));
        assert_eq!(
            usb_id_from_uevent(
                "DRIVER=hid-generic\nHID_ID=0003:00001050:00000407\nHID_NAME=Yubico YubiKey\n"
            )
            .as_deref(),
            Some("1050:0407")
        );
        assert_eq!(usb_id_from_uevent("HID_ID=garbage"), None);
    }
}
