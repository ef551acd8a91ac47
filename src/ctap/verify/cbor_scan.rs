//! Finds where one CBOR data item ends without decoding it, so a parser can
//! tell exactly how many bytes an embedded item (a COSE key inside
//! authenticator data) occupies. Bounded: lengths are checked against the
//! input and nesting is limited.

use super::VerifyError;

/// Deepest nesting of arrays, maps and tags accepted.
const MAX_DEPTH: usize = 16;

/// Returns the length in bytes of the single CBOR data item at the start of
/// `input`. `what` names the item in errors.
pub(crate) fn item_len(input: &[u8], what: &'static str) -> Result<usize, VerifyError> {
    let mut pos = 0usize;
    match scan(input, &mut pos, 0, what)? {
        Item::Break => Err(VerifyError::BadCbor(format!("{what}: unexpected break"))),
        Item::Value => Ok(pos),
    }
}

enum Item {
    Value,
    Break,
}

fn take(input: &[u8], pos: &mut usize, n: u64, what: &'static str) -> Result<(), VerifyError> {
    let remaining = input.len().saturating_sub(*pos) as u64;
    if n > remaining {
        return Err(VerifyError::Truncated { what });
    }
    // n <= remaining <= usize::MAX, so the cast is lossless.
    *pos += n as usize;
    Ok(())
}

fn read_uint(
    input: &[u8],
    pos: &mut usize,
    bytes: usize,
    what: &'static str,
) -> Result<u64, VerifyError> {
    let start = *pos;
    take(input, pos, bytes as u64, what)?;
    let slice = input
        .get(start..*pos)
        .ok_or(VerifyError::Truncated { what })?;
    Ok(slice.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

fn scan(
    input: &[u8],
    pos: &mut usize,
    depth: usize,
    what: &'static str,
) -> Result<Item, VerifyError> {
    if depth > MAX_DEPTH {
        return Err(VerifyError::BadCbor(format!("{what}: nested too deeply")));
    }
    let initial = *input.get(*pos).ok_or(VerifyError::Truncated { what })?;
    *pos += 1;
    let major = initial >> 5;
    let info = initial & 0x1f;
    let arg: Option<u64> = match info {
        0..=23 => Some(u64::from(info)),
        24 => Some(read_uint(input, pos, 1, what)?),
        25 => Some(read_uint(input, pos, 2, what)?),
        26 => Some(read_uint(input, pos, 4, what)?),
        27 => Some(read_uint(input, pos, 8, what)?),
        28..=30 => {
            return Err(VerifyError::BadCbor(format!(
                "{what}: reserved additional information {info}"
            )));
        }
        _ => None, // 31: indefinite length or break
    };
    match (major, arg) {
        (0 | 1, Some(_)) => Ok(Item::Value),
        (2 | 3, Some(len)) => {
            take(input, pos, len, what)?;
            Ok(Item::Value)
        }
        (2 | 3, None) => loop {
            // Indefinite string: definite chunks of the same major type, then break.
            let chunk_start = *pos;
            let head = *input
                .get(chunk_start)
                .ok_or(VerifyError::Truncated { what })?;
            if head == 0xff {
                *pos += 1;
                return Ok(Item::Value);
            }
            if head >> 5 != major || head & 0x1f == 31 {
                return Err(VerifyError::BadCbor(format!("{what}: bad string chunk")));
            }
            scan(input, pos, depth + 1, what)?;
        },
        (4, Some(n)) => {
            for _ in 0..n {
                expect_value(input, pos, depth, what)?;
            }
            Ok(Item::Value)
        }
        (5, Some(n)) => {
            for _ in 0..n {
                expect_value(input, pos, depth, what)?;
                expect_value(input, pos, depth, what)?;
            }
            Ok(Item::Value)
        }
        (4, None) => loop {
            match scan(input, pos, depth + 1, what)? {
                Item::Break => return Ok(Item::Value),
                Item::Value => {}
            }
        },
        (5, None) => loop {
            match scan(input, pos, depth + 1, what)? {
                Item::Break => return Ok(Item::Value),
                Item::Value => expect_value(input, pos, depth, what)?,
            }
        },
        (6, Some(_)) => {
            expect_value(input, pos, depth, what)?;
            Ok(Item::Value)
        }
        (7, Some(_)) => Ok(Item::Value),
        (7, None) => Ok(Item::Break),
        _ => Err(VerifyError::BadCbor(format!(
            "{what}: indefinite length not allowed for major type {major}"
        ))),
    }
}

fn expect_value(
    input: &[u8],
    pos: &mut usize,
    depth: usize,
    what: &'static str,
) -> Result<(), VerifyError> {
    match scan(input, pos, depth + 1, what)? {
        Item::Value => Ok(()),
        Item::Break => Err(VerifyError::BadCbor(format!("{what}: unexpected break"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(v: &ciborium::Value) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(v, &mut out).unwrap();
        out
    }

    #[test]
    fn lengths_match_encoder_output() {
        use ciborium::Value as V;
        let values = [
            V::Integer(0.into()),
            V::Integer((-1000).into()),
            V::Integer(u64::MAX.into()),
            V::Bytes(vec![7; 300]),
            V::Text("héllo".into()),
            V::Array(vec![V::Bool(true), V::Null, V::Float(1.5)]),
            V::Map(vec![(
                V::Integer(1.into()),
                V::Map(vec![(V::Text("a".into()), V::Bytes(vec![]))]),
            )]),
            V::Tag(24, Box::new(V::Bytes(vec![1, 2, 3]))),
        ];
        for v in values {
            let mut bytes = encoded(&v);
            let len = bytes.len();
            bytes.extend_from_slice(&[0x01, 0x02]);
            assert_eq!(item_len(&bytes, "test").unwrap(), len, "{v:?}");
            // Every strict prefix is truncated.
            for cut in 0..len {
                assert!(
                    item_len(&bytes[..cut], "test").is_err(),
                    "{v:?} cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn indefinite_items() {
        // [_ 1, [_ ], "a" ] then trailing
        let bytes = [0x9f, 0x01, 0x9f, 0xff, 0x61, b'a', 0xff, 0x00];
        assert_eq!(item_len(&bytes, "t").unwrap(), 7);
        // {_ 1: (_ h'01', h'02') }
        let bytes = [0xbf, 0x01, 0x5f, 0x41, 0x01, 0x41, 0x02, 0xff, 0xff];
        assert_eq!(item_len(&bytes, "t").unwrap(), 9);
        // Map with a key but no value before break.
        assert!(item_len(&[0xbf, 0x01, 0xff], "t").is_err());
        // Text chunk inside a byte string.
        assert!(item_len(&[0x5f, 0x61, b'a', 0xff], "t").is_err());
        // Lone break.
        assert!(item_len(&[0xff], "t").is_err());
    }

    #[test]
    fn rejects_deep_nesting_and_huge_lengths() {
        let deep = vec![0x81u8; 100];
        assert!(matches!(item_len(&deep, "t"), Err(VerifyError::BadCbor(_))));
        // Byte string claiming 2^64-1 bytes.
        let huge = [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00];
        assert!(matches!(
            item_len(&huge, "t"),
            Err(VerifyError::Truncated { .. })
        ));
        // Array claiming 2^32 elements but with no data: fails quickly.
        let many = [0x9a, 0xff, 0xff, 0xff, 0xff];
        assert!(item_len(&many, "t").is_err());
    }
}
