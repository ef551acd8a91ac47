//! fido-doctor: a guide, live probes and a diagnosis for FIDO2 security keys
//! used with UTokyo Account (Microsoft Entra ID) multi-factor sign-in.
//!
//! Layers, each depending only on those after it:
//! [`tui`] → [`diagnose`] → [`ctap`] → [`transport`].
//! [`sim`] is a software authenticator that plugs in below [`transport`];
//! [`device`] turns a device selection string into a live connection;
//! [`content`] loads the guide and advice texts.

pub mod content;
pub mod ctap;
pub mod device;
pub mod diagnose;
pub mod sim;
pub mod transport;
pub mod tui;
