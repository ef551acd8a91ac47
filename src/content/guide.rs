//! The guide: one Markdown file per page under `{lang}/guide/`, each with
//! TOML front matter between `+++` lines, loaded in file-name order into
//! [`Guide`]; and [`Content`], everything the terminal app shows in one
//! language.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::markdown::{self, Block};
use super::ui::UiText;
use super::{ContentError, ContentSource, Lang};

/// The chapters of the guide, in reading order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Chapter {
    /// What FIDO keys are and what the university accepts.
    Intro,
    /// Which computers and browsers work.
    Compat,
    /// Registering a key.
    Register,
    /// Signing in with a key.
    Signin,
    /// When something goes wrong.
    Trouble,
}

impl Chapter {
    /// The chapter id as written in front matter.
    pub fn id(self) -> &'static str {
        match self {
            Chapter::Intro => "intro",
            Chapter::Compat => "compat",
            Chapter::Register => "register",
            Chapter::Signin => "signin",
            Chapter::Trouble => "trouble",
        }
    }

    /// The chapter's name in the UI language.
    pub fn name(self, ui: &UiText) -> &str {
        match self {
            Chapter::Intro => &ui.chapters.intro,
            Chapter::Compat => &ui.chapters.compat,
            Chapter::Register => &ui.chapters.register,
            Chapter::Signin => &ui.chapters.signin,
            Chapter::Trouble => &ui.chapters.trouble,
        }
    }
}

/// What a page of the guide is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// Explanations.
    Info,
    /// A numbered procedure step.
    Step,
    /// A caution or remark.
    Note,
    /// The compatibility list.
    Compat,
}

/// One page of the guide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuideStep {
    /// Stable id, the same in every language.
    pub id: String,
    /// Chapter it belongs to.
    pub chapter: Chapter,
    /// What it is.
    pub kind: StepKind,
    /// Title.
    pub title: String,
    /// Step number within its chapter (procedure steps).
    pub step: Option<u32>,
    /// Finding ids this page helps with.
    pub findings: Vec<String>,
    /// The body.
    pub body: Vec<Block>,
    /// File it came from, relative to the content root.
    pub path: String,
}

/// The whole guide in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Guide {
    /// Language of the text.
    pub lang: Lang,
    /// Pages in reading order.
    pub steps: Vec<GuideStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: String,
    chapter: Chapter,
    kind: StepKind,
    title: String,
    step: Option<u32>,
    #[serde(default)]
    findings: Vec<String>,
}

impl Guide {
    /// Loads `{lang}/guide/*.md` in file-name order.
    pub fn load(src: &ContentSource, lang: Lang) -> Result<Guide, ContentError> {
        let dir = format!("{}/guide", lang.code());
        let files: Vec<String> = src
            .list(&dir)?
            .into_iter()
            .filter(|p| p.ends_with(".md"))
            .collect();
        if files.is_empty() {
            return Err(ContentError::Missing {
                path: format!("{dir}/*.md"),
            });
        }
        let mut steps = Vec::with_capacity(files.len());
        let mut seen: HashMap<String, String> = HashMap::new();
        for path in files {
            let text = src.read(&path)?;
            let step = parse_step(&path, &text)?;
            if let Some(first) = seen.get(&step.id) {
                return Err(ContentError::invalid(
                    &path,
                    id_line(&text),
                    format!("duplicate id `{}` (also in {first})", step.id),
                ));
            }
            seen.insert(step.id.clone(), path.clone());
            steps.push(step);
        }
        Ok(Guide { lang, steps })
    }

    /// The page with this id.
    pub fn find(&self, id: &str) -> Option<&GuideStep> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// Index of the page with this id.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }

    /// The highest step number in `chapter` (for "Step 3 of 7").
    pub fn steps_in_chapter(&self, chapter: Chapter) -> u32 {
        self.steps
            .iter()
            .filter(|s| s.chapter == chapter)
            .filter_map(|s| s.step)
            .max()
            .unwrap_or(0)
    }
}

/// Line (1-based) of the `id =` key in the front matter, for errors.
fn id_line(text: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with("id"))
        .map(|i| i + 1)
        .unwrap_or(1)
}

/// Parses one guide file: front matter and body.
pub fn parse_step(path: &str, text: &str) -> Result<GuideStep, ContentError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "+++" {
        return Err(ContentError::invalid(
            path,
            1,
            "missing front matter: the file must start with a `+++` line",
        ));
    }
    let front_start = first.len();
    let mut offset = front_start;
    let mut closing = None;
    for (i, line) in lines.enumerate() {
        if line.trim_end() == "+++" {
            // Line numbers: the opening `+++` is line 1, this is line i + 2.
            closing = Some((offset, offset + line.len(), i + 2));
            break;
        }
        offset += line.len();
    }
    let Some((front_end, body_start, close_line)) = closing else {
        return Err(ContentError::invalid(
            path,
            1,
            "front matter is not closed by a `+++` line",
        ));
    };
    let front = text.get(front_start..front_end).unwrap_or("");
    let body = text.get(body_start..).unwrap_or("");
    let fm: FrontMatter =
        toml::from_str(front).map_err(|e| ContentError::from_toml(path, front, &e, 1))?;
    let field_line = |key: &str| {
        front
            .lines()
            .position(|l| l.trim_start().starts_with(key))
            .map(|i| i + 2)
            .unwrap_or(1)
    };
    if fm.id.trim().is_empty() || !fm.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(ContentError::invalid(
            path,
            field_line("id"),
            format!(
                "`id` must be non-empty lowercase letters, digits and `-`, not `{}`",
                fm.id
            ),
        ));
    }
    if fm.title.trim().is_empty() {
        return Err(ContentError::invalid(
            path,
            field_line("title"),
            "`title` is empty",
        ));
    }
    if fm.kind == StepKind::Step && fm.step.is_none() {
        return Err(ContentError::invalid(
            path,
            field_line("kind"),
            "a page of kind `step` needs a `step` number",
        ));
    }
    let body = markdown::parse(body, path, close_line)?;
    Ok(GuideStep {
        id: fm.id,
        chapter: fm.chapter,
        kind: fm.kind,
        title: fm.title,
        step: fm.step,
        findings: fm.findings,
        body,
        path: path.to_string(),
    })
}

/// Everything the terminal app shows, in one language. Other parts of the
/// content (compatibility table, findings, AAGUIDs) join this bundle as
/// fields as they are added.
#[derive(Debug, Clone)]
pub struct Content {
    /// Language of all texts.
    pub lang: Lang,
    /// The guide.
    pub guide: Guide,
    /// UI labels.
    pub ui: UiText,
}

impl Content {
    /// Loads the guide and the UI labels for `lang`.
    pub fn load(src: &ContentSource, lang: Lang) -> Result<Content, ContentError> {
        let ui = UiText::load(src, lang)?;
        let guide = Guide::load(src, lang)?;
        Ok(Content { lang, guide, ui })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "+++\nid = \"add-method\"\nchapter = \"register\"\nkind = \"step\"\ntitle = \"Add a method\"\nstep = 2\nfindings = [\"no-key\"]\n+++\n\nClick **Add sign-in method**.\n";

    #[test]
    fn parses_front_matter_and_body() {
        let s = parse_step("en/guide/02-add.md", GOOD).unwrap();
        assert_eq!(s.id, "add-method");
        assert_eq!(s.chapter, Chapter::Register);
        assert_eq!(s.kind, StepKind::Step);
        assert_eq!(s.step, Some(2));
        assert_eq!(s.findings, ["no-key"]);
        assert_eq!(s.body.len(), 1);
    }

    #[test]
    fn unknown_field_points_at_its_line() {
        let text = GOOD.replace("step = 2\n", "step = 2\ncolour = \"red\"\n");
        let e = parse_step("x.md", &text).unwrap_err();
        assert!(e.to_string().starts_with("x.md:7:"), "{e}");
    }

    #[test]
    fn bad_value_points_at_its_line() {
        let text = GOOD.replace("chapter = \"register\"", "chapter = \"nowhere\"");
        let e = parse_step("x.md", &text).unwrap_err();
        assert!(e.to_string().starts_with("x.md:3:"), "{e}");
    }

    #[test]
    fn missing_and_empty_fields_are_rejected() {
        let e = parse_step("x.md", &GOOD.replace("title = \"Add a method\"\n", "")).unwrap_err();
        assert!(e.to_string().contains("title"), "{e}");
        let e = parse_step("x.md", &GOOD.replace("step = 2\n", "")).unwrap_err();
        assert!(e.to_string().starts_with("x.md:4:"), "{e}");
        let e = parse_step("x.md", &GOOD.replace("Add a method", " ")).unwrap_err();
        assert!(e.to_string().starts_with("x.md:5:"), "{e}");
    }

    #[test]
    fn embedded_guides_have_the_same_pages_in_both_languages() {
        let en = Content::load(&ContentSource::Embedded, Lang::En).unwrap();
        let ja = Content::load(&ContentSource::Embedded, Lang::Ja).unwrap();
        let key = |g: &Guide| -> Vec<(String, Chapter, Option<u32>)> {
            g.steps
                .iter()
                .map(|s| (s.id.clone(), s.chapter, s.step))
                .collect()
        };
        assert!(!en.guide.steps.is_empty());
        assert_eq!(key(&en.guide), key(&ja.guide));
    }

    #[test]
    fn windows_line_endings_and_bom_are_accepted() {
        let text = format!("\u{feff}{}", GOOD.replace('\n', "\r\n"));
        let s = parse_step("x.md", &text).unwrap();
        assert_eq!(s.title, "Add a method");
        assert_eq!(s.body.len(), 1);
    }

    #[test]
    fn front_matter_must_be_there_and_closed() {
        assert!(parse_step("x.md", "# no front matter\n").is_err());
        let e = parse_step("x.md", "+++\nid = \"a\"\n").unwrap_err();
        assert!(e.to_string().contains("not closed"), "{e}");
    }

    #[test]
    fn mockup_error_line_counts_front_matter() {
        // Front matter is lines 1-8, blank line 9, text line 10, fence line 12.
        let text = format!("{GOOD}\n```mockup\nwindow: W\nclick: Next\n```\n");
        let e = parse_step("x.md", &text).unwrap_err();
        assert!(e.to_string().starts_with("x.md:14:"), "{e}");
    }
}
