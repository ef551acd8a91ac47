//! Serde helpers that write byte fields as lowercase hex strings in JSON
//! (for the CTAP2 responses and the verification results alike), and
//! AAGUIDs in their hyphenated form (the one formatter is [`Aaguid`]'s
//! `Display`).

use serde::Serializer;

use crate::ctap::verify::authdata::Aaguid;

/// Serializes any byte container as a lowercase hex string.
pub fn bytes<S: Serializer, T: AsRef<[u8]> + ?Sized>(b: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(b.as_ref()))
}

/// Serializes optional bytes as a hex string or null.
pub fn opt_bytes<S: Serializer, T: AsRef<[u8]>>(b: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match b {
        Some(b) => s.serialize_str(&hex::encode(b.as_ref())),
        None => s.serialize_none(),
    }
}

/// Serializes a 16-byte AAGUID in the usual hyphenated lowercase form.
pub fn aaguid<S: Serializer>(b: &[u8; 16], s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&Aaguid(*b))
}

#[cfg(test)]
mod tests {
    #[test]
    fn aaguid_format() {
        let b = [
            0xcb, 0x69, 0x48, 0x1e, 0x8f, 0xf7, 0x40, 0x39, 0x93, 0xec, 0x0a, 0x27, 0x29, 0xa1,
            0x54, 0xa8,
        ];
        #[derive(serde::Serialize)]
        struct W {
            #[serde(serialize_with = "super::aaguid")]
            a: [u8; 16],
            #[serde(serialize_with = "super::bytes")]
            b: Vec<u8>,
        }
        let json = serde_json::to_string(&W {
            a: b,
            b: vec![0xAB, 0x01],
        })
        .unwrap();
        assert_eq!(
            json,
            r#"{"a":"cb69481e-8ff7-4039-93ec-0a2729a154a8","b":"ab01"}"#
        );
    }
}
