//! The `lease` bucket (`docs/format-etcd.md#lease-bucket`): key = lease ID as 8-byte big-endian
//! int64, value = `leasepb.Lease` (proto3).

use prost::Message;

use super::error::SchemaError;

#[derive(Clone, PartialEq, Eq, Message)]
pub struct Lease {
    #[prost(int64, tag = "1")]
    pub id: i64,
    #[prost(int64, tag = "2")]
    pub ttl: i64,
    #[prost(int64, tag = "3")]
    pub remaining_ttl: i64,
}

impl Lease {
    /// Decodes a `lease` bucket value.
    pub fn decode_value(bytes: &[u8]) -> Result<Lease, SchemaError> {
        Lease::decode(bytes).map_err(|e| SchemaError::protobuf("leasepb.Lease", e))
    }
}

/// The lease ID a `lease` bucket key stands for.
pub fn lease_id_from_key(key: &[u8]) -> Result<i64, SchemaError> {
    let bytes: [u8; 8] = key
        .try_into()
        .map_err(|_| SchemaError::invalid("lease key", format!("{} bytes, want 8", key.len())))?;
    Ok(i64::from_be_bytes(bytes))
}

/// The `lease` bucket key of a lease ID.
pub fn lease_key(id: i64) -> [u8; 8] {
    id.to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of `docs/format-etcd.md#lease-bucket`.
    const KEY: [u8; 8] = [0x78, 0x33, 0xa2, 0x00, 0x2e, 0x49, 0x1b, 0x0a];
    const VALUE: &[u8] = &[
        0x08, 0x8a, 0xb6, 0xa4, 0xf2, 0x82, 0xc0, 0xe8, 0x99, 0x78, 0x10, 0x90, 0x1c,
    ];

    #[test]
    fn decodes_spec_example() {
        let id = lease_id_from_key(&KEY).unwrap();
        assert_eq!(id, 0x7833_a200_2e49_1b0a);
        let lease = Lease::decode_value(VALUE).unwrap();
        assert_eq!(lease.id, id);
        assert_eq!(lease.ttl, 3600);
        assert_eq!(lease.remaining_ttl, 0);
        assert_eq!(lease.encode_to_vec(), VALUE);
        assert_eq!(lease_key(id), KEY);
    }

    #[test]
    fn malformed_inputs_are_errors() {
        assert!(lease_id_from_key(&KEY[..7]).is_err());
        assert!(lease_id_from_key(&[0; 9]).is_err());
        assert!(Lease::decode_value(&VALUE[..5]).is_err());
    }
}

/// A lease id as etcdctl prints it (`%016x`), the one format for every output.
pub fn id_hex(id: i64) -> String {
    format!("{id:016x}")
}

#[cfg(test)]
mod id_hex_tests {
    #[test]
    fn id_hex_pads_to_sixteen_digits_like_etcdctl() {
        assert_eq!(super::id_hex(0x46bd), "00000000000046bd");
        assert_eq!(super::id_hex(-1), "ffffffffffffffff");
    }
}
