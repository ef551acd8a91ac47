//! The diagnosis pane: a summary line (counts per severity and the exit
//! code), the list of findings (a severity marker that reads without colour
//! and the title, one row each) and the selected finding's explanation, fix
//! and the guide page that helps ("Press Enter to open: ...").
//!
//! The pane is drawn from plain data ([`DiagnosisPane`]): the report, the
//! selection, a scroll offset, the content (guide titles, UI labels,
//! language), the theme and the frame style. It does no I/O and reads no
//! clock. Narrow areas stack the detail below the list; wide ones put it
//! beside the list.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::content::Lang;
use crate::content::guide::Content;
use crate::content::markdown;
use crate::content::text::Texts;
use crate::content::ui::fill;
use crate::diagnose::Severity;
use crate::diagnose::report::{Report, ReportFinding};
use crate::tui::doc::{BoxChars, DocOptions, blocks_lines};
use crate::tui::theme::Theme;
use crate::tui::wrap::{self, fit, wrap};

use super::frame;

/// Body width from which the detail goes beside the list instead of below.
pub const SIDE_BY_SIDE_WIDTH: u16 = 100;

/// The pane's own labels in one language (`{lang}/text.toml`, table
/// `diagnosis`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosisLabels {
    /// Marker of a failure (six columns, like the others).
    pub fail: String,
    /// Marker of a warning.
    pub warn: String,
    /// Marker of a piece of information.
    pub info: String,
    /// Marker of good news.
    pub ok: String,
    /// Before the counts: "Summary:".
    pub summary: String,
    /// "exit code {code}".
    pub exit_code: String,
    /// Heading over the fix.
    pub fix: String,
    /// "Press Enter to open:" (the title follows).
    pub open_step: String,
    /// No diagnosis has run.
    pub empty: String,
    /// A diagnosis is running.
    pub running: String,
    /// The report has no findings.
    pub no_findings: String,
}

impl DiagnosisLabels {
    /// The labels in `lang`.
    pub fn for_lang(lang: Lang) -> &'static DiagnosisLabels {
        static LABELS: std::sync::OnceLock<[DiagnosisLabels; 2]> = std::sync::OnceLock::new();
        let all = LABELS
            .get_or_init(|| Lang::ALL.map(|l| DiagnosisLabels::from_texts(&Texts::embedded(l))));
        &all[usize::from(lang == Lang::Ja)]
    }

    /// The labels from loaded texts.
    pub fn from_texts(t: &Texts) -> DiagnosisLabels {
        DiagnosisLabels {
            fail: t.get("diagnosis.marker_fail"),
            warn: t.get("diagnosis.marker_warn"),
            info: t.get("diagnosis.marker_info"),
            ok: t.get("diagnosis.marker_ok"),
            summary: t.get("diagnosis.summary"),
            exit_code: t.get("diagnosis.exit_code"),
            fix: t.get("diagnosis.fix"),
            open_step: t.get("diagnosis.open_step"),
            empty: t.get("diagnosis.empty"),
            running: t.get("diagnosis.running"),
            no_findings: t.get("diagnosis.no_findings"),
        }
    }

    /// The marker of `severity` (`[FAIL]`, `[ OK ]`; all six columns wide).
    pub fn marker(&self, severity: Severity) -> &str {
        match severity {
            Severity::Fail => &self.fail,
            Severity::Warn => &self.warn,
            Severity::Info => &self.info,
            Severity::Ok => &self.ok,
        }
    }
}

/// The guide step the selected finding links to, for the update to open
/// on Enter (`None` when nothing is selected or it links no step).
pub fn selected_guide_step(report: &Report, selected: usize) -> Option<&str> {
    report
        .findings
        .get(selected)?
        .guide_step
        .as_deref()
        .filter(|s| !s.is_empty())
}

/// Everything the diagnosis pane draws from.
#[derive(Debug, Clone, Copy)]
pub struct DiagnosisPane<'a> {
    /// The diagnosis, or `None` before one has finished.
    pub report: Option<&'a Report>,
    /// Whether a diagnosis is running (shown while `report` is `None`).
    pub running: bool,
    /// Index of the selected finding (clamped to the list).
    pub selected: usize,
    /// Lines of the selected finding's text scrolled off the top (clamped).
    pub scroll: u16,
    /// Guide (to name linked steps), UI labels and language.
    pub content: &'a Content,
    /// Styles.
    pub theme: Theme,
    /// ASCII frames and symbols.
    pub ascii: bool,
    /// Whether the pane has focus (frame style).
    pub focused: bool,
}

/// The detail of the selected finding, laid out.
struct Plan {
    parts: Parts,
    /// All lines of the explanation and fix.
    detail: Vec<Line<'static>>,
    /// "Press Enter to open: ..." lines.
    hint: Vec<Line<'static>>,
    /// Where the (scrolled) detail goes.
    text: Rect,
    /// Where the hint goes.
    hint_area: Rect,
}

/// Where the parts of the pane go inside its frame.
struct Parts {
    summary: Rect,
    list: Rect,
    /// Divider between list and detail: a row (stacked) or a column (side).
    divider: Rect,
    detail: Rect,
}

impl DiagnosisPane<'_> {
    fn labels(&self) -> &'static DiagnosisLabels {
        DiagnosisLabels::for_lang(self.content.lang)
    }

    fn text(&self, s: &str) -> String {
        if self.ascii {
            wrap::ascii_safe(s)
        } else {
            s.to_string()
        }
    }

    /// The selection clamped to the report's findings.
    pub fn selected_index(&self) -> usize {
        let n = self.report.map_or(0, |r| r.findings.len());
        self.selected.min(n.saturating_sub(1))
    }

    /// Title of the guide step `id`, when the guide has it.
    fn step_title(&self, id: &str) -> Option<String> {
        self.content.guide.find(id).map(|s| self.text(&s.title))
    }

    /// The summary row: `Summary: [FAIL] 1  [WARN] 2 ...  exit code 2`.
    pub fn summary_line(&self, report: &Report) -> Line<'static> {
        let l = self.labels();
        let t = &self.theme;
        let s = &report.summary;
        let mut spans = vec![Span::styled(l.summary.to_string(), t.bold())];
        for (sev, n) in [
            (Severity::Fail, s.fail),
            (Severity::Warn, s.warn),
            (Severity::Info, s.info),
            (Severity::Ok, s.ok),
        ] {
            spans.push(Span::raw(" "));
            let style = if n > 0 { t.severity(sev) } else { t.dim() };
            spans.push(Span::styled(l.marker(sev).to_string(), style));
            spans.push(Span::raw(format!(" {n}")));
        }
        spans.push(Span::raw("   "));
        spans.push(Span::styled(
            fill(&l.exit_code, &[("code", &report.exit_code)]),
            t.bold(),
        ));
        Line::from(spans)
    }

    /// One list row per finding, `width` columns each: `> [FAIL] title`.
    pub fn list_rows(&self, report: &Report, width: usize) -> Vec<Line<'static>> {
        let l = self.labels();
        let t = &self.theme;
        let sel = self.selected_index();
        report
            .findings
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let current = i == sel;
                let style = if current { t.selected() } else { t.text() };
                let marker = l.marker(f.severity);
                let lead = if current { "> " } else { "  " };
                let title_w = width.saturating_sub(wrap::width(lead) + wrap::width(marker) + 1);
                let title = wrap::truncate(&self.text(&f.title), title_w);
                let marker_style = if current {
                    t.severity(f.severity).add_modifier(Modifier::BOLD)
                } else {
                    t.severity(f.severity)
                };
                let line = Line::from(vec![
                    Span::styled(lead, style),
                    Span::styled(marker, marker_style),
                    Span::styled(format!(" {title}"), style),
                ]);
                fit(line, width, style)
            })
            .collect()
    }

    /// The title, explanation and fix of `f` at `width` columns (the
    /// hint to open the guide, [`DiagnosisPane::open_hint`], is drawn right
    /// after them, or pinned to the bottom when they scroll).
    pub fn detail_lines(&self, f: &ReportFinding, width: usize) -> Vec<Line<'static>> {
        let l = self.labels();
        let t = &self.theme;
        let o = DocOptions {
            theme: self.theme,
            ui: &self.content.ui,
            ascii: self.ascii,
            markers: false,
        };
        let marker = l.marker(f.severity);
        let mut out = wrap(
            &[
                Span::styled(marker, t.severity(f.severity)),
                Span::raw(" "),
                Span::styled(self.text(&f.title), t.title()),
            ],
            width,
        );
        if !f.explain.trim().is_empty() {
            out.push(Line::default());
            out.extend(self.markdown_lines(&f.explain, width, &o));
        }
        if !f.fix.trim().is_empty() {
            out.push(Line::default());
            out.push(Line::styled(l.fix.to_string(), t.heading()));
            out.extend(self.markdown_lines(&f.fix, width, &o));
        }
        out
    }

    /// Markdown-light advice text as wrapped lines (plain wrapped text if it
    /// does not parse).
    fn markdown_lines(&self, text: &str, width: usize, o: &DocOptions<'_>) -> Vec<Line<'static>> {
        match markdown::parse(text, "findings.toml", 0) {
            Ok(blocks) => blocks_lines(&blocks, width, o),
            Err(_) => wrap(&[Span::raw(self.text(text))], width),
        }
    }

    /// "Press Enter to open: <step title>" for `f`, when it links a step
    /// the guide has.
    pub fn open_hint(&self, f: &ReportFinding, width: usize) -> Vec<Line<'static>> {
        let t = &self.theme;
        let Some(title) = f.guide_step.as_deref().and_then(|id| self.step_title(id)) else {
            return Vec::new();
        };
        wrap(
            &[
                Span::styled(self.labels().open_step.to_string(), t.hint()),
                Span::raw(" "),
                Span::styled(title, t.bold()),
            ],
            width,
        )
    }

    fn parts(body: Rect, rows: usize) -> Parts {
        let summary = Rect::new(body.x, body.y, body.width, body.height.min(1));
        let rest_y = body.y + summary.height + u16::from(body.height > 2);
        let rest_h = body.bottom().saturating_sub(rest_y);
        if body.width >= SIDE_BY_SIDE_WIDTH {
            let list_w = (body.width * 2 / 5).clamp(36, 50);
            let list = Rect::new(body.x, rest_y, list_w, rest_h);
            let divider = Rect::new(body.x + list_w + 1, rest_y, 1, rest_h);
            let dx = divider.x + 2;
            let detail = Rect::new(dx, rest_y, body.right().saturating_sub(dx), rest_h);
            return Parts {
                summary,
                list,
                divider,
                detail,
            };
        }
        // Stacked: the list takes up to a third of the height.
        let cap = (rest_h / 3).max(3);
        let list_h = (rows as u16).clamp(1, cap).min(rest_h);
        let list = Rect::new(body.x, rest_y, body.width, list_h);
        let divider = Rect::new(
            body.x,
            list.bottom(),
            body.width,
            rest_h.saturating_sub(list_h).min(1),
        );
        let detail_y = divider.bottom();
        let detail = Rect::new(
            body.x,
            detail_y,
            body.width,
            body.bottom().saturating_sub(detail_y),
        );
        Parts {
            summary,
            list,
            divider,
            detail,
        }
    }

    /// The body of the pane (inside the frame, one column of padding each
    /// side) when the pane fills `area`.
    fn body(area: Rect) -> Rect {
        let inner = Rect::new(
            area.x.saturating_add(1),
            area.y.saturating_add(1),
            area.width.saturating_sub(2),
            area.height.saturating_sub(2),
        );
        Rect::new(
            inner.x.saturating_add(1).min(inner.right()),
            inner.y,
            inner.width.saturating_sub(2),
            inner.height,
        )
    }

    /// Where everything goes when the report has findings.
    fn plan(&self, report: &Report, area: Rect) -> Plan {
        let parts = Self::parts(Self::body(area), report.findings.len());
        let dw = parts.detail.width as usize;
        let (detail, hint) = match report.findings.get(self.selected_index()) {
            Some(f) => (self.detail_lines(f, dw), self.open_hint(f, dw)),
            None => (Vec::new(), Vec::new()),
        };
        let hint_h = if hint.is_empty() {
            0
        } else {
            (hint.len() as u16 + 1).min(parts.detail.height / 2)
        };
        // The hint follows the text when all of it fits, else it is pinned
        // to the bottom and the text scrolls above it.
        let room = parts.detail.height.saturating_sub(hint_h);
        let text_h = if detail.len() <= room as usize {
            detail.len() as u16
        } else {
            room
        };
        let text = Rect::new(parts.detail.x, parts.detail.y, parts.detail.width, text_h);
        let hint_area = Rect::new(
            parts.detail.x,
            text.bottom().saturating_add(1),
            parts.detail.width,
            hint_h.saturating_sub(1),
        );
        Plan {
            parts,
            detail,
            hint,
            text,
            hint_area,
        }
    }

    /// The largest useful [`DiagnosisPane::scroll`] when the pane fills
    /// `area` (0 when the selected finding's text fits), for the update to
    /// clamp scrolling.
    pub fn max_scroll(&self, area: Rect) -> u16 {
        match self.report {
            Some(r) if !r.findings.is_empty() => {
                let p = self.plan(r, area);
                let max = p.detail.len().saturating_sub(p.text.height as usize);
                u16::try_from(max).unwrap_or(u16::MAX)
            }
            _ => 0,
        }
    }

    /// Draws the pane, frame included, into `area`.
    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let t = &self.theme;
        let mut block = frame(self.ascii, t, self.focused).title(Span::styled(
            format!(" {} ", self.content.ui.diagnosis.title),
            t.title(),
        ));
        let body = Self::body(area);
        let Some(report) = self.report else {
            block.render(area, buf);
            self.render_message(body, buf);
            return;
        };
        if report.findings.is_empty() {
            block.render(area, buf);
            let mut lines = vec![self.summary_line(report), Line::default()];
            lines.extend(wrap(
                &[Span::raw(self.labels().no_findings.as_str())],
                body.width as usize,
            ));
            draw_lines(&lines, body, buf);
            return;
        }
        let sel = self.selected_index();
        let plan = self.plan(report, area);
        let h = plan.text.height as usize;
        let total = plan.detail.len();
        let scroll = (self.scroll as usize).min(total.saturating_sub(h));
        if total > h && h > 0 {
            let to = (scroll + h).min(total);
            let label = fill(
                &self.content.ui.guide.lines,
                &[("from", &(scroll + 1)), ("to", &to), ("total", &total)],
            );
            block = block.title_bottom(Line::styled(format!(" {label} "), t.dim()).right_aligned());
        }
        block.render(area, buf);
        draw_lines(&[self.summary_line(report)], plan.parts.summary, buf);
        // The list, scrolled so the selection stays in view.
        let rows = self.list_rows(report, plan.parts.list.width as usize);
        let lh = plan.parts.list.height as usize;
        let offset = (sel + 1).saturating_sub(lh);
        draw_lines(
            &rows.into_iter().skip(offset).take(lh).collect::<Vec<_>>(),
            plan.parts.list,
            buf,
        );
        let n = report.findings.len();
        let position = (n > lh).then_some((sel + 1, n));
        self.render_divider(plan.parts.divider, buf, position);
        draw_lines(
            &plan
                .detail
                .iter()
                .skip(scroll)
                .take(h)
                .cloned()
                .collect::<Vec<_>>(),
            plan.text,
            buf,
        );
        draw_lines(&plan.hint, plan.hint_area, buf);
    }

    /// The line between list and detail. A horizontal one carries the
    /// selection's position (`3/8`) when the list does not show every row.
    fn render_divider(&self, area: Rect, buf: &mut Buffer, position: Option<(usize, usize)>) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let bx = BoxChars::new(self.ascii);
        let style = self.theme.border();
        if area.height == 1 {
            let w = area.width as usize;
            let label = position
                .map(|(n, total)| format!(" {n}/{total} "))
                .filter(|l| wrap::width(l) + 4 <= w);
            let line = match label {
                Some(label) => {
                    let left = w - wrap::width(&label) - 2;
                    Line::from(vec![
                        Span::styled(bx.h.repeat(left), style),
                        Span::styled(label, self.theme.dim()),
                        Span::styled(bx.h.repeat(2), style),
                    ])
                }
                None => Line::styled(bx.h.repeat(w), style),
            };
            buf.set_line(area.x, area.y, &line, area.width);
        } else {
            for y in area.top()..area.bottom() {
                buf.set_line(area.x, y, &Line::styled(bx.v, style), 1);
            }
        }
    }

    fn render_message(&self, body: Rect, buf: &mut Buffer) {
        let l = self.labels();
        let msg = if self.running { &l.running } else { &l.empty };
        let style = if self.running {
            self.theme.hint()
        } else {
            self.theme.text()
        };
        let w = body.width.min(64) as usize;
        let lines = wrap(&[Span::styled(msg, style)], w);
        let block_w = lines
            .iter()
            .map(|l| wrap::width(&wrap::line_text(l)))
            .max()
            .unwrap_or(0) as u16;
        let x = body.x + body.width.saturating_sub(block_w) / 2;
        let top = body.y + body.height.saturating_sub(lines.len() as u16) / 3;
        let area = Rect::new(
            x,
            top,
            body.right().saturating_sub(x),
            body.bottom().saturating_sub(top),
        );
        draw_lines(&lines, area, buf);
    }
}

impl Widget for &DiagnosisPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        DiagnosisPane::render(self, area, buf);
    }
}

/// Draws `lines` top-down into `area`, cut at its height and width.
fn draw_lines(lines: &[Line<'_>], area: Rect, buf: &mut Buffer) {
    for (y, line) in lines.iter().take(area.height as usize).enumerate() {
        buf.set_line(area.x, area.y + y as u16, line, area.width);
    }
}
