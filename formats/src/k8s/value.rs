//! The detection pipeline: one stored value in, the object (as kubectl would print it) out.

use serde_json::Value;

use super::encryption::Keyring;

/// How a value was stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// `k8s\0` + runtime.Unknown.
    Protobuf,
    /// `d9 d9 f7`: self-described CBOR (custom resources with CBORServingAndStorage).
    Cbor,
    Json,
    /// `k8s:enc:<provider>:v1:<key_name>:`; `inner` is the encoding of the plaintext.
    Encrypted {
        provider: String,
        key_name: String,
        inner: Box<Encoding>,
    },
    /// Not an object: printable text (e.g. `compact_rev_key`'s decimal revision).
    Text,
    /// Not an object and not printable.
    Binary,
}

impl Encoding {
    /// A short label for tables and `analyze`: `protobuf`, `cbor`, `json`,
    /// `encrypted:aesgcm:key1+protobuf`, `text`, `binary`.
    pub fn label(&self) -> String {
        match self {
            Encoding::Protobuf => "protobuf".into(),
            Encoding::Cbor => "cbor".into(),
            Encoding::Json => "json".into(),
            Encoding::Encrypted {
                provider,
                key_name,
                inner,
            } => format!("encrypted:{provider}:{key_name}+{}", inner.label()),
            Encoding::Text => "text".into(),
            Encoding::Binary => "binary".into(),
        }
    }
}

/// A decoded value.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    pub encoding: Encoding,
    /// The object with `apiVersion` and `kind` first, fields in the Go serializer's order;
    /// `None` for text and binary values.
    pub object: Option<Value>,
    /// Protobuf fields the vendored schema ([`SCHEMA_VERSION`]) does not know: data written by
    /// a newer Kubernetes. They are skipped, not printed. 0 for other encodings.
    pub unknown_fields: u32,
}

/// The Kubernetes release of the vendored protobuf schema (`formats/k8s-protos/`).
pub const SCHEMA_VERSION: &str = "1.35";

/// Why one value could not be decoded. One line, without the value's bytes (values can be
/// Secrets); callers add the etcd key.
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    #[error("protobuf: {0}")]
    Proto(#[from] super::proto::ProtoError),
    #[error("cbor: {0}")]
    Cbor(#[from] super::cbor::CborError),
    #[error("json: {0}")]
    Json(String),
    #[error("{0}")]
    Encryption(#[from] super::encryption::EncryptionError),
}

/// Decodes one value stored under `key` (the full etcd key: AES-GCM authenticates it).
pub fn decode_value(key: &[u8], value: &[u8], keys: &Keyring) -> Result<Decoded, ValueError> {
    if value.starts_with(super::encryption::PREFIX) {
        let (envelope, plaintext) = keys.decrypt(key, value)?;
        let inner = decode_value(key, &plaintext, keys)?;
        return Ok(Decoded {
            encoding: Encoding::Encrypted {
                provider: envelope.provider,
                key_name: envelope.key_name,
                inner: Box::new(inner.encoding),
            },
            object: inner.object,
            unknown_fields: inner.unknown_fields,
        });
    }
    if value.starts_with(super::proto::MAGIC) {
        let d = super::proto::decode_counting(value)?;
        return Ok(Decoded {
            encoding: Encoding::Protobuf,
            object: Some(d.object),
            unknown_fields: d.unknown_fields,
        });
    }
    if value.starts_with(super::cbor::SELF_DESCRIBED) {
        return Ok(Decoded {
            encoding: Encoding::Cbor,
            object: Some(super::cbor::decode(value)?),
            unknown_fields: 0,
        });
    }
    if looks_like_json(value) {
        let object = serde_json::from_slice(value).map_err(|e| ValueError::Json(e.to_string()))?;
        return Ok(Decoded {
            encoding: Encoding::Json,
            object: Some(object),
            unknown_fields: 0,
        });
    }
    let encoding = if is_text(value) {
        Encoding::Text
    } else {
        Encoding::Binary
    };
    Ok(Decoded {
        encoding,
        object: None,
        unknown_fields: 0,
    })
}

/// What [`write_value_json`] read.
#[derive(Clone, Debug, PartialEq)]
pub struct WrittenValue {
    pub encoding: Encoding,
    /// Whether an object was written (text and binary values write nothing).
    pub object: bool,
    /// As [`Decoded::unknown_fields`].
    pub unknown_fields: u32,
}

/// [`decode_value`] as one compact JSON object appended to `out` (nothing for text and binary
/// values, nothing on error), with `metadata.resourceVersion` set to `resource_version` as the
/// apiserver fills it in on read. Protobuf values go straight from the wire to the text, with
/// no `serde_json::Value`: the fast path for printing many objects.
pub fn write_value_json(
    key: &[u8],
    value: &[u8],
    keys: &Keyring,
    resource_version: Option<i64>,
    out: &mut Vec<u8>,
) -> Result<WrittenValue, ValueError> {
    if value.starts_with(super::encryption::PREFIX) {
        let (envelope, plaintext) = keys.decrypt(key, value)?;
        let inner = write_value_json(key, &plaintext, keys, resource_version, out)?;
        return Ok(WrittenValue {
            encoding: Encoding::Encrypted {
                provider: envelope.provider,
                key_name: envelope.key_name,
                inner: Box::new(inner.encoding),
            },
            ..inner
        });
    }
    if value.starts_with(super::proto::MAGIC) {
        let unknown_fields = super::proto::write_json(value, resource_version, out)?;
        return Ok(WrittenValue {
            encoding: Encoding::Protobuf,
            object: true,
            unknown_fields,
        });
    }
    let d = decode_value(key, value, keys)?;
    let Some(mut object) = d.object else {
        return Ok(WrittenValue {
            encoding: d.encoding,
            object: false,
            unknown_fields: d.unknown_fields,
        });
    };
    if let Some(rv) = resource_version {
        set_resource_version(&mut object, rv);
    }
    serde_json::to_writer(&mut *out, &object).expect("a JSON value always serializes to memory");
    Ok(WrittenValue {
        encoding: d.encoding,
        object: true,
        unknown_fields: d.unknown_fields,
    })
}

/// Whether [`write_value_json`] would decode `value`, with the same
/// error, writing no text: protobuf values are walked without writing JSON
/// ([`super::proto::validate`]); CBOR and JSON values are parsed as [`decode_value`] parses them
/// (their cost is the parse, not the text). Returns the encoding.
pub fn validate_value(key: &[u8], value: &[u8], keys: &Keyring) -> Result<Encoding, ValueError> {
    if value.starts_with(super::encryption::PREFIX) {
        let (envelope, plaintext) = keys.decrypt(key, value)?;
        let inner = validate_value(key, &plaintext, keys)?;
        return Ok(Encoding::Encrypted {
            provider: envelope.provider,
            key_name: envelope.key_name,
            inner: Box::new(inner),
        });
    }
    if value.starts_with(super::proto::MAGIC) {
        super::proto::validate(value)?;
        return Ok(Encoding::Protobuf);
    }
    decode_value(key, value, keys).map(|d| d.encoding)
}

/// Sets `metadata.resourceVersion` where the Go serializer puts it: after `uid` (or after the
/// name fields when there is no uid).
pub fn set_resource_version(object: &mut Value, revision: i64) {
    let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let rv = Value::String(revision.to_string());
    if let Some(v) = meta.get_mut("resourceVersion") {
        *v = rv;
        return;
    }
    let after = ["uid", "selfLink", "namespace", "generateName", "name"]
        .iter()
        .find_map(|k| meta.keys().position(|key| key == k));
    let at = after.map_or(0, |i| i + 1);
    meta.shift_insert(at, "resourceVersion".into(), rv);
}

/// How a value is stored, from its first bytes alone (no decryption, no decoding): `protobuf`,
/// `cbor`, `json`, `encrypted:<provider>:<key name>` (`encrypted:kms-v2:<provider name>` for
/// KMS; a key name is read up to the next `:`), `text` or `binary`. For statistics.
pub fn storage_label(value: &[u8]) -> String {
    if let Some(rest) = value.strip_prefix(super::encryption::PREFIX) {
        let mut parts = rest.splitn(4, |b| *b == b':');
        let (a, b, c) = (parts.next(), parts.next(), parts.next());
        let text = |x: Option<&[u8]>| String::from_utf8_lossy(x.unwrap_or_default()).into_owned();
        return match a {
            Some(b"kms") => format!("encrypted:kms-{}:{}", text(b), text(c)),
            _ => format!("encrypted:{}:{}", text(a), text(c)),
        };
    }
    if value.starts_with(super::proto::MAGIC) {
        "protobuf".into()
    } else if value.starts_with(super::cbor::SELF_DESCRIBED) {
        "cbor".into()
    } else if looks_like_json(value) {
        "json".into()
    } else if is_text(value) {
        "text".into()
    } else {
        "binary".into()
    }
}

fn is_text(value: &[u8]) -> bool {
    std::str::from_utf8(value).is_ok_and(|s| !s.chars().any(char::is_control))
}

fn looks_like_json(value: &[u8]) -> bool {
    value
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

/// A value as `etcdctl get` printed it, split for `revkeeper decode` (never for stored values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrintedValue<'a> {
    /// The key line etcdctl prints before the value without `--print-value-only`.
    pub key: Option<&'a [u8]>,
    /// The value with one trailing `\n` (etcdctl's) removed.
    pub value: &'a [u8],
    /// The value as given, in case its last byte really was `\n` (ciphertext can end so).
    pub unstripped: &'a [u8],
}

/// Splits etcdctl output as auger's `decode` does: a leading key line is recognised when the
/// first line is printable text and what follows it starts like a stored object; one trailing
/// newline is stripped.
pub fn split_printed_value(input: &[u8]) -> PrintedValue<'_> {
    let starts_like_object = |v: &[u8]| {
        v.starts_with(super::encryption::PREFIX)
            || v.starts_with(super::proto::MAGIC)
            || v.starts_with(super::cbor::SELF_DESCRIBED)
            || looks_like_json(v)
    };
    let mut key = None;
    let mut unstripped = input;
    if !starts_like_object(input) {
        if let Some(nl) = input.iter().position(|b| *b == b'\n') {
            let (line, rest) = (&input[..nl], &input[nl + 1..]);
            let printable = std::str::from_utf8(line)
                .is_ok_and(|s| !s.is_empty() && !s.chars().any(char::is_control));
            if printable && starts_like_object(rest) {
                key = Some(line);
                unstripped = rest;
            }
        }
    }
    PrintedValue {
        key,
        value: unstripped.strip_suffix(b"\n").unwrap_or(unstripped),
        unstripped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_objects_never_fail() {
        let keys = Keyring::default();
        for (value, label) in [
            (&b"1789"[..], "text"),
            (b"", "text"),
            (b"\x00\xff\x10garbage", "binary"),
            (b"k8s", "text"),
            (b"k8s:", "text"),
            (b"hello\nworld", "binary"),
        ] {
            let d = decode_value(b"compact_rev_key", value, &keys).unwrap();
            assert_eq!((d.encoding.label(), d.object), (label.to_string(), None));
        }
    }

    #[test]
    fn json_values_keep_their_order() {
        let v = b"{\"kind\":\"Widget\",\"apiVersion\":\"example.com/v1\",\"z\":1,\"a\":2}\n";
        let d = decode_value(b"/registry/example.com/widgets/a", v, &Keyring::default()).unwrap();
        assert_eq!(d.encoding, Encoding::Json);
        let o = d.object.unwrap();
        let keys: Vec<&String> = o.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["kind", "apiVersion", "z", "a"]);
        let bad = decode_value(b"k", b"{\"kind\":", &Keyring::default()).unwrap_err();
        assert!(bad.to_string().starts_with("json: "), "{bad}");
    }

    #[test]
    fn protobuf_fields_newer_than_the_schema_are_counted() {
        let object = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "n"}, "data": {"k": "v"}});
        let mut value = super::super::proto::encode(&object).unwrap();
        let known = decode_value(b"k", &value, &Keyring::default()).unwrap();
        assert_eq!(
            (known.encoding, known.unknown_fields),
            (Encoding::Protobuf, 0)
        );
        // ConfigMap field 99 (varint 1), which no Kubernetes release has.
        value = with_extra_field(&value, &[0x98, 0x06, 0x01]);
        let newer = decode_value(b"k", &value, &Keyring::default()).unwrap();
        assert_eq!(newer.unknown_fields, 1);
        assert_eq!(newer.object, known.object);
    }

    /// `value` (an envelope with one-byte field lengths) with `extra` appended to its `raw`.
    fn with_extra_field(value: &[u8], extra: &[u8]) -> Vec<u8> {
        let magic = super::super::proto::MAGIC;
        let (mut out, mut at) = (magic.to_vec(), magic.len());
        while at < value.len() {
            let (tag, len) = (value[at], value[at + 1] as usize);
            let mut field = value[at + 2..at + 2 + len].to_vec();
            if tag == 0x12 {
                field.extend_from_slice(extra);
            }
            out.extend_from_slice(&[tag, field.len() as u8]);
            out.extend_from_slice(&field);
            at += 2 + len;
        }
        out
    }

    #[test]
    fn cbor_values_are_labelled() {
        // 55799({h'6b': h'76'}) = {"k": "v"}
        let d = decode_value(
            b"k",
            &[0xd9, 0xd9, 0xf7, 0xa1, 0x41, b'k', 0x41, b'v'],
            &Keyring::default(),
        )
        .unwrap();
        assert_eq!(d.encoding.label(), "cbor");
        assert_eq!(d.object, Some(serde_json::json!({"k": "v"})));
        let bad = decode_value(b"k", &[0xd9, 0xd9, 0xf7, 0xa1], &Keyring::default()).unwrap_err();
        assert_eq!(bad.to_string(), "cbor: CBOR ends early (truncated value)");
    }

    #[test]
    fn encrypted_without_keys_is_a_named_error() {
        let e = decode_value(
            b"k",
            b"k8s:enc:aesgcm:v1:gcm-2026-10:xxxxxxxx",
            &Keyring::default(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "value is encrypted with aesgcm key gcm-2026-10; pass --encryption-config FILE (the apiserver's EncryptionConfiguration)"
        );
    }

    #[test]
    fn storage_labels_need_no_keys() {
        assert_eq!(
            storage_label(b"k8s:enc:aescbc:v1:cbc-2026-02:\x01\x02"),
            "encrypted:aescbc:cbc-2026-02"
        );
        assert_eq!(
            storage_label(b"k8s:enc:kms:v2:vault:\x0a"),
            "encrypted:kms-v2:vault"
        );
        assert_eq!(storage_label(b"k8s\0\x0a"), "protobuf");
        assert_eq!(storage_label(&[0xd9, 0xd9, 0xf7, 0xa0]), "cbor");
        assert_eq!(storage_label(b" {}"), "json");
        assert_eq!(storage_label(b"1789"), "text");
        assert_eq!(storage_label(b"\x00\x01"), "binary");
    }

    #[test]
    fn etcdctl_output_is_split() {
        let p = split_printed_value(b"/registry/pods/default/x\nk8s\0abc\n");
        assert_eq!(p.key, Some(&b"/registry/pods/default/x"[..]));
        assert_eq!(p.value, b"k8s\0abc");
        assert_eq!(p.unstripped, b"k8s\0abc\n");
        let p = split_printed_value(b"k8s\0ab\nc\n");
        assert_eq!((p.key, p.value), (None, &b"k8s\0ab\nc"[..]));
        let p = split_printed_value(b"{\"a\":1}");
        assert_eq!((p.key, p.value), (None, &b"{\"a\":1}"[..]));
        let p = split_printed_value(b"1789\n");
        assert_eq!((p.key, p.value), (None, &b"1789"[..]));
    }
}
