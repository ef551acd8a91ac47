//! Where each part of the screen goes, as pure functions of the terminal
//! area, shared by drawing and by the update (which needs page heights to
//! clamp scrolling).

use ratatui::layout::Rect;

use super::app::Pane;

/// Smallest usable terminal width.
pub const MIN_WIDTH: u16 = 60;
/// Smallest usable terminal height.
pub const MIN_HEIGHT: u16 = 20;

/// The regions of the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// Top row: app name and pane tabs.
    pub tabs: Rect,
    /// Step list (empty unless the guide pane is shown).
    pub sidebar: Rect,
    /// The pane's frame.
    pub main: Rect,
    /// Text area inside the main frame.
    pub body: Rect,
    /// Bottom row: key hints.
    pub status: Rect,
}

/// Whether the terminal is big enough for the app.
pub fn fits(area: Rect) -> bool {
    area.width >= MIN_WIDTH && area.height >= MIN_HEIGHT
}

/// Splits the screen; `None` when it is too small.
pub fn areas(area: Rect, pane: Pane) -> Option<Areas> {
    if !fits(area) {
        return None;
    }
    let tabs = Rect::new(area.x, area.y, area.width, 1);
    let status = Rect::new(area.x, area.bottom() - 1, area.width, 1);
    let middle = Rect::new(area.x, area.y + 1, area.width, area.height - 2);
    let (sidebar, main) = if pane == Pane::Guide {
        let w = (area.width * 3 / 10).clamp(22, 36);
        (
            Rect::new(middle.x, middle.y, w, middle.height),
            Rect::new(middle.x + w, middle.y, middle.width - w, middle.height),
        )
    } else {
        (Rect::new(middle.x, middle.y, 0, middle.height), middle)
    };
    // One column of border and one of padding on each side.
    let body = Rect::new(
        main.x + 2,
        main.y + 1,
        main.width.saturating_sub(4),
        main.height.saturating_sub(2),
    );
    Some(Areas {
        tabs,
        sidebar,
        main,
        body,
        status,
    })
}

/// A `w`×`h` rectangle centred in `area` (shrunk to fit).
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_tile_the_screen() {
        let a = areas(Rect::new(0, 0, 80, 24), Pane::Guide).unwrap();
        assert_eq!(a.sidebar.width + a.main.width, 80);
        assert_eq!(a.tabs.height + a.main.height + a.status.height, 24);
        assert_eq!(a.body.width, a.main.width - 4);
        let k = areas(Rect::new(0, 0, 80, 24), Pane::Keys).unwrap();
        assert_eq!(k.main.width, 80);
        assert!(areas(Rect::new(0, 0, 59, 24), Pane::Guide).is_none());
        assert!(areas(Rect::new(0, 0, 60, 19), Pane::Guide).is_none());
        assert!(areas(Rect::new(0, 0, 60, 20), Pane::Guide).is_some());
    }
}
