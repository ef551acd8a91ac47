//! The simulated key's authenticatorCredentialManagement (and the 2.1-pre
//! credentialMgmtPreview), the scenarios that hold credentials, what GetInfo
//! advertises, and the CBOR type checks of MakeCredential/GetAssertion input.

mod sim_common;

use ciborium::Value;
use sim_common::*;

const CM: u8 = 0x0A;
const CM_PREVIEW: u8 = 0x41;
const PERM_CM: u8 = 0x04;
const PERM_MC: u8 = 0x01;

/// A credential management request authenticated with `tok` over
/// subCommand || subCommandParams.
fn cm_req(tok: Option<&Token>, subcommand: i64, params: Option<Value>) -> Value {
    let mut m = vec![(i(1), i(subcommand))];
    let mut msg = vec![subcommand as u8];
    if let Some(p) = &params {
        msg.extend(enc(p));
        m.push((i(2), p.clone()));
    }
    if let Some(tok) = tok {
        m.push((i(3), i(tok.proto.into())));
        m.push((i(4), b(&tok.auth(&msg))));
    }
    Value::Map(m)
}

fn rp_hash_param(rp: &str) -> Value {
    map(vec![(i(1), b(&sha(rp.as_bytes())))])
}

fn text_at<'a>(m: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = m;
    for k in path {
        v = get_t(v, k)?;
    }
    v.as_text()
}

#[test]
fn registered_key_lists_its_utokyo_sign_in() {
    let mut k = Key::open("registered");
    assert_eq!(k.option("credMgmt"), Some(true));
    let tok = k.pin_token(2, "1234", Some((PERM_CM, None))).unwrap();
    let (st, meta) = k.call(CM, Some(cm_req(Some(&tok), 1, None)));
    assert_eq!(st, 0);
    let meta = meta.unwrap();
    assert_eq!(int_of(get(&meta, 1)), 1, "existing");
    assert_eq!(int_of(get(&meta, 2)), 24, "remaining");

    let (st, rps) = k.call(CM, Some(cm_req(Some(&tok), 2, None)));
    assert_eq!(st, 0);
    let rps = rps.unwrap();
    assert_eq!(
        text_at(get(&rps, 3).unwrap(), &["id"]),
        Some("login.microsoft.com")
    );
    assert_eq!(
        get(&rps, 4).and_then(Value::as_bytes).unwrap(),
        &sha(b"login.microsoft.com")
    );
    assert_eq!(int_of(get(&rps, 5)), 1, "totalRPs");
    assert_eq!(
        k.call(CM, Some(cm_req(None, 3, None))).0,
        0x30,
        "no next RP"
    );

    let p = rp_hash_param("login.microsoft.com");
    let (st, cred) = k.call(CM, Some(cm_req(Some(&tok), 4, Some(p))));
    assert_eq!(st, 0);
    let cred = cred.unwrap();
    let user = get(&cred, 6).unwrap();
    assert_eq!(
        text_at(user, &["name"]),
        Some("1234567890@utac.u-tokyo.ac.jp")
    );
    assert!(text_at(user, &["displayName"]).unwrap().contains("sample"));
    assert_eq!(int_of(get(&cred, 9)), 1, "totalCredentials");
    assert_eq!(int_of(get(&cred, 0x0A)), 2, "credProtect");
    assert_eq!(
        int_of(get(get(&cred, 8).unwrap(), 3)),
        -7,
        "ES256 public key"
    );
    let id = get_t(get(&cred, 7).unwrap(), "id").unwrap().clone();

    // The credential signs in (with UV, as credProtect 2 asks).
    let ga_tok = k.pin_token(2, "1234", None).unwrap();
    let (st, a) = k.call(
        0x02,
        Some(get_assertion("login.microsoft.com", ga_auth(&ga_tok))),
    );
    assert_eq!(st, 0);
    assert_eq!(get_t(get(&a.unwrap(), 1).unwrap(), "id"), Some(&id));
    // That new token replaced the cm token.
    assert_eq!(k.call(CM, Some(cm_req(Some(&tok), 1, None))).0, 0x33);
    let tok = k.pin_token(2, "1234", Some((PERM_CM, None))).unwrap();

    // Update the user, then delete the credential.
    let upd = map(vec![
        (
            i(2),
            map(vec![(t("id"), id.clone()), (t("type"), t("public-key"))]),
        ),
        (
            i(3),
            map(vec![
                (t("id"), b(b"sample-user-0001")),
                (t("name"), t("renamed")),
            ]),
        ),
    ]);
    assert_eq!(k.call(CM, Some(cm_req(Some(&tok), 7, Some(upd)))).0, 0);
    let p = rp_hash_param("login.microsoft.com");
    let (_, cred) = k.call(CM, Some(cm_req(Some(&tok), 4, Some(p))));
    let user = get(cred.as_ref().unwrap(), 6).unwrap();
    assert_eq!(text_at(user, &["name"]), Some("renamed"));
    assert_eq!(
        text_at(user, &["displayName"]),
        None,
        "absent fields are removed"
    );
    let wrong_user = map(vec![
        (
            i(2),
            map(vec![(t("id"), id.clone()), (t("type"), t("public-key"))]),
        ),
        (i(3), map(vec![(t("id"), b(b"someone-else"))])),
    ]);
    assert_eq!(
        k.call(CM, Some(cm_req(Some(&tok), 7, Some(wrong_user)))).0,
        0x02
    );

    let del = map(vec![(
        i(2),
        map(vec![(t("id"), id.clone()), (t("type"), t("public-key"))]),
    )]);
    assert_eq!(
        k.call(CM, Some(cm_req(Some(&tok), 6, Some(del.clone())))).0,
        0
    );
    assert_eq!(k.call(CM, Some(cm_req(Some(&tok), 6, Some(del)))).0, 0x2E);
    assert_eq!(k.call(CM, Some(cm_req(Some(&tok), 2, None))).0, 0x2E);
    let (_, meta) = k.call(CM, Some(cm_req(Some(&tok), 1, None)));
    assert_eq!(int_of(get(meta.as_ref().unwrap(), 2)), 25);
    // Gone for sign-in too, even by its id.
    let allow = vec![(
        i(3),
        Value::Array(vec![map(vec![(t("id"), id), (t("type"), t("public-key"))])]),
    )];
    let ga_tok = k.pin_token(2, "1234", None).unwrap();
    let mut extra = allow;
    extra.extend(ga_auth(&ga_tok));
    assert_eq!(
        k.status(0x02, get_assertion("login.microsoft.com", extra)),
        0x2E
    );
}

#[test]
fn credential_management_needs_a_cm_token() {
    let mut k = Key::open("registered");
    assert_eq!(
        k.call(CM, Some(cm_req(None, 1, None))).0,
        0x36,
        "no pinUvAuthParam"
    );
    // A token without the cm permission.
    let mc = k.pin_token(2, "1234", Some((PERM_MC, None))).unwrap();
    assert_eq!(k.call(CM, Some(cm_req(Some(&mc), 1, None))).0, 0x33);
    // A legacy getPinToken token on a 2.1 key has mc and ga only.
    let legacy = k.pin_token(2, "1234", None).unwrap();
    assert_eq!(k.call(CM, Some(cm_req(Some(&legacy), 2, None))).0, 0x33);
    // A cm token bound to another RP id: not for metadata, not for this RP.
    let bound = k
        .pin_token(2, "1234", Some((PERM_CM, Some("github.com"))))
        .unwrap();
    assert_eq!(k.call(CM, Some(cm_req(Some(&bound), 1, None))).0, 0x33);
    let p = rp_hash_param("login.microsoft.com");
    assert_eq!(k.call(CM, Some(cm_req(Some(&bound), 4, Some(p)))).0, 0x33);
    // Bound to the right RP id it may enumerate that RP's credentials.
    let right = k
        .pin_token(2, "1234", Some((PERM_CM, Some("login.microsoft.com"))))
        .unwrap();
    let p = rp_hash_param("login.microsoft.com");
    assert_eq!(k.call(CM, Some(cm_req(Some(&right), 4, Some(p)))).0, 0);
    // A MAC over other parameters does not verify.
    let tok = k.pin_token(1, "1234", Some((PERM_CM, None))).unwrap();
    let mut req = cm_req(Some(&tok), 4, Some(rp_hash_param("github.com")));
    if let Value::Map(m) = &mut req {
        m[1].1 = rp_hash_param("login.microsoft.com");
    }
    assert_eq!(k.status(CM, req), 0x33);
    // Missing rpIDHash; unknown subcommand; next without a begin.
    assert_eq!(
        k.call(CM, Some(cm_req(Some(&tok), 4, Some(map(vec![]))))).0,
        0x14
    );
    assert_eq!(k.call(CM, Some(cm_req(Some(&tok), 0x20, None))).0, 0x3E);
    assert_eq!(k.call(CM, Some(cm_req(None, 5, None))).0, 0x30);
    // The cm permission survives use: a second metadata call works.
    assert_eq!(k.call(CM, Some(cm_req(Some(&tok), 1, None))).0, 0);
    assert_eq!(k.call(CM, Some(cm_req(Some(&tok), 1, None))).0, 0);
}

#[test]
fn full_key_names_every_stored_credential() {
    let mut k = Key::open("store-full");
    assert_eq!(int_of(get(&k.info(), 0x14)), 0, "no slot left");
    let tok = k.pin_token(2, "1234", Some((PERM_CM, None))).unwrap();
    let (_, meta) = k.call(CM, Some(cm_req(Some(&tok), 1, None)));
    assert_eq!(int_of(get(meta.as_ref().unwrap(), 1)), 4);
    assert_eq!(int_of(get(meta.as_ref().unwrap(), 2)), 0);
    let (st, first) = k.call(CM, Some(cm_req(Some(&tok), 2, None)));
    assert_eq!(st, 0);
    let first = first.unwrap();
    assert_eq!(int_of(get(&first, 5)), 4);
    let mut rps = vec![
        text_at(get(&first, 3).unwrap(), &["id"])
            .unwrap()
            .to_string(),
    ];
    for _ in 1..4 {
        let (st, next) = k.call(CM, Some(cm_req(None, 3, None)));
        assert_eq!(st, 0);
        let next = next.unwrap();
        assert_eq!(get(&next, 5), None, "only the first answer has the total");
        rps.push(
            text_at(get(&next, 3).unwrap(), &["id"])
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(k.call(CM, Some(cm_req(None, 3, None))).0, 0x30);
    assert!(rps.contains(&"login.microsoft.com".to_string()), "{rps:?}");
    assert_eq!(rps.len(), 4);
    // A new discoverable credential does not fit.
    let mc = k.pin_token(2, "1234", Some((PERM_MC, None))).unwrap();
    assert_eq!(
        k.status(0x01, make_credential("example.com", true, mc_auth(&mc))),
        0x28
    );
}

#[test]
fn preview_key_answers_only_the_preview_command() {
    let mut k = Key::open("cred-mgmt-preview");
    let info = k.info();
    let versions = get(&info, 1).and_then(Value::as_array).unwrap();
    assert!(versions.contains(&t("FIDO_2_1_PRE")));
    assert!(!versions.contains(&t("FIDO_2_1")));
    assert_eq!(k.option("credentialMgmtPreview"), Some(true));
    assert_eq!(k.option("credMgmt"), None);
    assert_eq!(k.option("pinUvAuthToken"), None);
    // Only the legacy token exists, and it carries credential management.
    assert_eq!(
        k.pin_token(2, "1234", Some((PERM_CM, None))).err(),
        Some(0x3E)
    );
    let tok = k.pin_token(2, "1234", None).unwrap();
    assert_eq!(k.call(CM, Some(cm_req(Some(&tok), 1, None))).0, 0x01);
    let (st, meta) = k.call(CM_PREVIEW, Some(cm_req(Some(&tok), 1, None)));
    assert_eq!(st, 0);
    assert_eq!(int_of(get(meta.as_ref().unwrap(), 1)), 0);
    assert_eq!(
        k.call(CM_PREVIEW, Some(cm_req(Some(&tok), 2, None))).0,
        0x2E
    );
}

#[test]
fn get_info_advertises_credential_management_only_where_it_exists() {
    let mut k = Key::open("modern");
    assert_eq!(k.option("credMgmt"), Some(true));
    assert_eq!(k.option("makeCredUvNotRqd"), Some(true));
    assert_eq!(k.option("alwaysUv"), None);
    let mut n = Key::open("no-resident-key");
    assert_eq!(n.option("credMgmt"), None);
    let tok = n.pin_token(2, "1234", None).unwrap();
    assert_eq!(n.call(CM, Some(cm_req(Some(&tok), 1, None))).0, 0x01);
    assert_eq!(
        n.pin_token(2, "1234", Some((PERM_CM, None))).err(),
        Some(0x40)
    );
}

/// A makeCredential with `rp` and `user` replaced.
fn mc_with(rp: Value, user: Value, extra: Vec<(Value, Value)>) -> Value {
    let Value::Map(mut m) = make_credential("example.com", false, extra) else {
        unreachable!()
    };
    m[1].1 = rp;
    m[2].1 = user;
    Value::Map(m)
}

fn rp(extra: Vec<(Value, Value)>) -> Value {
    let mut m = vec![(t("id"), t("example.com"))];
    m.extend(extra);
    Value::Map(m)
}

fn user(extra: Vec<(Value, Value)>) -> Value {
    let mut m = vec![(t("id"), b(b"u1"))];
    m.extend(extra);
    Value::Map(m)
}

#[test]
fn entity_members_must_be_text() {
    let mut k = Key::open("no-pin");
    let cases = [
        (rp(vec![(t("name"), i(7))]), user(vec![])),
        (rp(vec![(t("icon"), i(7))]), user(vec![])),
        (rp(vec![]), user(vec![(t("name"), b(b"x"))])),
        (rp(vec![]), user(vec![(t("displayName"), i(1))])),
        (rp(vec![]), user(vec![(t("icon"), i(1))])),
        (map(vec![(t("id"), i(1))]), user(vec![])),
        (rp(vec![]), map(vec![(t("id"), t("not bytes"))])),
    ];
    for (r, u) in cases {
        let req = mc_with(r.clone(), u.clone(), vec![]);
        assert_eq!(k.status(0x01, req), 0x11, "{r:?} {u:?}");
    }
    let ok = mc_with(
        rp(vec![
            (t("name"), t("Example")),
            (t("icon"), t("https://x/i.png")),
        ]),
        user(vec![(t("name"), t("a")), (t("displayName"), t("A"))]),
        vec![],
    );
    assert_eq!(k.status(0x01, ok), 0);
}

#[test]
fn credential_descriptors_need_a_text_type() {
    let mut k = Key::open("no-pin");
    let (st, att) = k.call(0x01, Some(make_credential("example.com", false, vec![])));
    assert_eq!(st, 0);
    let ad = get(&att.unwrap(), 2).unwrap().as_bytes().unwrap().clone();
    let len = usize::from(u16::from_be_bytes([ad[53], ad[54]]));
    let id = ad[55..55 + len].to_vec();
    let list = |d: Value| Value::Array(vec![d]);
    let no_type = list(map(vec![(t("id"), b(&id))]));
    let bytes_type = list(map(vec![(t("id"), b(&id)), (t("type"), b(b"public-key"))]));
    let no_id = list(map(vec![(t("type"), t("public-key"))]));
    let other = list(map(vec![(t("id"), b(&id)), (t("type"), t("future-key"))]));
    for (key, cmd) in [(5, 0x01), (3, 0x02)] {
        let req = |l: &Value| {
            let extra = vec![(i(key), l.clone())];
            if cmd == 0x01 {
                make_credential("example.com", false, extra)
            } else {
                get_assertion("example.com", extra)
            }
        };
        assert_eq!(k.status(cmd, req(&no_type)), 0x14, "{cmd}: no type");
        assert_eq!(k.status(cmd, req(&bytes_type)), 0x11, "{cmd}: bytes type");
        assert_eq!(k.status(cmd, req(&no_id)), 0x14, "{cmd}: no id");
        assert_eq!(k.status(cmd, req(&Value::Text("x".into()))), 0x11);
        // Unknown descriptor types are ignored: nothing excluded, nothing allowed.
        let want = if cmd == 0x01 { 0 } else { 0x2E };
        assert_eq!(k.status(cmd, req(&other)), want, "{cmd}: other type");
    }
    // The same id as a public-key descriptor is excluded / allowed.
    let pk = list(map(vec![(t("id"), b(&id)), (t("type"), t("public-key"))]));
    let mc = make_credential("example.com", false, vec![(i(5), pk.clone())]);
    assert_eq!(k.status(0x01, mc), 0x19);
    assert_eq!(
        k.status(0x02, get_assertion("example.com", vec![(i(3), pk)])),
        0
    );
}
