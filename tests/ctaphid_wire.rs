//! CTAPHID on the wire: the host side (`ctap::ctaphid::CtapHid`) against
//! scripted fake devices. The fake devices frame and parse reports by hand
//! (not with the code under test), one thread each, over the in-process
//! transport and over UDP loopback.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use fido_doctor::ctap::CtapError;
use fido_doctor::ctap::ctaphid::{CancelHandle, CtapHid, HidEvent, HidOptions};
use fido_doctor::ctap::status::{CtapStatus, HidErrorCode};
use fido_doctor::transport::inproc::{self, InProcPeer, InProcTransport};
use fido_doctor::transport::udp::{UdpPeer, UdpTransport};
use fido_doctor::transport::{Report, TransportError};

const BROADCAST: u32 = 0xFFFF_FFFF;
const CID: u32 = 0x1234_5678;
const PING: u8 = 0x01;
const MSG: u8 = 0x03;
const INIT: u8 = 0x06;
const WINK: u8 = 0x08;
const CBOR: u8 = 0x10;
const CANCEL: u8 = 0x11;
const KEEPALIVE: u8 = 0x3B;
const ERROR: u8 = 0x3F;
/// Capabilities: WINK | CBOR.
const CAPS_FIDO2: u8 = 0x05;
/// How long a fake device waits for the client before giving up.
const DEV_WAIT: Duration = Duration::from_secs(10);

/// A request as the fake device parsed it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Req {
    cid: u32,
    cmd: u8,
    data: Vec<u8>,
}

/// Builds the reports for one message, independently of the library.
fn frames(cid: u32, cmd: u8, data: &[u8]) -> Vec<Report> {
    let mut out = Vec::new();
    let mut first = [0u8; 64];
    first[..4].copy_from_slice(&cid.to_be_bytes());
    first[4] = 0x80 | cmd;
    first[5] = (data.len() >> 8) as u8;
    first[6] = data.len() as u8;
    let n = data.len().min(57);
    first[7..7 + n].copy_from_slice(&data[..n]);
    out.push(first);
    let mut seq = 0u8;
    let mut rest = &data[n..];
    while !rest.is_empty() {
        let n = rest.len().min(59);
        let mut r = [0u8; 64];
        r[..4].copy_from_slice(&cid.to_be_bytes());
        r[4] = seq;
        r[5..5 + n].copy_from_slice(&rest[..n]);
        out.push(r);
        seq += 1;
        rest = &rest[n..];
    }
    out
}

fn cid_of(r: &Report) -> u32 {
    u32::from_be_bytes([r[0], r[1], r[2], r[3]])
}

/// The device end of a scripted fake authenticator.
struct Dev {
    peer: InProcPeer,
}

impl Dev {
    fn recv_report(&self) -> Report {
        self.peer
            .rx
            .recv_timeout(DEV_WAIT)
            .expect("client sent nothing")
    }

    /// Reads one complete request.
    fn request(&self) -> Req {
        let first = self.recv_report();
        assert!(
            first[4] & 0x80 != 0,
            "request must start with an init packet"
        );
        let len = usize::from(u16::from_be_bytes([first[5], first[6]]));
        let mut data = first[7..7 + len.min(57)].to_vec();
        let mut seq = 0;
        while data.len() < len {
            let r = self.recv_report();
            assert_eq!(cid_of(&r), cid_of(&first));
            assert_eq!(r[4], seq, "client continuation sequence");
            let n = (len - data.len()).min(59);
            data.extend_from_slice(&r[5..5 + n]);
            seq += 1;
        }
        Req {
            cid: cid_of(&first),
            cmd: first[4] & 0x7F,
            data,
        }
    }

    /// Like [`Dev::request`], but `None` once the client has gone.
    fn try_request(&self) -> Option<Req> {
        let first = self.peer.rx.recv_timeout(DEV_WAIT).ok()?;
        assert!(first[4] & 0x80 != 0);
        let len = usize::from(u16::from_be_bytes([first[5], first[6]]));
        assert!(len <= 57, "only short requests expected here");
        Some(Req {
            cid: cid_of(&first),
            cmd: first[4] & 0x7F,
            data: first[7..7 + len].to_vec(),
        })
    }

    fn send(&self, cid: u32, cmd: u8, data: &[u8]) {
        for r in frames(cid, cmd, data) {
            self.send_report(r);
        }
    }

    fn send_report(&self, r: Report) {
        // The client may have finished already; that is not the device's problem.
        let _ = self.peer.tx.send(r);
    }

    /// Answers INIT with channel `cid`, echoing the nonce.
    fn init(&self, cid: u32, caps: u8) -> Req {
        let req = self.request();
        assert_eq!(req.cid, BROADCAST);
        assert_eq!(req.cmd, INIT);
        assert_eq!(req.data.len(), 8);
        self.send(BROADCAST, INIT, &init_payload(&req.data, cid, caps));
        req
    }

    /// Keeps the link open until the client goes away.
    fn linger(&self) {
        while self.peer.rx.recv_timeout(DEV_WAIT).is_ok() {}
    }
}

fn init_payload(nonce: &[u8], cid: u32, caps: u8) -> Vec<u8> {
    let mut p = nonce.to_vec();
    p.extend_from_slice(&cid.to_be_bytes());
    p.extend_from_slice(&[2, 5, 4, 3, caps]);
    p
}

fn fake(script: impl FnOnce(Dev) + Send + 'static) -> (InProcTransport, JoinHandle<()>) {
    let (client, peer) = inproc::pair("sim:wire-test");
    let h = thread::spawn(move || script(Dev { peer }));
    (client, h)
}

fn fast() -> HidOptions {
    HidOptions {
        response_timeout: Duration::from_secs(5),
        packet_timeout: Duration::from_millis(500),
        init_timeout: Duration::from_secs(5),
        ..HidOptions::default()
    }
}

fn no_events() -> impl FnMut(HidEvent) {
    |_| {}
}

#[test]
fn init_allocates_the_channel_and_reports_capabilities() {
    let (t, dev) = fake(|d| {
        d.init(CID, CAPS_FIDO2);
        d.linger();
    });
    let hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    let info = hid.init_info();
    assert_eq!(info.channel, CID);
    assert_eq!(info.protocol_version, 2);
    assert_eq!(info.device_version, (5, 4, 3));
    assert!(info.capabilities.cbor && info.capabilities.wink && !info.capabilities.nmsg);
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn init_responses_with_other_nonces_are_skipped() {
    let (t, dev) = fake(|d| {
        let req = d.request();
        let mut other = req.data.clone();
        other[0] ^= 0xFF;
        d.send(
            BROADCAST,
            INIT,
            &init_payload(&other, 0x0BAD_0BAD, CAPS_FIDO2),
        );
        d.send(BROADCAST, INIT, &init_payload(&req.data, CID, CAPS_FIDO2));
        d.linger();
    });
    let hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    assert_eq!(hid.init_info().channel, CID);
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn only_foreign_nonces_is_nonce_mismatch() {
    let (t, dev) = fake(|d| {
        let req = d.request();
        let mut other = req.data.clone();
        other[7] ^= 0x01;
        for _ in 0..40 {
            d.send(
                BROADCAST,
                INIT,
                &init_payload(&other, 0x0BAD_0BAD, CAPS_FIDO2),
            );
        }
        d.linger();
    });
    assert!(matches!(
        CtapHid::open(t, fast(), CancelHandle::default()),
        Err(CtapError::NonceMismatch)
    ));
    dev.join().unwrap();
}

#[test]
fn large_ping_crosses_both_ways() {
    let data: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 251) as u8).collect();
    let (seen_tx, seen_rx) = mpsc::channel();
    let (t, dev) = fake(move |d| {
        d.init(CID, CAPS_FIDO2);
        let req = d.request();
        d.send(req.cid, req.cmd, &req.data);
        seen_tx.send(req).unwrap();
        d.linger();
    });
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    hid.ping(&data).unwrap();
    let seen = seen_rx.recv_timeout(DEV_WAIT).unwrap();
    assert_eq!(seen.cid, CID);
    assert_eq!(seen.cmd, PING);
    assert_eq!(seen.data, data);
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn ping_with_a_wrong_echo_is_malformed() {
    let (t, dev) = fake(|d| {
        d.init(CID, CAPS_FIDO2);
        let req = d.request();
        let mut echo = req.data.clone();
        echo[0] ^= 1;
        d.send(req.cid, PING, &echo);
        d.linger();
    });
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    assert!(matches!(
        hid.ping(b"hello"),
        Err(CtapError::Malformed { .. })
    ));
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn reports_for_other_channels_are_ignored() {
    let (t, dev) = fake(|d| {
        d.init(CID, CAPS_FIDO2);
        let req = d.request();
        assert_eq!(req.cmd, CBOR);
        assert_eq!(req.data, vec![0x04]);
        // Another program's exchange interleaved with ours.
        let theirs = frames(0x0BAD_0BAD, CBOR, &[0x31; 100]);
        let ours = frames(CID, CBOR, &[0x00; 100]);
        for (a, b) in theirs.into_iter().zip(ours) {
            d.send_report(a);
            d.send_report(b);
        }
        d.linger();
    });
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    let resp = hid.cbor(0x04, &[], &mut no_events()).unwrap();
    assert_eq!(resp, vec![0u8; 99]);
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn out_of_order_continuation_is_bad_sequence() {
    let (t, dev) = fake(|d| {
        d.init(CID, CAPS_FIDO2);
        d.request();
        let mut r = frames(CID, CBOR, &[0u8; 200]);
        r[2][4] = 2; // should be 1
        for rep in r {
            d.send_report(rep);
        }
        d.linger();
    });
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    let err = hid.cbor(0x04, &[], &mut no_events()).unwrap_err();
    assert!(
        matches!(
            err,
            CtapError::BadSequence {
                expected: 1,
                got: 2
            }
        ),
        "{err:?}"
    );
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn declared_length_beyond_the_limit_is_oversized() {
    let (t, dev) = fake(|d| {
        d.init(CID, CAPS_FIDO2);
        d.request();
        let mut r = [0u8; 64];
        r[..4].copy_from_slice(&CID.to_be_bytes());
        r[4] = 0x80 | CBOR;
        r[5..7].copy_from_slice(&8000u16.to_be_bytes());
        d.send_report(r);
        d.linger();
    });
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    let err = hid.cbor(0x04, &[], &mut no_events()).unwrap_err();
    assert!(
        matches!(
            err,
            CtapError::Oversized {
                len: 8000,
                max: 7609
            }
        ),
        "{err:?}"
    );
    drop(hid);
    dev.join().unwrap();

    // A smaller configured limit applies too.
    let (t, dev) = fake(|d| {
        d.init(CID, CAPS_FIDO2);
        d.request();
        let mut r = [0u8; 64];
        r[..4].copy_from_slice(&CID.to_be_bytes());
        r[4] = 0x80 | CBOR;
        r[5..7].copy_from_slice(&2000u16.to_be_bytes());
        d.send_report(r);
        d.linger();
    });
    let opts = HidOptions {
        max_message: 1024,
        ..fast()
    };
    let mut hid = CtapHid::open(t, opts, CancelHandle::default()).unwrap();
    let err = hid.cbor(0x04, &[], &mut no_events()).unwrap_err();
    assert!(
        matches!(
            err,
            CtapError::Oversized {
                len: 2000,
                max: 1024
            }
        ),
        "{err:?}"
    );
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn oversized_request_is_refused_before_sending() {
    let (t, dev) = fake(|d| {
        d.init(CID, CAPS_FIDO2);
        // Nothing else may arrive.
        assert!(d.peer.rx.recv_timeout(Duration::from_millis(300)).is_err());
    });
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    let err = hid
        .cbor(0x01, &vec![0u8; 7609], &mut no_events())
        .unwrap_err();
    assert!(
        matches!(err, CtapError::Oversized { len: 7610, .. }),
        "{err:?}"
    );
    dev.join().unwrap();
}

#[test]
fn silence_is_no_answer() {
    let (t, dev) = fake(|d| {
        d.init(CID, CAPS_FIDO2);
        d.request();
        d.linger();
    });
    let opts = HidOptions {
        response_timeout: Duration::from_millis(300),
        ..fast()
    };
    let mut hid = CtapHid::open(t, opts, CancelHandle::default()).unwrap();
    let err = hid.cbor(0x04, &[], &mut no_events()).unwrap_err();
    assert!(matches!(err, CtapError::NoAnswer(_)), "{err:?}");
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn silent_device_at_init_is_no_answer() {
    let (t, dev) = fake(|d| {
        d.request();
        d.linger();
    });
    let opts = HidOptions {
        init_timeout: Duration::from_millis(300),
        ..fast()
    };
    let err = CtapHid::open(t, opts, CancelHandle::default())
        .err()
        .unwrap();
    assert!(matches!(err, CtapError::NoAnswer(_)), "{err:?}");
    dev.join().unwrap();
}

#[test]
fn stalled_multi_packet_response_is_a_key_that_stopped() {
    let (t, dev) = fake(|d| {
        d.init(CID, CAPS_FIDO2);
        d.request();
        let r = frames(CID, CBOR, &[0u8; 300]);
        d.send_report(r[0]);
        d.send_report(r[1]);
        d.linger();
    });
    let opts = HidOptions {
        packet_timeout: Duration::from_millis(200),
        ..fast()
    };
    let mut hid = CtapHid::open(t, opts, CancelHandle::default()).unwrap();
    let err = hid.cbor(0x04, &[], &mut no_events()).unwrap_err();
    assert!(
        matches!(err, CtapError::StoppedAnswering(d) if d == Duration::from_millis(200)),
        "{err:?}"
    );
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn error_frame_becomes_the_hid_code() {
    let (t, dev) = fake(|d| {
        d.init(CID, CAPS_FIDO2);
        d.request();
        d.send(CID, ERROR, &[0x0B]);
        d.linger();
    });
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    let err = hid.cbor(0x04, &[], &mut no_events()).unwrap_err();
    assert!(
        matches!(err, CtapError::Hid(HidErrorCode::InvalidChannel)),
        "{err:?}"
    );
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn error_frame_at_init_becomes_the_hid_code() {
    let (t, dev) = fake(|d| {
        d.request();
        d.send(BROADCAST, ERROR, &[0x0B]);
        d.linger();
    });
    let err = CtapHid::open(t, fast(), CancelHandle::default())
        .err()
        .unwrap();
    assert!(
        matches!(err, CtapError::Hid(HidErrorCode::InvalidChannel)),
        "{err:?}"
    );
    dev.join().unwrap();
}

#[test]
fn keepalives_are_delivered_then_the_response() {
    let (t, dev) = fake(|d| {
        d.init(CID, CAPS_FIDO2);
        let req = d.request();
        assert_eq!(req.data, vec![0x01, 0xA0]);
        d.send(CID, KEEPALIVE, &[1]);
        d.send(CID, KEEPALIVE, &[2]);
        d.send(CID, KEEPALIVE, &[2]);
        d.send(CID, KEEPALIVE, &[9]); // unknown status: ignored
        d.send(CID, CBOR, &[0x00, 0xA1, 0x01, 0x02]);
        d.linger();
    });
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    let mut events = Vec::new();
    let resp = hid.cbor(0x01, &[0xA0], &mut |e| events.push(e)).unwrap();
    assert_eq!(resp, vec![0xA1, 0x01, 0x02]);
    assert_eq!(
        events,
        vec![HidEvent::Processing, HidEvent::UpNeeded, HidEvent::UpNeeded]
    );
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn non_zero_status_is_a_typed_error_and_empty_is_malformed() {
    let (t, dev) = fake(|d| {
        d.init(CID, CAPS_FIDO2);
        d.request();
        d.send(CID, CBOR, &[0x31]);
        d.request();
        d.send(CID, CBOR, &[]);
        d.linger();
    });
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    let err = hid.cbor(0x06, &[0xA0], &mut no_events()).unwrap_err();
    assert!(
        matches!(err, CtapError::Status(CtapStatus::PinInvalid)),
        "{err:?}"
    );
    let err = hid.cbor(0x06, &[0xA0], &mut no_events()).unwrap_err();
    assert!(matches!(err, CtapError::Malformed { .. }), "{err:?}");
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn answer_to_another_command_is_unexpected() {
    let (t, dev) = fake(|d| {
        d.init(CID, CAPS_FIDO2);
        d.request();
        d.send(CID, MSG, &[0x90, 0x00]);
        d.linger();
    });
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    let err = hid.cbor(0x04, &[], &mut no_events()).unwrap_err();
    assert!(
        matches!(
            err,
            CtapError::UnexpectedCommand {
                expected: CBOR,
                got: MSG
            }
        ),
        "{err:?}"
    );
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn u2f_message_returns_the_raw_response() {
    let (t, dev) = fake(|d| {
        d.init(CID, 0x01); // U2F-only: no CBOR
        let req = d.request();
        assert_eq!(req.cmd, MSG);
        assert_eq!(req.data, vec![0x00, 0x03, 0x00, 0x00]);
        d.send(CID, MSG, b"U2F_V2\x90\x00");
        d.linger();
    });
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    assert!(!hid.init_info().capabilities.cbor);
    let err = hid.cbor(0x04, &[], &mut no_events()).unwrap_err();
    assert!(matches!(err, CtapError::NotSupported(_)), "{err:?}");
    let resp = hid
        .msg(&[0x00, 0x03, 0x00, 0x00], &mut no_events())
        .unwrap();
    assert_eq!(resp, b"U2F_V2\x90\x00");
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn wink_is_sent_when_supported() {
    let (seen_tx, seen_rx) = mpsc::channel();
    let (t, dev) = fake(move |d| {
        d.init(CID, CAPS_FIDO2);
        let req = d.request();
        d.send(CID, WINK, &[]);
        seen_tx.send(req).unwrap();
        d.linger();
    });
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    hid.wink().unwrap();
    let req = seen_rx.recv_timeout(DEV_WAIT).unwrap();
    assert_eq!((req.cid, req.cmd, req.data.len()), (CID, WINK, 0));
    drop(hid);
    dev.join().unwrap();

    let (t, dev) = fake(|d| {
        d.init(CID, 0x04); // CBOR without WINK
        d.linger();
    });
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    assert!(matches!(hid.wink(), Err(CtapError::NotSupported(_))));
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn cancel_from_another_thread_sends_cancel_and_returns_cancelled() {
    let (saw_tx, saw_rx) = mpsc::channel();
    let (t, dev) = fake(move |d| {
        d.init(CID, CAPS_FIDO2);
        d.request();
        // Waiting for a touch: keep-alives until a CANCEL arrives.
        loop {
            d.send(CID, KEEPALIVE, &[2]);
            match d.peer.rx.recv_timeout(Duration::from_millis(20)) {
                Ok(r) if cid_of(&r) == CID && r[4] == 0x80 | CANCEL => {
                    saw_tx.send(true).unwrap();
                    d.send(CID, CBOR, &[0x2D]);
                    break;
                }
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
        d.linger();
    });
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    let handle = hid.cancel_handle();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let canceller = thread::spawn(move || {
        go_rx.recv_timeout(DEV_WAIT).unwrap();
        handle.cancel();
    });
    let mut go = Some(go_tx);
    let err = hid
        .cbor(0x01, &[0xA0], &mut |e| {
            if e == HidEvent::UpNeeded
                && let Some(g) = go.take()
            {
                g.send(()).unwrap();
            }
        })
        .unwrap_err();
    assert!(matches!(err, CtapError::Cancelled), "{err:?}");
    assert!(saw_rx.recv_timeout(DEV_WAIT).unwrap());
    canceller.join().unwrap();
    // Still cancelled until reset; nothing is sent meanwhile.
    assert!(matches!(
        hid.cbor(0x04, &[], &mut no_events()),
        Err(CtapError::Cancelled)
    ));
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn an_external_cancel_handle_stops_commands_before_sending() {
    let (t, dev) = fake(|d| {
        d.init(CID, CAPS_FIDO2);
        // Nothing may be sent after INIT.
        assert!(d.peer.rx.recv_timeout(Duration::from_millis(300)).is_err());
    });
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    let external = fido_doctor::ctap::ctaphid::CancelHandle::default();
    hid.set_cancel_handle(external.clone());
    external.cancel();
    assert!(matches!(hid.ping(b"x"), Err(CtapError::Cancelled)));
    assert!(hid.cancel_handle().is_cancelled());
    dev.join().unwrap();
}

#[test]
fn late_answers_to_an_abandoned_request_are_drained() {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (sent_tx, sent_rx) = mpsc::channel::<()>();
    let (t, dev) = fake(move |d| {
        d.init(CID, CAPS_FIDO2);
        d.request();
        // Answer only after the client has given up.
        go_rx.recv_timeout(DEV_WAIT).unwrap();
        d.send(CID, CBOR, &[0x00, 0x01]);
        sent_tx.send(()).unwrap();
        // Every later request gets the fresh answer (the client's
        // CTAPHID_CANCEL for the abandoned one needs none).
        while let Some(req) = d.try_request() {
            if req.cmd == CANCEL {
                continue;
            }
            assert_eq!(req.data, vec![0x04]);
            d.send(CID, CBOR, &[0x00, 0x02]);
        }
    });
    let opts = HidOptions {
        response_timeout: Duration::from_millis(200),
        ..fast()
    };
    let mut hid = CtapHid::open(t, opts, CancelHandle::default()).unwrap();
    assert!(matches!(
        hid.cbor(0x04, &[], &mut no_events()),
        Err(CtapError::NoAnswer(_))
    ));
    go_tx.send(()).unwrap();
    // The stale answer is now queued in the channel.
    sent_rx.recv_timeout(DEV_WAIT).unwrap();
    let mut again = None;
    // A slow machine may time out the fresh answer too; the stale one must never be returned.
    for _ in 0..10 {
        match hid.cbor(0x04, &[], &mut no_events()) {
            Ok(r) => {
                again = Some(r);
                break;
            }
            Err(CtapError::NoAnswer(_)) => continue,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(again, Some(vec![0x02]));
    drop(hid);
    dev.join().unwrap();
}

#[test]
fn device_dropped_is_gone() {
    let (t, dev) = fake(|d| {
        d.init(CID, CAPS_FIDO2);
        d.request();
        // Unplugged: the device end disappears.
    });
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    let err = hid.cbor(0x04, &[], &mut no_events()).unwrap_err();
    dev.join().unwrap();
    assert!(
        matches!(err, CtapError::Transport(TransportError::Gone(_))),
        "{err:?}"
    );
}

#[test]
fn init_and_ping_over_udp_loopback() {
    let lo = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut peer = UdpPeer::bind(lo).unwrap();
    let remote = peer.local_addr().unwrap();
    let dev = thread::spawn(move || {
        // A tiny UDP authenticator: answers INIT, then echoes one PING.
        let mut reqs = Vec::new();
        let mut pending: Option<(Report, Vec<u8>)> = None;
        while reqs.len() < 2 {
            let r = peer.recv(DEV_WAIT).unwrap();
            let data = match pending.take() {
                None if r[4] & 0x80 != 0 => {
                    let len = usize::from(u16::from_be_bytes([r[5], r[6]]));
                    (r, r[7..7 + len.min(57)].to_vec(), len)
                }
                Some((first, mut so_far)) => {
                    let len = usize::from(u16::from_be_bytes([first[5], first[6]]));
                    let n = (len - so_far.len()).min(59);
                    so_far.extend_from_slice(&r[5..5 + n]);
                    (first, so_far, len)
                }
                None => panic!("stray continuation"),
            };
            let (first, bytes, len) = data;
            if bytes.len() < len {
                pending = Some((first, bytes));
                continue;
            }
            let cmd = first[4] & 0x7F;
            let reply = if cmd == INIT {
                frames(BROADCAST, INIT, &init_payload(&bytes, CID, CAPS_FIDO2))
            } else {
                frames(cid_of(&first), cmd, &bytes)
            };
            for rep in reply {
                peer.send(&rep).unwrap();
            }
            reqs.push((cid_of(&first), cmd, bytes));
        }
        reqs
    });
    let t = UdpTransport::open(remote, lo).unwrap();
    let mut hid = CtapHid::open(t, fast(), CancelHandle::default()).unwrap();
    assert_eq!(hid.init_info().channel, CID);
    let data: Vec<u8> = (0..200u8).collect();
    hid.ping(&data).unwrap();
    let reqs = dev.join().unwrap();
    assert_eq!(reqs[0].0, BROADCAST);
    assert_eq!(reqs[0].1, INIT);
    assert_eq!(reqs[1], (CID, PING, data));
}
