//! One verdict on every surface: every way a check can stop, rendered by
//! `check`'s text, the JSON and Markdown reports, the terminal app's
//! diagnosis and its check view, all from the failure table; PIN safety at
//! the surface (warnings, the last-attempt confirmation).

#[path = "fixtures/support.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use fido_doctor::content::failures::{FailureOutcome, FailureTable};
use fido_doctor::content::guide::Content;
use fido_doctor::content::ui::UiText;
use fido_doctor::content::{ContentSource, Lang};
use fido_doctor::ctap::probe::{Failure, FailureCode, Outcome, ProbeReport};
use fido_doctor::diagnose::{self, KeyFacts};
use fido_doctor::tui::app::{ProbeView, StageStatus};
use fido_doctor::tui::{Command, Msg, TuiOptions, render_to_string, update};
use ratatui::crossterm::event::KeyCode;
use support::{app_at, ch, diagnosis_content, fake_env, key, scenario_report};

fn all_codes() -> Vec<String> {
    FailureCode::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect()
}

/// A probe whose registration stopped with `code` (the info stage worked).
fn stopped_probe(code: FailureCode) -> ProbeReport {
    let mut r = scenario_report("modern");
    r.registration = Outcome::Failed {
        error: Failure {
            code,
            message: format!("technical detail for {}", code.as_str()),
            ctap_status: None,
            u2f_sw: None,
        },
        elapsed: Duration::ZERO,
    };
    r.authentication = Outcome::Skipped {
        reason: "registration failed".into(),
    };
    r
}

/// Key facts of a check that stopped with `code` (codes the probe cannot
/// name yet are set on the facts, as the client will report them).
fn stopped_key(code: &str, content: &diagnose::DiagnosisContent) -> KeyFacts {
    let base = FailureCode::ALL
        .iter()
        .find(|c| c.as_str() == code)
        .copied()
        .unwrap_or(FailureCode::CtapStatus);
    let mut k = diagnose::keys_from_probes(&[stopped_probe(base)], content).remove(0);
    let f = k.failure.as_mut().unwrap();
    f.code = code.to_string();
    f.detail = format!("technical detail for {code}");
    if code == "pin-not-set" {
        // Otherwise the PIN rule reports it from what getInfo said.
        k.client_pin = None;
    }
    k
}

/// Screen text without frame characters, whitespace collapsed.
fn flat(screen: &str) -> String {
    screen
        .replace(['│', '┌', '┐', '└', '┘', '─'], " ")
        .split_whitespace()
        .collect::<String>()
}

fn content(lang: Lang) -> Content {
    Content::load(&ContentSource::Embedded, lang).unwrap()
}

#[test]
fn every_failure_reaches_every_surface_in_its_own_words() {
    for lang in Lang::ALL {
        let dc = diagnosis_content(lang);
        let table = FailureTable::load(&ContentSource::Embedded, lang).unwrap();
        let ui = UiText::load(&ContentSource::Embedded, lang).unwrap();
        let unknown_title = table.render("no-such-code", &BTreeMap::new()).title;
        for code in all_codes() {
            let entry = table.get(&code).unwrap_or_else(|| panic!("{lang}: {code}"));
            let keys = vec![stopped_key(&code, &dc)];
            let report = diagnose::diagnose(fake_env(), keys, &dc);
            // A permission problem on Windows is reported once for the
            // computer (its own finding); every other code has its finding.
            let Some(f) = report
                .findings
                .iter()
                .find(|f| f.failure.as_deref() == Some(code.as_str()))
            else {
                assert_eq!(code, "permission-denied", "{lang}: no finding for {code}");
                continue;
            };
            let ctx = format!("{lang} {code}");
            assert_ne!(f.title, unknown_title, "{ctx}: generic text");
            assert!(!f.title.contains('{'), "{ctx}: unfilled {}", f.title);
            assert!(!f.fix.trim().is_empty(), "{ctx}: no advice");
            assert_eq!(f.outcome, Some(entry.outcome), "{ctx}");
            // JSON.
            let json: serde_json::Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
            let jf = json["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|j| j["failure"] == code.as_str())
                .unwrap();
            assert_eq!(jf["title"], f.title.as_str(), "{ctx}");
            assert_eq!(jf["outcome"], entry.outcome.as_str(), "{ctx}");
            // Exit code: could-not-run is 3 unless something else fails.
            if entry.outcome == FailureOutcome::CouldNotRun {
                assert!(matches!(report.exit_code(), 2 | 3), "{ctx}");
            } else if f.severity == diagnose::Severity::Fail {
                assert_eq!(report.exit_code(), 2, "{ctx}");
            }
            // Markdown: the title, the fix on its own line, the guide by title.
            let md = report.to_markdown();
            assert!(md.contains(&f.title), "{ctx}");
            assert!(!md.contains(":** -"), "{ctx}: a list on the label's line");
            if let Some(t) = &f.guide_title {
                assert!(md.contains(t.as_str()), "{ctx}");
            }
            // Plain text: Markdown rendered, guide by title, no ids.
            let text = fido_doctor::tui::print::verdict_text(&report, &dc.labels, &ui);
            assert!(text.contains(&f.title), "{ctx}");
            assert!(!text.contains("**") && !text.contains('`'), "{ctx}: {text}");
            assert!(!text.contains("guide: "), "{ctx}");
            // The terminal app's diagnosis.
            let mut app = app_at(content(lang), &TuiOptions::default(), 120, 40);
            update(&mut app, Msg::DiagnosisReady(Box::new(report.clone())));
            let pos = report.findings.iter().position(|x| x == f).unwrap();
            update(&mut app, key(KeyCode::Tab));
            update(&mut app, key(KeyCode::Tab));
            for _ in 0..pos {
                update(&mut app, key(KeyCode::Down));
            }
            let screen = render_to_string(&app, 120, 40);
            let head: String = f.title.chars().take(30).collect();
            assert!(screen.contains(&head), "{ctx}: {screen}");
            assert!(!screen.contains(&format!("id: {}", f.id)), "{ctx}");
        }
    }
}

#[test]
fn the_check_view_gives_each_probe_failure_its_reason() {
    for lang in Lang::ALL {
        let table = FailureTable::load(&ContentSource::Embedded, lang).unwrap();
        for code in FailureCode::ALL {
            let mut app = app_at(content(lang), &TuiOptions::default(), 120, 40);
            app.diagnosis.diagnosis_content = Some(diagnosis_content(lang));
            let mut view = ProbeView::new("sim:modern");
            let r = stopped_probe(code);
            view.stages = [
                StageStatus::Done {
                    ok: true,
                    elapsed: Duration::ZERO,
                },
                StageStatus::Done {
                    ok: false,
                    elapsed: Duration::ZERO,
                },
                StageStatus::Skipped,
            ];
            view.report = Some(r);
            app.probe = Some(view);
            update(&mut app, key(KeyCode::Tab));
            let screen = render_to_string(&app, 120, 40);
            let mut v = BTreeMap::new();
            v.insert("detail".to_string(), "x".to_string());
            v.insert("device".to_string(), "sim:modern".to_string());
            let reason = table.render(code.as_str(), &v).reason;
            let start: String = flat(&reason).chars().skip(1).take(12).collect();
            assert!(
                flat(&screen).contains(&start),
                "{lang} {}: {start:?} not in\n{screen}",
                code.as_str()
            );
        }
    }
}

#[test]
fn the_simulator_scenarios_that_stop_are_named_not_generic() {
    let dc = diagnosis_content(Lang::En);
    for (scenario, code) in [
        ("no-touch", "touch-timeout"),
        ("refuse", "user-refused"),
        ("unplugged", "device-gone"),
        ("malformed", "malformed"),
        ("pin-blocked", "pin-blocked"),
    ] {
        let report = support::diagnosis_of(&scenario_report(scenario), &dc);
        let codes: Vec<_> = report
            .findings
            .iter()
            .filter_map(|f| f.failure.clone())
            .collect();
        assert!(
            codes.iter().any(|c| c == code),
            "{scenario}: {codes:?} lacks {code}"
        );
        assert!(
            dc.failures.knows(code),
            "{scenario}: {code} has no entry of its own"
        );
    }
}

#[test]
fn a_key_that_cannot_have_a_pin_is_not_told_it_has_none_yet() {
    let dc = diagnosis_content(Lang::En);
    let mut k = diagnose::keys_from_probes(&[scenario_report("modern")], &dc).remove(0);
    k.client_pin = Some(diagnose::PinState::Unsupported);
    k.pin_retries = None;
    k.uv = None;
    let r = diagnose::diagnose(fake_env(), vec![k], &dc);
    assert!(
        !r.findings
            .iter()
            .any(|f| f.title == "The key has no PIN yet"),
        "{:?}",
        r.findings
    );
    assert!(
        r.findings
            .iter()
            .any(|f| f.failure.as_deref() == Some("pin-unsupported"))
    );
}

#[test]
fn the_pin_window_warns_and_confirms_the_last_attempt() {
    for lang in Lang::ALL {
        let mut app = app_at(content(lang), &TuiOptions::default(), 80, 24);
        app.probe = Some(ProbeView::new("sim:pin-low"));
        update(&mut app, Msg::PinRequested { retries: Some(2) });
        let screen = render_to_string(&app, 80, 24);
        let warn_low = &app.text.pin.warn_low;
        let head: String = warn_low.replace("{n}", "2").chars().take(12).collect();
        assert!(screen.contains(&head), "{lang}: {screen}");
        // One attempt left: typing does nothing until "y" confirms.
        update(&mut app, Msg::PinRequested { retries: Some(1) });
        let screen = render_to_string(&app, 80, 24);
        let confirm: String = app.text.pin.confirm_last.chars().take(12).collect();
        assert!(screen.contains(&confirm), "{lang}: {screen}");
        assert_eq!(update(&mut app, ch('1')), None);
        assert_eq!(update(&mut app, key(KeyCode::Enter)), None);
        assert_eq!(update(&mut app, ch('y')), None);
        for c in "1234".chars() {
            update(&mut app, ch(c));
        }
        let screen = render_to_string(&app, 80, 24);
        assert!(screen.contains("****_"), "{lang}: {screen}");
        assert!(
            !screen.contains("*****"),
            "{lang}: the y was not typed into the PIN"
        );
        assert!(matches!(
            update(&mut app, key(KeyCode::Enter)),
            Some(Command::Pin(Some(_)))
        ));
        // Esc at the confirmation stops the check instead.
        update(&mut app, Msg::PinRequested { retries: Some(1) });
        assert_eq!(
            update(&mut app, key(KeyCode::Esc)),
            Some(Command::CancelProbe)
        );
    }
}

#[test]
fn cancelling_reads_as_cancelled_not_refused() {
    let mut r = stopped_probe(FailureCode::UserRefused);
    fido_doctor::tui::worker::read_as_cancelled(&mut r);
    let f = r.registration.failure().unwrap();
    assert_eq!(f.code, FailureCode::Cancelled);
    let dc = diagnosis_content(Lang::En);
    let report = support::diagnosis_of(&r, &dc);
    let f = report
        .findings
        .iter()
        .find(|f| f.failure.as_deref() == Some("cancelled"))
        .unwrap();
    assert!(!f.title.to_lowercase().contains("refus"), "{}", f.title);
    assert_eq!(report.exit_code(), 3);
}

#[test]
fn esc_on_a_guide_page_opened_from_a_finding_returns_to_the_diagnosis() {
    let dc = diagnosis_content(Lang::En);
    let report = support::diagnosis_of(&scenario_report("pin-blocked"), &dc);
    let mut app = app_at(content(Lang::En), &TuiOptions::default(), 80, 24);
    update(&mut app, Msg::DiagnosisReady(Box::new(report)));
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::Tab));
    assert_eq!(app.pane, fido_doctor::tui::Pane::Diagnosis);
    update(&mut app, key(KeyCode::Enter));
    assert_eq!(app.pane, fido_doctor::tui::Pane::Guide);
    assert_eq!(update(&mut app, key(KeyCode::Esc)), None);
    assert!(!app.quit);
    assert_eq!(app.pane, fido_doctor::tui::Pane::Diagnosis);
    // From the guide itself, Esc still quits.
    update(&mut app, key(KeyCode::Tab));
    assert_eq!(app.pane, fido_doctor::tui::Pane::Guide);
    assert_eq!(update(&mut app, key(KeyCode::Esc)), Some(Command::Quit));
}

#[test]
fn nothing_acts_behind_the_too_small_screen() {
    let mut app = app_at(content(Lang::En), &TuiOptions::default(), 30, 10);
    assert_eq!(update(&mut app, ch('p')), None);
    assert!(!app.practice.open);
    assert_eq!(update(&mut app, ch(' ')), None);
    assert_eq!(update(&mut app, key(KeyCode::Tab)), None);
    assert_eq!(app.pane, fido_doctor::tui::Pane::Guide);
    assert_eq!(update(&mut app, ch('q')), Some(Command::Quit));
}

/// Answers a wrong PIN once, then declines.
struct WrongThenDecline(bool);

impl fido_doctor::ctap::probe::UserInteraction for WrongThenDecline {
    fn request_pin(
        &mut self,
        _request: &fido_doctor::ctap::probe::PinRequest,
    ) -> fido_doctor::ctap::probe::PinAnswer {
        use fido_doctor::ctap::probe::PinAnswer;
        if std::mem::replace(&mut self.0, true) {
            PinAnswer::Declined
        } else {
            PinAnswer::Pin(zeroize::Zeroizing::new("9999".into()))
        }
    }
}

#[test]
fn after_a_wrong_pin_the_keys_pane_counts_one_attempt_fewer() {
    use fido_doctor::ctap::ctaphid::CancelHandle;
    use fido_doctor::ctap::probe::{self, ProbeOptions};
    use fido_doctor::sim;
    // A real probe of the pin-low key (2 attempts): one wrong PIN, then no more.
    let scenario = sim::scenario::find("pin-low").unwrap();
    let (t, _handle) = sim::spawn_inproc(scenario, Box::new(sim::AutoTouch));
    let mut ui = WrongThenDecline(false);
    let mut r = probe::run(
        t,
        &ProbeOptions::default(),
        &mut ui,
        &mut |_| {},
        &CancelHandle::default(),
    );
    // One attempt is left after the wrong PIN, and nobody confirmed spending it.
    assert_eq!(
        r.registration.failure().map(|f| f.code),
        Some(FailureCode::PinLastAttemptWithheld)
    );
    r.device = "sim:pin-low".into();
    let mut app = app_at(content(Lang::En), &TuiOptions::default(), 80, 24);
    app.diagnosis.diagnosis_content = Some(diagnosis_content(Lang::En));
    app.probe = Some(ProbeView::new("sim:pin-low"));
    update(&mut app, Msg::ProbeFinished(Box::new(r)));
    assert_eq!(app.keys.facts["sim:pin-low"].pin_retries, Some(1));
}

#[test]
fn a_fingerprint_key_is_touched_with_an_enrolled_finger() {
    use fido_doctor::ctap::probe::{ProbeEvent, Stage};
    for lang in [Lang::En, Lang::Ja] {
        let live = fido_doctor::tui::text::LiveText::load(&ContentSource::Embedded, lang).unwrap();
        let mut app = app_at(content(lang), &TuiOptions::default(), 120, 40);
        app.probe = Some(ProbeView::new("sim:bio"));
        app.pane = fido_doctor::tui::Pane::Keys;
        update(&mut app, Msg::Probe(ProbeEvent::Stage(Stage::Register)));
        update(
            &mut app,
            Msg::Probe(ProbeEvent::UvNeeded { retries: Some(3) }),
        );
        let timeout = Duration::from_secs(30);
        update(&mut app, Msg::Probe(ProbeEvent::TouchNeeded { timeout }));
        let screen = render_to_string(&app, 120, 40);
        assert!(screen.contains(&live.probe.touch_uv), "{screen}");
        // A plain touch in the next stage reads as a touch again.
        update(&mut app, Msg::Probe(ProbeEvent::Stage(Stage::Authenticate)));
        update(&mut app, Msg::Probe(ProbeEvent::TouchNeeded { timeout }));
        let screen = render_to_string(&app, 120, 40);
        assert!(screen.contains(&live.probe.touch), "{screen}");
        assert!(!screen.contains(&live.probe.touch_uv), "{screen}");
    }
}
