//! CTAP1/U2F: APDU encoding (extended length), parsing of VERSION, REGISTER
//! and AUTHENTICATE responses, status-word handling, and the touch-polling
//! loop (U2F keys answer 0x6985 until the user touches them).

use std::time::{Duration, Instant};

use serde::Serialize;

use super::ctaphid::{CtapHid, HidEvent};
use super::error::CtapError;
use crate::transport::Transport;

/// Instruction bytes.
pub mod ins {
    /// U2F_REGISTER.
    pub const REGISTER: u8 = 0x01;
    /// U2F_AUTHENTICATE.
    pub const AUTHENTICATE: u8 = 0x02;
    /// U2F_VERSION.
    pub const VERSION: u8 = 0x03;
}

/// AUTHENTICATE control byte (P1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthControl {
    /// 0x07: only check whether the key handle belongs to this key (no touch, no signature).
    CheckOnly = 0x07,
    /// 0x03: require user presence and sign.
    EnforceUserPresence = 0x03,
    /// 0x08: sign without user presence.
    DontEnforceUserPresence = 0x08,
}

/// Status words.
pub mod sw {
    /// Success.
    pub const NO_ERROR: u16 = 0x9000;
    /// User presence needed (REGISTER/AUTHENTICATE), or check-only key handle is valid.
    pub const CONDITIONS_NOT_SATISFIED: u16 = 0x6985;
    /// Bad key handle (AUTHENTICATE) or bad data.
    pub const WRONG_DATA: u16 = 0x6A80;
    /// Wrong request length.
    pub const WRONG_LENGTH: u16 = 0x6700;
    /// Class not supported.
    pub const CLA_NOT_SUPPORTED: u16 = 0x6E00;
    /// Instruction not supported.
    pub const INS_NOT_SUPPORTED: u16 = 0x6D00;
}

/// Encodes a command APDU with extended length encoding (Lc on 3 bytes,
/// Le = 65536 on 2 or 3 bytes). `data` must be at most 65535 bytes.
pub fn encode_apdu(ins: u8, p1: u8, p2: u8, data: &[u8]) -> Result<Vec<u8>, CtapError> {
    let len = u16::try_from(data.len()).map_err(|_| CtapError::Oversized {
        len: data.len(),
        max: 0xFFFF,
    })?;
    let mut out = vec![0x00, ins, p1, p2];
    if data.is_empty() {
        out.extend_from_slice(&[0x00, 0x00, 0x00]);
    } else {
        out.push(0x00);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(data);
        out.extend_from_slice(&[0x00, 0x00]);
    }
    Ok(out)
}

/// VERSION request.
pub fn encode_version() -> Vec<u8> {
    vec![0x00, ins::VERSION, 0x00, 0x00, 0x00, 0x00, 0x00]
}

/// REGISTER request: challenge parameter and application parameter (both SHA-256 hashes).
pub fn encode_register(challenge: &[u8; 32], app_id_hash: &[u8; 32]) -> Vec<u8> {
    let mut data = Vec::with_capacity(64);
    data.extend_from_slice(challenge);
    data.extend_from_slice(app_id_hash);
    // 64 bytes of data always fit.
    encode_apdu(ins::REGISTER, 0x03, 0x00, &data).unwrap_or_default()
}

/// AUTHENTICATE request.
pub fn encode_authenticate(
    control: AuthControl,
    challenge: &[u8; 32],
    app_id_hash: &[u8; 32],
    key_handle: &[u8],
) -> Result<Vec<u8>, CtapError> {
    let kh_len = u8::try_from(key_handle.len()).map_err(|_| CtapError::Oversized {
        len: key_handle.len(),
        max: 255,
    })?;
    let mut data = Vec::with_capacity(65 + key_handle.len());
    data.extend_from_slice(challenge);
    data.extend_from_slice(app_id_hash);
    data.push(kh_len);
    data.extend_from_slice(key_handle);
    encode_apdu(ins::AUTHENTICATE, control as u8, 0x00, &data)
}

/// Splits a response APDU into body and status word.
pub fn split_sw(resp: &[u8]) -> Result<(&[u8], u16), CtapError> {
    match resp.split_last_chunk::<2>() {
        Some((body, sw)) => Ok((body, u16::from_be_bytes(*sw))),
        None => Err(CtapError::malformed(
            "U2F response",
            "shorter than a status word",
        )),
    }
}

/// Returns the body if the status word is 0x9000, else [`CtapError::U2f`].
pub fn expect_ok(resp: &[u8]) -> Result<&[u8], CtapError> {
    let (body, sw) = split_sw(resp)?;
    if sw == sw::NO_ERROR {
        Ok(body)
    } else {
        Err(CtapError::U2f { sw })
    }
}

/// Parses a VERSION response body (normally "U2F_V2").
pub fn parse_version(body: &[u8]) -> Result<String, CtapError> {
    if body.len() > 32 {
        return Err(CtapError::malformed("U2F version", "longer than 32 bytes"));
    }
    std::str::from_utf8(body)
        .map(str::to_owned)
        .map_err(|_| CtapError::malformed("U2F version", "not UTF-8"))
}

/// A parsed REGISTER response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct U2fRegistration {
    /// Uncompressed P-256 user public key (0x04 || x || y).
    #[serde(serialize_with = "super::ctap2::hex_serde::bytes")]
    pub user_public_key: Vec<u8>,
    /// The key handle (the credential id).
    #[serde(serialize_with = "super::ctap2::hex_serde::bytes")]
    pub key_handle: Vec<u8>,
    /// The attestation certificate, DER.
    #[serde(serialize_with = "super::ctap2::hex_serde::bytes")]
    pub attestation_cert: Vec<u8>,
    /// ECDSA signature (DER) by the attestation key.
    #[serde(serialize_with = "super::ctap2::hex_serde::bytes")]
    pub signature: Vec<u8>,
}

impl U2fRegistration {
    /// Parses a REGISTER response body (status word removed).
    pub fn parse(body: &[u8]) -> Result<Self, CtapError> {
        const WHAT: &str = "U2F register response";
        let bad = |d: &str| CtapError::malformed(WHAT, d);
        let (&reserved, rest) = body.split_first().ok_or_else(|| bad("empty"))?;
        if reserved != 0x05 {
            return Err(bad("reserved byte is not 0x05"));
        }
        let (pk, rest) = rest
            .split_first_chunk::<65>()
            .ok_or_else(|| bad("truncated public key"))?;
        if pk[0] != 0x04 {
            return Err(bad("public key is not an uncompressed point"));
        }
        let (&kh_len, rest) = rest
            .split_first()
            .ok_or_else(|| bad("no key handle length"))?;
        let (kh, rest) = split_at_checked(rest, usize::from(kh_len))
            .ok_or_else(|| bad("truncated key handle"))?;
        let cert_len = der_total_len(rest).ok_or_else(|| bad("invalid certificate header"))?;
        let (cert, sig) =
            split_at_checked(rest, cert_len).ok_or_else(|| bad("truncated certificate"))?;
        if sig.is_empty() {
            return Err(bad("no signature"));
        }
        Ok(Self {
            user_public_key: pk.to_vec(),
            key_handle: kh.to_vec(),
            attestation_cert: cert.to_vec(),
            signature: sig.to_vec(),
        })
    }

    /// The bytes the attestation signature covers:
    /// 0x00 || appIdHash || challenge || keyHandle || userPublicKey.
    pub fn signed_data(&self, app_id_hash: &[u8; 32], challenge: &[u8; 32]) -> Vec<u8> {
        let mut out = vec![0x00];
        out.extend_from_slice(app_id_hash);
        out.extend_from_slice(challenge);
        out.extend_from_slice(&self.key_handle);
        out.extend_from_slice(&self.user_public_key);
        out
    }
}

/// A parsed AUTHENTICATE response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct U2fAuthentication {
    /// User presence byte (bit 0 set = touched).
    pub user_presence: u8,
    /// Signature counter.
    pub counter: u32,
    /// ECDSA signature (DER) by the credential key.
    #[serde(serialize_with = "super::ctap2::hex_serde::bytes")]
    pub signature: Vec<u8>,
}

impl U2fAuthentication {
    /// Parses an AUTHENTICATE response body (status word removed).
    pub fn parse(body: &[u8]) -> Result<Self, CtapError> {
        const WHAT: &str = "U2F authenticate response";
        let (head, sig) = body
            .split_first_chunk::<5>()
            .ok_or_else(|| CtapError::malformed(WHAT, "truncated"))?;
        if sig.is_empty() {
            return Err(CtapError::malformed(WHAT, "no signature"));
        }
        let [up, c0, c1, c2, c3] = *head;
        Ok(Self {
            user_presence: up,
            counter: u32::from_be_bytes([c0, c1, c2, c3]),
            signature: sig.to_vec(),
        })
    }

    /// The bytes the signature covers: appIdHash || UP || counter || challenge.
    pub fn signed_data(&self, app_id_hash: &[u8; 32], challenge: &[u8; 32]) -> Vec<u8> {
        let mut out = app_id_hash.to_vec();
        out.push(self.user_presence);
        out.extend_from_slice(&self.counter.to_be_bytes());
        out.extend_from_slice(challenge);
        out
    }
}

fn split_at_checked(b: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    (n <= b.len()).then(|| b.split_at(n))
}

/// Total length (header + content) of the DER SEQUENCE starting `b`.
pub fn der_total_len(b: &[u8]) -> Option<usize> {
    let (&tag, rest) = b.split_first()?;
    if tag != 0x30 {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    if first < 0x80 {
        return Some(2 + usize::from(first));
    }
    let n = usize::from(first & 0x7F);
    if n == 0 || n > 3 {
        return None;
    }
    let len_bytes = rest.get(..n)?;
    let len = len_bytes
        .iter()
        .fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
    Some(2 + n + len)
}

/// Sends an APDU, repeating it while the key answers 0x6985 (waiting for a
/// touch) until it succeeds, fails otherwise, `timeout` passes, or `cancel`
/// returns true. Emits [`HidEvent::UpNeeded`] once when polling starts.
pub fn send_polling<T: Transport>(
    hid: &mut CtapHid<T>,
    apdu: &[u8],
    timeout: Duration,
    poll_every: Duration,
    on_event: &mut dyn FnMut(HidEvent),
    cancel: &dyn Fn() -> bool,
) -> Result<Vec<u8>, CtapError> {
    let start = Instant::now();
    let mut announced = false;
    loop {
        let resp = hid.msg(apdu, on_event)?;
        let (body, status) = split_sw(&resp)?;
        match status {
            sw::NO_ERROR => return Ok(body.to_vec()),
            sw::CONDITIONS_NOT_SATISFIED => {
                if !announced {
                    on_event(HidEvent::UpNeeded);
                    announced = true;
                }
                if cancel() {
                    return Err(CtapError::Cancelled);
                }
                if start.elapsed() >= timeout {
                    return Err(CtapError::U2f { sw: status });
                }
                std::thread::sleep(poll_every);
            }
            other => return Err(CtapError::U2f { sw: other }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_length_apdus() {
        assert_eq!(encode_version(), [0, 3, 0, 0, 0, 0, 0]);
        assert_eq!(encode_apdu(3, 0, 0, &[]).unwrap(), encode_version());
        let r = encode_register(&[1; 32], &[2; 32]);
        assert_eq!(&r[..7], &[0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 0x40]);
        assert_eq!(r.len(), 7 + 64 + 2);
        assert_eq!(&r[r.len() - 2..], &[0, 0]);
        let a = encode_authenticate(AuthControl::CheckOnly, &[1; 32], &[2; 32], &[9; 3]).unwrap();
        assert_eq!(&a[..7], &[0x00, 0x02, 0x07, 0x00, 0x00, 0x00, 0x44]);
        assert_eq!(a[7 + 64], 3);
        assert!(
            encode_authenticate(AuthControl::CheckOnly, &[1; 32], &[2; 32], &[0; 256]).is_err()
        );
    }

    #[test]
    fn status_words() {
        assert_eq!(expect_ok(&[0xAA, 0x90, 0x00]).unwrap(), &[0xAA]);
        assert!(matches!(
            expect_ok(&[0x69, 0x85]),
            Err(CtapError::U2f { sw: 0x6985 })
        ));
        assert!(matches!(
            expect_ok(&[0x90]),
            Err(CtapError::Malformed { .. })
        ));
    }

    fn register_body(cert: &[u8]) -> Vec<u8> {
        let mut b = vec![0x05, 0x04];
        b.extend_from_slice(&[0x11; 64]);
        b.push(4);
        b.extend_from_slice(&[0xAB; 4]);
        b.extend_from_slice(cert);
        b.extend_from_slice(&[0x30, 0x02, 0x01, 0x00]);
        b
    }

    #[test]
    fn register_parse_with_long_form_cert_length() {
        let mut cert = vec![0x30, 0x81, 0x80];
        cert.extend_from_slice(&[0x55; 0x80]);
        let r = U2fRegistration::parse(&register_body(&cert)).unwrap();
        assert_eq!(r.key_handle, vec![0xAB; 4]);
        assert_eq!(r.attestation_cert, cert);
        assert_eq!(r.signature, vec![0x30, 0x02, 0x01, 0x00]);
        assert_eq!(r.user_public_key.len(), 65);
        let sd = r.signed_data(&[1; 32], &[2; 32]);
        assert_eq!(sd.len(), 1 + 32 + 32 + 4 + 65);
        assert_eq!(sd[0], 0);
    }

    #[test]
    fn register_parse_rejects_bad_input() {
        let cert = [0x30, 0x03, 1, 2, 3];
        let good = register_body(&cert);
        for n in 0..good.len() - 4 {
            assert!(U2fRegistration::parse(&good[..n]).is_err(), "prefix {n}");
        }
        let mut bad = good.clone();
        bad[0] = 0x06;
        assert!(U2fRegistration::parse(&bad).is_err());
        // Certificate length pointing past the end.
        let huge = register_body(&[0x30, 0x83, 0xFF, 0xFF, 0xFF]);
        assert!(U2fRegistration::parse(&huge).is_err());
    }

    #[test]
    fn authenticate_parse() {
        let a = U2fAuthentication::parse(&[1, 0, 0, 1, 2, 0x30, 0]).unwrap();
        assert_eq!(a.user_presence, 1);
        assert_eq!(a.counter, 258);
        assert_eq!(a.signature, vec![0x30, 0]);
        assert!(U2fAuthentication::parse(&[1, 0, 0, 1, 2]).is_err());
        let sd = a.signed_data(&[7; 32], &[8; 32]);
        assert_eq!(&sd[32..37], &[1, 0, 0, 1, 2]);
        assert_eq!(sd.len(), 32 + 5 + 32);
    }
}
