//! CBOR helpers for the simulator: canonical encoding (CTAP2 key order) of
//! responses and typed reads from request maps, each failure a CTAP status.

use std::cmp::Ordering;

use ciborium::Value;

use super::status::*;

/// Encodes `v` with every map's keys in CTAP2 canonical order.
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = ciborium::into_writer(&canonical(v), &mut out);
    out
}

fn encoded(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = ciborium::into_writer(v, &mut out);
    out
}

/// CTAP2 canonical key order: major type, then encoded length, then bytes.
fn key_order(a: &[u8], b: &[u8]) -> Ordering {
    let major = |k: &[u8]| k.first().map(|b| b >> 5);
    major(a)
        .cmp(&major(b))
        .then(a.len().cmp(&b.len()))
        .then(a.cmp(b))
}

/// A copy of `v` with map keys sorted recursively.
pub fn canonical(v: &Value) -> Value {
    match v {
        Value::Map(entries) => {
            let mut sorted: Vec<(Vec<u8>, Value, Value)> = entries
                .iter()
                .map(|(k, val)| {
                    let k = canonical(k);
                    (encoded(&k), k, canonical(val))
                })
                .collect();
            sorted.sort_by(|a, b| key_order(&a.0, &b.0));
            Value::Map(sorted.into_iter().map(|(_, k, v)| (k, v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        Value::Tag(t, inner) => Value::Tag(*t, Box::new(canonical(inner))),
        other => other.clone(),
    }
}

/// Integer-keyed map entry.
pub fn int(k: i64) -> Value {
    Value::Integer(k.into())
}

/// Text value.
pub fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// Byte-string value.
pub fn bytes(b: &[u8]) -> Value {
    Value::Bytes(b.to_vec())
}

/// Decodes a request map (the bytes after the command byte).
pub fn decode_map(data: &[u8]) -> Result<Vec<(Value, Value)>, u8> {
    let v: Value = ciborium::from_reader(data).map_err(|_| ERR_INVALID_CBOR)?;
    match v {
        Value::Map(m) => Ok(m),
        _ => Err(ERR_CBOR_UNEXPECTED_TYPE),
    }
}

/// The value at integer key `k`.
pub fn get(map: &[(Value, Value)], k: i64) -> Option<&Value> {
    map.iter()
        .find(|(key, _)| key.as_integer().and_then(|i| i64::try_from(i).ok()) == Some(k))
        .map(|(_, v)| v)
}

/// The value at text key `k`.
pub fn get_text_key<'a>(map: &'a [(Value, Value)], k: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(key, _)| key.as_text() == Some(k))
        .map(|(_, v)| v)
}

/// Value as bytes, or CBOR_UNEXPECTED_TYPE.
pub fn as_bytes(v: &Value) -> Result<&[u8], u8> {
    v.as_bytes()
        .map(Vec::as_slice)
        .ok_or(ERR_CBOR_UNEXPECTED_TYPE)
}

/// Value as text, or CBOR_UNEXPECTED_TYPE.
pub fn as_text(v: &Value) -> Result<&str, u8> {
    v.as_text().ok_or(ERR_CBOR_UNEXPECTED_TYPE)
}

/// Value as an integer, or CBOR_UNEXPECTED_TYPE.
pub fn as_int(v: &Value) -> Result<i64, u8> {
    v.as_integer()
        .and_then(|i| i64::try_from(i).ok())
        .ok_or(ERR_CBOR_UNEXPECTED_TYPE)
}

/// Value as a map, or CBOR_UNEXPECTED_TYPE.
pub fn as_map(v: &Value) -> Result<&[(Value, Value)], u8> {
    v.as_map()
        .map(Vec::as_slice)
        .ok_or(ERR_CBOR_UNEXPECTED_TYPE)
}

/// Value as an array, or CBOR_UNEXPECTED_TYPE.
pub fn as_array(v: &Value) -> Result<&[Value], u8> {
    v.as_array()
        .map(Vec::as_slice)
        .ok_or(ERR_CBOR_UNEXPECTED_TYPE)
}

/// Value as a bool, or CBOR_UNEXPECTED_TYPE.
pub fn as_bool(v: &Value) -> Result<bool, u8> {
    v.as_bool().ok_or(ERR_CBOR_UNEXPECTED_TYPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_ints_then_negatives_then_text_by_length() {
        let m = Value::Map(vec![
            (text("up"), int(1)),
            (int(-2), int(0)),
            (text("rk"), int(0)),
            (int(24), int(0)),
            (int(-1), int(0)),
            (text("plat"), int(0)),
            (int(3), int(0)),
            (text("b"), int(0)),
        ]);
        let Value::Map(sorted) = canonical(&m) else {
            panic!("not a map")
        };
        let keys: Vec<String> = sorted.iter().map(|(k, _)| format!("{k:?}")).collect();
        let expect: Vec<String> = [
            int(3),
            int(24),
            int(-1),
            int(-2),
            text("b"),
            text("rk"),
            text("up"),
            text("plat"),
        ]
        .iter()
        .map(|k| format!("{k:?}"))
        .collect();
        assert_eq!(keys, expect);
    }
}
