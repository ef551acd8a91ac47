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
        Ok(blocks) => lines_to_text(&blocks_lines(&blocks, width.max(20), &o)),
        Err(_) => text.to_string(),
    }
}
