//! CBOR storage (KEP-4222): tag 55799 around a map whose strings and keys are byte strings.
//!
//! Decoded the way apimachinery's CBOR decoder reads into `map[string]interface{}`: byte and
//! text strings become JSON strings, duplicate map keys are rejected, tags 21/22/23 turn the
//! byte strings they wrap into base64url/base64/base16 text, time tags 0/1 become RFC 3339
//! strings, any other tag is its content; simple values other than false/true/null, NaN and
//! infinities, bignums and integers outside i64 are rejected. Map order is kept (Kubernetes
//! writes keys sorted). Headers come from ciborium's low-level decoder.

use base64::Engine;
use ciborium_ll::{Decoder, Header, simple};
use serde_json::{Map, Number, Value};

/// The head of tag 55799, "self-described CBOR".
pub const SELF_DESCRIBED: &[u8] = &[0xd9, 0xd9, 0xf7];

/// Nesting deeper than this is refused (the Go decoder allows 10000, but we recurse on the
/// stack of whatever thread decodes; real objects nest a few dozen levels).
pub const MAX_DEPTH: usize = 512;
/// apimachinery's limit on map pairs.
const MAX_MAP_PAIRS: usize = 2_097_152;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CborError {
    #[error("malformed CBOR at byte {0}")]
    Syntax(usize),
    #[error("CBOR ends early (truncated value)")]
    Truncated,
    #[error("{0} bytes after the CBOR item")]
    TrailingBytes(usize),
    #[error("duplicate map key {0:?}")]
    DuplicateKey(String),
    #[error("map key at byte {0} is not a string")]
    NonStringKey(usize),
    #[error("simple value {0} is not allowed (only false, true, null)")]
    Simple(u8),
    #[error("NaN or infinite float at byte {0}")]
    NonFinite(usize),
    #[error("bignum (tag {0}) is not allowed")]
    Bignum(u64),
    #[error("integer at byte {0} does not fit in int64")]
    IntegerOverflow(usize),
    #[error("nesting deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("map with more than {MAX_MAP_PAIRS} pairs")]
    TooManyPairs,
    #[error("unexpected break at byte {0}")]
    UnexpectedBreak(usize),
    #[error("invalid UTF-8 in a text string at byte {0}")]
    InvalidUtf8(usize),
    #[error("time tag {0} holds a value that is not a time")]
    BadTime(u64),
}

/// How byte strings print under tags 21/22/23 (RFC 8949 §3.4.5.2); untagged ones hold UTF-8.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BytesAs {
    Text,
    Base64Url,
    Base64,
    Base16,
}

/// Decodes one stored CBOR value (with or without the 55799 head) to JSON.
pub fn decode(value: &[u8]) -> Result<Value, CborError> {
    let mut reader = Reader {
        dec: Decoder::from(value),
        len: value.len(),
    };
    let out = reader.item(0, BytesAs::Text)?;
    let used = reader.dec.offset();
    if used != value.len() {
        return Err(CborError::TrailingBytes(value.len() - used));
    }
    Ok(out)
}

struct Reader<'a> {
    dec: Decoder<&'a [u8]>,
    len: usize,
}

impl Reader<'_> {
    fn left(&mut self) -> usize {
        self.len - self.dec.offset()
    }

    fn header(&mut self) -> Result<(usize, Header), CborError> {
        let at = self.dec.offset();
        match self.dec.pull() {
            Ok(h) => Ok((at, h)),
            Err(ciborium_ll::Error::Io(_)) => Err(CborError::Truncated),
            Err(ciborium_ll::Error::Syntax(n)) => Err(CborError::Syntax(n)),
        }
    }

    fn item(&mut self, depth: usize, bytes_as: BytesAs) -> Result<Value, CborError> {
        let (at, header) = self.header()?;
        self.item_from(at, header, depth, bytes_as)
    }

    fn item_from(
        &mut self,
        at: usize,
        header: Header,
        depth: usize,
        bytes_as: BytesAs,
    ) -> Result<Value, CborError> {
        if depth > MAX_DEPTH {
            return Err(CborError::TooDeep);
        }
        Ok(match header {
            Header::Positive(n) => {
                Value::from(i64::try_from(n).map_err(|_| CborError::IntegerOverflow(at))?)
            }
            Header::Negative(n) => {
                let n = i64::try_from(n).map_err(|_| CborError::IntegerOverflow(at))?;
                Value::from(-1 - n)
            }
            Header::Float(f) => Value::Number(Number::from_f64(f).ok_or(CborError::NonFinite(at))?),
            Header::Simple(simple::FALSE) => Value::Bool(false),
            Header::Simple(simple::TRUE) => Value::Bool(true),
            Header::Simple(simple::NULL) => Value::Null,
            Header::Simple(s) => return Err(CborError::Simple(s)),
            Header::Break => return Err(CborError::UnexpectedBreak(at)),
            Header::Bytes(len) => {
                let bytes = self.byte_string(len)?;
                Value::String(render_bytes(&bytes, bytes_as))
            }
            Header::Text(len) => Value::String(self.text_string(at, len)?),
            Header::Array(len) => {
                let mut items = Vec::with_capacity(len.unwrap_or(0).min(self.left()));
                for _ in 0..len.unwrap_or(usize::MAX) {
                    let (at, h) = self.header()?;
                    if len.is_none() && h == Header::Break {
                        break;
                    }
                    items.push(self.item_from(at, h, depth + 1, bytes_as)?);
                }
                Value::Array(items)
            }
            Header::Map(len) => {
                if len.is_some_and(|n| n > MAX_MAP_PAIRS) {
                    return Err(CborError::TooManyPairs);
                }
                let mut map = Map::new();
                for i in 0..len.unwrap_or(usize::MAX) {
                    let (at, h) = self.header()?;
                    if len.is_none() && h == Header::Break {
                        break;
                    }
                    if i >= MAX_MAP_PAIRS {
                        return Err(CborError::TooManyPairs);
                    }
                    let key = self.key(at, h)?;
                    let value = self.item(depth + 1, bytes_as)?;
                    if map.contains_key(&key) {
                        return Err(CborError::DuplicateKey(key));
                    }
                    map.insert(key, value);
                }
                Value::Object(map)
            }
            Header::Tag(tag) => self.tagged(tag, depth, bytes_as)?,
        })
    }

    fn tagged(&mut self, tag: u64, depth: usize, bytes_as: BytesAs) -> Result<Value, CborError> {
        match tag {
            2 | 3 => Err(CborError::Bignum(tag)),
            21 => self.item(depth + 1, BytesAs::Base64Url),
            22 => self.item(depth + 1, BytesAs::Base64),
            23 => self.item(depth + 1, BytesAs::Base16),
            0 => match self.item(depth + 1, bytes_as)? {
                Value::String(s) => Ok(Value::String(s)),
                _ => Err(CborError::BadTime(0)),
            },
            1 => {
                let (at, h) = self.header()?;
                let (secs, nanos) = match h {
                    Header::Positive(_) | Header::Negative(_) => {
                        match self.item_from(at, h, depth + 1, bytes_as)? {
                            Value::Number(n) => (n.as_i64().ok_or(CborError::BadTime(1))?, 0),
                            _ => return Err(CborError::BadTime(1)),
                        }
                    }
                    Header::Float(f) if f.is_finite() && f.abs() < 1e15 => {
                        let secs = f.floor();
                        (
                            secs as i64,
                            ((f - secs) * 1e9).round().min(999_999_999.0) as u32,
                        )
                    }
                    Header::Float(_) => return Err(CborError::NonFinite(at)),
                    _ => return Err(CborError::BadTime(1)),
                };
                Ok(Value::String(rfc3339_nano(secs, nanos)))
            }
            _ => self.item(depth + 1, bytes_as),
        }
    }

    /// A map key: a byte or text string (Kubernetes writes byte strings).
    fn key(&mut self, at: usize, header: Header) -> Result<String, CborError> {
        match header {
            Header::Bytes(len) => Ok(lossy(self.byte_string(len)?)),
            Header::Text(len) => self.text_string(at, len),
            _ => Err(CborError::NonStringKey(at)),
        }
    }

    /// The bytes of a byte string whose head was just read (definite or in chunks).
    fn byte_string(&mut self, len: Option<usize>) -> Result<Vec<u8>, CborError> {
        match len {
            Some(n) => self.take(n),
            None => {
                let mut out = Vec::new();
                loop {
                    match self.header()? {
                        (_, Header::Break) => return Ok(out),
                        (_, Header::Bytes(Some(n))) => out.extend(self.take(n)?),
                        (at, _) => return Err(CborError::Syntax(at)),
                    }
                }
            }
        }
    }

    fn text_string(&mut self, at: usize, len: Option<usize>) -> Result<String, CborError> {
        let utf8 = |b: Vec<u8>, at| String::from_utf8(b).map_err(|_| CborError::InvalidUtf8(at));
        match len {
            Some(n) => utf8(self.take(n)?, at),
            None => {
                let mut out = String::new();
                loop {
                    match self.header()? {
                        (_, Header::Break) => return Ok(out),
                        (at, Header::Text(Some(n))) => out.push_str(&utf8(self.take(n)?, at)?),
                        (at, _) => return Err(CborError::Syntax(at)),
                    }
                }
            }
        }
    }

    fn take(&mut self, n: usize) -> Result<Vec<u8>, CborError> {
        if n > self.left() {
            return Err(CborError::Truncated);
        }
        let mut buf = vec![0; n];
        ciborium_io::Read::read_exact(&mut self.dec, &mut buf).map_err(|_| CborError::Truncated)?;
        Ok(buf)
    }
}

/// Go keeps invalid UTF-8 in strings and its JSON encoder replaces it with U+FFFD.
fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn render_bytes(bytes: &[u8], how: BytesAs) -> String {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    match how {
        BytesAs::Text => lossy(bytes.to_vec()),
        BytesAs::Base64Url => URL_SAFE_NO_PAD.encode(bytes),
        BytesAs::Base64 => STANDARD.encode(bytes),
        BytesAs::Base16 => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// Go's `time.RFC3339Nano` in UTC: trailing zeros of the fraction dropped.
pub fn rfc3339_nano(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = super::proto::text::civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use ciborium::Value as C;
    use serde_json::json;

    fn enc(v: &C) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(v, &mut out).unwrap();
        out
    }

    fn bs(s: &str) -> C {
        C::Bytes(s.as_bytes().to_vec())
    }

    /// A custom resource as Kubernetes writes it: tag 55799, byte-string keys and strings.
    fn widget() -> C {
        C::Tag(
            55799,
            Box::new(C::Map(vec![
                (bs("apiVersion"), bs("example.com/v1")),
                (bs("kind"), bs("Widget")),
                (
                    bs("metadata"),
                    C::Map(vec![
                        (bs("name"), bs("w1")),
                        (bs("namespace"), bs("ns1")),
                        (bs("creationTimestamp"), bs("2026-01-02T03:04:05Z")),
                    ]),
                ),
                (
                    bs("spec"),
                    C::Map(vec![
                        (bs("replicas"), C::Integer(3.into())),
                        (bs("ratio"), C::Float(0.5)),
                        (bs("enabled"), C::Bool(true)),
                        (bs("nothing"), C::Null),
                        (bs("neg"), C::Integer((-7).into())),
                        (
                            bs("blob"),
                            C::Tag(22, Box::new(C::Bytes(vec![0, 1, 2, 255]))),
                        ),
                        (bs("url"), C::Tag(21, Box::new(C::Bytes(vec![0xfb, 0xff])))),
                        (bs("hex"), C::Tag(23, Box::new(C::Bytes(vec![0xab, 0x01])))),
                        (
                            bs("when"),
                            C::Tag(1, Box::new(C::Integer(1_767_323_045.into()))),
                        ),
                        (bs("other"), C::Tag(999, Box::new(C::Text("t".into())))),
                        (bs("list"), C::Array(vec![bs("a"), C::Text("b".into())])),
                    ]),
                ),
            ])),
        )
    }

    #[test]
    fn decodes_a_kubernetes_custom_resource() {
        let bytes = enc(&widget());
        assert!(bytes.starts_with(SELF_DESCRIBED));
        let v = decode(&bytes).unwrap();
        assert_eq!(
            v,
            json!({
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "w1", "namespace": "ns1",
                             "creationTimestamp": "2026-01-02T03:04:05Z"},
                "spec": {"replicas": 3, "ratio": 0.5, "enabled": true, "nothing": null,
                         "neg": -7, "blob": "AAEC/w==", "url": "-_8", "hex": "ab01",
                         "when": "2026-01-02T03:04:05Z", "other": "t", "list": ["a", "b"]}
            })
        );
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["apiVersion", "kind", "metadata", "spec"]);
    }

    #[test]
    fn indefinite_lengths_are_accepted() {
        // {_ h'61': [_ 1, 2], h'62': (_ h'6869', h'21') }
        let bytes =
            hex::decode("d9d9f7bf4161 9f0102ff 4162 5f4268694121ff ff".replace(' ', "")).unwrap();
        assert_eq!(decode(&bytes).unwrap(), json!({"a": [1, 2], "b": "hi!"}));
    }

    #[test]
    fn rejects_what_kubernetes_rejects() {
        let dup = C::Map(vec![
            (bs("a"), C::Integer(1.into())),
            (bs("a"), C::Integer(2.into())),
        ]);
        assert_eq!(decode(&enc(&dup)), Err(CborError::DuplicateKey("a".into())));
        // Text and byte-string keys with the same content collide too.
        let dup = C::Map(vec![(bs("a"), C::Null), (C::Text("a".into()), C::Null)]);
        assert!(matches!(
            decode(&enc(&dup)),
            Err(CborError::DuplicateKey(_))
        ));
        assert_eq!(decode(&[0xf7]), Err(CborError::Simple(23))); // undefined
        assert_eq!(decode(&[0xf0]), Err(CborError::Simple(16)));
        assert!(matches!(
            decode(&enc(&C::Float(f64::NAN))),
            Err(CborError::NonFinite(_))
        ));
        assert!(matches!(
            decode(&enc(&C::Float(f64::INFINITY))),
            Err(CborError::NonFinite(_))
        ));
        assert_eq!(decode(&[0xc2, 0x41, 0x01]), Err(CborError::Bignum(2)));
        // 2^64-1 and -2^64.
        assert!(matches!(
            decode(&hex::decode("1bffffffffffffffff").unwrap()),
            Err(CborError::IntegerOverflow(_))
        ));
        assert!(matches!(
            decode(&hex::decode("3bffffffffffffffff").unwrap()),
            Err(CborError::IntegerOverflow(_))
        ));
        assert_eq!(
            decode(&hex::decode("1b7fffffffffffffff").unwrap()),
            Ok(json!(i64::MAX))
        );
        assert_eq!(
            decode(&hex::decode("3b7fffffffffffffff").unwrap()),
            Ok(json!(i64::MIN))
        );
        assert!(matches!(
            decode(&enc(&C::Map(vec![(C::Integer(1.into()), C::Null)]))),
            Err(CborError::NonStringKey(_))
        ));
        assert_eq!(decode(&[0x62, 0xff, 0xfe]), Err(CborError::InvalidUtf8(0)));
        assert_eq!(decode(&[0xa1, 0x41]), Err(CborError::Truncated));
        assert_eq!(
            decode(&[0x5a, 0xff, 0xff, 0xff, 0xff]),
            Err(CborError::Truncated)
        );
        assert_eq!(decode(&[0x01, 0x02]), Err(CborError::TrailingBytes(1)));
        assert_eq!(decode(&[0xff]), Err(CborError::UnexpectedBreak(0)));
        assert_eq!(decode(&[]), Err(CborError::Truncated));
    }

    #[test]
    fn nesting_is_bounded() {
        let mut deep = vec![0x81u8; 100_000];
        deep.push(0x01);
        assert_eq!(decode(&deep), Err(CborError::TooDeep));
        let mut ok = vec![0x81u8; 100];
        ok.push(0x01);
        assert!(decode(&ok).is_ok());
        // A huge declared array length must not allocate before the items are there.
        assert_eq!(
            decode(&hex::decode("9bffffffffffffff00").unwrap()),
            Err(CborError::Truncated)
        );
    }

    #[test]
    fn times_print_like_go() {
        assert_eq!(rfc3339_nano(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_nano(951_782_400, 500_000_000),
            "2000-02-29T00:00:00.5Z"
        );
        assert_eq!(rfc3339_nano(-1, 0), "1969-12-31T23:59:59Z");
        let float_time = enc(&C::Tag(1, Box::new(C::Float(1.25))));
        assert_eq!(decode(&float_time), Ok(json!("1970-01-01T00:00:01.25Z")));
        let text_time = enc(&C::Tag(0, Box::new(C::Text("2026-01-01T00:00:00Z".into()))));
        assert_eq!(decode(&text_time), Ok(json!("2026-01-01T00:00:00Z")));
        assert_eq!(
            decode(&enc(&C::Tag(0, Box::new(C::Integer(1.into()))))),
            Err(CborError::BadTime(0))
        );
    }
}
