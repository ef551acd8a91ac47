//! FIDO keys over NFC (ISO 7816-4 APDUs through a PC/SC reader): APDU
//! framing and the FIDO applet's commands ([`apdu`]), and the adapter that
//! presents an NFC key as a CTAPHID [`crate::transport::Transport`]
//! ([`bridge`]), so probes run unchanged over NFC.

pub mod apdu;
pub mod bridge;

pub use apdu::{ApduLink, AppletVersion, Length};
pub use bridge::{AppletInfo, NfcTransport, identify};
