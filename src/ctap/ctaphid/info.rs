//! What a device says at CTAPHID_INIT ([`InitInfo`], [`Capabilities`]),
//! progress while waiting ([`HidEvent`]) and the [`CancelHandle`] shared with
//! other threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::ctap::error::CtapError;

/// Capability flags from the INIT response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// CAPABILITY_WINK (0x01): the device can blink on CTAPHID_WINK.
    pub wink: bool,
    /// CAPABILITY_CBOR (0x04): the device speaks CTAP2 (CTAPHID_CBOR).
    pub cbor: bool,
    /// CAPABILITY_NMSG (0x08): the device does NOT implement CTAPHID_MSG (U2F).
    pub nmsg: bool,
    /// The raw flag byte.
    pub raw: u8,
}

impl Capabilities {
    /// Decodes the capability byte.
    pub fn from_bits(raw: u8) -> Self {
        Capabilities {
            wink: raw & 0x01 != 0,
            cbor: raw & 0x04 != 0,
            nmsg: raw & 0x08 != 0,
            raw,
        }
    }
}

/// What the device told us in its INIT response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InitInfo {
    /// The channel allocated to us.
    pub channel: u32,
    /// CTAPHID protocol version (2 for current devices).
    pub protocol_version: u8,
    /// Device version: (major, minor, build), vendor-defined.
    pub device_version: (u8, u8, u8),
    /// Capability flags.
    pub capabilities: Capabilities,
}

impl InitInfo {
    /// Parses the 17-byte INIT response payload (extra bytes are ignored).
    /// Returns the nonce it echoes and the information.
    pub fn parse(data: &[u8]) -> Result<([u8; 8], InitInfo), CtapError> {
        let d: &[u8; 17] = data
            .get(..17)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| {
                CtapError::malformed(
                    "CTAPHID_INIT response",
                    format!("{} bytes, expected at least 17", data.len()),
                )
            })?;
        let mut nonce = [0u8; 8];
        nonce.copy_from_slice(&d[..8]);
        let channel = u32::from_be_bytes([d[8], d[9], d[10], d[11]]);
        Ok((
            nonce,
            InitInfo {
                channel,
                protocol_version: d[12],
                device_version: (d[13], d[14], d[15]),
                capabilities: Capabilities::from_bits(d[16]),
            },
        ))
    }
}

/// Progress reported while waiting for a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HidEvent {
    /// KEEPALIVE status 1: the authenticator is working.
    Processing,
    /// KEEPALIVE status 2: the authenticator waits for a touch.
    UpNeeded,
}

/// Cancels the command running on a [`CtapHid`] from another thread.
///
/// The request is sticky: once cancelled, the running command and every
/// later one on the same [`CtapHid`] end with [`CtapError::Cancelled`]
/// (commands are not even sent) until [`CancelHandle::reset`] is called.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle(Arc<AtomicBool>);

impl CancelHandle {
    /// Requests cancellation.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Clears a previous request so new commands run again.
    pub fn reset(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_bits() {
        let c = Capabilities::from_bits(0x05);
        assert!(c.wink && c.cbor && !c.nmsg);
        let c = Capabilities::from_bits(0x08);
        assert!(!c.wink && !c.cbor && c.nmsg);
    }

    #[test]
    fn init_payload_parses_and_short_is_malformed() {
        let mut d = vec![
            1, 2, 3, 4, 5, 6, 7, 8, 0xCA, 0xFE, 0x00, 0x01, 2, 5, 4, 3, 0x05,
        ];
        let (nonce, info) = InitInfo::parse(&d).unwrap();
        assert_eq!(nonce, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(info.channel, 0xCAFE_0001);
        assert_eq!(info.protocol_version, 2);
        assert_eq!(info.device_version, (5, 4, 3));
        assert!(info.capabilities.cbor);
        d.truncate(16);
        assert!(matches!(
            InitInfo::parse(&d),
            Err(CtapError::Malformed { .. })
        ));
    }

    #[test]
    fn cancel_handle_is_shared_and_resettable() {
        let a = CancelHandle::default();
        let b = a.clone();
        assert!(!a.is_cancelled());
        b.cancel();
        assert!(a.is_cancelled());
        a.reset();
        assert!(!b.is_cancelled());
    }
}
