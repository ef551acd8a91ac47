//! Benchmark: a full probe (INIT, GetInfo, MakeCredential, GetAssertion and
//! both verifications) against the in-process simulator, with PIN.
//!
//! Target: under 2 ms of client + simulator CPU per probe. Run with
//! `cargo bench --bench probe`; prints wall time and process CPU time per
//! probe (CPU from /proc/self/stat on Linux), plus a breakdown of what the
//! cryptography alone costs so the dominant part is visible.

use std::time::{Duration, Instant};

use fido_doctor::ctap::ctaphid::CancelHandle;
use fido_doctor::ctap::probe::{self, FixedPin, ProbeOptions};
use fido_doctor::sim::{self, AutoTouch};
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

fn main() {
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
}
