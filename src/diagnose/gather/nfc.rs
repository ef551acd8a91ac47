//! NFC facts: whether PC/SC support is built in, whether the PC/SC service
//! answers, which readers there are, whether a key is on each, and whether
//! that card carries the FIDO applet. Talks to the cards it finds (SELECT
//! only: nothing is created or changed on them).

use serde::Serialize;

use crate::ctap::CtapError;
use crate::ctap::nfc::{ApduLink, AppletVersion, Length, identify};
use crate::transport::pcsc::{self, PcscState};

/// The state of PC/SC on this computer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NfcService {
    /// This program was built without NFC support.
    NotBuilt,
    /// The PC/SC service does not answer (on Linux: pcscd not running).
    NotRunning,
    /// The service answered.
    Running,
}

/// One reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NfcReader {
    /// Device selection string (`pcsc:READER`).
    pub device: String,
    /// A card or NFC key is on the reader.
    pub card_present: bool,
    /// Whether that card has the FIDO applet (None: no card, or it could not be asked).
    pub fido_applet: Option<bool>,
    /// The applet's SELECT answer (`FIDO_2_0`, `U2F_V2`).
    pub applet_version: Option<String>,
}

/// What is known about NFC on this computer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NfcFacts {
    /// The user chose NFC (a `pcsc:` device) for this check.
    pub chosen: bool,
    /// PC/SC state.
    pub service: NfcService,
    /// Readers, in PC/SC order.
    pub readers: Vec<NfcReader>,
}

impl NfcFacts {
    /// True when some reader has a card on it.
    pub fn card_present(&self) -> bool {
        self.readers.iter().any(|r| r.card_present)
    }

    /// True when some card on a reader has the FIDO applet.
    pub fn fido_applet_present(&self) -> bool {
        self.readers.iter().any(|r| r.fido_applet == Some(true))
    }
}

/// What asking one card for the FIDO applet gave.
pub type AppletAnswer = Result<AppletVersion, CtapError>;

/// Builds the facts from a PC/SC snapshot; `ask` selects the FIDO applet
/// on the card of a reader (by name).
pub fn facts_from(
    state: &PcscState,
    chosen: bool,
    ask: &mut dyn FnMut(&str) -> Option<AppletAnswer>,
) -> NfcFacts {
    let service = match state {
        PcscState::NotBuilt => NfcService::NotBuilt,
        PcscState::ServiceDown { .. } => NfcService::NotRunning,
        PcscState::Ready { .. } => NfcService::Running,
    };
    let readers = state
        .readers()
        .iter()
        .map(|r| {
            let answer = r.card_present.then(|| ask(&r.name)).flatten();
            let (fido_applet, applet_version) = match answer {
                Some(Ok(v)) => (
                    Some(true),
                    Some(
                        match v {
                            AppletVersion::Fido2 => "FIDO_2_0",
                            AppletVersion::U2fV2 => "U2F_V2",
                        }
                        .to_string(),
                    ),
                ),
                // The card answered SELECT with a refusal: no FIDO applet.
                Some(Err(CtapError::U2f { .. })) => (Some(false), None),
                Some(Err(_)) | None => (None, None),
            };
            NfcReader {
                device: r.spec(),
                card_present: r.card_present,
                fido_applet,
                applet_version,
            }
        })
        .collect();
    NfcFacts {
        chosen,
        service,
        readers,
    }
}

/// Gathers the facts from the real PC/SC service. `chosen`: the user picked
/// NFC for this check.
pub fn gather_nfc(chosen: bool) -> NfcFacts {
    let state = pcsc::state();
    facts_from(&state, chosen, &mut |reader| {
        let card = pcsc::connect(reader).ok()?;
        let mut link = ApduLink::new(card, Length::Short);
        Some(identify(&mut link).map(|a| a.version))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::pcsc::ReaderInfo;

    fn reader(name: &str, card: bool) -> ReaderInfo {
        ReaderInfo {
            name: name.into(),
            card_present: card,
            atr: None,
        }
    }

    #[test]
    fn cards_are_asked_only_when_present() {
        let state = PcscState::Ready {
            readers: vec![reader("A", false), reader("B", true), reader("C", true)],
        };
        let mut asked = Vec::new();
        let facts = facts_from(&state, true, &mut |name| {
            asked.push(name.to_string());
            Some(if name == "B" {
                Ok(AppletVersion::Fido2)
            } else {
                Err(CtapError::U2f { sw: 0x6A82 })
            })
        });
        assert_eq!(asked, ["B", "C"]);
        assert_eq!(facts.service, NfcService::Running);
        assert_eq!(facts.readers[0].fido_applet, None);
        assert_eq!(facts.readers[1].fido_applet, Some(true));
        assert_eq!(facts.readers[1].applet_version.as_deref(), Some("FIDO_2_0"));
        assert_eq!(facts.readers[2].fido_applet, Some(false));
        assert!(facts.card_present() && facts.fido_applet_present());
    }

    #[test]
    fn service_states_carry_over() {
        let mut never = |_: &str| -> Option<AppletAnswer> { panic!("no card to ask") };
        let down = PcscState::ServiceDown {
            detail: "no service".into(),
        };
        assert_eq!(
            facts_from(&down, true, &mut never).service,
            NfcService::NotRunning
        );
        assert_eq!(
            facts_from(&PcscState::NotBuilt, false, &mut never).service,
            NfcService::NotBuilt
        );
    }
}
