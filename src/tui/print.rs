//! The guide as plain text for `fido-doctor guide --print`: chapters,
//! numbered steps, lists, links as `text <url>`, dialogs drawn in ASCII,
//! wrapped with the same wrapper as the terminal app.

use ratatui::text::Line;

use crate::content::ContentSource;
use crate::content::compat::CompatMatrix;
use crate::content::guide::{Chapter, Content, StepKind};

use super::doc::{DocOptions, blocks_lines, lines_to_text, step_label};
use super::theme::Theme;
use super::widgets::compat::CompatTable;
use super::wrap::{self, wrap};

/// Default width of the printed guide.
pub const DEFAULT_WIDTH: usize = 80;

/// The whole guide as text wrapped to `width` columns (at least 20), with
/// the built-in OS x browser table on the compatibility page.
pub fn guide_text(content: &Content, width: usize) -> String {
    let matrix = CompatMatrix::load(&ContentSource::Embedded).ok();
    guide_text_with(content, matrix.as_ref(), width)
}

/// The whole guide as text, with `matrix` drawn on the compatibility page.
/// URLs are never split, so they still work when pasted.
pub fn guide_text_with(content: &Content, matrix: Option<&CompatMatrix>, width: usize) -> String {
    wrap::with_whole_urls(|| guide_lines(content, matrix, width))
}

fn guide_lines(content: &Content, matrix: Option<&CompatMatrix>, width: usize) -> String {
    let width = width.max(20);
    let ui = &content.ui;
    let o = DocOptions {
        theme: Theme { color: false },
        ui,
        ascii: true,
        markers: true,
    };
    let guide = &content.guide;
    let mut out: Vec<Line<'static>> = Vec::new();
    underline(&mut out, &ui.app.guide_title, "=", width);
    let mut chapter: Option<Chapter> = None;
    for (i, step) in guide.steps.iter().enumerate() {
        out.push(Line::default());
        if chapter != Some(step.chapter) {
            chapter = Some(step.chapter);
            out.push(Line::default());
            underline(&mut out, step.chapter.name(ui), "=", width);
            out.push(Line::default());
        }
        let title = match step_label(guide, i, ui) {
            Some(label) => format!("{label}: {}", step.title),
            None => step.title.clone(),
        };
        underline(&mut out, &title, "-", width);
        out.push(Line::default());
        out.extend(blocks_lines(&step.body, width, &o));
        if step.kind == StepKind::Compat
            && let Some(matrix) = matrix
        {
            out.push(Line::default());
            let table = CompatTable {
                matrix,
                lang: content.lang,
                theme: Theme { color: false },
                ascii: true,
                highlight: &[],
            };
            out.extend(table.lines(width));
        }
    }
    lines_to_text(&out)
}

fn underline(out: &mut Vec<Line<'static>>, text: &str, ch: &str, width: usize) {
    let lines = wrap(&[text.into()], width);
    let w = lines
        .iter()
        .map(|l| wrap::width(&wrap::line_text(l)))
        .max()
        .unwrap_or(0);
    out.extend(lines);
    out.push(Line::raw(ch.repeat(w)));
}

/// Markdown-light text (a finding's explanation or fix) as plain text
/// wrapped to `width` columns: no `**`, no backticks, lists as lists,
/// links as `text <url>`.
pub fn markdown_text(text: &str, ui: &crate::content::ui::UiText, width: usize) -> String {
    let o = DocOptions {
        theme: Theme { color: false },
        ui,
        ascii: false,
        markers: true,
    };
    match crate::content::markdown::parse(text, "text", 0) {
        Ok(blocks) => {
            wrap::with_whole_urls(|| lines_to_text(&blocks_lines(&blocks, width.max(20), &o)))
        }
        Err(_) => text.to_string(),
    }
}

/// Width of the plain-text verdict's advice (indented by 7 columns).
pub const VERDICT_WIDTH: usize = 72;

fn severity_tag(s: crate::diagnose::Severity) -> &'static str {
    use crate::diagnose::Severity;
    match s {
        Severity::Ok => "[ OK ]",
        Severity::Info => "[INFO]",
        Severity::Warn => "[WARN]",
        Severity::Fail => "[FAIL]",
    }
}

/// The verdict as plain text for `fido-doctor check`: each finding's title,
/// its explanation and fix with the Markdown rendered (no `**`, no
/// backticks), the guide page that helps by title, then the counts and what
/// the exit code means. Labels come from `text.toml` (`check.*`, `exit.*`).
pub fn verdict_text(
    report: &crate::diagnose::Report,
    labels: &crate::content::text::Texts,
    ui: &crate::content::ui::UiText,
) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    for f in &report.findings {
        let _ = writeln!(s, "{} {}", severity_tag(f.severity), f.title);
        for part in [&f.explain, &f.fix] {
            if part.trim().is_empty() {
                continue;
            }
            for line in markdown_text(part, ui, VERDICT_WIDTH).lines() {
                if line.trim().is_empty() {
                    s.push('\n');
                } else {
                    let _ = writeln!(s, "       {line}");
                }
            }
        }
        if let Some(title) = &f.guide_title {
            let _ = writeln!(
                s,
                "       {}",
                labels.fill("check.guide", &[("title", title)])
            );
        }
        s.push('\n');
    }
    let sum = &report.summary;
    let meaning = labels.get(crate::diagnose::report::exit_key(report.exit_code()));
    let _ = writeln!(
        s,
        "{}",
        labels.fill(
            "check.summary",
            &[
                ("fail", &sum.fail),
                ("warn", &sum.warn),
                ("info", &sum.info),
                ("ok", &sum.ok),
                ("code", &report.exit_code()),
                ("meaning", &meaning),
            ]
        )
    );
    s
}
