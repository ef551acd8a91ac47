//! Fuzzes CTAPHID response reassembly: arbitrary bytes become a channel, a
//! size limit and a stream of 64-byte reports fed to the `Reassembler`.
//! It must never panic, never return a message over the limit or for
//! another channel, and fragment → reassemble must give the input back.
#![no_main]

use fido_doctor::ctap::ctaphid::{MAX_MESSAGE, Reassembler, fragment};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((head, body)) = data.split_first_chunk::<6>() else {
        return;
    };
    let channel = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let max = usize::from(u16::from_be_bytes([head[4], head[5]]));
    let limit = max.min(MAX_MESSAGE);

    let mut r = Reassembler::new(channel, max);
    for chunk in body.chunks(64) {
        let mut report = [0u8; 64];
        report[..chunk.len()].copy_from_slice(chunk);
        match r.push(&report) {
            Ok(Some(m)) => {
                assert!(m.data.len() <= limit);
                assert_eq!(m.channel, channel);
                assert!(m.cmd < 0x80);
            }
            Ok(None) => {}
            Err(_) => r = Reassembler::new(channel, max),
        }
    }

    // Round trip: what we fragment, we reassemble unchanged.
    if body.len() <= MAX_MESSAGE {
        let cmd = head[4] & 0x7F;
        let reports = fragment(channel, cmd, body).expect("within the limit");
        let mut r = Reassembler::new(channel, MAX_MESSAGE);
        let mut out = None;
        for (i, rep) in reports.iter().enumerate() {
            let got = r.push(rep).expect("own reports are valid");
            assert_eq!(got.is_some(), i + 1 == reports.len());
            out = got;
        }
        let m = out.expect("complete");
        assert_eq!(m.data, body);
        assert_eq!(m.cmd, cmd);
    }
});
