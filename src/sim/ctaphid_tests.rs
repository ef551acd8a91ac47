//! The simulated device at the report level: channels, message
//! timeouts and the presence wait on the caller's clock, and random
//! reports that must never panic.

use super::*;
use crate::sim::scenario;
use crate::sim::{AutoTouch, Never};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn init(dev: &mut Device, now: Instant) -> u32 {
    let mut r = [0u8; REPORT_LEN];
    r[..4].copy_from_slice(&BROADCAST.to_be_bytes());
    r[4] = cmd::INIT;
    r[6] = 8;
    let out = dev.handle_report(&r, now);
    let d = &out[0][7..];
    u32::from_be_bytes([d[8], d[9], d[10], d[11]])
}

fn make_credential_request() -> Vec<u8> {
    use ciborium::Value;
    let t = |s: &str| Value::Text(s.into());
    let m = Value::Map(vec![
        (Value::Integer(1.into()), Value::Bytes(vec![0; 32])),
        (
            Value::Integer(2.into()),
            Value::Map(vec![(t("id"), t("a.example"))]),
        ),
        (
            Value::Integer(3.into()),
            Value::Map(vec![(t("id"), Value::Bytes(vec![1]))]),
        ),
        (
            Value::Integer(4.into()),
            Value::Array(vec![Value::Map(vec![
                (t("alg"), Value::Integer((-7).into())),
                (t("type"), t("public-key")),
            ])]),
        ),
    ]);
    let mut out = vec![ctap2::cmd::MAKE_CREDENTIAL];
    let _ = ciborium::into_writer(&m, &mut out);
    out
}

#[test]
fn presence_wait_follows_the_callers_clock() {
    let sc = scenario::find("modern").unwrap();
    let mut dev = Device::new(sc, Box::new(Never)).unwrap();
    let t0 = Instant::now();
    let cid = init(&mut dev, t0);
    let req = make_credential_request();
    let mut out = Vec::new();
    for r in frame(cid, cmd::CBOR, &req) {
        out.extend(dev.handle_report(&r, t0));
    }
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0][4], out[0][7]),
        (cmd::KEEPALIVE, KEEPALIVE_UP_NEEDED)
    );
    assert!(dev.is_waiting());
    assert!(dev.tick(t0 + KEEPALIVE_INTERVAL / 2).is_empty());
    let ka = dev.tick(t0 + KEEPALIVE_INTERVAL);
    assert_eq!(ka[0][4], cmd::KEEPALIVE);
    let end = dev.tick(t0 + sc.presence_timeout);
    assert_eq!((end[0][4], end[0][7]), (cmd::CBOR, ERR_USER_ACTION_TIMEOUT));
    assert!(!dev.is_waiting());
}

#[test]
fn message_timeout_follows_the_callers_clock() {
    let sc = scenario::find("modern").unwrap();
    let mut dev = Device::new(sc, Box::new(AutoTouch)).unwrap();
    let t0 = Instant::now();
    let cid = init(&mut dev, t0);
    let first = frame(cid, cmd::PING, &[7u8; 100]);
    assert!(dev.handle_report(&first[0], t0).is_empty());
    assert!(dev.next_wake(t0).is_some());
    assert!(dev.tick(t0 + MSG_TIMEOUT / 2).is_empty());
    let out = dev.tick(t0 + MSG_TIMEOUT);
    assert_eq!((out[0][4], out[0][7]), (cmd::ERROR, HID_ERR_MSG_TIMEOUT));
    assert!(dev.next_wake(t0).is_none());
}

#[test]
fn channel_table_is_bounded() {
    let sc = scenario::find("modern").unwrap();
    let mut dev = Device::new(sc, Box::new(AutoTouch)).unwrap();
    let now = Instant::now();
    let first = init(&mut dev, now);
    for _ in 0..MAX_CHANNELS {
        init(&mut dev, now);
    }
    assert_eq!(dev.channels.len(), MAX_CHANNELS);
    let out = dev.handle_report(&frame(first, cmd::PING, b"x")[0], now);
    assert_eq!(
        (out[0][4], out[0][7]),
        (cmd::ERROR, HID_ERR_INVALID_CHANNEL)
    );
}

/// A cheap stand-in for the fuzz target: seeded random, half-structured reports.
#[test]
fn random_reports_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let commands = [
        cmd::PING,
        cmd::MSG,
        cmd::INIT,
        cmd::WINK,
        cmd::CBOR,
        cmd::CANCEL,
        cmd::LOCK,
    ];
    for sc in scenario::all() {
        let mut dev = Device::new(sc, Box::new(AutoTouch)).unwrap();
        let mut now = Instant::now();
        let mut cids = vec![BROADCAST];
        for _ in 0..1500 {
            let mut r = [0u8; REPORT_LEN];
            rng.fill(&mut r[..]);
            let cid = cids[rng.gen_range(0..cids.len())];
            if rng.gen_bool(0.7) {
                r[..4].copy_from_slice(&cid.to_be_bytes());
            }
            if rng.gen_bool(0.5) {
                r[4] = commands[rng.gen_range(0..commands.len())];
                r[5] = 0;
                r[6] = rng.gen_range(0..80);
                if r[4] == cmd::CBOR {
                    r[7] = rng.gen_range(0..12);
                }
                if r[4] == cmd::INIT && rng.gen_bool(0.8) {
                    r[6] = 8;
                }
            }
            now += Duration::from_millis(rng.gen_range(0..200));
            for out in dev.handle_report(&r, now) {
                if out[4] == cmd::INIT {
                    let d = &out[7..];
                    cids.push(u32::from_be_bytes([d[8], d[9], d[10], d[11]]));
                }
            }
            let _ = dev.tick(now);
            if dev.is_gone() {
                break;
            }
        }
        assert!(cids.len() > 1, "{}: no channel was ever allocated", sc.name);
    }
}
