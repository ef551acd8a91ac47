//! `model:` scenarios: every hardware model of the FIDO metadata answers
//! GetInfo with exactly what its maker declared (plus its AAGUID) and works
//! as a key: a registration verified the way the model offers (PIN token,
//! fingerprint, or nothing) and a sign-in with the new credential. The
//! fido-doctor probe runs against a few well-known models too.

mod sim_common;

use std::time::Duration;

use ciborium::Value;
use fido_doctor::ctap::ctaphid::{CancelHandle, HidOptions};
use fido_doctor::ctap::probe::{self, FixedPin, ProbeOptions};
use fido_doctor::sim::scenario::{self, BuiltInUv};
use fido_doctor::sim::{self, AutoTouch, model};
use sim_common::*;
use zeroize::Zeroizing;

fn without_force_pin_change(v: &Value) -> Vec<(Value, Value)> {
    let mut m = v.as_map().unwrap().clone();
    m.retain(|(k, _)| k.as_integer() != Some(0x0C.into()));
    m.sort_by_key(|(k, _)| enc(k));
    m
}

#[test]
fn every_model_presents_its_declared_get_info_and_works() {
    assert!(model::models().len() > 300);
    let mut verified = [0usize; 3];
    for m in model::models() {
        let name = format!("model:{}", scenario::aaguid_string(&m.aaguid));
        let sc = scenario::find(&name).unwrap();
        let mut k = Key::open(&name);
        let info = k.info();
        let mut declared: Value = ciborium::from_reader(m.getinfo.as_slice()).unwrap();
        if let Value::Map(d) = &mut declared {
            d.push((i(3), b(&m.aaguid)));
        }
        assert_eq!(
            without_force_pin_change(&info),
            without_force_pin_change(&declared),
            "{}",
            m.description
        );

        let proto = sc.pin_protocols[0];
        // How this model verifies the user for `perm` (1 = mc, 2 = ga):
        // request entries to add, or none.
        let mut pin = (sc.client_pin == Some(true)).then_some(model::MODEL_PIN);
        if pin.is_none() && sc.always_uv && sc.uv != BuiltInUv::Matches {
            // A key that insists on UV but has no PIN yet: set one first.
            assert_eq!(
                k.status(0x01, make_credential("example.com", false, vec![])),
                0x35
            );
            assert_eq!(k.set_pin(proto, "2468"), 0, "{}", m.description);
            pin = Some("2468");
        }
        let mut verify = |k: &mut Key, perm: u8| -> Vec<(Value, Value)> {
            if let Some(pin) = pin {
                let perms = sc.pin_uv_auth_token.then_some((perm, Some("example.com")));
                let tok = k
                    .pin_token(proto, pin, perms)
                    .unwrap_or_else(|e| panic!("{}: token {e:#x}", m.description));
                verified[0] += 1;
                if perm == 1 {
                    mc_auth(&tok)
                } else {
                    ga_auth(&tok)
                }
            } else if sc.uv == BuiltInUv::Matches {
                verified[1] += 1;
                vec![(
                    i(if perm == 1 { 7 } else { 5 }),
                    map(vec![(t("uv"), Value::Bool(true))]),
                )]
            } else {
                verified[2] += 1;
                vec![]
            }
        };
        let Value::Map(mut req) = make_credential("example.com", false, vec![]) else {
            unreachable!()
        };
        req.retain(|(k, _)| k != &i(7));
        req.extend(verify(&mut k, 1));
        let (st, body) = k.call(0x01, Some(Value::Map(req)));
        assert_eq!(st, 0, "{}: makeCredential", m.description);
        let ad = get(&body.unwrap(), 2).unwrap().as_bytes().unwrap().clone();
        assert_eq!(&ad[37..53], &m.aaguid, "{}: attested AAGUID", m.description);
        let len = usize::from(u16::from_be_bytes([ad[53], ad[54]]));
        let id = ad[55..55 + len].to_vec();
        let allow = Value::Array(vec![map(vec![
            (t("id"), b(&id)),
            (t("type"), t("public-key")),
        ])]);
        let mut extra = vec![(i(3), allow)];
        extra.extend(verify(&mut k, 2));
        let st = k.status(0x02, get_assertion("example.com", extra));
        assert_eq!(st, 0, "{}: getAssertion", m.description);
    }
    // The table has every kind: PIN keys, fingerprint keys without a PIN set,
    // and keys with nothing set.
    assert!(verified.iter().all(|&n| n > 0), "{verified:?}");
}

#[test]
fn the_probe_passes_on_well_known_models() {
    let names = [
        "cb69481e-8ff7-4039-93ec-0a2729a154a8", // YubiKey 5 Series
        "d8522d9f-575b-4866-88a9-ba99fa02f35b", // YubiKey Bio Series - FIDO Edition
        "ee882879-721c-4913-9775-3dfcce97072a", // YubiKey 5 Series (another firmware)
    ];
    let opts = ProbeOptions {
        hid: HidOptions {
            response_timeout: Duration::from_secs(5),
            ..HidOptions::default()
        },
        touch_timeout: Duration::from_secs(5),
        ..ProbeOptions::default()
    };
    let mut tried = 0;
    for aaguid in names {
        let Some(sc) = scenario::find(&format!("model:{aaguid}")) else {
            continue; // not in this metadata BLOB
        };
        tried += 1;
        let (t, _h) = sim::spawn_inproc(sc, Box::new(AutoTouch));
        let mut pin = FixedPin(Zeroizing::new(model::MODEL_PIN.to_string()));
        let report = probe::run(t, &opts, &mut pin, &mut |_| {}, &CancelHandle::default());
        if sc.always_uv && sc.client_pin == Some(false) && sc.uv != BuiltInUv::Matches {
            // Declared as it leaves the factory: UV always required, but no
            // PIN and no finger yet. Registration must stop at "set a PIN".
            let text = format!("{report:?}");
            assert!(
                !report.all_ok() && text.contains("(0x35)"),
                "{}: {text}",
                sc.summary
            );
            continue;
        }
        assert!(report.all_ok(), "{}: {report:#?}", sc.summary);
        let reg = report.registration.ok().unwrap();
        assert_eq!(reg.attestation.aaguid.0, sc.aaguid, "{}", sc.summary);
    }
    assert!(
        tried >= 2,
        "the well-known models are missing from the table"
    );
}
