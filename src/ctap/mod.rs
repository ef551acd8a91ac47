//! The FIDO client: CTAPHID framing, CTAP2 and CTAP1/U2F commands, relying-party
//! style verification, and the probes the diagnosis and the UI run.
//! No UI here, and nothing is printed.

pub mod ctap2;
pub mod ctaphid;
pub mod error;
pub mod keycare;
pub mod nfc;
pub mod probe;
pub mod status;
pub mod u2f;
pub mod verify;

pub use error::CtapError;
