//! The guide page: chapter name and page position in the frame, then the
//! step label, title and wrapped body, scrolled by the app state.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::content::guide::StepKind;
use crate::content::ui::fill;
use crate::diagnose::Protocol;
use crate::tui::app::App;
use crate::tui::doc::page_lines;
use crate::tui::view::doc_options;
use crate::tui::wrap::wrap;

use super::compat::{CompatTable, machine_cells};
use super::frame;

/// The guide page where the user gets the key ready: it shows the live box.
pub const KEY_READY_PAGE: &str = "register-step-5";

/// All lines of the current page at `width`: the live key box on
/// [`KEY_READY_PAGE`], the page, and on the compatibility page the OS ×
/// browser table with this computer highlighted.
pub fn all_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let o = doc_options(app, false);
    let mut lines = page_lines(&app.content.guide, app.current, width, &o);
    let Some(step) = app.step() else {
        return lines;
    };
    if step.id == KEY_READY_PAGE {
        let mut live = live_box(app, width);
        live.push(Line::default());
        live.append(&mut lines);
        lines = live;
    }
    if step.kind == StepKind::Compat
        && let Some(content) = &app.diagnosis.diagnosis_content
    {
        let highlight = app
            .diagnosis
            .environment
            .as_ref()
            .map(machine_cells)
            .unwrap_or_default();
        let table = CompatTable {
            matrix: &content.compat,
            lang: app.lang(),
            theme: app.theme,
            ascii: app.ascii,
            highlight: &highlight,
        };
        lines.push(Line::default());
        lines.extend(table.lines(width));
    }
    lines
}

/// "Your key now: Key detected: yes   FIDO2: yes", from the device list
/// and the last checks.
pub fn live_box(app: &App, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let l = &app.text.live;
    let detected = !app.keys.devices().is_empty();
    let protocols: Vec<Protocol> = app.keys.facts.values().filter_map(|f| f.protocol).collect();
    let fido2 = if protocols.contains(&Protocol::Fido2) {
        l.yes.clone()
    } else if protocols.is_empty() {
        l.unknown.clone()
    } else {
        l.no.clone()
    };
    let yes_no = |b: bool| if b { l.yes.clone() } else { l.no.clone() };
    let value = |ok: bool| if ok { t.step_label() } else { t.warning() };
    wrap(
        &[
            Span::styled(format!("{}: ", l.title), t.heading()),
            Span::styled(format!("{}: ", l.detected), t.bold()),
            Span::styled(yes_no(detected), value(detected)),
            Span::raw("   "),
            Span::styled(format!("{}: ", l.fido2), t.bold()),
            Span::styled(fido2.clone(), value(fido2 == l.yes)),
        ],
        width,
    )
}

/// Draws the current page: frame in `main`, text in `body`.
pub fn render(app: &App, main: Rect, body: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let ui = app.ui();
    let mut block = frame(app.ascii, t, true);
    if let Some(step) = app.step() {
        block = block.title(Line::from(Span::styled(
            format!(" {} ", step.chapter.name(ui)),
            t.chapter(),
        )));
        let pos = fill(
            &ui.guide.page_of,
            &[("n", &(app.current + 1)), ("total", &app.page_count())],
        );
        block = block.title(Line::from(format!(" {pos} ")).right_aligned());
    }
    let lines = all_lines(app, body.width as usize);
    let h = body.height as usize;
    let max = lines.len().saturating_sub(h);
    let scroll = (app.scroll as usize).min(max);
    if lines.len() > h && h > 0 {
        let to = (scroll + h).min(lines.len());
        let label = fill(
            &ui.guide.lines,
            &[
                ("from", &(scroll + 1)),
                ("to", &to),
                ("total", &lines.len()),
            ],
        );
        block = block.title_bottom(Line::styled(format!(" {label} "), t.dim()).right_aligned());
    }
    block.render(main, buf);
    for (y, line) in lines.iter().skip(scroll).take(h).enumerate() {
        buf.set_line(body.x, body.y + y as u16, line, body.width);
    }
}
