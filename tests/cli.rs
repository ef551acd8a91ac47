//! The binary's commands, run as a user would run them: against the built-in
//! simulator, and over UDP against `fido-doctor simulate` on loopback.

use std::process::Stdio;
use std::time::Duration;

#[path = "fixtures/cli_support.rs"]
mod cli_support;
use cli_support::*;

#[test]
fn scenarios_are_listed_as_devices() {
    let out = bin().args(["scenarios", "--json"]).output().unwrap();
    assert!(out.status.success());
    let v = json(&out);
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for expected in ["modern", "no-pin", "u2f-only", "pin-blocked", "malformed"] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
}

#[test]
fn probe_with_pin_from_stdin_verifies_both_stages() {
    let out = run(
        &["probe", "--device", "sim:modern", "--pin-stdin", "--json"],
        "1234\n",
    );
    let v = json(&out);
    assert!(out.status.success(), "{v}");
    assert_eq!(v["registration"]["result"], "ok");
    assert_eq!(v["authentication"]["result"], "ok");
    assert_eq!(v["registration"]["value"]["user_verification"], "pin");
    assert_eq!(
        v["registration"]["value"]["attestation"]["format"],
        "packed"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("1234"), "the PIN must never be printed");
}

#[test]
fn wrong_pin_fails_without_success_and_exits_2() {
    let out = run(
        &["probe", "--device", "sim:modern", "--pin-stdin", "--json"],
        "9999\n",
    );
    assert_eq!(out.status.code(), Some(2));
    let v = json(&out);
    assert_eq!(v["registration"]["result"], "failed");
    // The PIN source declines a second try; the wrong PIN is what is reported.
    assert_eq!(v["registration"]["error"]["code"], "pin-invalid");
    assert_ne!(v["authentication"]["result"], "ok");
}

#[test]
fn u2f_only_key_is_reported_as_such() {
    let out = bin()
        .args(["info", "--device", "sim:u2f-only", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v = json(&out);
    assert_eq!(v["kind"], "u2f-only");
    assert_eq!(v["init"]["capabilities"]["cbor"], false);
}

#[test]
fn bad_device_string_is_a_clear_error() {
    let out = bin()
        .args(["info", "--device", "usb:whatever"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("usb:whatever") && err.contains("unknown device kind"),
        "{err}"
    );
}

#[test]
fn probe_over_udp_against_the_simulate_command() {
    let (_server, device) = serve("no-pin");
    let out = bin()
        .args(["probe", "--device", &device, "--json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let v = json(&out);
    assert!(out.status.success(), "{v}");
    assert_eq!(v["device"], device);
    assert_eq!(v["key"]["value"]["kind"], "fido2");
    assert_eq!(v["authentication"]["result"], "ok");
}

/// Interrupts `pid` the way a user's Ctrl-C does: SIGINT on Unix.
#[cfg(unix)]
fn interrupt(pid: u32) {
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Interrupts `pid` the way a user's Ctrl-C does: on Windows a console
/// control event (Ctrl-Break: Ctrl-C cannot be sent to another process
/// group) to the process group the child leads.
#[cfg(windows)]
fn interrupt(pid: u32) {
    use windows::Win32::System::Console::{CTRL_BREAK_EVENT, GenerateConsoleCtrlEvent};
    // SAFETY: sends a console event; no memory is involved.
    unsafe { GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, pid) }.expect("console event sent");
}

#[test]
// Under wine the test process is attached to a "Shell-no-window" console,
// which refuses console control events (ERROR_INVALID_ACCESS); a console
// made with FreeConsole + AllocConsole, or one on a pseudo-terminal, refuses
// events aimed at a process group (ERROR_INVALID_HANDLE). Only Ctrl-C to the
// whole console gets through there, and that would also stop cargo and the
// other tests' children on Windows. On Windows this sends Ctrl-Break to the
// child's own process group.
#[cfg_attr(
    windows,
    ignore = "wine's consoles refuse console control events (needs real Windows)"
)]
fn simulate_stops_cleanly_on_ctrl_c() {
    let port = free_port();
    let mut cmd = bin();
    cmd.args([
        "simulate",
        "--scenario",
        "modern",
        "--auto-touch",
        "--listen",
        &format!("127.0.0.1:{port}"),
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        // CREATE_NEW_PROCESS_GROUP: the event reaches the simulator only.
        cmd.creation_flags(0x0000_0200);
    }
    // Stopped (killed) on drop, whatever happens below.
    let mut server = Server(cmd.spawn().unwrap());
    std::thread::sleep(Duration::from_millis(500));
    interrupt(server.0.id());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = server.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "simulate did not stop on Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(server.0.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{status:?} {err}");
    assert!(err.contains("simulator stopped"), "{err}");
}

#[test]
fn check_for_another_computer_uses_the_matrix_and_exit_codes() {
    let bad = bin()
        .args(["check", "--os", "android", "--browser", "firefox", "--json"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let v = json(&bad);
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"combo-unsupported"), "{ids:?}");

    let good = bin()
        .args(["check", "--os", "windows", "--browser", "edge", "--json"])
        .output()
        .unwrap();
    assert_eq!(good.status.code(), Some(0), "{}", json(&good));

    let unknown = bin()
        .args(["check", "--os", "beos", "--browser", "edge"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown OS"));
}

#[test]
fn report_for_a_u2f_only_key_names_the_problem_and_holds_no_pin() {
    let out = run(
        &[
            "report",
            "--device",
            "sim:u2f-only",
            "--format",
            "json",
            "--redact",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let v = json(&out);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["redacted"], true);
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"key-u2f-only"), "{ids:?}");
    let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(!text.contains("\"pin\""), "no PIN field may appear");

    let md = run(
        &["report", "--device", "sim:modern", "--pin-stdin"],
        "1234\n",
    );
    let md_text = String::from_utf8_lossy(&md.stdout);
    assert!(md_text.starts_with("# "), "{md_text}");
    assert!(
        !md_text.contains("1234"),
        "the PIN must never reach a report"
    );
}

#[test]
fn a_device_that_is_not_there_is_named_not_reported_unplugged() {
    let out = bin()
        .args([
            "check",
            "--device",
            "hid:/dev/fido-doctor-no-such-device",
            "--json",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let v = json(&out);
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"device-unplugged"), "{ids:?}");
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["failure"] == "not-found")
        .unwrap_or_else(|| panic!("no not-found finding: {ids:?}"));
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .contains("/dev/fido-doctor-no-such-device"),
        "{f}"
    );
    assert_eq!(f["outcome"], "could-not-run");
    assert_eq!(
        out.status.code(),
        Some(3),
        "nothing was checked: could not run"
    );
}

/// The WebAuthn-API path exists on Windows only; elsewhere it says so and
/// runs nothing (never a report that looks like a probe).
#[cfg(not(windows))]
#[test]
fn the_webauthn_api_path_says_it_is_windows_only() {
    let out = bin()
        .args(["probe", "--device", "webauthn:", "--json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("works on Windows only"), "{err}");
}
