//! The help overlay: every key and what it does, centred over the screen.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

use crate::tui::app::App;
use crate::tui::layout::centered;
use crate::tui::wrap::{self, wrap};

use super::frame;

/// The key column and description of each help row.
pub fn entries(app: &App) -> Vec<(&'static str, String)> {
    let h = &app.ui().help;
    let l = &app.text.help;
    let mut rows = vec![
        ("Up/Down  j/k", h.r#move.clone()),
        ("Enter  Right", h.next.clone()),
        ("Left", h.prev.clone()),
        ("PgUp/PgDn  Space", h.scroll.clone()),
        ("Home/End", h.ends.clone()),
        ("Tab  Shift-Tab", h.panes.clone()),
        ("Enter  c", l.check.clone()),
        ("i", l.info.clone()),
        ("w", l.wink.clone()),
        ("p", l.practice.clone()),
        ("Space", l.touch.clone()),
        ("0-9  Enter", l.pin.clone()),
        ("Esc", l.cancel.clone()),
        ("Up/Down  Enter", l.findings.clone()),
        ("e", l.export.clone()),
        ("?", h.help.clone()),
        ("q  Esc  Ctrl-C", h.quit.clone()),
    ];
    // Key care, only for what the selected key offers now (before export).
    let at = rows.len().saturating_sub(4);
    rows.splice(at..at, super::keycare::help_entries(app));
    rows
}

/// Draws the overlay centred in `area`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let entries = entries(app);
    let key_w = entries
        .iter()
        .map(|(k, _)| wrap::width(k))
        .max()
        .unwrap_or(0)
        + 2;
    let desc_w = entries
        .iter()
        .map(|(_, d)| wrap::width(d))
        .max()
        .unwrap_or(0);
    let width = (key_w + desc_w + 4)
        .min(area.width.saturating_sub(4) as usize)
        .max(10);
    let text_w = width.saturating_sub(4);
    let dw = text_w.saturating_sub(key_w).max(1);
    let wrapped: usize = entries
        .iter()
        .map(|(_, d)| wrap(&[Span::raw(d.clone())], dw).len())
        .sum();
    // When wrapped rows would not fit, every entry gets one (cut) row so
    // that all keys, quit and the close hint stay visible.
    let one_row = wrapped + 4 > area.height as usize;
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (key, desc) in &entries {
        let rows = if one_row {
            vec![Line::raw(wrap::truncate(desc, dw))]
        } else {
            wrap(&[Span::raw(desc.clone())], dw)
        };
        for (i, l) in rows.into_iter().enumerate() {
            let lead = if i == 0 {
                Span::styled(format!("{key:<key_w$}"), t.key())
            } else {
                Span::raw(" ".repeat(key_w))
            };
            let mut spans = vec![lead];
            spans.extend(l.spans);
            lines.push(Line::from(spans));
        }
    }
    if !one_row || lines.len() + 4 <= area.height as usize {
        lines.push(Line::default());
    }
    lines.extend(wrap(
        &[Span::styled(app.ui().help.close.clone(), t.dim())],
        text_w,
    ));
    let height = (lines.len() + 2) as u16;
    let rect = centered(area, width as u16, height);
    Clear.render(rect, buf);
    let block = frame(app.ascii, t, true).title(Span::styled(
        format!(" {} ", app.ui().help.title),
        t.title(),
    ));
    let inner = block.inner(rect);
    block.render(rect, buf);
    let inner = Rect::new(
        inner.x + 1,
        inner.y,
        inner.width.saturating_sub(2),
        inner.height,
    );
    for (y, line) in lines.iter().take(inner.height as usize).enumerate() {
        buf.set_line(inner.x, inner.y + y as u16, line, inner.width);
    }
}
