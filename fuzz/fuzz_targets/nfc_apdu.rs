//! Fuzzes the NFC APDU layer: command APDU parsing (short and extended,
//! every ISO 7816-4 case) with an encode → parse round trip, and the
//! client's response handling against a scripted card whose answers come
//! from the input: 61XX GET RESPONSE chaining, 6CXX, command chaining,
//! 0x9100 "still processing" polling, applet selection and the FIDO
//! applet identification. Nothing may panic, loop without end, or
//! assemble more than the limit.
//!
//! Input: byte 0 picks the operation and the APDU length mode, then a
//! request of `byte 1` bytes, then card answers as `[len_hi, len_lo, bytes…]`.

#![no_main]

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use fido_doctor::ctap::nfc::apdu::{ApduLink, Command, MAX_ASSEMBLED, Poll};
use fido_doctor::ctap::nfc::{Length, identify};
use fido_doctor::transport::TransportError;
use fido_doctor::transport::card::{MAX_RESPONSE, SmartCard};
use libfuzzer_sys::fuzz_target;

/// A card that plays back scripted answers, then is taken off the reader.
struct Scripted {
    answers: VecDeque<Vec<u8>>,
    sent: usize,
}

impl SmartCard for Scripted {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        // What the client sends must itself be a valid command APDU.
        assert!(Command::parse(apdu).is_ok(), "client sent {apdu:02x?}");
        self.sent += 1;
        self.answers
            .pop_front()
            .ok_or_else(|| TransportError::Gone("card removed".into()))
    }
    fn name(&self) -> String {
        "pcsc:fuzz".into()
    }
}

fn round_trip(data: &[u8]) {
    let Ok(cmd) = Command::parse(data) else {
        return;
    };
    assert!(cmd.data.len() <= 65_535 && cmd.ne <= 65_536);
    if let Ok(short) = cmd.encode_short() {
        assert_eq!(Command::parse(&short).ok(), Some(cmd.clone()));
    }
    if let Ok(ext) = cmd.encode_extended() {
        assert_eq!(Command::parse(&ext).ok(), Some(cmd.clone()));
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip(data);
    let [mode, req_len, rest @ ..] = data else {
        return;
    };
    let (request, mut script) = rest.split_at(usize::from(*req_len).min(rest.len()));
    let mut answers = VecDeque::new();
    while let [h, l, tail @ ..] = script {
        let n = usize::from(u16::from_be_bytes([*h, *l])).min(tail.len());
        let (answer, next) = tail.split_at(n);
        answers.push_back(answer.to_vec());
        script = next;
    }
    assert!(answers.iter().all(|a| a.len() <= MAX_RESPONSE));
    let length = if mode & 1 == 0 {
        Length::Short
    } else {
        Length::Extended
    };
    let mut link = ApduLink::new(Scripted { answers, sent: 0 }, length);
    link.poll_interval = Duration::ZERO;
    // Long requests exercise command chaining and extended length.
    let mut long = request.to_vec();
    if mode & 0x10 != 0 {
        long = long.repeat(8);
    }
    match (mode >> 1) & 7 {
        0 => {
            if let Ok(r) = link.exchange(&Command::new(0x00, 0xA4, 0x04, 0x00, long)) {
                assert!(r.data.len() <= MAX_ASSEMBLED);
            }
        }
        1 => drop(link.select_fido()),
        2 | 3 => {
            let mut polls = 0u32;
            let cancel_after = u32::from(mode >> 4);
            let deadline = Instant::now() + Duration::from_secs(2);
            let r = link.nfcctap(&long, deadline, &mut |_| {
                polls += 1;
                if polls > cancel_after && mode & 0x80 != 0 {
                    Poll::Cancel
                } else {
                    Poll::Continue
                }
            });
            if let Ok(body) = r {
                assert!(body.len() <= MAX_ASSEMBLED);
            }
        }
        4 => drop(link.u2f(request)),
        _ => drop(identify(&mut link)),
    }
});
