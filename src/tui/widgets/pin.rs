//! The PIN window: a prompt, the PIN masked as `*` per character typed,
//! the attempts left, and the keys. The PIN itself is never drawn.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

use crate::content::ui::fill;
use crate::diagnose::pin_safety::PinRisk;
use crate::tui::app::{App, PinEntry};
use crate::tui::layout::centered;
use crate::tui::wrap::wrap;

use super::frame;

/// The window's lines at `width` columns.
pub fn lines(app: &App, entry: &PinEntry, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let p = &app.text.pin;
    if !entry.confirmed {
        let mut out = wrap(&[Span::styled(p.warn_last.clone(), t.warning())], width);
        out.push(Line::default());
        out.extend(wrap(
            &[Span::styled(p.confirm_last.clone(), t.bold())],
            width,
        ));
        out.push(Line::default());
        out.extend(wrap(
            &[Span::styled(p.confirm_keys.clone(), t.key())],
            width,
        ));
        return out;
    }
    let mut out = Vec::new();
    match PinRisk::of(entry.retries) {
        PinRisk::Low(n) => {
            let w = fill(&p.warn_low, &[("n", &n)]);
            out.extend(wrap(&[Span::styled(w, t.warning())], width));
            out.push(Line::default());
        }
        PinRisk::Last => {
            out.extend(wrap(
                &[Span::styled(p.warn_last.clone(), t.warning())],
                width,
            ));
            out.push(Line::default());
        }
        PinRisk::Normal => {}
    }
    out.extend(wrap(&[Span::styled(p.prompt.clone(), t.text())], width));
    out.push(Line::default());
    let stars = "*".repeat(entry.input.chars().count());
    out.push(Line::from(vec![
        Span::styled(format!("{}: ", p.title), t.bold()),
        Span::styled(format!("{stars}_"), t.target()),
    ]));
    let retries = match entry.retries {
        Some(n) => fill(&p.retries, &[("n", &n)]),
        None => p.unknown_retries.clone(),
    };
    let style = if entry.retries.is_some_and(|n| n <= 3) {
        t.warning()
    } else {
        t.dim()
    };
    out.push(Line::styled(retries, style));
    out.push(Line::default());
    out.extend(wrap(&[Span::styled(p.keys.clone(), t.key())], width));
    out
}

/// Draws the window centred in `area` when the check waits for the PIN.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let Some(entry) = app.probe.as_ref().and_then(|p| p.pin.as_ref()) else {
        return;
    };
    let width = area.width.saturating_sub(4).min(56);
    let text_w = width.saturating_sub(4) as usize;
    let lines = lines(app, entry, text_w.max(1));
    let rect = centered(area, width, lines.len() as u16 + 2);
    Clear.render(rect, buf);
    let block = frame(app.ascii, &app.theme, true).title(Span::styled(
        format!(" {} ", app.text.pin.title),
        app.theme.title(),
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
