//! The practice picker: the simulator's scenarios by title, and the
//! summary and expected outcome of the highlighted one.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::sim;
use crate::tui::app::App;
use crate::tui::wrap::{fit, wrap};

use super::frame;

/// The picker's lines at `width` columns and the row of the highlighted
/// scenario.
pub fn lines(app: &App, width: usize) -> (Vec<Line<'static>>, usize) {
    let t = &app.theme;
    let p = &app.text.practice;
    let mut out: Vec<Line<'static>> = wrap(&[Span::styled(p.intro.clone(), t.text())], width);
    out.push(Line::default());
    let mut sel_row = 0;
    for (i, s) in sim::scenario::all().iter().enumerate() {
        let sel = i == app.practice.selected;
        let style = if sel { t.selected() } else { t.text() };
        let lead = if sel { "> " } else { "  " };
        if sel {
            sel_row = out.len();
        }
        let label = format!("{lead}{}", app.scenarios.title(s.name));
        out.push(fit(Line::from(Span::styled(label, style)), width, style));
    }
    if let Some(s) = sim::scenario::all().get(app.practice.selected)
        && let Some(text) = app.scenarios.get(s.name)
    {
        out.push(Line::default());
        out.extend(wrap(&[Span::styled(text.summary.clone(), t.text())], width));
        out.push(Line::default());
        out.extend(wrap(
            &[
                Span::styled(format!("{}: ", p.expect), t.bold()),
                Span::styled(text.expect.clone(), t.text()),
            ],
            width,
        ));
    }
    out.extend(super::keycare::picker_lines(app, width));
    (out, sel_row)
}

/// Draws the picker: frame in `main`, content in `body`.
pub fn render(app: &App, main: Rect, body: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    frame(app.ascii, t, true)
        .title(Span::styled(
            format!(" {} ", app.text.practice.title),
            t.title(),
        ))
        .render(main, buf);
    let (lines, sel) = lines(app, body.width as usize);
    let h = body.height as usize;
    // Keep the highlighted row in view.
    let offset = sel.saturating_sub(h.saturating_sub(1));
    for (y, line) in lines.iter().skip(offset).take(h).enumerate() {
        buf.set_line(body.x, body.y + y as u16, line, body.width);
    }
}
