//! CTAPHID framing as pure functions: splitting a message into 64-byte
//! reports ([`fragment`]) and putting a response back together
//! ([`Reassembler`]). No I/O, no clocks: this is the part the fuzzer drives.

use crate::ctap::error::CtapError;
use crate::transport::{REPORT_LEN, Report};

/// CTAPHID command bytes (without the 0x80 init-packet bit).
pub mod cmd {
    /// Echo the data back.
    pub const PING: u8 = 0x01;
    /// A U2F (CTAP1) APDU.
    pub const MSG: u8 = 0x03;
    /// Lock the device to one channel.
    pub const LOCK: u8 = 0x04;
    /// Allocate a channel.
    pub const INIT: u8 = 0x06;
    /// Make the device blink.
    pub const WINK: u8 = 0x08;
    /// A CTAP2 CBOR command.
    pub const CBOR: u8 = 0x10;
    /// Cancel the outstanding request on this channel.
    pub const CANCEL: u8 = 0x11;
    /// "Still working" (status byte: 1 processing, 2 user presence needed).
    pub const KEEPALIVE: u8 = 0x3B;
    /// A transport-level error (one code byte).
    pub const ERROR: u8 = 0x3F;
}

/// The broadcast channel used for CTAPHID_INIT.
pub const BROADCAST_CID: u32 = 0xFFFF_FFFF;
/// Payload bytes in an initialisation packet.
pub const INIT_DATA: usize = REPORT_LEN - 7;
/// Payload bytes in a continuation packet.
pub const CONT_DATA: usize = REPORT_LEN - 5;
/// Highest continuation sequence number.
pub const MAX_SEQ: u8 = 0x7F;
/// Largest message CTAPHID can carry: 57 + 128 × 59 = 7609 bytes.
pub const MAX_MESSAGE: usize = INIT_DATA + (MAX_SEQ as usize + 1) * CONT_DATA;

/// A complete CTAPHID message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Channel it came on.
    pub channel: u32,
    /// Command (without the 0x80 bit).
    pub cmd: u8,
    /// Payload, exactly the declared length.
    pub data: Vec<u8>,
}

/// The channel identifier of a report.
pub fn channel_of(report: &Report) -> u32 {
    u32::from_be_bytes([report[0], report[1], report[2], report[3]])
}

/// Splits `data` into the reports that carry it on `channel` as command `cmd`
/// (`cmd` without the 0x80 bit). Fails with [`CtapError::Oversized`] above
/// [`MAX_MESSAGE`]. An empty message is one initialisation packet.
pub fn fragment(channel: u32, cmd: u8, data: &[u8]) -> Result<Vec<Report>, CtapError> {
    if data.len() > MAX_MESSAGE {
        return Err(CtapError::Oversized {
            len: data.len(),
            max: MAX_MESSAGE,
        });
    }
    let cid = channel.to_be_bytes();
    let len = data.len() as u16; // ≤ 7609, fits
    let (head, rest) = data.split_at(data.len().min(INIT_DATA));
    let mut out = Vec::with_capacity(1 + rest.len().div_ceil(CONT_DATA));
    let mut first = [0u8; REPORT_LEN];
    first[..4].copy_from_slice(&cid);
    first[4] = 0x80 | (cmd & 0x7F);
    first[5..7].copy_from_slice(&len.to_be_bytes());
    first[7..7 + head.len()].copy_from_slice(head);
    out.push(first);
    for (seq, chunk) in rest.chunks(CONT_DATA).enumerate() {
        let mut r = [0u8; REPORT_LEN];
        r[..4].copy_from_slice(&cid);
        r[4] = seq as u8; // ≤ 127 because data.len() ≤ MAX_MESSAGE
        r[5..5 + chunk.len()].copy_from_slice(chunk);
        out.push(r);
    }
    Ok(out)
}

/// What one report did to a [`Reassembler`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The report was for another channel, or a stray continuation packet
    /// with no message in progress; nothing changed.
    Ignored,
    /// The report was part of a message that is not complete yet.
    Partial,
    /// A message is complete.
    Complete(Message),
}

struct Partial {
    cmd: u8,
    len: usize,
    data: Vec<u8>,
    next_seq: u8,
}

/// Rebuilds one response message from reports, checking channel, sequence
/// and length. Never panics; memory is bounded by `max` bytes.
pub struct Reassembler {
    channel: u32,
    max: usize,
    partial: Option<Partial>,
    ignored: usize,
    last_foreign: Option<u32>,
}

impl Reassembler {
    /// Accepts messages on `channel` of at most `max` bytes (capped at [`MAX_MESSAGE`]).
    pub fn new(channel: u32, max: usize) -> Self {
        Reassembler {
            channel,
            max: max.min(MAX_MESSAGE),
            partial: None,
            ignored: 0,
            last_foreign: None,
        }
    }

    /// Feeds one report; `Ok(Some(message))` once a message is complete.
    /// Reports on other channels are ignored (see [`Reassembler::ignored`]).
    pub fn push(&mut self, report: &Report) -> Result<Option<Message>, CtapError> {
        match self.push_step(report)? {
            Step::Complete(m) => Ok(Some(m)),
            Step::Ignored | Step::Partial => Ok(None),
        }
    }

    /// Like [`Reassembler::push`] but tells an ignored report from progress.
    ///
    /// Errors: [`CtapError::Oversized`] when the declared length exceeds the
    /// limit, [`CtapError::BadSequence`] for an out-of-order continuation,
    /// [`CtapError::Malformed`] when a new message starts before the current
    /// one is complete. After an error the reassembler starts afresh.
    pub fn push_step(&mut self, report: &Report) -> Result<Step, CtapError> {
        let cid = channel_of(report);
        if cid != self.channel {
            self.ignore(Some(cid));
            return Ok(Step::Ignored);
        }
        let head = report[4];
        if head & 0x80 != 0 {
            if self.partial.is_some() {
                self.partial = None;
                return Err(CtapError::malformed(
                    "CTAPHID response",
                    "a new message started before the previous one was complete",
                ));
            }
            let cmd = head & 0x7F;
            let len = usize::from(u16::from_be_bytes([report[5], report[6]]));
            if len > self.max {
                return Err(CtapError::Oversized { len, max: self.max });
            }
            let take = len.min(INIT_DATA);
            let mut data = Vec::with_capacity(len);
            data.extend_from_slice(&report[7..7 + take]);
            if data.len() == len {
                return Ok(Step::Complete(Message {
                    channel: cid,
                    cmd,
                    data,
                }));
            }
            self.partial = Some(Partial {
                cmd,
                len,
                data,
                next_seq: 0,
            });
            return Ok(Step::Partial);
        }
        let Some(p) = self.partial.as_mut() else {
            self.ignore(None);
            return Ok(Step::Ignored);
        };
        if head != p.next_seq {
            let expected = p.next_seq;
            self.partial = None;
            return Err(CtapError::BadSequence {
                expected,
                got: head,
            });
        }
        let take = (p.len - p.data.len()).min(CONT_DATA);
        p.data.extend_from_slice(&report[5..5 + take]);
        if p.data.len() == p.len {
            let done = self.partial.take();
            return Ok(match done {
                Some(p) => Step::Complete(Message {
                    channel: cid,
                    cmd: p.cmd,
                    data: p.data,
                }),
                None => Step::Partial,
            });
        }
        // Lengths ≤ MAX_MESSAGE never need a sequence number above MAX_SEQ.
        p.next_seq = p.next_seq.saturating_add(1);
        Ok(Step::Partial)
    }

    fn ignore(&mut self, foreign: Option<u32>) {
        self.ignored = self.ignored.saturating_add(1);
        if foreign.is_some() {
            self.last_foreign = foreign;
        }
    }

    /// True while a message has started but is not complete.
    pub fn in_progress(&self) -> bool {
        self.partial.is_some()
    }

    /// How many reports have been ignored so far.
    pub fn ignored(&self) -> usize {
        self.ignored
    }

    /// The channel of the last report ignored for being on another channel.
    pub fn last_foreign_channel(&self) -> Option<u32> {
        self.last_foreign
    }

    /// The channel this reassembler accepts.
    pub fn channel(&self) -> u32 {
        self.channel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + 3) as u8).collect()
    }

    fn roundtrip(n: usize) -> Message {
        let data = payload(n);
        let reports = fragment(0x0102_0304, cmd::CBOR, &data).unwrap();
        let expected_reports = if n <= INIT_DATA {
            1
        } else {
            1 + (n - INIT_DATA).div_ceil(CONT_DATA)
        };
        assert_eq!(reports.len(), expected_reports, "n={n}");
        let mut r = Reassembler::new(0x0102_0304, MAX_MESSAGE);
        let mut out = None;
        for (i, rep) in reports.iter().enumerate() {
            let got = r.push(rep).unwrap();
            assert_eq!(got.is_some(), i + 1 == reports.len(), "n={n} i={i}");
            out = got;
        }
        let m = out.unwrap();
        assert_eq!(m.data, data);
        m
    }

    #[test]
    fn fragments_and_reassembles_at_boundaries() {
        for n in [
            0,
            1,
            56,
            57,
            58,
            115,
            116,
            117,
            1000,
            MAX_MESSAGE - 1,
            MAX_MESSAGE,
        ] {
            let m = roundtrip(n);
            assert_eq!(m.cmd, cmd::CBOR);
            assert_eq!(m.channel, 0x0102_0304);
        }
    }

    #[test]
    fn wire_layout_matches_the_spec() {
        let data = payload(60);
        let reports = fragment(0xAABB_CCDD, cmd::PING, &data).unwrap();
        assert_eq!(&reports[0][..7], &[0xAA, 0xBB, 0xCC, 0xDD, 0x81, 0x00, 60]);
        assert_eq!(&reports[0][7..], &data[..57]);
        assert_eq!(&reports[1][..5], &[0xAA, 0xBB, 0xCC, 0xDD, 0x00]);
        assert_eq!(&reports[1][5..8], &data[57..]);
        assert!(reports[1][8..].iter().all(|&b| b == 0));
    }

    #[test]
    fn refuses_to_fragment_oversized() {
        let err = fragment(1, cmd::CBOR, &vec![0; MAX_MESSAGE + 1]).unwrap_err();
        assert!(
            matches!(err, CtapError::Oversized { len, max } if len == MAX_MESSAGE + 1 && max == MAX_MESSAGE)
        );
    }

    #[test]
    fn ignores_other_channels_and_stray_continuations() {
        let mut r = Reassembler::new(7, 100);
        let other = fragment(8, cmd::CBOR, &[1, 2, 3]).unwrap();
        assert_eq!(r.push_step(&other[0]).unwrap(), Step::Ignored);
        assert_eq!(r.last_foreign_channel(), Some(8));
        let mut stray = [0u8; 64];
        stray[..4].copy_from_slice(&7u32.to_be_bytes());
        assert_eq!(r.push_step(&stray).unwrap(), Step::Ignored);
        assert_eq!(r.ignored(), 2);
        let mine = fragment(7, cmd::CBOR, &[9]).unwrap();
        let m = r.push(&mine[0]).unwrap().unwrap();
        assert_eq!(m.data, vec![9]);
    }

    #[test]
    fn interleaved_foreign_reports_do_not_disturb() {
        let data = payload(300);
        let mine = fragment(7, cmd::MSG, &data).unwrap();
        let theirs = fragment(9, cmd::MSG, &payload(300)).unwrap();
        let mut r = Reassembler::new(7, MAX_MESSAGE);
        let mut done = None;
        for (a, b) in mine.iter().zip(theirs.iter()) {
            assert_eq!(r.push_step(b).unwrap(), Step::Ignored);
            if let Some(m) = r.push(a).unwrap() {
                done = Some(m);
            }
        }
        assert_eq!(done.unwrap().data, data);
    }

    #[test]
    fn bad_sequence_is_reported_and_resets() {
        let mut reports = fragment(7, cmd::CBOR, &payload(200)).unwrap();
        reports[2][4] = 5;
        let mut r = Reassembler::new(7, MAX_MESSAGE);
        assert_eq!(r.push(&reports[0]).unwrap(), None);
        assert_eq!(r.push(&reports[1]).unwrap(), None);
        let err = r.push(&reports[2]).unwrap_err();
        assert!(matches!(
            err,
            CtapError::BadSequence {
                expected: 1,
                got: 5
            }
        ));
        assert!(!r.in_progress());
    }

    #[test]
    fn declared_length_over_limit_is_oversized() {
        let mut rep = [0u8; 64];
        rep[..4].copy_from_slice(&7u32.to_be_bytes());
        rep[4] = 0x90;
        rep[5..7].copy_from_slice(&0xFFFFu16.to_be_bytes());
        let err = Reassembler::new(7, 1024).push(&rep).unwrap_err();
        assert!(matches!(
            err,
            CtapError::Oversized {
                len: 0xFFFF,
                max: 1024
            }
        ));
        // The limit is capped at what CTAPHID can carry.
        let err = Reassembler::new(7, usize::MAX).push(&rep).unwrap_err();
        assert!(matches!(
            err,
            CtapError::Oversized {
                max: MAX_MESSAGE,
                ..
            }
        ));
    }

    #[test]
    fn new_message_mid_message_is_malformed() {
        let a = fragment(7, cmd::CBOR, &payload(100)).unwrap();
        let mut r = Reassembler::new(7, MAX_MESSAGE);
        r.push(&a[0]).unwrap();
        assert!(r.in_progress());
        let err = r.push(&a[0]).unwrap_err();
        assert!(matches!(err, CtapError::Malformed { .. }));
        assert!(!r.in_progress());
    }
}
