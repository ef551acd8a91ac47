//! The interactive key-care prompts in a pseudo-terminal: the new PIN is
//! asked twice and masked, a too-short PIN and a mismatched confirmation are
//! asked again (never sent), and `reset-key` goes on only after the typed
//! confirmation word. Every wait has a generous timeout; no timing is asserted.

// Unix only: under wine's ConPTY (the Windows CI job) nothing the program
// writes reaches the pseudo-terminal, so no prompt ever appears.
#![cfg(unix)]

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};

const TIMEOUT: Duration = Duration::from_secs(20);

struct Session {
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    out: Arc<Mutex<Vec<u8>>>,
    /// Output already matched by [`Session::expect`].
    seen: usize,
}

impl Session {
    fn spawn(args: &[&str]) -> Session {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pseudo-terminal");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_fido-doctor"));
        cmd.args(args);
        cmd.env("LANG", "en_US.UTF-8");
        cmd.env("TERM", "xterm-256color");
        let child = pair.slave.spawn_command(cmd).expect("spawn fido-doctor");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let out = Arc::new(Mutex::new(Vec::new()));
        let feed = Arc::clone(&out);
        thread::spawn(move || {
            // Keep the master alive as long as the reader runs.
            let _master = pair.master;
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                feed.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Session {
            writer,
            child,
            out,
            seen: 0,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    /// Waits until `what` appears after what was already matched.
    fn expect(&mut self, what: &str) {
        let start = Instant::now();
        loop {
            let all = self.text();
            if let Some(i) = all.get(self.seen..).and_then(|rest| rest.find(what)) {
                self.seen += i + what.len();
                return;
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "{what:?} did not appear; output so far:\n{all}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn type_line(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).unwrap();
        self.writer.write_all(b"\r").unwrap();
        self.writer.flush().unwrap();
    }

    fn wait(&mut self) -> u32 {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.exit_code();
            }
            assert!(start.elapsed() < TIMEOUT, "still running:\n{}", self.text());
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn pin_set_asks_twice_masked_and_again_after_bad_entries() {
    let mut s = Session::spawn(&["pin", "set", "--device", "sim:no-pin"]);
    s.expect("can read it back");
    s.expect("New PIN: ");
    s.type_line("123");
    s.expect("too short: at least 4 characters");
    s.expect("New PIN: ");
    s.type_line("4826");
    s.expect("The same PIN again: ");
    s.type_line("4827");
    s.expect("differ; nothing was sent");
    s.expect("New PIN: ");
    s.type_line("4826");
    s.expect("The same PIN again: ");
    s.type_line("4826");
    s.expect("PIN set.");
    s.expect("8 attempts left");
    assert_eq!(s.wait(), 0);
    let all = s.text();
    assert!(all.contains("****"), "masked echo: {all}");
    assert!(!all.contains("4826") && !all.contains("4827"), "{all}");
}

#[test]
fn pin_set_gives_up_after_three_bad_entries() {
    let mut s = Session::spawn(&["pin", "set", "--device", "sim:no-pin"]);
    for _ in 0..3 {
        s.expect("New PIN: ");
        s.type_line("12");
    }
    assert_eq!(s.wait(), 64);
}

#[test]
fn reset_goes_on_only_after_the_typed_word() {
    let mut s = Session::spawn(&["reset-key", "--device", "sim:pin-blocked"]);
    s.expect("Type RESET");
    s.type_line("reset");
    // Wait for the words, not only the exit: the reader may lag behind it.
    s.expect("nothing was done");
    assert_eq!(s.wait(), 64);

    let mut s = Session::spawn(&["reset-key", "--device", "sim:pin-blocked"]);
    s.expect("every service");
    s.expect("Type RESET");
    s.type_line("RESET");
    s.expect("Touch the key now");
    s.expect("The key is reset");
    assert_eq!(s.wait(), 0);
}
