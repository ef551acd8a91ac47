//! The parts of the screen, each drawn from the app state into a buffer
//! region.

pub mod compat;
pub mod diagnosis;
pub mod help;
pub mod keycare;
pub mod keys;
pub mod mockup;
pub mod page;
pub mod picker;
pub mod pin;
pub mod probe;
pub mod sidebar;
pub mod small;
pub mod status;
pub mod tabs;

use ratatui::symbols::border;
use ratatui::widgets::{Block, Borders};

use super::theme::Theme;

/// ASCII frame characters for `--ascii`.
pub const ASCII_BORDER: border::Set<'static> = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

/// A framed block in the app's style.
pub fn frame(ascii: bool, theme: &Theme, focused: bool) -> Block<'static> {
    let set = if ascii { ASCII_BORDER } else { border::PLAIN };
    let style = if focused {
        theme.border_focused()
    } else {
        theme.border()
    };
    Block::default()
        .borders(Borders::ALL)
        .border_set(set)
        .border_style(style)
}
