//! Zero-copy view of a stored `mvccpb.KeyValue`, for scans over millions of revisions where
//! allocating per entry would dominate. Fields: 1 key, 2 create_revision, 3 mod_revision,
//! 4 version, 5 value, 6 lease (proto3: absent fields are zero).

/// A `KeyValue` borrowing its key and value from the buffer it was parsed from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyValueRef<'a> {
    pub key: &'a [u8],
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    pub value: &'a [u8],
    pub lease: i64,
}

impl<'a> KeyValueRef<'a> {
    /// Parses protobuf bytes; unknown fields are skipped, malformed input is an error.
    pub fn parse(mut b: &'a [u8]) -> Result<KeyValueRef<'a>, String> {
        let mut kv = KeyValueRef::default();
        while !b.is_empty() {
            let tag = varint(&mut b)?;
            let (field, wire) = (tag >> 3, tag & 7);
            match (field, wire) {
                (1, 2) => kv.key = bytes(&mut b)?,
                (5, 2) => kv.value = bytes(&mut b)?,
                (2, 0) => kv.create_revision = varint(&mut b)? as i64,
                (3, 0) => kv.mod_revision = varint(&mut b)? as i64,
                (4, 0) => kv.version = varint(&mut b)? as i64,
                (6, 0) => kv.lease = varint(&mut b)? as i64,
                (0, _) => return Err("field number 0".into()),
                (_, 0) => {
                    varint(&mut b)?;
                }
                (_, 1) => skip(&mut b, 8)?,
                (_, 2) => {
                    bytes(&mut b)?;
                }
                (_, 5) => skip(&mut b, 4)?,
                (f, w) => return Err(format!("field {f} has unsupported wire type {w}")),
            }
        }
        Ok(kv)
    }
}

fn varint(b: &mut &[u8]) -> Result<u64, String> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let Some((&byte, rest)) = b.split_first() else {
            return Err("truncated varint".into());
        };
        *b = rest;
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Ok(v);
        }
    }
    Err("varint longer than 10 bytes".into())
}

fn bytes<'a>(b: &mut &'a [u8]) -> Result<&'a [u8], String> {
    let len = varint(b)?;
    let len = usize::try_from(len).map_err(|_| "length overflows".to_string())?;
    if len > b.len() {
        return Err(format!("length {len} runs past the end ({} left)", b.len()));
    }
    let (head, rest) = b.split_at(len);
    *b = rest;
    Ok(head)
}

fn skip(b: &mut &[u8], n: usize) -> Result<(), String> {
    if n > b.len() {
        return Err("truncated fixed-width field".into());
    }
    *b = &b[n..];
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_spec_example() {
        // docs/format-etcd.md#keyvalue: /registry/foo1, create 2, mod 7, version 2, value "v1b".
        let mut b = vec![0x0a, 14];
        b.extend_from_slice(b"/registry/foo1");
        b.extend_from_slice(&[0x10, 2, 0x18, 7, 0x20, 2, 0x2a, 3]);
        b.extend_from_slice(b"v1b");
        let kv = KeyValueRef::parse(&b).unwrap();
        assert_eq!(kv.key, b"/registry/foo1");
        assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (2, 7, 2));
        assert_eq!(kv.value, b"v1b");
        assert_eq!(kv.lease, 0);
    }

    #[test]
    fn empty_is_the_zero_value_and_garbage_is_an_error() {
        assert_eq!(KeyValueRef::parse(&[]).unwrap(), KeyValueRef::default());
        assert!(KeyValueRef::parse(&[0x0a, 5, b'a']).is_err());
        assert!(KeyValueRef::parse(&[0x10]).is_err());
        assert!(KeyValueRef::parse(&[0x0b]).is_err());
        assert!(KeyValueRef::parse(&[0xff; 11]).is_err());
    }

    #[test]
    fn never_panics_on_noise() {
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for len in 0..2000usize {
            let buf: Vec<u8> = (0..len % 64)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let _ = KeyValueRef::parse(&buf);
        }
    }
}
