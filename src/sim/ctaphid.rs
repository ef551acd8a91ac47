//! CTAPHID on the device side as a pure state machine: 64-byte reports in,
//! reports out, time passed in by the caller. Owns channel allocation,
//! message reassembly (one bounded message at a time), keepalives while
//! waiting for a touch, CANCEL, and the CTAPHID error answers.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::transport::{REPORT_LEN, Report};

use super::SimError;
use super::ctap2::{self, Authenticator, Deferred, MAX_MSG_SIZE, Step};
use super::presence::{Never, Presence, PresenceState, Refuse};
use super::scenario::{Behaviour, CAP_CBOR, CAP_NMSG, CAP_WINK, PresenceRule, Scenario};
use super::status::*;

/// The broadcast channel id (used only for INIT).
pub const BROADCAST: u32 = 0xFFFF_FFFF;
/// Interval between keepalives while waiting.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_millis(100);
/// How long the device waits for the next continuation packet.
pub const MSG_TIMEOUT: Duration = Duration::from_millis(500);
/// How often a runner should call [`Device::tick`] while the device is waiting.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// Most channels remembered at once (oldest are forgotten first).
pub const MAX_CHANNELS: usize = 32;
/// CTAPHID protocol version reported by INIT.
pub const PROTOCOL_VERSION: u8 = 2;
/// Device version (major, minor, build) reported by INIT.
pub const DEVICE_VERSION: [u8; 3] = [1, 0, 0];

const INIT_DATA: usize = REPORT_LEN - 7;
const CONT_DATA: usize = REPORT_LEN - 5;
const MAX_FRAMED: usize = INIT_DATA + 128 * CONT_DATA;

/// CTAPHID command bytes (with the init-packet bit set).
pub mod cmd {
    /// Echo.
    pub const PING: u8 = 0x81;
    /// U2F APDU.
    pub const MSG: u8 = 0x83;
    /// Lock the device to a channel (not supported here).
    pub const LOCK: u8 = 0x84;
    /// Allocate a channel.
    pub const INIT: u8 = 0x86;
    /// Blink.
    pub const WINK: u8 = 0x88;
    /// CTAP2 CBOR request.
    pub const CBOR: u8 = 0x90;
    /// Abort the pending request.
    pub const CANCEL: u8 = 0x91;
    /// Still working / waiting for a touch.
    pub const KEEPALIVE: u8 = 0xBB;
    /// Error answer.
    pub const ERROR: u8 = 0xBF;
}

/// Keepalive status: processing.
pub const KEEPALIVE_PROCESSING: u8 = 1;
/// Keepalive status: user presence needed.
pub const KEEPALIVE_UP_NEEDED: u8 = 2;

struct Assembly {
    cid: u32,
    cmd: u8,
    total: usize,
    buf: Vec<u8>,
    seq: u8,
    last: Instant,
}

struct Waiting {
    cid: u32,
    work: Deferred,
    started: Instant,
    last_keepalive: Option<Instant>,
}

/// One simulated authenticator at the report level.
pub struct Device {
    scenario: Scenario,
    auth: Authenticator,
    presence: Box<dyn Presence>,
    channels: VecDeque<u32>,
    next_cid: u32,
    assembly: Option<Assembly>,
    waiting: Option<Waiting>,
    u2f_waiting: bool,
    gone: bool,
}

/// Splits a message into CTAPHID reports.
pub fn frame(cid: u32, command: u8, data: &[u8]) -> Vec<Report> {
    let len = u16::try_from(data.len()).unwrap_or(u16::MAX);
    let mut out = Vec::new();
    let mut r = [0u8; REPORT_LEN];
    r[..4].copy_from_slice(&cid.to_be_bytes());
    r[4] = command;
    r[5..7].copy_from_slice(&len.to_be_bytes());
    let (first, mut rest) = data.split_at(data.len().min(INIT_DATA));
    r[7..7 + first.len()].copy_from_slice(first);
    out.push(r);
    let mut seq = 0u8;
    while !rest.is_empty() && seq < 0x80 {
        let (chunk, tail) = rest.split_at(rest.len().min(CONT_DATA));
        let mut c = [0u8; REPORT_LEN];
        c[..4].copy_from_slice(&cid.to_be_bytes());
        c[4] = seq;
        c[5..5 + chunk.len()].copy_from_slice(chunk);
        out.push(c);
        rest = tail;
        seq += 1;
    }
    out
}

fn error(cid: u32, code: u8) -> Vec<Report> {
    frame(cid, cmd::ERROR, &[code])
}

impl Device {
    /// A freshly powered-up device for `scenario`. Scenarios whose
    /// [`PresenceRule`] is not `Caller` ignore `presence`.
    pub fn new(scenario: &Scenario, presence: Box<dyn Presence>) -> Result<Self, SimError> {
        Self::powered_up_at(scenario, presence, Instant::now())
    }

    /// Like [`Device::new`], plugged in at `now` (the start of the reset
    /// window), for callers that run their own clock.
    pub fn powered_up_at(
        scenario: &Scenario,
        presence: Box<dyn Presence>,
        now: Instant,
    ) -> Result<Self, SimError> {
        let presence: Box<dyn Presence> = match scenario.presence {
            PresenceRule::Caller => presence,
            PresenceRule::Never => Box::new(Never),
            PresenceRule::Refuse => Box::new(Refuse),
        };
        Ok(Self {
            scenario: scenario.clone(),
            auth: Authenticator::new(scenario, now)?,
            presence,
            channels: VecDeque::new(),
            next_cid: 0x0100_0001,
            assembly: None,
            waiting: None,
            u2f_waiting: false,
            gone: false,
        })
    }

    /// The key is unplugged and plugged in again at `now`: channels, pending
    /// requests and volatile CTAP state are dropped; stored state (PIN,
    /// retries, credentials) stays. authenticatorReset is allowed again for
    /// the next ten seconds.
    pub fn replug(&mut self, now: Instant) {
        self.channels.clear();
        self.assembly = None;
        self.waiting = None;
        self.u2f_waiting = false;
        self.auth.power_cycle(now);
    }

    /// The scenario this device plays.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// DER of the attestation certificate (for tests and diagnostics).
    pub fn attestation_cert(&self) -> &[u8] {
        self.auth.attestation_cert()
    }

    /// DER of the simulator's test CA (root of the attestation chain).
    pub fn attestation_ca(&self) -> &[u8] {
        self.auth.attestation_ca()
    }

    /// True once the device has "been unplugged": runners stop answering.
    pub fn is_gone(&self) -> bool {
        self.gone
    }

    /// True while a request waits for the user's touch.
    pub fn is_waiting(&self) -> bool {
        self.waiting.is_some()
    }

    /// How soon [`Device::tick`] must be called, if at all.
    pub fn next_wake(&self, now: Instant) -> Option<Duration> {
        if self.waiting.is_some() {
            return Some(POLL_INTERVAL);
        }
        self.assembly.as_ref().map(|a| {
            (a.last + MSG_TIMEOUT)
                .saturating_duration_since(now)
                .max(Duration::from_millis(1))
        })
    }

    fn allocated(&self, cid: u32) -> bool {
        self.channels.contains(&cid)
    }

    fn allocate(&mut self) -> u32 {
        let cid = self.next_cid;
        self.next_cid = match self.next_cid.wrapping_add(1) {
            0 | BROADCAST => 1,
            n => n,
        };
        if self.channels.len() >= MAX_CHANNELS {
            self.channels.pop_front();
        }
        self.channels.push_back(cid);
        cid
    }

    /// Handles one report from the client; returns the reports to send back.
    pub fn handle_report(&mut self, r: &Report, now: Instant) -> Vec<Report> {
        if self.gone {
            return Vec::new();
        }
        let cid = u32::from_be_bytes([r[0], r[1], r[2], r[3]]);
        let b = r[4];
        if b & 0x80 == 0 {
            return self.continuation(cid, b, &r[5..], now);
        }
        let command = b;
        let bcnt = usize::from(u16::from_be_bytes([r[5], r[6]]));
        let payload = &r[7..];
        if cid == 0 {
            return error(cid, HID_ERR_INVALID_CHANNEL);
        }
        if command == cmd::INIT {
            return self.init(cid, bcnt, payload);
        }
        if cid == BROADCAST || !self.allocated(cid) {
            return error(cid, HID_ERR_INVALID_CHANNEL);
        }
        if command == cmd::CANCEL {
            if self.waiting.as_ref().is_some_and(|w| w.cid == cid) {
                self.waiting = None;
                return self.respond(cid, cmd::CBOR, &[ERR_KEEPALIVE_CANCEL]);
            }
            return Vec::new();
        }
        if self.waiting.is_some() {
            return error(cid, HID_ERR_CHANNEL_BUSY);
        }
        if let Some(a) = &self.assembly {
            if a.cid != cid {
                return error(cid, HID_ERR_CHANNEL_BUSY);
            }
            self.assembly = None;
            return error(cid, HID_ERR_INVALID_SEQ);
        }
        if bcnt > MAX_MSG_SIZE {
            return error(cid, HID_ERR_INVALID_LEN);
        }
        let first = &payload[..bcnt.min(INIT_DATA)];
        if bcnt <= INIT_DATA {
            return self.dispatch(cid, command, first.to_vec(), now);
        }
        let mut buf = Vec::with_capacity(bcnt);
        buf.extend_from_slice(first);
        self.assembly = Some(Assembly {
            cid,
            cmd: command,
            total: bcnt,
            buf,
            seq: 0,
            last: now,
        });
        Vec::new()
    }

    fn init(&mut self, cid: u32, bcnt: usize, payload: &[u8]) -> Vec<Report> {
        if bcnt != 8 {
            return error(cid, HID_ERR_INVALID_LEN);
        }
        if cid != BROADCAST && !self.allocated(cid) {
            return error(cid, HID_ERR_INVALID_CHANNEL);
        }
        if self.assembly.as_ref().is_some_and(|a| a.cid == cid) {
            self.assembly = None;
        }
        if self.waiting.as_ref().is_some_and(|w| w.cid == cid) {
            self.waiting = None;
        }
        let new_cid = if cid == BROADCAST {
            self.allocate()
        } else {
            cid
        };
        let mut data = Vec::with_capacity(17);
        data.extend_from_slice(&payload[..8]);
        data.extend_from_slice(&new_cid.to_be_bytes());
        data.push(PROTOCOL_VERSION);
        data.extend_from_slice(&DEVICE_VERSION);
        data.push(self.scenario.capabilities);
        frame(cid, cmd::INIT, &data)
    }

    fn continuation(&mut self, cid: u32, seq: u8, data: &[u8], now: Instant) -> Vec<Report> {
        let Some(a) = self.assembly.as_mut() else {
            return Vec::new(); // spurious continuation: ignored
        };
        if a.cid != cid {
            return Vec::new();
        }
        if seq != a.seq {
            self.assembly = None;
            return error(cid, HID_ERR_INVALID_SEQ);
        }
        let take = (a.total - a.buf.len()).min(CONT_DATA).min(data.len());
        a.buf.extend_from_slice(&data[..take]);
        a.seq = a.seq.wrapping_add(1);
        a.last = now;
        if a.buf.len() < a.total {
            return Vec::new();
        }
        match self.assembly.take() {
            Some(a) => self.dispatch(a.cid, a.cmd, a.buf, now),
            None => Vec::new(),
        }
    }

    /// Advances timers: message timeout, keepalives, presence polling.
    pub fn tick(&mut self, now: Instant) -> Vec<Report> {
        if self.gone {
            return Vec::new();
        }
        let mut out = Vec::new();
        if let Some(a) = &self.assembly
            && now.saturating_duration_since(a.last) >= MSG_TIMEOUT
        {
            out.extend(error(a.cid, HID_ERR_MSG_TIMEOUT));
            self.assembly = None;
        }
        let Some(w) = self.waiting.as_mut() else {
            return out;
        };
        let cid = w.cid;
        match self.presence.poll() {
            PresenceState::Touched => {
                if let Some(w) = self.waiting.take() {
                    let reply = self.auth.complete(w.work, now);
                    out.extend(self.respond(cid, cmd::CBOR, &reply));
                }
            }
            PresenceState::Refused => {
                self.waiting = None;
                out.extend(self.respond(cid, cmd::CBOR, &[ERR_OPERATION_DENIED]));
            }
            PresenceState::Waiting => {
                if now.saturating_duration_since(w.started) >= self.scenario.presence_timeout {
                    self.waiting = None;
                    out.extend(self.respond(cid, cmd::CBOR, &[ERR_USER_ACTION_TIMEOUT]));
                } else if w
                    .last_keepalive
                    .is_none_or(|t| now.saturating_duration_since(t) >= KEEPALIVE_INTERVAL)
                {
                    w.last_keepalive = Some(now);
                    out.extend(frame(cid, cmd::KEEPALIVE, &[KEEPALIVE_UP_NEEDED]));
                }
            }
        }
        out
    }

    fn dispatch(&mut self, cid: u32, command: u8, payload: Vec<u8>, now: Instant) -> Vec<Report> {
        let caps = self.scenario.capabilities;
        match command {
            cmd::PING => self.respond(cid, cmd::PING, &payload),
            cmd::WINK if caps & CAP_WINK != 0 => self.respond(cid, cmd::WINK, &[]),
            cmd::MSG if caps & CAP_NMSG == 0 => {
                if self.scenario.behaviour == Behaviour::Unplugged
                    && matches!(payload.get(1), Some(0x01 | 0x02))
                {
                    self.gone = true;
                    return Vec::new();
                }
                let Self {
                    auth,
                    presence,
                    u2f_waiting,
                    ..
                } = self;
                let mut touched = || {
                    if !*u2f_waiting {
                        presence.begin();
                        *u2f_waiting = true;
                    }
                    let t = presence.poll() == PresenceState::Touched;
                    if t {
                        *u2f_waiting = false;
                    }
                    t
                };
                let reply = auth.u2f(&payload, &mut touched);
                self.respond(cid, cmd::MSG, &reply)
            }
            cmd::CBOR if caps & CAP_CBOR != 0 => {
                let Some(&c) = payload.first() else {
                    return error(cid, HID_ERR_INVALID_LEN);
                };
                if self.scenario.behaviour == Behaviour::Unplugged
                    && matches!(c, ctap2::cmd::MAKE_CREDENTIAL | ctap2::cmd::GET_ASSERTION)
                {
                    self.gone = true;
                    return Vec::new();
                }
                match self.auth.request(&payload, now) {
                    Step::Reply(reply) => self.respond(cid, cmd::CBOR, &reply),
                    Step::NeedPresence(work) => {
                        self.presence.begin();
                        self.waiting = Some(Waiting {
                            cid,
                            work,
                            started: now,
                            last_keepalive: None,
                        });
                        self.tick(now)
                    }
                }
            }
            _ => error(cid, HID_ERR_INVALID_CMD),
        }
    }

    /// Frames an answer, garbling it in the `malformed` scenario.
    fn respond(&self, cid: u32, command: u8, data: &[u8]) -> Vec<Report> {
        if data.len() > MAX_FRAMED {
            return error(cid, 0x7F);
        }
        if self.scenario.behaviour != Behaviour::Malformed {
            return frame(cid, command, data);
        }
        // An answer on a channel nobody owns, then a broken one on the right channel.
        let mut out = frame(cid ^ 0x5A5A_5A5A, command, data);
        out.truncate(1);
        if command == cmd::CBOR {
            let cut = data.len().div_ceil(2).max(1);
            out.extend(frame(cid, command, &data[..cut.min(data.len())]));
        } else {
            let mut r = frame(cid, command, data)
                .into_iter()
                .next()
                .unwrap_or([0u8; REPORT_LEN]);
            r[5] = 0xFF;
            r[6] = 0xFF;
            out.push(r);
        }
        out
    }
}

#[cfg(test)]
#[path = "ctaphid_tests.rs"]
mod tests;
