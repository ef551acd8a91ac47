//! Shared by the `sim_*` tests: a simulated key driven report by report on a
//! test-controlled clock (no threads, no sleeping), and a minimal platform
//! side of PIN/UV auth protocols 1 and 2 written from the CTAP 2.1 text, so
//! the tests do not reuse the code they check.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use ciborium::Value;
use fido_doctor::sim::ctaphid::{self, Device};
use fido_doctor::sim::{AutoTouch, Presence, scenario};
use hmac::{Hmac, Mac};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const CBOR: u8 = 0x90;
pub const KEEPALIVE: u8 = 0xBB;

pub fn i(n: i64) -> Value {
    Value::Integer(n.into())
}
pub fn t(s: &str) -> Value {
    Value::Text(s.into())
}
pub fn b(d: &[u8]) -> Value {
    Value::Bytes(d.to_vec())
}
pub fn map(entries: Vec<(Value, Value)>) -> Value {
    Value::Map(entries)
}
pub fn sha(d: &[u8]) -> [u8; 32] {
    Sha256::digest(d).into()
}
pub fn enc(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).unwrap();
    out
}

/// `m[k]` for an integer key.
pub fn get(m: &Value, k: i64) -> Option<&Value> {
    m.as_map()?
        .iter()
        .find(|(key, _)| key.as_integer() == Some(k.into()))
        .map(|(_, v)| v)
}

/// `m[k]` for a text key.
pub fn get_t<'a>(m: &'a Value, k: &str) -> Option<&'a Value> {
    m.as_map()?
        .iter()
        .find(|(key, _)| key.as_text() == Some(k))
        .map(|(_, v)| v)
}

pub fn int_of(v: Option<&Value>) -> i64 {
    i64::try_from(v.and_then(Value::as_integer).expect("integer")).unwrap()
}

/// A simulated key on a fake clock.
pub struct Key {
    pub dev: Device,
    pub cid: u32,
    pub now: Instant,
    pub power_up: Instant,
    /// Keepalive statuses seen by the last call.
    pub keepalives: Vec<u8>,
}

impl Key {
    /// Scenario `name`, auto-touch, plugged in now.
    pub fn open(name: &str) -> Key {
        Key::open_with(name, Box::new(AutoTouch))
    }

    pub fn open_with(name: &str, presence: Box<dyn Presence>) -> Key {
        let sc = scenario::find(name).expect("scenario exists");
        let now = Instant::now();
        let dev = Device::powered_up_at(sc, presence, now).unwrap();
        let mut k = Key {
            dev,
            cid: 0,
            now,
            power_up: now,
            keepalives: Vec::new(),
        };
        k.cid = k.init();
        k
    }

    fn init(&mut self) -> u32 {
        let out = self.exchange(ctaphid::BROADCAST, 0x86, &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(out.0, 0x86);
        u32::from_be_bytes([out.1[8], out.1[9], out.1[10], out.1[11]])
    }

    /// Advances the fake clock.
    pub fn wait(&mut self, d: Duration) {
        self.now += d;
    }

    /// Unplug and plug in again (at the current fake time).
    pub fn replug(&mut self) {
        self.dev.replug(self.now);
        self.power_up = self.now;
        self.cid = self.init();
    }

    /// One CTAPHID message and its answer, ticking the fake clock in 20 ms
    /// steps while the device waits (at most 60 simulated seconds).
    fn exchange(&mut self, cid: u32, cmd: u8, data: &[u8]) -> (u8, Vec<u8>) {
        self.keepalives.clear();
        let mut out = Vec::new();
        for r in ctaphid::frame(cid, cmd, data) {
            out.extend(self.dev.handle_report(&r, self.now));
        }
        let mut steps = 0;
        loop {
            let batch = std::mem::take(&mut out);
            let mut reports = batch.into_iter();
            while let Some(r) = reports.next() {
                let rcid = u32::from_be_bytes([r[0], r[1], r[2], r[3]]);
                assert_eq!(rcid, cid, "answer on another channel");
                if r[4] == KEEPALIVE {
                    self.keepalives.push(r[7]);
                    continue;
                }
                let len = usize::from(u16::from_be_bytes([r[5], r[6]]));
                let mut body = r[7..7 + len.min(57)].to_vec();
                for c in reports.by_ref() {
                    if body.len() >= len {
                        break;
                    }
                    let take = (len - body.len()).min(59);
                    body.extend_from_slice(&c[5..5 + take]);
                }
                return (r[4], body);
            }
            steps += 1;
            assert!(steps < 3000, "no answer within 60 simulated seconds");
            self.now += ctaphid::POLL_INTERVAL;
            out = self.dev.tick(self.now);
        }
    }

    /// A CTAP2 command: (status, decoded body).
    pub fn call(&mut self, command: u8, params: Option<Value>) -> (u8, Option<Value>) {
        let mut req = vec![command];
        if let Some(p) = params {
            req.extend(enc(&p));
        }
        self.call_raw(&req)
    }

    /// A CTAP2 request given as bytes.
    pub fn call_raw(&mut self, req: &[u8]) -> (u8, Option<Value>) {
        let (cmd, data) = self.exchange(self.cid, CBOR, req);
        assert_eq!(cmd, CBOR, "answer {data:x?}");
        let body = (data.len() > 1)
            .then(|| ciborium::from_reader::<Value, _>(&data[1..]).expect("CBOR body"));
        (data[0], body)
    }

    /// Just the status of a CTAP2 command.
    pub fn status(&mut self, command: u8, params: Value) -> u8 {
        self.call(command, Some(params)).0
    }

    pub fn info(&mut self) -> Value {
        let (st, body) = self.call(0x04, None);
        assert_eq!(st, 0);
        body.unwrap()
    }

    pub fn option(&mut self, name: &str) -> Option<bool> {
        get_t(get(&self.info(), 4).unwrap(), name).and_then(Value::as_bool)
    }

    pub fn client_pin(&mut self, params: Vec<(Value, Value)>) -> (u8, Option<Value>) {
        self.call(0x06, Some(Value::Map(params)))
    }

    pub fn pin_retries(&mut self) -> i64 {
        let (st, body) = self.client_pin(vec![(i(1), i(2)), (i(2), i(1))]);
        assert_eq!(st, 0);
        int_of(get(&body.unwrap(), 3))
    }

    pub fn uv_retries(&mut self) -> i64 {
        let (st, body) = self.client_pin(vec![(i(1), i(2)), (i(2), i(7))]);
        assert_eq!(st, 0);
        int_of(get(&body.unwrap(), 5))
    }

    /// getKeyAgreement and ECDH for protocol `proto`.
    pub fn shared(&mut self, proto: u8) -> Shared {
        let (st, body) = self.client_pin(vec![(i(1), i(proto.into())), (i(2), i(2))]);
        assert_eq!(st, 0, "getKeyAgreement");
        let cose = get(body.as_ref().unwrap(), 1).unwrap().clone();
        let coord = |k| get(&cose, k).and_then(Value::as_bytes).unwrap().clone();
        let sec1 = [vec![4u8], coord(-2), coord(-3)].concat();
        let dev = p256::PublicKey::from_sec1_bytes(&sec1).unwrap();
        let sk = p256::SecretKey::random(&mut rand_core::OsRng);
        let z = p256::ecdh::diffie_hellman(sk.to_nonzero_scalar(), dev.as_affine());
        let z = z.raw_secret_bytes().to_vec();
        let (hmac_key, aes_key) = if proto == 1 {
            (sha(&z).to_vec(), sha(&z).to_vec())
        } else {
            let hk = hkdf::Hkdf::<Sha256>::new(Some(&[0u8; 32]), &z);
            let (mut h, mut a) = (vec![0u8; 32], vec![0u8; 32]);
            hk.expand(b"CTAP2 HMAC key", &mut h).unwrap();
            hk.expand(b"CTAP2 AES key", &mut a).unwrap();
            (h, a)
        };
        let pt = sk.public_key().to_encoded_point(false);
        let platform = map(vec![
            (i(1), i(2)),
            (i(3), i(-25)),
            (i(-1), i(1)),
            (i(-2), b(pt.x().unwrap())),
            (i(-3), b(pt.y().unwrap())),
        ]);
        Shared {
            proto,
            hmac_key,
            aes_key,
            platform,
        }
    }

    /// setPIN with `padded` as the plaintext new-PIN block.
    pub fn set_pin_block(&mut self, proto: u8, padded: &[u8]) -> u8 {
        let s = self.shared(proto);
        let new_pin_enc = s.encrypt(padded);
        self.client_pin(vec![
            (i(1), i(proto.into())),
            (i(2), i(3)),
            (i(3), s.platform.clone()),
            (i(4), b(&s.authenticate(&new_pin_enc))),
            (i(5), b(&new_pin_enc)),
        ])
        .0
    }

    pub fn set_pin(&mut self, proto: u8, pin: &str) -> u8 {
        self.set_pin_block(proto, &pad(pin.as_bytes()))
    }

    pub fn change_pin(&mut self, proto: u8, current: &str, new: &str) -> u8 {
        let s = self.shared(proto);
        let new_pin_enc = s.encrypt(&pad(new.as_bytes()));
        let pin_hash_enc = s.encrypt(&sha(current.as_bytes())[..16]);
        let auth = s.authenticate(&[new_pin_enc.as_slice(), &pin_hash_enc].concat());
        self.client_pin(vec![
            (i(1), i(proto.into())),
            (i(2), i(4)),
            (i(3), s.platform.clone()),
            (i(4), b(&auth)),
            (i(5), b(&new_pin_enc)),
            (i(6), b(&pin_hash_enc)),
        ])
        .0
    }

    /// A PIN token: legacy getPinToken when `perms` is `None`, else
    /// getPinUvAuthTokenUsingPinWithPermissions with (permissions, rpId).
    pub fn pin_token(
        &mut self,
        proto: u8,
        pin: &str,
        perms: Option<(u8, Option<&str>)>,
    ) -> Result<Token, u8> {
        let s = self.shared(proto);
        let mut req = vec![
            (i(1), i(proto.into())),
            (i(2), i(if perms.is_some() { 9 } else { 5 })),
            (i(3), s.platform.clone()),
            (i(6), b(&s.encrypt(&sha(pin.as_bytes())[..16]))),
        ];
        if let Some((p, rp)) = perms {
            req.push((i(9), i(p.into())));
            if let Some(rp) = rp {
                req.push((i(0x0A), t(rp)));
            }
        }
        self.token_answer(&s, req)
    }

    /// getPinUvAuthTokenUsingUvWithPermissions.
    pub fn uv_token(&mut self, proto: u8, perms: u8, rp: Option<&str>) -> Result<Token, u8> {
        let s = self.shared(proto);
        let mut req = vec![
            (i(1), i(proto.into())),
            (i(2), i(6)),
            (i(3), s.platform.clone()),
            (i(9), i(perms.into())),
        ];
        if let Some(rp) = rp {
            req.push((i(0x0A), t(rp)));
        }
        self.token_answer(&s, req)
    }

    fn token_answer(&mut self, s: &Shared, req: Vec<(Value, Value)>) -> Result<Token, u8> {
        match self.client_pin(req) {
            (0, Some(body)) => {
                let enc = get(&body, 2).and_then(Value::as_bytes).unwrap();
                let token = s.decrypt(enc);
                assert_eq!(token.len(), 32, "token length");
                Ok(Token {
                    proto: s.proto,
                    token,
                })
            }
            (st, _) => Err(st),
        }
    }
}

/// A PIN in a zero-padded 64-byte block.
pub fn pad(pin: &[u8]) -> Vec<u8> {
    let mut p = pin.to_vec();
    p.resize(64, 0);
    p
}

/// The platform's half of one key agreement.
pub struct Shared {
    pub proto: u8,
    hmac_key: Vec<u8>,
    aes_key: Vec<u8>,
    pub platform: Value,
}

impl Shared {
    pub fn encrypt(&self, plain: &[u8]) -> Vec<u8> {
        let mut iv = [0u8; 16];
        if self.proto == 2 {
            rand::thread_rng().fill_bytes(&mut iv);
        }
        let key: [u8; 32] = self.aes_key.clone().try_into().unwrap();
        let ct = cbc::Encryptor::<aes::Aes256>::new(&key.into(), &iv.into())
            .encrypt_padded_vec_mut::<NoPadding>(plain);
        if self.proto == 2 {
            [iv.to_vec(), ct].concat()
        } else {
            ct
        }
    }

    pub fn decrypt(&self, data: &[u8]) -> Vec<u8> {
        let (iv, ct) = if self.proto == 2 {
            (data[..16].try_into().unwrap(), &data[16..])
        } else {
            ([0u8; 16], data)
        };
        let key: [u8; 32] = self.aes_key.clone().try_into().unwrap();
        cbc::Decryptor::<aes::Aes256>::new(&key.into(), &iv.into())
            .decrypt_padded_vec_mut::<NoPadding>(ct)
            .unwrap()
    }

    pub fn authenticate(&self, msg: &[u8]) -> Vec<u8> {
        mac(self.proto, &self.hmac_key, msg)
    }
}

fn mac(proto: u8, key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    m.update(msg);
    let full = m.finalize().into_bytes().to_vec();
    if proto == 1 {
        full[..16].to_vec()
    } else {
        full
    }
}

/// A pinUvAuthToken and the protocol it came with.
pub struct Token {
    pub proto: u8,
    pub token: Vec<u8>,
}

impl Token {
    pub fn auth(&self, msg: &[u8]) -> Vec<u8> {
        mac(self.proto, &self.token, msg)
    }
}

/// A makeCredential request; `extra` entries are appended to the map.
pub fn make_credential(rp: &str, rk: bool, extra: Vec<(Value, Value)>) -> Value {
    let mut m = vec![
        (i(1), b(&sha(b"client data"))),
        (i(2), map(vec![(t("id"), t(rp)), (t("name"), t("Example"))])),
        (
            i(3),
            map(vec![
                (t("id"), b(b"user-1")),
                (t("name"), t("alice")),
                (t("displayName"), t("Alice")),
            ]),
        ),
        (
            i(4),
            Value::Array(vec![map(vec![
                (t("alg"), i(-7)),
                (t("type"), t("public-key")),
            ])]),
        ),
        (i(7), map(vec![(t("rk"), Value::Bool(rk))])),
    ];
    m.extend(extra);
    Value::Map(m)
}

/// pinUvAuthParam and protocol entries (keys 8 and 9) of a makeCredential.
pub fn mc_auth(tok: &Token) -> Vec<(Value, Value)> {
    vec![
        (i(8), b(&tok.auth(&sha(b"client data")))),
        (i(9), i(tok.proto.into())),
    ]
}

/// pinUvAuthParam and protocol entries (keys 6 and 7) of a getAssertion.
pub fn ga_auth(tok: &Token) -> Vec<(Value, Value)> {
    vec![
        (i(6), b(&tok.auth(&sha(b"client data")))),
        (i(7), i(tok.proto.into())),
    ]
}

/// A getAssertion request.
pub fn get_assertion(rp: &str, extra: Vec<(Value, Value)>) -> Value {
    let mut m = vec![(i(1), t(rp)), (i(2), b(&sha(b"client data")))];
    m.extend(extra);
    Value::Map(m)
}

/// The flags byte of authenticator data.
pub fn flags(auth_data: &Value) -> u8 {
    auth_data.as_bytes().unwrap()[32]
}
