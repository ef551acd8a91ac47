//! authenticatorCredentialManagement (CTAP 2.1 §6.8; also answered as the
//! 2.1-pre credentialMgmtPreview command): metadata, enumerating RPs and
//! their credentials, deleting a credential and updating its user, all
//! behind a pinUvAuthToken with the `cm` permission.

use std::collections::VecDeque;

use ciborium::Value;

use super::super::cbor::{self, as_bytes, as_int, as_map, bytes, get, get_text_key, int, text};
use super::super::status::*;
use super::make_credential::opt_text;
use super::{Authenticator, Resident};

/// Credential management subcommands.
pub mod sub {
    /// getCredsMetadata.
    pub const GET_CREDS_METADATA: i64 = 0x01;
    /// enumerateRPsBegin.
    pub const ENUMERATE_RPS_BEGIN: i64 = 0x02;
    /// enumerateRPsGetNextRP.
    pub const ENUMERATE_RPS_NEXT: i64 = 0x03;
    /// enumerateCredentialsBegin.
    pub const ENUMERATE_CREDENTIALS_BEGIN: i64 = 0x04;
    /// enumerateCredentialsGetNextCredential.
    pub const ENUMERATE_CREDENTIALS_NEXT: i64 = 0x05;
    /// deleteCredential.
    pub const DELETE_CREDENTIAL: i64 = 0x06;
    /// updateUserInformation.
    pub const UPDATE_USER_INFORMATION: i64 = 0x07;
}

/// An enumeration in progress: the answers still to give.
pub(super) enum Enumeration {
    /// enumerateRPsGetNextRP answers.
    Rps(VecDeque<Value>),
    /// enumerateCredentialsGetNextCredential answers.
    Credentials(VecDeque<Value>),
}

fn descriptor(id: &[u8]) -> Value {
    Value::Map(vec![
        (text("id"), bytes(id)),
        (text("type"), text("public-key")),
    ])
}

fn user_entity(r: &Resident) -> Value {
    let mut u = vec![(text("id"), bytes(&r.user_id))];
    if let Some(n) = &r.user_name {
        u.push((text("name"), text(n)));
    }
    if let Some(n) = &r.display_name {
        u.push((text("displayName"), text(n)));
    }
    Value::Map(u)
}

/// The id inside a credential-descriptor parameter.
fn descriptor_id(v: &Value) -> Result<Vec<u8>, u8> {
    let m = as_map(v)?;
    Ok(as_bytes(get_text_key(m, "id").ok_or(ERR_MISSING_PARAMETER)?)?.to_vec())
}

impl Authenticator {
    /// One credential management request; `None` = empty success.
    pub(super) fn credential_management(
        &mut self,
        p: &[(Value, Value)],
    ) -> Result<Option<Value>, u8> {
        let subcommand = as_int(get(p, 0x01).ok_or(ERR_MISSING_PARAMETER)?)?;
        let params = get(p, 0x02);
        let param_map = params.map(as_map).transpose()?.unwrap_or_default();
        match subcommand {
            sub::ENUMERATE_RPS_NEXT => return self.enumeration_next(true),
            sub::ENUMERATE_CREDENTIALS_NEXT => return self.enumeration_next(false),
            sub::GET_CREDS_METADATA
            | sub::ENUMERATE_RPS_BEGIN
            | sub::ENUMERATE_CREDENTIALS_BEGIN
            | sub::DELETE_CREDENTIAL
            | sub::UPDATE_USER_INFORMATION => {}
            _ => return Err(ERR_INVALID_SUBCOMMAND),
        }
        self.cm = None;
        // pinUvAuthParam = authenticate(token, subCommand || subCommandParams).
        let auth = as_bytes(get(p, 0x04).ok_or(ERR_PUAT_REQUIRED)?)?;
        let proto = self
            .pin
            .protocol(get(p, 0x03).ok_or(ERR_MISSING_PARAMETER)?)?;
        let mut msg = vec![subcommand as u8];
        if let Some(v) = params {
            msg.extend(cbor::encode(v));
        }
        let check = |a: &Self, rp_id_hash: Option<&[u8; 32]>| {
            a.pin.check_cm_token(proto, &msg, auth, rp_id_hash)
        };
        match subcommand {
            sub::GET_CREDS_METADATA => {
                check(self, None)?;
                Ok(Some(Value::Map(vec![
                    (int(1), int(self.residents.len() as i64)),
                    (int(2), int(self.remaining() as i64)),
                ])))
            }
            sub::ENUMERATE_RPS_BEGIN => {
                check(self, None)?;
                self.enumerate_rps()
            }
            sub::ENUMERATE_CREDENTIALS_BEGIN => {
                let hash = as_bytes(get(param_map, 0x01).ok_or(ERR_MISSING_PARAMETER)?)?;
                let hash: [u8; 32] = hash.try_into().map_err(|_| ERR_INVALID_PARAMETER)?;
                check(self, Some(&hash))?;
                self.enumerate_credentials(&hash)
            }
            _ => {
                let id = descriptor_id(get(param_map, 0x02).ok_or(ERR_MISSING_PARAMETER)?)?;
                let user = if subcommand == sub::UPDATE_USER_INFORMATION {
                    Some(as_map(get(param_map, 0x03).ok_or(ERR_MISSING_PARAMETER)?)?)
                } else {
                    None
                };
                let index = self
                    .residents
                    .iter()
                    .position(|r| r.id == id)
                    .ok_or(ERR_NO_CREDENTIALS)?;
                check(self, Some(&self.residents[index].rp_id_hash))?;
                match user {
                    None => {
                        self.residents.remove(index);
                    }
                    Some(u) => {
                        let uid = as_bytes(get_text_key(u, "id").ok_or(ERR_MISSING_PARAMETER)?)?;
                        let name = opt_text(u, "name")?;
                        let display_name = opt_text(u, "displayName")?;
                        let r = &mut self.residents[index];
                        if uid != r.user_id.as_slice() {
                            return Err(ERR_INVALID_PARAMETER);
                        }
                        r.user_name = name;
                        r.display_name = display_name;
                    }
                }
                Ok(None)
            }
        }
    }

    fn enumerate_rps(&mut self) -> Result<Option<Value>, u8> {
        let mut seen: Vec<&Resident> = Vec::new();
        for r in &self.residents {
            if !seen.iter().any(|s| s.rp_id_hash == r.rp_id_hash) {
                seen.push(r);
            }
        }
        let mut answers: VecDeque<Value> = seen
            .iter()
            .map(|r| {
                let mut rp = vec![(text("id"), text(&r.rp_id))];
                if let Some(n) = &r.rp_name {
                    rp.push((text("name"), text(n)));
                }
                Value::Map(vec![
                    (int(3), Value::Map(rp)),
                    (int(4), bytes(&r.rp_id_hash)),
                ])
            })
            .collect();
        let total = answers.len();
        let mut first = answers.pop_front().ok_or(ERR_NO_CREDENTIALS)?;
        if let Value::Map(m) = &mut first {
            m.push((int(5), int(total as i64)));
        }
        if !answers.is_empty() {
            self.cm = Some(Enumeration::Rps(answers));
        }
        Ok(Some(first))
    }

    fn enumerate_credentials(&mut self, rp_id_hash: &[u8; 32]) -> Result<Option<Value>, u8> {
        let mut answers: VecDeque<Value> = self
            .residents
            .iter()
            .filter(|r| &r.rp_id_hash == rp_id_hash)
            .filter_map(|r| {
                let key = self.wrap.unwrap(&r.id, rp_id_hash)?.key;
                Some(Value::Map(vec![
                    (int(6), user_entity(r)),
                    (int(7), descriptor(&r.id)),
                    (int(8), key.cose_public()),
                    (int(0x0A), int(i64::from(r.cred_protect))),
                ]))
            })
            .collect();
        let total = answers.len();
        let mut first = answers.pop_front().ok_or(ERR_NO_CREDENTIALS)?;
        if let Value::Map(m) = &mut first {
            m.push((int(9), int(total as i64)));
        }
        if !answers.is_empty() {
            self.cm = Some(Enumeration::Credentials(answers));
        }
        Ok(Some(first))
    }

    fn enumeration_next(&mut self, rps: bool) -> Result<Option<Value>, u8> {
        let queue = match (&mut self.cm, rps) {
            (Some(Enumeration::Rps(q)), true) | (Some(Enumeration::Credentials(q)), false) => q,
            _ => return Err(ERR_NOT_ALLOWED),
        };
        let next = queue.pop_front().ok_or(ERR_NOT_ALLOWED)?;
        if queue.is_empty() {
            self.cm = None;
        }
        Ok(Some(next))
    }
}
