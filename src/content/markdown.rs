//! The guide's Markdown body, parsed with pulldown-cmark into a small block
//! model that both the terminal app and the plain-text printer draw:
//! paragraphs of styled spans, headings, lists, rules, code and mockups.
//!
//! A line break inside a paragraph becomes a space between Latin words but
//! nothing between Japanese characters, so Japanese source text can be
//! wrapped freely without gaps appearing in the output.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Parser, Tag, TagEnd};
use serde::Serialize;
use unicode_width::UnicodeWidthChar;

use super::ContentError;
use super::mockup::Mockup;

/// A piece of text inside a paragraph, heading or list item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Inline {
    /// Ordinary text.
    Plain(String),
    /// **Strong** text.
    Bold(String),
    /// *Emphasised* text.
    Italic(String),
    /// `Code` (file names, commands, exact labels).
    Code(String),
    /// A link: its text and target.
    Link {
        /// Link text.
        text: String,
        /// Target URL.
        url: String,
    },
    /// A hard line break.
    Break,
}

impl Inline {
    /// The visible text of this piece (empty for a break).
    pub fn text(&self) -> &str {
        match self {
            Inline::Plain(t) | Inline::Bold(t) | Inline::Italic(t) | Inline::Code(t) => t,
            Inline::Link { text, .. } => text,
            Inline::Break => "",
        }
    }

    fn text_mut(&mut self) -> Option<&mut String> {
        match self {
            Inline::Plain(t) | Inline::Bold(t) | Inline::Italic(t) | Inline::Code(t) => Some(t),
            Inline::Link { text, .. } => Some(text),
            Inline::Break => None,
        }
    }
}

/// One item of a list: its blocks (usually one paragraph, maybe a nested list).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ListItem {
    /// The item's content.
    pub blocks: Vec<Block>,
}

/// A block of the guide body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Block {
    /// A paragraph.
    Paragraph(Vec<Inline>),
    /// A heading (level 1–6).
    Heading {
        /// 1 for `#`, 2 for `##`, …
        level: u8,
        /// Heading text.
        text: Vec<Inline>,
    },
    /// A bulleted (`start` = None) or numbered list.
    List {
        /// The first number of a numbered list.
        start: Option<u64>,
        /// The items.
        items: Vec<ListItem>,
    },
    /// A drawn browser dialog.
    Mockup(Mockup),
    /// A preformatted block (not a mockup): its lines.
    Code(Vec<String>),
    /// A horizontal rule.
    Rule,
}

enum Container {
    Root(Vec<Block>),
    List {
        start: Option<u64>,
        items: Vec<ListItem>,
    },
    Item(Vec<Block>),
    Quote(Vec<Block>),
}

impl Container {
    fn push(&mut self, block: Block) {
        match self {
            Container::Root(b) | Container::Item(b) | Container::Quote(b) => b.push(block),
            // Text directly inside a list (not an item) does not happen in
            // CommonMark; keep it as a one-block item rather than lose it.
            Container::List { items, .. } => items.push(ListItem {
                blocks: vec![block],
            }),
        }
    }
}

#[derive(Default)]
struct InlineBuf {
    spans: Vec<Inline>,
    heading: Option<u8>,
    bold: usize,
    italic: usize,
    link: Option<(String, String)>,
}

impl InlineBuf {
    fn push_text(&mut self, t: &str) {
        if let Some((_, text)) = &mut self.link {
            text.push_str(t);
            return;
        }
        let span = if self.bold > 0 {
            Inline::Bold(String::new())
        } else if self.italic > 0 {
            Inline::Italic(String::new())
        } else {
            Inline::Plain(String::new())
        };
        match self.spans.last_mut() {
            Some(last) if std::mem::discriminant(last) == std::mem::discriminant(&span) => {
                if let Some(s) = last.text_mut() {
                    s.push_str(t);
                }
            }
            _ => {
                let mut span = span;
                if let Some(s) = span.text_mut() {
                    s.push_str(t);
                }
                self.spans.push(span);
            }
        }
    }

    fn finish(mut self) -> Block {
        resolve_soft_breaks(&mut self.spans);
        trim_edges(&mut self.spans);
        match self.heading {
            Some(level) => Block::Heading {
                level,
                text: self.spans,
            },
            None => Block::Paragraph(self.spans),
        }
    }
}

/// Marker for a soft line break until the paragraph is complete.
const SOFT: char = '\u{1}';

/// Parses a Markdown body. `path` names the file and `line_offset` is the
/// number of file lines above the body, so errors point at the file line.
pub fn parse(body: &str, path: &str, line_offset: usize) -> Result<Vec<Block>, ContentError> {
    let line_of =
        |offset: usize| line_offset + body.get(..offset).unwrap_or(body).matches('\n').count() + 1;
    let mut stack: Vec<Container> = vec![Container::Root(Vec::new())];
    let mut inline: Option<InlineBuf> = None;
    let mut code: Option<(bool, usize, String)> = None;

    fn flush(inline: &mut Option<InlineBuf>, stack: &mut [Container]) {
        if let Some(buf) = inline.take() {
            let block = buf.finish();
            let empty = matches!(&block, Block::Paragraph(s) if s.is_empty());
            if !empty && let Some(top) = stack.last_mut() {
                top.push(block);
            }
        }
    }

    for (event, range) in Parser::new(body).into_offset_iter() {
        match event {
            Event::Start(Tag::Paragraph) => {
                flush(&mut inline, &mut stack);
                inline = Some(InlineBuf::default());
            }
            Event::Start(Tag::Heading { level, .. }) => {
                flush(&mut inline, &mut stack);
                inline = Some(InlineBuf {
                    heading: Some(heading_level(level)),
                    ..InlineBuf::default()
                });
            }
            Event::End(TagEnd::Paragraph) | Event::End(TagEnd::Heading(_)) => {
                flush(&mut inline, &mut stack);
            }
            Event::Start(Tag::List(start)) => {
                flush(&mut inline, &mut stack);
                stack.push(Container::List {
                    start,
                    items: Vec::new(),
                });
            }
            Event::End(TagEnd::List(_)) => {
                flush(&mut inline, &mut stack);
                if let Some(Container::List { start, items }) = stack.pop()
                    && let Some(top) = stack.last_mut()
                {
                    top.push(Block::List { start, items });
                }
            }
            Event::Start(Tag::Item) => {
                flush(&mut inline, &mut stack);
                stack.push(Container::Item(Vec::new()));
            }
            Event::End(TagEnd::Item) => {
                flush(&mut inline, &mut stack);
                if let Some(Container::Item(blocks)) = stack.pop()
                    && let Some(Container::List { items, .. }) = stack.last_mut()
                {
                    items.push(ListItem { blocks });
                }
            }
            Event::Start(Tag::BlockQuote(_)) => {
                flush(&mut inline, &mut stack);
                stack.push(Container::Quote(Vec::new()));
            }
            Event::End(TagEnd::BlockQuote(_)) => {
                flush(&mut inline, &mut stack);
                if let Some(Container::Quote(blocks)) = stack.pop()
                    && let Some(top) = stack.last_mut()
                {
                    for b in blocks {
                        top.push(b);
                    }
                }
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                flush(&mut inline, &mut stack);
                let mockup = matches!(&kind, CodeBlockKind::Fenced(info)
                    if info.split_whitespace().next() == Some("mockup"));
                code = Some((mockup, range.start, String::new()));
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some((mockup, start, text)) = code.take() {
                    let block = if mockup {
                        let m = Mockup::parse(&text).map_err(|e| {
                            // The fence is on the start line; content follows it.
                            ContentError::invalid(path, line_of(start) + 1 + e.index, e.message)
                        })?;
                        Block::Mockup(m)
                    } else {
                        Block::Code(text.lines().map(|l| l.replace('\t', "    ")).collect())
                    };
                    if let Some(top) = stack.last_mut() {
                        top.push(block);
                    }
                }
            }
            Event::Rule => {
                flush(&mut inline, &mut stack);
                if let Some(top) = stack.last_mut() {
                    top.push(Block::Rule);
                }
            }
            Event::Text(t) => {
                if let Some((_, _, text)) = &mut code {
                    text.push_str(&t);
                } else {
                    inline.get_or_insert_with(InlineBuf::default).push_text(&t);
                }
            }
            Event::Code(t) => {
                let buf = inline.get_or_insert_with(InlineBuf::default);
                if let Some((_, text)) = &mut buf.link {
                    text.push_str(&t);
                } else {
                    buf.spans.push(Inline::Code(t.to_string()));
                }
            }
            Event::SoftBreak => {
                inline
                    .get_or_insert_with(InlineBuf::default)
                    .push_text(&SOFT.to_string());
            }
            Event::HardBreak => {
                inline
                    .get_or_insert_with(InlineBuf::default)
                    .spans
                    .push(Inline::Break);
            }
            Event::Start(Tag::Strong) => inline.get_or_insert_with(InlineBuf::default).bold += 1,
            Event::End(TagEnd::Strong) => {
                if let Some(b) = &mut inline {
                    b.bold = b.bold.saturating_sub(1);
                }
            }
            Event::Start(Tag::Emphasis) => {
                inline.get_or_insert_with(InlineBuf::default).italic += 1
            }
            Event::End(TagEnd::Emphasis) => {
                if let Some(b) = &mut inline {
                    b.italic = b.italic.saturating_sub(1);
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                inline.get_or_insert_with(InlineBuf::default).link =
                    Some((dest_url.to_string(), String::new()));
            }
            Event::End(TagEnd::Link) => {
                if let Some(b) = &mut inline
                    && let Some((url, text)) = b.link.take()
                {
                    b.spans.push(Inline::Link { text, url });
                }
            }
            Event::Html(h) | Event::InlineHtml(h) => {
                return Err(ContentError::invalid(
                    path,
                    line_of(range.start),
                    format!("HTML is not supported in the guide: `{}`", h.trim()),
                ));
            }
            // Images, footnotes, tables, math: not enabled or not used; their
            // text (an image's alt text) arrives as Text events and is kept.
            _ => {}
        }
    }
    flush(&mut inline, &mut stack);
    // Close anything left open (cannot happen with well-formed events).
    while stack.len() > 1 {
        match stack.pop() {
            Some(Container::List { start, items }) => {
                if let Some(top) = stack.last_mut() {
                    top.push(Block::List { start, items })
                }
            }
            Some(Container::Item(blocks) | Container::Quote(blocks)) => {
                if let Some(top) = stack.last_mut() {
                    for b in blocks {
                        top.push(b);
                    }
                }
            }
            _ => {}
        }
    }
    match stack.pop() {
        Some(Container::Root(blocks)) => Ok(blocks),
        _ => Ok(Vec::new()),
    }
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Whether a character belongs to a script written without spaces
/// (Japanese, Chinese).
fn is_spaceless(c: char) -> bool {
    c.width() == Some(2) || matches!(c, '\u{FF61}'..='\u{FF9F}')
}

/// Full-width punctuation and brackets, which need no space next to them.
fn is_wide_punct(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303F}' | '\u{FF01}'..='\u{FF0F}' | '\u{FF1A}'..='\u{FF20}')
}

/// Replaces soft-break markers with a space, or with nothing between
/// Japanese characters.
fn resolve_soft_breaks(spans: &mut [Inline]) {
    let all: Vec<char> = spans.iter().flat_map(|s| s.text().chars()).collect();
    let mut pos = 0usize;
    for span in spans.iter_mut() {
        let Some(text) = span.text_mut() else {
            continue;
        };
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if c == SOFT {
                let prev = all
                    .get(..pos)
                    .unwrap_or(&[])
                    .iter()
                    .rev()
                    .find(|c| **c != SOFT);
                let next = all
                    .get(pos + 1..)
                    .and_then(|r| r.iter().find(|c| **c != SOFT));
                // Between two Japanese characters, or next to full-width
                // punctuation, a source line break is no space at all;
                // next to a Latin word it is one (`PIN を`, `Edge でも`).
                let join = (prev.is_some_and(|c| is_spaceless(*c))
                    && next.is_some_and(|c| is_spaceless(*c)))
                    || prev.is_some_and(|c| is_wide_punct(*c))
                    || next.is_some_and(|c| is_wide_punct(*c));
                if !join && !out.ends_with(' ') {
                    out.push(' ');
                }
            } else if c == ' ' && between_wide_punct(&all, pos) {
                // `**…。** 次` — a space written only to close the emphasis
                // in CommonMark; Japanese text has none there.
            } else {
                out.push(c);
            }
            pos += 1;
        }
        *text = out;
    }
}

/// Whether the space at `pos` stands between full-width punctuation and a
/// Japanese character (either order).
fn between_wide_punct(all: &[char], pos: usize) -> bool {
    let prev = pos.checked_sub(1).and_then(|p| all.get(p)).copied();
    let next = all.get(pos + 1).copied();
    match (prev, next) {
        (Some(a), Some(b)) => {
            (is_wide_punct(a) && is_spaceless(b)) || (is_spaceless(a) && is_wide_punct(b))
        }
        _ => false,
    }
}

/// Drops leading/trailing whitespace of the whole run and empty spans.
fn trim_edges(spans: &mut Vec<Inline>) {
    if let Some(first) = spans.first_mut().and_then(Inline::text_mut) {
        *first = first.trim_start().to_string();
    }
    if let Some(last) = spans.last_mut().and_then(Inline::text_mut) {
        *last = last.trim_end().to_string();
    }
    spans.retain(|s| matches!(s, Inline::Break) || !s.text().is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(t: &str) -> Inline {
        Inline::Plain(t.to_string())
    }

    #[test]
    fn paragraph_with_styles_and_link() {
        let b = parse(
            "Open **Security info** and `mysignins`\nthen [this page](https://example.org/x).\n",
            "a.md",
            0,
        )
        .unwrap();
        assert_eq!(
            b,
            vec![Block::Paragraph(vec![
                plain("Open "),
                Inline::Bold("Security info".into()),
                plain(" and "),
                Inline::Code("mysignins".into()),
                plain(" then "),
                Inline::Link {
                    text: "this page".into(),
                    url: "https://example.org/x".into()
                },
                plain("."),
            ])]
        );
    }

    #[test]
    fn emphasis_workaround_space_after_japanese_punctuation_is_dropped() {
        let blocks = parse("**これは太字です。** 次の文。English. Next.", "x.md", 0).unwrap();
        let Block::Paragraph(spans) = &blocks[0] else {
            panic!("{blocks:?}");
        };
        let text: String = spans.iter().map(Inline::text).collect();
        assert_eq!(text, "これは太字です。次の文。English. Next.");
    }

    #[test]
    fn japanese_line_breaks_do_not_become_spaces() {
        let b = parse(
            "セキュリティキーを\n登録します。\nThen English\nwords, the Edge\nブラウザ（\nEdge\n）",
            "a.md",
            0,
        )
        .unwrap();
        assert_eq!(
            b,
            vec![Block::Paragraph(vec![plain(
                "セキュリティキーを登録します。Then English words, the Edge ブラウザ（Edge）"
            )])]
        );
    }

    #[test]
    fn lists_headings_rules_and_mockups() {
        let text = "## Title\n\n1. one\n2. two\n   - nested\n\n---\n\n```mockup\nwindow: W\nbutton*: Next\n```\n";
        let b = parse(text, "a.md", 0).unwrap();
        assert_eq!(b.len(), 4);
        assert!(matches!(&b[0], Block::Heading { level: 2, .. }));
        let Block::List { start, items } = &b[1] else {
            panic!("{b:?}")
        };
        assert_eq!(*start, Some(1));
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].blocks, vec![Block::Paragraph(vec![plain("one")])]);
        assert!(matches!(
            &items[1].blocks[1],
            Block::List { start: None, .. }
        ));
        assert_eq!(b[2], Block::Rule);
        let Block::Mockup(m) = &b[3] else {
            panic!("{b:?}")
        };
        assert_eq!(m.items.len(), 2);
    }

    #[test]
    fn bad_mockup_line_reports_file_line() {
        let text = "Intro.\n\n```mockup\nwindow: W\nbutton: Next\nclick: here\n```\n";
        let e = parse(text, "en/guide/01-x.md", 4).unwrap_err();
        // Fence on body line 3, bad item on body line 6, plus 4 lines above.
        assert_eq!(
            e.to_string().split(": ").next(),
            Some("en/guide/01-x.md:10")
        );
    }

    #[test]
    fn html_is_rejected_with_line() {
        let e = parse("a\n\n<div>x</div>\n", "b.md", 0).unwrap_err();
        assert!(e.to_string().starts_with("b.md:3:"), "{e}");
    }
}
