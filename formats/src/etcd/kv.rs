//! Values of the `key` bucket: `mvccpb.KeyValue` (proto3, `docs/format-etcd.md#keyvalue`).

use prost::Message;

use super::error::SchemaError;

/// One revision of a user key. A put fills every field; a tombstone only `key`; the revision
/// bump marker written by a restore is an empty value, i.e. all fields zero.
#[derive(Clone, PartialEq, Eq, Message)]
pub struct KeyValue {
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
    #[prost(int64, tag = "2")]
    pub create_revision: i64,
    #[prost(int64, tag = "3")]
    pub mod_revision: i64,
    #[prost(int64, tag = "4")]
    pub version: i64,
    #[prost(bytes = "vec", tag = "5")]
    pub value: Vec<u8>,
    #[prost(int64, tag = "6")]
    pub lease: i64,
}

impl KeyValue {
    /// Decodes a `key` bucket value.
    pub fn decode_value(bytes: &[u8]) -> Result<KeyValue, SchemaError> {
        KeyValue::decode(bytes).map_err(|e| SchemaError::protobuf("mvccpb.KeyValue", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of `docs/format-etcd.md#keyvalue`.
    const EXAMPLE: &[u8] = b"\x0a\x0e/registry/foo1\x10\x02\x18\x07\x20\x02\x2a\x03v1b";

    #[test]
    fn decodes_spec_example() {
        let kv = KeyValue::decode_value(EXAMPLE).unwrap();
        assert_eq!(kv.key, b"/registry/foo1");
        assert_eq!(kv.create_revision, 2);
        assert_eq!(kv.mod_revision, 7);
        assert_eq!(kv.version, 2);
        assert_eq!(kv.value, b"v1b");
        assert_eq!(kv.lease, 0);
        assert_eq!(kv.encode_to_vec(), EXAMPLE);
    }

    #[test]
    fn empty_value_is_the_bump_marker() {
        assert_eq!(KeyValue::decode_value(&[]).unwrap(), KeyValue::default());
    }

    #[test]
    fn malformed_values_are_errors() {
        assert!(KeyValue::decode_value(&EXAMPLE[..10]).is_err());
        assert!(KeyValue::decode_value(&[0x0a, 0xff]).is_err());
        assert!(KeyValue::decode_value(&[0x10]).is_err());
        let err = KeyValue::decode_value(&[0x0f]).unwrap_err();
        assert!(err.to_string().contains("mvccpb.KeyValue"), "{err}");
    }
}
