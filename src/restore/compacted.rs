//! The `key` bucket of a pre-compacted restore (`--mark-compacted`): only the newest revision of
//! each live key, as etcd's own compaction at the bumped revision would leave it, so the
//! restored member starts with no compaction to run
//! (`docs/format-restore.md#pre-compacted-key-bucket`).
//!
//! Two passes over the snapshot's `key` bucket: the first finds each key's newest revision
//! (and folds in the delta events of a point-in-time restore), the second copies exactly those
//! entries, then the surviving delta events follow in revision order.

use std::borrow::Cow;
use std::collections::HashMap;

use foldhash::fast::RandomState;
use revkeeper_formats::bbolt::Bucket;
use revkeeper_formats::etcd::kv_ref::KeyValueRef;
use revkeeper_formats::etcd::revision::{Revision, RevisionKey};

use super::point::{Applied, Deltas, PutEntry};
use crate::Result;

/// Where a key's newest revision is.
enum Newest {
    /// An entry of the snapshot at this revision, with its lease.
    Snapshot(Revision, i64),
    /// A delta event: its revision key and `KeyValue` bytes, and its lease.
    Delta(Box<(Vec<u8>, Vec<u8>)>, i64),
    /// Deleted: nothing is written.
    Deleted,
}

/// What the pre-compacted `key` bucket holds.
pub struct Written {
    pub live_keys: usize,
    /// Leases attached to live keys (0 excluded), for the `lease` bucket of a point restore.
    pub live_leases: Vec<i64>,
    /// The newest revision seen, tombstones included (the bump is counted from it).
    pub last: Option<Revision>,
    pub applied: Option<Applied>,
}

/// Writes the newest revision of every live key of `bucket`, with `deltas` applied after
/// `snapshot_latest`, through `put`, in ascending revision order. Before writing, `kept` is
/// told which revisions of `bucket` will be written (ascending).
pub fn write_newest(
    bucket: &Bucket<'_>,
    snapshot_latest: i64,
    deltas: Option<&Deltas>,
    kept_revisions: &mut dyn FnMut(&[Revision]),
    put: &mut PutEntry<'_>,
    damaged: &dyn Fn(&dyn std::fmt::Display) -> crate::Error,
) -> Result<Written> {
    let mut newest: HashMap<Cow<'_, [u8]>, Newest, RandomState> = HashMap::default();
    let mut last = None;
    for e in bucket.iter() {
        let e = e.map_err(|e| damaged(&e))?;
        let rk = RevisionKey::parse(e.key).map_err(|err| damaged(&err))?;
        last = Some(rk.rev);
        if e.value.is_empty() {
            continue; // an earlier restore's bump marker: a new one is written above it
        }
        let kv = KeyValueRef::parse(e.value)
            .map_err(|err| damaged(&format!("revision {}: {err}", rk.rev.main)))?;
        let state = if rk.tombstone {
            Newest::Deleted
        } else {
            Newest::Snapshot(rk.rev, kv.lease)
        };
        newest.insert(Cow::Borrowed(kv.key), state);
    }

    let applied = match deltas {
        None => None,
        Some(d) => {
            let mut record = |k: &[u8], v: &[u8]| -> Result<()> {
                let rk = RevisionKey::parse(k).map_err(|e| damaged(&e))?;
                let kv = KeyValueRef::parse(v).map_err(|e| damaged(&e))?;
                let state = if rk.tombstone {
                    Newest::Deleted
                } else {
                    Newest::Delta(Box::new((k.to_vec(), v.to_vec())), kv.lease)
                };
                newest.insert(Cow::Owned(kv.key.to_vec()), state);
                Ok(())
            };
            let mut unused = HashMap::new();
            let a = d.apply(snapshot_latest, &mut unused, &mut record)?;
            if a.last.is_some() {
                last = a.last;
            }
            Some(a)
        }
    };

    let mut kept: Vec<Revision> = Vec::with_capacity(newest.len());
    let mut from_deltas: Vec<&(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut live_leases = Vec::new();
    for state in newest.values() {
        let lease = match state {
            Newest::Snapshot(rev, lease) => {
                kept.push(*rev);
                *lease
            }
            Newest::Delta(entry, lease) => {
                from_deltas.push(entry);
                *lease
            }
            Newest::Deleted => continue,
        };
        if lease != 0 {
            live_leases.push(lease);
        }
    }
    kept.sort_unstable();
    from_deltas.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    kept_revisions(&kept);

    let mut wanted = kept.iter().peekable();
    for e in bucket.iter() {
        let Some(&&next) = wanted.peek() else {
            break;
        };
        let e = e.map_err(|e| damaged(&e))?;
        let rk = RevisionKey::parse(e.key).map_err(|err| damaged(&err))?;
        if rk.rev == next && !rk.tombstone {
            put(e.key, e.value)?;
            wanted.next();
        }
    }
    for (k, v) in &from_deltas {
        put(k, v)?;
    }
    live_leases.sort_unstable();
    live_leases.dedup();
    Ok(Written {
        live_keys: kept.len() + from_deltas.len(),
        live_leases,
        last,
        applied,
    })
}
