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
}

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
        });
    }
    if value.starts_with(super::proto::MAGIC) {
        return Ok(Decoded {
            encoding: Encoding::Protobuf,
            object: Some(super::proto::decode(value)?),
        });
    }
    if value.starts_with(super::cbor::SELF_DESCRIBED) {
        return Ok(Decoded {
            encoding: Encoding::Cbor,
            object: Some(super::cbor::decode(value)?),
        });
    }
    if looks_like_json(value) {
        let object = serde_json::from_slice(value).map_err(|e| ValueError::Json(e.to_string()))?;
        return Ok(Decoded {
            encoding: Encoding::Json,
            object: Some(object),
        });
    }
    let encoding = if std::str::from_utf8(value).is_ok_and(|s| !s.chars().any(char::is_control)) {
        Encoding::Text
    } else {
        Encoding::Binary
    };
    Ok(Decoded {
        encoding,
        object: None,
    })
}

fn looks_like_json(value: &[u8]) -> bool {
    value
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}
