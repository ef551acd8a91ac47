//! Turns guide pages (the Markdown block model) into wrapped, styled lines
//! for a given width. The terminal app and `guide --print` both use it, so
//! the printed guide looks like the screen.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::content::guide::{Guide, StepKind};
use crate::content::markdown::{Block, Inline};
use crate::content::ui::{UiText, fill};

use super::theme::Theme;
use super::widgets::mockup::mockup_lines;
use super::wrap::{self, wrap};

/// How to draw a document.
#[derive(Debug, Clone, Copy)]
pub struct DocOptions<'a> {
    /// Styles.
    pub theme: Theme,
    /// UI labels.
    pub ui: &'a UiText,
    /// ASCII frames for mockups.
    pub ascii: bool,
    /// Add a visible `<--` after what to click (for output without styles).
    pub markers: bool,
}

impl DocOptions<'_> {
    /// Content text as drawn: ambiguous-width symbols replaced in ASCII mode.
    pub fn text(&self, s: &str) -> String {
        if self.ascii {
            wrap::ascii_safe(s)
        } else {
            s.to_string()
        }
    }
}

/// Characters used for frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxChars {
    /// Top left corner.
    pub tl: &'static str,
    /// Top right corner.
    pub tr: &'static str,
    /// Bottom left corner.
    pub bl: &'static str,
    /// Bottom right corner.
    pub br: &'static str,
    /// Horizontal line.
    pub h: &'static str,
    /// Vertical line.
    pub v: &'static str,
    /// Left end of a divider.
    pub lt: &'static str,
    /// Right end of a divider.
    pub rt: &'static str,
}

impl BoxChars {
    /// Box-drawing characters, or `+-|` when `ascii`.
    pub fn new(ascii: bool) -> BoxChars {
        if ascii {
            BoxChars {
                tl: "+",
                tr: "+",
                bl: "+",
                br: "+",
                h: "-",
                v: "|",
                lt: "+",
                rt: "+",
            }
        } else {
            BoxChars {
                tl: "┌",
                tr: "┐",
                bl: "└",
                br: "┘",
                h: "─",
                v: "│",
                lt: "├",
                rt: "┤",
            }
        }
    }
}

/// The styled pieces of a run of inline text. Links are followed by their
/// URL in angle brackets.
pub fn inline_spans(inlines: &[Inline], o: &DocOptions<'_>) -> Vec<Span<'static>> {
    let t = &o.theme;
    let txt = |s: &str| o.text(s);
    let mut out = Vec::new();
    for inl in inlines {
        match inl {
            Inline::Plain(s) => out.push(Span::styled(txt(s), t.text())),
            Inline::Bold(s) => out.push(Span::styled(txt(s), t.bold())),
            Inline::Italic(s) => out.push(Span::styled(txt(s), t.italic())),
            Inline::Code(s) => out.push(Span::styled(txt(s), t.code())),
            Inline::Link { text, url } => {
                if text.trim().is_empty() || text == url {
                    out.push(Span::styled(url.clone(), t.link()));
                } else {
                    out.push(Span::styled(txt(text), t.link()));
                    out.push(Span::styled(format!(" <{url}>"), t.dim()));
                }
            }
            Inline::Break => out.push(Span::raw("\n")),
        }
    }
    out
}

/// Lines of a list of blocks at `width` columns, blocks separated by one
/// blank line.
pub fn blocks_lines(blocks: &[Block], width: usize, o: &DocOptions<'_>) -> Vec<Line<'static>> {
    let mut out: Vec<Line<'static>> = Vec::new();
    for block in blocks {
        if !out.is_empty() {
            out.push(Line::default());
        }
        out.extend(block_lines(block, width, o));
    }
    out
}

fn block_lines(block: &Block, width: usize, o: &DocOptions<'_>) -> Vec<Line<'static>> {
    let t = &o.theme;
    match block {
        Block::Paragraph(inl) => wrap(&inline_spans(inl, o), width),
        Block::Heading { text, .. } => {
            let spans: Vec<Span<'static>> = inline_spans(text, o)
                .into_iter()
                .map(|s| {
                    let style = s.style.patch(t.heading());
                    s.style(style)
                })
                .collect();
            wrap(&spans, width)
        }
        Block::List { start, items } => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let marker = match start {
                    Some(n) => format!("{}. ", n.saturating_add(i as u64)),
                    None => "- ".to_string(),
                };
                let indent = wrap::width(&marker);
                let inner = width.saturating_sub(indent).max(1);
                let mut lines = Vec::new();
                for (bi, b) in item.blocks.iter().enumerate() {
                    // Loose lists separate paragraphs with a blank line.
                    if bi > 0 && matches!(b, Block::Paragraph(_)) {
                        lines.push(Line::default());
                    }
                    lines.extend(block_lines(b, inner, o));
                }
                for (li, line) in lines.into_iter().enumerate() {
                    let lead = if li == 0 {
                        Span::styled(marker.clone(), t.bold())
                    } else {
                        Span::raw(" ".repeat(indent))
                    };
                    let mut spans = vec![lead];
                    spans.extend(line.spans);
                    out.push(Line::from(spans));
                }
            }
            out
        }
        Block::Mockup(m) => mockup_lines(m, width, o),
        Block::Code(lines) => lines
            .iter()
            .flat_map(|l| {
                wrap(
                    &[Span::styled(l.clone(), t.code())],
                    width.saturating_sub(2),
                )
                .into_iter()
                .map(|w| {
                    let mut spans = vec![Span::raw("  ")];
                    spans.extend(w.spans);
                    Line::from(spans)
                })
            })
            .collect(),
        Block::Rule => {
            let h = BoxChars::new(o.ascii).h;
            vec![Line::styled(h.repeat(width), t.dim())]
        }
    }
}

/// "Step 3 of 7" for a numbered step, when its chapter has numbered steps.
pub fn step_label(guide: &Guide, index: usize, ui: &UiText) -> Option<String> {
    let step = guide.steps.get(index)?;
    if step.kind != StepKind::Step {
        return None;
    }
    let n = step.step?;
    let total = guide.steps_in_chapter(step.chapter).max(n);
    Some(fill(&ui.guide.step_of, &[("n", &n), ("total", &total)]))
}

/// All lines of guide page `index`: step label, title, blank line, body.
pub fn page_lines(
    guide: &Guide,
    index: usize,
    width: usize,
    o: &DocOptions<'_>,
) -> Vec<Line<'static>> {
    let Some(step) = guide.steps.get(index) else {
        return Vec::new();
    };
    let t = &o.theme;
    let mut out = Vec::new();
    if let Some(label) = step_label(guide, index, o.ui) {
        out.extend(wrap(&[Span::styled(label, t.step_label())], width));
    }
    out.extend(wrap(&[Span::styled(o.text(&step.title), t.title())], width));
    out.push(Line::default());
    out.extend(blocks_lines(&step.body, width, o));
    out
}

/// Plain text of lines (styles dropped), one `\n`-terminated row each,
/// trailing spaces removed.
pub fn lines_to_text(lines: &[Line<'_>]) -> String {
    let mut s = String::new();
    for l in lines {
        s.push_str(wrap::line_text(l).trim_end());
        s.push('\n');
    }
    s
}

/// A line of `n` copies of `ch` in `style`.
pub fn repeat_line(ch: &str, n: usize, style: Style) -> Line<'static> {
    Line::styled(ch.repeat(n), style)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::markdown::parse;
    use crate::content::ui::UiText;
    use crate::content::{ContentSource, Lang};

    fn text_of(md: &str, width: usize, ascii: bool) -> String {
        let ui = UiText::load(&ContentSource::Embedded, Lang::En).unwrap();
        let o = DocOptions {
            theme: Theme { color: false },
            ui: &ui,
            ascii,
            markers: false,
        };
        lines_to_text(&blocks_lines(&parse(md, "t.md", 0).unwrap(), width, &o))
    }

    #[test]
    fn lists_number_from_their_start_and_indent_continuations() {
        let t = text_of(
            "3. third item with enough words to wrap here\n4. fourth\n   - nested point\n",
            24,
            false,
        );
        assert_eq!(
            t,
            "3. third item with\n   enough words to wrap\n   here\n4. fourth\n   - nested point\n"
        );
    }

    #[test]
    fn links_show_their_url_and_bare_urls_once() {
        let t = text_of(
            "See [help](https://example.org/h) or <https://example.org/x>.",
            80,
            false,
        );
        assert_eq!(
            t,
            "See help <https://example.org/h> or https://example.org/x.\n"
        );
    }

    #[test]
    fn blocks_are_separated_by_one_blank_line_and_rules_use_the_frame_set() {
        assert_eq!(text_of("a\n\n---\n\nb", 5, true), "a\n\n-----\n\nb\n");
        assert_eq!(text_of("a\n\n---\n\nb", 3, false), "a\n\n───\n\nb\n");
    }

    #[test]
    fn ascii_mode_replaces_ambiguous_symbols_in_text() {
        assert_eq!(
            text_of("Settings → Accounts…", 80, true),
            "Settings -> Accounts...\n"
        );
        assert_eq!(
            text_of("Settings → Accounts…", 80, false),
            "Settings → Accounts…\n"
        );
    }
}
