//! Feeds arbitrary 64-byte reports, interleaved with clock ticks, into the
//! simulator's CTAPHID/CTAP2/U2F state machine: it must never panic.
//!
//! Input layout: byte 0 picks the scenario; then records of one control byte
//! followed by a 64-byte report. Control bit 0x80 asks for a tick, its low 7
//! bits advance the clock (in 10 ms steps) before the report is handled.
//! Reports with a broadcast INIT prefix are likely enough to get past the
//! channel checks because the fuzzer learns the 0xFFFFFFFF 0x86 pattern.

#![no_main]

use std::time::{Duration, Instant};

use fido_doctor::sim::{AutoTouch, ctaphid::Device, scenario};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let all = scenario::all();
    let sc = &all[usize::from(pick) % all.len()];
    let Ok(mut dev) = Device::new(sc, Box::new(AutoTouch)) else {
        return;
    };
    let mut now = Instant::now();
    for rec in rest.chunks(65) {
        let Some((&ctl, body)) = rec.split_first() else {
            break;
        };
        now += Duration::from_millis(u64::from(ctl & 0x7F) * 10);
        if ctl & 0x80 != 0 {
            let _ = dev.tick(now);
        }
        let mut report = [0u8; 64];
        report[..body.len()].copy_from_slice(body);
        for out in dev.handle_report(&report, now) {
            assert_eq!(out.len(), 64);
        }
        let _ = dev.next_wake(now);
        if dev.is_gone() {
            break;
        }
    }
});
