//! Drawing: [`view`] paints the whole screen from the app state and does
//! nothing else (no state changes, no clocks, no I/O).

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::app::{App, Pane};
use super::doc::DocOptions;
use super::layout;
use super::widgets::diagnosis::DiagnosisPane;
use super::widgets::{help, keys, page, pin, sidebar, small, status, tabs};

/// Draws the app into the frame.
pub fn view(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    draw(app, area, frame.buffer_mut());
}

/// Draws the app into `area` of `buf`.
pub fn draw(app: &App, area: Rect, buf: &mut Buffer) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let Some(a) = layout::areas(area, app.pane) else {
        small::render(app, area, buf);
        return;
    };
    tabs::render(app, a.tabs, buf);
    match app.pane {
        Pane::Guide => {
            sidebar::render(app, a.sidebar, buf);
            page::render(app, a.main, a.body, buf);
        }
        Pane::Keys => keys::render(app, a.main, a.body, buf),
        Pane::Diagnosis => DiagnosisPane {
            report: app.diagnosis.report.as_ref(),
            running: app.diagnosis.running,
            selected: app.diagnosis.finding_selected,
            scroll: app.diagnosis.scroll,
            content: &app.content,
            theme: app.theme,
            ascii: app.ascii,
            focused: true,
        }
        .render(a.main, buf),
    }
    status::render(app, a.status, buf);
    pin::render(app, area, buf);
    if app.help {
        help::render(app, area, buf);
    }
}

/// Document options for drawing guide pages in this app.
pub fn doc_options(app: &App, markers: bool) -> DocOptions<'_> {
    DocOptions {
        theme: app.theme,
        ui: app.ui(),
        ascii: app.ascii,
        markers,
    }
}
