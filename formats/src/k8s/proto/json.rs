//! The JSON text the wire walker writes: strings escaped as Go's encoder does, scalars read from
//! the wire, and the zero values Go fills in.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::schema::Scalar;
use super::wire::{Reader, WireError};

/// Writes `b` as a JSON string; invalid UTF-8 becomes U+FFFD, as in Go.
pub(super) fn write_str(out: &mut Vec<u8>, b: &[u8]) {
    // ASCII (nearly every Kubernetes string) is valid UTF-8 without the full check.
    if b.is_ascii() || std::str::from_utf8(b).is_ok() {
        write_escaped(out, b);
    } else {
        write_escaped(out, String::from_utf8_lossy(b).as_bytes());
    }
}

/// Bytes that JSON strings must escape: `"`, `\` and control characters.
const NEEDS_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Writes valid UTF-8 `b` as a JSON string (multi-byte sequences never need escaping).
fn write_escaped(out: &mut Vec<u8>, b: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut plain = 0;
    for (i, &c) in b.iter().enumerate() {
        if !NEEDS_ESCAPE[c as usize] {
            continue;
        }
        out.extend_from_slice(&b[plain..i]);
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(c >> 4) as usize],
                HEX[(c & 15) as usize],
            ]),
        }
        plain = i + 1;
    }
    out.extend_from_slice(&b[plain..]);
    out.push(b'"');
}

/// Reads one scalar of its native wire type and writes its JSON; returns whether it was zero.
pub(super) fn write_scalar(
    out: &mut Vec<u8>,
    s: Scalar,
    r: &mut Reader<'_>,
) -> Result<bool, WireError> {
    fn int(out: &mut Vec<u8>, v: i128) -> bool {
        out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        v == 0
    }
    Ok(match s {
        Scalar::Int64 => int(out, i128::from(r.varint()? as i64)),
        Scalar::Int32 => int(out, i128::from(r.varint()? as i32)),
        Scalar::UInt64 => int(out, i128::from(r.varint()?)),
        Scalar::UInt32 => int(out, i128::from(r.varint()? as u32)),
        Scalar::SInt64 => {
            let v = r.varint()?;
            int(out, i128::from((v >> 1) as i64 ^ -((v & 1) as i64)))
        }
        Scalar::SInt32 => {
            let v = r.varint()? as u32;
            int(out, i128::from((v >> 1) as i32 ^ -((v & 1) as i32)))
        }
        Scalar::Fixed32 => int(out, i128::from(r.fixed32()?)),
        Scalar::SFixed32 => int(out, i128::from(r.fixed32()? as i32)),
        Scalar::Fixed64 => int(out, i128::from(r.fixed64()?)),
        Scalar::SFixed64 => int(out, i128::from(r.fixed64()? as i64)),
        Scalar::Bool => {
            let b = r.varint()? != 0;
            out.extend_from_slice(if b { b"true" } else { b"false" });
            !b
        }
        Scalar::Float => float(out, f64::from(f32::from_bits(r.fixed32()?))),
        Scalar::Double => float(out, f64::from_bits(r.fixed64()?)),
        Scalar::String => {
            let b = r.len_delimited()?;
            write_str(out, b);
            b.is_empty()
        }
        Scalar::Bytes => {
            let b = r.len_delimited()?;
            write_str(out, BASE64.encode(b).as_bytes());
            b.is_empty()
        }
    })
}

fn float(out: &mut Vec<u8>, f: f64) -> bool {
    // Go JSON rejects NaN/Inf; print null rather than fail the whole object.
    match serde_json::Number::from_f64(f) {
        Some(n) => out.extend_from_slice(n.to_string().as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    f == 0.0
}

pub(super) fn zero_scalar(s: Scalar) -> &'static [u8] {
    match s {
        Scalar::String | Scalar::Bytes => b"\"\"",
        Scalar::Bool => b"false",
        Scalar::Double | Scalar::Float => b"0.0",
        _ => b"0",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_like_json_and_invalid_utf8_replaced() {
        for s in ["plain", "a\"b\\c\nd\re\tf\u{1}g", "é ü ✓ 🙂", ""] {
            let mut out = Vec::new();
            write_str(&mut out, s.as_bytes());
            assert_eq!(serde_json::from_slice::<String>(&out).unwrap(), s);
        }
        let mut out = Vec::new();
        write_str(&mut out, b"a\xffb");
        assert_eq!(
            serde_json::from_slice::<String>(&out).unwrap(),
            "a\u{fffd}b"
        );
    }
}
