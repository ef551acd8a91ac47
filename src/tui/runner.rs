//! The event loop: one channel of [`Msg`] fed by an input thread (and
//! later by device and probe workers); all queued messages are applied,
//! then the screen is drawn once. Generic over the ratatui backend so tests
//! run it on `TestBackend` with scripted messages.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::{self, Event};

use super::action::{Command, Msg};
use super::app::App;
use super::update::update;
use super::view::view;
use super::worker::{Effects, NoEffects};

/// Interval between animation ticks (only while something animates).
pub const TICK: Duration = Duration::from_millis(120);
/// How often the input thread checks whether it should stop.
const INPUT_POLL: Duration = Duration::from_millis(100);

fn io_err(e: impl std::error::Error) -> io::Error {
    io::Error::other(e.to_string())
}

/// Runs the app until it quits or the channel closes: draws, waits for
/// messages, applies every queued one, draws again. Commands are dropped.
pub fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    rx: &Receiver<Msg>,
) -> io::Result<()> {
    run_loop_with(terminal, app, rx, &mut NoEffects)
}

/// Like [`run_loop`], handing every command to `effects`. Ticks are
/// generated only while [`App::wants_ticks`]; otherwise the loop sleeps
/// until a message arrives.
pub fn run_loop_with<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    rx: &Receiver<Msg>,
    effects: &mut dyn Effects,
) -> io::Result<()> {
    let size = terminal.size().map_err(io_err)?;
    update(app, Msg::Resize(size.width, size.height));
    terminal.draw(|f| view(f, app)).map_err(io_err)?;
    effects.first_frame();
    let mut next_tick: Option<Instant> = None;
    loop {
        if !app.wants_ticks() {
            next_tick = None;
        } else if next_tick.is_none() {
            next_tick = Some(Instant::now() + TICK);
        }
        // Without an animation the loop sleeps until a message arrives.
        let first = match next_tick {
            Some(t) => match rx.recv_timeout(t.saturating_duration_since(Instant::now())) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            },
            None => match rx.recv() {
                Ok(m) => Some(m),
                Err(_) => return Ok(()),
            },
        };
        let mut next = first;
        let mut changed = false;
        while let Some(msg) = next {
            if let Msg::Resize(..) = msg {
                terminal.autoresize().map_err(io_err)?;
            }
            changed = true;
            match update(app, msg) {
                Some(Command::Quit) => return Ok(()),
                Some(cmd) => effects.apply(cmd),
                None => {}
            }
            next = rx.try_recv().ok();
        }
        if let Some(t) = next_tick
            && Instant::now() >= t
        {
            update(app, Msg::Tick);
            next_tick = Some(t + TICK).filter(|n| *n > Instant::now());
            changed = true;
        }
        if changed {
            terminal.draw(|f| view(f, app)).map_err(io_err)?;
        }
    }
}

/// Reads terminal events on a thread and sends them as messages until
/// `stop` is set or the receiver is gone. Key releases are ignored.
pub fn spawn_input(tx: Sender<Msg>, stop: Arc<AtomicBool>) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("tui-input".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match event::poll(INPUT_POLL) {
                    Ok(false) => continue,
                    Ok(true) => {}
                    Err(_) => break,
                }
                let msg = match event::read() {
                    Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                    Ok(ev) => match ev.as_key_press_event() {
                        Some(key) => Msg::Key(key),
                        None => continue,
                    },
                    Err(_) => break,
                };
                if tx.send(msg).is_err() {
                    break;
                }
            }
        })
}
