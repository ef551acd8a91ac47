//! Key care in the terminal app, driven by scripted messages (no device,
//! no I/O): set a PIN, change it, reset a key. Typed PINs are checked before
//! anything is sent, Esc leaves every step before sending and cancels after,
//! the last attempt needs an explicit "y", the reset needs the typed word and
//! the re-plug, and PINs never reach the screen or `Debug`. Plus snapshots of
//! every screen in English and Japanese.

#[path = "fixtures/support.rs"]
mod support;

use fido_doctor::content::guide::Content;
use fido_doctor::content::{ContentSource, Lang};
use fido_doctor::ctap::keycare::KeyState;
use fido_doctor::ctap::keycare::state::CredMgmtSupport;
use fido_doctor::diagnose::PinState;
use fido_doctor::tui::action::PinSecret;
use fido_doctor::tui::keycare::{CareCommand, CareFailure, CareMsg, Flow, Step};
use fido_doctor::tui::{App, Command, Msg, TuiOptions, render_to_string, update};
use ratatui::crossterm::event::KeyCode;
use support::{app_at, ch, key};

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

fn live_app(lang: Lang, w: u16, h: u16) -> App {
    let content = Content::load(&ContentSource::Embedded, lang).unwrap();
    let mut app = app_at(content, &TuiOptions::default(), w, h);
    app.diagnosis.diagnosis_content = Some(support::diagnosis_content(lang));
    app
}

fn typed(app: &mut App, text: &str) -> Option<Command> {
    let mut last = None;
    for c in text.chars() {
        last = update(app, ch(c));
    }
    last
}

fn state(pin: Option<bool>, retries: Option<u32>) -> KeyState {
    KeyState {
        client_pin: pin,
        pin_retries: retries,
        power_cycle_required: false,
        min_pin_length: 4,
        force_pin_change: false,
        credential_management: CredMgmtSupport::Standard,
        fido_2_1: true,
        protocol: None,
        token_with_permissions: true,
    }
}

fn fail(code: &str, retries: Option<u32>) -> CareFailure {
    CareFailure {
        code: code.into(),
        retries,
        detail: String::new(),
    }
}

fn step(app: &App) -> Step {
    app.keycare.as_ref().expect("a flow is open").step.clone()
}

/// Picks practice scenario `name` in the picker and presses `k` there.
fn practise(app: &mut App, name: &str, k: char) -> Option<Command> {
    update(app, ch('p'));
    let index = fido_doctor::sim::scenario::all()
        .iter()
        .position(|s| s.name == name)
        .unwrap();
    for _ in 0..index {
        update(app, key(KeyCode::Down));
    }
    update(app, ch(k))
}

/// An app whose keys pane holds `device`, checked as the scenario's key.
fn checked(lang: Lang, scenario: &str, device: &str) -> App {
    let mut app = live_app(lang, 80, 24);
    app.keys.extra.push(device.into());
    update(&mut app, key(KeyCode::Tab));
    let mut report = support::scenario_report(scenario);
    report.device = device.into();
    update(&mut app, key(KeyCode::Enter));
    update(&mut app, Msg::ProbeFinished(Box::new(report)));
    update(&mut app, key(KeyCode::Esc));
    assert!(app.probe.is_none());
    app
}

fn set_pin_app(lang: Lang, w: u16, h: u16) -> App {
    let mut app = live_app(lang, w, h);
    let cmd = practise(&mut app, "no-pin", 's');
    assert_eq!(
        cmd,
        Some(Command::Care(CareCommand::Read {
            device: "sim:no-pin".into()
        }))
    );
    update(
        &mut app,
        Msg::Care(CareMsg::State(Ok(state(Some(false), None)))),
    );
    app
}

#[test]
fn set_pin_checks_both_entries_before_anything_is_sent() {
    let mut app = set_pin_app(Lang::En, 80, 24);
    assert_eq!(step(&app), Step::Intro);
    assert_eq!(update(&mut app, key(KeyCode::Enter)), None);
    assert_eq!(step(&app), Step::NewPin);
    // Too short: refused here, nothing sent, entry cleared.
    typed(&mut app, "123");
    assert_eq!(update(&mut app, key(KeyCode::Enter)), None);
    let c = app.keycare.as_ref().unwrap();
    assert_eq!(c.problem.as_deref(), Some("too_short"));
    assert!(c.input.is_empty());
    // Too long: 22 Japanese characters are 66 bytes.
    typed(&mut app, &"あ".repeat(22));
    assert_eq!(update(&mut app, key(KeyCode::Enter)), None);
    assert_eq!(
        app.keycare.as_ref().unwrap().problem.as_deref(),
        Some("too_long")
    );
    // Mismatch: back to the first entry.
    typed(&mut app, "2468");
    update(&mut app, key(KeyCode::Enter));
    assert_eq!(step(&app), Step::Confirm);
    typed(&mut app, "2469");
    assert_eq!(update(&mut app, key(KeyCode::Enter)), None);
    assert_eq!(step(&app), Step::NewPin);
    assert_eq!(
        app.keycare.as_ref().unwrap().problem.as_deref(),
        Some("mismatch")
    );
    // Backspace edits; the agreed PIN is sent once.
    typed(&mut app, "24689");
    update(&mut app, key(KeyCode::Backspace));
    update(&mut app, key(KeyCode::Enter));
    typed(&mut app, "2468");
    let cmd = update(&mut app, key(KeyCode::Enter));
    let Some(Command::Care(CareCommand::SetPin {
        device,
        new,
        min_len,
    })) = cmd
    else {
        panic!("{cmd:?}")
    };
    assert_eq!((device.as_str(), min_len), ("sim:no-pin", 4));
    assert_eq!(new, PinSecret(zeroize::Zeroizing::new("2468".into())));
    assert_eq!(step(&app), Step::Working);
    // Waiting: keys do not send it again; Esc cancels on the key.
    assert_eq!(update(&mut app, key(KeyCode::Enter)), None);
    assert_eq!(
        update(&mut app, key(KeyCode::Esc)),
        Some(Command::Care(CareCommand::Cancel))
    );
    assert_eq!(
        update(&mut app, key(KeyCode::Esc)),
        None,
        "cancel is sent once"
    );
    let after = state(Some(true), Some(8));
    update(&mut app, Msg::Care(CareMsg::Finished(Ok(after.clone()))));
    assert_eq!(step(&app), Step::Done(after));
    update(&mut app, key(KeyCode::Enter));
    assert!(app.keycare.is_none());
}

#[test]
fn the_keys_pane_offers_only_what_the_key_can_do_and_records_the_new_pin() {
    let mut app = checked(Lang::En, "no-pin", "sim:no-pin");
    let screen = render_to_string(&app, 80, 24);
    assert!(screen.contains("s: set a PIN"), "{screen}");
    assert!(!screen.contains("P: change"), "{screen}");
    // P does nothing on a key without a PIN.
    assert_eq!(update(&mut app, ch('P')), None);
    assert!(app.keycare.is_none());
    let cmd = update(&mut app, ch('s'));
    assert!(matches!(cmd, Some(Command::Care(CareCommand::Read { .. }))));
    update(
        &mut app,
        Msg::Care(CareMsg::State(Ok(state(Some(false), None)))),
    );
    update(&mut app, key(KeyCode::Enter));
    typed(&mut app, "abcd");
    update(&mut app, key(KeyCode::Enter));
    typed(&mut app, "abcd");
    update(&mut app, key(KeyCode::Enter));
    update(
        &mut app,
        Msg::Care(CareMsg::Finished(Ok(state(Some(true), Some(8))))),
    );
    update(&mut app, key(KeyCode::Esc));
    let f = &app.keys.facts["sim:no-pin"];
    assert_eq!(
        (f.client_pin, f.pin_retries),
        (Some(PinState::Set), Some(8))
    );
    let screen = render_to_string(&app, 80, 24);
    assert!(screen.contains("P: change"), "{screen}");
    assert!(!screen.contains("s: set a PIN"), "{screen}");
    // The help lists the key-care keys the selected key offers now.
    update(&mut app, ch('?'));
    let help = render_to_string(&app, 120, 40);
    assert!(help.contains(&app.care_text.keys.help_change), "{help}");
    assert!(help.contains(&app.care_text.keys.help_reset), "{help}");
    assert!(!help.contains(&app.care_text.keys.help_set), "{help}");
    update(&mut app, key(KeyCode::Esc));
    // A key that is not checked offers nothing and says why.
    let mut app = live_app(Lang::En, 80, 24);
    app.keys.extra.push("sim:no-pin".into());
    update(&mut app, key(KeyCode::Tab));
    assert_eq!(update(&mut app, ch('R')), None);
    assert!(app.keycare.is_none());
    assert!(app.notice.is_some());
}

#[test]
fn a_key_that_demands_a_new_pin_is_told_so_and_offered_the_change() {
    use fido_doctor::ctap::probe::Outcome;
    let mut app = live_app(Lang::En, 80, 24);
    app.keys.extra.push("sim:modern".into());
    update(&mut app, key(KeyCode::Tab));
    let mut report = support::scenario_report("modern");
    report.device = "sim:modern".into();
    if let Outcome::Ok { value, .. } = &mut report.key {
        value.device = "sim:modern".into();
        value.info.as_mut().unwrap().force_pin_change = Some(true);
    }
    update(&mut app, key(KeyCode::Enter));
    update(&mut app, Msg::ProbeFinished(Box::new(report)));
    update(&mut app, key(KeyCode::Esc));
    let screen = render_to_string(&app, 80, 24);
    assert!(screen.contains("demands a new PIN"), "{screen}");
    assert!(screen.contains("P: change"), "{screen}");
    assert!(matches!(
        update(&mut app, ch('P')),
        Some(Command::Care(CareCommand::Read { .. }))
    ));
    // After the change the key no longer demands one.
    update(
        &mut app,
        Msg::Care(CareMsg::State(Ok(state(Some(true), Some(8))))),
    );
    app.keycare.as_mut().unwrap().step = Step::Working;
    update(
        &mut app,
        Msg::Care(CareMsg::Finished(Ok(state(Some(true), Some(8))))),
    );
    update(&mut app, key(KeyCode::Enter));
    let screen = render_to_string(&app, 80, 24);
    assert!(!screen.contains("demands a new PIN"), "{screen}");
}

#[test]
fn the_no_pin_and_blocked_findings_start_their_flow_on_the_diagnosed_key() {
    for (scenario, k, flow, finding) in [
        ("no-pin", 's', Flow::SetPin, "pin-not-set"),
        ("pin-blocked", 'R', Flow::Reset, "pin-blocked"),
    ] {
        let mut app = live_app(Lang::En, 80, 24);
        let report = support::scenario_report(scenario);
        let content = support::diagnosis_content(Lang::En);
        let diagnosis = support::diagnosis_of(&report, &content);
        let at = diagnosis
            .findings
            .iter()
            .position(|f| f.id.as_str() == finding)
            .unwrap_or_else(|| panic!("{scenario}: no {finding} finding"));
        update(&mut app, Msg::DiagnosisReady(Box::new(diagnosis)));
        update(&mut app, key(KeyCode::BackTab));
        for _ in 0..at {
            update(&mut app, key(KeyCode::Down));
        }
        // The other key does nothing here.
        let other = if k == 's' { 'R' } else { 's' };
        assert_eq!(update(&mut app, ch(other)), None);
        assert!(app.keycare.is_none());
        let cmd = update(&mut app, ch(k));
        assert_eq!(
            cmd,
            Some(Command::Care(CareCommand::Read {
                device: report.device.clone()
            }))
        );
        assert_eq!(app.keycare.as_ref().unwrap().flow, flow);
        assert_eq!(app.pane, fido_doctor::tui::Pane::Keys);
    }
}

#[test]
fn esc_leaves_every_step_before_sending_without_a_command() {
    for presses in 0..4 {
        let mut app = set_pin_app(Lang::En, 80, 24);
        update(&mut app, key(KeyCode::Enter));
        for _ in 0..presses.min(1) {
            typed(&mut app, "2468");
            update(&mut app, key(KeyCode::Enter));
        }
        if presses > 1 {
            typed(&mut app, "24");
        }
        assert_eq!(update(&mut app, key(KeyCode::Esc)), None, "{presses}");
        assert!(app.keycare.is_none());
    }
    // While the state is read, Esc stops the read.
    let mut app = live_app(Lang::En, 80, 24);
    practise(&mut app, "no-pin", 's');
    assert_eq!(
        update(&mut app, key(KeyCode::Esc)),
        Some(Command::Care(CareCommand::Cancel))
    );
    assert!(app.keycare.is_none());
}

#[test]
fn change_with_one_attempt_left_needs_an_explicit_yes_and_reports_a_wrong_pin() {
    let mut app = checked(Lang::En, "modern", "sim:modern");
    assert!(matches!(
        update(&mut app, ch('P')),
        Some(Command::Care(CareCommand::Read { .. }))
    ));
    update(
        &mut app,
        Msg::Care(CareMsg::State(Ok(state(Some(true), Some(1))))),
    );
    update(&mut app, key(KeyCode::Enter));
    assert_eq!(step(&app), Step::LastAttempt);
    // Enter is not a yes.
    update(&mut app, key(KeyCode::Enter));
    assert_eq!(step(&app), Step::LastAttempt);
    update(&mut app, ch('y'));
    assert_eq!(step(&app), Step::Current);
    typed(&mut app, "1234");
    update(&mut app, key(KeyCode::Enter));
    typed(&mut app, "1234");
    update(&mut app, key(KeyCode::Enter));
    typed(&mut app, "1234");
    // The same PIN again is refused before sending.
    assert_eq!(update(&mut app, key(KeyCode::Enter)), None);
    assert_eq!(
        app.keycare.as_ref().unwrap().problem.as_deref(),
        Some("same")
    );
    typed(&mut app, "5678");
    update(&mut app, key(KeyCode::Enter));
    typed(&mut app, "5678");
    let cmd = update(&mut app, key(KeyCode::Enter));
    let Some(Command::Care(CareCommand::ChangePin {
        current,
        new,
        allow_last_attempt,
        ..
    })) = cmd
    else {
        panic!("{cmd:?}")
    };
    assert!(allow_last_attempt);
    assert_eq!(*current.0, "1234");
    assert_eq!(*new.0, "5678");
    update(
        &mut app,
        Msg::Care(CareMsg::Finished(Err(fail("pin-invalid", Some(0))))),
    );
    let screen = render_to_string(&app, 80, 24);
    assert!(screen.contains("Attempts left: 0"), "{screen}");
    // Without the yes, nothing is sent with one attempt left: Esc stops.
    let mut app = checked(Lang::En, "modern", "sim:modern");
    update(&mut app, ch('P'));
    update(
        &mut app,
        Msg::Care(CareMsg::State(Ok(state(Some(true), Some(1))))),
    );
    update(&mut app, key(KeyCode::Enter));
    assert_eq!(update(&mut app, key(KeyCode::Esc)), None);
    assert!(app.keycare.is_none());
}

#[test]
fn a_blocked_pin_is_not_changed_and_a_set_pin_is_not_set_again() {
    let mut app = checked(Lang::En, "modern", "sim:modern");
    update(&mut app, ch('P'));
    update(
        &mut app,
        Msg::Care(CareMsg::State(Ok(state(Some(true), Some(0))))),
    );
    assert_eq!(step(&app), Step::Failed(fail("pin-blocked", Some(0))));
    let mut app = set_pin_app(Lang::En, 80, 24);
    app.keycare.as_mut().unwrap().step = Step::Reading;
    update(
        &mut app,
        Msg::Care(CareMsg::State(Ok(state(Some(true), Some(8))))),
    );
    assert_eq!(step(&app), Step::Failed(fail("pin-already-set", Some(8))));
}

fn reset_app(lang: Lang, w: u16, h: u16) -> App {
    let mut app = live_app(lang, w, h);
    let cmd = practise(&mut app, "pin-blocked", 'R');
    assert_eq!(
        cmd,
        Some(Command::Care(CareCommand::Read {
            device: "sim:pin-blocked".into()
        }))
    );
    update(
        &mut app,
        Msg::Care(CareMsg::State(Ok(state(Some(true), Some(0))))),
    );
    app
}

#[test]
fn practice_reset_needs_the_word_the_replug_and_the_touch() {
    let mut app = reset_app(Lang::En, 80, 24);
    assert_eq!(step(&app), Step::Intro);
    update(&mut app, key(KeyCode::Enter));
    assert_eq!(step(&app), Step::Word);
    typed(&mut app, "reset");
    assert_eq!(update(&mut app, key(KeyCode::Enter)), None);
    assert_eq!(step(&app), Step::Word, "the word is exact");
    typed(&mut app, "RESET");
    assert_eq!(update(&mut app, key(KeyCode::Enter)), None);
    assert_eq!(step(&app), Step::Unplug);
    assert_eq!(update(&mut app, ch(' ')), None);
    assert_eq!(step(&app), Step::Plug);
    app.tick = 100;
    assert_eq!(
        update(&mut app, ch(' ')),
        Some(Command::Care(CareCommand::Reset {
            device: "sim:pin-blocked".into()
        }))
    );
    assert_eq!(step(&app), Step::Touch { since: 100 });
    assert!(app.wants_ticks());
    for _ in 0..25 {
        update(&mut app, Msg::Tick);
    }
    let screen = render_to_string(&app, 80, 24);
    assert!(screen.contains("7 s left"), "{screen}");
    assert_eq!(
        update(&mut app, ch(' ')),
        Some(Command::Care(CareCommand::Touch))
    );
    assert_eq!(
        update(&mut app, key(KeyCode::Esc)),
        Some(Command::Care(CareCommand::Cancel))
    );
    update(
        &mut app,
        Msg::Care(CareMsg::Finished(Ok(state(Some(false), None)))),
    );
    let screen = render_to_string(&app, 80, 24);
    assert!(screen.contains("The key is reset"), "{screen}");
    update(&mut app, key(KeyCode::Enter));
    let f = &app.keys.facts.get("sim:pin-blocked");
    assert!(f.is_none_or(|f| f.client_pin == Some(PinState::NotSet) && !f.pin_blocked));

    // Esc during the simulated re-plug: nothing was sent.
    let mut app = reset_app(Lang::En, 80, 24);
    update(&mut app, key(KeyCode::Enter));
    typed(&mut app, "RESET");
    update(&mut app, key(KeyCode::Enter));
    update(&mut app, ch(' '));
    assert_eq!(update(&mut app, key(KeyCode::Esc)), None);
    assert!(app.keycare.is_none());
}

#[test]
fn a_usb_key_reset_waits_for_the_replug_and_each_refusal_has_its_own_words() {
    let mut app = live_app(Lang::En, 80, 24);
    update(
        &mut app,
        Msg::Devices(vec![support::hid_key("/dev/hidraw3")]),
    );
    update(&mut app, key(KeyCode::Tab));
    let mut report = support::scenario_report("pin-blocked");
    report.device = "hid:/dev/hidraw3".into();
    update(&mut app, key(KeyCode::Enter));
    update(&mut app, Msg::ProbeFinished(Box::new(report)));
    update(&mut app, key(KeyCode::Esc));
    assert!(matches!(update(&mut app, ch('R')), Some(Command::Care(_))));
    update(
        &mut app,
        Msg::Care(CareMsg::State(Ok(state(Some(true), Some(0))))),
    );
    update(&mut app, key(KeyCode::Enter));
    typed(&mut app, "RESET");
    // The worker waits for the re-plug; it sends nothing before it.
    assert_eq!(
        update(&mut app, key(KeyCode::Enter)),
        Some(Command::Care(CareCommand::Reset {
            device: "hid:/dev/hidraw3".into()
        }))
    );
    assert_eq!(step(&app), Step::Unplug);
    // Keys plugged in meanwhile are not asked what they are.
    assert_eq!(
        update(
            &mut app,
            Msg::Devices(vec![support::hid_key("/dev/hidraw5")])
        ),
        None
    );
    update(&mut app, Msg::Care(CareMsg::Unplugged));
    assert_eq!(step(&app), Step::Plug);
    app.tick = 7;
    let device = "hid:/dev/hidraw5".to_string();
    update(
        &mut app,
        Msg::Care(CareMsg::Plugged {
            device: device.clone(),
        }),
    );
    assert_eq!(step(&app), Step::Touch { since: 7 });
    // The key may come back under a new path; the flow follows it.
    assert_eq!(app.keycare.as_ref().unwrap().device, device);
    let texts = app.care_text.clone();
    let mut seen = Vec::new();
    for code in ["reset-too-late", "reset-denied", "no-touch", "u2f-only"] {
        let mut a = app.clone();
        update(&mut a, Msg::Care(CareMsg::Finished(Err(fail(code, None)))));
        let screen = render_to_string(&a, 120, 40).replace('\n', " ");
        let words: String = texts.errors[code]
            .split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(screen.contains(&words), "{code}: {screen}");
        seen.push(words);
    }
    seen.dedup();
    assert_eq!(seen.len(), 4);
    // Esc while waiting for the unplug stops the wait.
    let mut a = app.clone();
    a.keycare.as_mut().unwrap().step = Step::Unplug;
    assert_eq!(
        update(&mut a, key(KeyCode::Esc)),
        Some(Command::Care(CareCommand::Cancel))
    );
    assert!(a.keycare.is_none());
}

#[test]
fn pins_never_reach_the_screen_or_debug_output() {
    let mut app = set_pin_app(Lang::En, 120, 40);
    update(&mut app, key(KeyCode::Enter));
    typed(&mut app, "735190");
    update(&mut app, key(KeyCode::Enter));
    typed(&mut app, "7351");
    let screen = render_to_string(&app, 120, 40);
    assert!(!screen.contains("7351"), "{screen}");
    assert!(screen.contains("******"), "{screen}");
    assert!(!format!("{:?}", app.keycare).contains("7351"));
    typed(&mut app, "90");
    let cmd = update(&mut app, key(KeyCode::Enter));
    assert!(!format!("{cmd:?}").contains("7351"), "{cmd:?}");
    assert!(matches!(step(&app), Step::Working));
}

fn flow_screens(lang: Lang) -> Vec<(String, App)> {
    let mut out = Vec::new();
    let keys = checked(lang, "no-pin", "sim:no-pin");
    out.push(("keys_no_pin".into(), keys));
    let mut picker = live_app(lang, 80, 24);
    practise(&mut picker, "pin-blocked", 'x');
    out.push(("picker_pin_blocked".into(), picker));

    let mut app = set_pin_app(lang, 80, 24);
    out.push(("set_intro".into(), app.clone()));
    update(&mut app, key(KeyCode::Enter));
    typed(&mut app, "12");
    update(&mut app, key(KeyCode::Enter));
    out.push(("set_too_short".into(), app.clone()));
    typed(&mut app, "2468");
    update(&mut app, key(KeyCode::Enter));
    typed(&mut app, "24");
    out.push(("set_confirm".into(), app.clone()));
    typed(&mut app, "69");
    update(&mut app, key(KeyCode::Enter));
    out.push(("set_mismatch".into(), app.clone()));
    typed(&mut app, "2468");
    update(&mut app, key(KeyCode::Enter));
    typed(&mut app, "2468");
    update(&mut app, key(KeyCode::Enter));
    out.push(("set_working".into(), app.clone()));
    update(
        &mut app,
        Msg::Care(CareMsg::Finished(Ok(state(Some(true), Some(8))))),
    );
    out.push(("set_done".into(), app));

    let mut app = checked(lang, "modern", "sim:modern");
    update(&mut app, ch('P'));
    let mut st = state(Some(true), Some(1));
    st.force_pin_change = true;
    update(&mut app, Msg::Care(CareMsg::State(Ok(st))));
    out.push(("change_intro".into(), app.clone()));
    update(&mut app, key(KeyCode::Enter));
    out.push(("change_last_attempt".into(), app.clone()));
    update(&mut app, ch('y'));
    typed(&mut app, "12");
    out.push(("change_current".into(), app.clone()));
    let mut failed = app.clone();
    failed.keycare.as_mut().unwrap().step = Step::Working;
    update(
        &mut failed,
        Msg::Care(CareMsg::Finished(Err(fail("pin-invalid", Some(5))))),
    );
    out.push(("change_wrong_pin".into(), failed));

    let mut app = reset_app(lang, 80, 24);
    out.push(("reset_intro".into(), app.clone()));
    update(&mut app, key(KeyCode::Enter));
    typed(&mut app, "RES");
    out.push(("reset_word".into(), app.clone()));
    typed(&mut app, "ET");
    update(&mut app, key(KeyCode::Enter));
    out.push(("reset_unplug".into(), app.clone()));
    update(&mut app, ch(' '));
    out.push(("reset_plug".into(), app.clone()));
    update(&mut app, ch(' '));
    for _ in 0..10 {
        update(&mut app, Msg::Tick);
    }
    out.push(("reset_touch".into(), app.clone()));
    let mut late = app.clone();
    update(
        &mut late,
        Msg::Care(CareMsg::Finished(Err(fail("reset-too-late", None)))),
    );
    out.push(("reset_too_late".into(), late));
    update(
        &mut app,
        Msg::Care(CareMsg::Finished(Ok(state(Some(false), None)))),
    );
    out.push(("reset_done".into(), app));
    out
}

#[test]
fn every_key_care_screen() {
    settings().bind(|| {
        for lang in Lang::ALL {
            for (name, app) in flow_screens(lang) {
                let screen = render_to_string(&app, 80, 24);
                insta::assert_snapshot!(format!("care_{name}_{lang}_80x24"), screen);
            }
        }
        let app = set_pin_app(Lang::En, 120, 40);
        insta::assert_snapshot!("care_set_intro_en_120x40", render_to_string(&app, 120, 40));
    });
}

#[test]
fn flows_are_the_ones_asked_for() {
    let app = set_pin_app(Lang::En, 80, 24);
    assert_eq!(app.keycare.as_ref().unwrap().flow, Flow::SetPin);
    let app = reset_app(Lang::En, 80, 24);
    assert_eq!(app.keycare.as_ref().unwrap().flow, Flow::Reset);
}
