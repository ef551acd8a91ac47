//! The screen shown when the terminal is below the minimum size.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;

use crate::content::ui::fill;
use crate::tui::app::App;
use crate::tui::layout::{MIN_HEIGHT, MIN_WIDTH};
use crate::tui::wrap::{self, wrap};

/// Draws "terminal too small (need 60x20)" centred in `area`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let msg = fill(
        &app.ui().small.message,
        &[("w", &MIN_WIDTH), ("h", &MIN_HEIGHT)],
    );
    let lines = wrap(
        &[Span::styled(msg, app.theme.warning())],
        area.width as usize,
    );
    let top = area.y + area.height.saturating_sub(lines.len() as u16) / 2;
    for (i, line) in lines.iter().enumerate() {
        let y = top + i as u16;
        if y >= area.bottom() {
            break;
        }
        let lw = wrap::width(&wrap::line_text(line)) as u16;
        let x = area.x + area.width.saturating_sub(lw) / 2;
        buf.set_line(x, y, line, area.width);
    }
}
