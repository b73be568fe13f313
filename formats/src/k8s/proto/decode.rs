//! The wire walker: a typed message (bytes) + the compact schema → the Go JSON form.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Number, Value};

use super::schema::{Field, FieldType, Scalar, Schema, Special};
use super::text::{format_duration, format_time};
use super::wire::{FIXED32, FIXED64, LEN, Reader, VARINT, WireError};
use super::{MAGIC, ProtoError};

/// Message nesting bound (the deepest real objects, CRD schemas, stay far below it).
pub(super) const MAX_DEPTH: usize = 100;

pub(super) struct Decoder {
    schema: &'static Schema,
    depth: usize,
    scratch: Vec<Item>,
    /// Fields whose number the schema does not know (data newer than the schema); skipped.
    pub unknown_fields: u32,
}

/// Where a field sits, for error messages: `Pod.spec (2)`.
fn field_label(schema: &Schema, msg: usize, f: &Field) -> String {
    format!(
        "{}.{} ({})",
        schema.messages[msg].short_name(),
        f.json_name,
        f.number
    )
}

fn wire_name(wire_type: u8) -> &'static str {
    match wire_type {
        VARINT => "varint",
        FIXED64 => "64-bit",
        LEN => "length-delimited",
        FIXED32 => "32-bit",
        _ => "invalid",
    }
}

impl Decoder {
    pub fn new() -> Self {
        Decoder {
            schema: Schema::get(),
            depth: 0,
            scratch: Vec::new(),
            unknown_fields: 0,
        }
    }

    /// Decodes `data` (at absolute offset `base` of the stored value) as message `msg`.
    pub fn message(&mut self, msg: usize, data: &[u8], base: usize) -> Result<Value, ProtoError> {
        if self.depth >= MAX_DEPTH {
            return Err(ProtoError::TooDeep { at: base });
        }
        self.depth += 1;
        let out = match self.schema.messages[msg].special {
            Special::None => self.object(msg, data, base).map(Value::Object),
            special => self.special(msg, special, data, base),
        };
        self.depth -= 1;
        out
    }

    fn object(&mut self, msg: usize, data: &[u8], base: usize) -> Result<Map<String, Value>, ProtoError> {
        let mut out = Map::new();
        self.object_into(msg, data, base, &mut out)?;
        Ok(out)
    }

    /// Decodes a plain message's fields into `out`, in declaration order. Fields are first
    /// collected on the shared `scratch` stack (no allocation per message), then sorted by
    /// declaration index.
    pub fn object_into(
        &mut self,
        msg: usize,
        data: &[u8],
        base: usize,
        out: &mut Map<String, Value>,
    ) -> Result<(), ProtoError> {
        let start = self.scratch.len();
        let result = self.collect_fields(msg, data, base);
        if let Err(e) = result {
            self.scratch.truncate(start);
            return Err(e);
        }
        let def = &self.schema.messages[msg];
        self.scratch[start..].sort_by_key(Item::index);
        let mut items = self.scratch.drain(start..).peekable();
        while let Some(first) = items.next() {
            let i = first.index();
            let field = &def.fields[i as usize];
            let value = match first {
                Item::Set(_, mut v) => {
                    // The last occurrence wins.
                    while let Some(Item::Set(_, next)) = items.next_if(|n| n.index() == i) {
                        v = next;
                    }
                    match v {
                        Some(v) => v,
                        None => continue,
                    }
                }
                Item::Add(_, v) => {
                    let mut list = vec![v];
                    while let Some(Item::Add(_, next)) = items.next_if(|n| n.index() == i) {
                        list.push(next);
                    }
                    Value::Array(list)
                }
                Item::Entry(_, k, v) => {
                    let mut entries = vec![(k, v)];
                    while let Some(Item::Entry(_, k, v)) = items.next_if(|n| n.index() == i) {
                        entries.push((k, v));
                    }
                    // Go prints maps sorted by key; the last duplicate wins.
                    entries.reverse();
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                    entries.dedup_by(|a, b| a.0 == b.0);
                    Value::Object(entries.into_iter().collect())
                }
            };
            match value {
                Value::Object(inner) if field.inline => out.extend(inner),
                value => {
                    out.insert(field.json_name.to_string(), value);
                }
            }
        }
        if def.object_meta && out.get("creationTimestamp").is_some_and(Value::is_null) {
            // `omitempty,omitzero` since Kubernetes 1.34.
            out.remove("creationTimestamp");
        }
        Ok(())
    }

    /// Pushes every field occurrence of message `msg` onto `scratch`.
    fn collect_fields(&mut self, msg: usize, data: &[u8], base: usize) -> Result<(), ProtoError> {
        let def = &self.schema.messages[msg];
        let mut r = Reader::new(data);
        while !r.is_empty() {
            let at = base + r.pos();
            let (number, wire_type) = r.key().map_err(|e| malformed(def.short_name(), "key", e, at))?;
            let Some((i, field)) = def.field(number) else {
                self.unknown_fields = self.unknown_fields.saturating_add(1);
                r.skip(wire_type).map_err(|e| {
                    malformed(def.short_name(), &format!("unknown field {number}"), e, at)
                })?;
                continue;
            };
            let i = i as u16;
            match self.field(msg, field, wire_type, &mut r, base)? {
                Got::Value(v) => self.scratch.push(Item::Set(i, Some(v))),
                Got::Omit => self.scratch.push(Item::Set(i, None)),
                Got::Repeated(v) => self.scratch.push(Item::Add(i, v)),
                Got::Packed(vs) => self.scratch.extend(vs.into_iter().map(|v| Item::Add(i, v))),
                Got::Entry(k, v) => self.scratch.push(Item::Entry(i, k, v)),
            }
        }
        Ok(())
    }

    fn field(
        &mut self,
        msg: usize,
        field: &Field,
        wire_type: u8,
        r: &mut Reader<'_>,
        base: usize,
    ) -> Result<Got, ProtoError> {
        let schema = self.schema;
        let at = base + r.pos();
        let wire_err = |expected: &'static str| ProtoError::WireType {
            field: field_label(schema, msg, field),
            got: wire_type,
            expected,
        };
        let read_err = |e: WireError| ProtoError::Malformed {
            field: field_label(schema, msg, field),
            reason: reason(e),
            at,
        };
        match field.ty {
            FieldType::Message(target) => {
                if wire_type != LEN {
                    return Err(wire_err(wire_name(LEN)));
                }
                let data = r.len_delimited().map_err(read_err)?;
                let data_base = base + r.pos() - data.len();
                if field.map {
                    let (k, v) = self.map_entry(target, data, data_base)?;
                    Ok(Got::Entry(k, v))
                } else {
                    let v = self.message(target, data, data_base)?;
                    Ok(if field.repeated { Got::Repeated(v) } else { Got::Value(v) })
                }
            }
            FieldType::Scalar(scalar) => {
                if field.repeated && wire_type == LEN && !matches!(scalar, Scalar::String | Scalar::Bytes) {
                    // Packed encoding.
                    let data = r.len_delimited().map_err(read_err)?;
                    let mut packed = Reader::new(data);
                    let mut out = Vec::new();
                    while !packed.is_empty() {
                        let v = read_scalar(scalar, native_wire(scalar), &mut packed)
                            .map_err(read_err)?
                            .ok_or_else(|| wire_err(wire_name(native_wire(scalar))))?;
                        out.push(v);
                    }
                    return Ok(Got::Packed(out));
                }
                let v = read_scalar(scalar, wire_type, r)
                    .map_err(read_err)?
                    .ok_or_else(|| wire_err(wire_name(native_wire(scalar))))?;
                Ok(if field.repeated {
                    Got::Repeated(v)
                } else if field.keep_zero || !is_zero(&v) {
                    Got::Value(v)
                } else {
                    Got::Omit
                })
            }
        }
    }

    fn map_entry(&mut self, entry: usize, data: &[u8], base: usize) -> Result<(String, Value), ProtoError> {
        let def = &self.schema.messages[entry];
        let mut key = None;
        let mut value = None;
        let mut r = Reader::new(data);
        while !r.is_empty() {
            let at = base + r.pos();
            let (number, wire_type) = r.key().map_err(|e| malformed(def.short_name(), "key", e, at))?;
            let Some((_, field)) = def.field(number) else {
                self.unknown_fields = self.unknown_fields.saturating_add(1);
                r.skip(wire_type).map_err(|e| malformed(def.short_name(), "unknown field", e, at))?;
                continue;
            };
            let v = match self.field(entry, field, wire_type, &mut r, base)? {
                Got::Value(v) | Got::Repeated(v) => v,
                _ => continue,
            };
            if number == 1 { key = Some(v) } else { value = Some(v) }
        }
        let key = match key {
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let value = match value {
            Some(v) => v,
            None => match def.field(2).map(|(_, f)| f.ty) {
                Some(FieldType::Message(m)) => self.message(m, &[], base)?,
                Some(FieldType::Scalar(s)) => zero_scalar(s),
                None => Value::Null,
            },
        };
        Ok((key, value))
    }

    fn special(
        &mut self,
        msg: usize,
        special: Special,
        data: &[u8],
        base: usize,
    ) -> Result<Value, ProtoError> {
        let name = self.schema.messages[msg].short_name();
        // The special types are tiny: read their fields by number.
        let mut ints = [0i64; 3];
        let mut strs: [Option<&[u8]>; 3] = [None; 3];
        let mut schema: Option<&[u8]> = None;
        let mut schema_base = 0;
        let mut items: Vec<Value> = Vec::new();
        let mut r = Reader::new(data);
        while !r.is_empty() {
            let at = base + r.pos();
            let (number, wire_type) = r.key().map_err(|e| malformed(name, "key", e, at))?;
            let bad = |e| malformed(name, &format!("field {number}"), e, at);
            let expect = |want: u8| -> Result<(), ProtoError> {
                if wire_type == want {
                    Ok(())
                } else {
                    Err(ProtoError::WireType {
                        field: format!("{name} ({number})"),
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
                | (Special::SchemaOrBool, 2) => {
                    expect(LEN)?;
                    let d = r.len_delimited().map_err(bad)?;
                    schema_base = base + r.pos() - d.len();
                    schema = Some(d);
                }
                (Special::SchemaOrArray, 2) => {
                    expect(LEN)?;
                    let d = r.len_delimited().map_err(bad)?;
                    let props = self.props_index(msg);
                    items.push(self.message(props, d, base + r.pos() - d.len())?);
                }
                (Special::SchemaOrStringArray, 2) | (Special::ItemList, 1) => {
                    expect(LEN)?;
                    let d = r.len_delimited().map_err(bad)?;
                    items.push(Value::String(String::from_utf8_lossy(d).into_owned()));
                }
                _ => {
                    self.unknown_fields = self.unknown_fields.saturating_add(1);
                    r.skip(wire_type).map_err(bad)?;
                }
            }
        }
        let text = |b: Option<&[u8]>| String::from_utf8_lossy(b.unwrap_or_default()).into_owned();
        Ok(match special {
            Special::Time if data.is_empty() => Value::Null,
            Special::Time => Value::String(format_time(ints[0], None)),
            Special::MicroTime if data.is_empty() => Value::Null,
            Special::MicroTime => {
                let total = i128::from(ints[0]) * 1_000_000_000 + i128::from(ints[1] as i32);
                let secs = total.div_euclid(1_000_000_000);
                let micros = (total.rem_euclid(1_000_000_000) / 1_000) as u32;
                match i64::try_from(secs) {
                    Ok(secs) => Value::String(format_time(secs, Some(micros))),
                    Err(_) => {
                        return Err(ProtoError::Malformed {
                            field: name.into(),
                            reason: "time out of range",
                            at: base,
                        });
                    }
                }
            }
            Special::Duration => Value::String(format_duration(ints[0])),
            Special::Quantity => match strs[0] {
                Some(s) if !s.is_empty() => Value::String(text(Some(s))),
                _ => Value::String("0".into()),
            },
            Special::IntOrString => match ints[0] {
                0 => Value::from(ints[1] as i32),
                1 => Value::String(text(strs[2])),
                _ => {
                    return Err(ProtoError::Malformed {
                        field: name.into(),
                        reason: "IntOrString type is neither 0 nor 1",
                        at: base,
                    });
                }
            },
            Special::RawJson => match strs[0] {
                None => Value::Null,
                Some(raw) => self.raw_json(raw, base)?,
            },
            Special::SchemaOrArray if !items.is_empty() => Value::Array(items),
            Special::SchemaOrStringArray if !items.is_empty() => Value::Array(items),
            Special::SchemaOrArray | Special::SchemaOrBool | Special::SchemaOrStringArray => {
                match schema {
                    Some(d) => {
                        let props = self.props_index(msg);
                        self.message(props, d, schema_base)?
                    }
                    None if special == Special::SchemaOrBool => Value::Bool(ints[0] != 0),
                    None => Value::Null,
                }
            }
            Special::ItemList if items.is_empty() => Value::Null,
            Special::ItemList => Value::Array(items),
            Special::None => unreachable!("special() is only called for special types"),
        })
    }

    /// Inline raw JSON (RawExtension, FieldsV1, apiextensions JSON). A nested `k8s\0` envelope is
    /// decoded; anything that is not JSON (e.g. CBOR) is printed as a base64 string.
    fn raw_json(&mut self, raw: &[u8], base: usize) -> Result<Value, ProtoError> {
        if raw.starts_with(MAGIC) {
            self.depth += 1;
            let v = super::decode_envelope(self, raw, base);
            self.depth -= 1;
            return v;
        }
        if raw.is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_slice(raw).unwrap_or_else(|_| Value::String(BASE64.encode(raw))))
    }

    /// The JSONSchemaProps message of the same package as the `JSONSchemaPropsOr*` `msg`.
    fn props_index(&self, msg: usize) -> usize {
        let name = &self.schema.messages[msg].name;
        let package = name.rsplit_once('.').map_or("", |(p, _)| p);
        self.schema
            .lookup(&format!("{package}.JSONSchemaProps"))
            .expect("apiextensions packages define JSONSchemaProps")
    }

    pub fn depth(&self) -> usize {
        self.depth
    }
}

/// What one field occurrence contributed.
enum Got {
    Value(Value),
    /// A zero that Go `omitempty` drops (still overrides an earlier occurrence).
    Omit,
    Repeated(Value),
    Packed(Vec<Value>),
    Entry(String, Value),
}

/// A field occurrence on the scratch stack, by declaration index.
enum Item {
    Set(u16, Option<Value>),
    Add(u16, Value),
    Entry(u16, String, Value),
}

impl Item {
    fn index(&self) -> u16 {
        match self {
            Item::Set(i, _) | Item::Add(i, _) | Item::Entry(i, _, _) => *i,
        }
    }
}

fn reason(e: WireError) -> &'static str {
    match e {
        WireError::Truncated => "truncated",
        WireError::BadVarint => "bad varint",
        WireError::BadWireType(_) => "unsupported wire type",
    }
}

fn malformed(msg: &str, what: &str, e: WireError, at: usize) -> ProtoError {
    ProtoError::Malformed {
        field: format!("{msg} {what}"),
        reason: reason(e),
        at,
    }
}

pub(super) fn native_wire(s: Scalar) -> u8 {
    match s {
        Scalar::Double | Scalar::Fixed64 | Scalar::SFixed64 => FIXED64,
        Scalar::Float | Scalar::Fixed32 | Scalar::SFixed32 => FIXED32,
        Scalar::String | Scalar::Bytes => LEN,
        _ => VARINT,
    }
}

/// Reads one scalar; `Ok(None)` when `wire_type` does not fit the scalar type.
fn read_scalar(s: Scalar, wire_type: u8, r: &mut Reader<'_>) -> Result<Option<Value>, WireError> {
    if wire_type != native_wire(s) {
        return Ok(None);
    }
    Ok(Some(match s {
        Scalar::Int64 => Value::from(r.varint()? as i64),
        Scalar::Int32 => Value::from(r.varint()? as i32),
        Scalar::UInt64 => Value::from(r.varint()?),
        Scalar::UInt32 => Value::from(r.varint()? as u32),
        Scalar::SInt64 => {
            let v = r.varint()?;
            Value::from((v >> 1) as i64 ^ -((v & 1) as i64))
        }
        Scalar::SInt32 => {
            let v = r.varint()? as u32;
            Value::from((v >> 1) as i32 ^ -((v & 1) as i32))
        }
        Scalar::Bool => Value::Bool(r.varint()? != 0),
        Scalar::Fixed32 => Value::from(r.fixed32()?),
        Scalar::SFixed32 => Value::from(r.fixed32()? as i32),
        Scalar::Float => float(f64::from(f32::from_bits(r.fixed32()?))),
        Scalar::Fixed64 => Value::from(r.fixed64()?),
        Scalar::SFixed64 => Value::from(r.fixed64()? as i64),
        Scalar::Double => float(f64::from_bits(r.fixed64()?)),
        Scalar::String => Value::String(utf8(r.len_delimited()?)),
        Scalar::Bytes => Value::String(BASE64.encode(r.len_delimited()?)),
    }))
}

/// Go prints invalid UTF-8 as U+FFFD; valid text (the norm) is copied without a second pass.
fn utf8(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

fn float(f: f64) -> Value {
    // Go JSON rejects NaN/Inf; print null rather than fail the whole object.
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

fn zero_scalar(s: Scalar) -> Value {
    match s {
        Scalar::String | Scalar::Bytes => Value::String(String::new()),
        Scalar::Bool => Value::Bool(false),
        Scalar::Double | Scalar::Float => float(0.0),
        _ => Value::from(0),
    }
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}
