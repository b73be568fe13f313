//! Writes the restored db: every bucket of the snapshot copied in order into a fresh, compact
//! bbolt file, with the membership replaced, the consistent index reset, and — with a bump —
//! only the newest revision of each live key ([`compacted`]), one empty marker at
//! `latest + bump`, and `scheduledCompactRev` and `finishedCompactRev` set to it
//! (`docs/format-restore.md#the-db`, `#the-bump-marker`, `#pre-compacted-key-bucket`).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use revkeeper_formats::bbolt::writer::{DbWriter, WriterOptions};
use revkeeper_formats::etcd::bucket as buckets;
use revkeeper_formats::etcd::meta::CONSISTENT_INDEX_KEY;
use revkeeper_formats::etcd::revision::{Revision, RevisionKey};

use super::compacted;
use super::plan::RestorePlan;
use super::point::{self, Deltas};
use super::writeback::WritebackFile;
use crate::source::SnapshotSource;
use crate::{Error, Result};

pub struct Written {
    /// The db, written but not synced: the caller syncs it (a restore on a thread of its own,
    /// while its cores are busy checking the input).
    pub file: std::fs::File,
    pub snapshot_revision: i64,
    pub revision: i64,
    pub compact_revision: i64,
    pub live_keys: usize,
}

/// Where the bump puts the revision: `latest + bump`, or nothing without a bump.
fn bump(plan: Option<&RestorePlan>, latest: Revision) -> Result<Option<Revision>> {
    let Some(plan) = plan else {
        return Ok(None);
    };
    match plan.bump {
        0 => Ok(None),
        n => {
            let main = i64::try_from(n)
                .ok()
                .and_then(|n| latest.main.checked_add(n))
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "--bump-revision {n} overflows the revision {}",
                        latest.main
                    ))
                })?;
            Ok(Some(Revision { main, sub: 0 }))
        }
    }
}

/// Writes the restored db; with `deltas`, the segments after the snapshot are applied up to
/// their target (a point-in-time restore). Without a `plan` (`backup compact`), the membership
/// and meta of the snapshot are kept as they are and nothing is bumped: the result is the
/// snapshot the source would have given at the target. A pre-compacted `key` bucket tells
/// `kept_revisions` which of the snapshot's revisions it keeps before it writes them.
pub fn write_restored_db(
    source: &SnapshotSource,
    plan: Option<&RestorePlan>,
    path: &Path,
    deltas: Option<&Deltas>,
    kept_revisions: &mut dyn FnMut(&[Revision]),
) -> Result<Written> {
    let db = source.db();
    let corrupt = |e: &dyn std::fmt::Display| {
        Error::invalid(format!("snapshot {}: {e}", source.path().display()))
    };
    let snapshot_latest = latest_revision(source)?;
    let mut latest = snapshot_latest;
    let mut bumped = bump(plan, latest)?;
    let mut applied = None;

    let mut names: Vec<Vec<u8>> = Vec::new();
    for e in db.root().iter() {
        let e = e.map_err(|e| corrupt(&e))?;
        if !e.is_bucket {
            // etcd keeps every key in a bucket; copying buckets only would drop this one.
            return Err(corrupt(&format!(
                "the root holds a plain key {:?} (etcd writes only buckets there)",
                String::from_utf8_lossy(e.key)
            )));
        }
        names.push(e.key.to_vec());
    }
    let mut required = match plan {
        Some(_) => vec![buckets::MEMBERS, buckets::MEMBERS_REMOVED, buckets::CLUSTER],
        None => Vec::new(),
    };
    if deltas.is_some() {
        required.push(buckets::LEASE);
    }
    for required in required {
        if !names.iter().any(|n| n == required) {
            names.push(required.to_vec());
        }
    }
    names.sort();

    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io("cannot create", path, e))?;
    let opts = WriterOptions {
        page_size: db.page_size() as u32,
        freelist_page: true,
        txid: 2,
    };
    let io = |e: std::io::Error| Error::general(format!("writing {}: {e}", path.display()));
    let mut w = DbWriter::new(WritebackFile::new(file), opts).map_err(io)?;
    // Live key → its lease, as of the revision written last.
    // Keys of the snapshot are borrowed from its mapping; only keys of delta events are copied.
    let mut live_keys: HashMap<Cow<'_, [u8]>, i64> = HashMap::new();
    // Set by a pre-compacted `key` bucket, which keeps no `live_keys`.
    let mut precompacted: Option<compacted::Written> = None;
    for name in &names {
        w.begin_bucket(name).map_err(io)?;
        let source_bucket = db.bucket(name).map_err(|e| corrupt(&e))?;
        let shown = String::from_utf8_lossy(name).into_owned();
        let entries = source_bucket.iter().flat_map(|b| b.iter()).map(|e| {
            e.map_err(|e| e.to_string()).and_then(|e| {
                if e.is_bucket {
                    Err(format!(
                        "bucket {shown} holds a nested bucket {:?} (etcd's buckets are flat)",
                        String::from_utf8_lossy(e.key)
                    ))
                } else {
                    Ok(e)
                }
            })
        });
        match name.as_slice() {
            buckets::MEMBERS if plan.is_some() => {
                for (k, v) in plan.expect("guarded").members_bucket() {
                    w.put(&k, &v).map_err(io)?;
                }
            }
            buckets::MEMBERS_REMOVED if plan.is_some() => {}
            buckets::LEASE if applied.is_some() => {
                let mut base = BTreeMap::new();
                for e in entries {
                    let e = e.map_err(|e| corrupt(&e))?;
                    if let Ok(l) = revkeeper_formats::etcd::lease::Lease::decode_value(e.value) {
                        base.insert(l.id, l.ttl);
                    }
                }
                let a = applied.as_ref().expect("guarded");
                let live_leases: Vec<i64> = match &precompacted {
                    Some(c) => c.live_leases.clone(),
                    None => live_keys.values().copied().collect(),
                };
                for (k, v) in point::lease_bucket(&base, a, live_leases) {
                    w.put(&k, &v).map_err(io)?;
                }
            }
            buckets::META => {
                let mut meta: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
                for e in entries {
                    let e = e.map_err(|e| corrupt(&e))?;
                    meta.insert(e.key.to_vec(), e.value.to_vec());
                }
                for (k, v) in plan.map(|p| p.meta_overrides(bumped)).unwrap_or_default() {
                    meta.insert(k, v);
                }
                if plan.is_none() && applied.as_ref().is_some_and(|a| a.events > 0) {
                    // A compacted snapshot holds writes; etcd 3.4 saves the consistent index with
                    // the first one, so a base that never had one gets 0 (a restore replaces it).
                    meta.entry(CONSISTENT_INDEX_KEY.to_vec())
                        .or_insert_with(|| 0u64.to_be_bytes().to_vec());
                }
                for (k, v) in &meta {
                    w.put(k, v).map_err(io)?;
                }
            }
            buckets::KEY if bumped.is_some() => {
                let bucket = source_bucket
                    .as_ref()
                    .ok_or_else(|| corrupt(&"the key bucket vanished"))?;
                let mut put = |k: &[u8], v: &[u8]| w.put(k, v).map_err(io);
                let mut c = compacted::write_newest(
                    bucket,
                    snapshot_latest.main,
                    deltas,
                    kept_revisions,
                    &mut put,
                    &corrupt,
                )?;
                if let Some(last) = c.last {
                    latest = latest.max(last);
                    bumped = bump(plan, latest)?;
                }
                let b = bumped.expect("guarded");
                // An empty value: etcd indexes it as the unreachable key ""
                // (`docs/format-restore.md#starting-a-restored-member`).
                w.put(&b.to_bytes(), b"").map_err(io)?;
                applied = c.applied.take();
                precompacted = Some(c);
            }
            buckets::KEY => {
                for e in entries {
                    let e = e.map_err(|e| corrupt(&e))?;
                    if let Ok(rk) = RevisionKey::parse(e.key)
                        && let Ok(kv) = revkeeper_formats::etcd::kv_ref::KeyValueRef::parse(e.value)
                        && !kv.key.is_empty()
                    {
                        if rk.tombstone {
                            live_keys.remove(kv.key);
                        } else {
                            live_keys.insert(Cow::Borrowed(kv.key), kv.lease);
                        }
                    }
                    w.put(e.key, e.value).map_err(io)?;
                }
                if let Some(d) = deltas {
                    let mut put = |k: &[u8], v: &[u8]| w.put(k, v).map_err(io);
                    let a = d.apply(snapshot_latest.main, &mut live_keys, &mut put)?;
                    if let Some(last) = a.last {
                        latest = last;
                        bumped = bump(plan, latest)?;
                    }
                    applied = Some(a);
                }
                if let Some(b) = bumped {
                    // An empty value: etcd indexes it as the unreachable key ""
                    // (`docs/format-restore.md#starting-a-restored-member`).
                    w.put(&b.to_bytes(), b"").map_err(io)?;
                }
            }
            _ => {
                for e in entries {
                    let e = e.map_err(|e| corrupt(&e))?;
                    w.put(e.key, e.value).map_err(io)?;
                }
            }
        }
    }
    let out = w.finish().map_err(io)?;
    let file = out.into_inner();
    Ok(Written {
        file,
        snapshot_revision: snapshot_latest.main,
        revision: bumped.map(|b| b.main).unwrap_or(latest.main),
        compact_revision: bumped.map(|b| b.main).unwrap_or(0),
        live_keys: precompacted.map_or(live_keys.len(), |c| c.live_keys),
    })
}

/// The greatest (main, sub) in the `key` bucket — its last key, since revision keys are
/// big-endian; (0, 0) when it is empty.
pub fn latest_revision(source: &SnapshotSource) -> Result<Revision> {
    let damaged = |e: &dyn std::fmt::Display| {
        Error::invalid(format!("snapshot {}: {e}", source.path().display()))
    };
    let Some(keys) = source.db().bucket(buckets::KEY).map_err(|e| damaged(&e))? else {
        return Ok(Revision { main: 0, sub: 0 });
    };
    match keys.last().map_err(|e| damaged(&e))? {
        None => Ok(Revision { main: 0, sub: 0 }),
        Some(e) => Ok(RevisionKey::parse(e.key).map_err(|err| damaged(&err))?.rev),
    }
}

use std::os::unix::fs::OpenOptionsExt;
