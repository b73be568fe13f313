//! The raft, WAL and server messages a restore writes (`docs/format-restore.md#raft-messages`),
//! encoded the way etcd's gogo-generated proto2 code does: fields in ascending number order,
//! non-nullable scalars always emitted (zeros too), nullable bytes only when present, repeated
//! uint64 unpacked. prost's proto3 derive would drop the zeros, so these are written by hand.

use serde::{Deserialize, Serialize};

use super::error::SchemaError;
use super::proto::{FieldReader, FieldValue, put_bytes_field, put_varint_field};

/// `raftpb.EntryType` values.
pub const ENTRY_NORMAL: i32 = 0;
pub const ENTRY_CONF_CHANGE: i32 = 1;
pub const ENTRY_CONF_CHANGE_V2: i32 = 2;

/// `raftpb.ConfChangeType` values.
pub const CONF_CHANGE_ADD_NODE: i32 = 0;
pub const CONF_CHANGE_REMOVE_NODE: i32 = 1;
pub const CONF_CHANGE_UPDATE_NODE: i32 = 2;
pub const CONF_CHANGE_ADD_LEARNER_NODE: i32 = 3;

/// Go writes an int32 enum as the varint of its sign-extended 64-bit value.
fn enum_to_wire(v: i32) -> u64 {
    i64::from(v) as u64
}

/// `raftpb.Entry`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub entry_type: i32,
    pub term: u64,
    pub index: u64,
    pub data: Option<Vec<u8>>,
}

impl Entry {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint_field(&mut out, 1, enum_to_wire(self.entry_type));
        put_varint_field(&mut out, 2, self.term);
        put_varint_field(&mut out, 3, self.index);
        if let Some(data) = &self.data {
            put_bytes_field(&mut out, 4, data);
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Entry, SchemaError> {
        let mut m = Entry::default();
        let mut r = FieldReader::new("raftpb.Entry", bytes);
        while let Some((field, value)) = r.next_field()? {
            match field {
                1 => m.entry_type = r.expect_varint(field, value)? as i32,
                2 => m.term = r.expect_varint(field, value)?,
                3 => m.index = r.expect_varint(field, value)?,
                4 => m.data = Some(r.expect_bytes(field, value)?.to_vec()),
                _ => {}
            }
        }
        Ok(m)
    }
}

/// `raftpb.HardState`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HardState {
    pub term: u64,
    pub vote: u64,
    pub commit: u64,
}

impl HardState {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint_field(&mut out, 1, self.term);
        put_varint_field(&mut out, 2, self.vote);
        put_varint_field(&mut out, 3, self.commit);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<HardState, SchemaError> {
        let mut m = HardState::default();
        let mut r = FieldReader::new("raftpb.HardState", bytes);
        while let Some((field, value)) = r.next_field()? {
            match field {
                1 => m.term = r.expect_varint(field, value)?,
                2 => m.vote = r.expect_varint(field, value)?,
                3 => m.commit = r.expect_varint(field, value)?,
                _ => {}
            }
        }
        Ok(m)
    }
}

/// `raftpb.ConfChange`. For a restore, `context` is the member's JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfChange {
    pub id: u64,
    pub change_type: i32,
    pub node_id: u64,
    pub context: Option<Vec<u8>>,
}

impl ConfChange {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint_field(&mut out, 1, self.id);
        put_varint_field(&mut out, 2, enum_to_wire(self.change_type));
        put_varint_field(&mut out, 3, self.node_id);
        if let Some(context) = &self.context {
            put_bytes_field(&mut out, 4, context);
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<ConfChange, SchemaError> {
        let mut m = ConfChange::default();
        let mut r = FieldReader::new("raftpb.ConfChange", bytes);
        while let Some((field, value)) = r.next_field()? {
            match field {
                1 => m.id = r.expect_varint(field, value)?,
                2 => m.change_type = r.expect_varint(field, value)? as i32,
                3 => m.node_id = r.expect_varint(field, value)?,
                4 => m.context = Some(r.expect_bytes(field, value)?.to_vec()),
                _ => {}
            }
        }
        Ok(m)
    }
}

/// `raftpb.ConfState`. The serde form is etcd's JSON of it (the `meta/confState` value).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfState {
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub voters: Vec<u64>,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub learners: Vec<u64>,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub voters_outgoing: Vec<u64>,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub learners_next: Vec<u64>,
    #[serde(default)]
    pub auto_leave: bool,
}

/// Go's JSON decoder reads `null` as an empty slice.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    Ok(Option::<Vec<u64>>::deserialize(d)?.unwrap_or_default())
}

impl ConfState {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let lists = [
            (1, &self.voters),
            (2, &self.learners),
            (3, &self.voters_outgoing),
            (4, &self.learners_next),
        ];
        for (field, ids) in lists {
            for &id in ids {
                put_varint_field(&mut out, field, id);
            }
        }
        put_varint_field(&mut out, 5, u64::from(self.auto_leave));
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<ConfState, SchemaError> {
        let mut m = ConfState::default();
        let mut r = FieldReader::new("raftpb.ConfState", bytes);
        while let Some((field, value)) = r.next_field()? {
            let list = match field {
                1 => &mut m.voters,
                2 => &mut m.learners,
                3 => &mut m.voters_outgoing,
                4 => &mut m.learners_next,
                5 => {
                    m.auto_leave = r.expect_varint(field, value)? != 0;
                    continue;
                }
                _ => continue,
            };
            match value {
                FieldValue::Varint(id) => list.push(id),
                // A decoder must also accept the packed form.
                FieldValue::Bytes(packed) => {
                    let mut ids = FieldReader::new("raftpb.ConfState", packed);
                    while let Some(id) = ids.packed_varint()? {
                        list.push(id);
                    }
                }
                FieldValue::Fixed => return Err(r.error(format!("field {field} is not a varint"))),
            }
        }
        Ok(m)
    }
}

/// `raftpb.SnapshotMetadata`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotMetadata {
    pub conf_state: ConfState,
    pub index: u64,
    pub term: u64,
}

impl SnapshotMetadata {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_bytes_field(&mut out, 1, &self.conf_state.encode());
        put_varint_field(&mut out, 2, self.index);
        put_varint_field(&mut out, 3, self.term);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<SnapshotMetadata, SchemaError> {
        let mut m = SnapshotMetadata::default();
        let mut r = FieldReader::new("raftpb.SnapshotMetadata", bytes);
        while let Some((field, value)) = r.next_field()? {
            match field {
                1 => m.conf_state = ConfState::decode(r.expect_bytes(field, value)?)?,
                2 => m.index = r.expect_varint(field, value)?,
                3 => m.term = r.expect_varint(field, value)?,
                _ => {}
            }
        }
        Ok(m)
    }
}

/// `raftpb.Snapshot`. For a restore, `data` is the v2-store JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub data: Option<Vec<u8>>,
    pub metadata: SnapshotMetadata,
}

impl Snapshot {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(data) = &self.data {
            put_bytes_field(&mut out, 1, data);
        }
        put_bytes_field(&mut out, 2, &self.metadata.encode());
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Snapshot, SchemaError> {
        let mut m = Snapshot::default();
        let mut r = FieldReader::new("raftpb.Snapshot", bytes);
        while let Some((field, value)) = r.next_field()? {
            match field {
                1 => m.data = Some(r.expect_bytes(field, value)?.to_vec()),
                2 => m.metadata = SnapshotMetadata::decode(r.expect_bytes(field, value)?)?,
                _ => {}
            }
        }
        Ok(m)
    }
}

/// `walpb.Record`: one WAL record before framing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WalRecord {
    pub record_type: i64,
    pub crc: u32,
    pub data: Option<Vec<u8>>,
}

impl WalRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint_field(&mut out, 1, self.record_type as u64);
        put_varint_field(&mut out, 2, u64::from(self.crc));
        if let Some(data) = &self.data {
            put_bytes_field(&mut out, 3, data);
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<WalRecord, SchemaError> {
        let mut m = WalRecord::default();
        let mut r = FieldReader::new("walpb.Record", bytes);
        while let Some((field, value)) = r.next_field()? {
            match field {
                1 => m.record_type = r.expect_varint(field, value)? as i64,
                2 => m.crc = r.expect_varint(field, value)? as u32,
                3 => m.data = Some(r.expect_bytes(field, value)?.to_vec()),
                _ => {}
            }
        }
        Ok(m)
    }
}

/// `walpb.Snapshot`: the raft position of a snapshot, as recorded in the WAL. `conf_state`
/// exists since 3.5 and is unknown to (and skipped by) 3.4.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WalSnapshot {
    pub index: u64,
    pub term: u64,
    pub conf_state: Option<ConfState>,
}

impl WalSnapshot {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint_field(&mut out, 1, self.index);
        put_varint_field(&mut out, 2, self.term);
        if let Some(state) = &self.conf_state {
            put_bytes_field(&mut out, 3, &state.encode());
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<WalSnapshot, SchemaError> {
        let mut m = WalSnapshot::default();
        let mut r = FieldReader::new("walpb.Snapshot", bytes);
        while let Some((field, value)) = r.next_field()? {
            match field {
                1 => m.index = r.expect_varint(field, value)?,
                2 => m.term = r.expect_varint(field, value)?,
                3 => m.conf_state = Some(ConfState::decode(r.expect_bytes(field, value)?)?),
                _ => {}
            }
        }
        Ok(m)
    }
}

/// `etcdserverpb.Metadata`: which member and cluster a WAL belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    pub node_id: u64,
    pub cluster_id: u64,
}

impl Metadata {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint_field(&mut out, 1, self.node_id);
        put_varint_field(&mut out, 2, self.cluster_id);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Metadata, SchemaError> {
        let mut m = Metadata::default();
        let mut r = FieldReader::new("etcdserverpb.Metadata", bytes);
        while let Some((field, value)) = r.next_field()? {
            match field {
                1 => m.node_id = r.expect_varint(field, value)?,
                2 => m.cluster_id = r.expect_varint(field, value)?,
                _ => {}
            }
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        ::hex::decode(s.split_whitespace().collect::<String>()).expect("hex test vector")
    }

    const DEFAULT_MEMBER: u64 = 0x8e9e05c52164694d;
    const DEFAULT_CLUSTER: u64 = 0xcdf818194e3a8c32;

    #[test]
    fn metadata_matches_spec_vector() {
        let m = Metadata {
            node_id: DEFAULT_MEMBER,
            cluster_id: DEFAULT_CLUSTER,
        };
        let want = hex("08cdd2918bd2b881cf8e01 10b298eaf1948386fccd01");
        assert_eq!(m.encode(), want);
        assert_eq!(Metadata::decode(&want).unwrap(), m);
    }

    #[test]
    fn zero_scalars_are_emitted() {
        assert_eq!(WalSnapshot::default().encode(), hex("0800 1000"));
        assert_eq!(HardState::default().encode(), hex("0800 1000 1800"));
        assert_eq!(ConfState::default().encode(), hex("2800"));
        assert_eq!(WalRecord::default().encode(), hex("0800 1000"));
    }

    #[test]
    fn wal_snapshot_and_snapshot_metadata_match_spec_vector() {
        let state = ConfState {
            voters: vec![DEFAULT_MEMBER],
            ..ConfState::default()
        };
        let ws = WalSnapshot {
            index: 1,
            term: 1,
            conf_state: Some(state.clone()),
        };
        let want = hex("0801 1001 1a0d 08cdd2918bd2b881cf8e01 2800");
        assert_eq!(ws.encode(), want);
        assert_eq!(WalSnapshot::decode(&want).unwrap(), ws);

        let meta = SnapshotMetadata {
            conf_state: state,
            index: 1,
            term: 1,
        };
        let want = hex("0a0d 08cdd2918bd2b881cf8e01 2800 1001 1801");
        assert_eq!(meta.encode(), want);
        assert_eq!(SnapshotMetadata::decode(&want).unwrap(), meta);
    }

    #[test]
    fn conf_state_lists_are_unpacked_and_packed_is_accepted() {
        let state = ConfState {
            voters: vec![1, 2],
            learners: vec![3],
            voters_outgoing: vec![4],
            learners_next: vec![5],
            auto_leave: true,
        };
        let bytes = state.encode();
        assert_eq!(bytes, hex("0801 0802 1003 1804 2005 2801"));
        assert_eq!(ConfState::decode(&bytes).unwrap(), state);
        let packed = ConfState::decode(&hex("0a020102")).unwrap();
        assert_eq!(packed.voters, vec![1, 2]);
        let json: ConfState = serde_json::from_str(r#"{"voters":null,"learners":[3]}"#).unwrap();
        assert_eq!((json.voters.len(), json.learners.as_slice()), (0, &[3][..]));
    }

    #[test]
    fn entry_and_conf_change_round_trip() {
        let cc = ConfChange {
            id: 0,
            change_type: CONF_CHANGE_ADD_NODE,
            node_id: DEFAULT_MEMBER,
            context: Some(b"{}".to_vec()),
        };
        let cc_bytes = cc.encode();
        assert_eq!(cc_bytes, hex("0800 1000 18cdd2918bd2b881cf8e01 2202 7b7d"));
        assert_eq!(ConfChange::decode(&cc_bytes).unwrap(), cc);
        let entry = Entry {
            entry_type: ENTRY_CONF_CHANGE,
            term: 1,
            index: 1,
            data: Some(cc_bytes),
        };
        assert_eq!(Entry::decode(&entry.encode()).unwrap(), entry);
        let negative = Entry {
            entry_type: -1,
            ..Entry::default()
        };
        assert_eq!(negative.encode().len(), 1 + 10 + 4);
        assert_eq!(Entry::decode(&negative.encode()).unwrap(), negative);
    }

    #[test]
    fn snapshot_round_trips_and_nil_data_is_omitted() {
        let snap = Snapshot {
            data: None,
            metadata: SnapshotMetadata::default(),
        };
        assert_eq!(snap.encode(), hex("1208 0a02 2800 1000 1800"));
        assert_eq!(Snapshot::decode(&snap.encode()).unwrap(), snap);
        let with_data = Snapshot {
            data: Some(Vec::new()),
            ..snap
        };
        assert_eq!(&with_data.encode()[..2], &[0x0a, 0x00]);
        assert_eq!(Snapshot::decode(&with_data.encode()).unwrap(), with_data);
    }

    #[test]
    fn wrong_wire_types_and_truncation_are_errors() {
        assert!(HardState::decode(&hex("0a00")).is_err());
        assert!(Entry::decode(&hex("2001")).is_err());
        assert!(Metadata::decode(&hex("08")).is_err());
        assert!(Snapshot::decode(&hex("1203 0a05")).is_err());
        assert!(ConfState::decode(&hex("0d00000000")).is_err());
        let err = WalRecord::decode(&hex("1a05 00")).unwrap_err();
        assert!(err.to_string().contains("walpb.Record"), "{err}");
    }
}
