//! The well-known Kubernetes types whose Go JSON form is not their fields (`Time`, `MicroTime`,
//! `Duration`, `Quantity`, `IntOrString`, raw JSON, the `JSONSchemaPropsOr*` unions): read by
//! field number and written in their own text form.

use std::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::super::json::write_str;
use super::super::schema::Special;
use super::super::text::{format_duration, write_time};
use super::super::wire::{LEN, Reader, VARINT};
use super::super::{MAGIC, ProtoError};
use super::plain_json::is_plain_json;
use super::{Decoder, Output, malformed, next_key, wire_name};

impl<'a, O: Output> Decoder<'a, O> {
    pub(super) fn special(
        &mut self,
        msg: usize,
        special: Special,
        data: &'a [u8],
        base: usize,
        begin: usize,
    ) -> Result<Range<usize>, ProtoError> {
        let schema = self.schema;
        let def = &schema.messages[msg];
        // The special types are tiny: read their fields by number.
        let mut ints = [0i64; 3];
        let mut strs: [Option<&'a [u8]>; 3] = [None; 3];
        let mut schema: Option<Range<usize>> = None;
        let mut items: Vec<Range<usize>> = Vec::new();
        let mut r = Reader::new(data);
        while !r.is_empty() {
            let (number, wire_type, at) = next_key(&mut r, def, base)?;
            let bad = |e| malformed(def.short_name(), &format!("field {number}"), e, at);
            let expect = |want: u8| -> Result<(), ProtoError> {
                if wire_type == want {
                    Ok(())
                } else {
                    Err(ProtoError::WireType {
                        field: format!("{} ({number})", def.short_name()),
                        got: wire_type,
                        expected: wire_name(want),
                    })
                }
            };
            let slot = number as usize - 1;
            match (special, number) {
                (
                    Special::Time | Special::MicroTime | Special::Duration | Special::IntOrString,
                    1 | 2,
                )
                | (Special::SchemaOrBool, 1) => {
                    expect(VARINT)?;
                    ints[slot] = r.varint().map_err(bad)? as i64;
                }
                (Special::Quantity | Special::RawJson, 1) | (Special::IntOrString, 3) => {
                    expect(LEN)?;
                    strs[slot] = Some(r.len_delimited().map_err(bad)?);
                }
                (Special::SchemaOrArray | Special::SchemaOrStringArray, 1)
                | (Special::SchemaOrBool, 2)
                | (Special::SchemaOrArray, 2) => {
                    expect(LEN)?;
                    let d = r.len_delimited().map_err(bad)?;
                    let props = self.props_index(msg);
                    let span = self.message(props, d, base + r.pos() - d.len())?;
                    if number == 2 && special == Special::SchemaOrArray {
                        items.push(span);
                    } else {
                        schema = Some(span);
                    }
                }
                (Special::SchemaOrStringArray, 2) | (Special::ItemList, 1) => {
                    expect(LEN)?;
                    let d = r.len_delimited().map_err(bad)?;
                    if !O::TEXT {
                        continue;
                    }
                    let b = self.out.len();
                    write_str(&mut self.out, d);
                    items.push(b..self.out.len());
                }
                _ => {
                    self.unknown_fields = self.unknown_fields.saturating_add(1);
                    r.skip(wire_type).map_err(bad)?;
                }
            }
        }
        let from = self.out.len();
        if let (Special::RawJson, Some(raw)) = (special, strs[0]) {
            if raw.starts_with(MAGIC) {
                // A nested envelope (RawExtension holding a stored object).
                self.depth += 1;
                let result = super::super::write_envelope(self, raw, base);
                self.depth -= 1;
                result?;
                return Ok(self.settle(begin, from));
            }
        }
        if !O::TEXT {
            return self
                .check_special(msg, special, ints, base)
                .map(|()| begin..begin);
        }
        let out = &mut self.out;
        match special {
            Special::Time | Special::MicroTime if data.is_empty() => out.extend_from_slice(b"null"),
            Special::Time => {
                out.push(b'"');
                write_time(out, ints[0], None);
                out.push(b'"');
            }
            Special::MicroTime => {
                let (secs, micros) =
                    micro_time(ints).ok_or_else(|| out_of_range(def.short_name(), base))?;
                out.push(b'"');
                write_time(out, secs, Some(micros));
                out.push(b'"');
            }
            Special::Duration => write_str(out, format_duration(ints[0]).as_bytes()),
            Special::Quantity => match strs[0] {
                Some(s) if !s.is_empty() => write_str(out, s),
                _ => out.extend_from_slice(b"\"0\""),
            },
            Special::IntOrString => match ints[0] {
                0 => out.extend_from_slice(itoa::Buffer::new().format(ints[1] as i32).as_bytes()),
                1 => write_str(out, strs[2].unwrap_or_default()),
                _ => return Err(not_int_or_string(def.short_name(), base)),
            },
            Special::RawJson => match strs[0] {
                None => out.extend_from_slice(b"null"),
                Some(raw) => write_raw_json(out, raw),
            },
            Special::SchemaOrArray | Special::SchemaOrStringArray | Special::ItemList
                if !items.is_empty() =>
            {
                out.push(b'[');
                for (n, span) in items.into_iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    out.extend_from_within(span);
                }
                out.push(b']');
            }
            Special::SchemaOrArray | Special::SchemaOrBool | Special::SchemaOrStringArray
                if schema.is_some() =>
            {
                out.extend_from_within(schema.unwrap_or_default());
            }
            Special::SchemaOrBool => {
                out.extend_from_slice(if ints[0] != 0 { b"true" } else { b"false" })
            }
            Special::SchemaOrArray | Special::SchemaOrStringArray | Special::ItemList => {
                out.extend_from_slice(b"null")
            }
            Special::None => unreachable!("special() is only called for special types"),
        }
        Ok(self.settle(begin, from))
    }

    /// The refusals of the special types' text forms (none writes text), for [`super::Check`].
    fn check_special(
        &self,
        msg: usize,
        special: Special,
        ints: [i64; 3],
        base: usize,
    ) -> Result<(), ProtoError> {
        let name = self.schema.messages[msg].short_name();
        match special {
            Special::MicroTime if micro_time(ints).is_none() => Err(out_of_range(name, base)),
            Special::IntOrString if !matches!(ints[0], 0 | 1) => Err(not_int_or_string(name, base)),
            _ => Ok(()),
        }
    }

    /// The JSONSchemaProps message of the same package as the `JSONSchemaPropsOr*` `msg`.
    fn props_index(&self, msg: usize) -> usize {
        let name = &self.schema.messages[msg].name;
        let package = name.rsplit_once('.').map_or("", |(p, _)| p);
        self.schema
            .lookup(&format!("{package}.JSONSchemaProps"))
            .expect("apiextensions packages define JSONSchemaProps")
    }
}

/// MicroTime's {seconds, nanos} as (seconds, microseconds); `None` out of range.
fn micro_time(ints: [i64; 3]) -> Option<(i64, u32)> {
    let total = i128::from(ints[0]) * 1_000_000_000 + i128::from(ints[1] as i32);
    let secs = i64::try_from(total.div_euclid(1_000_000_000)).ok()?;
    Some((secs, (total.rem_euclid(1_000_000_000) / 1_000) as u32))
}

fn out_of_range(name: &str, at: usize) -> ProtoError {
    ProtoError::Malformed {
        field: name.into(),
        reason: "time out of range",
        at,
    }
}

fn not_int_or_string(name: &str, at: usize) -> ProtoError {
    ProtoError::Malformed {
        field: name.into(),
        reason: "IntOrString type is neither 0 nor 1",
        at,
    }
}

/// Inline raw JSON (RawExtension, FieldsV1, apiextensions JSON), compact as Go prints it.
/// Anything that is not JSON (e.g. CBOR) is printed as a base64 string.
fn write_raw_json(out: &mut Vec<u8>, raw: &[u8]) {
    if raw.is_empty() {
        out.extend_from_slice(b"null");
        return;
    }
    let plain = is_plain_json(raw);
    if !plain && serde_json::from_slice::<serde::de::IgnoredAny>(raw).is_err() {
        write_str(out, BASE64.encode(raw).as_bytes());
        return;
    }
    if !plain
        && raw
            .iter()
            .any(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
    {
        // Whitespace (maybe only inside strings): re-print compactly.
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(raw) {
            if serde_json::to_writer(&mut *out, &v).is_ok() {
                return;
            }
        }
    }
    out.extend_from_slice(raw);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_json_is_inlined_compactly_or_base64() {
        for (raw, want) in [
            (&b"{\"f:a\":{}}"[..], "{\"f:a\":{}}"),
            (b"{ \"a\" : [1, 2] }", "{\"a\":[1,2]}"),
            (b"", "null"),
            (b"\xd9\xd9\xf7\x01", "\"2dn3AQ==\""),
        ] {
            let mut out = Vec::new();
            write_raw_json(&mut out, raw);
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }
}
