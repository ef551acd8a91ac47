//! The step list on the left: chapter names with their pages under them,
//! the current page highlighted and kept in view.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::content::guide::{Chapter, StepKind};
use crate::tui::app::App;
use crate::tui::wrap::{self, fit};

use super::frame;

/// Rows of the list (without frame) and the row of the current page.
pub fn rows(app: &App, width: usize) -> (Vec<Line<'static>>, usize) {
    let t = &app.theme;
    let ui = app.ui();
    let mut out = Vec::new();
    let mut selected_row = 0;
    let mut chapter: Option<Chapter> = None;
    for (i, step) in app.content.guide.steps.iter().enumerate() {
        if chapter != Some(step.chapter) {
            chapter = Some(step.chapter);
            let name = wrap::truncate(step.chapter.name(ui), width);
            out.push(Line::styled(name, t.chapter()));
        }
        let number = match (step.kind, step.step) {
            (StepKind::Step, Some(n)) => format!("{n}. "),
            _ => String::new(),
        };
        let current = i == app.current;
        let lead = if current { "> " } else { "  " };
        let title = if app.ascii {
            wrap::ascii_safe(&step.title)
        } else {
            step.title.clone()
        };
        let label = wrap::truncate(&format!("{lead}{number}{title}"), width);
        let style = if current { t.selected() } else { t.text() };
        if current {
            selected_row = out.len();
        }
        out.push(fit(Line::from(Span::styled(label, style)), width, style));
    }
    (out, selected_row)
}

/// Draws the step list into `area`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let block = frame(app.ascii, &app.theme, false).title(format!(" {} ", app.ui().guide.contents));
    let inner = block.inner(area);
    block.render(area, buf);
    let inner = Rect::new(
        inner.x + 1,
        inner.y,
        inner.width.saturating_sub(1),
        inner.height,
    );
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let (rows, sel) = rows(app, inner.width as usize);
    let h = inner.height as usize;
    // Keep the current page in view, with a little context above it.
    let max_off = rows.len().saturating_sub(h);
    let offset = sel.saturating_sub(h / 3).min(max_off);
    for (y, line) in rows.iter().skip(offset).take(h).enumerate() {
        buf.set_line(inner.x, inner.y + y as u16, line, inner.width);
    }
}
