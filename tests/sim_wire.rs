//! Drives the software authenticator with hand-built CTAPHID reports (no
//! client library): channel allocation, framing errors, keepalives and
//! CANCEL, canonical CBOR, packed attestation, PIN retry counters, U2F, UDP.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use ciborium::Value;
use der::{Decode, Encode};
use fido_doctor::sim::{self, AutoTouch, Presence, PresenceButton, scenario};
use fido_doctor::transport::{Report, Transport, TransportError};
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Verifier;
use sha2::{Digest, Sha256};

const BROADCAST: u32 = 0xFFFF_FFFF;
const PING: u8 = 0x81;
const MSG: u8 = 0x83;
const INIT: u8 = 0x86;
const CBOR: u8 = 0x90;
const CANCEL: u8 = 0x91;
const KEEPALIVE: u8 = 0xBB;
const ERROR: u8 = 0xBF;
const WAIT: Duration = Duration::from_secs(10);

fn spawn(name: &str, presence: Box<dyn Presence>) -> (impl Transport, sim::SimHandle) {
    let sc = scenario::find(name).expect("scenario exists");
    sim::spawn_inproc(sc, presence)
}

fn init_packet(cid: u32, cmd: u8, bcnt: u16, data: &[u8]) -> Report {
    let mut r = [0u8; 64];
    r[..4].copy_from_slice(&cid.to_be_bytes());
    r[4] = cmd;
    r[5..7].copy_from_slice(&bcnt.to_be_bytes());
    r[7..7 + data.len()].copy_from_slice(data);
    r
}

fn cont_packet(cid: u32, seq: u8, data: &[u8]) -> Report {
    let mut r = [0u8; 64];
    r[..4].copy_from_slice(&cid.to_be_bytes());
    r[4] = seq;
    r[5..5 + data.len()].copy_from_slice(data);
    r
}

fn send_msg(t: &mut impl Transport, cid: u32, cmd: u8, data: &[u8]) {
    let first = data.len().min(57);
    t.send(&init_packet(cid, cmd, data.len() as u16, &data[..first]))
        .unwrap();
    for (seq, chunk) in data[first..].chunks(59).enumerate() {
        t.send(&cont_packet(cid, seq as u8, chunk)).unwrap();
    }
}

/// One reassembled message (cmd, data) on `cid`; keepalives are counted, not returned.
fn recv_msg(t: &mut impl Transport, cid: u32, keepalives: &mut Vec<u8>) -> (u8, Vec<u8>) {
    loop {
        let r = t.recv(WAIT).expect("answer");
        let rcid = u32::from_be_bytes([r[0], r[1], r[2], r[3]]);
        assert_eq!(rcid, cid, "answer on another channel");
        let cmd = r[4];
        assert!(cmd & 0x80 != 0, "expected an init packet");
        let len = usize::from(u16::from_be_bytes([r[5], r[6]]));
        if cmd == KEEPALIVE {
            keepalives.push(r[7]);
            continue;
        }
        let mut data = r[7..7 + len.min(57)].to_vec();
        let mut seq = 0;
        while data.len() < len {
            let c = t.recv(WAIT).expect("continuation");
            assert_eq!(c[4], seq);
            let take = (len - data.len()).min(59);
            data.extend_from_slice(&c[5..5 + take]);
            seq += 1;
        }
        return (cmd, data);
    }
}

fn open(t: &mut impl Transport) -> (u32, u8) {
    let nonce = [1, 2, 3, 4, 5, 6, 7, 8];
    send_msg(t, BROADCAST, INIT, &nonce);
    let (cmd, data) = recv_msg(t, BROADCAST, &mut Vec::new());
    assert_eq!(cmd, INIT);
    assert_eq!(&data[..8], &nonce);
    assert_eq!(data[12], 2, "CTAPHID protocol version");
    (
        u32::from_be_bytes([data[8], data[9], data[10], data[11]]),
        data[16],
    )
}

fn enc(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).unwrap();
    out
}

fn i(n: i64) -> Value {
    Value::Integer(n.into())
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn b(d: &[u8]) -> Value {
    Value::Bytes(d.to_vec())
}

/// Sends a CTAP2 command and returns (status, decoded body, keepalive statuses).
fn ctap2(
    t: &mut impl Transport,
    cid: u32,
    command: u8,
    params: Option<Value>,
) -> (u8, Option<Value>, Vec<u8>) {
    let mut req = vec![command];
    if let Some(p) = params {
        req.extend(enc(&p));
    }
    send_msg(t, cid, CBOR, &req);
    let mut ka = Vec::new();
    let (cmd, data) = recv_msg(t, cid, &mut ka);
    assert_eq!(cmd, CBOR, "answer {data:x?}");
    let body =
        (data.len() > 1).then(|| ciborium::from_reader::<Value, _>(&data[1..]).expect("CBOR body"));
    (data[0], body, ka)
}

fn get(m: &Value, k: i64) -> &Value {
    m.as_map()
        .unwrap()
        .iter()
        .find(|(key, _)| key.as_integer() == Some(k.into()))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("key {k} missing"))
}

fn get_t<'a>(m: &'a Value, k: &str) -> Option<&'a Value> {
    m.as_map()
        .unwrap()
        .iter()
        .find(|(key, _)| key.as_text() == Some(k))
        .map(|(_, v)| v)
}

fn sha(d: &[u8]) -> [u8; 32] {
    Sha256::digest(d).into()
}

fn make_credential(
    rp: &str,
    alg: i64,
    rk: bool,
    pin_auth: Option<(&[u8], i64)>,
    cdh: &[u8],
) -> Value {
    let mut m = vec![
        (i(1), b(cdh)),
        (
            i(2),
            Value::Map(vec![(t("id"), t(rp)), (t("name"), t("Example"))]),
        ),
        (
            i(3),
            Value::Map(vec![
                (t("id"), b(b"user-1")),
                (t("name"), t("alice")),
                (t("displayName"), t("Alice")),
            ]),
        ),
        (
            i(4),
            Value::Array(vec![Value::Map(vec![
                (t("alg"), i(alg)),
                (t("type"), t("public-key")),
            ])]),
        ),
        (i(7), Value::Map(vec![(t("rk"), Value::Bool(rk))])),
    ];
    if let Some((param, proto)) = pin_auth {
        m.push((i(8), b(param)));
        m.push((i(9), i(proto)));
    }
    Value::Map(m)
}

struct Parsed {
    rp_id_hash: Vec<u8>,
    flags: u8,
    counter: u32,
    aaguid: Vec<u8>,
    cred_id: Vec<u8>,
    cose: Value,
}

fn parse_auth_data(ad: &[u8]) -> Parsed {
    let flags = ad[32];
    let counter = u32::from_be_bytes(ad[33..37].try_into().unwrap());
    assert!(flags & 0x40 != 0, "attested credential data flag");
    let aaguid = ad[37..53].to_vec();
    let len = usize::from(u16::from_be_bytes([ad[53], ad[54]]));
    let cred_id = ad[55..55 + len].to_vec();
    let mut rest = &ad[55 + len..];
    let cose: Value = ciborium::from_reader(&mut rest).unwrap();
    Parsed {
        rp_id_hash: ad[..32].to_vec(),
        flags,
        counter,
        aaguid,
        cred_id,
        cose,
    }
}

fn cose_p256(cose: &Value) -> p256::ecdsa::VerifyingKey {
    let x = get(cose, -2).as_bytes().unwrap();
    let y = get(cose, -3).as_bytes().unwrap();
    let sec1 = [&[4u8][..], x, y].concat();
    p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap()
}

fn cert_key(der_cert: &[u8]) -> (x509_cert::Certificate, p256::ecdsa::VerifyingKey) {
    let cert = x509_cert::Certificate::from_der(der_cert).unwrap();
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(spki).unwrap();
    (cert, key)
}

fn verify_der(key: &p256::ecdsa::VerifyingKey, msg: &[u8], sig: &[u8]) {
    let sig = p256::ecdsa::DerSignature::from_bytes(sig).unwrap();
    key.verify(msg, &sig).expect("signature verifies");
}

// ---------------------------------------------------------------- CTAPHID

#[test]
fn init_allocates_distinct_channels() {
    let (mut tr, _h) = spawn("modern", Box::new(AutoTouch));
    let (a, caps) = open(&mut tr);
    let (b2, _) = open(&mut tr);
    assert_ne!(a, b2);
    assert_ne!(a, BROADCAST);
    assert_ne!(a, 0);
    assert_eq!(caps & 0x04, 0x04, "CBOR capability");
    assert_eq!(caps & 0x08, 0, "MSG supported");
}

#[test]
fn ping_echoes_across_packets() {
    let (mut tr, _h) = spawn("modern", Box::new(AutoTouch));
    let (cid, _) = open(&mut tr);
    let data: Vec<u8> = (0..300u16).map(|n| (n * 7) as u8).collect();
    send_msg(&mut tr, cid, PING, &data);
    let (cmd, got) = recv_msg(&mut tr, cid, &mut Vec::new());
    assert_eq!(cmd, PING);
    assert_eq!(got, data);
}

#[test]
fn framing_errors() {
    let (mut tr, _h) = spawn("modern", Box::new(AutoTouch));
    let (cid, _) = open(&mut tr);

    send_msg(&mut tr, 0x1234_5678, PING, b"hi");
    assert_eq!(
        recv_msg(&mut tr, 0x1234_5678, &mut Vec::new()),
        (ERROR, vec![0x0B])
    );

    tr.send(&init_packet(cid, PING, 100, &[0u8; 57])).unwrap();
    tr.send(&cont_packet(cid, 1, &[0u8; 59])).unwrap();
    assert_eq!(recv_msg(&mut tr, cid, &mut Vec::new()), (ERROR, vec![0x04]));

    tr.send(&init_packet(cid, PING, 2000, &[0u8; 57])).unwrap();
    assert_eq!(recv_msg(&mut tr, cid, &mut Vec::new()), (ERROR, vec![0x03]));

    send_msg(&mut tr, cid, 0xA5, b"");
    assert_eq!(recv_msg(&mut tr, cid, &mut Vec::new()), (ERROR, vec![0x01]));

    // A message whose continuation never comes times out.
    tr.send(&init_packet(cid, PING, 100, &[0u8; 57])).unwrap();
    assert_eq!(recv_msg(&mut tr, cid, &mut Vec::new()), (ERROR, vec![0x05]));

    // The channel still works afterwards.
    send_msg(&mut tr, cid, PING, b"ok");
    assert_eq!(
        recv_msg(&mut tr, cid, &mut Vec::new()),
        (PING, b"ok".to_vec())
    );
}

#[test]
fn cancel_during_presence_wait_after_keepalives() {
    let (button, _press) = PresenceButton::new();
    let (mut tr, _h) = spawn("modern", Box::new(button));
    let (cid, _) = open(&mut tr);
    let req = [
        vec![0x01],
        enc(&make_credential("example.com", -7, false, None, &[9; 32])),
    ]
    .concat();
    send_msg(&mut tr, cid, CBOR, &req);
    let mut keepalives = 0;
    while keepalives < 2 {
        let r = tr.recv(WAIT).expect("keepalive");
        assert_eq!(r[4], KEEPALIVE);
        assert_eq!(r[7], 2, "status: user presence needed");
        keepalives += 1;
    }
    // Another channel is told the device is busy.
    let (other, _) = open(&mut tr);
    send_msg(&mut tr, other, PING, b"x");
    loop {
        let r = tr.recv(WAIT).unwrap();
        if r[4] == KEEPALIVE {
            continue;
        }
        assert_eq!(u32::from_be_bytes([r[0], r[1], r[2], r[3]]), other);
        assert_eq!((r[4], r[7]), (ERROR, 0x06));
        break;
    }
    send_msg(&mut tr, cid, CANCEL, &[]);
    let (cmd, data) = recv_msg(&mut tr, cid, &mut Vec::new());
    assert_eq!((cmd, data), (CBOR, vec![0x2D]));
}

// ---------------------------------------------------------------- CTAP2

fn canonical_sort(v: &Value) -> Value {
    match v {
        Value::Map(m) => {
            let mut entries: Vec<(Vec<u8>, Value, Value)> = m
                .iter()
                .map(|(k, v)| (enc(k), canonical_sort(k), canonical_sort(v)))
                .collect();
            entries.sort_by(|a, b| {
                (a.0[0] >> 5, a.0.len(), &a.0).cmp(&(b.0[0] >> 5, b.0.len(), &b.0))
            });
            Value::Map(entries.into_iter().map(|(_, k, v)| (k, v)).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical_sort).collect()),
        other => other.clone(),
    }
}

#[test]
fn get_info_is_canonical_and_describes_the_key() {
    let (mut tr, _h) = spawn("modern", Box::new(AutoTouch));
    let (cid, _) = open(&mut tr);
    send_msg(&mut tr, cid, CBOR, &[0x04]);
    let (_, data) = recv_msg(&mut tr, cid, &mut Vec::new());
    assert_eq!(data[0], 0);
    let info: Value = ciborium::from_reader(&data[1..]).unwrap();
    assert_eq!(enc(&canonical_sort(&info)), data[1..].to_vec());
    let versions: Vec<_> = get(&info, 1)
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_text())
        .collect();
    assert!(versions.contains(&"FIDO_2_1") && versions.contains(&"U2F_V2"));
    assert_eq!(
        get(&info, 3).as_bytes().unwrap().as_slice(),
        scenario::SIM_AAGUID.as_slice()
    );
    let opts = get(&info, 4);
    assert_eq!(get_t(opts, "clientPin"), Some(&Value::Bool(true)));
    assert_eq!(get_t(opts, "rk"), Some(&Value::Bool(true)));
    assert_eq!(get(&info, 0x14), &i(25));

    for (name, pin) in [("no-pin", Some(false)), ("no-resident-key", Some(true))] {
        let (mut tr, _h) = spawn(name, Box::new(AutoTouch));
        let (cid, _) = open(&mut tr);
        let (st, info, _) = ctap2(&mut tr, cid, 0x04, None);
        assert_eq!(st, 0);
        let info = info.unwrap();
        assert_eq!(
            get_t(get(&info, 4), "clientPin"),
            pin.map(Value::Bool).as_ref()
        );
        if name == "no-resident-key" {
            assert_eq!(get_t(get(&info, 4), "rk"), Some(&Value::Bool(false)));
        }
    }
}

#[test]
fn make_credential_packed_attestation_verifies_and_assertions_count_up() {
    let (mut tr, h) = spawn("modern", Box::new(AutoTouch));
    let (cid, _) = open(&mut tr);
    let cdh = sha(b"client data");
    let (st, resp, _) = ctap2(
        &mut tr,
        cid,
        0x01,
        Some(make_credential("example.com", -7, false, None, &cdh)),
    );
    assert_eq!(st, 0);
    let resp = resp.unwrap();
    assert_eq!(get(&resp, 1), &t("packed"));
    let ad = get(&resp, 2).as_bytes().unwrap().clone();
    let att = get(&resp, 3);
    assert_eq!(get_t(att, "alg"), Some(&i(-7)));
    let x5c = get_t(att, "x5c").unwrap().as_array().unwrap();
    let leaf = x5c[0].as_bytes().unwrap();
    let (cert, key) = cert_key(leaf);
    verify_der(
        &key,
        &[ad.as_slice(), &cdh].concat(),
        get_t(att, "sig").unwrap().as_bytes().unwrap(),
    );
    let p = parse_auth_data(&ad);
    assert_eq!(p.rp_id_hash, sha(b"example.com"));
    assert_eq!(p.flags & 0x01, 0x01, "user present");
    assert_eq!(p.flags & 0x04, 0, "no UV without PIN");
    assert_eq!(p.aaguid, scenario::SIM_AAGUID);
    // Leaf certificate: v3, CA=false, AAGUID extension matching authData.
    assert_eq!(cert.tbs_certificate.version, x509_cert::Version::V3);
    let exts = cert.tbs_certificate.extensions.clone().unwrap();
    let aaguid_ext = exts
        .iter()
        .find(|e| e.extn_id.to_string() == "1.3.6.1.4.1.45724.1.1.4")
        .unwrap();
    let inner = der::asn1::OctetString::from_der(aaguid_ext.extn_value.as_bytes()).unwrap();
    assert_eq!(inner.as_bytes(), p.aaguid.as_slice());
    let bc = exts
        .iter()
        .find(|e| e.extn_id.to_string() == "2.5.29.19")
        .unwrap();
    let bc = x509_cert::ext::pkix::BasicConstraints::from_der(bc.extn_value.as_bytes()).unwrap();
    assert!(!bc.ca);
    let subject = cert.tbs_certificate.subject.to_string();
    assert!(
        subject.contains("OU=Authenticator Attestation"),
        "{subject}"
    );
    assert_eq!(&cert.to_der().unwrap(), leaf);
    // The leaf is issued by the simulator's own test CA.
    let (ca_cert, ca_key) = cert_key(h.attestation_ca());
    assert_eq!(cert.tbs_certificate.issuer, ca_cert.tbs_certificate.subject);
    let tbs = cert.tbs_certificate.to_der().unwrap();
    verify_der(&ca_key, &tbs, cert.signature.raw_bytes());

    // Two assertions with the credential id: signatures verify, counter grows.
    let cred_key = cose_p256(&p.cose);
    let mut last = p.counter;
    for n in 0..2u8 {
        let cdh2 = sha(&[n]);
        let req = Value::Map(vec![
            (i(1), t("example.com")),
            (i(2), b(&cdh2)),
            (
                i(3),
                Value::Array(vec![Value::Map(vec![
                    (t("id"), b(&p.cred_id)),
                    (t("type"), t("public-key")),
                ])]),
            ),
        ]);
        let (st, resp, _) = ctap2(&mut tr, cid, 0x02, Some(req));
        assert_eq!(st, 0);
        let resp = resp.unwrap();
        let ad2 = get(&resp, 2).as_bytes().unwrap();
        verify_der(
            &cred_key,
            &[ad2.as_slice(), &cdh2].concat(),
            get(&resp, 3).as_bytes().unwrap(),
        );
        let counter = u32::from_be_bytes(ad2[33..37].try_into().unwrap());
        assert!(counter > last);
        last = counter;
    }
    // Another RP cannot use it.
    let req = Value::Map(vec![
        (i(1), t("evil.example")),
        (i(2), b(&cdh)),
        (
            i(3),
            Value::Array(vec![Value::Map(vec![
                (t("id"), b(&p.cred_id)),
                (t("type"), t("public-key")),
            ])]),
        ),
    ]);
    assert_eq!(ctap2(&mut tr, cid, 0x02, Some(req)).0, 0x2E);
}

#[test]
fn eddsa_credentials_sign_with_ed25519() {
    let (mut tr, _h) = spawn("no-pin", Box::new(AutoTouch));
    let (cid, _) = open(&mut tr);
    let cdh = sha(b"x");
    let (st, resp, _) = ctap2(
        &mut tr,
        cid,
        0x01,
        Some(make_credential("example.org", -8, true, None, &cdh)),
    );
    assert_eq!(st, 0);
    let p = parse_auth_data(get(&resp.unwrap(), 2).as_bytes().unwrap());
    assert_eq!(get(&p.cose, 3), &i(-8));
    let pk: [u8; 32] = get(&p.cose, -2)
        .as_bytes()
        .unwrap()
        .as_slice()
        .try_into()
        .unwrap();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk).unwrap();
    // Discoverable: no allow list.
    let req = Value::Map(vec![(i(1), t("example.org")), (i(2), b(&cdh))]);
    let (st, resp, _) = ctap2(&mut tr, cid, 0x02, Some(req));
    assert_eq!(st, 0);
    let resp = resp.unwrap();
    assert_eq!(get_t(get(&resp, 4), "id"), Some(&b(b"user-1")));
    let ad = get(&resp, 2).as_bytes().unwrap();
    let sig = ed25519_dalek::Signature::from_slice(get(&resp, 3).as_bytes().unwrap()).unwrap();
    vk.verify_strict(&[ad.as_slice(), &cdh].concat(), &sig)
        .unwrap();
}

// ---------------------------------------------------------------- PIN (protocol 1, done by hand)

struct Pin1 {
    secret: [u8; 32],
    platform: Value,
}

fn key_agreement(tr: &mut impl Transport, cid: u32) -> Pin1 {
    let (st, resp, _) = ctap2(
        tr,
        cid,
        0x06,
        Some(Value::Map(vec![(i(1), i(1)), (i(2), i(2))])),
    );
    assert_eq!(st, 0);
    let dev = cose_p256(get(&resp.unwrap(), 1));
    let sk = p256::SecretKey::random(&mut rand_core::OsRng);
    let z = p256::ecdh::diffie_hellman(
        sk.to_nonzero_scalar(),
        p256::PublicKey::from(dev).as_affine(),
    );
    let secret = sha(z.raw_secret_bytes());
    let pt = sk.public_key().to_encoded_point(false);
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let platform = Value::Map(vec![
        (i(1), i(2)),
        (i(3), i(-25)),
        (i(-1), i(1)),
        (i(-2), b(pt.x().unwrap())),
        (i(-3), b(pt.y().unwrap())),
    ]);
    Pin1 { secret, platform }
}

fn aes_enc(key: &[u8; 32], data: &[u8]) -> Vec<u8> {
    cbc::Encryptor::<aes::Aes256>::new(key.into(), &[0u8; 16].into())
        .encrypt_padded_vec_mut::<NoPadding>(data)
}

fn aes_dec(key: &[u8; 32], data: &[u8]) -> Vec<u8> {
    cbc::Decryptor::<aes::Aes256>::new(key.into(), &[0u8; 16].into())
        .decrypt_padded_vec_mut::<NoPadding>(data)
        .unwrap()
}

fn hmac16(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes()[..16].to_vec()
}

/// getPinToken with `pin`: Ok(token) or Err(status).
fn pin_token(tr: &mut impl Transport, cid: u32, pin: &str) -> Result<Vec<u8>, u8> {
    let ka = key_agreement(tr, cid);
    let hash = &sha(pin.as_bytes())[..16];
    let req = Value::Map(vec![
        (i(1), i(1)),
        (i(2), i(5)),
        (i(3), ka.platform.clone()),
        (i(6), b(&aes_enc(&ka.secret, hash))),
    ]);
    match ctap2(tr, cid, 0x06, Some(req)) {
        (0, Some(resp), _) => Ok(aes_dec(&ka.secret, get(&resp, 2).as_bytes().unwrap())),
        (st, _, _) => Err(st),
    }
}

fn retries(tr: &mut impl Transport, cid: u32) -> i64 {
    let (st, resp, _) = ctap2(
        tr,
        cid,
        0x06,
        Some(Value::Map(vec![(i(1), i(1)), (i(2), i(1))])),
    );
    assert_eq!(st, 0);
    i64::try_from(get(&resp.unwrap(), 3).as_integer().unwrap()).unwrap()
}

#[test]
fn pin_retries_count_down_and_block_after_three_wrong() {
    let (mut tr, _h) = spawn("modern", Box::new(AutoTouch));
    let (cid, _) = open(&mut tr);
    assert_eq!(retries(&mut tr, cid), 8);
    assert_eq!(pin_token(&mut tr, cid, "0000"), Err(0x31));
    assert_eq!(retries(&mut tr, cid), 7);
    // The right PIN resets the counter and yields a working token.
    let token = pin_token(&mut tr, cid, "1234").expect("token");
    assert_eq!(retries(&mut tr, cid), 8);
    let cdh = sha(b"rk");
    let param = hmac16(&token, &cdh);
    let (st, resp, _) = ctap2(
        &mut tr,
        cid,
        0x01,
        Some(make_credential(
            "example.com",
            -7,
            true,
            Some((&param, 1)),
            &cdh,
        )),
    );
    assert_eq!(st, 0);
    assert_eq!(
        parse_auth_data(get(&resp.unwrap(), 2).as_bytes().unwrap()).flags & 0x04,
        0x04,
        "UV"
    );
    // The token's permissions were used up: CTAP 2.1 answers PIN_AUTH_INVALID.
    let (st, _, _) = ctap2(
        &mut tr,
        cid,
        0x01,
        Some(make_credential(
            "example.com",
            -7,
            true,
            Some((&param, 1)),
            &cdh,
        )),
    );
    assert_eq!(st, 0x33);
    // Discoverable credential without a token: PIN/UV token required.
    let (st, _, _) = ctap2(
        &mut tr,
        cid,
        0x01,
        Some(make_credential("example.com", -7, true, None, &cdh)),
    );
    assert_eq!(st, 0x36);

    assert_eq!(pin_token(&mut tr, cid, "1111"), Err(0x31));
    assert_eq!(pin_token(&mut tr, cid, "2222"), Err(0x31));
    assert_eq!(pin_token(&mut tr, cid, "3333"), Err(0x34));
    assert_eq!(retries(&mut tr, cid), 5);
    // Blocked until power-cycle, even with the right PIN.
    assert_eq!(pin_token(&mut tr, cid, "1234"), Err(0x34));
}

#[test]
fn pin_low_and_blocked_scenarios() {
    let (mut tr, _h) = spawn("pin-low", Box::new(AutoTouch));
    let (cid, _) = open(&mut tr);
    assert_eq!(retries(&mut tr, cid), 2);
    assert_eq!(pin_token(&mut tr, cid, "9999"), Err(0x31));
    assert_eq!(pin_token(&mut tr, cid, "9999"), Err(0x32));
    assert_eq!(retries(&mut tr, cid), 0);

    let (mut tr, _h) = spawn("pin-blocked", Box::new(AutoTouch));
    let (cid, _) = open(&mut tr);
    assert_eq!(retries(&mut tr, cid), 0);
    assert_eq!(pin_token(&mut tr, cid, "1234"), Err(0x32));
}

#[test]
fn set_pin_on_a_fresh_key() {
    let (mut tr, _h) = spawn("no-pin", Box::new(AutoTouch));
    let (cid, _) = open(&mut tr);
    assert_eq!(pin_token(&mut tr, cid, "5678"), Err(0x35));
    let ka = key_agreement(&mut tr, cid);
    let mut padded = [0u8; 64];
    padded[..4].copy_from_slice(b"5678");
    let new_pin_enc = aes_enc(&ka.secret, &padded);
    let req = Value::Map(vec![
        (i(1), i(1)),
        (i(2), i(3)),
        (i(3), ka.platform.clone()),
        (i(4), b(&hmac16(&ka.secret, &new_pin_enc))),
        (i(5), b(&new_pin_enc)),
    ]);
    assert_eq!(ctap2(&mut tr, cid, 0x06, Some(req)).0, 0);
    assert!(pin_token(&mut tr, cid, "5678").is_ok());
    let (_, info, _) = ctap2(&mut tr, cid, 0x04, None);
    assert_eq!(
        get_t(get(&info.unwrap(), 4), "clientPin"),
        Some(&Value::Bool(true))
    );
}

// ---------------------------------------------------------------- scenarios

#[test]
fn fault_scenarios_answer_their_status() {
    let cases = [
        ("store-full", true, 0x28),
        ("no-resident-key", true, 0x2B),
        ("refuse", false, 0x27),
        ("no-touch", false, 0x2F),
    ];
    for (name, rk, want) in cases {
        let (mut tr, _h) = spawn(name, Box::new(AutoTouch));
        let (cid, _) = open(&mut tr);
        // store-full needs a PIN token for rk (modern's PIN is set).
        let cdh = sha(name.as_bytes());
        let auth = if rk && name == "store-full" {
            let token = pin_token(&mut tr, cid, "1234").unwrap();
            Some(hmac16(&token, &cdh))
        } else {
            None
        };
        let req = make_credential("example.com", -7, rk, auth.as_deref().map(|a| (a, 1)), &cdh);
        let (st, _, ka) = ctap2(&mut tr, cid, 0x01, Some(req));
        assert_eq!(st, want, "{name}");
        if name == "no-touch" {
            assert!(!ka.is_empty(), "keepalives while waiting");
        }
    }
}

#[test]
fn unplugged_key_disappears_at_make_credential() {
    let (mut tr, _h) = spawn("unplugged", Box::new(AutoTouch));
    let (cid, _) = open(&mut tr);
    assert_eq!(ctap2(&mut tr, cid, 0x04, None).0, 0);
    send_msg(
        &mut tr,
        cid,
        CBOR,
        &[
            [0x01].as_slice(),
            &enc(&make_credential("a.b", -7, false, None, &[0; 32])),
        ]
        .concat(),
    );
    assert!(matches!(tr.recv(WAIT), Err(TransportError::Gone(_))));
}

#[test]
fn malformed_key_answers_garbage() {
    let (mut tr, _h) = spawn("malformed", Box::new(AutoTouch));
    let (cid, _) = open(&mut tr);
    send_msg(&mut tr, cid, CBOR, &[0x04]);
    let stray = tr.recv(WAIT).unwrap();
    assert_ne!(
        u32::from_be_bytes([stray[0], stray[1], stray[2], stray[3]]),
        cid
    );
    let (cmd, data) = recv_msg(&mut tr, cid, &mut Vec::new());
    assert_eq!((cmd, data[0]), (CBOR, 0));
    assert!(
        ciborium::from_reader::<Value, _>(&data[1..]).is_err(),
        "truncated CBOR"
    );
}

// ---------------------------------------------------------------- U2F

fn apdu(ins: u8, p1: u8, data: &[u8]) -> Vec<u8> {
    let mut a = vec![0, ins, p1, 0, 0];
    a.extend_from_slice(&(data.len() as u16).to_be_bytes());
    a.extend_from_slice(data);
    a.extend_from_slice(&[0, 0]);
    a
}

fn u2f(tr: &mut impl Transport, cid: u32, a: &[u8]) -> Vec<u8> {
    send_msg(tr, cid, MSG, a);
    let (cmd, data) = recv_msg(tr, cid, &mut Vec::new());
    assert_eq!(cmd, MSG);
    data
}

#[test]
fn u2f_only_key_refuses_cbor_and_registers_after_touch() {
    let (button, press) = PresenceButton::new();
    let (mut tr, _h) = spawn("u2f-only", Box::new(button));
    let (cid, caps) = open(&mut tr);
    assert_eq!(caps & 0x04, 0, "no CBOR capability");
    assert_eq!(caps & 0x08, 0, "MSG implemented");
    send_msg(&mut tr, cid, CBOR, &[0x04]);
    assert_eq!(recv_msg(&mut tr, cid, &mut Vec::new()), (ERROR, vec![0x01]));
    assert_eq!(
        u2f(&mut tr, cid, &apdu(0x03, 0, &[])),
        b"U2F_V2\x90\x00".to_vec()
    );

    let challenge = sha(b"challenge");
    let app = sha(b"https://example.com");
    let reg = [challenge, app].concat();
    assert_eq!(u2f(&mut tr, cid, &apdu(0x01, 0, &reg)), vec![0x69, 0x85]);
    press.send(()).unwrap();
    let r = u2f(&mut tr, cid, &apdu(0x01, 0, &reg));
    assert_eq!(&r[r.len() - 2..], &[0x90, 0x00]);
    assert_eq!(r[0], 0x05);
    let public = &r[1..66];
    let kh_len = usize::from(r[66]);
    let kh = &r[67..67 + kh_len];
    let rest = &r[67 + kh_len..r.len() - 2];
    // The certificate is followed by the signature: split by the certificate's DER length.
    assert_eq!(&rest[..2], &[0x30, 0x82]);
    let cert_len = usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 4;
    let (cert_der, sig) = rest.split_at(cert_len);
    let (_, att_key) = cert_key(cert_der);
    let signed = [&[0u8][..], &app, &challenge, kh, public].concat();
    verify_der(&att_key, &signed, sig);

    // Authenticate: check-only says "valid handle"; enforce needs a touch.
    let mut auth = [challenge, app].concat();
    auth.push(kh_len as u8);
    auth.extend_from_slice(kh);
    assert_eq!(
        u2f(&mut tr, cid, &apdu(0x02, 0x07, &auth)),
        vec![0x69, 0x85]
    );
    let mut bad = auth.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(u2f(&mut tr, cid, &apdu(0x02, 0x07, &bad)), vec![0x6A, 0x80]);
    assert_eq!(
        u2f(&mut tr, cid, &apdu(0x02, 0x03, &auth)),
        vec![0x69, 0x85]
    );
    press.send(()).unwrap();
    let r = u2f(&mut tr, cid, &apdu(0x02, 0x03, &auth));
    assert_eq!(&r[r.len() - 2..], &[0x90, 0x00]);
    assert_eq!(r[0], 0x01, "user present");
    let user_key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public).unwrap();
    let signed = [&app[..], &r[..5], &challenge].concat();
    verify_der(&user_key, &signed, &r[5..r.len() - 2]);
}

// ---------------------------------------------------------------- UDP

struct UdpClient {
    sock: UdpSocket,
    server: SocketAddr,
}

impl Transport for UdpClient {
    fn send(&mut self, r: &Report) -> Result<(), TransportError> {
        self.sock
            .send_to(r, self.server)
            .map(|_| ())
            .map_err(|e| TransportError::Io {
                path: "udp".into(),
                source: e,
            })
    }
    fn recv(&mut self, timeout: Duration) -> Result<Report, TransportError> {
        self.sock.set_read_timeout(Some(timeout)).unwrap();
        let mut buf = [0u8; 128];
        let (n, _) = self
            .sock
            .recv_from(&mut buf)
            .map_err(|_| TransportError::Timeout(timeout))?;
        buf[..n]
            .try_into()
            .map_err(|_| TransportError::Timeout(timeout))
    }
    fn name(&self) -> String {
        "udp-test".into()
    }
}

#[test]
fn udp_loopback_init_and_ping() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let opts = sim::udp::UdpOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        reply: Some(sock.local_addr().unwrap()),
        reply_to_sender: false,
    };
    let server =
        sim::udp::UdpServer::bind(scenario::find("modern").unwrap(), Box::new(AutoTouch), opts)
            .unwrap();
    let addr = server.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let th = std::thread::spawn(move || server.run(&flag));
    let mut client = UdpClient { sock, server: addr };
    let (a, _) = open(&mut client);
    let (b2, _) = open(&mut client);
    assert_ne!(a, b2);
    let data: Vec<u8> = (0..200u8).collect();
    send_msg(&mut client, a, PING, &data);
    assert_eq!(recv_msg(&mut client, a, &mut Vec::new()), (PING, data));
    stop.store(true, Ordering::Relaxed);
    let started = Instant::now();
    th.join().unwrap().unwrap();
    assert!(started.elapsed() < WAIT);
}

/// Three wrong PINs in a row block PIN entry (PIN_AUTH_BLOCKED) until the
/// key is re-plugged; `replug` does that and the key is checked after it:
/// old channels are gone, the block is lifted, the retries counter kept.
fn pin_auth_block_ends_with_replug(tr: &mut impl Transport, replug: &dyn Fn()) {
    let (cid, _) = open(tr);
    assert_eq!(pin_token(tr, cid, "0000"), Err(0x31));
    assert_eq!(pin_token(tr, cid, "0000"), Err(0x31));
    assert_eq!(pin_token(tr, cid, "0000"), Err(0x34));
    assert_eq!(pin_token(tr, cid, "1234"), Err(0x34));
    replug();
    // The runner picks the request up within one idle poll (50 ms).
    std::thread::sleep(Duration::from_millis(200));
    send_msg(tr, cid, PING, b"x");
    assert_eq!(recv_msg(tr, cid, &mut Vec::new()), (ERROR, vec![0x0B]));
    let (cid, _) = open(tr);
    assert_eq!(retries(tr, cid), 5);
    assert!(pin_token(tr, cid, "1234").is_ok());
    assert_eq!(retries(tr, cid), 8);
}

#[test]
fn replug_in_process_and_over_udp() {
    let (mut tr, h) = spawn("modern", Box::new(AutoTouch));
    pin_auth_block_ends_with_replug(&mut tr, &|| h.replug());

    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let opts = sim::udp::UdpOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        reply: Some(sock.local_addr().unwrap()),
        reply_to_sender: false,
    };
    let server =
        sim::udp::UdpServer::bind(scenario::find("modern").unwrap(), Box::new(AutoTouch), opts)
            .unwrap();
    let addr = server.local_addr().unwrap();
    let replug = server.replug_flag();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let th = std::thread::spawn(move || server.run(&flag));
    let mut client = UdpClient { sock, server: addr };
    pin_auth_block_ends_with_replug(&mut client, &|| replug.store(true, Ordering::Relaxed));
    stop.store(true, Ordering::Relaxed);
    th.join().unwrap().unwrap();
}

/// Serves the `modern` scenario over UDP for manual third-party checks:
/// `FIDO_SIM_LISTEN=127.0.0.1:8111 FIDO_SIM_REPLY=127.0.0.1:7112 FIDO_SIM_SECONDS=60
///  cargo test --test sim_wire -- --ignored --nocapture serve_udp_for_manual_checks`
#[test]
#[ignore = "manual: runs a UDP simulator for external clients"]
fn serve_udp_for_manual_checks() {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let opts = sim::udp::UdpOptions {
        listen: env("FIDO_SIM_LISTEN", "127.0.0.1:8111").parse().unwrap(),
        reply: Some(env("FIDO_SIM_REPLY", "127.0.0.1:7112").parse().unwrap()),
        reply_to_sender: false,
    };
    let secs: u64 = env("FIDO_SIM_SECONDS", "60").parse().unwrap();
    let sc = scenario::find(&env("FIDO_SIM_SCENARIO", "modern")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(secs));
        flag.store(true, Ordering::Relaxed);
    });
    sim::udp::serve(sc, Box::new(AutoTouch), opts, stop).unwrap();
}

// ---------------------------------------------------------------- resident credentials, reset, hmac-secret

fn with_ext(mut mc: Value, key: i64, ext: Value) -> Value {
    if let Value::Map(m) = &mut mc {
        m.push((i(key), ext));
    }
    mc
}

fn user_mc(rp: &str, user: &[u8], rk: bool) -> Value {
    let mut mc = make_credential(rp, -7, rk, None, &sha(user));
    if let Value::Map(m) = &mut mc {
        for (k, v) in m.iter_mut() {
            if k == &i(3) {
                *v = Value::Map(vec![(t("id"), b(user)), (t("name"), t("n"))]);
            }
        }
    }
    mc
}

#[test]
fn resident_credentials_next_assertion_exclude_and_reset() {
    let (mut tr, _h) = spawn("no-pin", Box::new(AutoTouch));
    let (cid, _) = open(&mut tr);
    let mut ids = Vec::new();
    for user in [b"u1".as_slice(), b"u2"] {
        let (st, resp, _) = ctap2(&mut tr, cid, 0x01, Some(user_mc("rp.test", user, true)));
        assert_eq!(st, 0);
        ids.push(parse_auth_data(get(&resp.unwrap(), 2).as_bytes().unwrap()).cred_id);
    }
    let (_, info, _) = ctap2(&mut tr, cid, 0x04, None);
    assert_eq!(get(&info.unwrap(), 0x14), &i(23));

    let ga = Value::Map(vec![(i(1), t("rp.test")), (i(2), b(&[1; 32]))]);
    let (st, first, _) = ctap2(&mut tr, cid, 0x02, Some(ga.clone()));
    assert_eq!(st, 0);
    let first = first.unwrap();
    assert_eq!(get(&first, 5), &i(2), "numberOfCredentials");
    let (st, second, _) = ctap2(&mut tr, cid, 0x08, None);
    assert_eq!(st, 0);
    let second = second.unwrap();
    let mut seen: Vec<Vec<u8>> = [&first, &second]
        .iter()
        .map(|r| get_t(get(r, 1), "id").unwrap().as_bytes().unwrap().clone())
        .collect();
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids);
    assert_eq!(
        ctap2(&mut tr, cid, 0x08, None).0,
        0x30,
        "no more assertions"
    );

    // excludeList naming an existing credential.
    let excl = with_ext(
        user_mc("rp.test", b"u3", false),
        5,
        Value::Array(vec![Value::Map(vec![
            (t("id"), b(&ids[0])),
            (t("type"), t("public-key")),
        ])]),
    );
    assert_eq!(ctap2(&mut tr, cid, 0x01, Some(excl)).0, 0x19);

    // Same user again replaces the old credential instead of using a slot.
    assert_eq!(
        ctap2(&mut tr, cid, 0x01, Some(user_mc("rp.test", b"u1", true))).0,
        0
    );
    let (_, info, _) = ctap2(&mut tr, cid, 0x04, None);
    assert_eq!(get(&info.unwrap(), 0x14), &i(23));

    assert_eq!(ctap2(&mut tr, cid, 0x0B, None).0, 0, "selection");
    assert_eq!(ctap2(&mut tr, cid, 0x07, None).0, 0, "reset");
    assert_eq!(ctap2(&mut tr, cid, 0x02, Some(ga)).0, 0x2E);
    let (_, info, _) = ctap2(&mut tr, cid, 0x04, None);
    assert_eq!(get(&info.unwrap(), 0x14), &i(25));
}

fn hmac_secret_output(
    tr: &mut impl Transport,
    cid: u32,
    cred: &[u8],
    salt: &[u8; 32],
) -> Option<Vec<u8>> {
    let ka = key_agreement(tr, cid);
    let salt_enc = aes_enc(&ka.secret, salt);
    let ext = Value::Map(vec![(
        t("hmac-secret"),
        Value::Map(vec![
            (i(1), ka.platform.clone()),
            (i(2), b(&salt_enc)),
            (i(3), b(&hmac16(&ka.secret, &salt_enc))),
            (i(4), i(1)),
        ]),
    )]);
    let req = Value::Map(vec![
        (i(1), t("hmac.test")),
        (i(2), b(&[3; 32])),
        (
            i(3),
            Value::Array(vec![Value::Map(vec![
                (t("id"), b(cred)),
                (t("type"), t("public-key")),
            ])]),
        ),
        (i(4), ext),
    ]);
    let (st, resp, _) = ctap2(tr, cid, 0x02, Some(req));
    assert_eq!(st, 0);
    let ad = get(&resp.unwrap(), 2).as_bytes().unwrap().clone();
    if ad[32] & 0x80 == 0 {
        return None;
    }
    let exts: Value = ciborium::from_reader(&ad[37..]).unwrap();
    let enc_out = get_t(&exts, "hmac-secret")
        .unwrap()
        .as_bytes()
        .unwrap()
        .clone();
    Some(aes_dec(&ka.secret, &enc_out))
}

#[test]
fn hmac_secret_outputs_are_stable_per_salt() {
    let (mut tr, _h) = spawn("no-pin", Box::new(AutoTouch));
    let (cid, _) = open(&mut tr);
    let mc = with_ext(
        make_credential("hmac.test", -7, false, None, &[2; 32]),
        6,
        Value::Map(vec![(t("hmac-secret"), Value::Bool(true))]),
    );
    let (st, resp, _) = ctap2(&mut tr, cid, 0x01, Some(mc));
    assert_eq!(st, 0);
    let ad = get(&resp.unwrap(), 2).as_bytes().unwrap().clone();
    assert_eq!(ad[32] & 0x80, 0x80, "extension data flag");
    let p = parse_auth_data(&ad);
    let cose_len = enc(&p.cose).len();
    let ext_start = 55 + p.cred_id.len() + cose_len;
    let exts: Value = ciborium::from_reader(&ad[ext_start..]).unwrap();
    assert_eq!(get_t(&exts, "hmac-secret"), Some(&Value::Bool(true)));

    let a = hmac_secret_output(&mut tr, cid, &p.cred_id, &[5; 32]).expect("output");
    let again = hmac_secret_output(&mut tr, cid, &p.cred_id, &[5; 32]).expect("output");
    let other = hmac_secret_output(&mut tr, cid, &p.cred_id, &[6; 32]).expect("output");
    assert_eq!(a.len(), 32);
    assert_eq!(a, again);
    assert_ne!(a, other);

    // A credential made without hmac-secret gives no output.
    let (_, resp, _) = ctap2(
        &mut tr,
        cid,
        0x01,
        Some(make_credential("hmac.test", -7, false, None, &[2; 32])),
    );
    let plain = parse_auth_data(get(&resp.unwrap(), 2).as_bytes().unwrap());
    assert_eq!(
        hmac_secret_output(&mut tr, cid, &plain.cred_id, &[5; 32]),
        None
    );
}
