//! Benchmark: a full probe (INIT, GetInfo, MakeCredential, GetAssertion and
//! both verifications) against the in-process simulator, with PIN.
//!
//! Target: under 2 ms of client + simulator CPU per probe. Run with
//! `cargo bench --bench probe`; prints wall time and process CPU time per
//! probe (CPU from /proc/self/stat on Linux), plus a breakdown of what the
//! cryptography alone costs so the dominant part is visible.
//!
//! Also the time to a verdict for keys that go silent (scripted fake keys):
//! one that never answers (target ≤ 1 s) and one whose keep-alives stop in
//! the middle of MakeCredential (target ≤ 1.5 s after the last one).

use std::time::{Duration, Instant};

use fido_doctor::ctap::ctaphid::CancelHandle;
use fido_doctor::ctap::probe::{self, FixedPin, ProbeOptions};
use fido_doctor::sim::{self, AutoTouch};
use fido_doctor::transport::inproc::{self, InProcPeer};
use p256::ecdsa::signature::{Signer, Verifier};

fn cpu_time() -> Option<Duration> {
    // utime and stime are fields 14 and 15 of /proc/self/stat, in clock ticks.
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every mainstream Linux configuration.
    Some(Duration::from_millis((utime + stime) * 10))
}

fn one_probe(scenario: &str) -> bool {
    let scenario = sim::scenario::find(scenario).expect("scenario exists");
    let (transport, _handle) = sim::spawn_inproc(scenario, Box::new(AutoTouch));
    let mut pin = FixedPin(zeroize::Zeroizing::new("1234".to_string()));
    let report = probe::run(
        transport,
        &ProbeOptions::default(),
        &mut pin,
        &mut |_| {},
        &CancelHandle::default(),
    );
    report.registration.is_ok() && report.authentication.is_ok()
}

fn measure(label: &str, iterations: u32, mut f: impl FnMut()) -> Duration {
    f(); // warm up
    let cpu0 = cpu_time();
    let t0 = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let wall = t0.elapsed() / iterations;
    match (cpu0, cpu_time()) {
        (Some(a), Some(b)) => println!(
            "{label:<44} wall {:>9.3} ms   cpu {:>9.3} ms",
            wall.as_secs_f64() * 1e3,
            (b - a).as_secs_f64() * 1e3 / f64::from(iterations)
        ),
        _ => println!("{label:<44} wall {:>9.3} ms", wall.as_secs_f64() * 1e3),
    }
    wall
}

fn frame(cid: u32, cmd: u8, data: &[u8]) -> [u8; 64] {
    let mut r = [0u8; 64];
    r[..4].copy_from_slice(&cid.to_be_bytes());
    r[4] = 0x80 | cmd;
    r[6] = data.len() as u8;
    r[7..7 + data.len()].copy_from_slice(data);
    r
}

/// A fake key: answers INIT and GetInfo, sends one KEEPALIVE for
/// MakeCredential and then nothing. Returns when the client goes away.
fn stopping_key(peer: InProcPeer) {
    const CID: u32 = 0x0101_0101;
    let wait = Duration::from_secs(5);
    let Ok(init) = peer.rx.recv_timeout(wait) else {
        return;
    };
    let mut p = init[7..15].to_vec();
    p.extend_from_slice(&CID.to_be_bytes());
    p.extend_from_slice(&[2, 1, 0, 0, 0x05]);
    let _ = peer.tx.send(frame(0xFFFF_FFFF, 0x06, &p));
    let _ = peer.rx.recv_timeout(wait);
    let mut info = vec![0x00, 0xA2, 0x01, 0x81, 0x68];
    info.extend_from_slice(b"FIDO_2_0");
    info.extend_from_slice(&[0x03, 0x50]);
    info.extend_from_slice(&[0x11; 16]);
    let _ = peer.tx.send(frame(CID, 0x10, &info));
    let _ = peer.rx.recv_timeout(wait);
    let _ = peer.tx.send(frame(CID, 0x3B, &[1]));
    while peer.rx.recv_timeout(wait).is_ok() {}
}

/// Wall time from the start of a probe to its report.
fn verdict(key: fn(InProcPeer)) -> (Duration, String) {
    let (client, peer) = inproc::pair("sim:verdict");
    let t = std::thread::spawn(move || key(peer));
    let start = Instant::now();
    let report = probe::run(
        client,
        &ProbeOptions::default(),
        &mut probe::NoPin,
        &mut |_| {},
        &CancelHandle::default(),
    );
    let took = start.elapsed();
    let _ = t.join();
    let code = report
        .key
        .failure()
        .or(report.registration.failure())
        .map(|f| f.code.as_str().to_owned())
        .unwrap_or_else(|| "ok".into());
    (took, code)
}

fn time_to_verdict() {
    let n: u32 = std::env::var("PROBE_VERDICT_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let hung: fn(InProcPeer) = |peer| while peer.rx.recv_timeout(Duration::from_secs(5)).is_ok() {};
    for (label, key) in [
        ("verdict: key that never answers", hung),
        (
            "verdict: keep-alives stop mid-MakeCredential",
            stopping_key as fn(InProcPeer),
        ),
    ] {
        let mut worst = Duration::ZERO;
        let mut code = String::new();
        for _ in 0..n {
            let (took, c) = verdict(key);
            worst = worst.max(took);
            code = c;
        }
        println!(
            "{label:<44} worst {:>7.1} ms of {n} runs ({code})",
            worst.as_secs_f64() * 1e3
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--verdict-only") {
        time_to_verdict();
        return;
    }
    let n: u32 = std::env::var("PROBE_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    assert!(
        one_probe("modern"),
        "the modern scenario must pass the probe"
    );
    assert!(
        one_probe("no-pin"),
        "the no-pin scenario must pass the probe"
    );

    println!("full probe, {n} iterations each");
    measure("probe sim:modern (PIN, ES256, packed x5c)", n, || {
        one_probe("modern");
    });
    measure("probe sim:no-pin (no PIN)", n, || {
        one_probe("no-pin");
    });

    // What the cryptography costs on its own, for the breakdown.
    let key = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
    let msg = [7u8; 100];
    let sig: p256::ecdsa::Signature = key.sign(&msg);
    measure("  P-256 keygen", n, || {
        let _ = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
    });
    measure("  P-256 ECDSA sign", n, || {
        let _: p256::ecdsa::Signature = key.sign(&msg);
    });
    measure("  P-256 ECDSA verify", n, || {
        key.verifying_key().verify(&msg, &sig).unwrap();
    });
    let peer = p256::SecretKey::random(&mut rand::rngs::OsRng);
    measure("  P-256 ECDH", n, || {
        let _ = p256::ecdh::diffie_hellman(
            p256::NonZeroScalar::random(&mut rand::rngs::OsRng),
            peer.public_key().as_affine(),
        );
    });
    time_to_verdict();
}
