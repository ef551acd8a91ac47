//! CBOR helpers for CTAP2: canonical encoding of request maps (CTAP2 canonical
//! form: map keys sorted by major type, then length, then bytewise)
//! and bounded,
//! panic-free decoding of response maps with typed field access.

use ciborium::Value;

use super::DecodeError;

/// Maximum nesting accepted when decoding a response (real responses nest < 10 deep).
const MAX_DEPTH: usize = 32;

/// Builds an integer CBOR value.
pub fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

/// Builds a text CBOR value.
pub fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// Builds a byte-string CBOR value.
pub fn bytes(b: &[u8]) -> Value {
    Value::Bytes(b.to_vec())
}

/// Encodes one value without sorting (private helper for key ordering).
fn raw_encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail for the value kinds we build.
    if ciborium::into_writer(v, &mut out).is_err() {
        out.clear();
    }
    out
}

/// Returns a copy of `v` with every map (recursively) in CTAP2 canonical key order.
pub fn canonicalize(v: &Value) -> Value {
    match v {
        Value::Map(entries) => {
            let mut sorted: Vec<(Vec<u8>, Value, Value)> = entries
                .iter()
                .map(|(k, val)| {
                    let k = canonicalize(k);
                    (raw_encode(&k), k, canonicalize(val))
                })
                .collect();
            sorted.sort_by(|a, b| canonical_key_order(&a.0, &b.0));
            Value::Map(sorted.into_iter().map(|(_, k, v)| (k, v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonicalize).collect()),
        Value::Tag(t, inner) => Value::Tag(*t, Box::new(canonicalize(inner))),
        other => other.clone(),
    }
}

/// CTAP2 canonical order of two encoded map keys: the lower major type
/// first, then the shorter length, then bytewise. The major type and the
/// length both live in the leading bytes of the encoding (the initial byte
/// and its argument), so comparing the encodings bytewise gives exactly that
/// order, and it is the order of the specification's example (where `[100]`
/// sorts before the shorter `[-1]`: both are arrays of length one, and
/// 0x18 < 0x20 decides).
fn canonical_key_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.cmp(b)
}

/// Encodes `v` in CTAP2 canonical form.
pub fn encode_canonical(v: &Value) -> Vec<u8> {
    raw_encode(&canonicalize(v))
}

/// Encodes an integer-keyed parameter map, skipping `None` entries.
pub fn encode_int_map(entries: Vec<(i64, Option<Value>)>) -> Vec<u8> {
    let map = entries
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (int(k), v)))
        .collect();
    encode_canonical(&Value::Map(map))
}

/// Decodes exactly one CBOR item from `data` (trailing bytes are an error).
pub fn decode(data: &[u8], what: &'static str) -> Result<Value, DecodeError> {
    let mut cursor = std::io::Cursor::new(data);
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut cursor, MAX_DEPTH)
        .map_err(|e| DecodeError::Cbor {
            what,
            reason: describe(&e),
        })?;
    let used = cursor.position();
    if used != data.len() as u64 {
        return Err(DecodeError::Cbor {
            what,
            reason: format!(
                "{} trailing bytes",
                (data.len() as u64).saturating_sub(used)
            ),
        });
    }
    Ok(value)
}

fn describe(e: &ciborium::de::Error<std::io::Error>) -> String {
    use ciborium::de::Error;
    match e {
        Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => "truncated".into(),
        Error::Io(io) => io.to_string(),
        Error::Syntax(at) => format!("syntax error at byte {at}"),
        Error::Semantic(Some(at), msg) => format!("{msg} (at byte {at})"),
        Error::Semantic(None, msg) => msg.clone(),
        Error::RecursionLimitExceeded => "nested too deeply".into(),
    }
}

/// Decoded CBOR map with integer keys, as CTAP2 responses use.
#[derive(Debug, Clone)]
pub struct IntMap {
    what: &'static str,
    entries: Vec<(i64, Value)>,
    /// Entries whose key was not an integer (kept for completeness).
    pub other: Vec<(Value, Value)>,
}

impl IntMap {
    /// Decodes `data` as one CBOR map keyed by integers.
    pub fn decode(data: &[u8], what: &'static str) -> Result<Self, DecodeError> {
        Self::from_value(decode(data, what)?, what)
    }

    /// Wraps an already decoded value, which must be a map.
    pub fn from_value(v: Value, what: &'static str) -> Result<Self, DecodeError> {
        let Value::Map(map) = v else {
            return Err(DecodeError::WrongType {
                what,
                field: "(top level)".into(),
                expected: "map",
            });
        };
        let mut entries = Vec::new();
        let mut other = Vec::new();
        for (k, v) in map {
            match k.as_integer().and_then(|i| i64::try_from(i).ok()) {
                Some(i) => {
                    if entries.iter().any(|(e, _)| *e == i) {
                        return Err(DecodeError::Invalid {
                            what,
                            field: i.to_string(),
                            reason: "duplicate key".into(),
                        });
                    }
                    entries.push((i, v));
                }
                None => other.push((k, v)),
            }
        }
        Ok(Self {
            what,
            entries,
            other,
        })
    }

    /// What this map is (used in error messages).
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// Removes and returns the value at `key`, if present.
    pub fn take(&mut self, key: i64) -> Option<Value> {
        let idx = self.entries.iter().position(|(k, _)| *k == key)?;
        Some(self.entries.remove(idx).1)
    }

    /// Remaining (not taken) integer-keyed entries.
    pub fn into_rest(self) -> Vec<(i64, Value)> {
        self.entries
    }

    fn wrong(&self, key: i64, expected: &'static str) -> DecodeError {
        DecodeError::WrongType {
            what: self.what,
            field: key.to_string(),
            expected,
        }
    }

    /// Required field helper: error if missing.
    pub fn required<T>(
        &mut self,
        key: i64,
        f: impl FnOnce(&mut Self, i64) -> Result<Option<T>, DecodeError>,
    ) -> Result<T, DecodeError> {
        f(self, key)?.ok_or(DecodeError::Missing {
            what: self.what,
            key,
        })
    }

    /// Optional byte string.
    pub fn bytes(&mut self, key: i64) -> Result<Option<Vec<u8>>, DecodeError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Bytes(b)) => Ok(Some(b)),
            Some(_) => Err(self.wrong(key, "byte string")),
        }
    }

    /// Optional text string.
    pub fn text(&mut self, key: i64) -> Result<Option<String>, DecodeError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Text(s)) => Ok(Some(s)),
            Some(_) => Err(self.wrong(key, "text string")),
        }
    }

    /// Optional unsigned integer that fits in u64.
    pub fn uint(&mut self, key: i64) -> Result<Option<u64>, DecodeError> {
        match self.take(key) {
            None => Ok(None),
            Some(v) => as_u64(&v)
                .map(Some)
                .ok_or_else(|| self.wrong(key, "unsigned integer")),
        }
    }

    /// Optional boolean.
    pub fn boolean(&mut self, key: i64) -> Result<Option<bool>, DecodeError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(_) => Err(self.wrong(key, "boolean")),
        }
    }

    /// Optional array.
    pub fn array(&mut self, key: i64) -> Result<Option<Vec<Value>>, DecodeError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(self.wrong(key, "array")),
        }
    }

    /// Optional map (raw entries).
    pub fn map(&mut self, key: i64) -> Result<Option<Vec<(Value, Value)>>, DecodeError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Map(m)) => Ok(Some(m)),
            Some(_) => Err(self.wrong(key, "map")),
        }
    }

    /// Optional array of text strings.
    pub fn text_array(&mut self, key: i64) -> Result<Option<Vec<String>>, DecodeError> {
        let Some(items) = self.array(key)? else {
            return Ok(None);
        };
        items
            .into_iter()
            .map(|v| match v {
                Value::Text(s) => Ok(s),
                _ => Err(self.wrong(key, "array of text strings")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Optional array of unsigned integers.
    pub fn uint_array(&mut self, key: i64) -> Result<Option<Vec<u64>>, DecodeError> {
        let Some(items) = self.array(key)? else {
            return Ok(None);
        };
        items
            .iter()
            .map(|v| as_u64(v).ok_or_else(|| self.wrong(key, "array of unsigned integers")))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// The value as u64 if it is a non-negative integer.
pub fn as_u64(v: &Value) -> Option<u64> {
    v.as_integer().and_then(|i| u64::try_from(i).ok())
}

/// The value as i64 if it is an integer in range.
pub fn as_i64(v: &Value) -> Option<i64> {
    v.as_integer().and_then(|i| i64::try_from(i).ok())
}

/// Looks up a text key in a map's entries.
pub fn text_key<'a>(map: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_order_is_the_ctap2_specification_example() {
        // CTAP 2.1 §8 (message encoding) lists these keys in canonical order:
        // 10, 100, -1, "z", "aa", [100], [-1], false.
        let sorted = [
            int(10),
            int(100),
            int(-1),
            text("z"),
            text("aa"),
            Value::Array(vec![int(100)]),
            Value::Array(vec![int(-1)]),
            Value::Bool(false),
        ];
        let mut shuffled: Vec<(Value, Value)> = sorted
            .iter()
            .rev()
            .cloned()
            .enumerate()
            .map(|(i, k)| (k, int(i as i64)))
            .collect();
        shuffled.swap(0, 3);
        let Value::Map(out) = canonicalize(&Value::Map(shuffled)) else {
            panic!("not a map")
        };
        let keys: Vec<Value> = out.into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn canonical_orders_int_then_negative_then_text_by_length() {
        let v = Value::Map(vec![
            (text("name"), int(1)),
            (int(-1), int(2)),
            (text("id"), int(3)),
            (int(24), int(4)),
            (int(3), int(5)),
        ]);
        let enc = encode_canonical(&v);
        // map(5), 3, 5, 24 (0x18 0x18), 4, -1 (0x20), 2, "id", 3, "name", 1:
        // unsigned before negative whatever the length (major type first).
        let expected = [
            0xA5, 0x03, 0x05, 0x18, 0x18, 0x04, 0x20, 0x02, 0x62, b'i', b'd', 0x03, 0x64, b'n',
            b'a', b'm', b'e', 0x01,
        ];
        assert_eq!(enc, expected);
    }

    #[test]
    fn trailing_bytes_and_truncation_are_errors() {
        assert!(matches!(
            decode(&[0x01, 0x02], "t"),
            Err(DecodeError::Cbor { .. })
        ));
        assert!(matches!(
            decode(&[0xA1, 0x01], "t"),
            Err(DecodeError::Cbor { .. })
        ));
        assert!(matches!(decode(&[], "t"), Err(DecodeError::Cbor { .. })));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let data = vec![0x81u8; 1000];
        assert!(decode(&data, "t").is_err());
    }

    #[test]
    fn duplicate_keys_are_refused() {
        assert!(matches!(
            IntMap::decode(&[0xA2, 0x01, 0x01, 0x01, 0x02], "t"),
            Err(DecodeError::Invalid { .. })
        ));
    }
}
