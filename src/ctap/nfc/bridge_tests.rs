//! The CTAPHID face of an NFC card, against a scripted card.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::*;
use crate::ctap::ctaphid::packet::Reassembler;

/// What a card was sent.
type Sent = Arc<Mutex<Vec<Vec<u8>>>>;

/// A card whose answers are computed from each command.
struct Card<F: FnMut(&[u8]) -> Option<Vec<u8>> + Send> {
    answer: F,
    sent: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl<F: FnMut(&[u8]) -> Option<Vec<u8>> + Send> SmartCard for Card<F> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.sent.lock().unwrap().push(apdu.to_vec());
        (self.answer)(apdu).ok_or_else(|| TransportError::Gone("pcsc:test".into()))
    }
    fn name(&self) -> String {
        "pcsc:test".into()
    }
}

/// A CTAP2-only card: getInfo-like answers after two 0x9100 rounds; removed
/// from the reader on a command with INS 0x10 and data byte 0xEE.
fn fido2_card() -> (impl SmartCard + 'static, Sent) {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let mut polls = VecDeque::from([vec![0x02, 0x91, 0x00], vec![0x02, 0x91, 0x00]]);
    let card = Card {
        answer: move |apdu: &[u8]| match apdu[1] {
            0xA4 => Some(b"FIDO_2_0\x90\x00".to_vec()),
            0x10 if apdu.get(5) == Some(&0xEE) => None,
            0x10 if apdu[0] & 0x10 != 0 => Some(vec![0x90, 0x00]),
            0x10 => Some(vec![0x02, 0x91, 0x00]),
            0x11 => Some(
                polls
                    .pop_front()
                    .unwrap_or_else(|| vec![0x00, 0xA0, 0x90, 0x00]),
            ),
            _ => Some(vec![0x6D, 0x00]),
        },
        sent: Arc::clone(&sent),
    };
    (card, sent)
}

fn request(t: &mut NfcTransport, cid: u32, command: u8, data: &[u8]) {
    for r in fragment(cid, command, data).unwrap() {
        t.send(&r).unwrap();
    }
}

fn answer(t: &mut NfcTransport, cid: u32) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    loop {
        let mut asm = Reassembler::new(cid, MAX_MESSAGE);
        let msg = loop {
            let r = t.recv(Duration::from_secs(2)).unwrap();
            if let Some(m) = asm.push(&r).unwrap() {
                break m;
            }
        };
        let done = msg.cmd != cmd::KEEPALIVE;
        out.push((msg.cmd, msg.data));
        if done {
            return out;
        }
    }
}

fn init(t: &mut NfcTransport) -> (u32, Vec<u8>) {
    request(t, BROADCAST_CID, cmd::INIT, b"12345678");
    let (c, data) = answer(t, BROADCAST_CID).pop().unwrap();
    assert_eq!(c, cmd::INIT);
    assert_eq!(&data[..8], b"12345678");
    (
        u32::from_be_bytes([data[8], data[9], data[10], data[11]]),
        data,
    )
}

#[test]
fn init_is_synthesized_from_the_applet() {
    let (card, _) = fido2_card();
    let mut t = NfcTransport::open(card, Length::Short).unwrap();
    let (cid, data) = init(&mut t);
    assert_ne!(cid, BROADCAST_CID);
    assert_eq!(data[12], SYNTH_PROTOCOL_VERSION);
    assert_eq!(&data[13..16], &SYNTH_DEVICE_VERSION);
    assert_eq!(data[16], CAP_CBOR | CAP_NMSG, "FIDO_2_0: CBOR, no U2F");
    request(&mut t, cid, cmd::MSG, &[0, 3, 0, 0]);
    assert_eq!(answer(&mut t, cid), [(cmd::ERROR, vec![ERR_INVALID_CMD])]);
    request(&mut t, cid, cmd::PING, &[7; 100]);
    assert_eq!(answer(&mut t, cid), [(cmd::PING, vec![7; 100])]);
}

#[test]
fn cbor_becomes_nfcctap_msg_with_keepalives() {
    let (card, sent) = fido2_card();
    let mut t = NfcTransport::open(card, Length::Short).unwrap();
    let (cid, _) = init(&mut t);
    let big = vec![0x42; 400];
    request(&mut t, cid, cmd::CBOR, &big);
    let msgs = answer(&mut t, cid);
    assert_eq!(msgs.first(), Some(&(cmd::KEEPALIVE, vec![2])), "{msgs:?}");
    assert_eq!(msgs.last(), Some(&(cmd::CBOR, vec![0x00, 0xA0])));
    let sent = sent.lock().unwrap();
    // SELECT, two chained NFCCTAP_MSG parts, then GETRESPONSE polls.
    assert_eq!(sent[1][..2], [0x90, 0x10]);
    assert_eq!(sent[2][..2], [0x80, 0x10]);
    assert_eq!(sent[3][..2], [0x80, 0x11]);
}

#[test]
fn a_card_taken_off_the_reader_is_gone() {
    let (card, _) = fido2_card();
    let mut t = NfcTransport::open(card, Length::Short).unwrap();
    let (cid, _) = init(&mut t);
    request(&mut t, cid, cmd::CBOR, &[0xEE]);
    let err = t.recv(Duration::from_secs(2)).unwrap_err();
    assert!(matches!(err, TransportError::Gone(_)), "{err}");
    assert!(matches!(
        t.recv(Duration::from_millis(10)),
        Err(TransportError::Gone(_))
    ));
}

#[test]
fn cancel_stops_the_polling() {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let card = Card {
        answer: |apdu: &[u8]| match apdu[1] {
            0xA4 => Some(b"FIDO_2_0\x90\x00".to_vec()),
            _ => Some(vec![0x02, 0x91, 0x00]),
        },
        sent,
    };
    let mut t = NfcTransport::open(card, Length::Short).unwrap();
    let (cid, _) = init(&mut t);
    request(&mut t, cid, cmd::CBOR, &[0x01]);
    let first = t.recv(Duration::from_secs(2)).unwrap();
    assert_eq!(first[4], 0x80 | cmd::KEEPALIVE);
    request(&mut t, cid, cmd::CANCEL, &[]);
    let msgs = answer(&mut t, cid);
    assert_eq!(
        msgs.last(),
        Some(&(cmd::CBOR, vec![CtapStatus::KeepaliveCancel.code()]))
    );
}

#[test]
fn u2f_applet_without_ctap2_is_u2f_only_and_no_applet_is_not_found() {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let card = Card {
        answer: |apdu: &[u8]| match (apdu[0], apdu[1]) {
            (0x00, 0xA4) => Some(b"U2F_V2\x90\x00".to_vec()),
            (0x00, 0x03) => Some(b"U2F_V2\x90\x00".to_vec()),
            _ => Some(vec![0x6D, 0x00]),
        },
        sent: Arc::clone(&sent),
    };
    let mut t = NfcTransport::open(card, Length::Short).unwrap();
    assert!(t.applet().u2f && !t.applet().ctap2);
    let (cid, data) = init(&mut t);
    assert_eq!(data[16], 0, "no CBOR, U2F allowed");
    // U2F VERSION as CTAPHID_MSG carries it (extended encoding).
    request(
        &mut t,
        cid,
        cmd::MSG,
        &[0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00],
    );
    assert_eq!(
        answer(&mut t, cid),
        [(cmd::MSG, b"U2F_V2\x90\x00".to_vec())]
    );

    let none = Card {
        answer: |_: &[u8]| Some(vec![0x6A, 0x82]),
        sent,
    };
    let err = NfcTransport::open(none, Length::Short).err().unwrap();
    assert!(matches!(err, TransportError::NotFound(_)), "{err}");
    assert!(err.to_string().contains("not a FIDO security key"), "{err}");
}
