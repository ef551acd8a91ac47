//! The bottom row: the keys that work now, with short labels.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::tui::app::{App, Pane};
use crate::tui::wrap;

/// Draws the key hints into `area` (one row).
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let s = &app.ui().status;
    buf.set_style(area, t.status());
    // Most important last: when the row is too narrow, hints are dropped
    // from the front (scroll first), so help and quit always stay.
    let mut hints: Vec<(&str, &str)> = Vec::new();
    if app.pane == Pane::Guide {
        hints.push(("PgUp/PgDn", &s.scroll));
    }
    hints.push(("Tab", &s.panes));
    if app.pane == Pane::Guide {
        hints.push(("Up/Down", &s.r#move));
    }
    hints.push(("?", &s.help));
    hints.push(("q", &s.quit));
    let row_width = |h: &[(&str, &str)]| -> usize {
        1 + h
            .iter()
            .map(|(k, l)| wrap::width(k) + 1 + wrap::width(l))
            .sum::<usize>()
            + 3 * h.len().saturating_sub(1)
    };
    while hints.len() > 2 && row_width(&hints) > area.width as usize {
        hints.remove(0);
    }
    // Display order: steps, scroll, panes, help, quit.
    let order = |k: &str| match k {
        "Up/Down" => 0,
        "PgUp/PgDn" => 1,
        "Tab" => 2,
        "?" => 3,
        _ => 4,
    };
    hints.sort_by_key(|(k, _)| order(k));
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
