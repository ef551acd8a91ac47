//! Serde helpers that write byte strings as lowercase hex in reports.

use serde::Serializer;

/// Serializes any byte container as a lowercase hex string.
pub(crate) fn bytes<S: Serializer, T: AsRef<[u8]>>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(value.as_ref()))
}

/// Serializes optional bytes as a hex string or `null`.
pub(crate) fn opt_bytes<S: Serializer, T: AsRef<[u8]>>(
    value: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_str(&hex::encode(v.as_ref())),
        None => s.serialize_none(),
    }
}
