//! The bottom row: the keys that work now, with short labels, or a notice
//! (report written, key blinking) while there is one.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::tui::app::{App, Pane};
use crate::tui::wrap;

/// The key hints for the current state, most important last: when the row
/// is too narrow, hints are dropped from the front.
pub fn hints(app: &App) -> Vec<(&'static str, String)> {
    let s = &app.ui().status;
    let l = &app.text.status;
    let mut h: Vec<(&'static str, String)> = Vec::new();
    if let Some(care) = super::keycare::status_hints(app) {
        return care;
    }
    if let Some(p) = &app.probe
        && p.pin.is_some()
    {
        h.push(("Esc", l.cancel.clone()));
        h.push(("Enter", l.confirm.clone()));
        return h;
    }
    if app.practice.open {
        h.push(("Esc", l.back.clone()));
        h.push(("Up/Down", l.choose.clone()));
        h.push(("Enter", l.start.clone()));
        h.push(("q", s.quit.clone()));
        return h;
    }
    match app.pane {
        Pane::Guide => {
            // Display order: steps, scroll, panes, help, quit.
            h.push(("PgUp/PgDn", s.scroll.clone()));
            h.push(("Tab", s.panes.clone()));
            h.push(("Up/Down", s.r#move.clone()));
        }
        Pane::Keys => match &app.probe {
            Some(p) if p.running() => {
                h.push(("Tab", s.panes.clone()));
                h.push(("Esc", l.cancel.clone()));
                if p.scenario.is_some() {
                    h.push(("Space", l.touch.clone()));
                }
            }
            Some(_) => {
                h.push(("Tab", s.panes.clone()));
                h.push(("p", l.practice.clone()));
                h.push(("Enter", l.back.clone()));
            }
            None => {
                h.push(("Tab", s.panes.clone()));
                let any = !app.keys.devices().is_empty();
                if any {
                    h.push(("w", l.wink.clone()));
                }
                h.push(("p", l.practice.clone()));
                if any {
                    h.push(("Enter", l.check.clone()));
                }
            }
        },
        Pane::Diagnosis => {
            h.push(("Tab", s.panes.clone()));
            h.push(("Enter", l.open.clone()));
            h.push(("Up/Down", l.select.clone()));
            h.push(("e", l.export.clone()));
        }
    }
    h.push(("?", s.help.clone()));
    h.push(("q", s.quit.clone()));
    h
}

/// Draws the key hints (or the notice) into `area` (one row).
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    buf.set_style(area, t.status());
    if let Some(n) = &app.notice {
        let text = wrap::truncate(&format!(" {n}"), area.width as usize);
        buf.set_line(
            area.x,
            area.y,
            &Line::from(Span::styled(text, t.hint())),
            area.width,
        );
        return;
    }
    let mut hints = hints(app);
    let row_width = |h: &[(&str, String)]| -> usize {
        1 + h
            .iter()
            .map(|(k, l)| wrap::width(k) + 1 + wrap::width(l))
            .sum::<usize>()
            + 3 * h.len().saturating_sub(1)
    };
    while hints.len() > 2 && row_width(&hints) > area.width as usize {
        hints.remove(0);
    }
    if app.pane == Pane::Guide && !app.practice.open {
        let order = |k: &str| match k {
            "Up/Down" => 0,
            "PgUp/PgDn" => 1,
            "Tab" => 2,
            "?" => 3,
            _ => 4,
        };
        hints.sort_by_key(|(k, _)| order(k));
    }
    let mut spans = vec![Span::raw(" ")];
    for (i, (key, label)) in hints.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("   "));
        }
        spans.push(Span::styled(key.to_string(), t.key()));
        spans.push(Span::raw(format!(" {label}")));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}
