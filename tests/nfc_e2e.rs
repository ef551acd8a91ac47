//! End to end through real PC/SC: this program's client → libpcsclite →
//! pcscd → vsmartcard's vpcd reader → `fido-doctor simulate --vpcd` as the
//! card. Needs the `nfc` feature and a running `pcscd` with the
//! `vsmartcard-vpcd` driver (CI starts `pcscd -f` itself; see `.ci/run`):
//!
//! ```sh
//! cargo test --features nfc --test nfc_e2e
//! ```
//!
//! The tests share vpcd's first reader, so they run one at a time.
#![cfg(feature = "nfc")]

use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_fido-doctor");
/// vpcd's first reader (card side on TCP 35963).
const READER: &str = "Virtual PCD 00 00";
const DEVICE: &str = "pcsc:Virtual PCD 00 00";

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run fido-doctor");
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        let _ = input.write_all(stdin.as_bytes());
    }
    child.wait_with_output().expect("wait for fido-doctor")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The virtual reader as `list --json` shows it.
fn reader() -> Value {
    let out = run(&["list", "--json"], "");
    let doc = json(&out);
    assert_eq!(
        doc["pcsc"]["state"], "ready",
        "PC/SC is not running: start `pcscd -f` with vsmartcard-vpcd installed ({doc})"
    );
    doc["pcsc"]["readers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == READER)
        .cloned()
        .unwrap_or_else(|| panic!("no reader {READER:?} (is vsmartcard-vpcd installed?): {doc}"))
}

fn wait_for_card(present: bool) {
    let until = Instant::now() + Duration::from_secs(15);
    while reader()["card_present"] != present {
        assert!(
            Instant::now() < until,
            "the card did not {} the reader",
            if present { "appear on" } else { "leave" }
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A simulated card on the virtual reader; taken off when dropped.
struct Card(Child);

impl Card {
    fn put(scenario: &str) -> Card {
        wait_for_card(false);
        let child = Command::new(BIN)
            .args(["simulate", "--vpcd", "--auto-touch", "--scenario", scenario])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the simulated card");
        let card = Card(child);
        wait_for_card(true);
        card
    }
}

impl Drop for Card {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        wait_for_card(false);
    }
}

fn probe() -> (Output, Value) {
    let out = run(
        &["probe", "--device", DEVICE, "--pin-stdin", "--json"],
        "1234\n",
    );
    let doc = json(&out);
    (out, doc)
}

fn check() -> (Output, Vec<String>) {
    let out = run(
        &["check", "--device", DEVICE, "--pin-stdin", "--json"],
        "1234\n",
    );
    let ids = json(&out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    (out, ids)
}

#[test]
fn list_shows_the_virtual_reader_and_the_card_on_it() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    assert_eq!(reader()["card_present"], false);
    let text = run(&["list"], "");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&format!("{DEVICE}  no card")), "{text}");
    let _card = Card::put("modern");
    assert!(reader()["atr"].as_str().is_some_and(|a| !a.is_empty()));
    let text = run(&["list"], "");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&format!("{DEVICE}  a card")), "{text}");
}

#[test]
fn modern_card_passes_the_probe() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let _card = Card::put("modern");
    let (out, doc) = probe();
    assert!(out.status.success(), "{doc:#}");
    assert_eq!(doc["key"]["value"]["kind"], "fido2");
    assert_eq!(doc["key"]["value"]["device"], DEVICE);
    assert_eq!(doc["registration"]["result"], "ok");
    assert_eq!(doc["authentication"]["result"], "ok");
    let (_, ids) = check();
    assert!(ids.contains(&"ok-key-ready".to_string()), "{ids:?}");
}

#[test]
fn u2f_only_card_is_found_unusable() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let _card = Card::put("u2f-only");
    let (_, doc) = probe();
    assert_eq!(doc["key"]["value"]["kind"], "u2f-only", "{doc:#}");
    let (out, ids) = check();
    assert_eq!(out.status.code(), Some(2));
    assert!(ids.contains(&"key-u2f-only".to_string()), "{ids:?}");
}

#[test]
fn pin_blocked_and_refusing_cards_fail_with_their_codes() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    // A blocked PIN is a finding about the key (2); a refusal on the key
    // means the check could not find out (3).
    for (scenario, code, finding, exit) in [
        ("pin-blocked", "pin-blocked", "pin-blocked", 2),
        ("refuse", "user-refused", "user-refused", 3),
    ] {
        let _card = Card::put(scenario);
        let (out, doc) = probe();
        assert_eq!(out.status.code(), Some(exit), "{scenario}: {doc:#}");
        assert_eq!(
            doc["registration"]["error"]["code"], code,
            "{scenario}: {doc:#}"
        );
        let (_, ids) = check();
        assert!(ids.contains(&finding.to_string()), "{scenario}: {ids:?}");
    }
}

#[test]
fn a_card_removed_mid_probe_is_reported() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    {
        let _card = Card::put("unplugged");
        let (out, doc) = probe();
        // The card left mid-check: the check could not run to the end.
        assert_eq!(out.status.code(), Some(3), "{doc:#}");
        assert_eq!(doc["key"]["result"], "ok", "{doc:#}");
        assert_eq!(
            doc["registration"]["error"]["code"], "device-gone",
            "{doc:#}"
        );
    }
    let _card = Card::put("unplugged");
    let (_, ids) = check();
    assert!(ids.contains(&"nfc-card-removed".to_string()), "{ids:?}");
    assert!(!ids.contains(&"device-unplugged".to_string()), "{ids:?}");
}

#[test]
fn nfc_chosen_with_no_key_on_the_reader() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    wait_for_card(false);
    let (out, ids) = check();
    assert_ne!(out.status.code(), Some(0));
    assert!(ids.contains(&"nfc-no-card".to_string()), "{ids:?}");
    assert!(!ids.contains(&"nfc-no-reader".to_string()), "{ids:?}");
}

#[test]
fn a_stopped_pcsc_service_is_its_own_finding() {
    // libpcsclite finds pcscd through this socket; pointing it nowhere is
    // what a computer without a running service looks like.
    let out = Command::new(BIN)
        .args(["check", "--device", "pcsc:", "--json"])
        .env("PCSCLITE_CSOCK_NAME", "/nonexistent/pcscd.comm")
        .stdin(Stdio::null())
        .output()
        .expect("run fido-doctor");
    let doc = json(&out);
    let ids: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"nfc-service-down"), "{ids:?}");
    assert_eq!(doc["environment"]["nfc"]["service"], "not-running");
    let list = Command::new(BIN)
        .args(["list"])
        .env("PCSCLITE_CSOCK_NAME", "/nonexistent/pcscd.comm")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("PC/SC service is not running"), "{text}");
}
