//! The NFC rules: from [`NfcFacts`] (and the keys probed over NFC) to
//! findings. Only a user who chose NFC hears about missing readers, a
//! stopped PC/SC service or a key not on the reader; a card removed in the
//! middle of a check is reported whenever it happens.

use crate::content::compat::{CompatMatrix, Support};

use super::facts::Environment;
use super::findings::{Finding, FindingId, Severity};
use super::gather::nfc::{NfcFacts, NfcService};
use super::keys::{FailureKind, KeyFacts};

/// True for a device selection string of an NFC key.
pub fn is_nfc_device(device: &str) -> bool {
    device.starts_with("pcsc:") || device.starts_with("nfc:")
}

/// Findings about NFC; `out` already holds the key findings, whose
/// "unplugged" finding is replaced by the NFC one for keys on a reader.
pub fn nfc_rules(
    env: &Environment,
    keys: &[KeyFacts],
    compat: &CompatMatrix,
    out: &mut Vec<Finding>,
) {
    for key in keys.iter().filter(|k| is_nfc_device(&k.device)) {
        if key
            .failure
            .as_ref()
            .is_some_and(|f| f.kind == FailureKind::Gone)
        {
            out.retain(|f| {
                !(f.id == FindingId::DeviceUnplugged
                    && f.placeholders.get("device") == Some(&key.device))
            });
            out.push(
                Finding::new(FindingId::NfcCardRemoved, Severity::Fail)
                    .with("device", key.device.clone()),
            );
        }
    }
    let Some(nfc) = env.nfc.as_ref().filter(|n| n.chosen) else {
        return;
    };
    out.extend(chosen_rules(nfc, keys));
    let os = env.os.family;
    let mut no_nfc: Vec<&str> = Vec::new();
    for b in &env.browsers {
        if let Some(e) = compat.lookup(os, b.id)
            && e.nfc != Support::Yes
            && !no_nfc.contains(&b.id.display_name())
        {
            no_nfc.push(b.id.display_name());
        }
    }
    let any_yes = env.browsers.iter().any(|b| {
        compat
            .lookup(os, b.id)
            .is_some_and(|e| e.nfc == Support::Yes)
    });
    if !no_nfc.is_empty() && !any_yes {
        out.push(
            Finding::new(FindingId::NfcComboUnsupported, Severity::Warn)
                .with("os", os.display_name())
                .with("browser", no_nfc.join(", ")),
        );
    }
}

/// The findings for a user who chose NFC, from the reader facts alone.
pub fn chosen_rules(nfc: &NfcFacts, keys: &[KeyFacts]) -> Vec<Finding> {
    let probed_ok = keys
        .iter()
        .any(|k| is_nfc_device(&k.device) && k.failure.is_none());
    match nfc.service {
        NfcService::NotBuilt => {
            return vec![Finding::new(FindingId::NfcNotBuilt, Severity::Warn)];
        }
        NfcService::NotRunning => {
            return vec![Finding::new(FindingId::NfcServiceDown, Severity::Fail)];
        }
        NfcService::Running => {}
    }
    if nfc.readers.is_empty() {
        return vec![Finding::new(FindingId::NfcNoReader, Severity::Fail)];
    }
    if probed_ok {
        return Vec::new();
    }
    if !nfc.card_present() {
        return vec![Finding::new(FindingId::NfcNoCard, Severity::Warn)];
    }
    nfc.readers
        .iter()
        .filter(|r| r.fido_applet == Some(false))
        .map(|r| {
            Finding::new(FindingId::NfcNoFidoApplet, Severity::Fail)
                .with("device", r.device.clone())
        })
        .collect()
}

#[cfg(test)]
#[path = "nfc_tests.rs"]
mod tests;
