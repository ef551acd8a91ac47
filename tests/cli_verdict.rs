//! The command line's verdict as a user meets it: exit codes (64 for usage
//! errors, 3 when a check could not run), a closed pipe, `-o FILE`, a
//! described computer judged with its key, and PIN safety over `sim:pin-low`.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

#[path = "fixtures/cli_support.rs"]
mod cli_support;
use cli_support::*;

fn failures(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["failure"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn usage_errors_exit_64_and_help_states_the_exit_codes() {
    let out = run(&["check", "--os", "beos", "--browser", "chrome"], "");
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("beos"));
    let out = run(&["--no-such-flag"], "");
    assert_eq!(out.status.code(), Some(64));
    let help = run(&["--help"], "");
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    for line in [
        "0   all ok",
        "1   warnings",
        "2   failures",
        "3   the check could not run",
        "64  usage error",
    ] {
        assert!(text.contains(line), "{line:?} missing from --help:\n{text}");
    }
    let readme = include_str!("../README.md");
    assert!(readme.contains("| 64 | usage error"), "README states 64");
    assert!(
        readme.contains("| 3 | the check could not run"),
        "README states 3"
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let mut child = bin()
        .args(["probe", "--device", "sim:modern", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -1`: read one line, then close the pipe.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(first.trim(), "{");
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
    let whole = bin()
        .args(["probe", "--device", "sim:modern", "--json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        whole.status.code(),
        "the probe's own verdict: {err}"
    );

    // Closed before anything is written (the probe takes a while).
    let mut child = bin()
        .args(["check", "--device", "sim:modern", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(matches!(out.status.code(), Some(0..=3)), "{:?}", out.status);
}

#[test]
fn report_to_a_file_exits_with_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.md");
    let path = path.to_str().unwrap();
    let args = [
        "--device",
        "sim:u2f-only",
        "--os",
        "windows",
        "--browser",
        "edge",
    ];
    let to_file = run(&[&["report", "-o", path][..], &args[..]].concat(), "");
    let to_stdout = run(&[&["report"][..], &args[..]].concat(), "");
    assert_eq!(to_file.status.code(), to_stdout.status.code());
    assert_eq!(to_file.status.code(), Some(2), "a U2F-only key fails");
    let md = std::fs::read_to_string(path).unwrap();
    assert!(md.contains("U2F-only"), "{md}");
    assert!(md.contains("Microsoft Edge on Windows"), "{md}");
}

#[test]
fn a_described_computer_is_judged_together_with_the_key() {
    let out = run(
        &[
            "check",
            "--os",
            "windows",
            "--browser",
            "edge",
            "--device",
            "sim:u2f-only",
        ],
        "",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Microsoft Edge on Windows"), "{text}");
    assert!(text.contains("U2F-only"), "the key is judged too: {text}");
    assert_eq!(out.status.code(), Some(2));
    // Plain text: Markdown rendered, guide pages by title, no ids.
    assert!(!text.contains("**") && !text.contains('`'), "{text}");
    assert!(text.contains("Guide page: "), "{text}");
    assert!(
        !text.contains("guide: ") && !text.contains("key-u2f-only"),
        "{text}"
    );
}

#[test]
fn nothing_at_the_address_is_said_so() {
    let out = run(&["check", "--device", "hid:/nope"], "");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("There is no key at hid:/nope"), "{text}");
    assert_eq!(out.status.code(), Some(3));
}

/// A Windows device path (backslashes) or a name with Markdown characters
/// reads as written once the advice's Markdown is rendered.
#[test]
fn a_device_path_with_markdown_characters_reads_as_written() {
    let device = r"hid:\\?\hid#vid_1050&pid_0407*mi_01";
    let out = run(&["check", "--device", device], "");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("There is no key at {device}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("Nothing answers at {device}")),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn an_address_in_use_is_not_no_such_device() {
    let busy = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let device = format!("udp:127.0.0.1:9,listen=127.0.0.1:{port}");
    let out = run(&["check", "--device", &device, "--json"], "");
    let v = json(&out);
    let codes = failures(&v);
    assert!(codes.contains(&"open-failed".to_string()), "{codes:?}");
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["failure"] == "open-failed")
        .unwrap();
    assert!(
        f["explain"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("in use"),
        "the OS's reason is shown: {f}"
    );
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn a_wrong_pin_is_named_with_the_attempts_left() {
    let out = run(
        &["check", "--device", "sim:modern", "--pin-stdin", "--json"],
        "9999\n",
    );
    let v = json(&out);
    assert!(failures(&v).contains(&"pin-invalid".to_string()), "{v}");
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["failure"] == "pin-invalid")
        .unwrap();
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("Attempts left on the key: 7"),
        "{f}"
    );
    assert!(!f["title"].as_str().unwrap().contains("nexpected"), "{f}");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn pin_low_warns_and_never_spends_the_last_attempt_unasked() {
    // Two attempts left: the warning comes before the PIN is used; the wrong
    // PIN leaves one, which the check does not spend.
    let out = run(
        &["check", "--device", "sim:pin-low", "--pin-stdin", "--json"],
        "9999\n",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Only 2 PIN attempts left"), "{err}");
    assert!(err.contains("--allow-last-pin-attempt"), "{err}");
    let v = json(&out);
    assert!(
        failures(&v).contains(&"pin-last-attempt-withheld".to_string()),
        "{}",
        serde_json::to_string_pretty(&v["findings"]).unwrap()
    );
    assert_eq!(out.status.code(), Some(3));
    // The right PIN goes through.
    let ok = run(
        &["check", "--device", "sim:pin-low", "--pin-stdin", "--json"],
        "1234\n",
    );
    let v = json(&ok);
    assert!(failures(&v).is_empty(), "{v}");
    assert!(!String::from_utf8_lossy(&ok.stdout).contains("1234"));
}
