//! APDU framing against a scripted card: every command the client sends is
//! recorded, every answer comes from the script.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::*;
use crate::transport::TransportError;

/// A card that answers from a list and records what it was sent.
#[derive(Clone, Default)]
struct Scripted {
    answers: Arc<Mutex<VecDeque<Vec<u8>>>>,
    sent: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Scripted {
    fn new(answers: &[&[u8]]) -> Self {
        let s = Scripted::default();
        s.answers
            .lock()
            .unwrap()
            .extend(answers.iter().map(|a| a.to_vec()));
        s
    }
    fn sent(&self) -> Vec<Vec<u8>> {
        self.sent.lock().unwrap().clone()
    }
}

impl SmartCard for Scripted {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.sent.lock().unwrap().push(apdu.to_vec());
        self.answers
            .lock()
            .unwrap()
            .pop_front()
            .ok_or_else(|| TransportError::Gone("pcsc:test".into()))
    }
    fn name(&self) -> String {
        "pcsc:test".into()
    }
}

fn link(card: &Scripted, length: Length) -> ApduLink<Scripted> {
    let mut l = ApduLink::new(card.clone(), length);
    l.poll_interval = Duration::from_millis(1);
    l
}

fn later() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

#[test]
fn short_and_extended_encodings() {
    let c = Command::new(0x00, 0xA4, 0x04, 0x00, FIDO_AID.to_vec());
    assert_eq!(
        c.encode_short().unwrap(),
        [
            0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01, 0x00
        ]
    );
    let mut ext = Command::new(0x80, 0x10, 0x80, 0x00, vec![0x04]);
    ext.ne = 65_536;
    assert_eq!(
        ext.encode_extended().unwrap(),
        [0x80, 0x10, 0x80, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00]
    );
    assert!(
        ext.encode_short().is_err(),
        "Ne 65536 does not fit a short APDU"
    );
    let mut no_le = Command::new(0x00, 0x01, 0, 0, vec![1, 2]);
    no_le.ne = 0;
    assert_eq!(no_le.encode_short().unwrap(), [0, 1, 0, 0, 2, 1, 2]);
}

#[test]
fn parse_reads_every_case_back() {
    let cases = [
        Command {
            ne: 0,
            ..Command::new(0, 1, 2, 3, vec![])
        },
        Command::new(0, 1, 2, 3, vec![]),
        Command {
            ne: 0,
            ..Command::new(0, 1, 2, 3, vec![9; 10])
        },
        Command::new(0, 1, 2, 3, vec![9; 10]),
    ];
    for c in cases {
        assert_eq!(Command::parse(&c.encode_short().unwrap()).unwrap(), c);
        assert_eq!(Command::parse(&c.encode_extended().unwrap()).unwrap(), c);
    }
    let big = Command::new(0, 2, 3, 0, vec![7; 1000]);
    assert_eq!(
        Command::parse(&big.encode_extended().unwrap()).unwrap(),
        big
    );
    for garbage in [
        &[0u8, 1][..],
        &[0, 1, 2, 3, 5, 1],
        &[0, 1, 2, 3, 0, 0, 9, 1],
    ] {
        assert!(Command::parse(garbage).is_err(), "{garbage:?}");
    }
}

#[test]
fn extended_header_only_command_has_no_stray_length_byte() {
    // Case 1 (no data, no Le): a trailing 00 would be read as Le = 256.
    let bare = Command {
        ne: 0,
        ..Command::new(0x00, 0xFF, 0xFF, 0x00, vec![])
    };
    assert_eq!(bare.encode_extended().unwrap(), [0x00, 0xFF, 0xFF, 0x00]);
    assert_eq!(
        Command::parse(&bare.encode_extended().unwrap()).unwrap().ne,
        0
    );
}

#[test]
fn long_data_is_chained_in_short_mode() {
    let card = Scripted::new(&[&[0x90, 0x00], &[0x90, 0x00], &[0xAB, 0x90, 0x00]]);
    let data: Vec<u8> = (0..600u32).map(|i| i as u8).collect();
    let r = link(&card, Length::Short)
        .exchange(&Command::new(0x80, 0x10, 0x80, 0x00, data.clone()))
        .unwrap();
    assert_eq!(
        r,
        Response {
            data: vec![0xAB],
            sw: SW_OK
        }
    );
    let sent = card.sent();
    assert_eq!(sent.len(), 3);
    assert_eq!(&sent[0][..5], &[0x90, 0x10, 0x80, 0x00, 255]);
    assert_eq!(&sent[1][..5], &[0x90, 0x10, 0x80, 0x00, 255]);
    assert_eq!(&sent[2][..5], &[0x80, 0x10, 0x80, 0x00, 90]);
    assert_eq!(sent[0].len(), 5 + 255, "no Le on a chained part");
    assert_eq!(*sent[2].last().unwrap(), 0x00, "Le 256 on the last part");
    let joined: Vec<u8> = sent
        .iter()
        .flat_map(|a| a[5..5 + usize::from(a[4])].to_vec())
        .collect();
    assert_eq!(joined, data);
}

#[test]
fn chaining_stops_at_a_refused_part() {
    let card = Scripted::new(&[&[0x69, 0x85]]);
    let r = link(&card, Length::Short)
        .exchange(&Command::new(0x80, 0x10, 0, 0, vec![0; 300]))
        .unwrap();
    assert_eq!(r.sw, 0x6985);
    assert_eq!(card.sent().len(), 1);
}

#[test]
fn long_data_is_one_apdu_in_extended_mode() {
    let card = Scripted::new(&[&[0x01, 0x02, 0x90, 0x00]]);
    let r = link(&card, Length::Extended)
        .exchange(&Command::new(0x80, 0x10, 0x80, 0x00, vec![5; 600]))
        .unwrap();
    assert_eq!(r.data, [1, 2]);
    let sent = card.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(&sent[0][..7], &[0x80, 0x10, 0x80, 0x00, 0x00, 0x02, 0x58]);
    assert_eq!(sent[0].len(), 7 + 600 + 2);
}

#[test]
fn answers_in_61xx_parts_are_collected_with_get_response() {
    let mut first = vec![0x11; 256];
    first.extend_from_slice(&[0x61, 0x00]);
    let mut second = vec![0x22; 256];
    second.extend_from_slice(&[0x61, 0x10]);
    let mut third = vec![0x33; 16];
    third.extend_from_slice(&[0x90, 0x00]);
    let card = Scripted::new(&[&first, &second, &third]);
    let r = link(&card, Length::Short)
        .exchange(&Command::new(0x00, 0x02, 0x03, 0x00, vec![1; 10]))
        .unwrap();
    assert_eq!(r.sw, SW_OK);
    assert_eq!(r.data.len(), 256 + 256 + 16);
    assert_eq!(r.data[300], 0x22);
    assert_eq!(r.data[527], 0x33);
    let sent = card.sent();
    assert_eq!(sent[1], [0x00, 0xC0, 0x00, 0x00, 0x00]);
    assert_eq!(sent[2], [0x00, 0xC0, 0x00, 0x00, 0x10]);
}

#[test]
fn endless_61xx_is_bounded() {
    let card = Scripted::new(&[]);
    {
        let mut answers = card.answers.lock().unwrap();
        for _ in 0..400 {
            let mut part = vec![0u8; 255];
            part.extend_from_slice(&[0x61, 0xFF]);
            answers.push_back(part);
        }
    }
    let err = link(&card, Length::Short)
        .exchange(&Command::new(0, 1, 0, 0, vec![]))
        .unwrap_err();
    assert!(matches!(err, CtapError::Oversized { .. }), "{err}");
}

#[test]
fn wrong_le_is_retried_once_with_the_right_one() {
    let card = Scripted::new(&[&[0x6C, 0x08], b"FIDO_2_0\x90\x00"]);
    let r = link(&card, Length::Short)
        .exchange(&Command::new(0x00, 0xA4, 0x04, 0x00, FIDO_AID.to_vec()))
        .unwrap();
    assert_eq!(r.data, b"FIDO_2_0");
    assert_eq!(*card.sent()[1].last().unwrap(), 0x08);
}

#[test]
fn select_tells_the_applet_versions_apart() {
    let card = Scripted::new(&[
        b"FIDO_2_0\x90\x00",
        b"U2F_V2\x90\x00",
        &[0x6A, 0x82],
        b"JUNK\x90\x00",
    ]);
    let mut l = link(&card, Length::Short);
    assert_eq!(l.select_fido().unwrap(), AppletVersion::Fido2);
    assert_eq!(l.select_fido().unwrap(), AppletVersion::U2fV2);
    assert!(matches!(
        l.select_fido(),
        Err(CtapError::U2f { sw: 0x6A82 })
    ));
    assert!(matches!(l.select_fido(), Err(CtapError::Malformed { .. })));
}

#[test]
fn still_processing_is_polled_with_getresponse() {
    let card = Scripted::new(&[
        &[0x02, 0x91, 0x00],
        &[0x02, 0x91, 0x00],
        &[0x00, 0xA1, 0x90, 0x00],
    ]);
    let mut seen = Vec::new();
    let answer = link(&card, Length::Short)
        .nfcctap(&[0x01, 0xA0], later(), &mut |s| {
            seen.push(s);
            Poll::Continue
        })
        .unwrap();
    assert_eq!(answer, [0x00, 0xA1]);
    assert_eq!(
        seen,
        [2, 2],
        "the card's keep-alive status reaches the caller"
    );
    let sent = card.sent();
    assert_eq!(sent[0], [0x80, 0x10, 0x80, 0x00, 0x02, 0x01, 0xA0, 0x00]);
    assert_eq!(sent[1], [0x80, 0x11, 0x00, 0x00, 0x00]);
    assert_eq!(sent[2], [0x80, 0x11, 0x00, 0x00, 0x00]);
}

#[test]
fn polling_stops_on_cancel_and_at_the_deadline() {
    let card = Scripted::new(&[&[0x02, 0x91, 0x00]]);
    let err = link(&card, Length::Short)
        .nfcctap(&[0x01], later(), &mut |_| Poll::Cancel)
        .unwrap_err();
    assert!(matches!(err, CtapError::Cancelled), "{err}");
    assert_eq!(
        card.sent()[1],
        [0x80, 0x11, P1_CANCEL, 0x00, 0x00],
        "the card is told"
    );
    let card = Scripted::new(&[&[0x01, 0x91, 0x00]]);
    let err = link(&card, Length::Short)
        .nfcctap(&[0x01], Instant::now(), &mut |_| Poll::Continue)
        .unwrap_err();
    assert!(
        matches!(err, CtapError::Transport(TransportError::Timeout(_))),
        "{err}"
    );
}

#[test]
fn refusals_garbage_and_removal_are_errors() {
    let card = Scripted::new(&[&[0x6D, 0x00], &[0x90], &[]]);
    let mut l = link(&card, Length::Short);
    assert!(matches!(
        l.nfcctap(&[0x04], later(), &mut |_| Poll::Continue),
        Err(CtapError::U2f { sw: 0x6D00 })
    ));
    assert!(matches!(
        l.nfcctap(&[0x04], later(), &mut |_| Poll::Continue),
        Err(CtapError::Malformed { .. })
    ));
    assert!(matches!(
        l.nfcctap(&[0x04], later(), &mut |_| Poll::Continue),
        Err(CtapError::Malformed { .. })
    ));
    assert!(matches!(
        l.nfcctap(&[0x04], later(), &mut |_| Poll::Continue),
        Err(CtapError::Transport(TransportError::Gone(_)))
    ));
}
