//! Snapshots of the diagnosis pane and the OS × browser table, drawn
//! directly into a test terminal from real data: reports from what-if
//! questions and from full probes of simulator scenarios on a scripted
//! Linux computer, in English and Japanese, at several sizes; style
//! snapshots with and without colour; and checks that wide characters never
//! shift a row.

#[path = "fixtures/support.rs"]
mod support;

use std::sync::OnceLock;

use fido_doctor::content::compat::{BrowserId, CompatMatrix, OsFamily};
use fido_doctor::content::guide::Content;
use fido_doctor::content::{ContentSource, Lang};
use fido_doctor::diagnose::{
    self, DiagnosisContent, Environment, FakeSystem, FindingId, KeyFacts, Report, Severity,
    gather_environment, key_facts,
};
use fido_doctor::tui::buffer_text;
use fido_doctor::tui::style_runs;
use fido_doctor::tui::theme::Theme;
use fido_doctor::tui::widgets::compat::{Cell, CompatTable, Verdict, machine_cells};
use fido_doctor::tui::widgets::diagnosis::{DiagnosisLabels, DiagnosisPane, selected_guide_step};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use unicode_width::UnicodeWidthStr;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];
const SCENARIOS: [&str; 4] = ["modern", "u2f-only", "pin-blocked", "no-touch"];
const COLOR: Theme = Theme { color: true };
const PLAIN: Theme = Theme { color: false };

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

fn content(lang: Lang) -> &'static Content {
    static C: OnceLock<[Content; 2]> = OnceLock::new();
    let all =
        C.get_or_init(|| Lang::ALL.map(|l| Content::load(&ContentSource::Embedded, l).unwrap()));
    &all[lang as usize]
}

fn dcontent(lang: Lang) -> &'static DiagnosisContent {
    static C: OnceLock<[DiagnosisContent; 2]> = OnceLock::new();
    let all = C.get_or_init(|| {
        Lang::ALL.map(|l| DiagnosisContent::load(&ContentSource::Embedded, l).unwrap())
    });
    &all[lang as usize]
}

/// A Linux computer with a native Firefox on its PATH.
fn linux_with_firefox() -> Environment {
    let sys = FakeSystem::new("linux")
        .with_env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .with_file("/usr/bin/firefox", "")
        .with_command("/usr/bin/firefox --version", 0, "Mozilla Firefox 133.0\n");
    gather_environment(&sys)
}

/// Runs the full probe against a simulator scenario, with durations zeroed.
fn probe_scenario(name: &str) -> KeyFacts {
    key_facts(&support::scenario_report(name), &dcontent(Lang::En).aaguids)
}

/// Key facts of every scenario used here, probed once (in parallel).
fn keys(name: &str) -> KeyFacts {
    static K: OnceLock<Vec<(&'static str, KeyFacts)>> = OnceLock::new();
    let all = K.get_or_init(|| {
        let handles: Vec<_> = SCENARIOS
            .iter()
            .map(|n| std::thread::spawn(move || (*n, probe_scenario(n))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    all.iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| k.clone())
        .expect("scenario probed")
}

fn report_for(scenario: &str, lang: Lang) -> Report {
    diagnose::diagnose(linux_with_firefox(), vec![keys(scenario)], dcontent(lang))
}

fn pane<'a>(report: Option<&'a Report>, lang: Lang, theme: Theme) -> DiagnosisPane<'a> {
    DiagnosisPane {
        report,
        running: false,
        selected: 0,
        scroll: 0,
        content: content(lang),
        theme,
        ascii: false,
        focused: true,
    }
}

fn draw_pane(p: &DiagnosisPane<'_>, w: u16, h: u16) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| f.render_widget(p, f.area())).unwrap();
    term.backend().buffer().clone()
}

fn table<'a>(lang: Lang, theme: Theme, hl: &'a [(OsFamily, BrowserId)]) -> CompatTable<'a> {
    CompatTable {
        matrix: &dcontent(lang).compat,
        lang,
        theme,
        ascii: false,
        highlight: hl,
    }
}

/// Draws the table on a terminal just tall enough for all of it.
fn draw_table(t: &CompatTable<'_>, w: u16) -> Buffer {
    let h = t.lines(w as usize).len() as u16;
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| f.render_widget(t, f.area())).unwrap();
    term.backend().buffer().clone()
}

/// Every row of the buffer is exactly its width in display columns, and a
/// framed buffer has its right border in the last column of every row.
fn assert_rows_intact(buf: &Buffer, framed: bool, what: &str) {
    let w = buf.area.width as usize;
    let text = buffer_text(buf);
    for (y, row) in text.lines().enumerate() {
        assert_eq!(
            row.width(),
            w,
            "{what}: row {y} is {} wide: {row:?}",
            row.width()
        );
        if framed {
            let last = row.chars().last().unwrap();
            assert!(
                matches!(last, '│' | '┐' | '┘' | '|' | '+'),
                "{what}: row {y} ends with {last:?}: {row:?}"
            );
        }
    }
}

#[test]
fn scenario_reports_in_both_languages_and_sizes() {
    settings().bind(|| {
        for scenario in SCENARIOS {
            for lang in Lang::ALL {
                let report = report_for(scenario, lang);
                for (w, h) in SIZES {
                    let buf = draw_pane(&pane(Some(&report), lang, COLOR), w, h);
                    assert_rows_intact(&buf, true, scenario);
                    insta::assert_snapshot!(
                        format!("diag_{scenario}_{lang}_{w}x{h}"),
                        buffer_text(&buf)
                    );
                }
            }
        }
    });
}

#[test]
fn each_scenario_lists_its_finding_first_among_problems() {
    for (scenario, want) in [
        ("u2f-only", FindingId::KeyU2fOnly),
        ("pin-blocked", FindingId::PinBlocked),
        ("no-touch", FindingId::PresenceTimeout),
        ("modern", FindingId::OkKeyReady),
    ] {
        let report = report_for(scenario, Lang::En);
        let f = report.findings.iter().find(|f| f.id == want).unwrap();
        let text = buffer_text(&draw_pane(&pane(Some(&report), Lang::En, COLOR), 120, 40));
        let row = format!(
            "{} {}",
            DiagnosisLabels::for_lang(Lang::En).marker(f.severity),
            f.title
        );
        assert!(text.contains(&row), "{scenario}: no row {row:?}\n{text}");
        let exit = format!("exit code {}", report.exit_code);
        assert!(text.contains(&exit), "{scenario}: {exit:?} missing\n{text}");
    }
}

#[test]
fn what_if_reports() {
    settings().bind(|| {
        for lang in Lang::ALL {
            let report = diagnose::what_if(OsFamily::Linux, BrowserId::Firefox, dcontent(lang));
            let buf = draw_pane(&pane(Some(&report), lang, COLOR), 80, 24);
            assert_rows_intact(&buf, true, "what-if");
            insta::assert_snapshot!(
                format!("diag_whatif_linux_firefox_{lang}_80x24"),
                buffer_text(&buf)
            );
        }
    });
}

#[test]
fn moving_the_selection_shows_that_finding_and_its_guide_step() {
    settings().bind(|| {
        for lang in Lang::ALL {
            let report = report_for("pin-blocked", lang);
            assert!(report.findings.len() >= 3, "{:?}", report.findings);
            let sel = report.findings.len() - 1;
            let mut p = pane(Some(&report), lang, COLOR);
            p.selected = sel;
            let buf = draw_pane(&p, 80, 24);
            assert_rows_intact(&buf, true, "selection");
            let text = buffer_text(&buf);
            // The last row is the marked one.
            let f = &report.findings[sel];
            let marker = DiagnosisLabels::for_lang(lang).marker(f.severity);
            let marked: Vec<&str> = text.lines().filter(|l| l.contains("> [")).collect();
            assert_eq!(marked.len(), 1, "{text}");
            assert!(marked[0].contains(&format!("> {marker}")), "{text}");
            insta::assert_snapshot!(format!("diag_selected_last_{lang}_80x24"), text);

            // A long advice text (the list of supported combinations)
            // scrolls under a fixed list, with the position in the frame.
            let long = diagnose::what_if(OsFamily::Android, BrowserId::Firefox, dcontent(lang));
            assert_eq!(long.findings[0].id, FindingId::ComboUnsupported);
            let top = buffer_text(&draw_pane(&pane(Some(&long), lang, COLOR), 80, 20));
            let mut p = pane(Some(&long), lang, COLOR);
            p.scroll = 4;
            let buf = draw_pane(&p, 80, 20);
            assert_rows_intact(&buf, true, "scroll");
            let text = buffer_text(&buf);
            assert_ne!(top, text);
            let bottom = text.lines().last().unwrap();
            assert!(bottom.contains('5'), "no scroll position: {bottom}");
            // The list and the summary do not move.
            assert_eq!(
                top.lines().take(4).collect::<Vec<_>>(),
                text.lines().take(4).collect::<Vec<_>>()
            );
            insta::assert_snapshot!(format!("diag_scrolled_{lang}_80x20"), text);

            // Scrolling stops where the last line shows; beyond it nothing moves.
            let area = ratatui::layout::Rect::new(0, 0, 80, 20);
            let max = p.max_scroll(area);
            assert!(max >= 4, "{max}");
            p.scroll = max;
            let end = buffer_text(&draw_pane(&p, 80, 20));
            p.scroll = max + 10;
            assert_eq!(end, buffer_text(&draw_pane(&p, 80, 20)));
            p.scroll = max - 1;
            assert_ne!(end, buffer_text(&draw_pane(&p, 80, 20)));
            // A text that fits does not scroll.
            let short = pane(Some(&report), lang, COLOR);
            assert_eq!(
                short.max_scroll(ratatui::layout::Rect::new(0, 0, 120, 40)),
                0
            );
        }
    });
}

#[test]
fn guide_step_of_the_selection() {
    let report = report_for("pin-blocked", Lang::En);
    for (i, f) in report.findings.iter().enumerate() {
        assert_eq!(
            selected_guide_step(&report, i),
            f.guide_step.as_deref().filter(|s| !s.is_empty())
        );
    }
    assert_eq!(selected_guide_step(&report, report.findings.len()), None);
    // The pin-blocked finding links a guide step, and the pane names it.
    let i = report
        .findings
        .iter()
        .position(|f| f.id == FindingId::PinBlocked)
        .unwrap();
    let step = selected_guide_step(&report, i).expect("pin-blocked links a step");
    let title = &content(Lang::En).guide.find(step).unwrap().title;
    let mut p = pane(Some(&report), Lang::En, COLOR);
    p.selected = i;
    let text = buffer_text(&draw_pane(&p, 120, 40));
    assert!(
        text.contains(&format!("Press Enter to open: {title}")),
        "{text}"
    );
}

#[test]
fn empty_and_running_states() {
    settings().bind(|| {
        for lang in Lang::ALL {
            let buf = draw_pane(&pane(None, lang, COLOR), 80, 24);
            assert_rows_intact(&buf, true, "empty");
            insta::assert_snapshot!(format!("diag_empty_{lang}_80x24"), buffer_text(&buf));
        }
        let mut p = pane(None, Lang::En, COLOR);
        p.running = true;
        let text = buffer_text(&draw_pane(&p, 80, 24));
        assert!(text.contains("Diagnosing"), "{text}");
        insta::assert_snapshot!("diag_running_en_80x24", text);
    });
}

#[test]
fn severity_styles_with_and_without_colour() {
    settings().bind(|| {
        let report = report_for("pin-blocked", Lang::En);
        let colored = style_runs(&draw_pane(&pane(Some(&report), Lang::En, COLOR), 80, 24));
        assert!(colored.contains("fg=Red"), "{colored}");
        insta::assert_snapshot!("diag_style_pin-blocked_en_80x24", colored);
        let plain_buf = draw_pane(&pane(Some(&report), Lang::En, PLAIN), 80, 24);
        let plain = style_runs(&plain_buf);
        assert!(!plain.contains("fg=") && !plain.contains("bg="), "{plain}");
        insta::assert_snapshot!("diag_style_nocolor_pin-blocked_en_80x24", plain);
        // Without colour the markers still say what they mean.
        let text = buffer_text(&plain_buf);
        assert!(text.contains("[FAIL]"), "{text}");
    });
}

#[test]
fn compat_cells_follow_the_sources() {
    let m = CompatMatrix::load(&ContentSource::Embedded).unwrap();
    let cell = |os, b| Cell::of(m.lookup(os, b));
    // Facts from the two sources (content/compat.toml).
    assert_eq!(
        cell(OsFamily::Windows, BrowserId::Chrome).verdict,
        Verdict::Yes
    );
    assert_eq!(
        cell(OsFamily::Linux, BrowserId::Firefox).verdict,
        Verdict::New
    );
    assert_eq!(
        cell(OsFamily::Android, BrowserId::Chrome).verdict,
        Verdict::New
    );
    assert_eq!(
        cell(OsFamily::Android, BrowserId::Firefox).verdict,
        Verdict::No
    );
    assert_eq!(
        cell(OsFamily::Windows, BrowserId::Safari).verdict,
        Verdict::Na
    );
    assert_eq!(
        cell(OsFamily::Linux, BrowserId::Brave).verdict,
        Verdict::Unlisted
    );
    assert!(cell(OsFamily::Macos, BrowserId::Safari).sign_in_only);
    assert!(!cell(OsFamily::Windows, BrowserId::Edge).sign_in_only);
    assert!(!cell(OsFamily::Windows, BrowserId::Safari).sign_in_only);
    let env = linux_with_firefox();
    assert_eq!(machine_cells(&env), [(OsFamily::Linux, BrowserId::Firefox)]);
}

#[test]
fn compat_table_in_both_languages_and_widths() {
    settings().bind(|| {
        let mine = [(OsFamily::Linux, BrowserId::Firefox)];
        for lang in Lang::ALL {
            for w in [60u16, 80, 120] {
                for (tag, hl) in [("", &[][..]), ("_linux_firefox", &mine[..])] {
                    let t = table(lang, COLOR, hl);
                    let buf = draw_table(&t, w);
                    assert_rows_intact(&buf, false, "compat");
                    let text = buffer_text(&buf);
                    let src = &dcontent(lang).compat;
                    assert!(text.contains(&src.guide.as_of), "{text}");
                    assert!(text.contains(&src.microsoft.as_of), "{text}");
                    if !hl.is_empty() {
                        assert!(
                            text.contains("Firefox)") || text.contains("Firefox）"),
                            "{text}"
                        );
                    }
                    insta::assert_snapshot!(format!("diag_compat_{lang}_{w}{tag}"), text);
                }
            }
        }
    });
}

#[test]
fn compat_table_highlights_this_computer() {
    let mine = [(OsFamily::Linux, BrowserId::Firefox)];
    let text = buffer_text(&draw_table(&table(Lang::En, PLAIN, &mine), 80));
    let joined = text
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join(" ");
    let row = text
        .lines()
        .find(|l| l.starts_with("> Linux"))
        .expect("Linux row marked");
    assert!(row.contains("[new]"), "{row}");
    assert!(
        joined.contains("This computer (Linux + Firefox): not in the university list (2024-05); allowed by Microsoft (2025-05-12)."),
        "{text}"
    );
    settings().bind(|| {
        let colored = style_runs(&draw_table(&table(Lang::En, COLOR, &mine), 80));
        insta::assert_snapshot!("diag_compat_style_en_80", colored);
        let plain = style_runs(&draw_table(&table(Lang::En, PLAIN, &mine), 80));
        assert!(!plain.contains("fg=") && !plain.contains("bg="), "{plain}");
        insta::assert_snapshot!("diag_compat_style_nocolor_en_80", plain);
    });
}

#[test]
fn narrow_areas_keep_every_row_whole() {
    let mine = [(OsFamily::Android, BrowserId::Chrome)];
    for lang in Lang::ALL {
        for w in [36u16, 44, 56, 60] {
            let t = table(lang, COLOR, &mine);
            for l in t.lines(w as usize) {
                let lw = fido_doctor::tui::wrap::width(&fido_doctor::tui::wrap::line_text(&l));
                assert!(lw <= w as usize, "{lang} {w}: {lw} {l:?}");
            }
            assert_rows_intact(&draw_table(&t, w), false, "narrow compat");
        }
        let report = report_for("u2f-only", lang);
        for (w, h) in [(60u16, 20u16), (61, 21), (100, 30), (104, 30)] {
            for sel in 0..report.findings.len() {
                let mut p = pane(Some(&report), lang, COLOR);
                p.selected = sel;
                assert_rows_intact(&draw_pane(&p, w, h), true, "narrow pane");
            }
        }
    }
}

#[test]
fn severity_markers_are_all_six_columns() {
    for lang in Lang::ALL {
        let l = DiagnosisLabels::for_lang(lang);
        for s in [Severity::Ok, Severity::Info, Severity::Warn, Severity::Fail] {
            assert_eq!(l.marker(s).width(), 6, "{lang} {s:?}");
        }
    }
}

#[test]
fn ascii_mode_draws_no_ambiguous_width_characters() {
    use fido_doctor::tui::wrap::is_ambiguous;
    settings().bind(|| {
        for lang in Lang::ALL {
            for scenario in SCENARIOS {
                let report = report_for(scenario, lang);
                for sel in 0..report.findings.len() {
                    let mut p = pane(Some(&report), lang, COLOR);
                    p.ascii = true;
                    p.selected = sel;
                    let text = buffer_text(&draw_pane(&p, 80, 24));
                    let bad: Vec<char> = text.chars().filter(|c| is_ambiguous(*c)).collect();
                    assert!(bad.is_empty(), "{scenario} {lang} #{sel}: {bad:?}\n{text}");
                    if scenario == "pin-blocked" && sel == 0 {
                        insta::assert_snapshot!(
                            format!("diag_ascii_pin-blocked_{lang}_80x24"),
                            text
                        );
                    }
                }
            }
            let mine = [(OsFamily::Linux, BrowserId::Firefox)];
            let mut t = table(lang, COLOR, &mine);
            t.ascii = true;
            let text = buffer_text(&draw_table(&t, 60));
            let bad: Vec<char> = text.chars().filter(|c| is_ambiguous(*c)).collect();
            assert!(bad.is_empty(), "compat {lang}: {bad:?}\n{text}");
        }
    });
}

#[test]
fn compat_table_abbreviates_when_narrow() {
    settings().bind(|| {
        let mine = [(OsFamily::Android, BrowserId::Chrome)];
        for lang in Lang::ALL {
            let buf = draw_table(&table(lang, COLOR, &mine), 40);
            assert_rows_intact(&buf, false, "compat 40");
            let text = buffer_text(&buf);
            let header = text.lines().find(|l| l.starts_with("  OS ")).unwrap();
            assert!(
                header.contains("Chr") && !header.contains("Chrome"),
                "{header}"
            );
            insta::assert_snapshot!(format!("diag_compat_{lang}_40_android_chrome"), text);
        }
    });
}

/// A remote session on Linux with a Flatpak Firefox, and two problem keys:
/// more findings than the stacked list has rows at 80×24.
fn busy_report(lang: Lang) -> Report {
    let sys = FakeSystem::new("linux")
        .with_env("PATH", "/usr/bin:/bin")
        .with_env("HOME", "/home/alice")
        .with_env("SSH_CONNECTION", "10.0.0.2 50000 10.0.0.1 22")
        .with_dir("/var/lib/flatpak/app/org.mozilla.firefox");
    let env = gather_environment(&sys);
    diagnose::diagnose(
        env,
        vec![keys("u2f-only"), keys("pin-blocked"), keys("no-touch")],
        dcontent(lang),
    )
}

#[test]
fn long_lists_keep_the_selection_in_view() {
    settings().bind(|| {
        for lang in Lang::ALL {
            let report = busy_report(lang);
            let n = report.findings.len();
            assert!(n > 6, "{:?}", report.findings);
            let labels = DiagnosisLabels::for_lang(lang);
            for sel in [0, n / 2, n - 1] {
                let mut p = pane(Some(&report), lang, COLOR);
                p.selected = sel;
                let buf = draw_pane(&p, 80, 24);
                assert_rows_intact(&buf, true, "busy");
                let text = buffer_text(&buf);
                let f = &report.findings[sel];
                let marked: Vec<&str> = text.lines().filter(|l| l.contains("> [")).collect();
                assert_eq!(marked.len(), 1, "#{sel}\n{text}");
                assert!(
                    marked[0].contains(&format!("> {}", labels.marker(f.severity))),
                    "#{sel}\n{text}"
                );
                if sel == n - 1 {
                    insta::assert_snapshot!(format!("diag_busy_last_{lang}_80x24"), text);
                }
            }
            // Past the end, the last finding stays selected.
            let mut p = pane(Some(&report), lang, COLOR);
            p.selected = n + 5;
            assert_eq!(p.selected_index(), n - 1);
            let buf = draw_pane(&p, 120, 40);
            assert_rows_intact(&buf, true, "busy wide");
            insta::assert_snapshot!(format!("diag_busy_{lang}_120x40"), buffer_text(&buf));
        }
    });
}
