//! The only place the app state changes: [`update`] applies one message.
//! It is pure (no I/O, no clocks), so scripted key sequences test it fully.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use zeroize::Zeroizing;

use crate::ctap::probe::{Outcome, ProbeEvent, ProbeReport};
use crate::diagnose::key_facts;
use crate::sim;

use super::action::{Command, Msg, PinSecret};
use super::app::{App, Pane, PinEntry, ProbeView, StageStatus, stage_index};
use super::keycare;
use super::layout;
use super::widgets::diagnosis::selected_guide_step;
use crate::content::ui::fill;

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
        Msg::Devices(list) => {
            let selected = app.keys.selected_device();
            let new: Vec<String> = list
                .iter()
                .map(|k| k.spec())
                .filter(|d| !app.keys.hid.iter().any(|k| k.spec() == *d))
                .filter(|d| !app.keys.facts.contains_key(d))
                .collect();
            app.keys.hid = list;
            app.keys.error = None;
            keep_selection(app, selected);
            // Newly attached keys are asked what they are, unless a check
            // is talking to a device right now.
            let busy = app.probe.as_ref().is_some_and(ProbeView::running) || app.keycare.is_some();
            (!new.is_empty() && !busy).then_some(Command::Info { devices: new })
        }
        Msg::NfcKeys(list) => {
            let selected = app.keys.selected_device();
            let new: Vec<String> = list
                .iter()
                .filter(|d| !app.keys.nfc.contains(d) && !app.keys.facts.contains_key(*d))
                .cloned()
                .collect();
            app.keys.nfc = list;
            keep_selection(app, selected);
            let busy = app.probe.as_ref().is_some_and(ProbeView::running) || app.keycare.is_some();
            (!new.is_empty() && !busy).then_some(Command::Info { devices: new })
        }
        Msg::InfoReady { device, result } => {
            match result {
                Ok(key) => {
                    keycare::note_report(app, &key);
                    app.keys.info_errors.remove(&device);
                    let checked = app
                        .keys
                        .facts
                        .get(&device)
                        .is_some_and(|f| f.registration.is_some());
                    if let (false, Some(content)) = (checked, &app.diagnosis.diagnosis_content) {
                        let report = ProbeReport {
                            device: device.clone(),
                            key: Outcome::Ok {
                                value: *key,
                                elapsed: std::time::Duration::ZERO,
                            },
                            registration: Outcome::Skipped {
                                reason: "info only".into(),
                            },
                            authentication: Outcome::Skipped {
                                reason: "info only".into(),
                            },
                        };
                        app.keys
                            .facts
                            .insert(device, key_facts(&report, &content.aaguids));
                        return rediagnose_with_known_keys(app);
                    }
                }
                Err(e) => {
                    app.keys.info_errors.insert(device, e);
                }
            }
            None
        }
        Msg::DevicesError(e) => {
            app.keys.error = Some(e);
            None
        }
        Msg::Probe(event) => {
            on_probe_event(app, event);
            None
        }
        Msg::ProbeFinished(report) => {
            on_probe_finished(app, *report);
            None
        }
        Msg::ProbeOpenFailed { device, error } => {
            if let Some(p) = app.probe.as_mut().filter(|p| p.running()) {
                if !device.is_empty() {
                    p.device = device;
                }
                p.open_error = Some(error);
                p.pin = None;
                p.touch_since = None;
                p.stages = [
                    StageStatus::Done {
                        ok: false,
                        elapsed: std::time::Duration::ZERO,
                    },
                    StageStatus::Skipped,
                    StageStatus::Skipped,
                ];
            }
            None
        }
        Msg::PinRequested { retries } => {
            if let Some(p) = app.probe.as_mut().filter(|p| p.running()) {
                p.pin = Some(PinEntry {
                    retries,
                    input: Zeroizing::new(String::new()),
                    confirmed: retries != Some(1),
                });
                p.touch_since = None;
                None
            } else {
                // Nobody to ask: decline so the check does not wait.
                Some(Command::Pin(None))
            }
        }
        Msg::DiagnosisReady(report)
            if report.keys.is_empty()
                && app
                    .diagnosis
                    .report
                    .as_ref()
                    .is_some_and(|r| !r.keys.is_empty()) =>
        {
            // The keyless first diagnosis arrived after a check's: keep the
            // one that knows the key.
            None
        }
        Msg::DiagnosisReady(report) => {
            // The sign-ins stored on a key are read after its check.
            for k in report
                .keys
                .iter()
                .filter(|k| k.stored.is_some() || k.stored_unreadable.is_some())
            {
                if let Some(f) = app.keys.facts.get_mut(&k.device) {
                    f.stored.clone_from(&k.stored);
                    f.stored_unreadable.clone_from(&k.stored_unreadable);
                }
            }
            let n = report.findings.len();
            app.diagnosis.environment = Some(report.environment.clone());
            app.diagnosis.report = Some(*report);
            app.diagnosis.running = false;
            app.diagnosis.finding_selected =
                app.diagnosis.finding_selected.min(n.saturating_sub(1));
            None
        }
        Msg::WinkDone { device, error } => {
            let t = &app.text.keys;
            app.notice = Some(match error {
                None => format!("{device}: {}", t.winking),
                Some(e) => fill(&t.wink_failed, &[("error", &e)]),
            });
            None
        }
        Msg::ExportDone(path) => {
            app.notice = Some(fill(&app.text.export.written, &[("path", &path)]));
            None
        }
        Msg::ExportFailed(e) => {
            app.notice = Some(fill(&app.text.export.failed, &[("error", &e)]));
            None
        }
        Msg::Care(m) => keycare::on_msg(app, m),
    }
}

/// While no check has run, the diagnosis judges the keys known from asking
/// them what they are, so it never says "no key" next to a listed key.
fn rediagnose_with_known_keys(app: &mut App) -> Option<Command> {
    let checked = app
        .diagnosis
        .report
        .as_ref()
        .is_some_and(|r| r.keys.iter().any(|k| k.registration.is_some()));
    let busy = app.probe.as_ref().is_some_and(ProbeView::running);
    if checked || busy || app.keys.facts.is_empty() {
        return None;
    }
    app.diagnosis.running = true;
    Some(Command::Diagnose(
        app.keys.facts.values().cloned().collect(),
    ))
}

fn keep_selection(app: &mut App, selected: Option<String>) {
    let devices = app.keys.devices();
    app.keys.selected = selected
        .and_then(|d| devices.iter().position(|x| *x == d))
        .unwrap_or(0)
        .min(devices.len().saturating_sub(1));
}

fn on_probe_event(app: &mut App, event: ProbeEvent) {
    let tick = app.tick;
    let Some(p) = app.probe.as_mut().filter(|p| p.running()) else {
        return;
    };
    match event {
        ProbeEvent::Stage(stage) => {
            if let Some(s) = p.stages.get_mut(stage_index(stage)) {
                *s = StageStatus::Running;
            }
            p.touch_since = None;
            p.uv_prompt = false;
        }
        ProbeEvent::StageDone { stage, ok, elapsed } => {
            if let Some(s) = p.stages.get_mut(stage_index(stage)) {
                *s = StageStatus::Done { ok, elapsed };
            }
            p.touch_since = None;
            p.uv_prompt = false;
        }
        ProbeEvent::TouchNeeded { .. } => {
            p.touch_since = Some(tick);
            p.pin = None;
        }
        ProbeEvent::UvNeeded { .. } => p.uv_prompt = true,
        ProbeEvent::UvFallbackToPin { .. } => p.uv_prompt = false,
        ProbeEvent::Processing | ProbeEvent::PinNeeded { .. } => {}
    }
}

fn outcome_status<T>(o: &Outcome<T>) -> StageStatus {
    match o {
        Outcome::Ok { elapsed, .. } => StageStatus::Done {
            ok: true,
            elapsed: *elapsed,
        },
        Outcome::Failed { elapsed, .. } => StageStatus::Done {
            ok: false,
            elapsed: *elapsed,
        },
        Outcome::Skipped { .. } => StageStatus::Skipped,
    }
}

fn on_probe_finished(app: &mut App, report: ProbeReport) {
    if let Outcome::Ok { value, .. } = &report.key {
        keycare::note_report(app, value);
    }
    if let Some(content) = &app.diagnosis.diagnosis_content {
        // The probe reads the PIN counter again after a PIN was given: the
        // facts show the attempts left after the check.
        let facts = key_facts(&report, &content.aaguids);
        app.keys.facts.insert(report.device.clone(), facts);
    }
    let Some(p) = app.probe.as_mut() else {
        return;
    };
    p.stages = [
        outcome_status(&report.key),
        outcome_status(&report.registration),
        outcome_status(&report.authentication),
    ];
    p.pin = None;
    p.touch_since = None;
    p.cancelling = false;
    p.report = Some(report);
}

fn start_probe(app: &mut App, device: String) -> Option<Command> {
    if app.probe.as_ref().is_some_and(ProbeView::running) {
        return None;
    }
    app.probe = Some(ProbeView::new(&device));
    app.diagnosis.running = true;
    app.pane = Pane::Keys;
    app.notice = None;
    Some(Command::StartProbe { device })
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
    app.notice = None;
    let (w, h) = app.size;
    if !layout::fits(Rect::new(0, 0, w, h)) {
        // Nothing acts behind the "terminal too small" screen but quitting.
        return matches!(key.code, KeyCode::Char('q'))
            .then(|| quit(app))
            .flatten();
    }
    if app.help {
        // Any key closes the overlay (Esc and q too, without quitting).
        app.help = false;
        return None;
    }
    if app.keycare.is_some() {
        return keycare::on_key(app, key);
    }
    if app.probe.as_ref().is_some_and(|p| p.pin.is_some()) {
        return pin_key(app, key);
    }
    if app.practice.open {
        return picker_key(app, key.code);
    }
    if app.pane == Pane::Keys
        && let Some(p) = &mut app.probe
    {
        if p.running() {
            match key.code {
                KeyCode::Esc => {
                    p.cancelling = true;
                    return Some(Command::CancelProbe);
                }
                KeyCode::Char(' ') if p.scenario.is_some() => return Some(Command::Touch),
                _ => {}
            }
        } else if matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Backspace) {
            app.probe = None;
            return None;
        }
    }
    match key.code {
        // Back to the finding whose guide page this is.
        KeyCode::Esc | KeyCode::Backspace
            if app.pane == Pane::Guide && app.diagnosis.opened_guide =>
        {
            app.diagnosis.opened_guide = false;
            app.pane = Pane::Diagnosis;
        }
        KeyCode::Char('q') | KeyCode::Esc => return quit(app),
        KeyCode::Char('?') => app.help = true,
        KeyCode::Tab => {
            app.diagnosis.opened_guide = false;
            app.pane = app.pane.next();
        }
        KeyCode::BackTab => {
            app.diagnosis.opened_guide = false;
            app.pane = app.pane.prev();
        }
        KeyCode::Char('p') if !app.probe.as_ref().is_some_and(ProbeView::running) => {
            app.practice.open = true;
            app.pane = Pane::Keys;
        }
        KeyCode::Char('e') if app.pane != Pane::Guide => return export(app),
        KeyCode::Char('s' | 'R') if app.pane == Pane::Diagnosis => {
            return keycare::diagnosis_key(app, key.code).flatten();
        }
        _ if app.pane == Pane::Guide => guide_key(app, key.code),
        _ if app.pane == Pane::Keys => return keys_key(app, key.code),
        _ if app.pane == Pane::Diagnosis => diagnosis_key(app, key.code),
        _ => {}
    }
    None
}

/// Longest PIN accepted from the keyboard (CTAP allows 63 bytes).
const MAX_PIN_CHARS: usize = 63;

fn pin_key(app: &mut App, key: KeyEvent) -> Option<Command> {
    let p = app.probe.as_mut()?;
    let entry = p.pin.as_mut()?;
    if !entry.confirmed {
        // The last attempt: only an explicit "y" goes on to the PIN.
        return match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                entry.confirmed = true;
                None
            }
            KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('N') => {
                p.pin = None;
                p.cancelling = true;
                Some(Command::CancelProbe)
            }
            _ => None,
        };
    }
    match key.code {
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            if entry.input.chars().count() < MAX_PIN_CHARS {
                entry.input.push(c);
            }
            None
        }
        KeyCode::Backspace => {
            entry.input.pop();
            None
        }
        KeyCode::Enter if !entry.input.is_empty() => {
            let pin = std::mem::replace(&mut entry.input, Zeroizing::new(String::new()));
            p.pin = None;
            Some(Command::Pin(Some(PinSecret(pin))))
        }
        KeyCode::Esc => {
            p.pin = None;
            p.cancelling = true;
            Some(Command::CancelProbe)
        }
        _ => None,
    }
}

fn picker_key(app: &mut App, code: KeyCode) -> Option<Command> {
    if let Some(cmd) = keycare::practice_key(app, code) {
        return cmd;
    }
    let last = sim::scenario::all().len().saturating_sub(1);
    let sel = &mut app.practice.selected;
    match code {
        KeyCode::Up | KeyCode::Char('k') => *sel = sel.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => *sel = (*sel + 1).min(last),
        KeyCode::Home => *sel = 0,
        KeyCode::End => *sel = last,
        KeyCode::Esc | KeyCode::Backspace => app.practice.open = false,
        KeyCode::Char('q') => return quit(app),
        KeyCode::Enter => {
            let name = sim::scenario::all().get(*sel)?.name;
            app.practice.open = false;
            let device = format!("sim:{name}");
            if !app.keys.extra.contains(&device) {
                app.keys.extra.push(device.clone());
            }
            let selected = Some(device.clone());
            keep_selection(app, selected);
            return start_probe(app, device);
        }
        _ => {}
    }
    None
}

fn keys_key(app: &mut App, code: KeyCode) -> Option<Command> {
    if let Some(cmd) = keycare::keys_pane_key(app, code) {
        return cmd;
    }
    if app.probe.is_some() {
        return None;
    }
    let last = app.keys.devices().len().saturating_sub(1);
    match code {
        KeyCode::Up | KeyCode::Char('k') => app.keys.selected = app.keys.selected.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => app.keys.selected = (app.keys.selected + 1).min(last),
        KeyCode::Enter | KeyCode::Char('c') => {
            let device = app.keys.selected_device()?;
            return start_probe(app, device);
        }
        KeyCode::Char('w') => {
            let device = app.keys.selected_device()?;
            return Some(Command::Wink { device });
        }
        KeyCode::Char('i') => {
            let device = app.keys.selected_device()?;
            app.keys.facts.remove(&device);
            return Some(Command::Info {
                devices: vec![device],
            });
        }
        _ => {}
    }
    None
}

fn diagnosis_key(app: &mut App, code: KeyCode) {
    let n = app
        .diagnosis
        .report
        .as_ref()
        .map(|r| r.findings.len())
        .unwrap_or(0);
    let before = app.diagnosis.finding_selected;
    let sel = &mut app.diagnosis.finding_selected;
    match code {
        KeyCode::Up | KeyCode::Char('k') => *sel = sel.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => *sel = (*sel + 1).min(n.saturating_sub(1)),
        KeyCode::PageDown | KeyCode::Char(' ') => {
            app.diagnosis.scroll = app.diagnosis.scroll.saturating_add(5)
        }
        KeyCode::PageUp => app.diagnosis.scroll = app.diagnosis.scroll.saturating_sub(5),
        KeyCode::Enter => {
            if let Some(index) = app
                .diagnosis
                .report
                .as_ref()
                .and_then(|r| selected_guide_step(r, app.diagnosis.finding_selected))
                .and_then(|id| app.content.guide.position(id))
            {
                app.pane = Pane::Guide;
                app.diagnosis.opened_guide = true;
                go_to(app, index);
            }
        }
        _ => {}
    }
    if app.diagnosis.finding_selected != before {
        app.diagnosis.scroll = 0;
    }
}

fn export(app: &mut App) -> Option<Command> {
    match &app.diagnosis.report {
        Some(r) => Some(Command::Export(Box::new(r.clone()))),
        None => {
            app.notice = Some(app.text.export.nothing.clone());
            None
        }
    }
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
    let lines = super::widgets::page::all_lines(app, body.width as usize).len();
    let lines = u16::try_from(lines).unwrap_or(u16::MAX);
    lines.saturating_sub(body.height)
}

fn clamp_scroll(app: &mut App) {
    app.scroll = app.scroll.min(max_scroll(app));
}
