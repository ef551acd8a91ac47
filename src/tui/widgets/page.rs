//! The guide page: chapter name and page position in the frame, then the
//! step label, title and wrapped body, scrolled by the app state.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::content::ui::fill;
use crate::tui::app::App;
use crate::tui::doc::page_lines;
use crate::tui::view::doc_options;

use super::frame;

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
    let o = doc_options(app, false);
    let lines = page_lines(&app.content.guide, app.current, body.width as usize, &o);
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
