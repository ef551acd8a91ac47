//! A pane whose feature is not there yet: its frame and title, and a
//! centred explanation.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::Widget;

use crate::content::ui::PaneText;
use crate::tui::app::App;
use crate::tui::wrap::{self, wrap};

use super::frame;

/// Draws `text` as a placeholder pane in `main` (text inside `body`).
pub fn render(app: &App, text: &PaneText, main: Rect, body: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    frame(app.ascii, t, true)
        .title(Span::styled(format!(" {} ", text.title), t.title()))
        .render(main, buf);
    let w = body.width.min(64) as usize;
    let lines = wrap(&[Span::styled(text.unavailable.clone(), t.text())], w);
    // The paragraph is centred as a block; its lines stay left-aligned.
    let block_w = lines
        .iter()
        .map(|l| wrap::width(&wrap::line_text(l)))
        .max()
        .unwrap_or(0) as u16;
    let x = body.x + body.width.saturating_sub(block_w) / 2;
    let top = body.y + body.height.saturating_sub(lines.len() as u16) / 3;
    for (i, line) in lines.iter().enumerate() {
        let y = top + i as u16;
        if y >= body.bottom() {
            break;
        }
        buf.set_line(x, y, line, body.width);
    }
}
