//! Unix-only: portable-pty's termios access (`get_termios`) and the Unix pty
//! mechanics these tests rely on do not exist on Windows (ConPTY); the
//! real-terminal path on Windows is covered by the Windows CI job's smoke run.
#![cfg(unix)]

//! End-to-end tests of the real `fido-doctor` binary in a pseudo-terminal:
//! the program is spawned on a pty of a fixed size, a reader thread feeds
//! everything it writes into a vt100 parser, and the tests press keys and
//! read the parsed screen like a user would: the guide, help, panes,
//! Japanese, resizing, quitting, the terminal restored (also after a panic,
//! forced with the hidden `FIDO_DOCTOR_PANIC_AFTER_FIRST_FRAME=1`), and a
//! full practice check against a simulated key. Expected texts come from the content
//! files (`content/*/{ui,live,scenarios}.toml`, the guide), so rewording the
//! content does not break the tests. No timing is asserted; every wait has a
//! generous timeout and a child that is still running is killed on drop.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use fido_doctor::content::guide::Content;
use fido_doctor::content::{ContentSource, Lang};
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

/// How long any one expected screen may take to appear (CI machines are slow).
const TIMEOUT: Duration = Duration::from_secs(20);
/// A screen counts as drawn once it has not changed for this long.
const STABLE: Duration = Duration::from_millis(100);
/// How often the screen is checked while waiting.
const POLL: Duration = Duration::from_millis(20);

const ENTER_ALT_SCREEN: &[u8] = b"\x1b[?1049h";
const LEAVE_ALT_SCREEN: &[u8] = b"\x1b[?1049l";
const HIDE_CURSOR: &[u8] = b"\x1b[?25l";
const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

/// What the reader thread shares with the test.
struct Shared {
    parser: vt100::Parser,
    raw: Vec<u8>,
    last_output: Instant,
    eof: bool,
}

/// The binary running in a pseudo-terminal.
struct Pty {
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    shared: Arc<Mutex<Shared>>,
    size: (u16, u16),
}

fn nz(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n.max(1)).unwrap_or(NonZeroU16::MIN)
}

fn pty_size(cols: u16, rows: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

impl Pty {
    /// Starts `fido-doctor ARGS` on a `cols`×`rows` terminal with `LANG=lang`.
    fn spawn(args: &[&str], cols: u16, rows: u16, lang: &str) -> Pty {
        Pty::spawn_env(args, cols, rows, lang, &[])
    }

    /// Like [`Pty::spawn`], with extra environment variables.
    fn spawn_env(args: &[&str], cols: u16, rows: u16, lang: &str, envs: &[(&str, &str)]) -> Pty {
        let pair = native_pty_system()
            .openpty(pty_size(cols, rows))
            .expect("open a pseudo-terminal");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_fido-doctor"));
        cmd.args(args);
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
        cmd.env("LANG", lang);
        cmd.env("TERM", "xterm-256color");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn fido-doctor");
        // Only the child keeps the slave open, so reads end when it exits.
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let shared = Arc::new(Mutex::new(Shared {
            parser: vt100::Parser::new(nz(rows), nz(cols), 0),
            raw: Vec::new(),
            last_output: Instant::now(),
            eof: false,
        }));
        let feed = Arc::clone(&shared);
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
                    let mut s = lock(&feed);
                    s.parser.process(chunk);
                    s.raw.extend_from_slice(chunk);
                    s.last_output = Instant::now();
                }
                lock(&feed).eof = true;
            })
            .expect("start the reader thread");
        Pty {
            master: pair.master,
            writer,
            child,
            shared,
            size: (cols, rows),
        }
    }

    /// The parsed screen, one line per row (trailing blanks kept).
    fn screen(&self) -> String {
        let s = lock(&self.shared);
        let (_, cols) = s.parser.screen().size();
        let rows: Vec<String> = s.parser.screen().rows(0, cols.get()).collect();
        rows.join("\n")
    }

    /// Everything the program wrote so far, escape sequences included.
    fn raw(&self) -> Vec<u8> {
        lock(&self.shared).raw.clone()
    }

    /// Types `keys` (bytes as a terminal sends them).
    fn send(&mut self, keys: &str) {
        self.writer
            .write_all(keys.as_bytes())
            .and_then(|()| self.writer.flush())
            .unwrap_or_else(|e| panic!("writing {keys:?} to the pty: {e}\n{}", self.dump()));
    }

    /// Resizes the terminal (the program gets SIGWINCH) and the parser.
    fn resize(&mut self, cols: u16, rows: u16) {
        lock(&self.shared).parser.set_size(nz(rows), nz(cols));
        self.master
            .resize(pty_size(cols, rows))
            .expect("resize the pty");
        self.size = (cols, rows);
    }

    /// Waits until `done(screen)` holds on a screen that has been stable for
    /// [`STABLE`]; panics with the screen after [`TIMEOUT`].
    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        self.wait_stable(what, STABLE, done)
    }

    /// Waits until `done(screen)` holds on a screen that has not changed
    /// for `stable` (shorter for screens with an animation).
    fn wait_stable(&self, what: &str, stable: Duration, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        let mut last = String::new();
        let mut since = Instant::now();
        loop {
            let screen = self.screen();
            if screen != last {
                last = screen;
                since = Instant::now();
            }
            let quiet = lock(&self.shared).last_output.elapsed() >= stable;
            if done(&last) && since.elapsed() >= stable && quiet {
                return last;
            }
            if start.elapsed() > TIMEOUT {
                panic!(
                    "timed out after {TIMEOUT:?} waiting for {what}\n{}",
                    self.dump()
                );
            }
            thread::sleep(POLL);
        }
    }

    /// Waits until `text` is on a stable screen.
    fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?} on screen"), |s| s.contains(text))
    }

    /// Waits until `text` is no longer on a stable screen.
    fn wait_gone(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?} to disappear"), |s| !s.contains(text))
    }

    /// Waits for the program to end and for its last output to be read.
    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let start = Instant::now();
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => {}
                Err(e) => panic!("waiting for the child: {e}\n{}", self.dump()),
            }
            if start.elapsed() > TIMEOUT {
                panic!(
                    "the program did not exit within {TIMEOUT:?}\n{}",
                    self.dump()
                );
            }
            thread::sleep(POLL);
        };
        // The reader sees end of file once the child's side is closed.
        while !lock(&self.shared).eof && start.elapsed() < TIMEOUT {
            thread::sleep(POLL);
        }
        status
    }

    /// Waits for the program to end and checks that it succeeded and left
    /// the terminal as it found it.
    fn expect_clean_exit(&mut self) {
        let status = self.wait_exit();
        assert!(
            status.success(),
            "exit status {status:?}, expected success\n{}",
            self.dump()
        );
        assert_restored(&self.raw(), &self.dump());
        let s = lock(&self.shared);
        assert!(
            !s.parser.screen().alternate_screen(),
            "still on the alternate screen after exit"
        );
        assert!(
            !s.parser.screen().hide_cursor(),
            "cursor still hidden after exit"
        );
    }

    /// The names of the terminal's local-mode flags that are set
    /// (`ICANON`, `ECHO`, `ISIG`, ...).
    fn local_flags(&self) -> Vec<String> {
        let termios = self.master.get_termios().expect("read the pty's termios");
        format!("{:?}", termios.local_flags)
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The screen and the tail of the raw output, for failure messages.
    fn dump(&self) -> String {
        let raw = self.raw();
        let tail = raw.get(raw.len().saturating_sub(400)..).unwrap_or(&raw);
        format!(
            "--- screen {}x{} ---\n{}\n--- end of screen; last raw bytes: {:?}",
            self.size.0,
            self.size.1,
            self.screen(),
            String::from_utf8_lossy(tail)
        )
    }
}

impl Drop for Pty {
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

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// The program entered the alternate screen and hid the cursor while it
/// ran, and its output ends by leaving the alternate screen and showing
/// the cursor again.
fn assert_restored(raw: &[u8], dump: &str) {
    let entered = rfind(raw, ENTER_ALT_SCREEN);
    let left = rfind(raw, LEAVE_ALT_SCREEN);
    assert!(
        entered.is_some(),
        "never entered the alternate screen\n{dump}"
    );
    assert!(
        left > entered,
        "did not leave the alternate screen (ESC[?1049l) after entering it\n{dump}"
    );
    let shown = rfind(raw, SHOW_CURSOR);
    assert!(
        shown.is_some() && shown > rfind(raw, HIDE_CURSOR),
        "did not show the cursor (ESC[?25h) after hiding it\n{dump}"
    );
}

/// A string from `content/<lang>/<file>` by dotted key, if there is one.
fn content_str(lang: &str, file: &str, key: &str) -> Option<String> {
    let path = format!("{}/content/{lang}/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).ok()?;
    let table: toml::Table = text.parse().unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut value = toml::Value::Table(table);
    for part in key.split('.') {
        value = value.get(part)?.clone();
    }
    value.as_str().map(str::to_string)
}

/// A UI label by dotted key (`help.close`), from `content/<lang>/ui.toml`
/// or, for the live parts of the app, `content/<lang>/live.toml`.
fn ui(lang: &str, key: &str) -> String {
    content_str(lang, "ui.toml", key)
        .or_else(|| content_str(lang, "live.toml", key))
        .unwrap_or_else(|| panic!("no label {key} in content/{lang}/ui.toml or live.toml"))
}

/// The text of a label before its first `{placeholder}`.
fn before_placeholder(label: &str) -> &str {
    label.split('{').next().unwrap_or(label).trim()
}

/// The guide page titles in `lang`, in order.
fn titles(lang: Lang) -> Vec<String> {
    let content = Content::load(&ContentSource::Embedded, lang).expect("embedded content loads");
    content.guide.steps.into_iter().map(|s| s.title).collect()
}

/// The start of `title` that fits in `cols` terminal columns (whole
/// characters), so it is found on screen even where the title wraps.
fn head(title: &str, cols: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in title.chars() {
        let w = if c.is_ascii() { 1 } else { 2 };
        if used + w > cols {
            break;
        }
        used += w;
        out.push(c);
    }
    out.trim_end().to_string()
}

fn has_japanese(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
}

const DOWN: &str = "\x1b[B";
const TAB: &str = "\t";
const SHIFT_TAB: &str = "\x1b[Z";
const ESC: &str = "\x1b";
const CTRL_C: &str = "\x03";

#[test]
fn guide_navigation_help_panes_and_quit_at_80x24() {
    let titles = titles(Lang::En);
    assert!(titles.len() >= 3, "the guide has at least three pages");
    let first = head(&titles[0], 24);
    let second = head(&titles[1], 24);
    let third = head(&titles[2], 24);

    let mut pty = Pty::spawn(&[], 80, 24, "en_US.UTF-8");
    let screen = pty.wait_for(&first);
    assert!(screen.contains(&ui("en", "app.title")), "{}", pty.dump());
    assert!(screen.contains(&ui("en", "tabs.guide")), "{}", pty.dump());
    assert!(
        !screen.contains(&second),
        "second page title shown on the first page\n{}",
        pty.dump()
    );

    pty.send("j");
    let screen = pty.wait_for(&second);
    assert!(
        !screen.contains(&first),
        "first page title still shown after j\n{}",
        pty.dump()
    );
    pty.send(DOWN);
    pty.wait_for(&third);
    pty.send("k");
    pty.wait_for(&second);

    let close = ui("en", "help.close");
    pty.send("?");
    let screen = pty.wait_for(&close);
    assert!(screen.contains(&ui("en", "help.move")), "{}", pty.dump());
    // Esc closes the help first and does not quit.
    pty.send(ESC);
    let screen = pty.wait_gone(&close);
    assert!(
        screen.contains(&second),
        "the guide page is back after closing help\n{}",
        pty.dump()
    );

    let keys_title = ui("en", "keys.title");
    pty.send(TAB);
    let screen = pty.wait_for(&keys_title);
    assert!(
        !screen.contains(&second),
        "the guide page is hidden on the Keys pane\n{}",
        pty.dump()
    );
    pty.send(SHIFT_TAB);
    pty.wait_for(&second);

    pty.send("q");
    pty.expect_clean_exit();
}

#[test]
fn panes_cycle_and_arrows_move_at_120x40() {
    let titles = titles(Lang::En);
    let first = head(&titles[0], 40);
    let second = head(&titles[1], 40);

    let mut pty = Pty::spawn(&["tui"], 120, 40, "en_US.UTF-8");
    pty.wait_for(&first);
    pty.send(DOWN);
    pty.wait_for(&second);

    let contents = ui("en", "guide.contents");
    pty.send(TAB);
    let screen = pty.wait_for(&ui("en", "keys.title"));
    assert!(!screen.contains(&contents), "{}", pty.dump());
    // The diagnosis title is also a tab label: look for it in the frame
    // title row, below the tab row.
    let diagnosis = ui("en", "diagnosis.title");
    pty.send(TAB);
    let screen = pty.wait_until("the diagnosis pane", |s| {
        s.lines().nth(1).is_some_and(|row| row.contains(&diagnosis))
    });
    assert!(!screen.contains(&contents), "{}", pty.dump());
    pty.send(TAB);
    let screen = pty.wait_for(&second);
    assert!(
        screen.contains(&ui("en", "guide.contents")),
        "the step list is back\n{}",
        pty.dump()
    );

    pty.send("q");
    pty.expect_clean_exit();
}

#[test]
fn lang_ja_flag_shows_japanese() {
    let titles = titles(Lang::Ja);
    let first = head(&titles[0], 30);
    let mut pty = Pty::spawn(&["--lang", "ja"], 120, 40, "en_US.UTF-8");
    let screen = pty.wait_for(&first);
    assert!(has_japanese(&screen), "{}", pty.dump());
    for key in ["tabs.guide", "tabs.keys", "tabs.diagnosis"] {
        assert!(screen.contains(&ui("ja", key)), "{key}\n{}", pty.dump());
    }
    let english = head(&self::titles(Lang::En)[0], 30);
    assert!(
        !screen.contains(&english),
        "English title shown with --lang ja\n{}",
        pty.dump()
    );
    pty.send("q");
    pty.expect_clean_exit();
}

#[test]
fn japanese_locale_shows_japanese_without_flag() {
    let first = head(&titles(Lang::Ja)[0], 24);
    let mut pty = Pty::spawn(&[], 80, 24, "ja_JP.UTF-8");
    let screen = pty.wait_for(&first);
    assert!(
        screen.contains(&ui("ja", "tabs.diagnosis")),
        "{}",
        pty.dump()
    );
    pty.send("q");
    pty.expect_clean_exit();
}

#[test]
fn resize_below_minimum_and_back() {
    let first = head(&titles(Lang::En)[0], 24);
    let small = before_placeholder(&ui("en", "small.message")).to_string();
    assert!(!small.is_empty());

    let mut pty = Pty::spawn(&[], 80, 24, "en_US.UTF-8");
    pty.wait_for(&first);
    pty.resize(50, 15);
    let screen = pty.wait_for(&small);
    assert!(
        !screen.contains(&first),
        "the guide is not drawn on a too-small terminal\n{}",
        pty.dump()
    );
    pty.resize(80, 24);
    let screen = pty.wait_for(&first);
    assert!(!screen.contains(&small), "{}", pty.dump());
    pty.resize(120, 40);
    pty.wait_for(&first);
    pty.send("q");
    pty.expect_clean_exit();
}

#[test]
fn ctrl_c_quits_cleanly() {
    let first = head(&titles(Lang::En)[0], 24);
    let mut pty = Pty::spawn(&[], 80, 24, "en_US.UTF-8");
    pty.wait_for(&first);
    // Ctrl-C quits even while the help overlay is open.
    pty.send("?");
    pty.wait_for(&ui("en", "help.close"));
    pty.send(CTRL_C);
    pty.expect_clean_exit();
}

#[test]
fn terminal_is_restored_after_quit() {
    let first = head(&titles(Lang::En)[0], 24);
    let mut pty = Pty::spawn(&[], 80, 24, "en_US.UTF-8");
    pty.wait_for(&first);
    let running = pty.local_flags();
    assert!(
        !running.iter().any(|f| f == "ICANON" || f == "ECHO"),
        "raw mode (no ICANON, no ECHO) while running, got {running:?}"
    );
    {
        let s = lock(&pty.shared);
        assert!(s.parser.screen().alternate_screen(), "{}", pty.dump());
        assert!(s.parser.screen().hide_cursor(), "{}", pty.dump());
    }
    pty.send(ESC);
    pty.expect_clean_exit();
    let after = pty.local_flags();
    assert!(
        ["ICANON", "ECHO", "ISIG"]
            .iter()
            .all(|f| after.iter().any(|a| a == f)),
        "cooked mode with echo and signals after exit, got {after:?}"
    );
    let raw = pty.raw();
    let left = rfind(&raw, LEAVE_ALT_SCREEN).unwrap_or(0);
    let rest = String::from_utf8_lossy(raw.get(left..).unwrap_or_default());
    assert!(
        !rest.contains(&first),
        "nothing is drawn after leaving the alternate screen\n{rest:?}"
    );
}

/// The start of a message (16 columns), which stays on one line on
/// screen where the whole message wraps.
fn lead(text: &str) -> String {
    head(text, 16)
}

/// Whether `line` has `word` as a whole word.
fn has_word(line: &str, word: &str) -> bool {
    line.split(|c: char| c.is_whitespace() || "[]()|:".contains(c))
        .any(|w| w == word)
}

/// For each stage label, whether its line on screen says `ok`.
fn stages_ok(screen: &str, labels: &[String], ok: &str) -> Vec<bool> {
    labels
        .iter()
        .map(|label| {
            screen
                .lines()
                .any(|l| l.contains(label.as_str()) && has_word(l, ok))
        })
        .collect()
}

/// A full practice check against the simulated "modern" key: open the
/// practice picker with p, choose the scenario, start it with Enter, touch
/// the simulated key with Space whenever it asks, give the PIN 1234 when
/// asked; the registration and the sign-in both end verified, and the app
/// still quits cleanly afterwards.
fn practice_check(lang: &str, cols: u16, rows: u16) {
    // The check animates a spinner: a shorter quiet period still sees
    // whole frames.
    const ANIMATED: Duration = Duration::from_millis(30);
    let scenario = "modern";
    let index = fido_doctor::sim::scenario::all()
        .iter()
        .position(|s| s.name == scenario)
        .expect("the simulator has the modern scenario");
    let scenario_title = content_str(lang, "scenarios.toml", "scenario.modern.title")
        .map(|t| head(&t, 30))
        .expect("content has a title for the modern scenario");
    let pin_prompt = lead(&ui(lang, "pin.prompt"));
    let touch = lead(&ui(lang, "probe.touch_sim"));
    let works = lead(&ui(lang, "probe.works"));
    // Where the diagnosis of this computer finds a problem (a container,
    // say), the result says that the check worked but there is a problem.
    let works_but = lead(&ui(lang, "probe.works_but"));
    let failed = before_placeholder(&ui(lang, "probe.failed_at")).to_string();
    let ok = ui(lang, "probe.ok");
    let stages = [
        ui(lang, "probe.info"),
        ui(lang, "probe.register"),
        ui(lang, "probe.signin"),
    ];

    let locale = if lang == "ja" {
        "ja_JP.UTF-8"
    } else {
        "en_US.UTF-8"
    };
    let mut pty = Pty::spawn(&["--lang", lang], cols, rows, locale);
    pty.wait_for(&ui(lang, "app.title"));
    pty.send("p");
    pty.wait_for(&ui(lang, "practice.title"));
    for _ in 0..index {
        pty.send("j");
    }
    pty.wait_until("the modern scenario selected", |s| {
        s.lines()
            .any(|l| l.contains(&scenario_title) && l.contains('>'))
    });
    pty.send("\r");
    pty.wait_stable("the practice check", ANIMATED, |s| {
        s.contains(&before_placeholder(&ui(lang, "probe.practice_title")).to_string())
    });

    let start = Instant::now();
    let mut pins = 0;
    let mut touches = 0;
    let screen = loop {
        assert!(
            start.elapsed() < TIMEOUT * 3,
            "the practice check did not finish\n{}",
            pty.dump()
        );
        let screen = pty.wait_stable("a prompt or the result", ANIMATED, |s| {
            [&pin_prompt, &touch, &works, &works_but, &failed]
                .iter()
                .any(|t| s.contains(t.as_str()))
        });
        if [&works, &works_but, &failed]
            .iter()
            .any(|t| screen.contains(t.as_str()))
        {
            break screen;
        }
        if screen.contains(&pin_prompt) {
            pins += 1;
            assert!(pins <= 2, "asked for the PIN again\n{}", pty.dump());
            pty.send("1234");
            pty.send("\r");
            pty.wait_stable("the PIN prompt to close", ANIMATED, |s| {
                !s.contains(&pin_prompt)
            });
        } else {
            touches += 1;
            assert!(
                touches <= 4,
                "asked to touch again and again\n{}",
                pty.dump()
            );
            let before = stages_ok(&screen, &stages, &ok);
            pty.send(" ");
            pty.wait_stable("the touch to be taken", ANIMATED, |s| {
                !s.contains(&touch)
                    || s.contains(&pin_prompt)
                    || stages_ok(s, &stages, &ok) != before
            });
        }
    };
    assert!(
        (screen.contains(&works) || screen.contains(&works_but)) && !screen.contains(&failed),
        "the check did not succeed\n{}",
        pty.dump()
    );
    assert_eq!(
        stages_ok(&screen, &stages, &ok),
        vec![true; stages.len()],
        "key info, registration and sign-in each end ok\n{}",
        pty.dump()
    );
    assert!(pins >= 1, "the simulated key has a PIN: it was asked for");
    assert!(touches >= 1, "the simulated key needs touches: it asked");

    // Back from the result, then quit.
    let back = ui(lang, "probe.back");
    assert!(screen.contains(&back), "{}", pty.dump());
    pty.send("\r");
    pty.wait_gone(&back);
    pty.send("q");
    pty.expect_clean_exit();
}

#[test]
fn practice_check_registers_and_signs_in() {
    practice_check("en", 120, 40);
}

#[test]
fn practice_check_in_japanese_at_80x24() {
    practice_check("ja", 80, 24);
}

/// `tui --device sim:NAME` opens with that simulated key listed on the
/// Keys pane.
#[test]
fn device_option_lists_the_simulated_key() {
    let mut pty = Pty::spawn(&["tui", "--device", "sim:modern"], 120, 40, "en_US.UTF-8");
    let screen = pty.wait_for("sim:modern");
    assert!(
        screen.contains(&ui("en", "keys.title")),
        "the Keys pane is shown\n{}",
        pty.dump()
    );
    pty.send("q");
    pty.expect_clean_exit();
}

#[test]
fn terminal_is_restored_after_a_panic() {
    let mut run = Pty::spawn_env(
        &[],
        80,
        24,
        "en_US.UTF-8",
        &[("FIDO_DOCTOR_PANIC_AFTER_FIRST_FRAME", "1")],
    );
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
        let o = lock(&run.shared);
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
    let mut run = Pty::spawn(&[], 80, 24, "en_US.UTF-8");
    let start = Instant::now();
    loop {
        let drawn = {
            let o = lock(&run.shared);
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
    run.send("q");
    let status = run.wait_exit();
    assert!(status.success(), "{status:?}\n{}", run.dump());
    assert!(
        !String::from_utf8_lossy(&run.raw()).contains("panicked"),
        "{}",
        run.dump()
    );
}

/// Text of the diagnosis pane's "Press Enter to open:" label.
fn open_label(lang: &str) -> String {
    content_str(lang, "text.toml", "diagnosis.open_step").expect("diagnosis.open_step")
}

#[test]
fn diagnosis_to_guide_and_back_with_esc() {
    let mut pty = Pty::spawn(&["tui", "--device", "sim:modern"], 120, 40, "en_US.UTF-8");
    pty.wait_for("sim:modern");
    pty.send("\t");
    let label = open_label("en");
    let screen = pty.wait_for(&label);
    // The diagnosis knows the key from --device: no "no key" finding.
    assert!(
        !screen.contains("No security key"),
        "the diagnosis uses the --device key\n{}",
        pty.dump()
    );
    let title = screen
        .lines()
        .find_map(|l| l.split_once(&label).map(|(_, t)| t))
        .map(|t| t.trim_end_matches(['│', ' ']).trim().to_string())
        .expect("a finding links a guide page");
    pty.send("\r");
    let guide = pty.wait_gone(&label);
    assert!(
        guide.contains(&title),
        "the guide page opened\n{}",
        pty.dump()
    );
    pty.send(ESC);
    let back = pty.wait_for(&label);
    assert!(
        back.contains(&title),
        "back on the same finding\n{}",
        pty.dump()
    );
    pty.send("q");
    pty.expect_clean_exit();
}

#[test]
fn pin_low_practice_warns_then_asks_before_the_last_attempt() {
    const ANIMATED: Duration = Duration::from_millis(30);
    let index = fido_doctor::sim::scenario::all()
        .iter()
        .position(|s| s.name == "pin-low")
        .expect("the simulator has the pin-low scenario");
    let title = content_str("en", "scenarios.toml", "scenario.pin-low.title")
        .map(|t| head(&t, 30))
        .expect("a title for pin-low");
    let warn_low = before_placeholder(&ui("en", "pin.warn_low")).to_string();
    let confirm = lead(&ui("en", "pin.confirm_last"));
    let failed = before_placeholder(&ui("en", "probe.failed_at")).to_string();
    let cancelled = content_str("en", "failures.toml", "failure.cancelled.reason")
        .map(|t| head(&t, 20))
        .unwrap();

    let mut pty = Pty::spawn(&["--lang", "en"], 120, 40, "en_US.UTF-8");
    pty.wait_for(&ui("en", "app.title"));
    pty.send("p");
    pty.wait_for(&ui("en", "practice.title"));
    for _ in 0..index {
        pty.send("j");
    }
    pty.wait_until("pin-low selected", |s| {
        s.lines().any(|l| l.contains(&title) && l.contains('>'))
    });
    pty.send("\r");
    // Two attempts left: the warning comes with the prompt.
    let screen = pty.wait_stable("the PIN prompt", ANIMATED, |s| s.contains(&warn_low));
    assert!(screen.contains("Only 2 attempts left"), "{}", pty.dump());
    pty.send("9999\r");
    // One attempt left: an explicit confirmation, not the PIN field.
    let screen = pty.wait_stable("the last-attempt confirmation", ANIMATED, |s| {
        s.contains(&confirm)
    });
    assert!(!screen.contains("PIN: _"), "{}", pty.dump());
    pty.send(ESC);
    let screen = pty.wait_stable("the result", ANIMATED, |s| s.contains(&failed));
    // Esc at the confirmation stops the check: it reads as cancelled, the
    // last attempt stays unspent, and the count shown is the key's after the
    // wrong PIN (1), not the one read before it.
    assert!(
        screen.to_lowercase().contains(&cancelled.to_lowercase()),
        "{}",
        pty.dump()
    );
    assert!(!screen.to_lowercase().contains("refused"), "{}", pty.dump());
    assert!(!screen.contains("Only 2"), "{}", pty.dump());
    pty.send("\r");
    pty.send("q");
    pty.expect_clean_exit();
}
/// A label of the key-care screens (`content/<lang>/keycare.toml`).
fn care(lang: &str, key: &str) -> String {
    content_str(lang, "keycare.toml", key)
        .unwrap_or_else(|| panic!("no label {key} in content/{lang}/keycare.toml"))
}

fn locale(lang: &str) -> &'static str {
    if lang == "ja" {
        "ja_JP.UTF-8"
    } else {
        "en_US.UTF-8"
    }
}

/// Opens the practice picker, highlights `scenario` and presses `key`.
fn rehearse(pty: &mut Pty, lang: &str, scenario: &str, key: &str) {
    let index = fido_doctor::sim::scenario::all()
        .iter()
        .position(|s| s.name == scenario)
        .expect("the simulator has the scenario");
    let title = content_str(
        lang,
        "scenarios.toml",
        &format!("scenario.{scenario}.title"),
    )
    .map(|t| head(&t, 30))
    .expect("content has a title for the scenario");
    pty.wait_for(&ui(lang, "app.title"));
    pty.send("p");
    pty.wait_for(&ui(lang, "practice.title"));
    for _ in 0..index {
        pty.send("j");
    }
    pty.wait_until("the scenario selected", |s| {
        s.lines().any(|l| l.contains(&title) && l.contains('>'))
    });
    pty.send(key);
}

/// Set a PIN on the simulated key without one, from the practice picker:
/// the explanation, a too-short PIN refused on screen, the PIN typed twice
/// (never shown), the key's answer read back, and the keys pane then shows
/// the PIN as set.
fn practice_set_pin(lang: &str, cols: u16, rows: u16) {
    let mut pty = Pty::spawn(&["--lang", lang], cols, rows, locale(lang));
    rehearse(&mut pty, lang, "no-pin", "s");
    pty.wait_for(&lead(&care(lang, "set.intro")));
    pty.send("\r");
    pty.wait_for(&format!("{}: _", care(lang, "common.new_pin")));
    pty.send("12\r");
    pty.wait_for(&lead(&care(lang, "common.too_short")));
    pty.send("8642\r");
    pty.wait_for(&format!("{}: _", care(lang, "common.again")));
    pty.send("8642\r");
    let done = pty.wait_for(&lead(&care(lang, "set.done")));
    assert!(
        done.contains(&lead(&care(lang, "set.ready"))),
        "{}",
        pty.dump()
    );
    pty.send("\r");
    let keys = pty.wait_for(&ui(lang, "keys.detail"));
    let set = ui(lang, "keys.pin_retries").replace("{n}", "8");
    assert!(
        keys.contains(&set),
        "the keys pane shows the PIN set\n{}",
        pty.dump()
    );
    assert!(
        keys.contains(&lead(&care(lang, "keys.change"))),
        "{}",
        pty.dump()
    );
    let raw = String::from_utf8_lossy(&pty.raw()).to_string();
    assert!(!raw.contains("8642"), "the PIN was drawn");
    pty.send("q");
    pty.expect_clean_exit();
}

#[test]
fn practice_set_pin_on_a_key_without_one() {
    practice_set_pin("en", 120, 40);
}

#[test]
fn practice_set_pin_in_japanese_at_80x24() {
    practice_set_pin("ja", 80, 24);
}

/// Reset the simulated blocked key: the warning, the typed word, the
/// simulated unplug and plug-in, the touch with Space; the key then has no
/// PIN.
fn practice_reset(lang: &str, cols: u16, rows: u16) {
    let mut pty = Pty::spawn(&["--lang", lang], cols, rows, locale(lang));
    rehearse(&mut pty, lang, "pin-blocked", "R");
    pty.wait_for(&lead(&care(lang, "reset.erase")));
    pty.send("\r");
    pty.wait_for(before_placeholder(&care(lang, "reset.type_word")));
    pty.send("RESET\r");
    pty.wait_for(&lead(&care(lang, "reset.unplug_sim")));
    pty.send(" ");
    pty.wait_for(&lead(&care(lang, "reset.plug_sim")));
    pty.send(" ");
    pty.wait_stable("the touch prompt", Duration::from_millis(30), |s| {
        s.contains(&lead(&care(lang, "reset.touch_sim")))
    });
    pty.send(" ");
    pty.wait_for(&lead(&care(lang, "reset.done")));
    pty.send("\r");
    let keys = pty.wait_for(&ui(lang, "keys.detail"));
    assert!(
        keys.contains(&ui(lang, "keys.pin_not_set")),
        "the keys pane shows no PIN after the reset\n{}",
        pty.dump()
    );
    pty.send("q");
    pty.expect_clean_exit();
}

#[test]
fn practice_reset_of_a_blocked_key() {
    practice_reset("en", 80, 24);
}

#[test]
fn practice_reset_in_japanese_at_120x40() {
    practice_reset("ja", 120, 40);
}
