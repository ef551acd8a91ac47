//! The state of the terminal app: which pane has focus, which guide page is
//! shown and how far it is scrolled, whether help is open, the terminal
//! size and the content. Drawing reads it ([`super::view::view`]); only
//! [`super::update::update`] changes it.

use std::collections::BTreeMap;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::content::guide::{Content, GuideStep};
use crate::content::ui::UiText;
use crate::content::{ContentSource, Lang};
use crate::ctap::probe::{ProbeOptions, ProbeReport, Stage};
use crate::diagnose::{DiagnosisContent, Environment, KeyFacts, Report};
use crate::sim;
use crate::transport::hid::HidKeyInfo;

use super::scenarios::ScenarioTexts;
use super::text::LiveText;

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

/// State of the keys pane: attached keys (from the device watcher), keys
/// named with `--device`, the selection and what checks found out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeysState {
    /// Attached FIDO HID keys, as the watcher last saw them.
    pub hid: Vec<HidKeyInfo>,
    /// NFC keys on PC/SC readers, as the watcher last saw them.
    pub nfc: Vec<String>,
    /// Other devices (`sim:…`, `udp:…`) given with `--device` or practised with.
    pub extra: Vec<String>,
    /// Index of the selected row in [`KeysState::devices`].
    pub selected: usize,
    /// Why the keys could not be listed, when they could not.
    pub error: Option<String>,
    /// What the last check of each device found (by device string).
    pub facts: BTreeMap<String, KeyFacts>,
    /// Why a key could not be asked what it is (by device string).
    pub info_errors: BTreeMap<String, String>,
    /// Keys that demand a new PIN (GetInfo forcePINChange), by device string.
    pub force_pin_change: std::collections::BTreeSet<String>,
}

impl KeysState {
    /// Device strings of all rows: attached keys first (USB, then NFC), then the others.
    pub fn devices(&self) -> Vec<String> {
        let mut v: Vec<String> = self.hid.iter().map(HidKeyInfo::spec).collect();
        v.extend(
            self.nfc
                .iter()
                .filter(|d| !v.contains(d))
                .cloned()
                .collect::<Vec<_>>(),
        );
        v.extend(
            self.extra
                .iter()
                .filter(|d| !v.contains(d))
                .cloned()
                .collect::<Vec<_>>(),
        );
        v
    }

    /// The selected device string.
    pub fn selected_device(&self) -> Option<String> {
        self.devices().get(self.selected).cloned()
    }

    /// The USB facts of `device`, when it is an attached key.
    pub fn hid_info(&self, device: &str) -> Option<&HidKeyInfo> {
        self.hid.iter().find(|k| k.spec() == device)
    }
}

/// Where one stage of a check is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageStatus {
    /// Not started.
    Pending,
    /// Running now.
    Running,
    /// Finished.
    Done {
        /// It succeeded.
        ok: bool,
        /// How long it took.
        elapsed: Duration,
    },
    /// Did not run.
    Skipped,
}

/// The PIN entry window: what was typed so far (never drawn, only counted).
#[derive(Clone, Default)]
pub struct PinEntry {
    /// Attempts left, as the key reported them.
    pub retries: Option<u32>,
    /// The PIN typed so far (wiped on drop).
    pub input: Zeroizing<String>,
    /// With one attempt left, the user must first confirm spending it;
    /// true once confirmed (and whenever more attempts are left).
    pub confirmed: bool,
}

impl std::fmt::Debug for PinEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinEntry")
            .field("retries", &self.retries)
            .field("input", &"<redacted>")
            .finish()
    }
}

/// A check (probe) shown in the keys pane: running or finished.
#[derive(Debug, Clone)]
pub struct ProbeView {
    /// The device checked.
    pub device: String,
    /// The practice scenario, when the device is a simulated key.
    pub scenario: Option<String>,
    /// Info, registration, sign-in.
    pub stages: [StageStatus; 3],
    /// The key waits for a touch since this tick.
    pub touch_since: Option<u64>,
    /// The touch asked for is a finger on the key's fingerprint sensor
    /// (built-in user verification), not a plain touch.
    pub uv_prompt: bool,
    /// How long a touch is waited for (for the countdown).
    pub touch_timeout: Duration,
    /// The PIN window, while the check waits for the PIN.
    pub pin: Option<PinEntry>,
    /// The result, once the check ended.
    pub report: Option<ProbeReport>,
    /// Why the check could not start.
    pub open_error: Option<String>,
    /// Esc was pressed; waiting for the check to stop.
    pub cancelling: bool,
}

impl ProbeView {
    /// A check of `device` that is about to start.
    pub fn new(device: &str) -> ProbeView {
        let scenario = device
            .strip_prefix("sim:")
            .filter(|n| sim::scenario::find(n).is_some())
            .map(str::to_string);
        let touch_timeout = scenario
            .as_deref()
            .and_then(sim::scenario::find)
            .map(|s| s.presence_timeout)
            .unwrap_or(ProbeOptions::default().touch_timeout)
            .min(ProbeOptions::default().touch_timeout);
        ProbeView {
            device: device.to_string(),
            scenario,
            stages: [StageStatus::Pending; 3],
            touch_since: None,
            uv_prompt: false,
            touch_timeout,
            pin: None,
            report: None,
            open_error: None,
            cancelling: false,
        }
    }

    /// Whether the check still runs.
    pub fn running(&self) -> bool {
        self.report.is_none() && self.open_error.is_none()
    }

    /// The stage running now.
    pub fn active(&self) -> Option<Stage> {
        STAGES
            .iter()
            .zip(self.stages.iter())
            .find(|(_, s)| **s == StageStatus::Running)
            .map(|(st, _)| *st)
    }
}

/// The stages of a check in order.
pub const STAGES: [Stage; 3] = [Stage::Info, Stage::Register, Stage::Authenticate];

/// Index of a stage in [`STAGES`].
pub fn stage_index(stage: Stage) -> usize {
    match stage {
        Stage::Info => 0,
        Stage::Register => 1,
        Stage::Authenticate => 2,
    }
}

/// The practice scenario picker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PracticeState {
    /// Whether the picker is open.
    pub open: bool,
    /// Index of the highlighted scenario in `sim::scenario::all()`.
    pub selected: usize,
}

/// State of the diagnosis pane, filled in by the diagnosis worker
/// (`Msg::DiagnosisReady`). Widgets read it as `app.diagnosis.…`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiagnosisState {
    /// The latest diagnosis (none until the first one arrives).
    pub report: Option<Report>,
    /// Index of the selected finding in `report.findings`.
    pub finding_selected: usize,
    /// Facts about this computer (from the latest diagnosis).
    pub environment: Option<Environment>,
    /// Compat matrix, model table and finding texts in the app's language
    /// (none when they could not be loaded).
    pub diagnosis_content: Option<DiagnosisContent>,
    /// A diagnosis is being made (the first one, or after a check).
    pub running: bool,
    /// Lines of the selected finding's text scrolled off the top.
    pub scroll: u16,
    /// The guide page shown was opened from a finding: Esc goes back here.
    pub opened_guide: bool,
}

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
    /// The check shown in the keys pane.
    pub probe: Option<ProbeView>,
    /// The practice picker.
    pub practice: PracticeState,
    /// A one-line message for the status bar (export path, wink result).
    pub notice: Option<String>,
    /// Labels of the live parts.
    pub text: LiveText,
    /// Texts of the practice scenarios.
    pub scenarios: ScenarioTexts,
    /// The key-care flow shown in the keys pane (set/change PIN, reset).
    pub keycare: Option<super::keycare::KeyCare>,
    /// Labels of the key-care screens.
    pub care_text: super::keycare::text::KeycareText,
}

impl App {
    /// A new app showing the first page (or `options.start`, a page id).
    pub fn new(content: Content, options: &TuiOptions) -> App {
        let current = options
            .start
            .as_deref()
            .and_then(|id| content.guide.position(id))
            .unwrap_or(0);
        let lang = content.lang;
        let mut app = App {
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
            probe: None,
            practice: PracticeState::default(),
            notice: None,
            text: LiveText::load(&ContentSource::Embedded, lang).unwrap_or_default(),
            scenarios: ScenarioTexts::load(&ContentSource::Embedded, lang).unwrap_or_default(),
            keycare: None,
            care_text: super::keycare::text::KeycareText::load(&ContentSource::Embedded, lang)
                .unwrap_or_default(),
        };
        if let Some(d) = options.device.as_deref() {
            if !d.starts_with("hid:") {
                app.keys.extra.push(d.to_string());
            }
            app.pane = Pane::Keys;
        }
        app
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
        self.probe
            .as_ref()
            .is_some_and(|p| p.running() && p.touch_since.is_some() && p.pin.is_none())
            || self
                .keycare
                .as_ref()
                .is_some_and(super::keycare::KeyCare::wants_ticks)
    }
}
