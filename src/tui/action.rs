//! Messages that drive the app: everything that happens (keys, resizes,
//! animation ticks, and later device and probe events from worker threads)
//! arrives as one [`Msg`] on one channel.

use ratatui::crossterm::event::KeyEvent;

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// A key was pressed (releases are filtered out by the input thread).
    Key(KeyEvent),
    /// The terminal now has this many columns and rows.
    Resize(u16, u16),
    /// An animation frame is due (sent only while something animates).
    Tick,
}

/// Something the event loop must do after an update (the update itself
/// never does I/O).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Leave the app.
    Quit,
}
