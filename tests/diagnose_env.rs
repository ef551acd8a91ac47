//! Environment gatherers against fake file systems and commands.

use fido_doctor::diagnose::system::OsInfo;
use fido_doctor::diagnose::{
    BrowserId, FakeSystem, OsFamily, Packaging, RealSystem, gather_environment,
};

const FIDO_DESCRIPTOR: &[u8] = &[
    0x06, 0xD0, 0xF1, 0x09, 0x01, 0xA1, 0x01, 0x09, 0x20, 0x15, 0x00, 0x26, 0xFF, 0x00, 0x75, 0x08,
    0x95, 0x40, 0x81, 0x02, 0x09, 0x21, 0x91, 0x02, 0xC0,
];
const KEYBOARD_DESCRIPTOR: &[u8] = &[0x05, 0x01, 0x09, 0x06, 0xA1, 0x01, 0xC0];

fn linux() -> FakeSystem {
    FakeSystem::new("linux").with_env("PATH", "/usr/local/bin:/usr/bin:/bin")
}

#[test]
fn os_facts_come_from_the_system() {
    let mut sys = linux();
    sys.os = OsInfo {
        target_os: "linux".into(),
        name: Some("Ubuntu".into()),
        version: Some("24.04".into()),
        long_version: Some("Linux (Ubuntu 24.04)".into()),
        arch: Some("x86_64".into()),
    };
    let env = gather_environment(&sys);
    assert_eq!(env.os.family, OsFamily::Linux);
    assert_eq!(env.os.name.as_deref(), Some("Ubuntu"));
    assert_eq!(env.os.version.as_deref(), Some("24.04"));
    assert_eq!(env.os.arch.as_deref(), Some("x86_64"));
    assert_eq!(
        gather_environment(&FakeSystem::new("macos")).os.family,
        OsFamily::Macos
    );
    assert_eq!(
        gather_environment(&FakeSystem::new("freebsd")).os.family,
        OsFamily::Other
    );
    let cros = linux().with_file("/dev/.cros_milestone", "120");
    assert_eq!(gather_environment(&cros).os.family, OsFamily::Chromeos);
}

#[test]
fn wsl_is_detected_from_proc_version() {
    let sys = linux().with_file(
        "/proc/version",
        "Linux version 5.15.153.1-microsoft-standard-WSL2 (root@1c602f52c2e4)",
    );
    let env = gather_environment(&sys);
    assert!(env.session.wsl);
    let plain = linux().with_file(
        "/proc/version",
        "Linux version 6.8.0-45-generic (buildd@lcy02)",
    );
    assert!(!gather_environment(&plain).session.wsl);
    let by_var = linux().with_env("WSL_DISTRO_NAME", "Ubuntu");
    assert!(gather_environment(&by_var).session.wsl);
}

#[test]
fn ssh_and_rdp_sessions_are_detected() {
    let ssh = linux().with_env("SSH_CONNECTION", "10.0.0.2 52144 10.0.0.1 22");
    assert!(gather_environment(&ssh).session.ssh);
    let tty = linux().with_env("SSH_TTY", "/dev/pts/1");
    assert!(gather_environment(&tty).session.ssh);
    assert!(!gather_environment(&linux()).session.ssh);
    let rdp = FakeSystem::new("windows").with_env("SESSIONNAME", "RDP-Tcp#3");
    assert!(gather_environment(&rdp).session.rdp);
    let console = FakeSystem::new("windows").with_env("SESSIONNAME", "Console");
    assert!(!gather_environment(&console).session.rdp);
}

#[test]
fn containers_and_vms_are_detected() {
    assert!(
        gather_environment(&linux().with_file("/.dockerenv", ""))
            .session
            .container
    );
    assert!(
        gather_environment(&linux().with_file("/run/.containerenv", ""))
            .session
            .container
    );
    let cg = linux().with_file("/proc/1/cgroup", "0::/kubepods/besteffort/pod1234\n");
    assert!(gather_environment(&cg).session.container);
    let host = linux().with_file("/proc/1/cgroup", "0::/init.scope\n");
    assert!(!gather_environment(&host).session.container);

    let qemu = linux()
        .with_file("/sys/class/dmi/id/sys_vendor", "QEMU\n")
        .with_file(
            "/sys/class/dmi/id/product_name",
            "Standard PC (Q35 + ICH9, 2009)\n",
        );
    assert_eq!(
        gather_environment(&qemu).session.vm.as_deref(),
        Some("qemu")
    );
    let vbox = linux()
        .with_file("/sys/class/dmi/id/sys_vendor", "innotek GmbH\n")
        .with_file("/sys/class/dmi/id/product_name", "VirtualBox\n");
    assert_eq!(
        gather_environment(&vbox).session.vm.as_deref(),
        Some("virtualbox")
    );
    let hyperv = linux()
        .with_file("/sys/class/dmi/id/sys_vendor", "Microsoft Corporation\n")
        .with_file("/sys/class/dmi/id/product_name", "Virtual Machine\n");
    assert_eq!(
        gather_environment(&hyperv).session.vm.as_deref(),
        Some("hyper-v")
    );
    let by_tool = linux().with_command("systemd-detect-virt --vm", 0, "kvm\n");
    assert_eq!(
        gather_environment(&by_tool).session.vm.as_deref(),
        Some("kvm")
    );
    let none = linux()
        .with_file("/sys/class/dmi/id/sys_vendor", "LENOVO\n")
        .with_command("systemd-detect-virt --vm", 1, "none\n");
    assert_eq!(gather_environment(&none).session.vm, None);
}

#[test]
fn snap_firefox_is_found_with_its_version() {
    let sys = linux()
        .with_file("/snap/bin/firefox", "")
        .with_file(
            "/snap/firefox/current/meta/snap.yaml",
            "name: firefox\nversion: 133.0-2\nsummary: Mozilla Firefox\n",
        )
        // Ubuntu's /usr/bin/firefox is only a launcher for the Snap.
        .with_file(
            "/usr/bin/firefox",
            "#!/bin/sh\nexec /snap/bin/firefox \"$@\"\n",
        );
    let env = gather_environment(&sys);
    let ff: Vec<_> = env
        .browsers
        .iter()
        .filter(|b| b.id == BrowserId::Firefox)
        .collect();
    assert_eq!(ff.len(), 1, "{:?}", env.browsers);
    assert_eq!(ff[0].packaging, Packaging::Snap);
    assert_eq!(ff[0].version.as_deref(), Some("133.0-2"));
}

#[test]
fn flatpak_chrome_is_found_system_wide_and_per_user() {
    let app = "com.google.Chrome";
    let sys = linux().with_file(
        &format!(
            "/var/lib/flatpak/app/{app}/current/active/files/share/metainfo/{app}.metainfo.xml"
        ),
        "<component><releases><release version=\"131.0.6778.85\" date=\"2024-11-19\"/>\
         <release version=\"130.0\"/></releases></component>",
    );
    let env = gather_environment(&sys);
    assert_eq!(env.browsers.len(), 1, "{:?}", env.browsers);
    let b = &env.browsers[0];
    assert_eq!(b.id, BrowserId::Chrome);
    assert_eq!(b.packaging, Packaging::Flatpak);
    assert_eq!(b.version.as_deref(), Some("131.0.6778.85"));

    let user = linux()
        .with_env("HOME", "/home/alice")
        .with_dir("/home/alice/.local/share/flatpak/app/org.mozilla.firefox");
    let env = gather_environment(&user);
    assert_eq!(env.browsers.len(), 1);
    assert_eq!(env.browsers[0].id, BrowserId::Firefox);
    assert_eq!(env.browsers[0].packaging, Packaging::Flatpak);
    assert_eq!(env.browsers[0].version, None);
}

#[test]
fn native_browsers_on_path_report_their_version() {
    let sys = linux()
        .with_file("/usr/bin/google-chrome", "")
        .with_command(
            "/usr/bin/google-chrome --version",
            0,
            "Google Chrome 131.0.6778.85 \n",
        )
        .with_file("/usr/local/bin/brave-browser", "");
    let env = gather_environment(&sys);
    let ids: Vec<_> = env.browsers.iter().map(|b| b.id).collect();
    assert_eq!(ids, vec![BrowserId::Chrome, BrowserId::Brave]);
    assert_eq!(env.browsers[0].packaging, Packaging::Native);
    assert_eq!(env.browsers[0].version.as_deref(), Some("131.0.6778.85"));
    assert_eq!(
        env.browsers[0].path.as_deref(),
        Some("/usr/bin/google-chrome")
    );
    // brave --version was not scripted: the version stays unknown.
    assert_eq!(env.browsers[1].version, None);
    assert!(gather_environment(&linux()).browsers.is_empty());
}

#[test]
fn unreadable_fido_hidraw_is_reported() {
    let sys = linux()
        .with_file("/dev/hidraw0", "")
        .with_file("/dev/hidraw1", "")
        .with_file("/dev/hidraw2", "")
        .with_file("/dev/hidraw-not", "")
        .with_file(
            "/sys/class/hidraw/hidraw0/device/report_descriptor",
            KEYBOARD_DESCRIPTOR,
        )
        .with_file(
            "/sys/class/hidraw/hidraw1/device/report_descriptor",
            FIDO_DESCRIPTOR,
        )
        .with_file(
            "/sys/class/hidraw/hidraw1/device/uevent",
            "DRIVER=hid-generic\nHID_ID=0003:00001050:00000407\nHID_NAME=Yubico YubiKey\n",
        )
        .with_file(
            "/sys/class/hidraw/hidraw2/device/report_descriptor",
            FIDO_DESCRIPTOR,
        )
        .with_denied("/dev/hidraw0")
        .with_denied("/dev/hidraw1");
    let hid = gather_environment(&sys).hid;
    assert_eq!(hid.hidraw_total, 3);
    assert_eq!(hid.hidraw_fido, 2);
    // hidraw0 is denied too, but it is a keyboard, not a FIDO device.
    assert_eq!(hid.hidraw_fido_unreadable, vec!["/dev/hidraw1".to_string()]);
    assert_eq!(
        hid.hidraw_fido_unreadable_ids,
        vec!["1050:0407".to_string()]
    );
    assert_eq!(hid.windows_elevated, None);
}

#[test]
fn macos_apps_are_read_from_info_plist() {
    let plist = "<?xml version=\"1.0\"?>\n<plist version=\"1.0\"><dict>\n\
                 <key>CFBundleName</key><string>Firefox</string>\n\
                 <key>CFBundleShortVersionString</key>\n  <string>133.0.3</string>\n</dict></plist>";
    let sys = FakeSystem::new("macos")
        .with_env("HOME", "/Users/alice")
        .with_file("/Applications/Firefox.app/Contents/Info.plist", plist)
        .with_file(
            "/Applications/Safari.app/Contents/Info.plist",
            "bplist00\u{1}\u{2}",
        )
        .with_dir("/Users/alice/Applications/Google Chrome.app");
    let env = gather_environment(&sys);
    let got: Vec<_> = env
        .browsers
        .iter()
        .map(|b| (b.id, b.version.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (BrowserId::Chrome, None),
            (BrowserId::Firefox, Some("133.0.3".to_string())),
            (BrowserId::Safari, None),
        ]
    );
    assert_eq!(
        env.browsers[0].path.as_deref(),
        Some("/Users/alice/Applications/Google Chrome.app")
    );
}

#[test]
fn windows_browsers_and_elevation() {
    let sys = FakeSystem::new("windows")
        .with_env("ProgramFiles", "C:\\Program Files")
        .with_env("LOCALAPPDATA", "C:\\Users\\bob\\AppData\\Local")
        .with_file(
            "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
            "",
        )
        .with_dir("C:\\Program Files\\Google\\Chrome\\Application\\119.0.6045.200")
        .with_dir("C:\\Program Files\\Google\\Chrome\\Application\\131.0.6778.86")
        .with_dir("C:\\Program Files\\Google\\Chrome\\Application\\SetupMetrics")
        .with_file(
            "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
            "",
        )
        .with_dir("C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\131.0.2903.70")
        .with_file("C:\\Program Files\\Mozilla Firefox\\firefox.exe", "")
        .with_file(
            "C:\\Program Files\\Mozilla Firefox\\application.ini",
            "[App]\r\nVendor=Mozilla\r\nName=Firefox\r\nVersion=133.0\r\n",
        )
        .with_file(
            "C:\\Users\\bob\\AppData\\Local\\BraveSoftware\\Brave-Browser\\Application\\brave.exe",
            "",
        )
        .with_command("net session", 2, "");
    let env = gather_environment(&sys);
    assert_eq!(env.os.family, OsFamily::Windows);
    let got: Vec<_> = env
        .browsers
        .iter()
        .map(|b| (b.id, b.version.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (BrowserId::Chrome, Some("131.0.6778.86".to_string())),
            (BrowserId::Edge, Some("131.0.2903.70".to_string())),
            (BrowserId::Firefox, Some("133.0".to_string())),
            (BrowserId::Brave, None),
        ]
    );
    assert_eq!(env.hid.windows_elevated, Some(false));
    let admin = FakeSystem::new("windows").with_command("net session", 0, "There are no entries");
    assert_eq!(gather_environment(&admin).hid.windows_elevated, Some(true));
    assert_eq!(
        gather_environment(&FakeSystem::new("windows"))
            .hid
            .windows_elevated,
        None
    );
}

#[test]
fn the_real_system_can_be_gathered() {
    let env = gather_environment(&RealSystem);
    let expected = match std::env::consts::OS {
        "windows" => vec![OsFamily::Windows],
        "macos" => vec![OsFamily::Macos],
        "linux" => vec![OsFamily::Linux, OsFamily::Chromeos],
        _ => OsFamily::ALL.to_vec(),
    };
    assert!(expected.contains(&env.os.family), "{:?}", env.os);
    assert!(env.hid.hidraw_fido <= env.hid.hidraw_total);
    assert!(env.hid.hidraw_fido_unreadable.len() <= env.hid.hidraw_fido);
}

/// A HID listing the OS refuses becomes a fact of the environment, so every
/// surface built from it (check, report, the app's diagnosis) says so.
#[test]
fn a_refused_hid_listing_is_a_fact() {
    let mut sys = FakeSystem::new("windows");
    assert_eq!(gather_environment(&sys).hid.list_error, None);
    sys.hid_list_error = Some("HID error on hidapi: WinError: Config(19)".into());
    let env = gather_environment(&sys);
    assert_eq!(
        env.hid.list_error.as_deref(),
        Some("HID error on hidapi: WinError: Config(19)")
    );
    let json = serde_json::to_value(&env).unwrap();
    assert_eq!(
        json["hid"]["list_error"],
        "HID error on hidapi: WinError: Config(19)"
    );
}
