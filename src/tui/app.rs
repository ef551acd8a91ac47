//! The state of the terminal app: which pane has focus, which guide page is
//! shown and how far it is scrolled, whether help is open, the terminal
//! size and the content. Drawing reads it ([`super::view::view`]); only
//! [`super::update::update`] changes it.

use crate::content::Lang;
use crate::content::guide::{Content, GuideStep};
use crate::content::ui::UiText;

use super::TuiOptions;
use super::theme::Theme;

/// The panes, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// The setup guide (step list and page).
    Guide,
    /// Connected security keys.
    Keys,
    /// Findings about this computer and key.
    Diagnosis,
}

impl Pane {
    /// All panes in Tab order.
    pub const ALL: [Pane; 3] = [Pane::Guide, Pane::Keys, Pane::Diagnosis];

    /// The next pane (Tab).
    pub fn next(self) -> Pane {
        match self {
            Pane::Guide => Pane::Keys,
            Pane::Keys => Pane::Diagnosis,
            Pane::Diagnosis => Pane::Guide,
        }
    }

    /// The previous pane (Shift-Tab).
    pub fn prev(self) -> Pane {
        match self {
            Pane::Guide => Pane::Diagnosis,
            Pane::Keys => Pane::Guide,
            Pane::Diagnosis => Pane::Keys,
        }
    }
}

/// State of the keys pane (filled in when live key checks arrive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeysState {}

/// State of the diagnosis pane (filled in when the diagnosis arrives).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiagnosisState {}

/// The whole app state.
#[derive(Debug, Clone)]
pub struct App {
    /// Texts in the chosen language.
    pub content: Content,
    /// Pane with focus.
    pub pane: Pane,
    /// Index of the guide page shown.
    pub current: usize,
    /// Lines scrolled off the top of the page.
    pub scroll: u16,
    /// Whether the help overlay is open.
    pub help: bool,
    /// Set when the user asked to quit.
    pub quit: bool,
    /// Animation frame counter (advanced by ticks, never by clocks).
    pub tick: u64,
    /// Terminal size (columns, rows), updated on resize.
    pub size: (u16, u16),
    /// Draw frames with ASCII `+-|` instead of box-drawing characters.
    pub ascii: bool,
    /// Styles.
    pub theme: Theme,
    /// Keys pane state.
    pub keys: KeysState,
    /// Diagnosis pane state.
    pub diagnosis: DiagnosisState,
}

impl App {
    /// A new app showing the first page (or `options.start`, a page id).
    pub fn new(content: Content, options: &TuiOptions) -> App {
        let current = options
            .start
            .as_deref()
            .and_then(|id| content.guide.position(id))
            .unwrap_or(0);
        App {
            content,
            pane: Pane::Guide,
            current,
            scroll: 0,
            help: false,
            quit: false,
            tick: 0,
            size: (80, 24),
            ascii: options.ascii,
            theme: Theme {
                color: options.color,
            },
            keys: KeysState::default(),
            diagnosis: DiagnosisState::default(),
        }
    }

    /// The language of the texts.
    pub fn lang(&self) -> Lang {
        self.content.lang
    }

    /// UI labels.
    pub fn ui(&self) -> &UiText {
        &self.content.ui
    }

    /// The page shown, if the guide has any.
    pub fn step(&self) -> Option<&GuideStep> {
        self.content.guide.steps.get(self.current)
    }

    /// Number of guide pages.
    pub fn page_count(&self) -> usize {
        self.content.guide.steps.len()
    }

    /// Whether something on screen animates (ticks are sent only then).
    pub fn wants_ticks(&self) -> bool {
        false
    }
}
