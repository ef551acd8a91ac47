//! CTAP1/U2F over CTAPHID_MSG on the device side: VERSION, REGISTER and
//! AUTHENTICATE (check-only, enforce and don't-enforce presence), answering
//! SW 0x6985 until the user touches the key.

use super::crypto::{Alg, CredFlags, CredKey};
use super::ctap2::Authenticator;

/// Success.
pub const SW_NO_ERROR: u16 = 0x9000;
/// Test of user presence required (or valid key handle in check-only mode).
pub const SW_CONDITIONS_NOT_SATISFIED: u16 = 0x6985;
/// Bad key handle.
pub const SW_WRONG_DATA: u16 = 0x6A80;
/// Wrong request length.
pub const SW_WRONG_LENGTH: u16 = 0x6700;
/// Unknown class byte.
pub const SW_CLA_NOT_SUPPORTED: u16 = 0x6E00;
/// Unknown instruction.
pub const SW_INS_NOT_SUPPORTED: u16 = 0x6D00;

fn sw(code: u16) -> Vec<u8> {
    code.to_be_bytes().to_vec()
}

fn with_sw(mut body: Vec<u8>, code: u16) -> Vec<u8> {
    body.extend_from_slice(&code.to_be_bytes());
    body
}

/// Splits an APDU into (CLA, INS, P1, data); `None` if the lengths are inconsistent.
fn parse(apdu: &[u8]) -> Option<(u8, u8, u8, &[u8])> {
    let (&cla, rest) = apdu.split_first()?;
    let (&ins, rest) = rest.split_first()?;
    let (&p1, rest) = rest.split_first()?;
    let (_p2, body) = rest.split_first()?;
    let data: &[u8] = match body {
        [] | [_] => &[],
        [0, hi, lo, tail @ ..] => {
            let lc = usize::from(u16::from_be_bytes([*hi, *lo]));
            if tail.is_empty() {
                &[] // extended Le only
            } else {
                let data = tail.get(..lc)?;
                let le = tail.get(lc..)?;
                if !matches!(le.len(), 0 | 2) {
                    return None;
                }
                data
            }
        }
        [lc, tail @ ..] => {
            let lc = usize::from(*lc);
            let data = tail.get(..lc)?;
            if tail.len() > lc + 1 {
                return None;
            }
            data
        }
    };
    Some((cla, ins, p1, data))
}

impl Authenticator {
    /// Handles one U2F APDU; `touched` is asked only when presence is needed.
    pub fn u2f(&mut self, apdu: &[u8], touched: &mut dyn FnMut() -> bool) -> Vec<u8> {
        let Some((cla, ins, p1, data)) = parse(apdu) else {
            return sw(SW_WRONG_LENGTH);
        };
        if cla != 0 {
            return sw(SW_CLA_NOT_SUPPORTED);
        }
        match ins {
            0x03 => with_sw(b"U2F_V2".to_vec(), SW_NO_ERROR),
            0x01 => self.u2f_register(data, touched),
            0x02 => self.u2f_authenticate(p1, data, touched),
            _ => sw(SW_INS_NOT_SUPPORTED),
        }
    }

    fn u2f_register(&mut self, data: &[u8], touched: &mut dyn FnMut() -> bool) -> Vec<u8> {
        let (Some(challenge), Some(app)) = (data.get(..32), data.get(32..64)) else {
            return sw(SW_WRONG_LENGTH);
        };
        if data.len() != 64 {
            return sw(SW_WRONG_LENGTH);
        }
        let Ok(app_hash) = <[u8; 32]>::try_from(app) else {
            return sw(SW_WRONG_LENGTH);
        };
        if !touched() {
            return sw(SW_CONDITIONS_NOT_SATISFIED);
        }
        let key = CredKey::generate(Alg::Es256);
        let Some(public) = key.sec1_public() else {
            return sw(SW_WRONG_DATA);
        };
        let flags = CredFlags {
            resident: false,
            cred_protect: 1,
            hmac_secret: false,
        };
        let handle = self.wrap.wrap(&key, &app_hash, flags);
        let Ok(handle_len) = u8::try_from(handle.len()) else {
            return sw(SW_WRONG_DATA);
        };
        let signed = [&[0u8][..], app, challenge, &handle, &public].concat();
        let sig = self.att.sign(&signed);
        let mut out = vec![0x05];
        out.extend_from_slice(&public);
        out.push(handle_len);
        out.extend_from_slice(&handle);
        out.extend_from_slice(&self.att.leaf_der);
        out.extend_from_slice(&sig);
        with_sw(out, SW_NO_ERROR)
    }

    fn u2f_authenticate(
        &mut self,
        p1: u8,
        data: &[u8],
        touched: &mut dyn FnMut() -> bool,
    ) -> Vec<u8> {
        let (Some(challenge), Some(app), Some(&len)) =
            (data.get(..32), data.get(32..64), data.get(64))
        else {
            return sw(SW_WRONG_LENGTH);
        };
        let Some(handle) = data.get(65..65 + usize::from(len)) else {
            return sw(SW_WRONG_LENGTH);
        };
        let Ok(app_hash) = <[u8; 32]>::try_from(app) else {
            return sw(SW_WRONG_LENGTH);
        };
        let Some(cred) = self.wrap.unwrap(handle, &app_hash) else {
            return sw(SW_WRONG_DATA);
        };
        if cred.key.alg() != Alg::Es256 {
            return sw(SW_WRONG_DATA);
        }
        let flags = match p1 {
            0x07 => return sw(SW_CONDITIONS_NOT_SATISFIED),
            0x03 => {
                if !touched() {
                    return sw(SW_CONDITIONS_NOT_SATISFIED);
                }
                0x01
            }
            0x08 => 0x00,
            _ => return sw(SW_WRONG_DATA),
        };
        self.counter = self.counter.wrapping_add(1);
        let counter = self.counter.to_be_bytes();
        let signed = [app, &[flags], &counter, challenge].concat();
        let sig = cred.key.sign(&signed);
        let mut out = vec![flags];
        out.extend_from_slice(&counter);
        out.extend_from_slice(&sig);
        with_sw(out, SW_NO_ERROR)
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn apdu_forms() {
        assert_eq!(parse(&[0, 3, 0, 0]), Some((0, 3, 0, &[][..])));
        assert_eq!(parse(&[0, 3, 0, 0, 0, 0, 0]), Some((0, 3, 0, &[][..])));
        assert_eq!(
            parse(&[0, 1, 0, 0, 0, 0, 2, 9, 9, 0, 0]),
            Some((0, 1, 0, &[9u8, 9][..]))
        );
        assert_eq!(
            parse(&[0, 1, 0, 0, 2, 9, 9]),
            Some((0, 1, 0, &[9u8, 9][..]))
        );
        assert_eq!(parse(&[0, 1, 0, 0, 0, 0, 5, 9]), None);
        assert_eq!(parse(&[0, 1, 0]), None);
    }
}
