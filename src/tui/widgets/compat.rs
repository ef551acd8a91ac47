//! The OS × browser table: for each of Windows, macOS, ChromeOS, Linux, iOS
//! and Android and each of Chrome, Edge, Firefox and Safari, what the
//! university guide's list says and where Microsoft's newer matrix differs,
//! with a legend, both sources and their as-of dates, and optionally this
//! computer's cells highlighted with a sentence saying what that means.
//!
//! Drawn from plain data ([`CompatTable`]); no I/O, no clock. Cells read
//! without colour (`yes`, `new`, `no`, `-`, the highlighted cell in
//! brackets); labels come from a small per-language table in this module.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::content::Lang;
use crate::content::compat::{BrowserId, CompatEntry, CompatMatrix, OsFamily, Support};
use crate::content::text::Texts;
use crate::content::ui::fill;
use crate::diagnose::Environment;
use crate::tui::doc::BoxChars;
use crate::tui::theme::Theme;
use crate::tui::wrap::{self, fit, wrap};

/// The rows of the table, in order.
pub const ROWS: [OsFamily; 6] = [
    OsFamily::Windows,
    OsFamily::Macos,
    OsFamily::Chromeos,
    OsFamily::Linux,
    OsFamily::Ios,
    OsFamily::Android,
];

/// The columns of the table, in order.
pub const COLUMNS: [BrowserId; 4] = [
    BrowserId::Chrome,
    BrowserId::Edge,
    BrowserId::Firefox,
    BrowserId::Safari,
];

/// What the sources say about one OS × browser combination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// In the university's list and in Microsoft's matrix.
    Yes,
    /// Only in Microsoft's newer matrix.
    New,
    /// In the university's list, but Microsoft's matrix says no.
    GuideOnly,
    /// Supported by neither source.
    No,
    /// The browser does not exist on that system.
    Na,
    /// The matrix has no row for it (browsers no source lists).
    Unlisted,
}

/// A cell: the verdict and whether a new key can be registered there
/// (`false` when sign-in works but registration does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cell {
    /// What the sources say.
    pub verdict: Verdict,
    /// Sign-in works but a new key cannot be registered here.
    pub sign_in_only: bool,
}

impl Cell {
    /// The cell for a matrix row (or its absence).
    pub fn of(entry: Option<&CompatEntry>) -> Cell {
        let Some(e) = entry else {
            return Cell {
                verdict: Verdict::Unlisted,
                sign_in_only: false,
            };
        };
        let verdict = match (e.microsoft, e.guide) {
            (Support::Na, _) => Verdict::Na,
            (Support::Yes, true) => Verdict::Yes,
            (Support::Yes, false) => Verdict::New,
            (_, true) => Verdict::GuideOnly,
            (_, false) => Verdict::No,
        };
        let usable = matches!(verdict, Verdict::Yes | Verdict::New | Verdict::GuideOnly);
        Cell {
            verdict,
            sign_in_only: usable && e.register == Support::No,
        }
    }
}

/// The table's labels in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompatLabels {
    /// Heading over the table.
    pub title: String,
    /// Header of the OS column.
    pub os: String,
    /// Cell words: yes, new, guide-only, no, n/a, unlisted.
    pub cells: [String; 6],
    /// Short cell words for narrow tables.
    pub cells_short: [String; 6],
    /// Legend texts, same order; `{guide}` and `{microsoft}` are as-of dates.
    pub legend: [String; 6],
    /// Legend of the `*` suffix.
    pub sign_in_only: String,
    /// Legend of the bracketed cells.
    pub this_computer_cell: String,
    /// Heading over the sources.
    pub sources: String,
    /// "University guide (as of {as_of})".
    pub guide_source: String,
    /// "Microsoft (as of {as_of})".
    pub microsoft_source: String,
    /// "This computer ({os} + {browser}):".
    pub this_computer: String,
    /// Verdict sentences, same order as `cells`.
    pub verdicts: [String; 6],
    /// Added when only sign-in works there.
    pub verdict_sign_in_only: String,
    /// Between two sentences (a space in English, nothing in Japanese).
    pub sentence_gap: String,
}

impl CompatLabels {
    /// The labels in `lang` (from `{lang}/text.toml`, table `compat`).
    pub fn for_lang(lang: Lang) -> &'static CompatLabels {
        static LABELS: std::sync::OnceLock<[CompatLabels; 2]> = std::sync::OnceLock::new();
        let all = LABELS
            .get_or_init(|| Lang::ALL.map(|l| CompatLabels::from_texts(&Texts::embedded(l), l)));
        &all[usize::from(lang == Lang::Ja)]
    }

    /// The labels from loaded texts.
    pub fn from_texts(t: &Texts, lang: Lang) -> CompatLabels {
        let g = |k: &str| t.get(k);
        CompatLabels {
            title: g("compat.title"),
            os: g("compat.os"),
            cells: [
                g("compat.cell.yes"),
                g("compat.cell.new"),
                g("compat.cell.guide_only"),
                g("compat.cell.no"),
                g("compat.cell.na"),
                g("compat.cell.unlisted"),
            ],
            cells_short: [
                g("compat.cell_short.yes"),
                g("compat.cell_short.new"),
                g("compat.cell_short.guide_only"),
                g("compat.cell_short.no"),
                g("compat.cell_short.na"),
                g("compat.cell_short.unlisted"),
            ],
            legend: [
                g("compat.legend.yes"),
                g("compat.legend.new"),
                g("compat.legend.guide_only"),
                g("compat.legend.no"),
                g("compat.legend.na"),
                g("compat.legend.unlisted"),
            ],
            sign_in_only: g("compat.sign_in_only"),
            this_computer_cell: g("compat.this_computer_cell"),
            sources: g("compat.sources"),
            guide_source: g("compat.guide_source"),
            microsoft_source: g("compat.microsoft_source"),
            this_computer: g("compat.this_computer"),
            verdicts: [
                g("compat.verdict.yes"),
                g("compat.verdict.new"),
                g("compat.verdict.guide_only"),
                g("compat.verdict.no"),
                g("compat.verdict.na"),
                g("compat.verdict.unlisted"),
            ],
            verdict_sign_in_only: g("compat.verdict_sign_in_only"),
            // Japanese sentences follow each other without a space.
            sentence_gap: if lang == Lang::Ja { "" } else { " " }.to_string(),
        }
    }
}

fn verdict_index(v: Verdict) -> usize {
    match v {
        Verdict::Yes => 0,
        Verdict::New => 1,
        Verdict::GuideOnly => 2,
        Verdict::No => 3,
        Verdict::Na => 4,
        Verdict::Unlisted => 5,
    }
}

/// This computer's OS with each installed browser, for
/// [`CompatTable::highlight`] (no duplicates, in the environment's order).
pub fn machine_cells(env: &Environment) -> Vec<(OsFamily, BrowserId)> {
    let mut out: Vec<(OsFamily, BrowserId)> = Vec::new();
    for b in &env.browsers {
        let cell = (env.os.family, b.id);
        if !out.contains(&cell) {
            out.push(cell);
        }
    }
    out
}

/// Everything the table draws from.
#[derive(Debug, Clone, Copy)]
pub struct CompatTable<'a> {
    /// The matrix (`content/compat.toml`).
    pub matrix: &'a CompatMatrix,
    /// Language of the labels.
    pub lang: Lang,
    /// Styles.
    pub theme: Theme,
    /// ASCII rules instead of box-drawing lines.
    pub ascii: bool,
    /// Cells to highlight (this computer's OS and browsers), each followed
    /// by a sentence below the table.
    pub highlight: &'a [(OsFamily, BrowserId)],
}

impl CompatTable<'_> {
    fn labels(&self) -> &'static CompatLabels {
        CompatLabels::for_lang(self.lang)
    }

    /// Content text as drawn: ambiguous-width symbols replaced in ASCII mode.
    fn text(&self, s: &str) -> String {
        if self.ascii {
            wrap::ascii_safe(s)
        } else {
            s.to_string()
        }
    }

    /// Fills `{guide}` and `{microsoft}` with the sources' as-of dates.
    fn dated(&self, s: &str) -> String {
        fill(
            s,
            &[
                ("guide", &self.matrix.guide.as_of),
                ("microsoft", &self.matrix.microsoft.as_of),
            ],
        )
    }

    /// The style of a cell's word.
    fn verdict_style(&self, v: Verdict) -> Style {
        let t = &self.theme;
        if !t.color {
            return match v {
                Verdict::Yes => Style::default().add_modifier(Modifier::BOLD),
                _ => Style::default(),
            };
        }
        match v {
            Verdict::Yes => Style::default().fg(Color::Green),
            Verdict::New | Verdict::GuideOnly => Style::default().fg(Color::Cyan),
            Verdict::No => Style::default().fg(Color::Red),
            Verdict::Na | Verdict::Unlisted => t.dim(),
        }
    }

    /// The cell for `os` × `browser`.
    pub fn cell(&self, os: OsFamily, browser: BrowserId) -> Cell {
        Cell::of(self.matrix.lookup(os, browser))
    }

    /// The table, legend, verdicts and sources as lines at most `width`
    /// columns wide (every table row exactly `width` columns).
    pub fn lines(&self, width: usize) -> Vec<Line<'static>> {
        let width = width.max(1);
        let l = self.labels();
        let t = &self.theme;
        let os_w = 2
            + ROWS
                .iter()
                .map(|o| wrap::width(o.display_name()))
                .max()
                .unwrap_or(0)
            + 1;
        let col_w = (width.saturating_sub(os_w) / COLUMNS.len()).clamp(1, 14);
        // Cell text plus brackets (or spaces) must fit the column.
        let fits = |words: &[String; 6]| words.iter().all(|w| wrap::width(w) + 1 + 2 <= col_w);
        let words = if fits(&l.cells) {
            &l.cells
        } else {
            &l.cells_short
        };
        let short_headers = COLUMNS
            .iter()
            .any(|b| wrap::width(column_name(*b, false)) + 1 > col_w);

        let mut out: Vec<Line<'static>> = Vec::new();
        out.extend(wrap(&[Span::styled(l.title.as_str(), t.title())], width));
        out.push(Line::default());

        // Header.
        let mut spans = vec![Span::styled(
            format!("  {:<w$}", l.os, w = os_w - 2),
            t.bold(),
        )];
        for b in COLUMNS {
            let name = column_name(b, short_headers);
            let style = if self.highlight.iter().any(|(_, hb)| *hb == b) {
                t.heading()
            } else {
                t.bold()
            };
            spans.push(fit_span(&format!(" {name}"), col_w, style));
        }
        out.push(fit(Line::from(spans), width, t.text()));
        let bx = BoxChars::new(self.ascii);
        out.push(Line::styled(
            bx.h.repeat(width.min(os_w + col_w * COLUMNS.len())),
            t.border(),
        ));

        let mut used: Vec<Verdict> = Vec::new();
        let mut any_star = false;
        for os in ROWS {
            let mine = self.highlight.iter().any(|(ho, _)| *ho == os);
            let lead = if mine { "> " } else { "  " };
            let os_style = if mine { t.heading() } else { t.text() };
            let mut spans = vec![Span::styled(
                format!("{lead}{:<w$}", os.display_name(), w = os_w - 2),
                os_style,
            )];
            for b in COLUMNS {
                let cell = self.cell(os, b);
                if !used.contains(&cell.verdict) {
                    used.push(cell.verdict);
                }
                any_star |= cell.sign_in_only;
                let word = words[verdict_index(cell.verdict)].as_str();
                let star = if cell.sign_in_only { "*" } else { "" };
                let hl = self.highlight.contains(&(os, b));
                let (text, style) = if hl {
                    (format!("[{word}{star}]"), t.selected())
                } else {
                    (format!(" {word}{star} "), self.verdict_style(cell.verdict))
                };
                let pad = col_w.saturating_sub(wrap::width(&text));
                spans.push(fit_span(&text, col_w.min(wrap::width(&text)), style));
                if pad > 0 {
                    spans.push(Span::raw(" ".repeat(pad)));
                }
            }
            out.push(fit(Line::from(spans), width, t.text()));
        }
        out.push(Line::default());

        // Legend: only what the table shows.
        let key_w = words
            .iter()
            .map(|w| wrap::width(w))
            .max()
            .unwrap_or(1)
            .max(if self.highlight.is_empty() { 1 } else { 3 })
            + 2;
        let mut legend: Vec<(String, Style, String)> = Vec::new();
        for v in [
            Verdict::Yes,
            Verdict::New,
            Verdict::GuideOnly,
            Verdict::No,
            Verdict::Na,
            Verdict::Unlisted,
        ] {
            if used.contains(&v) {
                let i = verdict_index(v);
                legend.push((
                    words[i].to_string(),
                    self.verdict_style(v),
                    self.dated(&l.legend[i]),
                ));
            }
        }
        if any_star {
            legend.push(("*".into(), t.bold(), l.sign_in_only.to_string()));
        }
        if !self.highlight.is_empty() {
            legend.push(("[ ]".into(), t.selected(), l.this_computer_cell.to_string()));
        }
        for (key, style, text) in legend {
            let body = wrap(&[Span::raw(text)], width.saturating_sub(key_w).max(1));
            for (i, line) in body.into_iter().enumerate() {
                let lead = if i == 0 {
                    let pad = key_w.saturating_sub(wrap::width(&key));
                    vec![Span::styled(key.clone(), style), Span::raw(" ".repeat(pad))]
                } else {
                    vec![Span::raw(" ".repeat(key_w))]
                };
                let mut spans = lead;
                spans.extend(line.spans);
                out.push(Line::from(spans));
            }
        }

        // This computer.
        for (os, browser) in self.highlight {
            out.push(Line::default());
            out.extend(self.verdict_lines(*os, *browser, width));
        }

        // Sources.
        out.push(Line::default());
        out.extend(wrap(
            &[Span::styled(l.sources.as_str(), t.heading())],
            width,
        ));
        for (label, src) in [
            (&l.guide_source, &self.matrix.guide),
            (&l.microsoft_source, &self.matrix.microsoft),
        ] {
            out.extend(wrap(
                &[
                    Span::styled(fill(label, &[("as_of", &src.as_of)]), t.bold()),
                    Span::raw(format!(" {}", self.text(&src.title))),
                ],
                width,
            ));
            out.extend(wrap(&[Span::styled(src.url.clone(), t.link())], width));
        }
        out
    }

    /// "This computer (Linux + Firefox): not in the university list
    /// (2024-05); allowed by Microsoft (2025-05-12)." wrapped to `width`.
    pub fn verdict_lines(
        &self,
        os: OsFamily,
        browser: BrowserId,
        width: usize,
    ) -> Vec<Line<'static>> {
        let l = self.labels();
        let t = &self.theme;
        let cell = self.cell(os, browser);
        let head = fill(
            &l.this_computer,
            &[
                ("os", &os.display_name()),
                ("browser", &browser.display_name()),
            ],
        );
        let mut spans = vec![
            Span::styled(head, t.bold()),
            Span::raw(" "),
            Span::styled(
                self.dated(&l.verdicts[verdict_index(cell.verdict)]),
                self.verdict_style(cell.verdict),
            ),
        ];
        if cell.sign_in_only {
            spans.push(Span::raw(l.sentence_gap.as_str()));
            spans.push(Span::styled(l.verdict_sign_in_only.as_str(), t.warning()));
        }
        wrap(&spans, width.max(1))
    }
}

/// A column header: the browser's short name, or an abbreviation.
fn column_name(b: BrowserId, short: bool) -> &'static str {
    match (b, short) {
        (BrowserId::Chrome, false) => "Chrome",
        (BrowserId::Edge, false) => "Edge",
        (BrowserId::Firefox, false) => "Firefox",
        (BrowserId::Safari, false) => "Safari",
        (BrowserId::Chrome, true) => "Chr",
        (BrowserId::Edge, true) => "Edg",
        (BrowserId::Firefox, true) => "Fx",
        (BrowserId::Safari, true) => "Saf",
        (other, _) => other.id(),
    }
}

/// `text` cut or padded to exactly `w` columns, in `style`.
fn fit_span(text: &str, w: usize, style: Style) -> Span<'static> {
    let line = fit(Line::from(Span::styled(text.to_string(), style)), w, style);
    let s: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    Span::styled(s, style)
}

impl Widget for &CompatTable<'_> {
    /// Draws the lines top-down into `area`, cut at its height.
    fn render(self, area: Rect, buf: &mut Buffer) {
        let lines = self.lines(area.width as usize);
        for (y, line) in lines.iter().take(area.height as usize).enumerate() {
            buf.set_line(area.x, area.y + y as u16, line, area.width);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[source.guide]
title = "Guide"
url = "https://example.org/guide"
as_of = "2024-05"

[source.microsoft]
title = "Matrix"
url = "https://example.org/ms"
as_of = "2025-05-12"

[[entry]]
os = "windows"
browser = "firefox"
guide = true
microsoft = "no"
register = "yes"

[[entry]]
os = "ios"
browser = "chrome"
guide = true
microsoft = "yes"
register = "no"

[[entry]]
os = "android"
browser = "safari"
guide = false
microsoft = "na"
register = "no"
"#;

    #[test]
    fn cells_combine_both_sources() {
        let m = CompatMatrix::parse(SAMPLE).unwrap();
        let cell = |os, b| Cell::of(m.lookup(os, b));
        assert_eq!(
            cell(OsFamily::Windows, BrowserId::Firefox),
            Cell {
                verdict: Verdict::GuideOnly,
                sign_in_only: false
            }
        );
        assert_eq!(
            cell(OsFamily::Ios, BrowserId::Chrome),
            Cell {
                verdict: Verdict::Yes,
                sign_in_only: true
            }
        );
        // "Cannot register" means nothing where the browser does not exist.
        assert_eq!(
            cell(OsFamily::Android, BrowserId::Safari),
            Cell {
                verdict: Verdict::Na,
                sign_in_only: false
            }
        );
        assert_eq!(
            cell(OsFamily::Linux, BrowserId::Chrome).verdict,
            Verdict::Unlisted
        );
    }

    #[test]
    fn legend_lists_only_what_the_table_shows() {
        let m = CompatMatrix::parse(SAMPLE).unwrap();
        let t = CompatTable {
            matrix: &m,
            lang: Lang::En,
            theme: Theme { color: false },
            ascii: true,
            highlight: &[],
        };
        let text: Vec<String> = t.lines(80).iter().map(wrap::line_text).collect();
        let starts = |p: &str| text.iter().any(|l| l.starts_with(p));
        assert!(starts("list "), "{text:#?}");
        assert!(starts("yes "), "{text:#?}");
        assert!(starts("* "), "{text:#?}");
        assert!(starts("? "), "{text:#?}");
        assert!(!starts("new "), "{text:#?}");
        assert!(!starts("no "), "{text:#?}");
        assert!(!starts("[ ]"), "{text:#?}");
    }
}
