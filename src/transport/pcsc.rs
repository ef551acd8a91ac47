//! PC/SC readers and the cards on them (NFC security keys): listing readers,
//! resolving a `pcsc:READER` selection, and moving APDUs to a card.
//!
//! Built only with the cargo feature `nfc` (the `pcsc` crate links
//! libpcsclite on Linux, which needs its development files to build; Windows
//! and macOS use their own PC/SC). Without it, [`state`] says
//! [`PcscState::NotBuilt`] and [`connect`] refuses with [`NOT_BUILT`].

use serde::Serialize;

use super::TransportError;
#[cfg(feature = "nfc")]
use super::card::{MAX_RESPONSE, SmartCard};

/// True when this binary was built with PC/SC support.
pub const BUILT: bool = cfg!(feature = "nfc");

/// What to do when PC/SC support is missing.
pub const NOT_BUILT: &str =
    "NFC support not built: install libpcsclite-dev and rebuild with --features nfc";

/// One reader as PC/SC reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReaderInfo {
    /// Reader name (`Virtual PCD 00 00`).
    pub name: String,
    /// A card (or NFC key) is on the reader.
    pub card_present: bool,
    /// The card's answer-to-reset, hex, when a card is present.
    pub atr: Option<String>,
}

impl ReaderInfo {
    /// The device selection string of the card on this reader.
    pub fn spec(&self) -> String {
        format!("pcsc:{}", self.name)
    }
}

/// What PC/SC looks like on this computer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum PcscState {
    /// This binary has no PC/SC support.
    NotBuilt,
    /// The PC/SC service could not be reached (on Linux: pcscd not running).
    ServiceDown {
        /// The error PC/SC gave.
        detail: String,
    },
    /// The service answered; `readers` may be empty.
    Ready {
        /// Readers, in the order PC/SC lists them.
        readers: Vec<ReaderInfo>,
    },
}

impl PcscState {
    /// The readers, or none when the service is down or support is not built.
    pub fn readers(&self) -> &[ReaderInfo] {
        match self {
            PcscState::Ready { readers } => readers,
            _ => &[],
        }
    }
}

/// Picks the reader a selection means: `""` is the only reader with a card
/// on it (or the only reader); otherwise an exact name, else the one reader
/// whose name contains the text (case-insensitive).
pub fn resolve_reader<'a>(
    readers: &'a [ReaderInfo],
    wanted: &str,
) -> Result<&'a ReaderInfo, TransportError> {
    let names = || {
        readers
            .iter()
            .map(|r| format!("pcsc:{}", r.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if readers.is_empty() {
        return Err(TransportError::NotFound(
            "no NFC/smart-card reader is connected".into(),
        ));
    }
    if wanted.is_empty() {
        let with_card: Vec<_> = readers.iter().filter(|r| r.card_present).collect();
        return match (with_card.as_slice(), readers) {
            ([one], _) => Ok(one),
            ([], [only]) => Ok(only),
            ([], _) => Err(TransportError::NotFound(format!(
                "no key is on any reader ({})",
                names()
            ))),
            _ => Err(TransportError::NotFound(format!(
                "cards are on several readers; choose one with --device ({})",
                names()
            ))),
        };
    }
    if let Some(r) = readers.iter().find(|r| r.name == wanted) {
        return Ok(r);
    }
    let low = wanted.to_lowercase();
    let matching: Vec<_> = readers
        .iter()
        .filter(|r| r.name.to_lowercase().contains(&low))
        .collect();
    match matching.as_slice() {
        [one] => Ok(one),
        [] => Err(TransportError::NotFound(format!(
            "no reader named {wanted:?} (readers: {})",
            names()
        ))),
        _ => Err(TransportError::NotFound(format!(
            "{wanted:?} matches several readers; give more of the name ({})",
            names()
        ))),
    }
}

#[cfg(not(feature = "nfc"))]
/// Readers and cards (support not built).
pub fn state() -> PcscState {
    PcscState::NotBuilt
}

#[cfg(not(feature = "nfc"))]
/// Stand-in for the PC/SC card type when support is not built.
pub enum PcscCard {}

#[cfg(not(feature = "nfc"))]
impl super::card::SmartCard for PcscCard {
    fn transmit(&mut self, _apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        match *self {}
    }
    fn name(&self) -> String {
        match *self {}
    }
}

#[cfg(not(feature = "nfc"))]
/// Always refuses: support not built.
pub fn connect(selection: &str) -> Result<PcscCard, TransportError> {
    Err(TransportError::BadSpec {
        input: format!("pcsc:{selection}"),
        reason: NOT_BUILT.into(),
    })
}

#[cfg(feature = "nfc")]
pub use real::{PcscCard, connect, state};

#[cfg(feature = "nfc")]
mod real {
    use std::ffi::CString;

    use pcsc::{Context, Error, Protocols, ReaderState, Scope, ShareMode, State};

    use super::*;

    /// Turns a PC/SC error into the transport's terms.
    pub(super) fn map_err(e: Error, name: &str) -> TransportError {
        match e {
            Error::NoService | Error::ServiceStopped | Error::NoReadersAvailable => {
                TransportError::NotFound(format!(
                    "{name}: the PC/SC service is not running or has no reader ({e})"
                ))
            }
            Error::NoSmartcard => {
                TransportError::NotFound(format!("{name}: no key is on the reader"))
            }
            Error::RemovedCard
            | Error::ResetCard
            | Error::UnpoweredCard
            | Error::ReaderUnavailable
            | Error::UnknownReader => {
                TransportError::Gone(format!("{name} (the key was taken off the reader: {e})"))
            }
            Error::NoAccess | Error::SharingViolation => TransportError::PermissionDenied {
                path: format!("{name} ({e})"),
            },
            other => TransportError::Io {
                path: name.to_string(),
                source: std::io::Error::other(other),
            },
        }
    }

    fn context() -> Result<Context, Error> {
        Context::establish(Scope::User)
    }

    fn list(ctx: &Context) -> Result<Vec<ReaderInfo>, Error> {
        let names = match ctx.list_readers_owned() {
            Ok(n) => n,
            Err(Error::NoReadersAvailable) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut states: Vec<ReaderState> = names
            .iter()
            .map(|n| ReaderState::new(n.clone(), State::UNAWARE))
            .collect();
        ctx.get_status_change(std::time::Duration::from_millis(0), &mut states)?;
        Ok(states
            .iter()
            .map(|s| {
                let present = s.event_state().contains(State::PRESENT)
                    && !s.event_state().contains(State::MUTE);
                ReaderInfo {
                    name: s.name().to_string_lossy().into_owned(),
                    card_present: present,
                    atr: (present && !s.atr().is_empty()).then(|| hex::encode(s.atr())),
                }
            })
            .collect())
    }

    /// Readers and cards as PC/SC sees them now.
    pub fn state() -> PcscState {
        match context().and_then(|ctx| list(&ctx)) {
            Ok(readers) => PcscState::Ready { readers },
            Err(Error::NoReadersAvailable) => PcscState::Ready {
                readers: Vec::new(),
            },
            Err(e) => PcscState::ServiceDown {
                detail: e.to_string(),
            },
        }
    }

    /// A connection to the card on one reader.
    pub struct PcscCard {
        // Field order matters: the card is released before its context.
        card: pcsc::Card,
        _ctx: Context,
        name: String,
    }

    /// Connects to the card on the reader `selection` means (see
    /// [`resolve_reader`]).
    pub fn connect(selection: &str) -> Result<PcscCard, TransportError> {
        let spec = format!("pcsc:{selection}");
        let ctx = context().map_err(|e| map_err(e, &spec))?;
        let readers = list(&ctx).map_err(|e| map_err(e, &spec))?;
        let reader = resolve_reader(&readers, selection)?;
        let name = reader.spec();
        if !reader.card_present {
            return Err(TransportError::NotFound(format!(
                "{name}: no key is on the reader"
            )));
        }
        let cname = CString::new(reader.name.clone()).map_err(|_| TransportError::BadSpec {
            input: spec.clone(),
            reason: "reader name contains a NUL byte".into(),
        })?;
        let card = ctx
            .connect(&cname, ShareMode::Shared, Protocols::ANY)
            .map_err(|e| map_err(e, &name))?;
        Ok(PcscCard {
            card,
            _ctx: ctx,
            name,
        })
    }

    /// How long an empty answer is checked for a removed card.
    const REMOVAL_CHECK: std::time::Duration = std::time::Duration::from_millis(1500);

    impl PcscCard {
        /// Err(Gone) when the card turns out to be off the reader within
        /// [`REMOVAL_CHECK`]; Ok when it is still there.
        fn wait_for_removal(&self) -> Result<(), TransportError> {
            let until = std::time::Instant::now() + REMOVAL_CHECK;
            while std::time::Instant::now() < until {
                match self.card.status2_owned() {
                    Err(e) => return Err(map_err(e, &self.name)),
                    Ok(st) if !st.status().contains(pcsc::Status::PRESENT) => {
                        return Err(TransportError::Gone(format!(
                            "{} (the key was taken off the reader)",
                            self.name
                        )));
                    }
                    Ok(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
                }
            }
            Ok(())
        }
    }

    impl SmartCard for PcscCard {
        fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
            let mut buf = vec![0u8; MAX_RESPONSE];
            let got = self
                .card
                .transmit(apdu, &mut buf)
                .map_err(|e| map_err(e, &self.name))?
                .to_vec();
            if got.is_empty() {
                // Some readers answer a card that left the field with nothing
                // at all; PC/SC notices the removal a moment later.
                self.wait_for_removal()?;
            }
            Ok(got)
        }

        fn name(&self) -> String {
            self.name.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(name: &str, card: bool) -> ReaderInfo {
        ReaderInfo {
            name: name.into(),
            card_present: card,
            atr: None,
        }
    }

    #[test]
    fn empty_selection_takes_the_reader_with_a_card() {
        let readers = [r("ACS ACR122U 00 00", false), r("Virtual PCD 00 00", true)];
        assert_eq!(
            resolve_reader(&readers, "").unwrap().name,
            "Virtual PCD 00 00"
        );
        let none = [r("A", false), r("B", false)];
        let e = resolve_reader(&none, "").unwrap_err().to_string();
        assert!(e.contains("no key is on any reader"), "{e}");
        let both = [r("A", true), r("B", true)];
        let e = resolve_reader(&both, "").unwrap_err().to_string();
        assert!(e.contains("pcsc:A") && e.contains("pcsc:B"), "{e}");
        let e = resolve_reader(&[], "").unwrap_err().to_string();
        assert!(e.contains("no NFC/smart-card reader"), "{e}");
    }

    #[test]
    fn names_match_exactly_then_by_unique_part() {
        let readers = [r("Virtual PCD 00 00", true), r("Virtual PCD 00 01", false)];
        assert_eq!(
            resolve_reader(&readers, "Virtual PCD 00 01").unwrap().name,
            "Virtual PCD 00 01"
        );
        assert_eq!(
            resolve_reader(&readers, "pcd 00 00").unwrap().name,
            "Virtual PCD 00 00"
        );
        assert!(resolve_reader(&readers, "virtual").is_err());
        assert!(resolve_reader(&readers, "yubikey").is_err());
    }
}
