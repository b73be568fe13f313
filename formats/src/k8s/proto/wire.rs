//! Protobuf wire primitives: a bounds-checked reader that never panics, and a writer.

pub(super) const VARINT: u8 = 0;
pub(super) const FIXED64: u8 = 1;
pub(super) const LEN: u8 = 2;
pub(super) const FIXED32: u8 = 5;

/// Why a read failed; the caller adds the field and offset context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WireError {
    Truncated,
    BadVarint,
    BadWireType(u8),
}

pub(super) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn varint(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(WireError::Truncated);
            };
            self.pos += 1;
            if i == 9 && b > 1 {
                return Err(WireError::BadVarint);
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(WireError::BadVarint)
    }

    /// A field key: (field number, wire type).
    pub fn key(&mut self) -> Result<(u32, u8), WireError> {
        let k = self.varint()?;
        let number = k >> 3;
        if number == 0 || number > u64::from(u32::MAX >> 3) {
            return Err(WireError::BadVarint);
        }
        Ok((number as u32, (k & 7) as u8))
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.pos.checked_add(n).ok_or(WireError::Truncated)?;
        let out = self.buf.get(self.pos..end).ok_or(WireError::Truncated)?;
        self.pos = end;
        Ok(out)
    }

    pub fn len_delimited(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| WireError::Truncated)?;
        self.bytes(n)
    }

    pub fn fixed32(&mut self) -> Result<u32, WireError> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn fixed64(&mut self) -> Result<u64, WireError> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// Skips one value of `wire_type` (groups are not used by Kubernetes and are rejected).
    pub fn skip(&mut self, wire_type: u8) -> Result<(), WireError> {
        match wire_type {
            VARINT => self.varint().map(drop),
            FIXED64 => self.bytes(8).map(drop),
            LEN => self.len_delimited().map(drop),
            FIXED32 => self.bytes(4).map(drop),
            other => Err(WireError::BadWireType(other)),
        }
    }
}

pub(super) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(super) fn put_key(out: &mut Vec<u8>, number: u32, wire_type: u8) {
    put_varint(out, (u64::from(number) << 3) | u64::from(wire_type));
}

pub(super) fn put_len_delimited(out: &mut Vec<u8>, number: u32, data: &[u8]) {
    put_key(out, number, LEN);
    put_varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trip_and_limits() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(Reader::new(&out).varint(), Ok(v));
        }
        assert_eq!(
            Reader::new(&[0x80, 0x80]).varint(),
            Err(WireError::Truncated)
        );
        assert_eq!(Reader::new(&[0xff; 11]).varint(), Err(WireError::BadVarint));
        assert_eq!(
            Reader::new(&[0x05, 1, 2]).len_delimited(),
            Err(WireError::Truncated)
        );
        let huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(
            Reader::new(&huge).len_delimited(),
            Err(WireError::Truncated)
        );
    }
}
