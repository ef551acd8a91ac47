//! CTAPHID, host side: channel allocation (INIT), sending requests split
//! into 64-byte reports, reassembling responses, keep-alives, ERROR frames
//! and cancellation. Works over any [`Transport`].
//!
//! The framing itself lives in [`packet`] as pure code; this module adds
//! the waiting: every wait is bounded by [`HidOptions`] and checked against
//! the [`CancelHandle`] in short slices.

pub mod packet;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::RngCore;
use serde::Serialize;

use crate::ctap::error::CtapError;
use crate::ctap::status::{CtapStatus, HidErrorCode};
use crate::transport::{Report, Transport, TransportError};

pub use packet::{BROADCAST_CID, MAX_MESSAGE, Message, Reassembler, Step, cmd, fragment};

/// How long to wait for what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HidOptions {
    /// Longest wait for a complete response after a request was sent,
    /// keep-alives included (a key waiting for a touch keeps sending
    /// KEEPALIVE; the wait ends at this limit). Default 30 s.
    pub response_timeout: Duration,
    /// Longest gap between the packets of one response. Default 1.5 s.
    pub packet_timeout: Duration,
    /// Longest wait for the answer to CTAPHID_INIT. Default 3 s.
    pub init_timeout: Duration,
    /// Largest response accepted, in bytes (capped at [`MAX_MESSAGE`], the
    /// default: 7609 = 57 + 128 × 59).
    pub max_message: usize,
}

impl Default for HidOptions {
    fn default() -> Self {
        HidOptions {
            response_timeout: Duration::from_secs(30),
            packet_timeout: Duration::from_millis(1500),
            init_timeout: Duration::from_secs(3),
            max_message: MAX_MESSAGE,
        }
    }
}

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

/// Length of one wait slice, so cancellation is noticed quickly.
const SLICE: Duration = Duration::from_millis(50);
/// INIT responses carrying another nonce that are skipped before giving up.
const MAX_NONCE_SKIPS: usize = 16;
/// Reports for other channels tolerated while waiting for one response.
const MAX_IGNORED: usize = 1024;
/// Reports drained (and dropped) before a request after an aborted exchange.
const MAX_DRAIN: usize = 256;
/// How long to wait for the device to confirm a CTAPHID_CANCEL.
const CANCEL_CONFIRM: Duration = Duration::from_millis(1000);

/// A CTAPHID connection to one authenticator on its own channel.
pub struct CtapHid<T: Transport> {
    transport: T,
    options: HidOptions,
    info: InitInfo,
    cancel: CancelHandle,
    /// An exchange ended early: late reports of it may still arrive.
    dirty: bool,
}

impl<T: Transport> CtapHid<T> {
    /// Allocates a channel with CTAPHID_INIT on the broadcast channel, using
    /// a random 8-byte nonce. INIT responses with another nonce (meant for
    /// another program) are skipped, up to a bound.
    pub fn open(transport: T, options: HidOptions) -> Result<Self, CtapError> {
        let mut me = CtapHid {
            transport,
            options,
            info: InitInfo {
                channel: BROADCAST_CID,
                protocol_version: 0,
                device_version: (0, 0, 0),
                capabilities: Capabilities::from_bits(0),
            },
            cancel: CancelHandle::default(),
            dirty: false,
        };
        me.info = me.init()?;
        Ok(me)
    }

    fn init(&mut self) -> Result<InitInfo, CtapError> {
        let mut nonce = [0u8; 8];
        rand::thread_rng().fill_bytes(&mut nonce);
        self.send_message(BROADCAST_CID, cmd::INIT, &nonce)?;
        let deadline = deadline_after(self.options.init_timeout);
        let mut skipped = 0usize;
        loop {
            let msg = self.receive(BROADCAST_CID, deadline, self.options.init_timeout)?;
            match msg.cmd {
                cmd::INIT => {
                    let (echo, info) = InitInfo::parse(&msg.data)?;
                    if echo != nonce {
                        skipped += 1;
                        if skipped > MAX_NONCE_SKIPS {
                            return Err(CtapError::NonceMismatch);
                        }
                        continue;
                    }
                    if info.channel == BROADCAST_CID || info.channel == 0 {
                        return Err(CtapError::malformed(
                            "CTAPHID_INIT response",
                            format!("reserved channel {:08X} allocated", info.channel),
                        ));
                    }
                    return Ok(info);
                }
                cmd::ERROR => return Err(hid_error(&msg.data)),
                cmd::KEEPALIVE => continue,
                other => {
                    return Err(CtapError::UnexpectedCommand {
                        expected: cmd::INIT,
                        got: other,
                    });
                }
            }
        }
    }

    /// What the device reported at INIT (channel, versions, capabilities).
    pub fn init_info(&self) -> &InitInfo {
        &self.info
    }

    /// The options in force.
    pub fn options(&self) -> &HidOptions {
        &self.options
    }

    /// A handle that cancels the running command from another thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// Uses `handle` (for example one the caller already shares with a UI
    /// thread or a Ctrl-C handler) instead of this connection's own.
    pub fn set_cancel_handle(&mut self, handle: CancelHandle) {
        self.cancel = handle;
    }

    /// The transport's name (`hid:…`, `udp:…`, `sim:…`).
    pub fn name(&self) -> String {
        self.transport.name()
    }

    /// Gives the transport back.
    pub fn into_transport(self) -> T {
        self.transport
    }

    /// Sends a CTAP2 command (`cmd` byte followed by CBOR `params`) with
    /// CTAPHID_CBOR. Returns the response without its status byte; a non-zero
    /// status becomes [`CtapError::Status`]. [`CtapError::NotSupported`] if the
    /// device did not announce CBOR at INIT.
    pub fn cbor(
        &mut self,
        cmd: u8,
        params: &[u8],
        on_event: &mut dyn FnMut(HidEvent),
    ) -> Result<Vec<u8>, CtapError> {
        if !self.info.capabilities.cbor {
            return Err(CtapError::NotSupported("CTAP2 (CTAPHID_CBOR)"));
        }
        let mut req = Vec::with_capacity(1 + params.len());
        req.push(cmd);
        req.extend_from_slice(params);
        let mut resp = self.transact(cmd::CBOR, &req, on_event)?;
        let Some(&status) = resp.first() else {
            return Err(CtapError::malformed(
                "CTAP2 response",
                "empty (no status byte)",
            ));
        };
        let status = CtapStatus::from_u8(status);
        if !status.is_ok() {
            return Err(CtapError::Status(status));
        }
        resp.remove(0);
        Ok(resp)
    }

    /// Sends a U2F (CTAP1) APDU with CTAPHID_MSG; returns the raw response
    /// including the two status-word bytes. [`CtapError::NotSupported`] if
    /// the device announced NMSG.
    pub fn msg(
        &mut self,
        apdu: &[u8],
        on_event: &mut dyn FnMut(HidEvent),
    ) -> Result<Vec<u8>, CtapError> {
        if self.info.capabilities.nmsg {
            return Err(CtapError::NotSupported("U2F (CTAPHID_MSG)"));
        }
        self.transact(cmd::MSG, apdu, &mut *on_event)
    }

    /// CTAPHID_PING: sends `data` and checks that the same bytes come back.
    pub fn ping(&mut self, data: &[u8]) -> Result<(), CtapError> {
        let echo = self.transact(cmd::PING, data, &mut |_| {})?;
        if echo != data {
            return Err(CtapError::malformed(
                "CTAPHID_PING response",
                format!(
                    "echo differs ({} bytes sent, {} received)",
                    data.len(),
                    echo.len()
                ),
            ));
        }
        Ok(())
    }

    /// CTAPHID_WINK: asks the device to blink. [`CtapError::NotSupported`]
    /// if it did not announce the capability.
    pub fn wink(&mut self) -> Result<(), CtapError> {
        if !self.info.capabilities.wink {
            return Err(CtapError::NotSupported("CTAPHID_WINK"));
        }
        self.transact(cmd::WINK, &[], &mut |_| {})?;
        Ok(())
    }

    /// Sends any CTAPHID command on our channel and returns the response
    /// payload. Handles KEEPALIVE (reported through `on_event`), ERROR
    /// frames ([`CtapError::Hid`]) and cancellation.
    pub fn transact(
        &mut self,
        command: u8,
        data: &[u8],
        on_event: &mut dyn FnMut(HidEvent),
    ) -> Result<Vec<u8>, CtapError> {
        if self.cancel.is_cancelled() {
            return Err(CtapError::Cancelled);
        }
        if self.dirty {
            self.drain();
        }
        let result = self.exchange(command, data, on_event);
        if result.is_err() {
            self.dirty = true;
        }
        result
    }

    fn exchange(
        &mut self,
        command: u8,
        data: &[u8],
        on_event: &mut dyn FnMut(HidEvent),
    ) -> Result<Vec<u8>, CtapError> {
        let channel = self.info.channel;
        self.send_message(channel, command, data)?;
        let deadline = deadline_after(self.options.response_timeout);
        loop {
            let msg = match self.receive(channel, deadline, self.options.response_timeout) {
                Err(CtapError::Cancelled) => return Err(self.finish_cancel(channel)),
                other => other?,
            };
            match msg.cmd {
                c if c == command => return Ok(msg.data),
                cmd::KEEPALIVE => {
                    match msg.data.first() {
                        Some(1) => on_event(HidEvent::Processing),
                        Some(2) => on_event(HidEvent::UpNeeded),
                        _ => {}
                    }
                    continue;
                }
                cmd::ERROR => return Err(hid_error(&msg.data)),
                other => {
                    return Err(CtapError::UnexpectedCommand {
                        expected: command,
                        got: other,
                    });
                }
            }
        }
    }

    /// Sends CTAPHID_CANCEL and waits briefly for the device to end the
    /// request (CTAP2_ERR_KEEPALIVE_CANCEL or an ERROR frame). Whatever
    /// happens, the result is [`CtapError::Cancelled`], unless the device
    /// disappeared.
    fn finish_cancel(&mut self, channel: u32) -> CtapError {
        if let Err(e) = self.send_message(channel, cmd::CANCEL, &[]) {
            return match e {
                CtapError::Transport(TransportError::Gone(_)) => e,
                _ => CtapError::Cancelled,
            };
        }
        let wait = CANCEL_CONFIRM.min(self.options.response_timeout);
        let deadline = deadline_after(wait);
        for _ in 0..MAX_DRAIN {
            match self.receive_inner(channel, deadline, wait, false) {
                Ok(m) if m.cmd == cmd::KEEPALIVE => continue,
                Err(e @ CtapError::Transport(TransportError::Gone(_))) => return e,
                // The final answer (normally CTAP2_ERR_KEEPALIVE_CANCEL), an
                // ERROR frame, garbage or silence: the request is over.
                _ => break,
            }
        }
        CtapError::Cancelled
    }

    fn send_message(&mut self, channel: u32, command: u8, data: &[u8]) -> Result<(), CtapError> {
        for report in fragment(channel, command, data)? {
            self.transport.send(&report)?;
        }
        Ok(())
    }

    fn receive(
        &mut self,
        channel: u32,
        deadline: Instant,
        limit: Duration,
    ) -> Result<Message, CtapError> {
        self.receive_inner(channel, deadline, limit, true)
    }

    /// Waits for one complete message on `channel` until `deadline`, with at
    /// most `packet_timeout` between the packets of one message. `limit` is
    /// the overall timeout reported when `deadline` passes.
    fn receive_inner(
        &mut self,
        channel: u32,
        deadline: Instant,
        limit: Duration,
        cancellable: bool,
    ) -> Result<Message, CtapError> {
        let mut r = Reassembler::new(channel, self.options.max_message);
        let mut packet_deadline: Option<Instant> = None;
        loop {
            if cancellable && self.cancel.is_cancelled() {
                return Err(CtapError::Cancelled);
            }
            let now = Instant::now();
            let until = match packet_deadline {
                Some(p) => p.min(deadline),
                None => deadline,
            };
            if now >= until {
                let waited = match packet_deadline {
                    Some(p) if p < deadline => self.options.packet_timeout,
                    _ => limit,
                };
                return Err(TransportError::Timeout(waited).into());
            }
            let slice = (until - now).min(SLICE).max(Duration::from_millis(1));
            let report: Report = match self.transport.recv(slice) {
                Ok(rep) => rep,
                Err(TransportError::Timeout(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            match r.push_step(&report)? {
                Step::Complete(m) => return Ok(m),
                Step::Partial => {
                    packet_deadline = Some(deadline_after(self.options.packet_timeout));
                }
                Step::Ignored => {
                    if r.ignored() > MAX_IGNORED {
                        return Err(CtapError::BadChannel {
                            expected: channel,
                            got: r.last_foreign_channel().unwrap_or(channel),
                        });
                    }
                }
            }
        }
    }

    /// Drops reports left over from an exchange that ended early.
    fn drain(&mut self) {
        for _ in 0..MAX_DRAIN {
            if self.transport.recv(Duration::from_millis(1)).is_err() {
                break;
            }
        }
        self.dirty = false;
    }
}

/// `now + d`, saturating far in the future instead of overflowing.
fn deadline_after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .or_else(|| now.checked_add(Duration::from_secs(86_400 * 365)))
        .unwrap_or(now)
}

fn hid_error(data: &[u8]) -> CtapError {
    CtapError::Hid(HidErrorCode::from_u8(data.first().copied().unwrap_or(0x7F)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_default_to_the_documented_values() {
        let o = HidOptions::default();
        assert_eq!(o.response_timeout, Duration::from_secs(30));
        assert_eq!(o.packet_timeout, Duration::from_millis(1500));
        assert_eq!(o.max_message, 7609);
    }

    #[test]
    fn huge_timeouts_do_not_overflow() {
        let now = Instant::now();
        assert!(deadline_after(Duration::MAX) > now);
        assert!(deadline_after(Duration::ZERO) >= now);
    }

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
