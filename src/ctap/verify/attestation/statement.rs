//! A text-keyed view of an attestation statement map (`alg`, `sig`, `x5c`),
//! with the type checks every format shares.

use ciborium::Value;

use crate::ctap::verify::VerifyError;

/// Most certificates accepted in `x5c`.
const MAX_CHAIN: usize = 8;

/// Text-keyed view of an attestation statement map.
pub(super) struct Statement<'a> {
    entries: &'a [(Value, Value)],
}

impl<'a> Statement<'a> {
    pub(super) fn new(value: &'a Value) -> Result<Self, VerifyError> {
        match value {
            Value::Map(entries) => Ok(Statement { entries }),
            _ => Err(VerifyError::InvalidField {
                field: "attStmt",
                reason: "not a CBOR map",
            }),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(super) fn get(&self, key: &str) -> Option<&'a Value> {
        self.entries.iter().find_map(|(k, v)| match k {
            Value::Text(t) if t == key => Some(v),
            _ => None,
        })
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub(super) fn alg(&self) -> Result<i64, VerifyError> {
        match self.get("alg") {
            Some(Value::Integer(i)) => {
                i64::try_from(i128::from(*i)).map_err(|_| VerifyError::InvalidField {
                    field: "alg",
                    reason: "out of range",
                })
            }
            Some(_) => Err(VerifyError::InvalidField {
                field: "alg",
                reason: "not an integer",
            }),
            None => Err(VerifyError::MissingField("alg")),
        }
    }

    pub(super) fn bytes(&self, key: &'static str) -> Result<&'a [u8], VerifyError> {
        match self.get(key) {
            Some(Value::Bytes(b)) => Ok(b),
            Some(_) => Err(VerifyError::InvalidField {
                field: key,
                reason: "not a byte string",
            }),
            None => Err(VerifyError::MissingField(key)),
        }
    }

    pub(super) fn x5c(&self) -> Result<Option<Vec<&'a [u8]>>, VerifyError> {
        let bad = |reason| VerifyError::InvalidField {
            field: "x5c",
            reason,
        };
        match self.get("x5c") {
            None => Ok(None),
            Some(Value::Array(items)) => {
                if items.is_empty() {
                    return Err(bad("empty certificate list"));
                }
                if items.len() > MAX_CHAIN {
                    return Err(bad("more than 8 certificates"));
                }
                items
                    .iter()
                    .map(|item| match item {
                        Value::Bytes(b) => Ok(b.as_slice()),
                        _ => Err(bad("certificate is not a byte string")),
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
            }
            Some(_) => Err(bad("not an array")),
        }
    }
}
