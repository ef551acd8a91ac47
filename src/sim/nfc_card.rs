//! The simulator as an NFC FIDO card: ISO 7816-4 command APDUs in, response
//! APDUs out, in front of the same [`Device`] that serves CTAPHID.
//!
//! Handles SELECT of the FIDO applet (answering "FIDO_2_0" for a CTAP2-only
//! key, "U2F_V2" for one that also or only speaks U2F), NFCCTAP_MSG (with
//! 0x9100 and a keep-alive status byte while the key waits for a touch) and
//! NFCCTAP_GETRESPONSE, U2F APDUs, short and extended length, command
//! chaining and answers longer than Le in 61XX parts (GET RESPONSE).
//! Internally each request becomes CTAPHID reports on a channel of the
//! [`Device`]. A tapped card counts as touched only through the presence
//! the device was made with (scenarios that refuse or never touch still do).
//! The simulator depends only on the transport layer, so it reads APDUs
//! and reassembles CTAPHID answers with its own small code here rather than
//! the client's.

use std::time::{Duration, Instant};

use crate::transport::card::SmartCard;
use crate::transport::{REPORT_LEN, Report, TransportError};

use super::SimError;
use super::ctaphid::{BROADCAST, Device, KEEPALIVE_UP_NEEDED, POLL_INTERVAL, cmd, frame};
use super::presence::Presence;
use super::scenario::{CAP_CBOR, CAP_NMSG, Scenario};

/// Answer-to-reset of the simulated card: T=1, no historical bytes.
pub const ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];
/// AID of the FIDO applet.
pub const FIDO_AID: [u8; 8] = [0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01];
/// How long an NFCCTAP_MSG may run before the card answers 0x9100.
pub const STILL_PROCESSING_AFTER: Duration = Duration::from_millis(150);
/// Most command data accepted through chaining.
pub const MAX_CHAINED: usize = 8 * 1024;
/// Longest a request may take when the client cannot poll (no P1 0x80).
const BLOCKING_LIMIT: Duration = Duration::from_secs(60);

/// P1 of NFCCTAP_GETRESPONSE asking the card to cancel the request.
const P1_CANCEL: u8 = 0x11;
const SW_OK: u16 = 0x9000;
const SW_STILL_PROCESSING: u16 = 0x9100;
const SW_WRONG_LENGTH: u16 = 0x6700;
const SW_CONDITIONS: u16 = 0x6985;
const SW_NOT_FOUND: u16 = 0x6A82;
const SW_INS: u16 = 0x6D00;
const SW_CLA: u16 = 0x6E00;
const SW_UNKNOWN: u16 = 0x6F00;

struct Apdu {
    cla: u8,
    ins: u8,
    p1: u8,
    data: Vec<u8>,
    ne: usize,
}

fn parse(raw: &[u8]) -> Option<Apdu> {
    let [cla, ins, p1, _p2, body @ ..] = raw else {
        return None;
    };
    let short = |b: u8| if b == 0 { 256 } else { usize::from(b) };
    let ext = |h: u8, l: u8| match u16::from_be_bytes([h, l]) {
        0 => 65_536,
        n => usize::from(n),
    };
    let (data, ne): (&[u8], usize) = match body {
        [] => (&[], 256),
        [le] => (&[], short(*le)),
        [0, h, l] => (&[], ext(*h, *l)),
        [0, h, l, rest @ ..] => {
            let lc = usize::from(u16::from_be_bytes([*h, *l]));
            match rest.len().checked_sub(lc)? {
                0 => (rest, 65_536),
                2 => (&rest[..lc], ext(rest[lc], rest[lc + 1])),
                _ => return None,
            }
        }
        [lc, rest @ ..] => {
            let lc = usize::from(*lc);
            match rest.len().checked_sub(lc)? {
                0 => (rest, 256),
                1 => (&rest[..lc], short(rest[lc])),
                _ => return None,
            }
        }
    };
    Some(Apdu {
        cla: *cla,
        ins: *ins,
        p1: *p1,
        data: data.to_vec(),
        ne,
    })
}

/// Puts one CTAPHID answer back together from the device's reports.
#[derive(Default)]
struct Assembly {
    cmd: u8,
    total: usize,
    buf: Vec<u8>,
    seq: u8,
    started: bool,
}

impl Assembly {
    /// Feeds a report; `Some((cmd, data))` when an answer is complete,
    /// `Some((0, []))` for a broken one.
    fn push(&mut self, cid: u32, r: &Report) -> Option<(u8, Vec<u8>)> {
        if u32::from_be_bytes([r[0], r[1], r[2], r[3]]) != cid {
            return None;
        }
        if r[4] & 0x80 != 0 {
            *self = Assembly {
                cmd: r[4],
                total: usize::from(u16::from_be_bytes([r[5], r[6]])),
                buf: Vec::new(),
                seq: 0,
                started: true,
            };
            let take = self.total.min(REPORT_LEN - 7);
            self.buf.extend_from_slice(&r[7..7 + take]);
        } else if self.started && r[4] == self.seq {
            self.seq += 1;
            let take = (self.total - self.buf.len()).min(REPORT_LEN - 5);
            self.buf.extend_from_slice(&r[5..5 + take]);
        } else {
            *self = Assembly::default();
            return Some((0, Vec::new()));
        }
        if self.buf.len() < self.total {
            return None;
        }
        let done = std::mem::take(self);
        Some((done.cmd, done.buf))
    }
}

/// A CTAPHID request running on the device.
struct InFlight {
    asm: Assembly,
    status: u8,
}

/// What a request on the device came to.
enum Ran {
    Done(u8, Vec<u8>),
    Waiting(u8),
    Broken,
}

/// One simulated NFC FIDO card.
pub struct NfcCard {
    device: Device,
    name: String,
    cid: u32,
    caps: u8,
    selected: bool,
    chain: Option<(u8, u8, Vec<u8>)>,
    pending: Option<(Vec<u8>, u16)>,
    inflight: Option<InFlight>,
}

impl NfcCard {
    /// A card playing `scenario`; `presence` answers its touch prompts.
    pub fn new(scenario: &Scenario, presence: Box<dyn Presence>) -> Result<Self, SimError> {
        let mut device = Device::new(scenario, presence)?;
        let nonce = *b"nfc-card";
        let mut asm = Assembly::default();
        let mut answer = None;
        for r in device.handle_report(&frame(BROADCAST, cmd::INIT, &nonce)[0], Instant::now()) {
            if let Some(a) = asm.push(BROADCAST, &r) {
                answer = Some(a);
            }
        }
        let cid = match answer {
            Some((c, d)) if c == cmd::INIT && d.len() >= 17 && d[..8] == nonce => {
                u32::from_be_bytes([d[8], d[9], d[10], d[11]])
            }
            _ => {
                return Err(SimError::Io(std::io::Error::other(
                    "the device did not answer INIT",
                )));
            }
        };
        Ok(NfcCard {
            device,
            name: format!("nfc:{}", scenario.name),
            cid,
            caps: scenario.capabilities,
            selected: false,
            chain: None,
            pending: None,
            inflight: None,
        })
    }

    /// True once the scenario took the key away.
    pub fn is_gone(&self) -> bool {
        self.device.is_gone()
    }

    /// What the applet answers to SELECT.
    pub fn version(&self) -> &'static [u8] {
        if self.caps & CAP_CBOR != 0 && self.caps & CAP_NMSG != 0 {
            b"FIDO_2_0"
        } else {
            b"U2F_V2"
        }
    }

    /// Power cycle (the card left the field or was reset): nothing selected,
    /// nothing half-sent. Stored credentials and PIN state stay.
    pub fn reset(&mut self) {
        self.selected = false;
        self.chain = None;
        self.pending = None;
        if self.inflight.take().is_some() {
            let _ = self
                .device
                .handle_report(&frame(self.cid, cmd::CANCEL, &[])[0], Instant::now());
        }
    }

    fn start(&mut self, command: u8, data: &[u8]) -> Option<Ran> {
        let mut inflight = InFlight {
            asm: Assembly::default(),
            status: 1,
        };
        let now = Instant::now();
        let mut out = Vec::new();
        for r in frame(self.cid, command, data) {
            out.extend(self.device.handle_report(&r, now));
        }
        for r in &out {
            if let Some(done) = inflight.asm.push(self.cid, r) {
                match finish(done, &mut inflight) {
                    Ran::Waiting(_) => {}
                    other => return Some(other),
                }
            }
        }
        self.inflight = Some(inflight);
        None
    }

    /// Runs the request in flight until it ends or `until` passes.
    fn run(&mut self, until: Instant) -> Ran {
        let Some(mut f) = self.inflight.take() else {
            return Ran::Broken;
        };
        loop {
            if self.device.is_gone() {
                return Ran::Broken;
            }
            let now = Instant::now();
            for r in self.device.tick(now) {
                if let Some(done) = f.asm.push(self.cid, &r) {
                    match finish(done, &mut f) {
                        Ran::Waiting(_) => {}
                        other => return other,
                    }
                }
            }
            if now >= until {
                let status = f.status;
                self.inflight = Some(f);
                return Ran::Waiting(status);
            }
            std::thread::sleep(POLL_INTERVAL.min(until - now));
        }
    }

    /// Handles one command APDU; returns the response APDU.
    pub fn apdu(&mut self, raw: &[u8]) -> Vec<u8> {
        let Some(a) = parse(raw) else {
            return sw(SW_WRONG_LENGTH);
        };
        // Command chaining: collect, acknowledge, process at the last part.
        let mut data = a.data;
        if let Some((cla, ins, mut head)) = self.chain.take() {
            if cla != a.cla & !0x10 || ins != a.ins {
                return sw(SW_CONDITIONS);
            }
            head.extend_from_slice(&data);
            data = head;
        }
        if data.len() > MAX_CHAINED {
            return sw(SW_WRONG_LENGTH);
        }
        if a.cla & 0x10 != 0 {
            self.chain = Some((a.cla & !0x10, a.ins, data));
            return sw(SW_OK);
        }
        let ne = a.ne;
        if a.ins != 0xC0 {
            self.pending = None;
        }
        match (a.cla, a.ins) {
            (0x00, 0xA4) if a.p1 == 0x04 => {
                self.reset();
                if data == FIDO_AID {
                    self.selected = true;
                    self.shape(self.version().to_vec(), SW_OK, ne)
                } else {
                    sw(SW_NOT_FOUND)
                }
            }
            (0x00, 0xC0) => match self.pending.take() {
                Some((rest, last)) => self.shape(rest, last, ne),
                None => sw(SW_CONDITIONS),
            },
            _ if !self.selected => sw(SW_INS),
            (0x80, 0x10) if self.caps & CAP_CBOR != 0 => {
                if self.inflight.is_some() {
                    return sw(SW_CONDITIONS);
                }
                let polls = a.p1 & 0x80 != 0;
                let ran = match self.start(cmd::CBOR, &data) {
                    Some(r) => r,
                    None if polls => self.run(Instant::now() + STILL_PROCESSING_AFTER),
                    None => self.run(Instant::now() + BLOCKING_LIMIT),
                };
                self.answer_cbor(ran, ne)
            }
            (0x80, 0x11) if self.inflight.is_some() => {
                if a.p1 == P1_CANCEL {
                    // The client gave up: the device ends the request
                    // (CTAP2_ERR_KEEPALIVE_CANCEL).
                    let now = Instant::now();
                    for r in self
                        .device
                        .handle_report(&frame(self.cid, cmd::CANCEL, &[])[0], now)
                    {
                        if let Some(f) = self.inflight.as_mut()
                            && let Some(done) = f.asm.push(self.cid, &r)
                        {
                            let ran = finish(done, f);
                            self.inflight = None;
                            return self.answer_cbor(ran, ne);
                        }
                    }
                }
                let ran = self.run(Instant::now() + STILL_PROCESSING_AFTER);
                self.answer_cbor(ran, ne)
            }
            (0x80, 0x11) => sw(SW_CONDITIONS),
            (0x80, _) => sw(SW_INS),
            (0x00, 0x01..=0x03) if self.caps & CAP_NMSG == 0 => {
                // CTAPHID_MSG carries U2F requests in extended encoding.
                let mut req = vec![a.cla, a.ins, a.p1, raw[3], 0];
                let lc = u16::try_from(data.len()).unwrap_or(u16::MAX);
                if !data.is_empty() {
                    req.extend_from_slice(&lc.to_be_bytes());
                    req.extend_from_slice(&data);
                }
                req.extend_from_slice(&[0, 0]);
                let ran = match self.start(cmd::MSG, &req) {
                    Some(r) => r,
                    None => self.run(Instant::now() + BLOCKING_LIMIT),
                };
                match ran {
                    Ran::Done(c, mut body) if c == cmd::MSG && body.len() >= 2 => {
                        let last = u16::from_be_bytes([body[body.len() - 2], body[body.len() - 1]]);
                        body.truncate(body.len() - 2);
                        self.shape(body, last, ne)
                    }
                    _ => sw(SW_UNKNOWN),
                }
            }
            (0x00, _) => sw(SW_INS),
            _ => sw(SW_CLA),
        }
    }

    fn answer_cbor(&mut self, ran: Ran, ne: usize) -> Vec<u8> {
        match ran {
            Ran::Done(c, body) if c == cmd::CBOR => self.shape(body, SW_OK, ne),
            Ran::Waiting(status) => {
                let mut out = vec![status];
                out.extend_from_slice(&SW_STILL_PROCESSING.to_be_bytes());
                out
            }
            _ => sw(SW_UNKNOWN),
        }
    }

    /// At most `ne` bytes now; the rest waits for GET RESPONSE behind 61XX.
    fn shape(&mut self, mut data: Vec<u8>, last: u16, ne: usize) -> Vec<u8> {
        let ne = ne.max(1);
        if data.len() <= ne {
            data.extend_from_slice(&last.to_be_bytes());
            return data;
        }
        let rest = data.split_off(ne);
        let left = rest.len().min(256) % 256;
        self.pending = Some((rest, last));
        data.extend_from_slice(&[0x61, left as u8]);
        data
    }
}

fn finish(done: (u8, Vec<u8>), f: &mut InFlight) -> Ran {
    match done {
        (c, d) if c == cmd::KEEPALIVE => {
            f.status = d.first().copied().unwrap_or(KEEPALIVE_UP_NEEDED);
            Ran::Waiting(f.status)
        }
        (0, _) => Ran::Broken,
        (c, d) => Ran::Done(c, d),
    }
}

fn sw(code: u16) -> Vec<u8> {
    code.to_be_bytes().to_vec()
}

/// The card in-process, for tests and for `sim:` over NFC framing.
impl SmartCard for NfcCard {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        if self.is_gone() {
            return Err(TransportError::Gone(self.name.clone()));
        }
        let out = self.apdu(apdu);
        if self.is_gone() {
            return Err(TransportError::Gone(self.name.clone()));
        }
        Ok(out)
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{AutoTouch, scenario};

    fn card(name: &str) -> NfcCard {
        NfcCard::new(scenario::find(name).unwrap(), Box::new(AutoTouch)).unwrap()
    }

    fn select() -> Vec<u8> {
        let mut a = vec![0x00, 0xA4, 0x04, 0x00, 0x08];
        a.extend_from_slice(&FIDO_AID);
        a
    }

    #[test]
    fn select_names_the_applet_and_gates_the_rest() {
        let mut c = card("modern");
        assert_eq!(c.apdu(&[0x80, 0x10, 0x80, 0x00, 0x01, 0x04]), sw(SW_INS));
        let v = c.apdu(&select());
        assert!(v.ends_with(&[0x90, 0x00]));
        assert!(
            v.starts_with(b"U2F_V2") || v.starts_with(b"FIDO_2_0"),
            "{v:?}"
        );
        assert_eq!(
            c.apdu(&[0x00, 0xA4, 0x04, 0x00, 0x02, 0xA0, 0x00]),
            sw(SW_NOT_FOUND)
        );
        assert_eq!(card("u2f-only").apdu(&select()), b"U2F_V2\x90\x00");
    }

    #[test]
    fn get_info_answers_in_61xx_parts_for_a_short_le() {
        let mut c = card("modern");
        c.apdu(&select());
        let mut r = c.apdu(&[0x80, 0x10, 0x80, 0x00, 0x01, 0x04, 0x00]);
        let mut body = Vec::new();
        while r[r.len() - 2] == 0x61 {
            body.extend_from_slice(&r[..r.len() - 2]);
            r = c.apdu(&[0x00, 0xC0, 0x00, 0x00, r[r.len() - 1]]);
        }
        assert_eq!(&r[r.len() - 2..], &[0x90, 0x00]);
        body.extend_from_slice(&r[..r.len() - 2]);
        assert_eq!(body[0], 0x00, "CTAP2 success status");
        assert!(body.len() > 100, "a full getInfo map");
    }

    #[test]
    fn u2f_only_card_refuses_ctap2_and_answers_u2f_version() {
        let mut c = card("u2f-only");
        c.apdu(&select());
        assert_eq!(c.apdu(&[0x80, 0x10, 0x80, 0x00, 0x01, 0x04]), sw(SW_INS));
        assert_eq!(c.apdu(&[0x00, 0x03, 0x00, 0x00, 0x00]), b"U2F_V2\x90\x00");
    }

    #[test]
    fn chained_parts_are_acknowledged_and_joined() {
        let mut c = card("modern");
        c.apdu(&select());
        // getInfo (one byte) as a chained first part and an empty last part.
        assert_eq!(c.apdu(&[0x90, 0x10, 0x80, 0x00, 0x01, 0x04]), sw(SW_OK));
        let r = c.apdu(&[0x80, 0x10, 0x80, 0x00, 0x00, 0x00, 0x00]);
        assert_eq!(r[0], 0x00, "joined request was getInfo: {r:?}");
    }

    #[test]
    fn garbage_apdus_get_status_words() {
        let mut c = card("modern");
        assert_eq!(c.apdu(&[0x00]), sw(SW_WRONG_LENGTH));
        assert_eq!(
            c.apdu(&[0x00, 0xA4, 0x04, 0x00, 0x09, 0x01]),
            sw(SW_WRONG_LENGTH)
        );
        c.apdu(&select());
        assert_eq!(c.apdu(&[0x80, 0x11, 0x00, 0x00]), sw(SW_CONDITIONS));
        assert_eq!(c.apdu(&[0x42, 0x01, 0x00, 0x00]), sw(SW_CLA));
    }
}
