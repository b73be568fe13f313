//! The `key` bucket of a pre-compacted restore (`--mark-compacted`): only the newest revision of
//! each live key, as etcd's own compaction at the bumped revision would leave it, so the
//! restored member starts with no compaction to run
//! (`docs/format-restore.md#pre-compacted-key-bucket`).
//!
//! Two passes over the snapshot's `key` bucket: the first finds each key's newest revision
//! (and folds in the delta events of a point-in-time restore), the second copies exactly those
//! entries, then the surviving delta events follow in revision order.
//!
//! The first pass lists every entry with a hash of its key and sorts the list by hash: each
//! key's entries end up side by side in revision order, without a hash table of a million keys
//! (a random memory access per entry, the first pass's largest cost). Keys whose hashes are
//! equal are compared, so a collision cannot merge two keys.

use std::collections::HashMap;
use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use revkeeper_formats::bbolt::Bucket;
use revkeeper_formats::etcd::kv_ref::KeyValueRef;
use revkeeper_formats::etcd::revision::{Revision, RevisionKey};

use super::point::{Applied, Deltas, PutEntry};
use crate::Result;

/// The state a delta event leaves its key in.
enum FromDelta {
    /// Its revision key and `KeyValue` bytes, and its lease.
    Put(Box<(Vec<u8>, Vec<u8>)>, i64),
    /// Deleted: nothing is written.
    Deleted,
}

/// One entry of the snapshot's `key` bucket.
struct Entry<'a> {
    key: &'a [u8],
    rev: Revision,
    lease: i64,
    tombstone: bool,
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
    let mut entries: Vec<Entry<'_>> = Vec::new();
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
        entries.push(Entry {
            key: kv.key,
            rev: rk.rev,
            lease: kv.lease,
            tombstone: rk.tombstone,
        });
    }

    let mut from_deltas: HashMap<Vec<u8>, FromDelta, RandomState> = HashMap::default();
    let applied = match deltas {
        None => None,
        Some(d) => {
            let mut record = |k: &[u8], v: &[u8]| -> Result<()> {
                let rk = RevisionKey::parse(k).map_err(|e| damaged(&e))?;
                let kv = KeyValueRef::parse(v).map_err(|e| damaged(&e))?;
                let state = if rk.tombstone {
                    FromDelta::Deleted
                } else {
                    FromDelta::Put(Box::new((k.to_vec(), v.to_vec())), kv.lease)
                };
                from_deltas.insert(kv.key.to_vec(), state);
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

    let mut live_leases = Vec::new();
    let hasher = RandomState::default();
    let mut kept: Vec<Revision> = newest_entries(&entries, |k| hasher.hash_one(k))
        .filter(|e| !e.tombstone && !from_deltas.contains_key(e.key))
        .map(|e| {
            if e.lease != 0 {
                live_leases.push(e.lease);
            }
            e.rev
        })
        .collect();
    kept.sort_unstable();
    let mut from_deltas: Vec<&(Vec<u8>, Vec<u8>)> = from_deltas
        .values()
        .filter_map(|state| match state {
            FromDelta::Put(entry, lease) => {
                if *lease != 0 {
                    live_leases.push(*lease);
                }
                Some(&**entry)
            }
            FromDelta::Deleted => None,
        })
        .collect();
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

/// The newest entry of each key among `entries` (in revision order), in no particular order.
fn newest_entries<'e, 'a>(
    entries: &'e [Entry<'a>],
    hash: impl Fn(&[u8]) -> u64,
) -> impl Iterator<Item = &'e Entry<'a>> {
    // (hash, position): sorted, each key's entries are side by side, oldest first.
    let mut order: Vec<(u64, usize)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (hash(e.key), i))
        .collect();
    order.sort_unstable();
    let mut newest: Vec<usize> = Vec::with_capacity(order.len());
    for run in order.chunk_by(|a, b| a.0 == b.0) {
        let last = run[run.len() - 1].1;
        let key = entries[last].key;
        if run.iter().all(|&(_, i)| entries[i].key == key) {
            newest.push(last);
            continue;
        }
        // Different keys with one hash: by key, then oldest first, and the newest of each.
        let mut run: Vec<usize> = run.iter().map(|&(_, i)| i).collect();
        run.sort_unstable_by(|&a, &b| entries[a].key.cmp(entries[b].key).then(a.cmp(&b)));
        for same in run.chunk_by(|&a, &b| entries[a].key == entries[b].key) {
            newest.push(same[same.len() - 1]);
        }
    }
    newest.into_iter().map(move |i| &entries[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &'static str, main: i64) -> Entry<'static> {
        Entry {
            key: key.as_bytes(),
            rev: Revision { main, sub: 0 },
            lease: 0,
            tombstone: false,
        }
    }

    fn newest(entries: &[Entry<'_>], hash: impl Fn(&[u8]) -> u64) -> Vec<i64> {
        let mut revs: Vec<i64> = newest_entries(entries, hash).map(|e| e.rev.main).collect();
        revs.sort_unstable();
        revs
    }

    #[test]
    fn each_key_keeps_its_newest_revision_even_when_hashes_collide() {
        let entries = [
            entry("a", 1),
            entry("b", 2),
            entry("a", 3),
            entry("c", 4),
            entry("b", 5),
            entry("a", 6),
        ];
        let hasher = RandomState::default();
        assert_eq!(newest(&entries, |k| hasher.hash_one(k)), [4, 5, 6]);
        // Every key with the same hash: still one newest entry per key.
        assert_eq!(newest(&entries, |_| 7), [4, 5, 6]);
        // Two of three keys collide.
        assert_eq!(newest(&entries, |k| u64::from(k != b"c")), [4, 5, 6]);
    }
}
