//! Draws a mockup (a browser dialog described in the guide) as framed text
//! lines: title bar, headings, options, links, inputs, buttons; the items
//! the user must click are highlighted, and a hint such as "Click: Next"
//! follows the frame.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::content::mockup::{MockItem, MockKind, Mockup};

use crate::tui::doc::{BoxChars, DocOptions};
use crate::tui::wrap::{self, fit, wrap};

const MARKER: &str = "  <--";

/// Lines of a drawn dialog at most `width` columns wide, followed by the
/// hint line(s) naming what to click.
pub fn mockup_lines(m: &Mockup, width: usize, o: &DocOptions<'_>) -> Vec<Line<'static>> {
    let t = &o.theme;
    let bx = BoxChars::new(o.ascii);
    let border = t.border();
    let marker_w = if o.markers { wrap::width(MARKER) } else { 0 };
    let natural = natural_width(m, marker_w, o);
    let inner = natural.clamp(16, 60).min(width.saturating_sub(4)).max(1);
    let row = |content: Line<'static>, pad: Style| -> Line<'static> {
        let mut spans = vec![Span::styled(format!("{} ", bx.v), border)];
        spans.extend(fit(content, inner, pad).spans);
        spans.push(Span::styled(format!(" {}", bx.v), border));
        Line::from(spans)
    };
    let divider = Line::styled(
        format!("{}{}{}", bx.lt, bx.h.repeat(inner + 2), bx.rt),
        border,
    );
    let mut out = vec![Line::styled(
        format!("{}{}{}", bx.tl, bx.h.repeat(inner + 2), bx.tr),
        border,
    )];
    let mut i = 0;
    while let Some(item) = m.items.get(i) {
        let marker = |target: bool| {
            if target && o.markers {
                Some(Span::styled(MARKER, t.hint()))
            } else {
                None
            }
        };
        match item.kind {
            MockKind::Window => {
                let text = wrap::truncate(&o.text(&item.text), inner);
                out.push(row(
                    Line::from(Span::styled(text, t.window_bar())),
                    t.window_bar(),
                ));
                let next_is_divider =
                    matches!(m.items.get(i + 1), Some(n) if n.kind == MockKind::Divider);
                if !next_is_divider {
                    out.push(divider.clone());
                }
            }
            MockKind::Heading => {
                for l in wrap(&[Span::styled(o.text(&item.text), t.bold())], inner) {
                    out.push(row(l, t.text()));
                }
            }
            MockKind::Text => {
                for l in wrap(&[Span::styled(o.text(&item.text), t.text())], inner) {
                    out.push(row(l, t.text()));
                }
            }
            MockKind::Option | MockKind::Link => {
                let (prefix, style) = match (item.kind, item.target) {
                    (MockKind::Option, true) => ("(*) ", t.target()),
                    (MockKind::Option, false) => ("( ) ", t.text()),
                    (_, true) => ("", t.target()),
                    (_, false) => ("", t.link()),
                };
                let pw = wrap::width(prefix);
                let lines = wrap(
                    &[Span::styled(o.text(&item.text), style)],
                    inner.saturating_sub(pw + marker_w).max(1),
                );
                let n = lines.len();
                for (li, l) in lines.into_iter().enumerate() {
                    let lead = if li == 0 {
                        Span::styled(prefix, style)
                    } else {
                        Span::raw(" ".repeat(pw))
                    };
                    let mut spans = vec![lead];
                    spans.extend(l.spans);
                    if li + 1 == n {
                        spans.extend(marker(item.target));
                    }
                    out.push(row(Line::from(spans), t.text()));
                }
            }
            MockKind::Input => {
                let style = if item.target { t.target() } else { t.control() };
                let field = inner
                    .saturating_sub(marker_w)
                    .min((wrap::width(&o.text(&item.text)) + 4).max(24));
                let label = wrap::truncate(&o.text(&item.text), field.saturating_sub(4));
                let pad = field.saturating_sub(wrap::width(&label) + 4);
                let mut spans = vec![Span::styled(
                    format!("[ {label}{} ]", "_".repeat(pad)),
                    style,
                )];
                spans.extend(marker(item.target));
                out.push(row(Line::from(spans), t.text()));
            }
            MockKind::Button => {
                // Consecutive buttons share a row, right-aligned like a dialog.
                let mut group: Vec<&MockItem> = Vec::new();
                while let Some(b) = m.items.get(i).filter(|b| b.kind == MockKind::Button) {
                    group.push(b);
                    i += 1;
                }
                for l in button_rows(&group, inner, marker_w, o) {
                    out.push(row(l, t.text()));
                }
                continue;
            }
            MockKind::Divider => out.push(divider.clone()),
        }
        i += 1;
    }
    out.push(Line::styled(
        format!("{}{}{}", bx.bl, bx.h.repeat(inner + 2), bx.br),
        border,
    ));
    out.extend(hint_lines(m, width, o));
    out
}

fn button_label(b: &MockItem, o: &DocOptions<'_>) -> String {
    format!("[ {} ]", o.text(&b.text))
}

fn natural_width(m: &Mockup, marker_w: usize, o: &DocOptions<'_>) -> usize {
    let mut best = 0usize;
    let mut buttons = 0usize;
    let mut prev_button = false;
    for item in &m.items {
        let mark = if item.target { marker_w } else { 0 };
        let w = wrap::width(&o.text(&item.text));
        if item.kind == MockKind::Button {
            let bw = wrap::width(&button_label(item, o)) + mark;
            buttons = if prev_button { buttons + 2 + bw } else { bw };
            best = best.max(buttons);
            prev_button = true;
            continue;
        }
        prev_button = false;
        best = best.max(match item.kind {
            MockKind::Option => w + 4 + mark,
            MockKind::Input => (w + 4).max(24) + mark,
            MockKind::Divider => 0,
            _ => w + mark,
        });
    }
    best
}

fn button_rows(
    group: &[&MockItem],
    inner: usize,
    marker_w: usize,
    o: &DocOptions<'_>,
) -> Vec<Line<'static>> {
    let t = &o.theme;
    let spans_of = |b: &MockItem| {
        let style = if b.target { t.target() } else { t.control() };
        let mut v = vec![Span::styled(button_label(b, o), style)];
        if b.target && o.markers {
            v.push(Span::styled(MARKER, t.hint()));
        }
        v
    };
    let total: usize = group
        .iter()
        .map(|b| wrap::width(&button_label(b, o)) + if b.target { marker_w } else { 0 })
        .sum::<usize>()
        + 2 * group.len().saturating_sub(1);
    if total <= inner {
        let mut spans = vec![Span::raw(" ".repeat(inner - total))];
        for (k, b) in group.iter().enumerate() {
            if k > 0 {
                spans.push(Span::raw("  "));
            }
            spans.extend(spans_of(b));
        }
        vec![Line::from(spans)]
    } else {
        group.iter().map(|b| Line::from(spans_of(b))).collect()
    }
}

/// "Choose: Security key, then Click: Next" under the dialog.
fn hint_lines(m: &Mockup, width: usize, o: &DocOptions<'_>) -> Vec<Line<'static>> {
    let t = &o.theme;
    let ui = &o.ui.mockup;
    let mut spans: Vec<Span<'static>> = Vec::new();
    for (k, item) in m.targets().enumerate() {
        if k > 0 {
            let joint = if item.alternative { &ui.or } else { &ui.then };
            spans.push(Span::styled(format!(", {joint} "), t.text()));
        }
        let verb = match item.kind {
            MockKind::Option => &ui.choose,
            MockKind::Input => &ui.fill,
            _ => &ui.click,
        };
        spans.push(Span::styled(format!("{verb}: "), t.hint()));
        spans.push(Span::styled(o.text(&item.text), t.bold()));
    }
    if spans.is_empty() {
        return Vec::new();
    }
    wrap(&spans, width)
}
