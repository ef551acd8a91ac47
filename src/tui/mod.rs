//! The terminal app (ratatui): a step list and guide pages, the keys pane
//! (attached keys, live checks, practice with the simulator, PIN entry) and
//! the diagnosis, a help overlay. State lives in [`app::App`], changes only
//! in [`update::update`], is drawn only by [`view::view`]; the event loop in
//! [`runner`] feeds messages from one channel and hands the commands the
//! update returns to the threads in [`worker`]. Also renders the guide as
//! plain text ([`print::guide_text`]).

pub mod action;
pub mod app;
pub mod doc;
pub mod keycare;
pub mod layout;
pub mod os_api;
pub mod print;
pub mod probe_run;
pub mod runner;
pub mod scenarios;
pub mod text;
pub mod theme;
pub mod update;
pub mod view;
pub mod widgets;
pub mod worker;
pub mod wrap;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use unicode_width::UnicodeWidthStr;

use crate::content::ContentSource;
use crate::content::guide::Content;
use crate::ctap::probe::ProbeOptions;
use crate::diagnose::DiagnosisContent;

pub use action::{Command, Msg};
pub use app::{App, Pane};
pub use print::guide_text;
pub use update::update;

/// How the app looks and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TuiOptions {
    /// Draw frames with ASCII `+-|` (for terminals that draw box-drawing
    /// characters double width).
    pub ascii: bool,
    /// Use colours (`NO_COLOR` in the environment turns them off anyway).
    pub color: bool,
    /// Id of the guide page to open first.
    pub start: Option<String>,
    /// A device to show and select (`--device`); opens on the keys pane.
    pub device: Option<String>,
    /// Where the live labels, scenario texts and diagnosis content come
    /// from (the guide itself is passed to [`run`] already loaded).
    pub source: ContentSource,
}

impl Default for TuiOptions {
    fn default() -> Self {
        TuiOptions {
            ascii: false,
            color: true,
            start: None,
            device: None,
            source: ContentSource::Embedded,
        }
    }
}

/// Environment variable that makes the running app panic right after its
/// first frame (tests use it to prove the terminal is restored).
pub const PANIC_AFTER_FIRST_FRAME: &str = "FIDO_DOCTOR_PANIC_AFTER_FIRST_FRAME";

/// Runs the app in the terminal until the user quits, with the real
/// workers (device watcher, checks, diagnosis). Restores the terminal
/// afterwards, also on panic (ratatui's panic hook). Content errors are
/// reported before the terminal is touched.
pub fn run(content: Content, options: TuiOptions) -> std::io::Result<()> {
    let mut options = options;
    if !theme::Theme::from_env(|k| std::env::var(k).ok()).color {
        options.color = false;
    }
    let lang = content.lang;
    let content_err = |e: crate::content::ContentError| std::io::Error::other(e.to_string());
    let mut app = App::new(content, &options);
    app.text = text::LiveText::load_or_embedded(&options.source, lang).map_err(content_err)?;
    app.scenarios = scenarios::ScenarioTexts::load(&options.source, lang).map_err(content_err)?;
    app.care_text =
        keycare::text::KeycareText::load_or_embedded(&options.source, lang).map_err(content_err)?;
    let diagnosis = DiagnosisContent::load(&options.source, lang).map_err(content_err)?;
    app.diagnosis.diagnosis_content = Some(diagnosis.clone());
    app.diagnosis.running = true;
    let config = worker::WorkerConfig {
        environment: worker::real_environment(),
        content: Some(Arc::new(diagnosis)),
        probe: ProbeOptions::default(),
        export_dir: std::env::current_dir()?,
        panic_after_first_frame: std::env::var_os(PANIC_AFTER_FIRST_FRAME)
            .is_some_and(|v| v == "1"),
        os_api: os_api::real(),
    };
    let mut terminal = ratatui::try_init()?;
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = worker::Workers::new(tx.clone(), config);
    let started = workers.start().map(|()| {
        // Ask the `--device` key what it is right away, so the keys pane
        // and the diagnosis know it before any check.
        if let Some(d) = options.device.clone() {
            worker::Effects::apply(&mut workers, Command::Info { devices: vec![d] });
        }
    });
    let result = match started.and_then(|()| runner::spawn_input(tx, stop.clone())) {
        Ok(input) => {
            let r = runner::run_loop_with(&mut terminal, &mut app, &rx, &mut workers);
            stop.store(true, Ordering::Relaxed);
            // The input thread checks `stop` every 100 ms.
            let _ = input.join();
            r
        }
        Err(e) => Err(e),
    };
    drop(workers);
    ratatui::restore();
    result
}

/// Draws the app on a `width`×`height` test terminal and returns the
/// buffer.
pub fn render_to_buffer(app: &App, width: u16, height: u16) -> Buffer {
    let mut terminal = match Terminal::new(TestBackend::new(width, height)) {
        Ok(t) => t,
        Err(never) => match never {},
    };
    if let Err(never) = terminal.draw(|f| view::view(f, app)) {
        match never {}
    }
    terminal.backend().buffer().clone()
}

/// Draws the app on a `width`×`height` test terminal and returns the
/// screen as text, one `\n`-terminated row each.
pub fn render_to_string(app: &App, width: u16, height: u16) -> String {
    buffer_text(&render_to_buffer(app, width, height))
}

/// The characters of a buffer, one row per line; cells hidden behind wide
/// characters are skipped, so every row is exactly the buffer's width in
/// display columns.
pub fn buffer_text(buf: &Buffer) -> String {
    let mut out = String::new();
    for row in buffer_rows(buf) {
        out.push_str(&row.into_iter().map(|(s, _)| s).collect::<String>());
        out.push('\n');
    }
    out
}

/// The visible cells of each row: symbol and style.
pub fn buffer_rows(buf: &Buffer) -> Vec<Vec<(String, Style)>> {
    let area: Rect = buf.area;
    let mut rows = Vec::with_capacity(area.height as usize);
    for y in area.top()..area.bottom() {
        let mut row = Vec::new();
        let mut skip = 0usize;
        for x in area.left()..area.right() {
            let Some(cell) = buf.cell((x, y)) else {
                continue;
            };
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let sym = cell.symbol();
            skip = sym.width().saturating_sub(1);
            row.push((sym.to_string(), cell.style()));
        }
        rows.push(row);
    }
    rows
}

/// A short description of a style: colours that are set and modifiers,
/// empty for the terminal's default look.
pub fn style_label(style: Style) -> String {
    use ratatui::style::{Color, Modifier};
    let mut parts = Vec::new();
    if let Some(fg) = style.fg.filter(|c| *c != Color::Reset) {
        parts.push(format!("fg={fg}"));
    }
    if let Some(bg) = style.bg.filter(|c| *c != Color::Reset) {
        parts.push(format!("bg={bg}"));
    }
    let mods = style.add_modifier - style.sub_modifier;
    if mods != Modifier::empty() {
        parts.push(format!("{mods:?}"));
    }
    parts.join(" ")
}

/// Per-row style runs of a buffer, for snapshots where colour carries
/// meaning: `row [start..end] style "text"` for every run whose style is
/// not the default look.
pub fn style_runs(buf: &Buffer) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for (y, row) in buffer_rows(buf).into_iter().enumerate() {
        let mut col = 0usize;
        let mut runs: Vec<(usize, usize, String, String)> = Vec::new();
        for (sym, style) in row {
            let w = sym.width().max(1);
            let label = style_label(style);
            match runs.last_mut() {
                Some(last) if last.2 == label && last.1 == col => {
                    last.1 = col + w;
                    last.3.push_str(&sym);
                }
                _ => runs.push((col, col + w, label, sym)),
            }
            col += w;
        }
        for (a, b, label, text) in runs {
            if label.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{y:>2} [{a:>3}..{b:>3}] {label} {text:?}");
        }
    }
    out
}
