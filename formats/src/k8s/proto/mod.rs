//! The protobuf storage encoding: `k8s\0` + `runtime.Unknown` {typeMeta, raw}, `raw` being the
//! typed message named by apiVersion/kind, printed as the Go JSON serializer prints it
//! (`docs/format-k8s.md#protobuf-envelope`; design and known differences: `docs/design-decode.md`).
//!
//! The schema is the Kubernetes `.proto` files vendored in `formats/k8s-protos/`, compiled by
//! `build.rs` and turned once into a compact table (`schema.rs`); the wire walk (`decode.rs`,
//! writing JSON text) and its inverse (`encode.rs`) are our own.
//!
//! [`decode`] gives a `serde_json::Value`, [`decode_to_json`] the same as compact text (several
//! times faster, for printing), [`decode_counting`] also the number of fields the schema did not
//! know (data from a newer Kubernetes: skipped, worth a warning), [`write_json`] the text into a
//! caller's buffer with the read's resourceVersion. [`validate`] accepts and refuses exactly
//! what they do without writing any text (the same walk). [`type_meta`] reads only the
//! envelope. [`encode`] writes the stored form back.

mod decode;
mod encode;
mod json;
mod schema;
pub(crate) mod text;
mod wire;

use serde_json::Value;

use decode::{Check, Decoder, GeneralJson, Json, Output};
use schema::Schema;
use wire::{LEN, Reader};

/// `k8s` + the encoding-style byte 0.
pub const MAGIC: &[u8] = b"k8s\0";

/// Why a value could not be decoded or encoded. Messages are one line and never contain value
/// bytes (values may be Secrets).
#[derive(Debug, thiserror::Error)]
pub enum ProtoError {
    #[error("not a protobuf value: it does not start with k8s\\0")]
    NoMagic,
    #[error("truncated envelope at byte {0}")]
    TruncatedEnvelope(usize),
    #[error("envelope has no {0}")]
    MissingTypeMeta(&'static str),
    #[error("unknown kind {api_version} {kind}")]
    UnknownKind { api_version: String, kind: String },
    #[error("field {field}: wire type {got}, expected {expected}")]
    WireType {
        field: String,
        got: u8,
        expected: &'static str,
    },
    #[error("{field}: {reason} at byte {at}")]
    Malformed {
        field: String,
        reason: &'static str,
        at: usize,
    },
    #[error("objects nested deeper than {} levels at byte {at}", decode::MAX_DEPTH)]
    TooDeep { at: usize },
    #[error("decoded JSON could not be re-read: {0}")]
    Json(String),
    #[error("cannot encode {path}: {reason}")]
    Encode { path: String, reason: String },
}

/// A decoded object and how many fields the schema did not know (data written by a newer
/// Kubernetes than the vendored protos; those fields are skipped, not printed).
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub object: Value,
    pub unknown_fields: u32,
}

/// Decodes a whole stored value (starting with [`MAGIC`]) to the object's JSON.
pub fn decode(value: &[u8]) -> Result<Value, ProtoError> {
    decode_counting(value).map(|d| d.object)
}

/// [`decode`], also counting the fields the schema does not know.
pub fn decode_counting(value: &[u8]) -> Result<Decoded, ProtoError> {
    let (text, unknown_fields) = decode_text(value)?;
    let object = serde_json::from_slice(&text).map_err(|e| ProtoError::Json(e.to_string()))?;
    Ok(Decoded {
        object,
        unknown_fields,
    })
}

/// [`decode`] as compact JSON text (what [`decode`] parses into a `Value`): the fast path for
/// printing, several times quicker than building a `Value`.
pub fn decode_to_json(value: &[u8]) -> Result<Vec<u8>, ProtoError> {
    decode_text(value).map(|(text, _)| text)
}

fn decode_text(value: &[u8]) -> Result<(Vec<u8>, u32), ProtoError> {
    let mut out = Vec::new();
    let unknown_fields = write_json(value, None, &mut out)?;
    Ok((out, unknown_fields))
}

/// Appends the object's compact JSON text to `out` (nothing on error) and returns the number of
/// fields the schema did not know; with `resource_version`, the object's
/// `metadata.resourceVersion` is that revision (as the apiserver fills it in on read). The
/// fastest path: no `Value`, and `out` is reused from object to object.
pub fn write_json(
    value: &[u8],
    resource_version: Option<i64>,
    out: &mut Vec<u8>,
) -> Result<u32, ProtoError> {
    write_json_as::<Json>(value, resource_version, out)
}

/// [`write_json`] without the in-order path (every message through the general one): for
/// tests, which compare the two byte for byte.
#[doc(hidden)]
pub fn write_json_general(
    value: &[u8],
    resource_version: Option<i64>,
    out: &mut Vec<u8>,
) -> Result<u32, ProtoError> {
    write_json_as::<GeneralJson>(value, resource_version, out)
}

fn write_json_as<O: Output>(
    value: &[u8],
    resource_version: Option<i64>,
    out: &mut Vec<u8>,
) -> Result<u32, ProtoError> {
    let start = out.len();
    let mut decoder = Decoder::<O>::new(std::mem::take(out));
    decoder.resource_version = resource_version;
    let written = write_envelope(&mut decoder, value, 0);
    *out = decoder.out;
    if written.is_err() {
        out.truncate(start);
    }
    written.map(|_| decoder.unknown_fields)
}

/// Whether [`write_json`] would write `value`: the same walk and the same error, without
/// writing the text. Returns the number of fields the schema did not know.
pub fn validate(value: &[u8]) -> Result<u32, ProtoError> {
    let mut decoder = Decoder::<Check>::new(Vec::new());
    write_envelope(&mut decoder, value, 0)?;
    Ok(decoder.unknown_fields)
}

/// The envelope's (apiVersion, kind), without decoding the object.
pub fn type_meta(value: &[u8]) -> Result<(String, String), ProtoError> {
    let env = Envelope::parse(value, 0)?;
    Ok((text(env.api_version), text(env.kind)))
}

/// Encodes a JSON object with `apiVersion` and `kind` to the stored form (MAGIC + Unknown), as
/// kube-apiserver (and `auger encode`) writes it.
pub fn encode(object: &Value) -> Result<Vec<u8>, ProtoError> {
    encode::encode_object(object)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

struct Envelope<'a> {
    api_version: &'a [u8],
    kind: &'a [u8],
    raw: &'a [u8],
    /// Absolute offset of `raw`.
    raw_at: usize,
}

impl<'a> Envelope<'a> {
    /// Parses MAGIC + runtime.Unknown. `base` is the value's offset for error messages.
    fn parse(value: &'a [u8], base: usize) -> Result<Self, ProtoError> {
        let body = value.strip_prefix(MAGIC).ok_or(ProtoError::NoMagic)?;
        let base = base + MAGIC.len();
        let truncated = |r: &Reader<'_>| ProtoError::TruncatedEnvelope(base + r.pos());
        let mut env = Envelope {
            api_version: b"",
            kind: b"",
            raw: b"",
            raw_at: base,
        };
        let mut r = Reader::new(body);
        while !r.is_empty() {
            let (number, wire_type) = r.key().map_err(|_| truncated(&r))?;
            if wire_type != LEN {
                r.skip(wire_type).map_err(|_| truncated(&r))?;
                continue;
            }
            let data = r.len_delimited().map_err(|_| truncated(&r))?;
            match number {
                1 => {
                    let type_base = base + r.pos() - data.len();
                    let mut t = Reader::new(data);
                    while !t.is_empty() {
                        let err =
                            |t: &Reader<'_>| ProtoError::TruncatedEnvelope(type_base + t.pos());
                        let (n, wt) = t.key().map_err(|_| err(&t))?;
                        if wt != LEN {
                            t.skip(wt).map_err(|_| err(&t))?;
                            continue;
                        }
                        let s = t.len_delimited().map_err(|_| err(&t))?;
                        match n {
                            1 => env.api_version = s,
                            2 => env.kind = s,
                            _ => {}
                        }
                    }
                }
                2 => {
                    env.raw = data;
                    env.raw_at = base + r.pos() - data.len();
                }
                _ => {}
            }
        }
        if env.api_version.is_empty() {
            return Err(ProtoError::MissingTypeMeta("apiVersion"));
        }
        if env.kind.is_empty() {
            return Err(ProtoError::MissingTypeMeta("kind"));
        }
        Ok(env)
    }
}

/// Writes one envelope (top-level or nested in a RawExtension) as a JSON object at the end of
/// the decoder's output.
fn write_envelope<'a, O: Output>(
    decoder: &mut Decoder<'a, O>,
    value: &'a [u8],
    base: usize,
) -> Result<std::ops::Range<usize>, ProtoError> {
    if decoder.depth() >= decode::MAX_DEPTH {
        return Err(ProtoError::TooDeep { at: base });
    }
    let env = Envelope::parse(value, base)?;
    let Some(msg) = message_for(&text(env.api_version), &text(env.kind)) else {
        return Err(ProtoError::UnknownKind {
            api_version: text(env.api_version),
            kind: text(env.kind),
        });
    };
    let begin = decoder.out.len();
    if !O::TEXT {
        return decoder.object(msg, env.raw, env.raw_at, begin, None);
    }
    let mut header = b"\"apiVersion\":".to_vec();
    json::write_str(&mut header, env.api_version);
    header.extend_from_slice(b",\"kind\":");
    json::write_str(&mut header, env.kind);
    decoder.object(msg, env.raw, env.raw_at, begin, Some(&header))
}

/// The proto package (without version) holding API group `group`
/// (`docs/format-k8s.md#resource-names`).
fn package_for(group: &str) -> Option<String> {
    Some(match group {
        "" => "api.core".into(),
        "apiextensions.k8s.io" => "apiextensions_apiserver.pkg.apis.apiextensions".into(),
        "apiregistration.k8s.io" => "kube_aggregator.pkg.apis.apiregistration".into(),
        "internal.apiserver.k8s.io" => "api.apiserverinternal".into(),
        "flowcontrol.apiserver.k8s.io" => "api.flowcontrol".into(),
        "rbac.authorization.k8s.io" => "api.rbac".into(),
        "metrics.k8s.io" => "metrics.pkg.apis.metrics".into(),
        "custom.metrics.k8s.io" => "metrics.pkg.apis.custom_metrics".into(),
        "external.metrics.k8s.io" => "metrics.pkg.apis.external_metrics".into(),
        g if !g.contains('.') => format!("api.{g}"),
        g => {
            let name = g.strip_suffix(".k8s.io")?;
            if name.contains('.') {
                return None;
            }
            format!("api.{name}")
        }
    })
}

/// The schema message for apiVersion/kind, if the vendored protos have it as a plain object.
fn message_for(api_version: &str, kind: &str) -> Option<usize> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let valid =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid(version) || !valid(kind) {
        return None;
    }
    let schema = Schema::get();
    let package = package_for(group)?;
    // meta/v1 kinds (Status, DeleteOptions, ...) are registered in every group version; alpha
    // versions removed from the current release are in the legacy packages (newest first).
    let msg = schema
        .lookup(&format!("{package}.{version}.{kind}"))
        .or_else(|| schema.lookup(&format!("apimachinery.pkg.apis.meta.{version}.{kind}")))
        .or_else(|| {
            schema
                .legacy_prefixes()
                .iter()
                .find_map(|p| schema.lookup(&format!("{p}.{package}.{version}.{kind}")))
        })?;
    (schema.messages[msg].special == schema::Special::None).then_some(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_messages() {
        let schema = Schema::get();
        for (av, kind, name) in [
            ("v1", "Pod", "api.core.v1.Pod"),
            ("apps/v1", "Deployment", "api.apps.v1.Deployment"),
            ("rbac.authorization.k8s.io/v1", "Role", "api.rbac.v1.Role"),
            (
                "internal.apiserver.k8s.io/v1alpha1",
                "StorageVersion",
                "api.apiserverinternal.v1alpha1.StorageVersion",
            ),
            (
                "flowcontrol.apiserver.k8s.io/v1",
                "FlowSchema",
                "api.flowcontrol.v1.FlowSchema",
            ),
            (
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                "apiextensions_apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
            ),
            (
                "apiregistration.k8s.io/v1",
                "APIService",
                "kube_aggregator.pkg.apis.apiregistration.v1.APIService",
            ),
        ] {
            let msg = message_for(av, kind).unwrap_or_else(|| panic!("{av} {kind}"));
            assert_eq!(&*schema.messages[msg].name, name);
        }
        // Alpha versions removed before the current release, from the legacy protos.
        for (av, kind, name) in [
            (
                "networking.k8s.io/v1alpha1",
                "IPAddress",
                "legacy.v1_33.api.networking.v1alpha1.IPAddress",
            ),
            (
                "resource.k8s.io/v1alpha3",
                "ResourceClaim",
                "legacy.v1_33.api.resource.v1alpha3.ResourceClaim",
            ),
            (
                "resource.k8s.io/v1alpha2",
                "ResourceClass",
                "legacy.v1_30.api.resource.v1alpha2.ResourceClass",
            ),
        ] {
            let msg = message_for(av, kind).unwrap_or_else(|| panic!("{av} {kind}"));
            assert_eq!(&*schema.messages[msg].name, name);
        }
        // The current release wins where both have the kind.
        let msg = message_for("resource.k8s.io/v1alpha3", "DeviceTaintRule").unwrap();
        assert_eq!(
            &*schema.messages[msg].name,
            "api.resource.v1alpha3.DeviceTaintRule"
        );
        assert!(message_for("batch/v9", "Job").is_none());
        assert!(message_for("example.com/v1", "Foo").is_none());
        assert!(message_for("meta.k8s.io/v1", "Time").is_none());
    }

    #[test]
    fn envelope_errors_are_one_line_without_values() {
        assert!(matches!(decode(b"nope"), Err(ProtoError::NoMagic)));
        let pod = b"k8s\0\x0a\x09\x0a\x02v1\x12\x03Pod\x12\x00\x1a\x00\x22\x00";
        assert_eq!(type_meta(pod).unwrap(), ("v1".into(), "Pod".into()));
        assert_eq!(
            decode(pod).unwrap(),
            serde_json::json!({"apiVersion": "v1", "kind": "Pod"})
        );
        assert_eq!(
            decode_to_json(pod).unwrap(),
            br#"{"apiVersion":"v1","kind":"Pod"}"#
        );
        let e = decode(&pod[..8]).unwrap_err();
        assert_eq!(e.to_string(), "truncated envelope at byte 6");
        let job = b"k8s\0\x0a\x0f\x0a\x08batch/v9\x12\x03Job";
        assert_eq!(
            decode(job).unwrap_err().to_string(),
            "unknown kind batch/v9 Job"
        );
        // Pod.spec (field 2) as a varint.
        let bad = b"k8s\0\x0a\x09\x0a\x02v1\x12\x03Pod\x12\x02\x10\x01";
        assert_eq!(
            decode(bad).unwrap_err().to_string(),
            "field Pod.spec (2): wire type 0, expected length-delimited"
        );
    }

    #[test]
    fn unknown_fields_are_skipped_and_counted() {
        // Pod { metadata { name: "a", field 99: varint 7 }, field 50: "zz" }
        let meta = b"\x0a\x01a\x98\x06\x07";
        let mut pod = vec![0x0a, meta.len() as u8];
        pod.extend_from_slice(meta);
        pod.extend_from_slice(b"\x92\x03\x02zz");
        let mut value = b"k8s\0\x0a\x09\x0a\x02v1\x12\x03Pod\x12".to_vec();
        value.push(pod.len() as u8);
        value.extend_from_slice(&pod);
        let d = decode_counting(&value).unwrap();
        assert_eq!(d.unknown_fields, 2);
        assert_eq!(
            d.object,
            serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}})
        );
    }

    #[test]
    fn raw_extensions_inline_json_nested_envelopes_and_base64() {
        // core/v1 List { items (2): [RawExtension { raw (1) }] }
        fn list(raws: &[&[u8]]) -> Vec<u8> {
            let mut body = Vec::new();
            for raw in raws {
                let mut ext = vec![0x0a, raw.len() as u8];
                ext.extend_from_slice(raw);
                body.extend_from_slice(&[0x12, ext.len() as u8]);
                body.extend_from_slice(&ext);
            }
            let mut value = b"k8s\0\x0a\x0a\x0a\x02v1\x12\x04List\x12".to_vec();
            value.push(body.len() as u8);
            value.extend_from_slice(&body);
            value
        }
        let pod = b"k8s\0\x0a\x09\x0a\x02v1\x12\x03Pod\x12\x00";
        let got = decode(&list(&[b"{ \"a\": [1, 2] }", b"\xd9\xd9\xf7\x01", pod])).unwrap();
        assert_eq!(
            got["items"],
            serde_json::json!([{"a": [1, 2]}, "2dn3AQ==", {"apiVersion": "v1", "kind": "Pod"}])
        );
    }
}
