//! What a WebAuthn client adds around the CTAP commands: the
//! clientDataJSON (and its hash, the value the key signs), the origin for
//! a relying party id, base64url, fresh random challenges.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Builds a WebAuthn-style clientDataJSON for `origin` and returns it with its SHA-256.
pub fn client_data(kind: &str, challenge: &[u8], origin: &str) -> (String, [u8; 32]) {
    let json = format!(
        r#"{{"type":"{kind}","challenge":"{}","origin":"{origin}","crossOrigin":false}}"#,
        base64url(challenge)
    );
    let hash = Sha256::digest(json.as_bytes()).into();
    (json, hash)
}

/// Unpadded base64url (RFC 4648 §5), as WebAuthn uses for challenges.
pub fn base64url(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let idx = ((n >> (18 - 6 * i)) & 0x3F) as usize;
            out.push(char::from(ALPHABET[idx]));
        }
    }
    out
}

/// `N` random bytes.
pub(super) fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::thread_rng().fill_bytes(&mut b);
    b
}

/// The origin a browser would use for `rp_id`.
pub(super) fn origin(rp_id: &str) -> String {
    format!("https://{rp_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc4648_vectors() {
        // RFC 4648 §10 test vectors, base64url without padding.
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg");
        assert_eq!(base64url(b"fooba"), "Zm9vYmE");
        assert_eq!(base64url(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url(&[0xFB, 0xFF]), "-_8");
    }

    #[test]
    fn client_data_json_shape() {
        let (json, hash) = client_data("webauthn.create", b"foo", "https://fido-doctor.invalid");
        assert_eq!(
            json,
            r#"{"type":"webauthn.create","challenge":"Zm9v","origin":"https://fido-doctor.invalid","crossOrigin":false}"#
        );
        let expected: [u8; 32] = Sha256::digest(json.as_bytes()).into();
        assert_eq!(hash, expected);
    }
}
