//! Diagnosis: gathers facts about this computer ([`gather_environment`]) and
//! the probed keys ([`KeyFacts`]), applies the rules ([`evaluate`]) and
//! writes a [`Report`]. No UI and no printing here.
//!
//! Typical use:
//! ```no_run
//! use fido_doctor::content::{ContentSource, Lang};
//! use fido_doctor::diagnose::{self, DiagnosisContent, RealSystem};
//! # fn main() -> Result<(), fido_doctor::content::ContentError> {
//! let content = DiagnosisContent::load(&ContentSource::Embedded, Lang::En)?;
//! let env = diagnose::gather_environment(&RealSystem);
//! let probes = Vec::new(); // ctap::probe::run(...) results
//! let keys = diagnose::keys_from_probes(&probes, &content);
//! let report = diagnose::diagnose(env, keys, &content);
//! std::process::exit(report.exit_code());
//! # }
//! ```

pub mod browser_version;
pub mod facts;
pub mod findings;
pub mod from_probe;
pub mod gather;
pub mod keys;
pub mod markdown;
pub mod model;
pub mod nfc;
pub mod pin_safety;
pub mod platform_key;
pub mod report;
pub mod rules;
pub mod run;
pub mod stored;
pub mod system;
#[cfg(windows)]
mod system_windows;

pub use facts::{
    Browser, BrowserId, Environment, HidAccess, OsFacts, OsFamily, Packaging, SessionFacts,
};
pub use findings::{Finding, FindingId, Severity};
pub use from_probe::key_facts;
pub use gather::gather_environment;
pub use keys::{FailureKind, KeyFacts, PinState, ProbeFailure, Protocol, StepOutcome};
pub use model::{EntraCheck, ModelSource};
pub use report::Report;
pub use rules::{evaluate, evaluate_combo};
pub use run::{DiagnosisContent, diagnose, keys_from_probes, what_if, what_if_with_keys};
pub use stored::StoredSignIns;
pub use system::{FakeSystem, RealSystem, System};
