//! End to end: the full probe runs against every simulator scenario in
//! process, its report becomes key facts, and the rules must name exactly
//! the problem each scenario stands for.

use std::time::Duration;

use fido_doctor::content::ContentSource;
use fido_doctor::content::aaguid::AaguidTable;
use fido_doctor::content::compat::CompatMatrix;
use fido_doctor::ctap::ctaphid::{CancelHandle, HidOptions};
use fido_doctor::ctap::probe::{self, FixedPin, NoPin, PinSource, ProbeOptions};
use fido_doctor::diagnose::{
    BrowserId, Environment, FindingId, KeyFacts, OsFamily, Severity, evaluate, key_facts,
};
use fido_doctor::sim::{self, AutoTouch};
use zeroize::Zeroizing;

/// What each scenario must produce.
const EXPECTED: &[(&str, FindingId)] = &[
    ("modern", FindingId::OkKeyReady),
    ("no-pin", FindingId::PinNotSet),
    ("u2f-only", FindingId::KeyU2fOnly),
    ("pin-blocked", FindingId::PinBlocked),
    ("pin-low", FindingId::PinRetriesLow),
    ("store-full", FindingId::StoreFull),
    ("no-touch", FindingId::PresenceTimeout),
    ("refuse", FindingId::UserRefused),
    ("no-resident-key", FindingId::NoResidentKey),
    ("unlisted-aaguid", FindingId::AaguidNotEligible),
    ("unplugged", FindingId::DeviceUnplugged),
    ("malformed", FindingId::DeviceMalformed),
];

fn probe_scenario(name: &str, aaguids: &AaguidTable) -> KeyFacts {
    let scenario = sim::scenario::find(name).expect("scenario exists");
    let (t, _handle) = sim::spawn_inproc(scenario, Box::new(AutoTouch));
    let opts = ProbeOptions {
        hid: HidOptions {
            response_timeout: Duration::from_secs(10),
            ..HidOptions::default()
        },
        touch_timeout: Duration::from_secs(10),
        ..ProbeOptions::default()
    };
    let mut fixed;
    let mut none = NoPin;
    let pin: &mut dyn PinSource = match scenario.pin {
        Some(p) => {
            fixed = FixedPin(Zeroizing::new(p.to_string()));
            &mut fixed
        }
        None => &mut none,
    };
    let report = probe::run(t, &opts, pin, &mut |_| {}, &CancelHandle::default());
    key_facts(&report, aaguids)
}

#[test]
fn every_scenario_produces_its_finding() {
    let src = ContentSource::Embedded;
    let compat = CompatMatrix::load(&src).unwrap();
    let aaguids = AaguidTable::load(&src).unwrap();
    let env = Environment::bare(OsFamily::Linux, &[BrowserId::Chrome]);

    let names: Vec<&str> = sim::scenario::all().iter().map(|s| s.name).collect();
    let expected_names: Vec<&str> = EXPECTED.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, expected_names, "a scenario has no expectation here");

    // A key-level finding about a problem (everything but combination,
    // session and general advice).
    let key_problem = |id: FindingId| {
        !matches!(
            id,
            FindingId::OkKeyReady
                | FindingId::OkCombination
                | FindingId::NotDefaultMethod
                | FindingId::HmacSecretMissing
        )
    };

    for (name, want) in EXPECTED {
        let key = probe_scenario(name, &aaguids);
        let findings = evaluate(&env, std::slice::from_ref(&key), &compat, &aaguids);
        let ids: Vec<FindingId> = findings.iter().map(|f| f.id).collect();
        assert!(
            ids.contains(want),
            "{name}: expected {want}, got {ids:?}\n{key:#?}"
        );
        if *want == FindingId::OkKeyReady {
            let bad: Vec<_> = findings
                .iter()
                .filter(|f| matches!(f.severity, Severity::Warn | Severity::Fail))
                .collect();
            assert!(bad.is_empty(), "{name}: {bad:?}");
            assert_eq!(key.attestation_verified, Some(true), "{name}");
            assert_eq!(key.registration.as_ref().map(|r| r.ok), Some(true));
            assert_eq!(key.sign_in.as_ref().map(|r| r.ok), Some(true));
        } else {
            assert!(!ids.contains(&FindingId::OkKeyReady), "{name}: {ids:?}");
            // The expected finding is the main key problem: nothing else at
            // its level or worse, except consequences of the same cause.
            let others: Vec<FindingId> = findings
                .iter()
                .filter(|f| f.id != *want && key_problem(f.id))
                .filter(|f| matches!(f.severity, Severity::Warn | Severity::Fail))
                .map(|f| f.id)
                .collect();
            assert!(others.is_empty(), "{name}: also {others:?}");
        }
    }
}
