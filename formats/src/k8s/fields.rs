//! A few fields read straight from a protobuf-stored object, without decoding it to JSON: the
//! inspector's hot path (`stale`, `leases`, the TUI) needs a dozen fields of every object, not
//! the object. Its own small walk over the wire format (`docs/format-k8s.md#protobuf-envelope`,
//! `#wire-conventions`); field numbers are those of the Kubernetes `.proto` files.
//!
//! ```
//! use revkeeper_formats::k8s::fields::StoredObject;
//! # let value = revkeeper_formats::k8s::proto::encode(&serde_json::json!(
//! #     {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "uid": "u1"}})).unwrap();
//! let object = StoredObject::parse(&value).unwrap();
//! assert_eq!((object.api_version, object.kind), ("v1", "Pod"));
//! let meta = object.body.message(1).unwrap().unwrap(); // ObjectMeta
//! assert_eq!(meta.string(5).unwrap(), Some("u1"));       // uid
//! ```
//!
//! Every message handed out has had its framing checked (each field's key, length and wire type
//! readable to its end); an accessor fails with [`Malformed`] on a wire type the field cannot
//! have or text that is not UTF-8. Callers fall back to the full decoder on any failure, so a
//! damaged value is reported the way the decoder reports it.

use super::proto::MAGIC;

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

/// The value cannot be read this way (damaged, or a field of an unexpected wire type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// One field's value as it is on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Wire<'a> {
    /// A string field's value (one occurrence, e.g. from [`Message::fields`]).
    pub fn text(self) -> Result<&'a str, Malformed> {
        utf8(Message::bytes_of(self)?)
    }

    /// A message field's value, its framing checked.
    pub fn message(self) -> Result<Message<'a>, Malformed> {
        Message::new(Message::bytes_of(self)?)
    }
}

/// A stored object: `k8s\0` + runtime.Unknown {typeMeta {apiVersion, kind}, raw}.
#[derive(Debug, Clone, Copy)]
pub struct StoredObject<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    /// The typed message (`raw`).
    pub body: Message<'a>,
}

impl<'a> StoredObject<'a> {
    /// `None` when `value` is not a readable protobuf envelope with apiVersion and kind.
    pub fn parse(value: &'a [u8]) -> Option<StoredObject<'a>> {
        let unknown = Message::new(value.strip_prefix(MAGIC)?).ok()?;
        let type_meta = unknown.message(1).ok()??;
        let api_version = type_meta.string(1).ok()??;
        let kind = type_meta.string(2).ok()??;
        let raw = match unknown.last(2) {
            Some(Wire::Bytes(b)) => b,
            None => b"",
            Some(_) => return None,
        };
        Some(StoredObject {
            api_version,
            kind,
            body: Message::new(raw).ok()?,
        })
    }
}

/// A message whose framing was checked.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    buf: &'a [u8],
}

impl<'a> Message<'a> {
    /// Checks that `buf` is a sequence of readable fields.
    pub fn new(buf: &'a [u8]) -> Result<Message<'a>, Malformed> {
        let mut r = Reader { buf, pos: 0 };
        while !r.done() {
            r.field()?;
        }
        Ok(Message { buf })
    }

    /// Every field in wire order.
    pub fn fields(self) -> impl Iterator<Item = (u32, Wire<'a>)> {
        let mut r = Reader {
            buf: self.buf,
            pos: 0,
        };
        // The framing was checked in `new`: reads cannot fail.
        std::iter::from_fn(move || if r.done() { None } else { r.field().ok() })
    }

    /// The last occurrence of field `number` (protobuf's rule for a field that is not repeated).
    pub fn last(self, number: u32) -> Option<Wire<'a>> {
        self.fields()
            .filter(|(n, _)| *n == number)
            .map(|(_, w)| w)
            .last()
    }

    fn bytes_of(w: Wire<'a>) -> Result<&'a [u8], Malformed> {
        match w {
            Wire::Bytes(b) => Ok(b),
            _ => Err(Malformed),
        }
    }

    /// A string field (the empty string when it is on the wire empty).
    pub fn string(self, number: u32) -> Result<Option<&'a str>, Malformed> {
        self.last(number)
            .map(|w| utf8(Self::bytes_of(w)?))
            .transpose()
    }

    /// Every value of a repeated string field.
    pub fn strings(self, number: u32) -> impl Iterator<Item = Result<&'a str, Malformed>> {
        self.fields()
            .filter(move |(n, _)| *n == number)
            .map(|(_, w)| utf8(Self::bytes_of(w)?))
    }

    /// A message field.
    pub fn message(self, number: u32) -> Result<Option<Message<'a>>, Malformed> {
        self.last(number)
            .map(|w| Message::new(Self::bytes_of(w)?))
            .transpose()
    }

    /// Every value of a repeated message field.
    pub fn messages(self, number: u32) -> impl Iterator<Item = Result<Message<'a>, Malformed>> {
        self.fields()
            .filter(move |(n, _)| *n == number)
            .map(|(_, w)| Message::new(Self::bytes_of(w)?))
    }

    /// An int32/int64 field (proto varints; an int32 is sign-extended on the wire).
    pub fn int(self, number: u32) -> Result<Option<i64>, Malformed> {
        match self.last(number) {
            None => Ok(None),
            Some(Wire::Varint(v)) => Ok(Some(v as i64)),
            Some(_) => Err(Malformed),
        }
    }

    /// The value of `key` in a `map<string, string>` field (entries {1 key, 2 value}).
    pub fn map_value(self, number: u32, key: &str) -> Result<Option<&'a str>, Malformed> {
        let mut found = None;
        for entry in self.messages(number) {
            if let (_, Some(value)) = entry?.map_entry(|k| k == key)? {
                found = Some(value);
            }
        }
        Ok(found)
    }

    /// A meta/v1 `Time` field as unix seconds. `None` when absent or empty (the zero time,
    /// printed `null`) or outside the years RFC 3339 can write (0000–9999).
    pub fn time(self, number: u32) -> Result<Option<i64>, Malformed> {
        Ok(self.time_parts(number)?.map(|(s, _)| s).filter(in_rfc3339))
    }

    /// A meta/v1 `MicroTime` field as unix seconds (the fraction dropped, rounding down), as
    /// [`Message::time`].
    pub fn micro_time(self, number: u32) -> Result<Option<i64>, Malformed> {
        Ok(self.time_parts(number)?.and_then(|(s, nanos)| {
            let total = i128::from(s) * 1_000_000_000 + i128::from(nanos);
            i64::try_from(total.div_euclid(1_000_000_000))
                .ok()
                .filter(in_rfc3339)
        }))
    }

    /// (seconds, nanos) of a Time/MicroTime message; `None` when absent or empty.
    fn time_parts(self, number: u32) -> Result<Option<(i64, i32)>, Malformed> {
        match self.message(number)? {
            Some(t) => t.time_parts_of(),
            None => Ok(None),
        }
    }

    /// This message read as a meta/v1 `Time`, as [`Message::time`] reads a field.
    pub fn as_time(self) -> Result<Option<i64>, Malformed> {
        Ok(self.time_parts_of()?.map(|(s, _)| s).filter(in_rfc3339))
    }

    fn time_parts_of(self) -> Result<Option<(i64, i32)>, Malformed> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let seconds = self.int(1)?.unwrap_or(0);
        let nanos = self.int(2)?.unwrap_or(0) as i32;
        Ok(Some((seconds, nanos)))
    }

    /// This message read as a `map<string, string>` entry: (key 1, value 2), each `""` when
    /// absent. The value is read only when `wanted(key)`.
    pub fn map_entry(
        self,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<(&'a str, Option<&'a str>), Malformed> {
        let key = self.string(1)?.unwrap_or("");
        let value = match wanted(key) {
            true => Some(self.string(2)?.unwrap_or("")),
            false => None,
        };
        Ok((key, value))
    }
}

/// 0000-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z.
fn in_rfc3339(seconds: &i64) -> bool {
    (-62_167_219_200..=253_402_300_799).contains(seconds)
}

fn utf8(b: &[u8]) -> Result<&str, Malformed> {
    std::str::from_utf8(b).map_err(|_| Malformed)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn varint(&mut self) -> Result<u64, Malformed> {
        let mut value = 0u64;
        for i in 0..10 {
            let b = *self.buf.get(self.pos).ok_or(Malformed)?;
            self.pos += 1;
            if i == 9 && b > 1 {
                return Err(Malformed);
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(Malformed)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let end = self.pos.checked_add(n).ok_or(Malformed)?;
        let out = self.buf.get(self.pos..end).ok_or(Malformed)?;
        self.pos = end;
        Ok(out)
    }

    fn field(&mut self) -> Result<(u32, Wire<'a>), Malformed> {
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| Malformed)?;
        if number == 0 || number > u32::MAX >> 3 {
            return Err(Malformed);
        }
        let wire = match (key & 7) as u8 {
            VARINT => Wire::Varint(self.varint()?),
            FIXED64 => {
                let b = self.take(8)?;
                Wire::Fixed64(u64::from_le_bytes(b.try_into().map_err(|_| Malformed)?))
            }
            LEN => {
                let n = usize::try_from(self.varint()?).map_err(|_| Malformed)?;
                Wire::Bytes(self.take(n)?)
            }
            FIXED32 => {
                let b = self.take(4)?;
                Wire::Fixed32(u32::from_le_bytes(b.try_into().map_err(|_| Malformed)?))
            }
            _ => return Err(Malformed),
        };
        Ok((number, wire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn stored(object: Value) -> Vec<u8> {
        super::super::proto::encode(&object).unwrap()
    }

    /// ObjectMeta's fields read here equal the decoder's JSON for every protobuf object of the
    /// shared fixture (re-encoded from its recorded JSON).
    #[test]
    fn metadata_matches_the_decoder_on_the_fixture() {
        let Some(path) = revkeeper_harness::require_fixture("cluster-dev/objects.jsonl") else {
            return;
        };
        let text = std::fs::read_to_string(path).unwrap();
        let mut checked = 0;
        for line in text.lines() {
            let rec: Value = serde_json::from_str(line).unwrap();
            if rec["encoding"] != "protobuf" {
                continue;
            }
            let Ok(value) = super::super::proto::encode(&rec["object"]) else {
                continue;
            };
            let decoded = super::super::proto::decode(&value).unwrap();
            let o = StoredObject::parse(&value).expect("a protobuf envelope");
            assert_eq!(o.api_version, decoded["apiVersion"]);
            assert_eq!(o.kind, decoded["kind"]);
            let meta = o.body.message(1).unwrap().unwrap();
            let m = &decoded["metadata"];
            let text = |n| meta.string(n).unwrap().filter(|s| !s.is_empty());
            assert_eq!(text(1), m["name"].as_str());
            assert_eq!(text(3), m["namespace"].as_str());
            assert_eq!(text(5), m["uid"].as_str());
            // Values are compared in the inspector's test (`src/inspect/facts/proto.rs`).
            assert_eq!(
                meta.time(8).unwrap().is_some(),
                m["creationTimestamp"].is_string(),
                "{}",
                m["name"]
            );
            let finalizers: Vec<&str> = meta.strings(14).map(Result::unwrap).collect();
            let want: Vec<&str> = m["finalizers"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            assert_eq!(finalizers, want);
            let owners: Vec<String> = meta
                .messages(13)
                .map(|o| o.unwrap().string(4).unwrap().unwrap_or("").to_string())
                .collect();
            let want: Vec<String> = m["ownerReferences"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|o| o["uid"].as_str().unwrap().into())
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(owners, want);
            for (k, v) in m["labels"].as_object().into_iter().flatten() {
                assert_eq!(meta.map_value(11, k).unwrap(), v.as_str());
            }
            checked += 1;
        }
        assert!(
            checked > 50,
            "only {checked} protobuf objects in the fixture"
        );
    }

    #[test]
    fn times_round_down_and_zero_is_absent() {
        let v = stored(json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "e"},
            "eventTime": "2026-01-03T00:00:00.999999Z"}));
        let o = StoredObject::parse(&v).unwrap();
        assert_eq!(o.body.micro_time(10).unwrap(), Some(1_767_398_400));
        assert_eq!(o.body.time(7).unwrap(), None);
        // An empty Time message is Go's zero time.
        assert_eq!(Message::new(&[0x3a, 0]).unwrap().time(7).unwrap(), None);
    }

    #[test]
    fn damage_is_malformed_not_guessed() {
        assert!(StoredObject::parse(b"k8s\0\x0a\x05").is_none());
        assert!(StoredObject::parse(b"{\"kind\":\"Pod\"}").is_none());
        assert_eq!(Message::new(&[0x0a, 0x03, b'a']).err(), Some(Malformed));
        // Field 1 as a varint where a string is expected.
        let m = Message::new(&[0x08, 0x01]).unwrap();
        assert_eq!(m.string(1), Err(Malformed));
        assert_eq!(m.int(1), Ok(Some(1)));
        // Not UTF-8.
        let m = Message::new(&[0x0a, 0x01, 0xff]).unwrap();
        assert_eq!(m.string(1), Err(Malformed));
    }
}
