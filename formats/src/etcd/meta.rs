//! The `meta` bucket (`docs/format-etcd.md#meta-bucket`): raft position, compaction marks, conf
//! state, storage version.

use super::error::SchemaError;
use super::revision::{Revision, RevisionKey};

pub use super::raftpb::ConfState;

/// u64 BE: last applied raft index.
pub const CONSISTENT_INDEX_KEY: &[u8] = b"consistent_index";
/// u64 BE: raft term of that index (since 3.5).
pub const TERM_KEY: &[u8] = b"term";
/// JSON of `raftpb.ConfState` (since 3.5).
pub const CONF_STATE_KEY: &[u8] = b"confState";
/// 17-byte revision whose compaction was scheduled.
pub const SCHEDULED_COMPACT_KEY: &[u8] = b"scheduledCompactRev";
/// 17-byte revision of the last finished compaction.
pub const FINISHED_COMPACT_KEY: &[u8] = b"finishedCompactRev";
/// ASCII `major.minor.0` (since 3.6).
pub const STORAGE_VERSION_KEY: &[u8] = b"storageVersion";

/// Everything the `meta` bucket says, decoded. Absent keys are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetaInfo {
    pub consistent_index: Option<u64>,
    pub term: Option<u64>,
    /// `main` of `scheduledCompactRev`.
    pub scheduled_compact_rev: Option<i64>,
    /// `main` of `finishedCompactRev`.
    pub finished_compact_rev: Option<i64>,
    pub conf_state: Option<ConfState>,
    pub storage_version: Option<String>,
    /// Keys this version does not know, in the order given.
    pub other_keys: Vec<Vec<u8>>,
}

impl MetaInfo {
    /// Decodes the `meta` bucket's entries. A known key with a malformed value is an error
    /// naming the key.
    pub fn from_entries<'a>(
        entries: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    ) -> Result<MetaInfo, SchemaError> {
        let mut info = MetaInfo::default();
        for (key, value) in entries {
            match key {
                CONSISTENT_INDEX_KEY => info.consistent_index = Some(read_u64(key, value)?),
                TERM_KEY => info.term = Some(read_u64(key, value)?),
                SCHEDULED_COMPACT_KEY => info.scheduled_compact_rev = Some(read_rev(key, value)?),
                FINISHED_COMPACT_KEY => info.finished_compact_rev = Some(read_rev(key, value)?),
                CONF_STATE_KEY => {
                    let state = serde_json::from_slice(value)
                        .map_err(|e| SchemaError::json("meta/confState", e))?;
                    info.conf_state = Some(state);
                }
                STORAGE_VERSION_KEY => {
                    let text = std::str::from_utf8(value).map_err(|_| {
                        SchemaError::invalid("meta/storageVersion", "not UTF-8 text")
                    })?;
                    info.storage_version = Some(text.to_string());
                }
                _ => info.other_keys.push(key.to_vec()),
            }
        }
        Ok(info)
    }
}

/// The 8-byte big-endian value of `consistent_index`, `term` (and `auth/authRevision`).
pub fn u64_value(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

/// The value of `scheduledCompactRev` / `finishedCompactRev` for a compaction at `main`.
pub fn compact_rev_value(main: i64) -> [u8; 17] {
    Revision::new(main, 0).to_bytes()
}

fn key_name(key: &[u8]) -> String {
    format!("meta/{}", String::from_utf8_lossy(key))
}

fn read_u64(key: &[u8], value: &[u8]) -> Result<u64, SchemaError> {
    let bytes: [u8; 8] = value.try_into().map_err(|_| {
        SchemaError::invalid(key_name(key), format!("{} bytes, want 8", value.len()))
    })?;
    Ok(u64::from_be_bytes(bytes))
}

fn read_rev(key: &[u8], value: &[u8]) -> Result<i64, SchemaError> {
    let parsed = RevisionKey::parse(value)
        .map_err(|e| SchemaError::invalid(key_name(key), e.to_string()))?;
    if parsed.tombstone {
        return Err(SchemaError::invalid(
            key_name(key),
            "has a tombstone marker",
        ));
    }
    Ok(parsed.rev.main)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(entries: &[(&[u8], &[u8])]) -> Result<MetaInfo, SchemaError> {
        MetaInfo::from_entries(entries.iter().copied())
    }

    #[test]
    fn decodes_a_3_6_meta_bucket() {
        let index = u64_value(11);
        let term = u64_value(2);
        let scheduled = compact_rev_value(1_000_000_011);
        let finished = compact_rev_value(5);
        let conf = br#"{"voters":[5598121844046460979],"auto_leave":false}"#;
        let info = decode(&[
            (CONF_STATE_KEY, conf),
            (CONSISTENT_INDEX_KEY, &index),
            (FINISHED_COMPACT_KEY, &finished),
            (SCHEDULED_COMPACT_KEY, &scheduled),
            (STORAGE_VERSION_KEY, b"3.6.0"),
            (TERM_KEY, &term),
            (b"future", b"x"),
        ])
        .unwrap();
        assert_eq!(info.consistent_index, Some(11));
        assert_eq!(info.term, Some(2));
        assert_eq!(info.scheduled_compact_rev, Some(1_000_000_011));
        assert_eq!(info.finished_compact_rev, Some(5));
        assert_eq!(info.storage_version.as_deref(), Some("3.6.0"));
        assert_eq!(info.other_keys, vec![b"future".to_vec()]);
        let state = info.conf_state.unwrap();
        assert_eq!(state.voters, vec![5598121844046460979]);
        assert!(state.learners.is_empty() && !state.auto_leave);
        assert_eq!(serde_json::to_vec(&state).unwrap(), conf);
    }

    #[test]
    fn a_3_4_meta_bucket_has_only_the_index() {
        let index = u64_value(4);
        let info = decode(&[(CONSISTENT_INDEX_KEY, &index)]).unwrap();
        assert_eq!(info.consistent_index, Some(4));
        assert_eq!(info.term, None);
        assert_eq!(info.conf_state, None);
    }

    #[test]
    fn malformed_values_are_errors_naming_the_key() {
        let cases: [(&[u8], &[u8], &str); 6] = [
            (CONSISTENT_INDEX_KEY, &[1, 2, 3], "consistent_index"),
            (TERM_KEY, &[0; 9], "term"),
            (SCHEDULED_COMPACT_KEY, &[0; 17], "scheduledCompactRev"),
            (FINISHED_COMPACT_KEY, &[0; 8], "finishedCompactRev"),
            (CONF_STATE_KEY, b"{\"voters\":[-1]}", "confState"),
            (STORAGE_VERSION_KEY, &[0xff, 0xfe], "storageVersion"),
        ];
        for (key, value, name) in cases {
            let err = decode(&[(key, value)]).unwrap_err();
            assert!(err.to_string().contains(name), "{name}: {err}");
        }
        let mut tombstone = compact_rev_value(3).to_vec();
        tombstone.push(b't');
        assert!(decode(&[(FINISHED_COMPACT_KEY, &tombstone)]).is_err());
    }
}
