//! Snapshots of every screen of the terminal app, from the real embedded
//! content, in English and Japanese, at 80×24 and 120×40; a style snapshot;
//! the printed guide; and a check that wide characters never push a frame
//! out of place.

#[path = "fixtures/support.rs"]
mod support;

use fido_doctor::content::guide::Content;
use fido_doctor::content::{ContentSource, Lang};
use fido_doctor::tui::layout::{self, MIN_HEIGHT, MIN_WIDTH};
use fido_doctor::tui::{
    App, Msg, Pane, TuiOptions, buffer_rows, guide_text, render_to_buffer, render_to_string,
    style_runs, update,
};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use support::app_at;
use unicode_width::UnicodeWidthStr;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

fn content(lang: Lang) -> Content {
    Content::load(&ContentSource::Embedded, lang).unwrap()
}

fn app(lang: Lang, w: u16, h: u16) -> App {
    app_at(content(lang), &TuiOptions::default(), w, h)
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

#[test]
fn every_guide_page() {
    settings().bind(|| {
        for lang in Lang::ALL {
            for (w, h) in SIZES {
                let mut app = app(lang, w, h);
                for i in 0..app.page_count() {
                    assert_eq!(app.current, i);
                    let id = app.step().unwrap().id.clone();
                    let name = format!("guide_{lang}_{w}x{h}_{:02}_{id}", i + 1);
                    insta::assert_snapshot!(name, render_to_string(&app, w, h));
                    update(&mut app, key(KeyCode::Down));
                }
            }
        }
    });
}

#[test]
fn help_keys_and_diagnosis_panes() {
    settings().bind(|| {
        for lang in Lang::ALL {
            for (w, h) in SIZES {
                let mut app = app(lang, w, h);
                update(
                    &mut app,
                    Msg::Key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE)),
                );
                insta::assert_snapshot!(
                    format!("help_{lang}_{w}x{h}"),
                    render_to_string(&app, w, h)
                );
                update(&mut app, key(KeyCode::Esc));
                update(&mut app, key(KeyCode::Tab));
                assert_eq!(app.pane, Pane::Keys);
                insta::assert_snapshot!(
                    format!("keys_{lang}_{w}x{h}"),
                    render_to_string(&app, w, h)
                );
                update(&mut app, key(KeyCode::Tab));
                assert_eq!(app.pane, Pane::Diagnosis);
                insta::assert_snapshot!(
                    format!("diagnosis_{lang}_{w}x{h}"),
                    render_to_string(&app, w, h)
                );
            }
        }
    });
}

#[test]
fn too_small_screen() {
    settings().bind(|| {
        for lang in Lang::ALL {
            let app = app(lang, 50, 12);
            insta::assert_snapshot!(
                format!("too_small_{lang}_50x12"),
                render_to_string(&app, 50, 12)
            );
        }
    });
}

#[test]
fn ascii_frames() {
    settings().bind(|| {
        let opts = TuiOptions {
            ascii: true,
            start: Some("register-step-2".into()),
            ..TuiOptions::default()
        };
        for lang in Lang::ALL {
            let app = app_at(content(lang), &opts, 80, 24);
            let s = render_to_string(&app, 80, 24);
            assert!(!s.contains('│') && !s.contains('─'), "{s}");
            insta::assert_snapshot!(format!("ascii_{lang}_80x24"), s);
        }
    });
}

#[test]
fn styles_of_a_step_with_a_dialog() {
    settings().bind(|| {
        let opts = TuiOptions {
            start: Some("register-step-2".into()),
            ..TuiOptions::default()
        };
        let app = app_at(content(Lang::En), &opts, 80, 24);
        insta::assert_snapshot!(
            "styles_en_80x24_register-step-2",
            style_runs(&render_to_buffer(&app, 80, 24))
        );
        let plain = TuiOptions {
            color: false,
            ..opts
        };
        let app = app_at(content(Lang::En), &plain, 80, 24);
        let runs = style_runs(&render_to_buffer(&app, 80, 24));
        assert!(!runs.contains("fg=") && !runs.contains("bg="), "{runs}");
        assert!(
            runs.contains("REVERSED"),
            "highlights still visible: {runs}"
        );
        insta::assert_snapshot!("styles_en_80x24_register-step-2_no_color", runs);
    });
}

#[test]
fn printed_guide() {
    settings().bind(|| {
        for lang in Lang::ALL {
            insta::assert_snapshot!(format!("print_{lang}_80"), guide_text(&content(lang), 80));
        }
    });
}

/// Every row of every screen is exactly the terminal width in display
/// columns, and the frame's vertical borders sit in their columns, in both
/// languages and on every page (wide characters never shift a border).
#[test]
fn wide_characters_never_break_frames() {
    for lang in Lang::ALL {
        for (w, h) in SIZES.into_iter().chain([(MIN_WIDTH, MIN_HEIGHT), (97, 31)]) {
            let mut app = app(lang, w, h);
            let areas = layout::areas(Rect::new(0, 0, w, h), Pane::Guide).unwrap();
            let border_cols = [
                0,
                areas.sidebar.width - 1,
                areas.main.x,
                areas.main.right() - 1,
            ];
            for _ in 0..app.page_count() {
                let buf = render_to_buffer(&app, w, h);
                for (y, row) in buffer_rows(&buf).into_iter().enumerate() {
                    let text: String = row.iter().map(|(s, _)| s.as_str()).collect();
                    assert_eq!(
                        text.width(),
                        w as usize,
                        "row {y} of {:?}: {text:?}",
                        app.step().map(|s| &s.id)
                    );
                    let inside = y > areas.main.y as usize && y + 1 < areas.main.bottom() as usize;
                    if inside {
                        let mut col = 0usize;
                        let mut at = std::collections::HashMap::new();
                        for (s, _) in &row {
                            at.insert(col, s.clone());
                            col += s.width().max(1);
                        }
                        for c in border_cols {
                            assert_eq!(
                                at.get(&(c as usize)).map(String::as_str),
                                Some("│"),
                                "{lang} {w}x{h} row {y} col {c}: {text:?}"
                            );
                        }
                    }
                }
                update(&mut app, key(KeyCode::Down));
            }
        }
    }
}

/// The help overlay drawn over Japanese text of every page keeps every row
/// at the terminal width (no wide character is left half covered).
#[test]
fn help_overlay_over_wide_text_keeps_rows_whole() {
    for lang in Lang::ALL {
        for (w, h) in SIZES
            .into_iter()
            .chain([(MIN_WIDTH, MIN_HEIGHT), (97, 31), (61, 23)])
        {
            let mut app = app(lang, w, h);
            for _ in 0..app.page_count() {
                app.help = true;
                let buf = render_to_buffer(&app, w, h);
                for (y, row) in buffer_rows(&buf).into_iter().enumerate() {
                    let text: String = row.iter().map(|(s, _)| s.as_str()).collect();
                    assert_eq!(text.width(), w as usize, "{lang} {w}x{h} row {y}: {text:?}");
                }
                app.help = false;
                update(&mut app, key(KeyCode::Down));
            }
        }
    }
}

#[test]
fn narrowest_usable_screen() {
    settings().bind(|| {
        let opts = TuiOptions {
            start: Some("register-step-3".into()),
            ..TuiOptions::default()
        };
        for lang in Lang::ALL {
            let mut app = app_at(content(lang), &opts, MIN_WIDTH, MIN_HEIGHT);
            let name = format!("narrow_{lang}_60x20_register-step-3");
            insta::assert_snapshot!(name, render_to_string(&app, MIN_WIDTH, MIN_HEIGHT));
            app.help = true;
            let name = format!("help_{lang}_60x20");
            insta::assert_snapshot!(name, render_to_string(&app, MIN_WIDTH, MIN_HEIGHT));
        }
    });
}

/// With `ascii`, nothing drawn has an ambiguous East Asian width (arrows,
/// bullets, ellipsis, curly quotes, box drawing), on any page or pane, so
/// the screen lines up in every terminal; printed output likewise.
#[test]
fn ascii_mode_draws_no_ambiguous_width_characters() {
    use fido_doctor::tui::wrap::is_ambiguous;
    let opts = TuiOptions {
        ascii: true,
        ..TuiOptions::default()
    };
    for lang in Lang::ALL {
        let mut app = app_at(content(lang), &opts, 120, 40);
        let mut screens = Vec::new();
        for _ in 0..app.page_count() {
            screens.push(render_to_string(&app, 120, 40));
            update(&mut app, key(KeyCode::Down));
        }
        app.help = true;
        screens.push(render_to_string(&app, 120, 40));
        app.help = false;
        for _ in 0..2 {
            update(&mut app, key(KeyCode::Tab));
            screens.push(render_to_string(&app, 120, 40));
        }
        screens.push(guide_text(&content(lang), 80));
        for s in screens {
            let bad: Vec<char> = s.chars().filter(|c| is_ambiguous(*c)).collect();
            assert!(bad.is_empty(), "{lang}: ambiguous {bad:?} in\n{s}");
        }
    }
}

/// An app over the real content with the diagnosis content loaded, as the
/// running app has it.
fn live_app(lang: Lang, w: u16, h: u16) -> App {
    let mut app = app(lang, w, h);
    app.diagnosis.diagnosis_content = Some(support::diagnosis_content(lang));
    app
}

/// Opens the practice picker, picks scenario `name` and starts its check.
fn start_practice(app: &mut App, name: &str) {
    update(app, support::ch('p'));
    let index = fido_doctor::sim::scenario::all()
        .iter()
        .position(|s| s.name == name)
        .unwrap();
    for _ in 0..index {
        update(app, key(KeyCode::Down));
    }
    let cmd = update(app, key(KeyCode::Enter));
    assert_eq!(
        cmd,
        Some(fido_doctor::tui::Command::StartProbe {
            device: format!("sim:{name}")
        })
    );
}

#[test]
fn live_keys_probe_and_pin_screens() {
    use fido_doctor::ctap::probe::{ProbeEvent, Stage};
    use std::time::Duration;
    settings().bind(|| {
        let modern = support::scenario_report("modern");
        for lang in Lang::ALL {
            for (w, h) in SIZES {
                // A key attached, checked once.
                let mut app = live_app(lang, w, h);
                update(&mut app, key(KeyCode::Tab));
                update(
                    &mut app,
                    Msg::Devices(vec![support::hid_key("/dev/hidraw3")]),
                );
                insta::assert_snapshot!(
                    format!("live_keys_attached_{lang}_{w}x{h}"),
                    render_to_string(&app, w, h)
                );
                let mut checked = modern.clone();
                checked.device = "hid:/dev/hidraw3".into();
                update(&mut app, key(KeyCode::Enter));
                update(&mut app, Msg::ProbeFinished(Box::new(checked)));
                update(&mut app, key(KeyCode::Esc));
                insta::assert_snapshot!(
                    format!("live_keys_checked_{lang}_{w}x{h}"),
                    render_to_string(&app, w, h)
                );

                // The practice picker.
                let mut app = live_app(lang, w, h);
                update(&mut app, support::ch('p'));
                update(&mut app, key(KeyCode::Down));
                insta::assert_snapshot!(
                    format!("live_picker_{lang}_{w}x{h}"),
                    render_to_string(&app, w, h)
                );

                // A practice check waiting for the PIN, then for a touch.
                let mut app = live_app(lang, w, h);
                start_practice(&mut app, "modern");
                update(&mut app, Msg::Probe(ProbeEvent::Stage(Stage::Info)));
                update(
                    &mut app,
                    Msg::Probe(ProbeEvent::StageDone {
                        stage: Stage::Info,
                        ok: true,
                        elapsed: Duration::from_millis(40),
                    }),
                );
                update(&mut app, Msg::Probe(ProbeEvent::Stage(Stage::Register)));
                update(&mut app, Msg::PinRequested { retries: Some(8) });
                for c in ['1', '2', '3'] {
                    update(&mut app, support::ch(c));
                }
                let screen = render_to_string(&app, w, h);
                assert!(!screen.contains("123"), "{screen}");
                insta::assert_snapshot!(format!("live_pin_{lang}_{w}x{h}"), screen);
                update(&mut app, support::ch('4'));
                update(&mut app, key(KeyCode::Enter));
                update(
                    &mut app,
                    Msg::Probe(ProbeEvent::TouchNeeded {
                        timeout: std::time::Duration::from_secs(30),
                    }),
                );
                for _ in 0..20 {
                    update(&mut app, Msg::Tick);
                }
                insta::assert_snapshot!(
                    format!("live_touch_{lang}_{w}x{h}"),
                    render_to_string(&app, w, h)
                );
            }
        }
    });
}

#[test]
fn every_scenario_result_and_its_diagnosis() {
    settings().bind(|| {
        for scenario in fido_doctor::sim::scenario::all() {
            let report = support::scenario_report(scenario.name);
            for lang in Lang::ALL {
                let content = support::diagnosis_content(lang);
                let diagnosis = support::diagnosis_of(&report, &content);
                for (w, h) in SIZES {
                    let mut app = live_app(lang, w, h);
                    start_practice(&mut app, scenario.name);
                    update(&mut app, Msg::ProbeFinished(Box::new(report.clone())));
                    update(&mut app, Msg::DiagnosisReady(Box::new(diagnosis.clone())));
                    let name = scenario.name;
                    insta::assert_snapshot!(
                        format!("practice_{name}_{lang}_{w}x{h}"),
                        render_to_string(&app, w, h)
                    );
                    update(&mut app, key(KeyCode::Tab));
                    assert_eq!(app.pane, Pane::Diagnosis);
                    insta::assert_snapshot!(
                        format!("practice_{name}_diagnosis_{lang}_{w}x{h}"),
                        render_to_string(&app, w, h)
                    );
                }
            }
        }
    });
}

#[test]
fn compat_page_shows_the_table_for_this_computer() {
    settings().bind(|| {
        for lang in Lang::ALL {
            let opts = TuiOptions {
                start: Some("compat-list".into()),
                ..TuiOptions::default()
            };
            let mut app = app_at(content(lang), &opts, 120, 40);
            app.diagnosis.diagnosis_content = Some(support::diagnosis_content(lang));
            app.diagnosis.environment = Some(support::fake_env());
            // Scroll to the end of the page, where the table is.
            for _ in 0..10 {
                update(&mut app, key(KeyCode::PageDown));
            }
            insta::assert_snapshot!(
                format!("live_compat_{lang}_120x40"),
                render_to_string(&app, 120, 40)
            );
        }
    });
}

#[test]
fn styles_of_a_failed_check() {
    settings().bind(|| {
        let report = support::scenario_report("pin-blocked");
        let content = support::diagnosis_content(Lang::En);
        let mut app = live_app(Lang::En, 80, 24);
        start_practice(&mut app, "pin-blocked");
        update(&mut app, Msg::ProbeFinished(Box::new(report.clone())));
        update(
            &mut app,
            Msg::DiagnosisReady(Box::new(support::diagnosis_of(&report, &content))),
        );
        insta::assert_snapshot!(
            "styles_practice_pin-blocked_en_80x24",
            style_runs(&render_to_buffer(&app, 80, 24))
        );
    });
}

#[test]
fn ascii_mode_live_screens_have_no_ambiguous_width_characters() {
    use fido_doctor::ctap::probe::ProbeEvent;
    use fido_doctor::tui::wrap::is_ambiguous;
    let opts = TuiOptions {
        ascii: true,
        ..TuiOptions::default()
    };
    let reports: Vec<_> = fido_doctor::sim::scenario::all()
        .iter()
        .map(|s| (s.name, support::scenario_report(s.name)))
        .collect();
    for lang in Lang::ALL {
        let dc = support::diagnosis_content(lang);
        for (w, h) in [(80, 24), (120, 40)] {
            let mut screens = Vec::new();
            let mut app = app_at(content(lang), &opts, w, h);
            app.diagnosis.diagnosis_content = Some(dc.clone());
            for (i, (_, report)) in reports.iter().enumerate() {
                update(&mut app, support::ch('p'));
                app.practice.selected = i;
                screens.push(render_to_string(&app, w, h));
                update(&mut app, key(KeyCode::Enter));
                update(
                    &mut app,
                    Msg::Probe(ProbeEvent::TouchNeeded {
                        timeout: std::time::Duration::from_secs(30),
                    }),
                );
                screens.push(render_to_string(&app, w, h));
                update(&mut app, Msg::PinRequested { retries: Some(2) });
                screens.push(render_to_string(&app, w, h));
                update(&mut app, key(KeyCode::Esc));
                update(&mut app, Msg::ProbeFinished(Box::new(report.clone())));
                update(
                    &mut app,
                    Msg::DiagnosisReady(Box::new(support::diagnosis_of(report, &dc))),
                );
                screens.push(render_to_string(&app, w, h));
                update(&mut app, key(KeyCode::Esc));
                screens.push(render_to_string(&app, w, h));
            }
            for s in screens {
                let bad: Vec<char> = s.chars().filter(|c| is_ambiguous(*c)).collect();
                assert!(bad.is_empty(), "{lang}: ambiguous {bad:?} in\n{s}");
            }
        }
    }
}
