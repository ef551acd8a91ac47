//! The only place the app state changes: [`update`] applies one message.
//! It is pure (no I/O, no clocks), so scripted key sequences test it fully.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;

use super::action::{Command, Msg};
use super::app::{App, Pane};
use super::doc::page_lines;
use super::layout;

/// Applies `msg` to `app`; returns what the event loop must do, if anything.
pub fn update(app: &mut App, msg: Msg) -> Option<Command> {
    match msg {
        Msg::Key(key) => on_key(app, key),
        Msg::Resize(w, h) => {
            app.size = (w, h);
            clamp_scroll(app);
            None
        }
        Msg::Tick => {
            app.tick = app.tick.wrapping_add(1);
            None
        }
    }
}

fn quit(app: &mut App) -> Option<Command> {
    app.quit = true;
    Some(Command::Quit)
}

fn on_key(app: &mut App, key: KeyEvent) -> Option<Command> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C')) {
        return quit(app);
    }
    if app.help {
        // Any key closes the overlay (Esc and q too, without quitting).
        app.help = false;
        return None;
    }
    match key.code {
        KeyCode::Char('q') | KeyCode::Esc => return quit(app),
        KeyCode::Char('?') => app.help = true,
        KeyCode::Tab => app.pane = app.pane.next(),
        KeyCode::BackTab => app.pane = app.pane.prev(),
        _ if app.pane == Pane::Guide => guide_key(app, key.code),
        _ => {}
    }
    None
}

fn guide_key(app: &mut App, code: KeyCode) {
    let last = app.page_count().saturating_sub(1);
    match code {
        KeyCode::Up | KeyCode::Char('k') | KeyCode::Left | KeyCode::Char('h') => {
            go_to(app, app.current.saturating_sub(1))
        }
        KeyCode::Down
        | KeyCode::Char('j')
        | KeyCode::Right
        | KeyCode::Char('l')
        | KeyCode::Enter => go_to(app, (app.current + 1).min(last)),
        KeyCode::Home | KeyCode::Char('g') => go_to(app, 0),
        KeyCode::End | KeyCode::Char('G') => go_to(app, last),
        KeyCode::PageDown | KeyCode::Char(' ') => {
            let page = page_height(app).saturating_sub(1).max(1);
            app.scroll = app.scroll.saturating_add(page);
            clamp_scroll(app);
        }
        KeyCode::PageUp => {
            let page = page_height(app).saturating_sub(1).max(1);
            app.scroll = app.scroll.saturating_sub(page);
        }
        _ => {}
    }
}

fn go_to(app: &mut App, index: usize) {
    if index != app.current {
        app.current = index;
        app.scroll = 0;
    }
}

fn body_area(app: &App) -> Option<Rect> {
    let (w, h) = app.size;
    layout::areas(Rect::new(0, 0, w, h), Pane::Guide).map(|a| a.body)
}

fn page_height(app: &App) -> u16 {
    body_area(app).map(|b| b.height).unwrap_or(1)
}

/// Largest useful scroll offset of the current page at the current size.
pub fn max_scroll(app: &App) -> u16 {
    let Some(body) = body_area(app) else {
        return 0;
    };
    let o = super::view::doc_options(app, false);
    let lines = page_lines(&app.content.guide, app.current, body.width as usize, &o).len();
    let lines = u16::try_from(lines).unwrap_or(u16::MAX);
    lines.saturating_sub(body.height)
}

fn clamp_scroll(app: &mut App) {
    app.scroll = app.scroll.min(max_scroll(app));
}
