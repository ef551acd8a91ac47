//! The key-care screens in the keys pane (set a PIN, change it, reset the
//! key), the key-care hints under the key list and in the practice picker,
//! and the status bar keys while a flow is open. Typed PINs are drawn only
//! as `*` per character; nothing here changes state.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::content::ui::fill;
use crate::ctap::keycare::KeyState;
use crate::sim;
use crate::tui::app::App;
use crate::tui::keycare::{self, Flow, KeyCare, Step};
use crate::tui::runner::TICK;
use crate::tui::wrap::wrap;

use super::frame;

/// The screen's title.
fn title(app: &App, c: &KeyCare) -> String {
    let t = &app.care_text;
    let tpl = match c.flow {
        Flow::SetPin => &t.set.title,
        Flow::ChangePin => &t.change.title,
        Flow::Reset => &t.reset.title,
    };
    fill(tpl, &[("device", &c.device)])
}

fn para(out: &mut Vec<Line<'static>>, text: &str, style: ratatui::style::Style, width: usize) {
    if !out.is_empty() {
        out.push(Line::default());
    }
    out.extend(wrap(&[Span::styled(text.to_string(), style)], width));
}

/// `label: ***_` for an entry with `n` characters typed (`cursor` adds `_`).
fn masked(app: &App, label: &str, n: usize, cursor: bool) -> Line<'static> {
    let t = &app.theme;
    let mut stars = "*".repeat(n);
    if cursor {
        stars.push('_');
    }
    Line::from(vec![
        Span::styled(format!("{label}: "), t.bold()),
        Span::styled(stars, t.target()),
    ])
}

/// What the key reports after a change, in words.
fn state_line(app: &App, s: &KeyState) -> String {
    let k = &app.text.keys;
    let pin = match (s.client_pin, s.pin_retries) {
        (Some(true), Some(n)) => fill(&k.pin_retries, &[("n", &n)]),
        (Some(true), None) => k.pin_set.clone(),
        (Some(false), _) => k.pin_not_set.clone(),
        (None, _) => k.pin_unsupported.clone(),
    };
    fill(
        &app.care_text.common.state,
        &[("pin", &pin), ("min", &s.min_pin_length)],
    )
}

/// The plain text for a refused entry (`problem` is a `[common]` key).
fn problem_text(app: &App, c: &KeyCare, problem: &str) -> String {
    let m = &app.care_text.common;
    let tpl = match problem {
        "too_short" => &m.too_short,
        "too_long" => &m.too_long,
        "control" => &m.control,
        "same" => &m.same,
        _ => &m.mismatch,
    };
    fill(tpl, &[("min", &c.min_len())])
}

/// The lines of the flow's current screen at `width` columns.
pub fn lines(app: &App, c: &KeyCare, width: usize) -> Vec<Line<'static>> {
    let th = &app.theme;
    let t = &app.care_text;
    let m = &t.common;
    let mut out: Vec<Line<'static>> = Vec::new();
    let rules = fill(&m.rules, &[("min", &c.min_len())]);
    let retries = c.state.as_ref().and_then(|s| s.pin_retries);
    match &c.step {
        Step::Reading => para(&mut out, &m.reading, th.text(), width),
        Step::Intro => {
            match c.flow {
                Flow::SetPin => {
                    para(&mut out, &t.set.intro, th.text(), width);
                    para(&mut out, &t.set.lost, th.warning(), width);
                    para(&mut out, &rules, th.text(), width);
                }
                Flow::ChangePin => {
                    if c.state.as_ref().is_some_and(|s| s.force_pin_change) {
                        para(&mut out, &t.change.forced, th.warning(), width);
                    }
                    para(&mut out, &t.change.intro, th.text(), width);
                    if let Some(n) = retries {
                        let style = if n <= 3 { th.warning() } else { th.text() };
                        para(
                            &mut out,
                            &fill(&t.change.retries, &[("n", &n)]),
                            style,
                            width,
                        );
                    }
                    para(&mut out, &rules, th.text(), width);
                }
                Flow::Reset => {
                    para(&mut out, &t.reset.erase, th.warning(), width);
                    para(&mut out, &t.reset.entra, th.text(), width);
                    para(&mut out, &t.reset.window, th.text(), width);
                }
            }
            para(&mut out, &m.keys_continue, th.key(), width);
        }
        Step::LastAttempt => {
            out.push(Line::styled(t.change.last_title.clone(), th.heading()));
            para(&mut out, &t.change.last, th.warning(), width);
            para(&mut out, &t.change.last_keys, th.key(), width);
        }
        Step::Current => {
            if let Some(n) = retries {
                let style = if n <= 3 { th.warning() } else { th.text() };
                para(
                    &mut out,
                    &fill(&t.change.retries, &[("n", &n)]),
                    style,
                    width,
                );
                out.push(Line::default());
            }
            out.push(masked(
                app,
                &t.change.current,
                c.input.chars().count(),
                true,
            ));
            para(&mut out, &m.keys_entry, th.key(), width);
        }
        Step::NewPin | Step::Confirm => {
            para(&mut out, &rules, th.text(), width);
            if let Some(p) = &c.problem {
                para(&mut out, &problem_text(app, c, p), th.warning(), width);
            }
            out.push(Line::default());
            let confirm = c.step == Step::Confirm;
            let first = if confirm {
                masked(app, &m.new_pin, c.first_len(), false)
            } else {
                masked(app, &m.new_pin, c.input.chars().count(), true)
            };
            out.push(first);
            if confirm {
                out.push(masked(app, &m.again, c.input.chars().count(), true));
            }
            para(&mut out, &m.keys_entry, th.key(), width);
        }
        Step::Word => {
            para(&mut out, &t.reset.erase, th.warning(), width);
            let ask = fill(&t.reset.type_word, &[("word", &t.reset.word)]);
            para(&mut out, &ask, th.text(), width);
            out.push(Line::from(vec![
                Span::styled("> ", th.bold()),
                Span::styled(format!("{}_", c.input.as_str()), th.target()),
            ]));
            para(&mut out, &m.keys_continue, th.key(), width);
        }
        Step::Unplug | Step::Plug => {
            let text = match (c.step == Step::Unplug, c.simulated()) {
                (true, true) => &t.reset.unplug_sim,
                (true, false) => &t.reset.unplug,
                (false, true) => &t.reset.plug_sim,
                (false, false) => &t.reset.plug,
            };
            para(&mut out, text, th.heading(), width);
            para(&mut out, &t.reset.window, th.text(), width);
            let keys = if c.simulated() {
                &m.keys_replug
            } else {
                &m.keys_working
            };
            para(&mut out, keys, th.key(), width);
        }
        Step::Touch { .. } => {
            let touch = if c.simulated() {
                &t.reset.touch_sim
            } else {
                &t.reset.touch
            };
            para(&mut out, touch, th.heading(), width);
            if let Some(s) = c.seconds_left(app.tick, TICK.as_millis() as u64) {
                para(
                    &mut out,
                    &fill(&t.reset.countdown, &[("s", &s)]),
                    th.warning(),
                    width,
                );
            }
            if c.cancelling {
                para(&mut out, &m.cancelling, th.dim(), width);
            } else {
                para(&mut out, &m.keys_working, th.key(), width);
            }
        }
        Step::Working => {
            para(&mut out, &m.working, th.text(), width);
            if c.cancelling {
                para(&mut out, &m.cancelling, th.dim(), width);
            } else {
                para(&mut out, &m.keys_working, th.key(), width);
            }
        }
        Step::Done(s) => {
            let (done, next) = match c.flow {
                Flow::SetPin => (&t.set.done, Some(&t.set.ready)),
                Flow::ChangePin => (&t.change.done, None),
                Flow::Reset => (&t.reset.done, Some(&t.reset.next)),
            };
            para(&mut out, done, th.heading(), width);
            para(&mut out, &state_line(app, s), th.text(), width);
            if let Some(n) = next {
                para(&mut out, n, th.text(), width);
            }
            para(&mut out, &m.keys_back, th.key(), width);
        }
        Step::Failed(f) => {
            let n = f
                .retries
                .map(|n| n.to_string())
                .unwrap_or_else(|| "?".into());
            let text = fill(t.error(&f.code), &[("n", &n)]);
            para(&mut out, &text, th.warning(), width);
            if !f.detail.is_empty() && !t.errors.contains_key(&f.code) {
                para(
                    &mut out,
                    &fill(&m.detail, &[("detail", &f.detail)]),
                    th.dim(),
                    width,
                );
            }
            para(&mut out, &m.keys_back, th.key(), width);
        }
    }
    out
}

/// Draws the open flow: frame in `main`, content in `body`.
pub fn render(app: &App, c: &KeyCare, main: Rect, body: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    frame(app.ascii, t, true)
        .title(Span::styled(format!(" {} ", title(app, c)), t.title()))
        .render(main, buf);
    let lines = lines(app, c, body.width as usize);
    for (y, line) in lines.iter().take(body.height as usize).enumerate() {
        buf.set_line(body.x, body.y + y as u16, line, body.width);
    }
}

/// The key-care hints for `device` under the key list (only the flows the
/// key offers now, and the forcePINChange notice).
pub fn hint_lines(app: &App, device: &str, width: usize) -> Vec<Line<'static>> {
    let th = &app.theme;
    let k = &app.care_text.keys;
    let mut out = Vec::new();
    if keycare::force_change(app, device) {
        out.extend(wrap(
            &[Span::styled(k.force_change.clone(), th.warning())],
            width,
        ));
    }
    for flow in keycare::offered(app, device) {
        let text = match flow {
            Flow::SetPin => &k.set,
            Flow::ChangePin => &k.change,
            Flow::Reset => &k.reset,
        };
        out.extend(wrap(&[Span::styled(text.clone(), th.dim())], width));
    }
    out
}

/// The rehearsal offered on the highlighted practice scenario, if any.
pub fn picker_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let k = &app.care_text.keys;
    let Some(s) = sim::scenario::all().get(app.practice.selected) else {
        return Vec::new();
    };
    let text = match keycare::practice_flow(s.name) {
        Some(Flow::SetPin) => &k.practice_set,
        Some(_) => &k.practice_reset,
        None => return Vec::new(),
    };
    let mut out = vec![Line::default()];
    out.extend(wrap(&[Span::styled(text.clone(), app.theme.key())], width));
    out
}

/// Status bar keys while a flow is open, or in the practice picker on a
/// scenario that offers a rehearsal.
pub fn status_hints(app: &App) -> Option<Vec<(&'static str, String)>> {
    let l = &app.text.status;
    let mut h: Vec<(&'static str, String)> = Vec::new();
    if app.practice.open && app.keycare.is_none() {
        let s = sim::scenario::all().get(app.practice.selected)?;
        let k = &app.care_text.keys;
        let rehearse = match keycare::practice_flow(s.name)? {
            Flow::SetPin => ("s", k.status_set.clone()),
            _ => ("R", k.status_reset.clone()),
        };
        h.push(("Esc", l.back.clone()));
        h.push(("Up/Down", l.choose.clone()));
        h.push(("Enter", l.start.clone()));
        h.push(rehearse);
        h.push(("q", app.ui().status.quit.clone()));
        return Some(h);
    }
    let c = app.keycare.as_ref()?;
    match &c.step {
        Step::Done(_) | Step::Failed(_) => h.push(("Enter", l.back.clone())),
        Step::Touch { .. } | Step::Working => {
            if !c.cancelling {
                h.push(("Esc", l.cancel.clone()));
            }
            if c.simulated() && matches!(c.step, Step::Touch { .. }) {
                h.push(("Space", l.touch.clone()));
            }
        }
        Step::Unplug | Step::Plug if c.simulated() => {
            h.push(("Esc", l.cancel.clone()));
            h.push(("Space", l.confirm.clone()));
        }
        Step::LastAttempt => {
            h.push(("Esc", l.cancel.clone()));
            h.push(("y", l.confirm.clone()));
        }
        Step::Reading | Step::Unplug | Step::Plug => h.push(("Esc", l.cancel.clone())),
        _ => {
            h.push(("Esc", l.cancel.clone()));
            h.push(("Enter", l.confirm.clone()));
        }
    }
    Some(h)
}

/// Help rows for the key-care keys the selected key offers now.
pub fn help_entries(app: &App) -> Vec<(&'static str, String)> {
    let k = &app.care_text.keys;
    let Some(d) = app.keys.selected_device() else {
        return Vec::new();
    };
    keycare::offered(app, &d)
        .into_iter()
        .map(|f| match f {
            Flow::SetPin => ("s", k.help_set.clone()),
            Flow::ChangePin => ("P", k.help_change.clone()),
            Flow::Reset => ("R", k.help_reset.clone()),
        })
        .collect()
}
