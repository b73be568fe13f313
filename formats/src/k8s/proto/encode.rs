//! JSON → the stored protobuf form, the inverse of `proto::decode`: fields in field-number
//! order, maps sorted by key, as gogo-protobuf writes them.
//!
//! Zero values the decoder dropped (Go `omitempty`) are not written back, so a value re-encoded
//! from its JSON can be shorter than the original but decodes to the same JSON.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

use super::schema::{Field, FieldType, Scalar, Schema, Special};
use super::text::{parse_duration, parse_time};
use super::wire::{FIXED32, FIXED64, VARINT, put_key, put_len_delimited, put_varint};
use super::{MAGIC, ProtoError, message_for};

const MAX_DEPTH: usize = super::decode::MAX_DEPTH;

pub(super) fn encode_object(object: &Value) -> Result<Vec<u8>, ProtoError> {
    let err = |reason: &str| ProtoError::Encode {
        path: "object".into(),
        reason: reason.into(),
    };
    let map = object.as_object().ok_or_else(|| err("not a JSON object"))?;
    let api_version = map
        .get("apiVersion")
        .and_then(Value::as_str)
        .ok_or_else(|| err("no apiVersion"))?;
    let kind = map
        .get("kind")
        .and_then(Value::as_str)
        .ok_or_else(|| err("no kind"))?;
    let msg = message_for(api_version, kind).ok_or_else(|| ProtoError::UnknownKind {
        api_version: api_version.into(),
        kind: kind.into(),
    })?;
    let body = Encoder {
        schema: Schema::get(),
    }
    .message(msg, object, kind, 0)?;
    let mut type_meta = Vec::new();
    put_len_delimited(&mut type_meta, 1, api_version.as_bytes());
    put_len_delimited(&mut type_meta, 2, kind.as_bytes());
    let mut out = MAGIC.to_vec();
    put_len_delimited(&mut out, 1, &type_meta);
    put_len_delimited(&mut out, 2, &body);
    put_len_delimited(&mut out, 3, b"");
    put_len_delimited(&mut out, 4, b"");
    Ok(out)
}

struct Encoder {
    schema: &'static Schema,
}

fn bad(path: &str, reason: &str) -> ProtoError {
    ProtoError::Encode {
        path: path.into(),
        reason: reason.into(),
    }
}

impl Encoder {
    fn message(
        &self,
        msg: usize,
        value: &Value,
        path: &str,
        depth: usize,
    ) -> Result<Vec<u8>, ProtoError> {
        if depth >= MAX_DEPTH {
            return Err(bad(path, "nested too deeply"));
        }
        let def = &self.schema.messages[msg];
        let mut out = Vec::new();
        match def.special {
            Special::None => {
                let empty = Map::new();
                let obj = match value {
                    Value::Object(m) => m,
                    Value::Null => &empty,
                    _ => return Err(bad(path, "expected an object")),
                };
                self.object(msg, obj, path, depth, &mut out)?;
            }
            special => self.special(msg, special, value, path, depth, &mut out)?,
        }
        Ok(out)
    }

    fn object(
        &self,
        msg: usize,
        obj: &Map<String, Value>,
        path: &str,
        depth: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), ProtoError> {
        let def = &self.schema.messages[msg];
        for &i in &def.wire_order {
            let field = &def.fields[i];
            let FieldType::Message(target) = field.ty else {
                if let Some(v) = obj.get(&*field.json_name).filter(|v| !v.is_null()) {
                    let p = format!("{path}.{}", field.json_name);
                    self.scalar_field(field, v, &p, out)?;
                }
                continue;
            };
            if field.inline {
                // The embedded struct's fields sit in this object.
                let mut body = Vec::new();
                self.object(target, obj, path, depth + 1, &mut body)?;
                put_len_delimited(out, field.number, &body);
                continue;
            }
            let p = format!("{path}.{}", field.json_name);
            let special = self.schema.messages[target].special;
            let v = match obj.get(&*field.json_name) {
                Some(v) => v,
                // A zero ObjectMeta.creationTimestamp is omitted from JSON (≥ 1.34) but written.
                None if field.json_name.as_ref() == "creationTimestamp"
                    && def.short_name() == "ObjectMeta" =>
                {
                    put_len_delimited(out, field.number, b"");
                    continue;
                }
                None => continue,
            };
            if v.is_null() && !matches!(special, Special::Time | Special::MicroTime) {
                continue;
            }
            if field.map {
                let entries = v.as_object().ok_or_else(|| bad(&p, "expected an object"))?;
                let mut keys: Vec<&String> = entries.keys().collect();
                keys.sort();
                for k in keys {
                    let entry =
                        self.map_entry(target, k, &entries[k], &format!("{p}[{k}]"), depth)?;
                    put_len_delimited(out, field.number, &entry);
                }
            } else if field.repeated {
                let items = v.as_array().ok_or_else(|| bad(&p, "expected an array"))?;
                for (n, item) in items.iter().enumerate() {
                    let body = self.message(target, item, &format!("{p}[{n}]"), depth + 1)?;
                    put_len_delimited(out, field.number, &body);
                }
            } else {
                let body = self.message(target, v, &p, depth + 1)?;
                put_len_delimited(out, field.number, &body);
            }
        }
        Ok(())
    }

    fn map_entry(
        &self,
        entry: usize,
        key: &str,
        value: &Value,
        path: &str,
        depth: usize,
    ) -> Result<Vec<u8>, ProtoError> {
        let def = &self.schema.messages[entry];
        let mut out = Vec::new();
        if let Some((_, kf)) = def.field(1) {
            self.scalar_field(kf, &Value::String(key.into()), path, &mut out)?;
        }
        if let Some((_, vf)) = def.field(2) {
            match vf.ty {
                FieldType::Message(m) => {
                    let body = self.message(m, value, path, depth + 1)?;
                    put_len_delimited(&mut out, 2, &body);
                }
                FieldType::Scalar(_) => self.scalar_field(vf, value, path, &mut out)?,
            }
        }
        Ok(out)
    }

    fn scalar_field(
        &self,
        field: &Field,
        v: &Value,
        path: &str,
        out: &mut Vec<u8>,
    ) -> Result<(), ProtoError> {
        let FieldType::Scalar(s) = field.ty else {
            return Err(bad(path, "not a scalar field"));
        };
        match (field.repeated, v) {
            (true, Value::Array(items)) => {
                for (n, item) in items.iter().enumerate() {
                    put_scalar(s, field.number, item, &format!("{path}[{n}]"), out)?;
                }
                Ok(())
            }
            (true, _) => Err(bad(path, "expected an array")),
            (false, Value::String(key))
                if field.number == 1 && !matches!(s, Scalar::String | Scalar::Bytes) =>
            {
                // A map key of a numeric type arrives as a JSON object key.
                let n: Value = key
                    .parse::<i64>()
                    .map(Value::from)
                    .map_err(|_| bad(path, "expected a number"))?;
                put_scalar(s, field.number, &n, path, out)
            }
            (false, v) => put_scalar(s, field.number, v, path, out),
        }
    }

    fn special(
        &self,
        msg: usize,
        special: Special,
        v: &Value,
        path: &str,
        depth: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), ProtoError> {
        let props = || {
            let name = &self.schema.messages[msg].name;
            let package = name.rsplit_once('.').map_or("", |(p, _)| p);
            self.schema
                .lookup(&format!("{package}.JSONSchemaProps"))
                .ok_or_else(|| bad(path, "no JSONSchemaProps"))
        };
        match (special, v) {
            (Special::Time | Special::MicroTime, Value::Null) | (Special::RawJson, Value::Null) => {
            }
            (Special::Time | Special::MicroTime, Value::String(s)) => {
                let (secs, nanos) =
                    parse_time(s).ok_or_else(|| bad(path, "not an RFC 3339 time"))?;
                put_key(out, 1, VARINT);
                put_varint(out, secs as u64);
                put_key(out, 2, VARINT);
                let nanos = if special == Special::MicroTime {
                    nanos / 1_000 * 1_000
                } else {
                    0
                };
                put_varint(out, u64::from(nanos));
            }
            (Special::Duration, Value::String(s)) => {
                let n = parse_duration(s).ok_or_else(|| bad(path, "not a Go duration"))?;
                put_key(out, 1, VARINT);
                put_varint(out, n as u64);
            }
            (Special::Quantity, Value::String(s)) => put_len_delimited(out, 1, s.as_bytes()),
            (Special::Quantity, Value::Number(n)) => {
                put_len_delimited(out, 1, n.to_string().as_bytes())
            }
            (Special::IntOrString, Value::Number(n)) => {
                let i = n
                    .as_i64()
                    .and_then(|i| i32::try_from(i).ok())
                    .ok_or_else(|| bad(path, "not an int32"))?;
                put_key(out, 1, VARINT);
                put_varint(out, 0);
                put_key(out, 2, VARINT);
                put_varint(out, i64::from(i) as u64);
                put_len_delimited(out, 3, b"");
            }
            (Special::IntOrString, Value::String(s)) => {
                put_key(out, 1, VARINT);
                put_varint(out, 1);
                put_key(out, 2, VARINT);
                put_varint(out, 0);
                put_len_delimited(out, 3, s.as_bytes());
            }
            (Special::RawJson, v) => {
                let raw = serde_json::to_vec(v).map_err(|_| bad(path, "unprintable JSON"))?;
                put_len_delimited(out, 1, &raw);
            }
            (Special::SchemaOrArray, Value::Array(items)) => {
                let props = props()?;
                for (n, item) in items.iter().enumerate() {
                    let body = self.message(props, item, &format!("{path}[{n}]"), depth + 1)?;
                    put_len_delimited(out, 2, &body);
                }
            }
            (Special::SchemaOrStringArray | Special::ItemList, Value::Array(items)) => {
                let number = if special == Special::ItemList { 1 } else { 2 };
                for (n, item) in items.iter().enumerate() {
                    put_scalar(Scalar::String, number, item, &format!("{path}[{n}]"), out)?;
                }
            }
            (Special::SchemaOrBool, Value::Bool(b)) => {
                put_key(out, 1, VARINT);
                put_varint(out, u64::from(*b));
            }
            (Special::SchemaOrBool, Value::Object(_)) => {
                put_key(out, 1, VARINT);
                put_varint(out, 1);
                let body = self.message(props()?, v, path, depth + 1)?;
                put_len_delimited(out, 2, &body);
            }
            (Special::SchemaOrArray | Special::SchemaOrStringArray, Value::Object(_)) => {
                let body = self.message(props()?, v, path, depth + 1)?;
                put_len_delimited(out, 1, &body);
            }
            (
                Special::SchemaOrArray | Special::SchemaOrStringArray | Special::ItemList,
                Value::Null,
            ) => {}
            _ => return Err(bad(path, "value does not fit the field's type")),
        }
        Ok(())
    }
}

fn put_scalar(
    s: Scalar,
    number: u32,
    v: &Value,
    path: &str,
    out: &mut Vec<u8>,
) -> Result<(), ProtoError> {
    let int = || v.as_i64().ok_or_else(|| bad(path, "expected an integer"));
    let uint = || {
        v.as_u64()
            .ok_or_else(|| bad(path, "expected an unsigned integer"))
    };
    let float = || v.as_f64().ok_or_else(|| bad(path, "expected a number"));
    match s {
        Scalar::Int64 | Scalar::Int32 => {
            let i = int()?;
            put_key(out, number, VARINT);
            put_varint(out, i as u64);
        }
        Scalar::UInt64 | Scalar::UInt32 => {
            let u = uint()?;
            put_key(out, number, VARINT);
            put_varint(out, u);
        }
        Scalar::SInt64 | Scalar::SInt32 => {
            let i = int()?;
            put_key(out, number, VARINT);
            put_varint(out, ((i << 1) ^ (i >> 63)) as u64);
        }
        Scalar::Bool => {
            let b = v.as_bool().ok_or_else(|| bad(path, "expected a bool"))?;
            put_key(out, number, VARINT);
            put_varint(out, u64::from(b));
        }
        Scalar::Fixed32 | Scalar::SFixed32 | Scalar::Float => {
            let bits = match s {
                Scalar::Float => (float()? as f32).to_bits(),
                Scalar::Fixed32 => uint()? as u32,
                _ => int()? as u32,
            };
            put_key(out, number, FIXED32);
            out.extend_from_slice(&bits.to_le_bytes());
        }
        Scalar::Fixed64 | Scalar::SFixed64 | Scalar::Double => {
            let bits = match s {
                Scalar::Double => float()?.to_bits(),
                Scalar::Fixed64 => uint()?,
                _ => int()? as u64,
            };
            put_key(out, number, FIXED64);
            out.extend_from_slice(&bits.to_le_bytes());
        }
        Scalar::String => {
            let t = v.as_str().ok_or_else(|| bad(path, "expected a string"))?;
            put_len_delimited(out, number, t.as_bytes());
        }
        Scalar::Bytes => {
            let t = v
                .as_str()
                .ok_or_else(|| bad(path, "expected a base64 string"))?;
            let b = BASE64.decode(t).map_err(|_| bad(path, "invalid base64"))?;
            put_len_delimited(out, number, &b);
        }
    }
    Ok(())
}
