//! CTAPHID the way a careful platform behaves, against scripted fake keys:
//! every give-up sends CTAPHID_CANCEL, a busy channel is retried, waits
//! follow the key (quick commands end within a second of silence, a key
//! whose keep-alives stop ends within 1.5 s), and a key's answer to our own
//! cancel reads as "cancelled", never as a refusal. The fake keys frame
//! reports by hand, not with the code under test.

use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use fido_doctor::ctap::CtapError;
use fido_doctor::ctap::ctaphid::{CancelHandle, CtapHid, HidEvent, HidOptions};
use fido_doctor::ctap::probe::{self, FailureCode, NoPin, ProbeEvent, ProbeOptions};
use fido_doctor::ctap::status::{CtapStatus, HidErrorCode};
use fido_doctor::transport::Report;
use fido_doctor::transport::inproc::{self, InProcPeer, InProcTransport};

const BROADCAST: u32 = 0xFFFF_FFFF;
const CID: u32 = 0x0BAD_CAFE;
const INIT: u8 = 0x06;
const CBOR: u8 = 0x10;
const CANCEL: u8 = 0x11;
const KEEPALIVE: u8 = 0x3B;
const ERROR: u8 = 0x3F;
const CAPS_FIDO2: u8 = 0x05;
const DEV_WAIT: Duration = Duration::from_secs(10);

/// One request as the fake key parsed it (single-packet requests only).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Req {
    cid: u32,
    cmd: u8,
    data: Vec<u8>,
}

fn frame(cid: u32, cmd: u8, data: &[u8]) -> Report {
    assert!(data.len() <= 57);
    let mut r = [0u8; 64];
    r[..4].copy_from_slice(&cid.to_be_bytes());
    r[4] = 0x80 | cmd;
    r[5] = (data.len() >> 8) as u8;
    r[6] = data.len() as u8;
    r[7..7 + data.len()].copy_from_slice(data);
    r
}

struct Key {
    peer: InProcPeer,
}

impl Key {
    fn next(&self, wait: Duration) -> Option<Req> {
        let r = self.peer.rx.recv_timeout(wait).ok()?;
        let len = usize::from(u16::from_be_bytes([r[5], r[6]])).min(57);
        Some(Req {
            cid: u32::from_be_bytes([r[0], r[1], r[2], r[3]]),
            cmd: r[4] & 0x7F,
            data: r[7..7 + len].to_vec(),
        })
    }

    fn request(&self) -> Req {
        self.next(DEV_WAIT).expect("the client sent nothing")
    }

    fn send(&self, cmd: u8, data: &[u8]) {
        let _ = self.peer.tx.send(frame(CID, cmd, data));
    }

    fn init(&self) {
        let req = self.request();
        assert_eq!((req.cid, req.cmd), (BROADCAST, INIT));
        let mut p = req.data.clone();
        p.extend_from_slice(&CID.to_be_bytes());
        p.extend_from_slice(&[2, 1, 0, 0, CAPS_FIDO2]);
        let _ = self.peer.tx.send(frame(BROADCAST, INIT, &p));
    }

    /// Reads requests until the client goes away; returns them.
    fn rest(&self) -> Vec<Req> {
        let mut out = Vec::new();
        while let Some(r) = self.next(Duration::from_secs(3)) {
            out.push(r);
        }
        out
    }
}

fn fake<R: Send + 'static>(
    script: impl FnOnce(Key) -> R + Send + 'static,
) -> (InProcTransport, JoinHandle<R>) {
    let (client, peer) = inproc::pair("sim:platform-test");
    (client, thread::spawn(move || script(Key { peer })))
}

fn open(t: InProcTransport, opts: HidOptions) -> CtapHid<InProcTransport> {
    CtapHid::open(t, opts, CancelHandle::default()).expect("INIT")
}

fn cancels(reqs: &[Req]) -> usize {
    reqs.iter()
        .filter(|r| r.cid == CID && r.cmd == CANCEL)
        .count()
}

#[test]
fn a_silent_key_gets_cancel_and_getinfo_ends_within_a_second() {
    let (t, key) = fake(|k| {
        k.init();
        let first = k.request();
        (first, k.rest())
    });
    let mut hid = open(t, HidOptions::default());
    let start = Instant::now();
    let err = hid.cbor(0x04, &[], &mut |_| {}).unwrap_err();
    let took = start.elapsed();
    drop(hid);
    assert!(matches!(err, CtapError::NoAnswer(_)), "{err:?}");
    assert!(took <= Duration::from_secs(1), "{took:?}");
    let (first, rest) = key.join().unwrap();
    assert_eq!(first.data, vec![0x04]);
    assert_eq!(cancels(&rest), 1, "{rest:?}");
}

#[test]
fn keepalives_that_stop_end_within_one_and_a_half_seconds() {
    let (t, key) = fake(|k| {
        k.init();
        k.request();
        for _ in 0..3 {
            k.send(KEEPALIVE, &[1]);
            thread::sleep(Duration::from_millis(100));
        }
        let stopped = Instant::now();
        (stopped, k.rest())
    });
    let mut hid = open(t, HidOptions::default());
    let mut events = Vec::new();
    let err = hid
        .cbor(0x01, &[0xA0], &mut |e| events.push(e))
        .unwrap_err();
    let ended = Instant::now();
    drop(hid);
    let (stopped, rest) = key.join().unwrap();
    assert!(matches!(err, CtapError::StoppedAnswering(_)), "{err:?}");
    assert!(events.contains(&HidEvent::Processing));
    let after = ended.duration_since(stopped);
    assert!(after <= Duration::from_millis(1500), "{after:?}");
    assert_eq!(cancels(&rest), 1, "{rest:?}");
}

#[test]
fn the_touch_deadline_sends_cancel_and_reads_as_a_touch_timeout() {
    let (t, key) = fake(|k| {
        k.init();
        k.request();
        // Blink until told to stop, then answer KEEPALIVE_CANCEL.
        loop {
            k.send(KEEPALIVE, &[2]);
            match k.next(Duration::from_millis(50)) {
                Some(r) if r.cmd == CANCEL => {
                    k.send(CBOR, &[0x2D]);
                    return true;
                }
                Some(_) => {}
                None if k.peer.tx.send([0u8; 64]).is_err() => return false,
                None => {}
            }
        }
    });
    let opts = HidOptions {
        response_timeout: Duration::from_millis(400),
        ..HidOptions::default()
    };
    let mut hid = open(t, opts);
    let err = hid.cbor(0x01, &[0xA0], &mut |_| {}).unwrap_err();
    assert!(matches!(err, CtapError::UserPresenceTimeout(_)), "{err:?}");
    drop(hid);
    assert!(key.join().unwrap(), "the key never saw CTAPHID_CANCEL");
}

#[test]
fn operation_denied_after_our_own_cancel_reads_as_cancelled() {
    let (t, key) = fake(|k| {
        k.init();
        k.request();
        loop {
            k.send(KEEPALIVE, &[2]);
            if let Some(r) = k.next(Duration::from_millis(30))
                && r.cmd == CANCEL
            {
                // Some keys answer a cancel with OPERATION_DENIED.
                k.send(CBOR, &[0x27]);
                break;
            }
        }
        k.rest()
    });
    let mut hid = open(t, HidOptions::default());
    let handle = hid.cancel_handle();
    let err = hid
        .cbor(0x01, &[0xA0], &mut |e| {
            if e == HidEvent::UpNeeded {
                handle.cancel();
            }
        })
        .unwrap_err();
    assert!(matches!(err, CtapError::Cancelled), "{err:?}");
    drop(hid);
    key.join().unwrap();
}

#[test]
fn operation_denied_without_a_cancel_is_a_refusal() {
    let (t, key) = fake(|k| {
        k.init();
        k.request();
        k.send(CBOR, &[0x27]);
        k.rest()
    });
    let mut hid = open(t, HidOptions::default());
    let err = hid.cbor(0x01, &[0xA0], &mut |_| {}).unwrap_err();
    assert!(
        matches!(err, CtapError::Status(CtapStatus::OperationDenied)),
        "{err:?}"
    );
    drop(hid);
    key.join().unwrap();
}

#[test]
fn a_busy_channel_is_retried_until_the_key_answers() {
    let (t, key) = fake(|k| {
        k.init();
        let mut seen = Vec::new();
        for _ in 0..2 {
            seen.push(k.request());
            k.send(ERROR, &[0x06]);
        }
        seen.push(k.request());
        k.send(CBOR, &[0x00, 0x07]);
        seen.extend(k.rest());
        seen
    });
    let mut hid = open(t, HidOptions::default());
    let start = Instant::now();
    assert_eq!(hid.cbor(0x04, &[], &mut |_| {}).unwrap(), vec![0x07]);
    // Two backoffs (100 ms, 200 ms), not a long wait.
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    drop(hid);
    let seen = key.join().unwrap();
    let asked = seen.iter().filter(|r| r.data == [0x04]).count();
    assert_eq!(asked, 3, "{seen:?}");
}

#[test]
fn a_busy_key_at_init_is_asked_again() {
    let (t, key) = fake(|k| {
        let first = k.request();
        assert_eq!((first.cid, first.cmd), (BROADCAST, INIT));
        let _ = k.peer.tx.send(frame(BROADCAST, ERROR, &[0x06]));
        k.init();
        k.rest()
    });
    let hid = open(t, HidOptions::default());
    assert_eq!(hid.init_info().channel, CID);
    drop(hid);
    key.join().unwrap();
}

#[test]
fn a_key_that_stays_busy_ends_as_busy_within_a_bound() {
    let (t, key) = fake(|k| {
        k.init();
        let mut n = 0;
        while let Some(r) = k.next(Duration::from_secs(5)) {
            if r.cmd == CBOR {
                n += 1;
                k.send(ERROR, &[0x06]);
            }
        }
        n
    });
    let mut hid = open(t, HidOptions::default());
    let start = Instant::now();
    let err = hid.cbor(0x04, &[], &mut |_| {}).unwrap_err();
    let took = start.elapsed();
    assert!(
        matches!(err, CtapError::Hid(HidErrorCode::ChannelBusy)),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
    drop(hid);
    assert!(key.join().unwrap() >= 3);
}

#[test]
fn a_hung_key_is_a_verdict_within_a_second_and_never_success() {
    let (t, key) = fake(|k| {
        // Not even INIT is answered.
        k.rest()
    });
    let start = Instant::now();
    let report = probe::run(
        t,
        &ProbeOptions::default(),
        &mut NoPin,
        &mut |_| {},
        &CancelHandle::default(),
    );
    let took = start.elapsed();
    assert_eq!(report.key.failure().unwrap().code, FailureCode::KeyHung);
    assert!(took <= Duration::from_secs(1), "{took:?}");
    assert!(!report.all_ok());
    key.join().unwrap();
}

#[test]
fn a_key_that_stops_mid_probe_is_its_own_verdict() {
    let (t, key) = fake(|k| {
        k.init();
        let req = k.request();
        assert_eq!(req.data, vec![0x04]);
        // GetInfo: a key with no PIN set and nothing else.
        let mut info = vec![0x00, 0xA2, 0x01, 0x81, 0x68];
        info.extend_from_slice(b"FIDO_2_0");
        info.extend_from_slice(&[0x03, 0x50]);
        info.extend_from_slice(&[0x11; 16]);
        k.send(CBOR, &info);
        // MakeCredential: a few keep-alives, then nothing.
        let req = k.request();
        assert_eq!(req.data.first(), Some(&0x01));
        k.send(KEEPALIVE, &[1]);
        let stopped = Instant::now();
        (stopped, k.rest())
    });
    let mut events = Vec::new();
    let report = probe::run(
        t,
        &ProbeOptions::default(),
        &mut NoPin,
        &mut |e| events.push(e),
        &CancelHandle::default(),
    );
    let ended = Instant::now();
    let (stopped, rest) = key.join().unwrap();
    assert!(report.key.is_ok(), "{report:#?}");
    let f = report.registration.failure().unwrap();
    assert_eq!(f.code, FailureCode::KeyStopped, "{f:?}");
    assert!(ended.duration_since(stopped) <= Duration::from_millis(1500));
    assert_eq!(cancels(&rest), 1, "{rest:?}");
    assert!(events.contains(&ProbeEvent::Processing));
}

#[test]
fn the_touch_prompt_carries_the_real_deadline() {
    let (tx, rx) = mpsc::channel::<()>();
    let (t, key) = fake(move |k| {
        k.init();
        k.request();
        let mut info = vec![0x00, 0xA2, 0x01, 0x81, 0x68];
        info.extend_from_slice(b"FIDO_2_0");
        info.extend_from_slice(&[0x03, 0x50]);
        info.extend_from_slice(&[0x11; 16]);
        k.send(CBOR, &info);
        k.request();
        while rx.try_recv().is_err() {
            k.send(KEEPALIVE, &[2]);
            if let Some(r) = k.next(Duration::from_millis(50))
                && r.cmd == CANCEL
            {
                k.send(CBOR, &[0x2D]);
                return true;
            }
        }
        false
    });
    let opts = ProbeOptions {
        touch_timeout: Duration::from_millis(700),
        ..ProbeOptions::default()
    };
    let mut deadline = None;
    let report = probe::run(
        t,
        &opts,
        &mut NoPin,
        &mut |e| {
            if let ProbeEvent::TouchNeeded { timeout } = e {
                deadline.get_or_insert(timeout);
            }
        },
        &CancelHandle::default(),
    );
    let _ = tx.send(());
    let saw_cancel = key.join().unwrap();
    let timeout = deadline.expect("a touch prompt");
    assert!(timeout <= Duration::from_millis(700), "{timeout:?}");
    assert!(timeout >= Duration::from_millis(500), "{timeout:?}");
    assert_eq!(
        report.registration.failure().unwrap().code,
        FailureCode::TouchTimeout
    );
    assert!(saw_cancel, "the key never saw CTAPHID_CANCEL");
}
