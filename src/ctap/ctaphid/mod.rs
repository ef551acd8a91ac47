//! CTAPHID, host side: channel allocation (INIT), sending requests split
//! into 64-byte reports, reassembling responses, keep-alives, ERROR frames
//! and cancellation. Works over any [`Transport`].
//!
//! The framing itself lives in [`packet`] as pure code; this module adds
//! the waiting, the way a careful platform does it: every wait is bounded
//! by [`HidOptions`] and follows the key (a quick answer for commands
//! without crypto or user action, a few seconds for crypto, up to the touch
//! timeout while the key sends KEEPALIVE), a busy channel is retried with a
//! short backoff, and every give-up (deadline, silence, [`CancelHandle`])
//! sends CTAPHID_CANCEL and drains the channel so the key stops blinking
//! and a later command does not read a stale answer.

mod info;
mod options;
pub mod packet;

use std::time::{Duration, Instant};

use rand::RngCore;

use crate::ctap::ctap2::Command;
use crate::ctap::error::CtapError;
use crate::ctap::status::{CtapStatus, HidErrorCode};
use crate::transport::{Report, Transport, TransportError, deadline_after};

pub use info::{CancelHandle, Capabilities, HidEvent, InitInfo};
pub use options::{HidOptions, WaitClass};
pub use packet::{BROADCAST_CID, MAX_MESSAGE, Message, Reassembler, Step, cmd, fragment};

/// Length of one wait slice, so cancellation is noticed quickly.
const SLICE: Duration = Duration::from_millis(50);
/// INIT responses carrying another nonce that are skipped before giving up.
const MAX_NONCE_SKIPS: usize = 16;
/// Reports for other channels tolerated while waiting for one response.
const MAX_IGNORED: usize = 1024;
/// Reports drained (and dropped) before a request after an aborted exchange.
const MAX_DRAIN: usize = 256;
/// How long to wait for a live device (one that was sending KEEPALIVE) to
/// confirm a CTAPHID_CANCEL.
const CANCEL_CONFIRM: Duration = Duration::from_millis(500);
/// How long to drain after giving up on a silent device.
const SILENT_DRAIN: Duration = Duration::from_millis(30);
/// First backoff after ERR_CHANNEL_BUSY (doubles up to [`BUSY_BACKOFF_MAX`]).
const BUSY_BACKOFF: Duration = Duration::from_millis(100);
/// Longest backoff between busy retries.
const BUSY_BACKOFF_MAX: Duration = Duration::from_millis(400);
/// How long a busy channel is retried (within the command's own limit).
const BUSY_WINDOW: Duration = Duration::from_secs(3);

/// Why an exchange gave up (decides whether and how to send CTAPHID_CANCEL).
enum GiveUp {
    /// The key ended the request itself (ERROR frame, another command).
    Ended(CtapError),
    /// The key was silent: drain briefly.
    Silent(CtapError),
    /// The key was alive (keep-alives) or we cancelled: wait for its answer.
    Live(CtapError),
}

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
    /// another program) are skipped, up to a bound. `cancel` (shared with a
    /// UI thread or a Ctrl-C handler) ends INIT and every later command.
    pub fn open(
        transport: T,
        options: HidOptions,
        cancel: CancelHandle,
    ) -> Result<Self, CtapError> {
        let mut me = CtapHid {
            transport,
            options,
            info: InitInfo {
                channel: BROADCAST_CID,
                protocol_version: 0,
                device_version: (0, 0, 0),
                capabilities: Capabilities::from_bits(0),
            },
            cancel,
            dirty: false,
        };
        if me.cancel.is_cancelled() {
            return Err(CtapError::Cancelled);
        }
        // A key busy with another program's channel answers ERR_CHANNEL_BUSY:
        // ask again after a short backoff, for a bounded time.
        let busy_until = deadline_after(BUSY_WINDOW);
        let mut backoff = BUSY_BACKOFF;
        loop {
            match me.init() {
                Err(CtapError::Hid(HidErrorCode::ChannelBusy))
                    if Instant::now() + backoff < busy_until =>
                {
                    if me.sleep_cancellable(backoff) {
                        return Err(CtapError::Cancelled);
                    }
                    backoff = (backoff * 2).min(BUSY_BACKOFF_MAX);
                }
                other => {
                    me.info = other?;
                    return Ok(me);
                }
            }
        }
    }

    fn init(&mut self) -> Result<InitInfo, CtapError> {
        let mut nonce = [0u8; 8];
        rand::thread_rng().fill_bytes(&mut nonce);
        self.send_message(BROADCAST_CID, cmd::INIT, &nonce)?;
        let limit = self.options.init_timeout.min(self.options.response_timeout);
        let deadline = deadline_after(limit);
        let mut skipped = 0usize;
        loop {
            let msg = self
                .receive(BROADCAST_CID, deadline, true)
                .map_err(|e| silence_as(e, CtapError::NoAnswer(limit)))?;
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
    /// thread or a Ctrl-C handler) instead of the one given at open.
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
    /// CTAPHID_CBOR, waiting as `wait` says. Returns the response without its
    /// status byte; a non-zero status becomes [`CtapError::Status`], except
    /// that a KEEPALIVE_CANCEL or OPERATION_DENIED after our own cancel reads
    /// [`CtapError::Cancelled`]. [`CtapError::NotSupported`] if the device
    /// did not announce CBOR at INIT.
    pub fn cbor_with(
        &mut self,
        cmd: u8,
        params: &[u8],
        wait: WaitClass,
        on_event: &mut dyn FnMut(HidEvent),
    ) -> Result<Vec<u8>, CtapError> {
        if !self.info.capabilities.cbor {
            return Err(CtapError::NotSupported("CTAP2 (CTAPHID_CBOR)"));
        }
        let mut req = Vec::with_capacity(1 + params.len());
        req.push(cmd);
        req.extend_from_slice(params);
        let mut resp = self.transact_with(cmd::CBOR, &req, wait, on_event)?;
        let Some(&status) = resp.first() else {
            return Err(CtapError::malformed(
                "CTAP2 response",
                "empty (no status byte)",
            ));
        };
        let status = CtapStatus::from_u8(status);
        if !status.is_ok() {
            let ours = self.cancel.is_cancelled();
            return Err(match status {
                CtapStatus::KeepaliveCancel => CtapError::Cancelled,
                CtapStatus::OperationDenied if ours => CtapError::Cancelled,
                s => CtapError::Status(s),
            });
        }
        resp.remove(0);
        Ok(resp)
    }

    /// [`CtapHid::cbor_with`], waiting as the command byte needs: GetInfo
    /// quickly, everything else as a [`WaitClass::Slow`] command.
    pub fn cbor(
        &mut self,
        cmd: u8,
        params: &[u8],
        on_event: &mut dyn FnMut(HidEvent),
    ) -> Result<Vec<u8>, CtapError> {
        let wait = if cmd == crate::ctap::ctap2::cmd::GET_INFO {
            WaitClass::Quick
        } else {
            WaitClass::Slow
        };
        self.cbor_with(cmd, params, wait, on_event)
    }

    /// Sends a typed CTAP2 [`Command`] and decodes its answer; the command
    /// decides how long the key may take.
    pub fn call<C: Command>(
        &mut self,
        request: &C,
        on_event: &mut dyn FnMut(HidEvent),
    ) -> Result<C::Response, CtapError> {
        let wait = if C::QUICK {
            WaitClass::Quick
        } else {
            WaitClass::Slow
        };
        let body = self.cbor_with(C::CMD, &request.encode(), wait, on_event)?;
        Ok(C::decode(&body)?)
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
        self.transact_with(cmd::MSG, apdu, WaitClass::Slow, &mut *on_event)
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

    /// Sends any CTAPHID command on our channel as a [`WaitClass::Quick`]
    /// command and returns the response payload. See [`CtapHid::transact_with`].
    pub fn transact(
        &mut self,
        command: u8,
        data: &[u8],
        on_event: &mut dyn FnMut(HidEvent),
    ) -> Result<Vec<u8>, CtapError> {
        self.transact_with(command, data, WaitClass::Quick, on_event)
    }

    /// Sends any CTAPHID command on our channel and returns the response
    /// payload. Handles KEEPALIVE (reported through `on_event`), ERROR frames
    /// ([`CtapError::Hid`]; ERR_CHANNEL_BUSY is retried with a short backoff
    /// first) and cancellation. Silence ends as [`CtapError::NoAnswer`] (no
    /// packet at all) or [`CtapError::StoppedAnswering`] (keep-alives or a
    /// partial answer, then nothing); keep-alives past
    /// [`HidOptions::response_timeout`] end as
    /// [`CtapError::UserPresenceTimeout`] when the key asked for a touch,
    /// else as [`CtapError::NoAnswer`]. Every give-up sends CTAPHID_CANCEL.
    pub fn transact_with(
        &mut self,
        command: u8,
        data: &[u8],
        wait: WaitClass,
        on_event: &mut dyn FnMut(HidEvent),
    ) -> Result<Vec<u8>, CtapError> {
        if self.cancel.is_cancelled() {
            return Err(CtapError::Cancelled);
        }
        if self.dirty {
            self.drain(Duration::from_millis(1));
        }
        let busy_until = deadline_after(BUSY_WINDOW.min(self.options.response_timeout));
        let mut backoff = BUSY_BACKOFF;
        loop {
            let result = self.exchange(command, data, wait, on_event);
            match result {
                Err(CtapError::Hid(HidErrorCode::ChannelBusy))
                    if Instant::now() + backoff < busy_until =>
                {
                    if self.sleep_cancellable(backoff) {
                        return Err(CtapError::Cancelled);
                    }
                    backoff = (backoff * 2).min(BUSY_BACKOFF_MAX);
                }
                Ok(v) => return Ok(v),
                Err(e) => {
                    self.dirty = true;
                    return Err(e);
                }
            }
        }
    }

    /// Sleeps `d` in slices; true if cancellation was requested meanwhile.
    fn sleep_cancellable(&self, d: Duration) -> bool {
        let until = deadline_after(d);
        while Instant::now() < until {
            if self.cancel.is_cancelled() {
                return true;
            }
            std::thread::sleep(SLICE.min(until.saturating_duration_since(Instant::now())));
        }
        self.cancel.is_cancelled()
    }

    fn exchange(
        &mut self,
        command: u8,
        data: &[u8],
        wait: WaitClass,
        on_event: &mut dyn FnMut(HidEvent),
    ) -> Result<Vec<u8>, CtapError> {
        let channel = self.info.channel;
        self.send_message(channel, command, data)?;
        match self.await_answer(channel, command, wait, on_event) {
            Ok(v) => Ok(v),
            Err(GiveUp::Silent(e)) => {
                // Tell the key to stop, then drop whatever it still sends.
                let _ = self.send_message(channel, cmd::CANCEL, &[]);
                self.drain(SILENT_DRAIN);
                Err(e)
            }
            Err(GiveUp::Live(e)) => Err(self.finish_cancel(channel, e)),
            Err(GiveUp::Ended(e)) => Err(e),
        }
    }

    /// Waits for the answer to `command`, following the key's keep-alives.
    fn await_answer(
        &mut self,
        channel: u32,
        command: u8,
        wait: WaitClass,
        on_event: &mut dyn FnMut(HidEvent),
    ) -> Result<Vec<u8>, GiveUp> {
        let o = self.options;
        let total = o.response_timeout;
        let first = match wait {
            WaitClass::Quick => o.init_timeout,
            WaitClass::Slow => o.command_timeout,
        }
        .min(total);
        let end = deadline_after(total);
        let mut next = deadline_after(first);
        let mut alive = false;
        let mut touch = false;
        loop {
            let msg = match self.receive(channel, next.min(end), true) {
                Ok(m) => m,
                Err(CtapError::Cancelled) => return Err(GiveUp::Live(CtapError::Cancelled)),
                Err(CtapError::Transport(TransportError::Timeout(_))) => {
                    let now = Instant::now();
                    if now >= end && alive {
                        return Err(GiveUp::Live(if touch {
                            CtapError::UserPresenceTimeout(total)
                        } else {
                            CtapError::NoAnswer(total)
                        }));
                    }
                    return Err(GiveUp::Silent(if alive {
                        CtapError::StoppedAnswering(o.keepalive_gap)
                    } else {
                        CtapError::NoAnswer(first)
                    }));
                }
                Err(e @ CtapError::StoppedAnswering(_)) => return Err(GiveUp::Silent(e)),
                Err(e) => return Err(GiveUp::Silent(e)),
            };
            match msg.cmd {
                c if c == command => return Ok(msg.data),
                cmd::KEEPALIVE => {
                    alive = true;
                    match msg.data.first() {
                        Some(1) => on_event(HidEvent::Processing),
                        Some(2) => {
                            touch = true;
                            on_event(HidEvent::UpNeeded);
                        }
                        _ => {}
                    }
                    next = deadline_after(o.keepalive_gap);
                }
                cmd::ERROR => return Err(GiveUp::Ended(hid_error(&msg.data))),
                other => {
                    return Err(GiveUp::Ended(CtapError::UnexpectedCommand {
                        expected: command,
                        got: other,
                    }));
                }
            }
        }
    }

    /// Sends CTAPHID_CANCEL and waits briefly for the device to end the
    /// request (CTAP2_ERR_KEEPALIVE_CANCEL or an ERROR frame). Returns
    /// `reason`, unless the device disappeared.
    fn finish_cancel(&mut self, channel: u32, reason: CtapError) -> CtapError {
        if let Err(e) = self.send_message(channel, cmd::CANCEL, &[]) {
            return match e {
                CtapError::Transport(TransportError::Gone(_)) => e,
                _ => reason,
            };
        }
        let wait = CANCEL_CONFIRM.min(self.options.response_timeout);
        let deadline = deadline_after(wait);
        for _ in 0..MAX_DRAIN {
            match self.receive(channel, deadline, false) {
                Ok(m) if m.cmd == cmd::KEEPALIVE => continue,
                Err(e @ CtapError::Transport(TransportError::Gone(_))) => return e,
                // The final answer (normally CTAP2_ERR_KEEPALIVE_CANCEL), an
                // ERROR frame, garbage or silence: the request is over.
                _ => break,
            }
        }
        reason
    }

    fn send_message(&mut self, channel: u32, command: u8, data: &[u8]) -> Result<(), CtapError> {
        for report in fragment(channel, command, data)? {
            self.transport.send(&report)?;
        }
        Ok(())
    }

    /// Waits for one complete message on `channel` until `deadline`, with at
    /// most `packet_timeout` between the packets of one message (a stall
    /// inside a message is [`CtapError::StoppedAnswering`]). Silence until
    /// `deadline` is a [`TransportError::Timeout`].
    fn receive(
        &mut self,
        channel: u32,
        deadline: Instant,
        cancellable: bool,
    ) -> Result<Message, CtapError> {
        let mut r = Reassembler::new(channel, self.options.max_message);
        let mut packet_deadline: Option<Instant> = None;
        let start = Instant::now();
        loop {
            if cancellable && self.cancel.is_cancelled() {
                return Err(CtapError::Cancelled);
            }
            let now = Instant::now();
            if let Some(p) = packet_deadline
                && now >= p
            {
                return Err(CtapError::StoppedAnswering(self.options.packet_timeout));
            }
            let until = packet_deadline.unwrap_or(deadline);
            if now >= until {
                return Err(TransportError::Timeout(now - start).into());
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

    /// Drops reports left over from an exchange that ended early, waiting at
    /// most `wait` for each.
    fn drain(&mut self, wait: Duration) {
        for _ in 0..MAX_DRAIN {
            if self.transport.recv(wait).is_err() {
                break;
            }
        }
        self.dirty = false;
    }
}

/// A plain silence (transport timeout) becomes `as_this`; other errors stay.
fn silence_as(e: CtapError, as_this: CtapError) -> CtapError {
    match e {
        CtapError::Transport(TransportError::Timeout(_)) => as_this,
        other => other,
    }
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
    fn quick_commands_give_up_within_one_second_by_default() {
        let o = HidOptions::default();
        assert!(o.init_timeout < Duration::from_secs(1));
        assert!(o.keepalive_gap + SILENT_DRAIN < Duration::from_millis(1500));
        assert!(o.command_timeout >= Duration::from_secs(2));
    }
}
