//! The command implementations behind [`crate::cli`]; they decide what is
//! printed, the library only returns data.

pub mod diagnose;
pub mod guide;
pub mod keycare;
pub mod keys;
pub mod nfc;
pub mod pin;
pub mod reset_key;
pub mod simulate;
pub mod webauthn;
