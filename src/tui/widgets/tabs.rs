//! The top row: app name and the three pane tabs, the active one
//! highlighted.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::tui::app::{App, Pane};

/// Draws the tab row into `area` (one row).
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let ui = app.ui();
    let mut spans = vec![
        Span::styled(format!(" {} ", ui.app.title), t.title()),
        Span::raw(" "),
    ];
    for pane in Pane::ALL {
        let name = match pane {
            Pane::Guide => &ui.tabs.guide,
            Pane::Keys => &ui.tabs.keys,
            Pane::Diagnosis => &ui.tabs.diagnosis,
        };
        let style = if pane == app.pane {
            t.tab_active()
        } else {
            t.tab()
        };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(format!(" {name} "), style));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}
