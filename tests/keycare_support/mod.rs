//! A scripted CTAP2 authenticator for the key-care library tests: GetInfo,
//! ClientPIN (retries, key agreement, setPIN, changePIN, tokens),
//! authenticatorReset with a chosen answer, and read-only credential
//! management. It checks every pinUvAuthParam and decrypts every PIN with
//! its own side of the key agreement, and logs what it was sent.

use ciborium::Value;
use fido_doctor::ctap::ctap2::cbor::{IntMap, bytes, encode_canonical, int, text};
use fido_doctor::ctap::ctap2::pin_protocol::{PinProtocol, PinProtocolVersion, cose_key_agreement};
use fido_doctor::ctap::ctaphid::HidEvent;
use fido_doctor::ctap::error::CtapError;
use fido_doctor::ctap::keycare::Ctap2Channel;
use fido_doctor::ctap::status::CtapStatus;
use p256::SecretKey;
use sha2::{Digest, Sha256};

/// One relying party on the fake key: id and (user name, display name) pairs.
pub type Rp = (String, Vec<(String, String)>);

pub struct FakeKey {
    pub ctap2: bool,
    pub client_pin: Option<bool>,
    pub pin: Option<String>,
    pub retries: u32,
    pub power_cycle: bool,
    /// minPINLength reported by GetInfo.
    pub min_len: Option<u64>,
    /// minimum the key enforces (may be stricter than reported).
    pub enforced_min: usize,
    pub force_change: bool,
    /// 0x0A, 0x41 or None.
    pub cm: Option<u8>,
    pub fido21: bool,
    pub reset_status: u8,
    pub rps: Vec<Rp>,
    pub remaining: u64,
    /// (command, ClientPIN or credential-management subcommand) of every request.
    pub log: Vec<(u8, Option<i64>)>,
    pub secret: SecretKey,
    pub token: Vec<u8>,
    pub token_perms: i64,
    pub rp_cursor: usize,
    pub cred_cursor: (usize, usize),
}

impl FakeKey {
    pub fn new() -> Self {
        Self {
            ctap2: true,
            client_pin: Some(true),
            pin: Some("1234".into()),
            retries: 8,
            power_cycle: false,
            min_len: None,
            enforced_min: 4,
            force_change: false,
            cm: Some(0x0A),
            fido21: true,
            reset_status: 0,
            rps: Vec::new(),
            remaining: 20,
            log: Vec::new(),
            secret: SecretKey::from_slice(&[0x42; 32]).unwrap(),
            token: vec![0x17; 32],
            token_perms: 0,
            rp_cursor: 0,
            cred_cursor: (0, 0),
        }
    }

    pub fn no_pin() -> Self {
        Self {
            client_pin: Some(false),
            pin: None,
            ..Self::new()
        }
    }

    /// How many requests of `command` (and `sub`, if given) were sent.
    pub fn count(&self, command: u8, sub: Option<i64>) -> usize {
        self.log
            .iter()
            .filter(|(c, s)| *c == command && (sub.is_none() || *s == sub))
            .count()
    }

    fn info(&self) -> Value {
        let mut opts = vec![(text("rk"), Value::Bool(true))];
        if let Some(p) = self.client_pin {
            opts.push((text("clientPin"), Value::Bool(p)));
        }
        if self.fido21 {
            opts.push((text("pinUvAuthToken"), Value::Bool(true)));
        }
        match self.cm {
            Some(0x0A) => opts.push((text("credMgmt"), Value::Bool(true))),
            Some(_) => opts.push((text("credentialMgmtPreview"), Value::Bool(true))),
            None => {}
        }
        let versions = if self.fido21 {
            vec![text("FIDO_2_0"), text("FIDO_2_1")]
        } else {
            vec![text("FIDO_2_0"), text("FIDO_2_1_PRE")]
        };
        let mut m = vec![
            (int(1), Value::Array(versions)),
            (int(3), bytes(&[9u8; 16])),
            (int(4), Value::Map(opts)),
            (int(6), Value::Array(vec![int(2), int(1)])),
        ];
        if let Some(n) = self.min_len {
            m.push((int(0x0D), int(n as i64)));
        }
        if self.force_change {
            m.push((int(0x0C), Value::Bool(true)));
        }
        Value::Map(m)
    }

    fn proto(&self, p: &mut IntMap) -> Result<PinProtocol, u8> {
        let n = p.uint(1).map_err(|_| 0x11u8)?.ok_or(0x14u8)?;
        let version = PinProtocolVersion::choose(&[n]).map_err(|_| 0x02u8)?;
        let platform = p.take(3).ok_or(0x14u8)?;
        PinProtocol::encapsulate_with(version, &platform, &self.secret).map_err(|_| 0x02)
    }

    fn check_hash(&mut self, proto: &PinProtocol, enc: &[u8]) -> Result<(), u8> {
        if self.retries == 0 {
            return Err(0x32);
        }
        if self.power_cycle {
            return Err(0x34);
        }
        let stored = self.pin.as_ref().ok_or(0x35u8)?;
        let want = &Sha256::digest(stored.as_bytes())[..16];
        let got = proto.decrypt(enc).map_err(|_| 0x02u8)?;
        self.retries -= 1;
        if got.as_slice() != want {
            return Err(if self.retries == 0 { 0x32 } else { 0x31 });
        }
        self.retries = 8;
        Ok(())
    }

    fn new_pin(&mut self, proto: &PinProtocol, enc: &[u8]) -> Result<(), u8> {
        let padded = proto.decrypt(enc).map_err(|_| 0x02u8)?;
        if padded.len() != 64 {
            return Err(0x02);
        }
        let end = padded.iter().position(|&b| b == 0).unwrap_or(64);
        let pin = std::str::from_utf8(&padded[..end]).map_err(|_| 0x37u8)?;
        if pin.chars().count() < self.enforced_min {
            return Err(0x37);
        }
        if self.force_change && self.pin.as_deref() == Some(pin) {
            return Err(0x37);
        }
        self.pin = Some(pin.to_owned());
        self.client_pin = Some(true);
        self.force_change = false;
        self.retries = 8;
        Ok(())
    }

    fn client_pin_cmd(&mut self, p: &mut IntMap, sub: i64) -> Result<Option<Value>, u8> {
        match sub {
            1 => Ok(Some(Value::Map(vec![
                (int(3), int(i64::from(self.retries))),
                (int(4), Value::Bool(self.power_cycle)),
            ]))),
            2 => Ok(Some(Value::Map(vec![(
                int(1),
                cose_key_agreement(&self.secret.public_key()),
            )]))),
            3 => {
                let proto = self.proto(p)?;
                let auth = p.bytes(4).ok().flatten().ok_or(0x14u8)?;
                let enc = p.bytes(5).ok().flatten().ok_or(0x14u8)?;
                if self.pin.is_some() {
                    return Err(0x30);
                }
                if proto.authenticate(&enc) != auth {
                    return Err(0x33);
                }
                self.new_pin(&proto, &enc).map(|_| None)
            }
            4 => {
                let proto = self.proto(p)?;
                let auth = p.bytes(4).ok().flatten().ok_or(0x14u8)?;
                let enc = p.bytes(5).ok().flatten().ok_or(0x14u8)?;
                let hash = p.bytes(6).ok().flatten().ok_or(0x14u8)?;
                if proto.authenticate(&[enc.clone(), hash.clone()].concat()) != auth {
                    return Err(0x33);
                }
                self.check_hash(&proto, &hash)?;
                self.new_pin(&proto, &enc).map(|_| None)
            }
            5 | 9 => {
                let proto = self.proto(p)?;
                let hash = p.bytes(6).ok().flatten().ok_or(0x14u8)?;
                self.check_hash(&proto, &hash)?;
                if self.force_change {
                    return Err(0x37);
                }
                self.token_perms = if sub == 9 {
                    p.uint(9).ok().flatten().ok_or(0x14u8)? as i64
                } else {
                    0xFF
                };
                let enc = proto.encrypt(&self.token).map_err(|_| 0x02u8)?;
                Ok(Some(Value::Map(vec![(int(2), bytes(&enc))])))
            }
            _ => Err(0x02),
        }
    }

    fn cred_mgmt(&mut self, p: &mut IntMap, sub: i64) -> Result<Option<Value>, u8> {
        let params = p.take(2);
        if matches!(sub, 1 | 2 | 4) {
            let n = p.uint(3).ok().flatten().ok_or(0x14u8)?;
            let version = PinProtocolVersion::choose(&[n]).map_err(|_| 0x02u8)?;
            let auth = p.bytes(4).ok().flatten().ok_or(0x36u8)?;
            let mut msg = vec![sub as u8];
            if let Some(v) = &params {
                msg.extend_from_slice(&encode_canonical(v));
            }
            if version.authenticate(&self.token, &msg) != auth {
                return Err(0x33);
            }
            if self.token_perms & 0x04 == 0 {
                return Err(0x33);
            }
        }
        let total: usize = self.rps.iter().map(|(_, u)| u.len()).sum();
        let rp_entry = |rp: &Rp| {
            vec![
                (int(3), Value::Map(vec![(text("id"), text(&rp.0))])),
                (int(4), bytes(&Sha256::digest(rp.0.as_bytes()))),
            ]
        };
        let user_entry = |u: &(String, String), total: Option<usize>| {
            let mut m = vec![
                (
                    int(6),
                    Value::Map(vec![
                        (text("id"), bytes(b"user-handle")),
                        (text("name"), text(&u.0)),
                        (text("displayName"), text(&u.1)),
                    ]),
                ),
                (
                    int(7),
                    Value::Map(vec![
                        (text("id"), bytes(&Sha256::digest(u.0.as_bytes()))),
                        (text("type"), text("public-key")),
                    ]),
                ),
                (int(0x0A), int(2)),
            ];
            if let Some(t) = total {
                m.push((int(9), int(t as i64)));
            }
            Value::Map(m)
        };
        match sub {
            1 => Ok(Some(Value::Map(vec![
                (int(1), int(total as i64)),
                (int(2), int(self.remaining as i64)),
            ]))),
            2 => {
                let first = self.rps.first().ok_or(0x2Eu8)?;
                let mut m = rp_entry(first);
                m.push((int(5), int(self.rps.len() as i64)));
                self.rp_cursor = 1;
                Ok(Some(Value::Map(m)))
            }
            3 => {
                let rp = self.rps.get(self.rp_cursor).ok_or(0x30u8)?;
                self.rp_cursor += 1;
                Ok(Some(Value::Map(rp_entry(rp))))
            }
            4 => {
                let Some(Value::Map(m)) = params else {
                    return Err(0x14);
                };
                let hash = m
                    .iter()
                    .find(|(k, _)| *k == int(1))
                    .and_then(|(_, v)| v.as_bytes().cloned())
                    .ok_or(0x14u8)?;
                let idx = self
                    .rps
                    .iter()
                    .position(|(id, _)| Sha256::digest(id.as_bytes()).as_slice() == hash)
                    .ok_or(0x2Eu8)?;
                let users = &self.rps[idx].1;
                let first = users.first().ok_or(0x2Eu8)?;
                self.cred_cursor = (idx, 1);
                Ok(Some(user_entry(first, Some(users.len()))))
            }
            5 => {
                let (rp, i) = self.cred_cursor;
                let u = self.rps.get(rp).and_then(|r| r.1.get(i)).ok_or(0x30u8)?;
                self.cred_cursor.1 += 1;
                Ok(Some(user_entry(u, None)))
            }
            _ => Err(0x02),
        }
    }
}

impl Ctap2Channel for FakeKey {
    fn ctap2(
        &mut self,
        command: u8,
        params: &[u8],
        on_event: &mut dyn FnMut(HidEvent),
    ) -> Result<Vec<u8>, CtapError> {
        let mut map = (!params.is_empty()).then(|| IntMap::decode(params, "request").unwrap());
        let sub = map.as_mut().and_then(|m| {
            let key = if command == 0x06 { 2 } else { 1 };
            let v = m.take(key)?;
            fido_doctor::ctap::ctap2::cbor::as_i64(&v)
        });
        self.log.push((command, sub));
        let result = match (command, map.as_mut(), sub) {
            (0x04, _, _) => Ok(Some(self.info())),
            (0x06, Some(m), Some(s)) => self.client_pin_cmd(m, s),
            (0x07, _, _) => {
                on_event(HidEvent::UpNeeded);
                match self.reset_status {
                    0 => {
                        *self = Self {
                            log: std::mem::take(&mut self.log),
                            ctap2: self.ctap2,
                            cm: self.cm,
                            ..Self::no_pin()
                        };
                        Ok(None)
                    }
                    code => Err(code),
                }
            }
            (c, Some(m), Some(s)) if Some(c) == self.cm => self.cred_mgmt(m, s),
            _ => Err(0x01),
        };
        match result {
            Ok(Some(v)) => Ok(encode_canonical(&v)),
            Ok(None) => Ok(Vec::new()),
            Err(code) => Err(CtapError::Status(CtapStatus::from_u8(code))),
        }
    }

    fn speaks_ctap2(&self) -> bool {
        self.ctap2
    }
}
