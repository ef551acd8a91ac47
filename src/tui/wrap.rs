//! Width-aware, style-preserving line wrapping for mixed Japanese and
//! English text.
//!
//! Break opportunities come from the Unicode line breaking algorithm
//! (unicode-linebreak), widths from unicode-width, so Japanese wraps between
//! characters, English between words, and closing punctuation such as 。、」
//! never starts a line. Text is measured in terminal columns, never bytes.
//! ratatui's own `Paragraph::wrap` is not used (it mis-wraps Japanese).

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_linebreak::{BreakOpportunity, linebreaks};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Display width of a string in terminal columns.
pub fn width(s: &str) -> usize {
    s.width()
}

/// Display width of a character (0 for control characters).
pub fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// Characters that must not start a line (closing brackets and
/// punctuation, Japanese small kana and the prolonged sound mark).
pub fn no_line_start(c: char) -> bool {
    matches!(
        c,
        '、' | '。'
            | '，'
            | '．'
            | '・'
            | '：'
            | '；'
            | '？'
            | '！'
            | '」'
            | '』'
            | '）'
            | '］'
            | '｝'
            | '〉'
            | '》'
            | '】'
            | '〕'
            | 'ー'
            | '々'
            | 'ぁ'
            | 'ぃ'
            | 'ぅ'
            | 'ぇ'
            | 'ぉ'
            | 'っ'
            | 'ゃ'
            | 'ゅ'
            | 'ょ'
            | 'ァ'
            | 'ィ'
            | 'ゥ'
            | 'ェ'
            | 'ォ'
            | 'ッ'
            | 'ャ'
            | 'ュ'
            | 'ョ'
            | ')'
            | ']'
            | '}'
            | ','
            | '.'
            | ':'
            | ';'
            | '!'
            | '?'
    )
}

/// Characters that must not end a line (opening brackets).
fn no_line_end(c: char) -> bool {
    matches!(
        c,
        '「' | '『' | '（' | '［' | '｛' | '〈' | '《' | '【' | '〔' | '(' | '[' | '{'
    )
}

/// Whether a character is drawn one column wide by some terminals and two
/// by others (East Asian "ambiguous" width: arrows, bullets, ellipsis,
/// curly quotes, box drawing), which shifts frames in Japanese terminals.
pub fn is_ambiguous(c: char) -> bool {
    use unicode_width::UnicodeWidthChar;
    c.width() != c.width_cjk()
}

/// Replaces ambiguous-width characters with ASCII look-alikes (for
/// `--ascii` and printed output); others are kept.
pub fn ascii_safe(s: &str) -> String {
    if !s.chars().any(is_ambiguous) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let rep = match c {
            '…' => "...",
            '‥' => "..",
            '→' | '⇒' => "->",
            '←' | '⇐' => "<-",
            '↑' => "^",
            '↓' => "v",
            '↔' => "<->",
            '●' | '•' | '◆' | '■' | '★' | '※' => "*",
            '○' | '◇' | '□' | '☆' | '◎' => "o",
            '─' | '━' | '–' | '—' | '―' => "-",
            '│' | '┃' => "|",
            '“' | '”' => "\"",
            '‘' | '’' => "'",
            '×' => "x",
            '÷' => "/",
            '±' => "+-",
            '°' => " deg",
            '§' => "S",
            '²' => "2",
            '³' => "3",
            _ => {
                out.push(c);
                continue;
            }
        };
        out.push_str(rep);
    }
    out
}

/// Cuts `s` to at most `max` columns, ending with `...` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(3);
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = char_width(c);
        if w + cw > keep {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push_str(&"...".chars().take(max.min(3)).collect::<String>());
    out
}

/// Pads `line` with spaces (in `style`) to exactly `cols` columns, cutting
/// it when longer (never in the middle of a wide character).
pub fn fit(line: Line<'static>, cols: usize, style: Style) -> Line<'static> {
    let mut out: Vec<Span<'static>> = Vec::new();
    let mut used = 0usize;
    for span in line.spans {
        let w = width(&span.content);
        if used + w <= cols {
            used += w;
            out.push(span);
            continue;
        }
        let mut part = String::new();
        for c in span.content.chars() {
            let cw = char_width(c);
            if used + cw > cols {
                break;
            }
            part.push(c);
            used += cw;
        }
        if !part.is_empty() {
            out.push(Span::styled(part, span.style));
        }
        break;
    }
    if used < cols {
        out.push(Span::styled(" ".repeat(cols - used), style));
    }
    Line::from(out).style(line.style)
}

/// Wraps styled text to `max_width` columns. A `\n` in the text forces a
/// break. Returns at least one line for non-empty text, none for empty text.
pub fn wrap(spans: &[Span<'_>], max_width: usize) -> Vec<Line<'static>> {
    let max_width = max_width.max(1);
    let mut text = String::new();
    let mut styles: Vec<(usize, usize, Style)> = Vec::new();
    for span in spans {
        let start = text.len();
        for c in span.content.chars() {
            match c {
                '\t' => text.push(' '),
                '\r' => {}
                c => text.push(c),
            }
        }
        styles.push((start, text.len(), span.style));
    }
    if text.is_empty() {
        return Vec::new();
    }
    let mut w = Wrapper {
        text: &text,
        styles: &styles,
        max: max_width,
        lines: Vec::new(),
        start: 0,
        end: 0,
        used: 0,
    };
    let urls = url_runs(&text);
    let mut prev = 0usize;
    for (idx, op) in linebreaks(&text) {
        // Keep URLs whole (they are only split when longer than a line).
        if op == BreakOpportunity::Allowed && urls.iter().any(|&(a, b)| a < idx && idx < b) {
            continue;
        }
        // Kinsoku: no break before closing punctuation or after an opening
        // bracket, beyond what the Unicode rules already forbid.
        if op == BreakOpportunity::Allowed
            && (text
                .get(idx..)
                .and_then(|r| r.chars().next())
                .is_some_and(no_line_start)
                || text
                    .get(..idx)
                    .and_then(|r| r.chars().last())
                    .is_some_and(no_line_end))
        {
            continue;
        }
        let Some(seg) = text.get(prev..idx) else {
            continue;
        };
        w.push_segment(prev, seg);
        if op == BreakOpportunity::Mandatory && idx < text.len() {
            w.emit();
            w.start = idx;
            w.end = idx;
        }
        prev = idx;
    }
    if w.end > w.start || w.lines.is_empty() {
        w.emit();
    }
    w.lines
}

/// Byte ranges of runs of printable ASCII that contain `://`.
fn url_runs(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let is_url_char = |c: char| c.is_ascii_graphic();
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (start, is_url_char(c)) {
            (None, true) => start = Some(i),
            (Some(a), false) => {
                if text.get(a..i).is_some_and(|r| r.contains("://")) {
                    out.push((a, i));
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

thread_local! {
    static WHOLE_URLS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with URLs never split, even when longer than a line (for text
/// that is printed or pasted, where a split URL no longer works).
pub fn with_whole_urls<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            WHOLE_URLS.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(WHOLE_URLS.with(|c| c.replace(true)));
    f()
}

struct Wrapper<'a> {
    text: &'a str,
    styles: &'a [(usize, usize, Style)],
    max: usize,
    lines: Vec<Line<'static>>,
    /// Byte range of the line being built.
    start: usize,
    end: usize,
    /// Columns used by the line being built (including trailing spaces).
    used: usize,
}

impl Wrapper<'_> {
    fn push_segment(&mut self, at: usize, seg: &str) {
        let visible = seg.trim_end_matches([' ', '\n']);
        let vis_w = width(visible);
        let full_w = width(seg.trim_end_matches('\n'));
        if self.end > self.start && self.used + vis_w > self.max {
            // Keep an opening bracket with what follows it.
            self.emit_keeping_opener(at);
        }
        if self.end == self.start {
            self.start = at;
            self.end = at;
            self.used = 0;
        }
        if self.used + vis_w > self.max {
            if WHOLE_URLS.with(std::cell::Cell::get) && visible.contains("://") {
                // Printed text: a URL longer than the line stays whole (and
                // clickable); the line runs long instead.
                self.end = at + seg.len();
                self.used += full_w;
                return;
            }
            // A single word wider than the line: split it by characters.
            self.split_long(at, seg);
            return;
        }
        self.end = at + seg.len();
        self.used += full_w;
    }

    /// Ends the current line before `at`, moving a trailing opening bracket
    /// down to the next line.
    fn emit_keeping_opener(&mut self, at: usize) {
        let line = self.text.get(self.start..self.end).unwrap_or("");
        let trimmed = line.trim_end_matches([' ', '\n']);
        if let Some(last) = trimmed.chars().last()
            && no_line_end(last)
            && trimmed.chars().count() > 1
        {
            let cut = self.start + trimmed.len() - last.len_utf8();
            self.end = cut;
            self.emit();
            self.start = cut;
            self.end = at;
            self.used = width(self.text.get(cut..at).unwrap_or(""));
            return;
        }
        self.emit();
        self.start = at;
        self.end = at;
        self.used = 0;
    }

    fn split_long(&mut self, at: usize, seg: &str) {
        let chars: Vec<(usize, char)> = seg.char_indices().collect();
        let mut i = 0usize;
        while i < chars.len() {
            let Some(&(off, c)) = chars.get(i) else {
                break;
            };
            if c == '\n' || c == ' ' {
                self.end = at + off + c.len_utf8();
                if c == ' ' {
                    self.used += 1;
                }
                i += 1;
                continue;
            }
            let cw = char_width(c);
            if self.used + cw > self.max && self.end > self.start {
                // Do not start the next line with closing punctuation or
                // small kana: move characters down with it while the one
                // that would start the line is such a character.
                let mut k = i;
                while k > 0
                    && chars.get(k).is_some_and(|&(_, ch)| no_line_start(ch))
                    && chars.get(k - 1).is_some_and(|&(o, _)| at + o > self.start)
                {
                    k -= 1;
                }
                let cut = chars.get(k).map(|&(o, _)| at + o).unwrap_or(at + off);
                if k < i && cut > self.start {
                    self.end = cut;
                    self.emit();
                    self.start = cut;
                    self.end = at + off;
                    self.used = width(self.text.get(cut..at + off).unwrap_or(""));
                } else {
                    self.emit();
                    self.start = at + off;
                    self.end = self.start;
                    self.used = 0;
                }
            }
            self.end = at + off + c.len_utf8();
            self.used += cw;
            i += 1;
        }
    }

    /// Emits `start..end` (trailing spaces and newlines dropped) as a line.
    fn emit(&mut self) {
        let raw = self.text.get(self.start..self.end).unwrap_or("");
        let end = self.start + raw.trim_end_matches([' ', '\n']).len();
        let mut spans = Vec::new();
        for &(s, e, style) in self.styles {
            let a = s.max(self.start);
            let b = e.min(end);
            if a < b
                && let Some(part) = self.text.get(a..b)
            {
                spans.push(Span::styled(part.to_string(), style));
            }
        }
        self.lines.push(Line::from(spans));
        self.start = self.end;
        self.used = 0;
    }
}

/// Plain text of a line.
pub fn line_text(line: &Line<'_>) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::{Modifier, Stylize};

    fn plain(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(line_text).collect()
    }

    fn wrap_str(s: &str, w: usize) -> Vec<String> {
        plain(&wrap(&[Span::raw(s)], w))
    }

    #[test]
    fn english_wraps_between_words() {
        assert_eq!(
            wrap_str("Click on Add sign-in method and choose Security key", 20),
            ["Click on Add sign-in", "method and choose", "Security key"]
        );
        assert_eq!(wrap_str("short", 20), ["short"]);
        assert!(wrap_str("", 20).is_empty());
    }

    #[test]
    fn japanese_wraps_by_columns_without_gaps() {
        let s = "セキュリティキーを登録します。次へをクリックしてください。";
        let lines = wrap_str(s, 10);
        for l in &lines {
            assert!(width(l) <= 10, "{l:?}");
        }
        assert_eq!(lines.concat(), s);
        // ティ stays together (no line starts with a small kana), so the first
        // line stops one character short of the width.
        assert_eq!(lines[0], "セキュリ");
    }

    #[test]
    fn closing_punctuation_never_starts_a_line() {
        // Every width from a long-word-only width up: a naive wrap would put
        // 。, 」 or ー first at many of them. (Below 6 columns, "キー」" alone
        // is wider than the line and must be split somewhere.)
        let s = "「セキュリティキー」を選択し、「次へ」をクリックします。キーを挿入してください。";
        for w in 6..40 {
            let lines = wrap_str(s, w);
            assert_eq!(lines.concat(), s, "width {w}");
            for l in lines.iter().skip(1) {
                let first = l.chars().next().unwrap();
                assert!(
                    !no_line_start(first),
                    "width {w}: line starts with {first}: {lines:?}"
                );
            }
            for l in &lines[..lines.len() - 1] {
                let last = l.chars().last().unwrap();
                assert!(
                    !no_line_end(last),
                    "width {w}: line ends with {last}: {lines:?}"
                );
            }
        }
    }

    #[test]
    fn mixed_text_keeps_words_whole() {
        let s = "ブラウザーで Security info ページを開き、Add sign-in method をクリックします。";
        let lines = wrap_str(s, 24);
        for l in &lines {
            assert!(width(l) <= 24, "{l:?}");
            assert!(!l.starts_with(' '), "{l:?}");
        }
        let words: Vec<&str> = lines.iter().flat_map(|l| l.split(' ')).collect();
        for w in ["Security", "info", "Add", "sign-in", "method"] {
            assert!(words.iter().any(|x| x.contains(w)), "{w} split: {lines:?}");
        }
    }

    #[test]
    fn long_words_are_split_and_newlines_force_breaks() {
        let lines = wrap_str("see https://mysignins.microsoft.com/security-info now", 16);
        for l in &lines {
            assert!(width(l) <= 16, "{l:?}");
        }
        assert_eq!(
            lines.concat().replace(' ', ""),
            "seehttps://mysignins.microsoft.com/security-infonow"
        );
        assert_eq!(wrap_str("a\nb", 10), ["a", "b"]);
        assert_eq!(wrap_str("a\n\nb", 10), ["a", "", "b"]);
    }

    #[test]
    fn urls_stay_whole_when_they_fit() {
        let s = "Open Security info <https://mysignins.microsoft.com/security-info> and sign in.";
        let lines = wrap_str(s, 60);
        assert!(
            lines
                .iter()
                .any(|l| l.contains("<https://mysignins.microsoft.com/security-info>")),
            "{lines:?}"
        );
        let ja =
            "セキュリティ情報 <https://mysignins.microsoft.com/security-info>のページを開きます。";
        let lines = wrap_str(ja, 50);
        assert!(
            lines.iter().any(|l| l.starts_with("<https://")),
            "{lines:?}"
        );
        assert!(lines.iter().all(|l| width(l) <= 50), "{lines:?}");
    }

    #[test]
    fn styles_survive_wrapping() {
        let spans = [
            Span::raw("Press the "),
            "Next".bold(),
            Span::raw(" button now"),
        ];
        let lines = wrap(&spans, 14);
        assert_eq!(plain(&lines), ["Press the Next", "button now"]);
        let bold: Vec<_> = lines[0]
            .spans
            .iter()
            .filter(|s| s.style.add_modifier.contains(Modifier::BOLD))
            .map(|s| s.content.to_string())
            .collect();
        assert_eq!(bold, ["Next"]);
    }

    #[test]
    fn tiny_widths_do_not_loop_or_panic() {
        for w in 0..4 {
            let lines = wrap_str("日本語 and English。", w);
            assert!(!lines.is_empty());
        }
    }

    #[test]
    fn ascii_safe_replaces_ambiguous_symbols() {
        assert!(is_ambiguous('…') && is_ambiguous('→') && is_ambiguous('●'));
        assert!(!is_ambiguous('a') && !is_ambiguous('あ') && !is_ambiguous('✓'));
        assert_eq!(
            ascii_safe("Settings → Accounts…"),
            "Settings -> Accounts..."
        );
        assert_eq!(ascii_safe("「次へ」"), "「次へ」");
        assert!(!ascii_safe("“quoted” ● ○ ─ │ ×").chars().any(is_ambiguous));
    }

    #[test]
    fn truncate_and_fit_respect_columns() {
        assert_eq!(truncate("Register a key", 8), "Regis...");
        assert_eq!(truncate("キーの登録", 7), "キー...");
        assert_eq!(truncate("ok", 8), "ok");
        let l = fit(Line::from("日本語テキスト"), 5, Style::default());
        assert_eq!(width(&line_text(&l)), 5);
    }
}
