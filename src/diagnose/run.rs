//! One-call entries for the CLI and the UI: load the content the rules
//! need once ([`DiagnosisContent`]), then turn probe reports into a
//! [`Report`] ([`diagnose`]) or answer a what-if question about another
//! computer ([`what_if`]).

use crate::content::aaguid::AaguidTable;
use crate::content::compat::CompatMatrix;
use crate::content::findings::FindingTexts;
use crate::content::{ContentError, ContentSource, Lang};
use crate::ctap::probe::ProbeReport;

use super::facts::{BrowserId, Environment, OsFamily};
use super::from_probe::key_facts;
use super::keys::KeyFacts;
use super::report::Report;
use super::rules::{evaluate, evaluate_combo};

/// The content files the diagnosis uses, loaded for one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosisContent {
    /// `compat.toml`.
    pub compat: CompatMatrix,
    /// `aaguids.toml`.
    pub aaguids: AaguidTable,
    /// `{lang}/findings.toml`.
    pub texts: FindingTexts,
}

impl DiagnosisContent {
    /// Loads the matrix, the model table and the finding texts for `lang`.
    pub fn load(src: &ContentSource, lang: Lang) -> Result<Self, ContentError> {
        Ok(DiagnosisContent {
            compat: CompatMatrix::load(src)?,
            aaguids: AaguidTable::load(src)?,
            texts: FindingTexts::load(src, lang)?,
        })
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
    Report::build(env, keys, &findings, &content.texts)
}

/// What the sources say about `browser` on `os` (another computer): a report
/// with a bare environment, no keys and the combination findings only.
pub fn what_if(os: OsFamily, browser: BrowserId, content: &DiagnosisContent) -> Report {
    let findings = evaluate_combo(os, browser, &content.compat);
    Report::build(
        Environment::bare(os, &[browser]),
        Vec::new(),
        &findings,
        &content.texts,
    )
}
