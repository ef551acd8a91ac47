//! One-call entries for the CLI and the UI: load the content the rules
//! need once ([`DiagnosisContent`]), then turn probe reports into a
//! [`Report`] ([`diagnose`]) or answer a what-if question about another
//! computer ([`what_if`]).

use crate::content::aaguid::AaguidTable;
use std::collections::BTreeMap;

use crate::content::compat::CompatMatrix;
use crate::content::failures::FailureTable;
use crate::content::findings::FindingTexts;
use crate::content::guide::Guide;
use crate::content::text::Texts;
use crate::content::{ContentError, ContentSource, Lang};
use crate::ctap::probe::ProbeReport;

use super::facts::{BrowserId, Environment, OsFamily};
use super::findings::Finding;
use super::from_probe::key_facts;
use super::keys::KeyFacts;
use super::report::{Report, ReportTexts};
use super::rules::{evaluate, evaluate_combo, sort};

/// The content files the diagnosis uses, loaded for one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosisContent {
    /// `compat.toml`.
    pub compat: CompatMatrix,
    /// `aaguids.toml`.
    pub aaguids: AaguidTable,
    /// `{lang}/findings.toml`.
    pub texts: FindingTexts,
    /// `{lang}/failures.toml`: the words for every way a check can stop.
    pub failures: FailureTable,
    /// `{lang}/text.toml`: report labels.
    pub labels: Texts,
    /// Guide page titles by id (findings point to pages by title).
    pub guide_titles: BTreeMap<String, String>,
}

impl DiagnosisContent {
    /// Loads the matrix, the model table and the finding texts for `lang`.
    pub fn load(src: &ContentSource, lang: Lang) -> Result<Self, ContentError> {
        Ok(DiagnosisContent {
            compat: CompatMatrix::load(src)?,
            aaguids: AaguidTable::load(src)?,
            texts: FindingTexts::load(src, lang)?,
            failures: FailureTable::load(src, lang)?,
            labels: Texts::load(src, lang)?,
            guide_titles: Guide::load(src, lang)?
                .steps
                .into_iter()
                .map(|s| (s.id, s.title))
                .collect(),
        })
    }

    /// The texts a report is rendered with.
    pub fn report_texts(&self) -> ReportTexts<'_> {
        ReportTexts {
            findings: &self.texts,
            failures: &self.failures,
            guide_titles: &self.guide_titles,
            labels: &self.labels,
        }
    }

    /// Renders findings into a report.
    pub fn report(&self, env: Environment, keys: Vec<KeyFacts>, findings: &[Finding]) -> Report {
        Report::build_with(env, keys, findings, self.report_texts())
    }
}

/// Facts from probe reports, with models looked up.
pub fn keys_from_probes(probes: &[ProbeReport], content: &DiagnosisContent) -> Vec<KeyFacts> {
    probes
        .iter()
        .map(|p| key_facts(p, &content.aaguids))
        .collect()
}

/// The whole diagnosis of this computer and these keys, as a report.
/// `keys` come from [`keys_from_probes`] (plus [`KeyFacts::open_failed`] for
/// keys that could not be opened, and [`KeyFacts::apply_hid_info`] for USB
/// names), or are empty when no key was probed.
pub fn diagnose(env: Environment, keys: Vec<KeyFacts>, content: &DiagnosisContent) -> Report {
    let findings = evaluate(&env, &keys, &content.compat, &content.aaguids);
    content.report(env, keys, &findings)
}

/// What the sources say about `browser` on `os` (another computer): a report
/// with a bare environment, no keys and the combination findings only.
pub fn what_if(os: OsFamily, browser: BrowserId, content: &DiagnosisContent) -> Report {
    what_if_with_keys(os, browser, Vec::new(), content)
}

/// The verdict for a key used on a computer a user describes (`check --os X
/// --browser Y --device D`): the combination findings, and the key judged
/// as it would be on that computer (its PIN set-up, hmac-secret on Windows…).
/// Without keys, only the combination is judged (no "no key" warning).
pub fn what_if_with_keys(
    os: OsFamily,
    browser: BrowserId,
    keys: Vec<KeyFacts>,
    content: &DiagnosisContent,
) -> Report {
    let env = Environment::bare(os, &[browser]);
    let mut findings = evaluate_combo(os, browser, &content.compat);
    if !keys.is_empty() {
        for f in evaluate(&env, &keys, &content.compat, &content.aaguids) {
            if !findings.iter().any(|g| g.id == f.id) {
                findings.push(f);
            }
        }
        sort(&mut findings);
    }
    content.report(env, keys, &findings)
}
