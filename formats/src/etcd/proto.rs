//! Just enough protobuf wire format to write etcd's gogo proto2 messages byte for byte (every
//! field emitted explicitly, in the caller's order) and to read them back without panicking.

use super::error::SchemaError;

const WIRE_VARINT: u8 = 0;
const WIRE_FIXED64: u8 = 1;
const WIRE_BYTES: u8 = 2;
const WIRE_FIXED32: u8 = 5;

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_tag(out: &mut Vec<u8>, field: u32, wire: u8) {
    put_varint(out, (u64::from(field) << 3) | u64::from(wire));
}

/// A varint field, written even when zero (gogo non-nullable proto2 scalars).
pub(crate) fn put_varint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    put_tag(out, field, WIRE_VARINT);
    put_varint(out, v);
}

/// A length-delimited field (bytes, string or embedded message).
pub(crate) fn put_bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_tag(out, field, WIRE_BYTES);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// One field's value as read from the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldValue<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    /// A fixed32/fixed64 value; etcd's messages have none, so it is only skipped.
    Fixed,
}

/// Reads the fields of one message in wire order. Unknown fields are returned too, so a
/// caller can skip them as protobuf says.
pub(crate) struct FieldReader<'a> {
    what: &'static str,
    rest: &'a [u8],
}

impl<'a> FieldReader<'a> {
    pub(crate) fn new(what: &'static str, bytes: &'a [u8]) -> FieldReader<'a> {
        FieldReader { what, rest: bytes }
    }

    /// The next `(field number, value)`, or `None` at the end of the message.
    pub(crate) fn next_field(&mut self) -> Result<Option<(u32, FieldValue<'a>)>, SchemaError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let tag = self.varint()?;
        let field = u32::try_from(tag >> 3)
            .ok()
            .filter(|f| *f != 0)
            .ok_or_else(|| self.error(format!("invalid field number in tag {tag}")))?;
        let value = match (tag & 7) as u8 {
            WIRE_VARINT => FieldValue::Varint(self.varint()?),
            WIRE_BYTES => {
                let len = self.varint()?;
                FieldValue::Bytes(self.take(len)?)
            }
            WIRE_FIXED64 => {
                self.take(8)?;
                FieldValue::Fixed
            }
            WIRE_FIXED32 => {
                self.take(4)?;
                FieldValue::Fixed
            }
            wire => return Err(self.error(format!("unsupported wire type {wire}"))),
        };
        Ok(Some((field, value)))
    }

    pub(crate) fn error(&self, reason: impl Into<String>) -> SchemaError {
        SchemaError::Protobuf {
            what: self.what,
            reason: reason.into(),
        }
    }

    /// The value of a varint field, or an error when the field has another wire type.
    pub(crate) fn expect_varint(
        &self,
        field: u32,
        value: FieldValue<'a>,
    ) -> Result<u64, SchemaError> {
        match value {
            FieldValue::Varint(v) => Ok(v),
            _ => Err(self.error(format!("field {field} is not a varint"))),
        }
    }

    /// The value of a length-delimited field, or an error for another wire type.
    pub(crate) fn expect_bytes(
        &self,
        field: u32,
        value: FieldValue<'a>,
    ) -> Result<&'a [u8], SchemaError> {
        match value {
            FieldValue::Bytes(b) => Ok(b),
            _ => Err(self.error(format!("field {field} is not length-delimited"))),
        }
    }

    /// The next element of a packed repeated varint field, or `None` at its end.
    pub(crate) fn packed_varint(&mut self) -> Result<Option<u64>, SchemaError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        self.varint().map(Some)
    }

    fn varint(&mut self) -> Result<u64, SchemaError> {
        let mut v: u64 = 0;
        for (i, &b) in self.rest.iter().enumerate().take(10) {
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                if i == 9 && b > 1 {
                    return Err(self.error("varint overflows 64 bits"));
                }
                self.rest = &self.rest[i + 1..];
                return Ok(v);
            }
        }
        Err(self.error("truncated or overlong varint"))
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8], SchemaError> {
        let len = usize::try_from(len)
            .ok()
            .filter(|l| *l <= self.rest.len())
            .ok_or_else(|| self.error(format!("field length {len} exceeds the message")))?;
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        Ok(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for v in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_varint_field(&mut out, 3, v);
            let mut r = FieldReader::new("test", &out);
            assert_eq!(r.next_field().unwrap(), Some((3, FieldValue::Varint(v))));
            assert_eq!(r.next_field().unwrap(), None);
        }
    }

    #[test]
    fn known_encodings() {
        let mut out = Vec::new();
        put_varint_field(&mut out, 1, 0);
        put_bytes_field(&mut out, 4, b"ab");
        assert_eq!(out, [0x08, 0x00, 0x22, 0x02, b'a', b'b']);
    }

    #[test]
    fn malformed_input_is_an_error() {
        for bad in [
            &[0x08][..],
            &[0x08, 0x80],
            &[0x22, 0x05, 1],
            &[0x0b],
            &[0x00, 0x00],
            &[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
            ],
            &[0x09, 1, 2],
        ] {
            let mut r = FieldReader::new("test", bad);
            assert!(r.next_field().is_err(), "{bad:02x?}");
        }
    }
}
