//! The terminal is given back in a usable state even when the app panics:
//! the real binary runs in a pseudo-terminal with the hidden variable
//! `FIDO_DOCTOR_PANIC_AFTER_FIRST_FRAME=1`, which makes it panic right after
//! drawing its first frame. The test checks the exit status, that the panic
//! message reaches the user's normal screen, that the alternate screen is
//! left and the cursor shown again, and that raw mode is switched off.
//! Every wait has a timeout; a child still running is killed on drop.

use std::io::Read;
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};

const TIMEOUT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(20);
const ROWS: u16 = 24;
const COLS: u16 = 80;

const ENTER_ALT_SCREEN: &[u8] = b"\x1b[?1049h";
const LEAVE_ALT_SCREEN: &[u8] = b"\x1b[?1049l";
const HIDE_CURSOR: &[u8] = b"\x1b[?25l";
const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

struct Output {
    parser: vt100::Parser,
    raw: Vec<u8>,
    eof: bool,
}

/// The binary running in a pseudo-terminal, its output collected.
struct Run {
    master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
    out: Arc<Mutex<Output>>,
}

fn lock(out: &Mutex<Output>) -> MutexGuard<'_, Output> {
    out.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn nz(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN)
}

impl Run {
    fn spawn(envs: &[(&str, &str)]) -> Run {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pseudo-terminal");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_fido-doctor"));
        cmd.cwd(env!("CARGO_MANIFEST_DIR"));
        for var in [
            "NO_COLOR",
            "LC_ALL",
            "LC_MESSAGES",
            "LANGUAGE",
            "RUST_BACKTRACE",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("LANG", "en_US.UTF-8");
        cmd.env("TERM", "xterm-256color");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn fido-doctor");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let out = Arc::new(Mutex::new(Output {
            parser: vt100::Parser::new(nz(ROWS), nz(COLS), 0),
            raw: Vec::new(),
            eof: false,
        }));
        let feed = Arc::clone(&out);
        thread::Builder::new()
            .name("pty-reader".into())
            .spawn(move || {
                let mut buf = [0u8; 8192];
                loop {
                    let n = match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let Some(chunk) = buf.get(..n) else { break };
                    let mut o = lock(&feed);
                    o.parser.process(chunk);
                    o.raw.extend_from_slice(chunk);
                }
                lock(&feed).eof = true;
            })
            .expect("start the reader thread");
        Run {
            master: pair.master,
            child,
            out,
        }
    }

    /// Waits (bounded) for the child to exit and its output to be read.
    fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("poll the child") {
                break status;
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "still running after {TIMEOUT:?}\n{}",
                self.dump()
            );
            thread::sleep(POLL);
        };
        while !lock(&self.out).eof && start.elapsed() < TIMEOUT {
            thread::sleep(POLL);
        }
        status
    }

    fn raw(&self) -> Vec<u8> {
        lock(&self.out).raw.clone()
    }

    fn screen(&self) -> String {
        let o = lock(&self.out);
        let rows: Vec<String> = o.parser.screen().rows(0, COLS).collect();
        rows.join("\n")
    }

    /// Names of the local-mode flags set on the terminal (`ICANON`, ...).
    fn local_flags(&self) -> Vec<String> {
        let termios = self.master.get_termios().expect("read the pty's termios");
        format!("{:?}", termios.local_flags)
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn dump(&self) -> String {
        format!(
            "--- screen ---\n{}\n--- raw output ---\n{:?}",
            self.screen(),
            String::from_utf8_lossy(&self.raw())
        )
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let start = Instant::now();
            while matches!(self.child.try_wait(), Ok(None)) && start.elapsed() < TIMEOUT {
                thread::sleep(POLL);
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

#[test]
fn terminal_is_restored_after_a_panic() {
    let mut run = Run::spawn(&[("FIDO_DOCTOR_PANIC_AFTER_FIRST_FRAME", "1")]);
    let status = run.wait_exit();
    let dump = run.dump();
    assert!(
        !status.success(),
        "a panic must fail the process, got {status:?}\n{dump}"
    );

    let raw = run.raw();
    let entered = find(&raw, ENTER_ALT_SCREEN);
    assert!(
        entered.is_some(),
        "the first frame was drawn on the alternate screen\n{dump}"
    );
    let frame = entered.and_then(|i| raw.get(i..)).unwrap_or_default();
    assert!(
        find(frame, b"fido-doctor").is_some(),
        "the first frame (tab row with the app name) was drawn before the panic\n{dump}"
    );

    let panic_at = rfind(&raw, b"panicked");
    assert!(panic_at.is_some(), "the panic message is printed\n{dump}");
    let left = rfind(&raw, LEAVE_ALT_SCREEN);
    assert!(
        left > rfind(&raw, ENTER_ALT_SCREEN),
        "the alternate screen is left (ESC[?1049l)\n{dump}"
    );
    assert!(
        left < panic_at,
        "the alternate screen is left before the message is printed, \
         so the message stays visible\n{dump}"
    );
    let shown = rfind(&raw, SHOW_CURSOR);
    assert!(
        shown.is_some() && shown > rfind(&raw, HIDE_CURSOR),
        "the cursor is shown again (ESC[?25h)\n{dump}"
    );

    {
        let o = lock(&run.out);
        let screen = o.parser.screen();
        assert!(
            !screen.alternate_screen(),
            "back on the main screen\n{dump}"
        );
        assert!(!screen.hide_cursor(), "cursor visible\n{dump}");
    }
    assert!(
        run.screen().contains("panicked"),
        "the panic message is on the user's screen after exit\n{dump}"
    );

    let flags = run.local_flags();
    assert!(
        ["ICANON", "ECHO", "ISIG"]
            .iter()
            .all(|f| flags.iter().any(|a| a == f)),
        "raw mode is left (line editing, echo and signals back on), got {flags:?}"
    );
}

/// Without the variable the same run does not panic: the test above sees
/// the effect of the variable, not of something else.
#[test]
fn no_panic_without_the_variable() {
    let mut run = Run::spawn(&[]);
    let start = Instant::now();
    loop {
        let drawn = {
            let o = lock(&run.out);
            o.parser.screen().alternate_screen()
                && o.parser.screen().contents().contains("fido-doctor")
        };
        if drawn {
            break;
        }
        assert!(
            start.elapsed() < TIMEOUT,
            "no first frame within {TIMEOUT:?}\n{}",
            run.dump()
        );
        thread::sleep(POLL);
    }
    let mut writer = run.master.take_writer().expect("pty writer");
    std::io::Write::write_all(&mut writer, b"q").expect("press q");
    let status = run.wait_exit();
    assert!(status.success(), "{status:?}\n{}", run.dump());
    assert!(
        !String::from_utf8_lossy(&run.raw()).contains("panicked"),
        "{}",
        run.dump()
    );
}
