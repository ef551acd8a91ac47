//! How key-care flows begin and what they leave behind: which flows the
//! selected key offers (from what a check or info read found), the keys
//! that start them in the keys pane and the practice picker, the
//! forcePINChange note from key reports, and the key's facts updated after
//! a change. Pure state changes, no I/O.

use ratatui::crossterm::event::KeyCode;

use crate::ctap::keycare::KeyState;
use crate::ctap::probe::KeyReport;
use crate::diagnose::{KeyFacts, PinState, Protocol};
use crate::sim;
use crate::tui::action::Command;
use crate::tui::app::{App, Pane, ProbeView};

use super::{CareCommand, Flow, KeyCare};

fn care(cmd: CareCommand) -> Option<Command> {
    Some(Command::Care(cmd))
}

/// The flows the selected key offers now, from what is known about it.
pub fn offered(app: &App, device: &str) -> Vec<Flow> {
    let Some(f) = app.keys.facts.get(device) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if f.protocol != Some(Protocol::Fido2) {
        return out;
    }
    match f.client_pin {
        Some(PinState::NotSet) => out.push(Flow::SetPin),
        Some(PinState::Set) if !f.pin_blocked => out.push(Flow::ChangePin),
        _ => {}
    }
    out.push(Flow::Reset);
    out
}

/// Whether `device` demands a new PIN (GetInfo forcePINChange).
pub fn force_change(app: &App, device: &str) -> bool {
    app.keys.force_pin_change.contains(device)
}

/// Notes what a key report says that the flows need (forcePINChange).
pub fn note_report(app: &mut App, report: &KeyReport) {
    let forced = report
        .info
        .as_ref()
        .and_then(|i| i.force_pin_change)
        .unwrap_or(false);
    if forced {
        app.keys.force_pin_change.insert(report.device.clone());
    } else {
        app.keys.force_pin_change.remove(&report.device);
    }
}

/// Starts `flow` on `device` (keys pane, nothing running).
pub fn start(app: &mut App, device: String, flow: Flow) -> Option<Command> {
    if app.keycare.is_some() || app.probe.as_ref().is_some_and(ProbeView::running) {
        return None;
    }
    // A finished check's view makes way for the flow.
    app.probe = None;
    app.keycare = Some(KeyCare::new(&device, flow));
    app.pane = Pane::Keys;
    app.notice = None;
    care(CareCommand::Read { device })
}

/// A key-care key in the keys pane list (`s`, `P`, `R`); `None` when the
/// key is not one of them.
pub fn keys_pane_key(app: &mut App, code: KeyCode) -> Option<Option<Command>> {
    let flow = match code {
        KeyCode::Char('s') => Flow::SetPin,
        KeyCode::Char('P') => Flow::ChangePin,
        KeyCode::Char('R') => Flow::Reset,
        _ => return None,
    };
    let device = app.keys.selected_device()?;
    if !app.keys.facts.contains_key(&device) {
        app.notice = Some(app.care_text.keys.read_first.clone());
        return Some(None);
    }
    if !offered(app, &device).contains(&flow) {
        return Some(None);
    }
    Some(start(app, device, flow))
}

/// The practice scenario on which each flow can be rehearsed.
pub fn practice_flow(scenario: &str) -> Option<Flow> {
    match scenario {
        "no-pin" => Some(Flow::SetPin),
        "pin-blocked" => Some(Flow::Reset),
        _ => None,
    }
}

/// A key in the practice picker: `s` on the no-PIN key, `R` on the blocked
/// one start the rehearsal. `None` when the key is not one of them.
pub fn practice_key(app: &mut App, code: KeyCode) -> Option<Option<Command>> {
    let name = sim::scenario::all().get(app.practice.selected)?.name;
    let flow = practice_flow(name)?;
    let wanted = match flow {
        Flow::SetPin => KeyCode::Char('s'),
        _ => KeyCode::Char('R'),
    };
    if code != wanted {
        return None;
    }
    app.practice.open = false;
    let device = format!("sim:{name}");
    if !app.keys.extra.contains(&device) {
        app.keys.extra.push(device.clone());
    }
    if let Some(i) = app.keys.devices().iter().position(|d| *d == device) {
        app.keys.selected = i;
    }
    Some(start(app, device, flow))
}

/// Records the key's state after a change in the keys pane's facts.
pub(super) fn record(app: &mut App, device: &str, state: &KeyState) {
    // A key that answered the flow's CTAP2 commands speaks FIDO2.
    let f = app
        .keys
        .facts
        .entry(device.to_string())
        .or_insert_with(|| KeyFacts::unknown(device));
    f.protocol.get_or_insert(Protocol::Fido2);
    f.client_pin = Some(match state.client_pin {
        Some(true) => PinState::Set,
        Some(false) => PinState::NotSet,
        None => PinState::Unsupported,
    });
    f.pin_retries = state.pin_retries;
    f.pin_blocked = state.pin_retries == Some(0);
    if state.force_pin_change {
        app.keys.force_pin_change.insert(device.to_string());
    } else {
        app.keys.force_pin_change.remove(device);
    }
}

/// `s` or `R` in the diagnosis pane on a finding that calls for it ("no
/// PIN", "PIN blocked"): starts the flow for the diagnosed key. `None` when
/// the key or the finding is not one of them.
pub fn diagnosis_key(app: &mut App, code: KeyCode) -> Option<Option<Command>> {
    let report = app.diagnosis.report.as_ref()?;
    let finding = report.findings.get(app.diagnosis.finding_selected)?;
    let flow = match (code, finding.id.as_str()) {
        (KeyCode::Char('s'), "pin-not-set" | "pin-not-set-apple") => Flow::SetPin,
        (KeyCode::Char('R'), "pin-blocked") => Flow::Reset,
        _ => return None,
    };
    let device = report.keys.first()?.device.clone();
    if !app.keys.devices().contains(&device) {
        app.keys.extra.push(device.clone());
    }
    if let Some(i) = app.keys.devices().iter().position(|d| *d == device) {
        app.keys.selected = i;
    }
    Some(start(app, device, flow))
}
