//! Key care: the only operations in this program that change a key, plus the
//! read-only credential inventory. Setting a first PIN (ClientPIN setPIN),
//! changing it (changePIN), a factory reset (authenticatorReset) and listing
//! discoverable credentials with authenticatorCredentialManagement (metadata,
//! relying parties, credentials; nothing is ever deleted here).
//!
//! Every flow reads the key's state first and refuses what it must not do
//! (a set on a key that already has a PIN, the last PIN attempt without the
//! caller's explicit consent, the same PIN twice). No prompts and no printing
//! here: callers collect PINs and confirmations and decide what is shown.
//! PINs live only in zeroized memory and never appear in errors or `Debug`.

pub mod cred_mgmt;
pub mod error;
pub mod inventory;
pub mod new_pin;
pub mod pin_ops;
pub mod reset;
pub mod state;
pub mod token;

use crate::ctap::ctaphid::{CtapHid, HidEvent};
use crate::ctap::error::CtapError;
use crate::transport::Transport;

pub use error::KeycareError;
pub use inventory::{CredentialInventory, RegisteredUser, RelyingParty, registrations};
pub use new_pin::{NewPin, NewPinError};
pub use pin_ops::{change_pin, set_pin};
pub use reset::{ResetOutcome, reset};
pub use state::{KeyState, PinSafety, read_state};
pub use token::{Token, pin_token};

/// Relying party id under which Microsoft Entra ID (UTokyo Account) keeps
/// its discoverable credential.
pub const ENTRA_RP_ID: &str = "login.microsoft.com";

/// CTAP2 command bytes used here beyond the common ones.
pub mod cmd {
    /// authenticatorCredentialManagement (CTAP 2.1).
    pub const CREDENTIAL_MANAGEMENT: u8 = 0x0A;
    /// The same command on keys that implement the 2.1 preview
    /// (`credentialMgmtPreview` option).
    pub const CREDENTIAL_MANAGEMENT_PREVIEW: u8 = 0x41;
}

/// A channel that carries CTAP2 commands (command byte + CBOR parameters)
/// and returns the response body without its status byte; a non-zero status
/// is [`CtapError::Status`]. [`CtapHid`] is the real one; tests script others.
pub trait Ctap2Channel {
    /// Sends one CTAP2 command; `on_event` sees keep-alives (touch prompts).
    fn ctap2(
        &mut self,
        command: u8,
        params: &[u8],
        on_event: &mut dyn FnMut(HidEvent),
    ) -> Result<Vec<u8>, CtapError>;

    /// Whether the key speaks CTAP2 at all (CTAPHID capability CBOR).
    fn speaks_ctap2(&self) -> bool;
}

impl<T: Transport> Ctap2Channel for CtapHid<T> {
    fn ctap2(
        &mut self,
        command: u8,
        params: &[u8],
        on_event: &mut dyn FnMut(HidEvent),
    ) -> Result<Vec<u8>, CtapError> {
        self.cbor(command, params, on_event)
    }

    fn speaks_ctap2(&self) -> bool {
        self.init_info().capabilities.cbor
    }
}
