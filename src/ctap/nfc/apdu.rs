//! ISO 7816-4 APDUs as FIDO keys over NFC use them: encoding command APDUs
//! in short or extended length ([`Command`]), splitting long data with
//! command chaining, collecting long answers with GET RESPONSE (61XX), and
//! the FIDO applet's own commands ([`ApduLink::select_fido`],
//! [`ApduLink::nfcctap`] with its 0x9100 "still processing" polling).

use std::time::{Duration, Instant};

use crate::ctap::error::CtapError;
use crate::transport::card::SmartCard;

/// AID of the FIDO applet.
pub const FIDO_AID: [u8; 8] = [0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01];
/// SELECT (by AID: P1 0x04).
pub const INS_SELECT: u8 = 0xA4;
/// GET RESPONSE, answering SW 61XX.
pub const INS_GET_RESPONSE: u8 = 0xC0;
/// CLA of the CTAP2 commands.
pub const CLA_NFCCTAP: u8 = 0x80;
/// NFCCTAP_MSG: a CTAP2 command byte followed by CBOR.
pub const INS_NFCCTAP_MSG: u8 = 0x10;
/// NFCCTAP_GETRESPONSE: "are you done yet?" after 0x9100.
pub const INS_NFCCTAP_GETRESPONSE: u8 = 0x11;
/// P1 of NFCCTAP_MSG telling the card this client can poll with NFCCTAP_GETRESPONSE.
pub const P1_GETRESPONSE_SUPPORTED: u8 = 0x80;
/// P1 of NFCCTAP_GETRESPONSE asking the card to cancel the request.
pub const P1_CANCEL: u8 = 0x11;
/// CLA bit: more command data follows in the next APDU.
pub const CLA_CHAINING: u8 = 0x10;
/// Success.
pub const SW_OK: u16 = 0x9000;
/// The card is still working on an NFCCTAP_MSG (answer data: a keep-alive status byte).
pub const SW_STILL_PROCESSING: u16 = 0x9100;
/// The card has no such applet.
pub const SW_FILE_NOT_FOUND: u16 = 0x6A82;
/// The instruction is not supported (a U2F-only applet asked for CTAP2).
pub const SW_INS_NOT_SUPPORTED: u16 = 0x6D00;
/// Most data bytes in a short APDU.
pub const SHORT_MAX_DATA: usize = 255;
/// Most data bytes in an extended APDU.
pub const EXTENDED_MAX_DATA: usize = 65_535;
/// Most bytes put together from 61XX chunks for one answer.
pub const MAX_ASSEMBLED: usize = 65_536;
/// Most 61XX / 9100 rounds for one command (bounds a card that never finishes).
const MAX_ROUNDS: usize = 4096;

/// A command APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Class byte.
    pub cla: u8,
    /// Instruction.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data.
    pub data: Vec<u8>,
    /// Expected answer length Ne: 0 = no answer data expected; at most 65 536.
    pub ne: usize,
}

/// How command APDUs carry data longer than 255 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Length {
    /// Short APDUs only; long data is sent with command chaining (every reader can).
    #[default]
    Short,
    /// Extended-length APDUs when the data or answer needs them.
    Extended,
}

impl Command {
    /// A command with data and Ne = 256 (the most a short APDU can ask for).
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8, data: Vec<u8>) -> Self {
        Command {
            cla,
            ins,
            p1,
            p2,
            data,
            ne: 256,
        }
    }

    /// True when this command needs extended length.
    pub fn needs_extended(&self) -> bool {
        self.data.len() > SHORT_MAX_DATA || self.ne > 256
    }

    /// Short encoding: CLA INS P1 P2 [Lc data] [Le]; Le 0x00 means 256.
    pub fn encode_short(&self) -> Result<Vec<u8>, CtapError> {
        if self.needs_extended() {
            return Err(CtapError::Oversized {
                len: self.data.len().max(self.ne),
                max: SHORT_MAX_DATA,
            });
        }
        let mut out = vec![self.cla, self.ins, self.p1, self.p2];
        if !self.data.is_empty() {
            out.push(self.data.len() as u8);
            out.extend_from_slice(&self.data);
        }
        if self.ne > 0 {
            out.push((self.ne % 256) as u8);
        }
        Ok(out)
    }

    /// Extended encoding: CLA INS P1 P2 00 Lc(2) data Le(2), or
    /// CLA INS P1 P2 00 Le(2) without data; Le 0x0000 means 65 536. A
    /// command with neither data nor Le is the bare header (a lone 00 after
    /// it would read as a short Le of 256).
    pub fn encode_extended(&self) -> Result<Vec<u8>, CtapError> {
        if self.data.len() > EXTENDED_MAX_DATA || self.ne > 65_536 {
            return Err(CtapError::Oversized {
                len: self.data.len().max(self.ne),
                max: EXTENDED_MAX_DATA,
            });
        }
        let mut out = vec![self.cla, self.ins, self.p1, self.p2];
        if self.data.is_empty() && self.ne == 0 {
            return Ok(out);
        }
        out.push(0);
        if !self.data.is_empty() {
            out.extend_from_slice(&(self.data.len() as u16).to_be_bytes());
            out.extend_from_slice(&self.data);
        }
        if self.ne > 0 {
            out.extend_from_slice(&((self.ne % 65_536) as u16).to_be_bytes());
        }
        Ok(out)
    }

    /// Parses a command APDU in any of the ISO 7816-4 cases, short or extended.
    pub fn parse(raw: &[u8]) -> Result<Command, CtapError> {
        let bad = |d: &str| CtapError::malformed("command APDU", d.to_string());
        let [cla, ins, p1, p2, body @ ..] = raw else {
            return Err(bad("shorter than 4 bytes"));
        };
        let head = |data: &[u8], ne: usize| Command {
            cla: *cla,
            ins: *ins,
            p1: *p1,
            p2: *p2,
            data: data.to_vec(),
            ne,
        };
        let short_le = |b: u8| if b == 0 { 256 } else { usize::from(b) };
        let ext_le = |h: u8, l: u8| match u16::from_be_bytes([h, l]) {
            0 => 65_536,
            n => usize::from(n),
        };
        match body {
            [] => Ok(head(&[], 0)),
            [le] => Ok(head(&[], short_le(*le))),
            [0, h, l] => Ok(head(&[], ext_le(*h, *l))),
            [0, h, l, rest @ ..] => {
                let lc = usize::from(u16::from_be_bytes([*h, *l]));
                match rest.len().checked_sub(lc) {
                    Some(0) if lc > 0 => Ok(head(rest, 0)),
                    Some(2) if lc > 0 => Ok(head(&rest[..lc], ext_le(rest[lc], rest[lc + 1]))),
                    _ => Err(bad("extended length does not match the data")),
                }
            }
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                match rest.len().checked_sub(lc) {
                    Some(0) => Ok(head(rest, 0)),
                    Some(1) => Ok(head(&rest[..lc], short_le(rest[lc]))),
                    _ => Err(bad("short length does not match the data")),
                }
            }
        }
    }
}

/// A response APDU: data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Answer data.
    pub data: Vec<u8>,
    /// SW1 SW2.
    pub sw: u16,
}

impl Response {
    /// Splits raw bytes into data and status word.
    pub fn parse(mut raw: Vec<u8>) -> Result<Response, CtapError> {
        if raw.len() < 2 {
            return Err(CtapError::malformed(
                "response APDU",
                format!("{} bytes, expected at least the 2 status bytes", raw.len()),
            ));
        }
        let sw = u16::from_be_bytes([raw[raw.len() - 2], raw[raw.len() - 1]]);
        raw.truncate(raw.len() - 2);
        Ok(Response { data: raw, sw })
    }

    /// Data followed by the status bytes (how CTAPHID_MSG carries a U2F answer).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.data.clone();
        out.extend_from_slice(&self.sw.to_be_bytes());
        out
    }
}

/// What the FIDO applet said it is when selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppletVersion {
    /// "FIDO_2_0": CTAP2 only.
    Fido2,
    /// "U2F_V2": U2F, possibly CTAP2 as well (ask with authenticatorGetInfo).
    U2fV2,
}

/// What the client does while the card answers 0x9100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// Ask again (NFCCTAP_GETRESPONSE).
    Continue,
    /// Stop asking: the request was cancelled.
    Cancel,
}

/// A card plus the APDU conventions used with it.
pub struct ApduLink<C: SmartCard> {
    card: C,
    length: Length,
    /// Pause between two NFCCTAP_GETRESPONSE polls.
    pub poll_interval: Duration,
}

impl<C: SmartCard> ApduLink<C> {
    /// Talks to `card` with `length` APDUs.
    pub fn new(card: C, length: Length) -> Self {
        ApduLink {
            card,
            length,
            poll_interval: Duration::from_millis(100),
        }
    }

    /// The card's selection string.
    pub fn name(&self) -> String {
        self.card.name()
    }

    fn transmit(&mut self, raw: &[u8]) -> Result<Response, CtapError> {
        Response::parse(self.card.transmit(raw)?)
    }

    /// Sends one logical command: with command chaining or extended length
    /// when the data is long, then collects 61XX remainders with GET
    /// RESPONSE and repeats once with the right Le on 6CXX.
    pub fn exchange(&mut self, cmd: &Command) -> Result<Response, CtapError> {
        let mut first = self.send_command(cmd)?;
        if first.sw >> 8 == 0x6C {
            let mut again = cmd.clone();
            again.ne = match first.sw & 0xFF {
                0 => 256,
                n => usize::from(n),
            };
            first = self.send_command(&again)?;
        }
        self.collect(first)
    }

    fn send_command(&mut self, cmd: &Command) -> Result<Response, CtapError> {
        if self.length == Length::Extended && cmd.needs_extended() {
            return self.transmit(&cmd.encode_extended()?);
        }
        if cmd.data.len() <= SHORT_MAX_DATA {
            let mut short = cmd.clone();
            short.ne = short.ne.min(256);
            return self.transmit(&short.encode_short()?);
        }
        let chunks: Vec<&[u8]> = cmd.data.chunks(SHORT_MAX_DATA).collect();
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.iter().enumerate() {
            let part = Command {
                cla: if i < last {
                    cmd.cla | CLA_CHAINING
                } else {
                    cmd.cla
                },
                data: chunk.to_vec(),
                ne: if i < last { 0 } else { cmd.ne.min(256) },
                ..cmd.clone()
            };
            let r = self.transmit(&part.encode_short()?)?;
            if i == last || r.sw != SW_OK {
                return Ok(r);
            }
        }
        unreachable_empty()
    }

    /// Appends 61XX remainders (GET RESPONSE) to `r`.
    fn collect(&mut self, mut r: Response) -> Result<Response, CtapError> {
        let mut rounds = 0;
        while r.sw >> 8 == 0x61 {
            rounds += 1;
            if rounds > MAX_ROUNDS {
                return Err(CtapError::malformed(
                    "response APDU",
                    "the card never stopped answering 61XX",
                ));
            }
            let le = (r.sw & 0xFF) as u8;
            let next = self.transmit(&[0x00, INS_GET_RESPONSE, 0x00, 0x00, le])?;
            if r.data.len() + next.data.len() > MAX_ASSEMBLED {
                return Err(CtapError::Oversized {
                    len: r.data.len() + next.data.len(),
                    max: MAX_ASSEMBLED,
                });
            }
            r.data.extend_from_slice(&next.data);
            r.sw = next.sw;
        }
        Ok(r)
    }

    /// Selects the FIDO applet. Errors: [`CtapError::U2f`] with the status
    /// word when the card has no FIDO applet (normally 0x6A82).
    pub fn select_fido(&mut self) -> Result<AppletVersion, CtapError> {
        let r = self.exchange(&Command::new(
            0x00,
            INS_SELECT,
            0x04,
            0x00,
            FIDO_AID.to_vec(),
        ))?;
        if r.sw != SW_OK {
            return Err(CtapError::U2f { sw: r.sw });
        }
        match r.data.as_slice() {
            b"FIDO_2_0" => Ok(AppletVersion::Fido2),
            b"U2F_V2" => Ok(AppletVersion::U2fV2),
            other => Err(CtapError::malformed(
                "FIDO applet version",
                format!("{:?}", String::from_utf8_lossy(other)),
            )),
        }
    }

    /// Sends a CTAP2 request (command byte + CBOR) as NFCCTAP_MSG and
    /// returns the CTAP2 answer (status byte + CBOR). While the card answers
    /// 0x9100, `on_wait` gets its keep-alive status (1 processing, 2 waiting
    /// for a touch) and decides whether to poll again after
    /// [`ApduLink::poll_interval`]; polling ends at `deadline` with
    /// [`crate::transport::TransportError::Timeout`].
    /// Errors: [`CtapError::U2f`] with the status word for any other SW.
    pub fn nfcctap(
        &mut self,
        request: &[u8],
        deadline: Instant,
        on_wait: &mut dyn FnMut(u8) -> Poll,
    ) -> Result<Vec<u8>, CtapError> {
        let mut cmd = Command::new(
            CLA_NFCCTAP,
            INS_NFCCTAP_MSG,
            P1_GETRESPONSE_SUPPORTED,
            0x00,
            request.to_vec(),
        );
        if self.length == Length::Extended {
            cmd.ne = 65_536;
        }
        let mut r = self.exchange(&cmd)?;
        let started = Instant::now();
        let mut rounds = 0;
        while r.sw == SW_STILL_PROCESSING {
            rounds += 1;
            let status = r.data.first().copied().unwrap_or(1);
            if on_wait(status) == Poll::Cancel {
                // Ask the card to drop the request (NFCCTAP_GETRESPONSE, P1 0x11);
                // whatever it answers, the request is over for us.
                let _ = self.exchange(&Command::new(
                    CLA_NFCCTAP,
                    INS_NFCCTAP_GETRESPONSE,
                    P1_CANCEL,
                    0x00,
                    Vec::new(),
                ));
                return Err(CtapError::Cancelled);
            }
            if Instant::now() >= deadline || rounds > MAX_ROUNDS * 16 {
                return Err(crate::transport::TransportError::Timeout(started.elapsed()).into());
            }
            std::thread::sleep(self.poll_interval);
            r = self.exchange(&Command::new(
                CLA_NFCCTAP,
                INS_NFCCTAP_GETRESPONSE,
                0x00,
                0x00,
                Vec::new(),
            ))?;
        }
        if r.sw != SW_OK {
            return Err(CtapError::U2f { sw: r.sw });
        }
        Ok(r.data)
    }

    /// Sends a U2F request APDU as it came (any encoding) and returns the
    /// answer with its status word.
    pub fn u2f(&mut self, apdu: &[u8]) -> Result<Response, CtapError> {
        let mut cmd = Command::parse(apdu)?;
        if cmd.ne == 0 {
            cmd.ne = 256;
        }
        self.exchange(&cmd)
    }
}

fn unreachable_empty() -> Result<Response, CtapError> {
    Err(CtapError::malformed("command APDU", "no data to chain"))
}

#[cfg(test)]
#[path = "apdu_tests.rs"]
mod tests;
