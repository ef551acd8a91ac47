//! Smart cards (NFC keys on a PC/SC reader) at the APDU level: the
//! [`SmartCard`] trait that the NFC client in `ctap::nfc` drives, whatever
//! carries the APDUs (PC/SC in [`super::pcsc`], a scripted card in tests).
//!
//! Like the rest of this layer it knows nothing about FIDO: it moves whole
//! command and response APDUs.

use super::TransportError;

/// Largest response APDU accepted from a card in one exchange: 65 536 data
/// bytes (extended length) plus the two status bytes.
pub const MAX_RESPONSE: usize = 65_536 + 2;

/// A card that answers command APDUs.
pub trait SmartCard: Send {
    /// Sends one command APDU and returns the response APDU (data followed
    /// by the status bytes SW1 SW2). A card taken off the reader is
    /// [`TransportError::Gone`].
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError>;
    /// The device selection string (`pcsc:READER`).
    fn name(&self) -> String;
}

impl<T: SmartCard + ?Sized> SmartCard for Box<T> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(apdu)
    }
    fn name(&self) -> String {
        (**self).name()
    }
}
