//! The check view: the three stages with their status and timings, the
//! "touch your key now" prompt with a countdown and a tick-driven
//! animation, and the verdict at the end. In practice mode the browser
//! dialog the user would see at that moment is drawn alongside (or below,
//! on narrow screens), and after a failure what the browser would say.

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::content::markdown::Block;
use crate::content::mockup::Mockup;
use crate::content::ui::fill;
use crate::ctap::probe::{Failure, ProbeReport, Stage};
use crate::diagnose::Severity;
use crate::tui::app::{App, ProbeView, STAGES, StageStatus};
use crate::tui::doc::BoxChars;
use crate::tui::runner::TICK;
use crate::tui::view::doc_options;
use crate::tui::wrap::{self, fit, wrap};

use super::frame;
use super::mockup::mockup_lines;

/// Spinner frames (ASCII only: no ambiguous-width symbols).
const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];
/// Width of the touch animation bar.
const BAR: usize = 12;
/// Side-by-side layout from this body width on.
const SIDE_BY_SIDE: u16 = 90;

/// Formats a stage time (`1.2 s`).
pub fn format_elapsed(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Seconds left of the touch wait at `tick` (rounded up; never negative).
pub fn seconds_left(p: &ProbeView, tick: u64) -> u64 {
    let since = p.touch_since.unwrap_or(tick);
    let elapsed =
        TICK.saturating_mul(u32::try_from(tick.saturating_sub(since)).unwrap_or(u32::MAX));
    let left = p.touch_timeout.saturating_sub(elapsed);
    left.as_millis().div_ceil(1000) as u64
}

fn stage_name(app: &App, s: Stage) -> String {
    let t = &app.text.probe;
    match s {
        Stage::Info => t.info.clone(),
        Stage::Register => t.register.clone(),
        Stage::Authenticate => t.signin.clone(),
    }
}

fn stage_lines(app: &App, p: &ProbeView, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let tx = &app.text.probe;
    let name_w = STAGES
        .iter()
        .map(|s| wrap::width(&stage_name(app, *s)))
        .max()
        .unwrap_or(0);
    let (ok_mark, fail_mark) = if app.ascii {
        ("+", "x")
    } else {
        ("✓", "✗")
    };
    let mut out = Vec::new();
    for (stage, status) in STAGES.iter().zip(p.stages.iter()) {
        let spin = SPINNER[(app.tick % SPINNER.len() as u64) as usize];
        let (mark, mark_style, state) = match status {
            StageStatus::Pending => (" ", t.dim(), tx.pending.clone()),
            StageStatus::Running => (spin, t.key(), tx.running.clone()),
            StageStatus::Done { ok: true, elapsed } => (
                ok_mark,
                t.step_label(),
                format!("{}  {}", tx.ok, format_elapsed(*elapsed)),
            ),
            StageStatus::Done { ok: false, elapsed } => (
                fail_mark,
                t.warning(),
                format!("{}  {}", tx.failed, format_elapsed(*elapsed)),
            ),
            StageStatus::Skipped => ("-", t.dim(), tx.skipped.clone()),
        };
        let name = stage_name(app, *stage);
        let pad = name_w.saturating_sub(wrap::width(&name));
        let line = Line::from(vec![
            Span::raw("["),
            Span::styled(mark.to_string(), mark_style),
            Span::raw("] "),
            Span::styled(format!("{name}{}  ", " ".repeat(pad)), t.text()),
            Span::styled(state, mark_style),
        ]);
        out.push(fit(line, width, t.text()));
    }
    out
}

fn touch_lines(app: &App, p: &ProbeView, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let tx = &app.text.probe;
    let bx = BoxChars::new(app.ascii);
    let inner = width.saturating_sub(4).clamp(1, 44);
    let pos = (app.tick % BAR as u64) as usize;
    let bar: String = (0..BAR).map(|i| if i == pos { '#' } else { '.' }).collect();
    let countdown = fill(&tx.countdown, &[("s", &seconds_left(p, app.tick))]);
    let headline = if p.uv_prompt {
        tx.touch_uv.clone()
    } else {
        tx.touch.clone()
    };
    let mut body: Vec<Line<'static>> = wrap(&[Span::styled(headline, t.target())], inner);
    body.extend([Line::from(vec![
        Span::styled(format!("[{bar}]"), t.hint()),
        Span::raw("  "),
        Span::styled(countdown, t.bold()),
    ])]);
    if p.scenario.is_some() {
        body.extend(wrap(&[Span::styled(tx.touch_sim.clone(), t.text())], inner));
    }
    let border = t.border_focused();
    let mut out = vec![Line::styled(
        format!("{}{}{}", bx.tl, bx.h.repeat(inner + 2), bx.tr),
        border,
    )];
    for l in body {
        let mut spans = vec![Span::styled(format!("{} ", bx.v), border)];
        spans.extend(fit(l, inner, t.text()).spans);
        spans.push(Span::styled(format!(" {}", bx.v), border));
        out.push(Line::from(spans));
    }
    out.push(Line::styled(
        format!("{}{}{}", bx.bl, bx.h.repeat(inner + 2), bx.br),
        border,
    ));
    out
}

/// The stage that failed and its failure, from a finished check.
fn failure(report: &ProbeReport) -> Option<(Stage, &Failure)> {
    if let Some(f) = report.key.failure() {
        return Some((Stage::Info, f));
    }
    if let Some(f) = report.registration.failure() {
        return Some((Stage::Register, f));
    }
    report
        .authentication
        .failure()
        .map(|f| (Stage::Authenticate, f))
}

/// The plain-language reason for a failure in the UI's language, from the
/// failure table (the same words as the diagnosis and `check`).
fn plain_reason(app: &App, f: &Failure) -> Option<String> {
    let table = &app.diagnosis.diagnosis_content.as_ref()?.failures;
    let mut values = std::collections::BTreeMap::new();
    values.insert("detail".to_string(), f.message.clone());
    values.insert("device".to_string(), app.probe.as_ref()?.device.clone());
    Some(crate::diagnose::report::as_sentence(
        &table.render(f.code.as_str(), &values).reason,
    ))
}

/// Whether the user stopped the check: then nothing happened that the
/// scenario's description (what a browser shows) would be about.
fn cancelled(p: &ProbeView) -> bool {
    p.report
        .as_ref()
        .and_then(failure)
        .is_some_and(|(_, f)| f.code == crate::ctap::probe::FailureCode::Cancelled)
}

/// Findings about the key itself (not about the computer or browser).
const KEY_FINDINGS: [&str; 15] = [
    "key-u2f-only",
    "pin-not-set",
    "pin-not-set-apple",
    "pin-blocked",
    "pin-retries-low",
    "store-full",
    "no-resident-key",
    "hmac-secret-missing",
    "aaguid-not-eligible",
    "attestation-unverified",
    "presence-timeout",
    "user-refused",
    "device-unplugged",
    "device-malformed",
    "probe-failed",
];

/// The most severe warning or failure about the key, when the diagnosis
/// includes this device.
fn top_finding(app: &App, device: &str) -> Option<String> {
    let r = app.diagnosis.report.as_ref()?;
    if !r.keys.iter().any(|k| k.device == device) {
        return None;
    }
    r.findings
        .iter()
        .filter(|f| f.severity >= Severity::Warn && KEY_FINDINGS.contains(&f.id.as_str()))
        .max_by_key(|f| f.severity)
        .map(|f| f.title.clone())
}

fn verdict_lines(app: &App, p: &ProbeView, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let tx = &app.text.probe;
    let mut out = Vec::new();
    let failed = match (&p.report, &p.open_error) {
        (Some(r), _) if r.all_ok() => None,
        (Some(r), _) => Some(match failure(r) {
            Some((stage, f)) => (stage, plain_reason(app, f), f.message.clone()),
            None => (Stage::Authenticate, None, String::new()),
        }),
        (None, Some(e)) => Some((Stage::Info, None, e.clone())),
        (None, None) => return out,
    };
    match failed {
        None => match top_finding(app, &p.device) {
            None => out.extend(wrap(
                &[Span::styled(tx.works.clone(), t.step_label())],
                width,
            )),
            Some(title) => {
                out.extend(wrap(
                    &[Span::styled(tx.works_but.clone(), t.warning())],
                    width,
                ));
                out.extend(wrap(&[Span::styled(title, t.bold())], width));
                out.extend(wrap(&[Span::styled(tx.next.clone(), t.text())], width));
            }
        },
        Some((stage, plain, detail)) => {
            let head = fill(&tx.failed_at, &[("stage", &stage_name(app, stage))]);
            out.extend(wrap(&[Span::styled(head, t.warning())], width));
            if let Some(title) = top_finding(app, &p.device) {
                out.extend(wrap(&[Span::styled(title, t.bold())], width));
            }
            match plain {
                Some(plain) => {
                    let r = fill(&tx.reason, &[("reason", &plain)]);
                    out.extend(wrap(&[Span::styled(r, t.text())], width));
                    if !detail.is_empty() && !plain.contains(detail.as_str()) {
                        let d = fill(&tx.detail, &[("detail", &detail)]);
                        out.extend(wrap(&[Span::styled(d, t.dim())], width));
                    }
                }
                None if !detail.is_empty() => {
                    let r = fill(&tx.reason, &[("reason", &detail)]);
                    out.extend(wrap(&[Span::styled(r, t.dim())], width));
                }
                None => {}
            }
            out.extend(wrap(&[Span::styled(tx.next.clone(), t.text())], width));
        }
    }
    out.push(Line::default());
    out.extend(wrap(&[Span::styled(tx.back.clone(), t.dim())], width));
    out
}

/// The left column: stages, prompt or verdict.
pub fn main_lines(app: &App, p: &ProbeView, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut out = stage_lines(app, p, width);
    out.push(Line::default());
    if p.running() {
        if p.cancelling {
            out.push(Line::styled(app.text.probe.cancelling.clone(), t.warning()));
        } else if p.touch_since.is_some() && p.pin.is_none() {
            out.extend(touch_lines(app, p, width));
        }
    } else {
        out.extend(verdict_lines(app, p, width));
    }
    out
}

/// The first drawn dialog of guide page `id`.
pub fn guide_mockup<'a>(app: &'a App, id: &str) -> Option<&'a Mockup> {
    app.content
        .guide
        .find(id)?
        .body
        .iter()
        .find_map(|b| match b {
            Block::Mockup(m) => Some(m),
            _ => None,
        })
}

/// The practice column: the dialog the browser shows now, or after the
/// check what the browser would show for this kind of key.
pub fn practice_lines(app: &App, p: &ProbeView, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let tx = &app.text.probe;
    let Some(name) = p.scenario.as_deref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // A key without CTAP2 gets no PIN dialog: the browser refuses it.
    let u2f_only = crate::sim::scenario::find(name)
        .is_some_and(|s| s.capabilities & crate::sim::scenario::CAP_CBOR == 0);
    if p.running() {
        let page = match p.active() {
            Some(Stage::Authenticate) => "signin-step-3",
            _ => "register-step-6",
        };
        if u2f_only {
            // Nothing to draw while the key is asked.
        } else if let Some(m) = guide_mockup(app, page) {
            out.extend(wrap(
                &[Span::styled(tx.browser.clone(), t.heading())],
                width,
            ));
            out.extend(mockup_lines(m, width, &doc_options(app, false)));
        }
    } else if cancelled(p) {
        // Nothing happened that a browser would show.
    } else if let Some(text) = app.scenarios.get(name) {
        let ok = p.report.as_ref().is_some_and(ProbeReport::all_ok)
            && top_finding(app, &p.device).is_none();
        let head = if ok {
            &app.text.practice.expect
        } else {
            &tx.browser_error
        };
        out.extend(wrap(&[Span::styled(head.clone(), t.heading())], width));
        let expect = readable_ids(app, &text.expect);
        out.extend(wrap(&[Span::styled(expect, t.text())], width));
    }
    out
}

/// `text` with finding ids (`store-full`) replaced by the finding's title
/// in quotes: ids are for help desks, students read titles.
fn readable_ids(app: &App, text: &str) -> String {
    let Some(content) = &app.diagnosis.diagnosis_content else {
        return text.to_string();
    };
    let mut out = text.to_string();
    let mut ids: Vec<&str> = content.texts.ids().collect();
    // Longest first, so `pin-not-set-apple` goes before `pin-not-set`.
    ids.sort_by_key(|i| std::cmp::Reverse(i.len()));
    for id in ids {
        let finding = id
            .parse::<crate::diagnose::FindingId>()
            .ok()
            .map(|f| crate::diagnose::Finding::new(f, crate::diagnose::Severity::Info));
        if let Some(t) = finding
            .as_ref()
            .and_then(|f| crate::diagnose::report::render_finding(f, &content.texts))
            && out.contains(id)
        {
            // A count the description cannot know reads as "N".
            let title = unfilled_as_n(&t.title);
            let quoted = match content.texts.lang() {
                crate::content::Lang::Ja => format!("「{title}」"),
                crate::content::Lang::En => format!("\"{title}\""),
            };
            out = out
                .replace(&format!("(finding {id})"), &format!("({quoted})"))
                .replace(id, &quoted);
        }
    }
    out
}

/// `{retries}` and other unfilled placeholders become "N".
fn unfilled_as_n(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                out.push('N');
                rest = &rest[open + close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Draws the check view: frame in `main`, content in `body`.
pub fn render(app: &App, main: Rect, body: Rect, buf: &mut Buffer) {
    let Some(p) = &app.probe else {
        return;
    };
    let t = &app.theme;
    let title = match p.scenario.as_deref() {
        Some(name) => fill(
            &app.text.probe.practice_title,
            &[("title", &app.scenarios.title(name))],
        ),
        None => fill(&app.text.probe.title, &[("device", &p.device)]),
    };
    let title = wrap::truncate(&title, main.width.saturating_sub(4) as usize);
    frame(app.ascii, t, true)
        .title(Span::styled(format!(" {title} "), t.title()))
        .render(main, buf);
    let side = p.scenario.is_some() && body.width >= SIDE_BY_SIDE;
    let (left, right) = if side {
        let lw = body.width * 2 / 5;
        (
            Rect::new(body.x, body.y, lw, body.height),
            Rect::new(body.x + lw + 2, body.y, body.width - lw - 2, body.height),
        )
    } else {
        (body, Rect::new(body.x, body.y, body.width, 0))
    };
    let mut lines = main_lines(app, p, left.width as usize);
    let extra = practice_lines(app, p, right.width.max(left.width) as usize);
    if !side && !extra.is_empty() {
        if lines.last().is_some_and(|l| !l.spans.is_empty()) {
            lines.push(Line::default());
        }
        lines.extend(extra.iter().cloned());
    }
    draw(&lines, left, buf);
    if side {
        draw(&extra, right, buf);
    }
}

fn draw(lines: &[Line<'static>], area: Rect, buf: &mut Buffer) {
    for (y, line) in lines.iter().take(area.height as usize).enumerate() {
        buf.set_line(area.x, area.y + y as u16, line, area.width);
    }
}
