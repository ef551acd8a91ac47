//! Feeds arbitrary 64-byte reports, interleaved with clock steps and ticks,
//! into the simulator's CTAPHID/CTAP2/U2F state machine: it must never panic
//! and every answer must be one whole report.
//!
//! Input: byte 0 picks the scenario; then records `[mode, len, body…]`.
//! `mode & 3`: 0 = the body is the whole report (cid included), 1 = on the
//! broadcast channel, 2/3 = on a channel the device allocated earlier
//! (picked by `mode >> 4`); the body then starts at the command byte.
//! `mode & 4`: tick after the report; `mode & 8`: the clock jumps 600 ms
//! (past the message timeout) instead of 20 ms.

#![no_main]

use std::time::{Duration, Instant};

use fido_doctor::sim::ctaphid::{BROADCAST, Device, cmd};
use fido_doctor::sim::{AutoTouch, scenario};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, mut rest)) = data.split_first() else {
        return;
    };
    let all = scenario::all();
    let sc = &all[usize::from(pick) % all.len()];
    let Ok(mut dev) = Device::new(sc, Box::new(AutoTouch)) else {
        return;
    };
    let mut now = Instant::now();
    let mut cids: Vec<u32> = Vec::new();
    while let [mode, len, tail @ ..] = rest {
        let take = usize::from(*len).min(64).min(tail.len());
        let (body, next) = tail.split_at(take);
        rest = next;
        let mut report = [0u8; 64];
        let cid = match mode & 3 {
            0 => None,
            1 => Some(BROADCAST),
            _ if cids.is_empty() => Some(BROADCAST),
            _ => Some(cids[usize::from(mode >> 4) % cids.len()]),
        };
        match cid {
            None => report[..body.len()].copy_from_slice(body),
            Some(cid) => {
                report[..4].copy_from_slice(&cid.to_be_bytes());
                let n = body.len().min(60);
                report[4..4 + n].copy_from_slice(&body[..n]);
            }
        }
        now += Duration::from_millis(if mode & 8 != 0 { 600 } else { 20 });
        let mut out = dev.handle_report(&report, now);
        if mode & 4 != 0 {
            out.extend(dev.tick(now));
        }
        for r in &out {
            assert_eq!(r.len(), 64);
            if r[4] == cmd::INIT && u32::from_be_bytes([r[0], r[1], r[2], r[3]]) == BROADCAST {
                let new = u32::from_be_bytes([r[15], r[16], r[17], r[18]]);
                if cids.len() < 64 {
                    cids.push(new);
                }
            }
        }
        let _ = dev.next_wake(now);
        if dev.is_gone() {
            break;
        }
    }
});
