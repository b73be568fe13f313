//! Point-in-time restore: the delta segments after the base snapshot, appended to the `key`
//! bucket as new revisions while it is copied (all above the snapshot's revision, so the bbolt
//! writer keeps streaming in key order), and the lease table at the target.
//! See `docs/format-delta.md`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use prost::Message;
use revkeeper_formats::delta::{EventKind, LeaseRecord};
use revkeeper_formats::etcd::kv::KeyValue;
use revkeeper_formats::etcd::lease::{Lease, lease_key};
use revkeeper_formats::etcd::revision::{Revision, RevisionKey};

use crate::Result;
use crate::backup::chain::{self, SegmentEntry};
use crate::location::{Decryptor, Store};
use crate::log;

/// Writes one `key` bucket entry (a revision key and its value).
pub type PutEntry<'a> = dyn FnMut(&[u8], &[u8]) -> Result<()> + 'a;

/// The segments to apply on a base snapshot, up to `target`.
pub struct Deltas {
    pub store: Store,
    pub segments: Vec<SegmentEntry>,
    pub decryptor: Option<Decryptor>,
    pub target: i64,
}

/// What applying the segments found.
#[derive(Default)]
pub struct Applied {
    /// The last revision written (main and sub), if any event was.
    pub last: Option<Revision>,
    pub events: usize,
    /// Granted TTL of every lease seen in a lease table up to the target.
    ttls: BTreeMap<i64, i64>,
    /// The lease table of the last segment that ends at or before the target.
    table_at_target: Option<Vec<LeaseRecord>>,
}

impl Deltas {
    /// Puts every event after revision `after` up to the target, in order, through `put`, and
    /// keeps `live` (key → lease) as of the last revision written.
    pub fn apply(
        &self,
        after: i64,
        live: &mut HashMap<Cow<'_, [u8]>, i64>,
        put: &mut PutEntry<'_>,
    ) -> Result<Applied> {
        let mut applied = Applied::default();
        let mut done = after;
        for entry in &self.segments {
            let segment = chain::read_segment(&self.store, entry, self.decryptor.as_ref())?;
            let mut current = Revision { main: done, sub: 0 };
            let mut written_in_segment = false;
            for e in &segment.events {
                if e.mod_revision <= done || e.mod_revision > self.target {
                    continue;
                }
                let sub = if written_in_segment && e.mod_revision == current.main {
                    current.sub + 1
                } else {
                    0
                };
                current = Revision {
                    main: e.mod_revision,
                    sub,
                };
                written_in_segment = true;
                let key = RevisionKey {
                    rev: current,
                    tombstone: e.kind == EventKind::Delete,
                };
                let value = match e.kind {
                    EventKind::Put => {
                        live.insert(Cow::Owned(e.key.clone()), e.lease);
                        KeyValue {
                            key: e.key.clone(),
                            create_revision: e.create_revision,
                            mod_revision: e.mod_revision,
                            version: e.version,
                            value: e.value.clone(),
                            lease: e.lease,
                        }
                    }
                    EventKind::Delete => {
                        live.remove(e.key.as_slice());
                        KeyValue {
                            key: e.key.clone(),
                            ..KeyValue::default()
                        }
                    }
                };
                put(&key.to_bytes(), &value.encode_to_vec())?;
                applied.events += 1;
                applied.last = Some(current);
            }
            if written_in_segment {
                done = current.main;
            }
            for l in &segment.leases {
                applied.ttls.insert(l.id, l.granted_ttl);
            }
            if segment.last_revision <= self.target {
                applied.table_at_target = Some(segment.leases.clone());
                done = done.max(segment.last_revision);
            }
        }
        log::info(
            "applied delta segments",
            &[
                ("segments", serde_json::json!(self.segments.len())),
                ("events", serde_json::json!(applied.events)),
                ("to_revision", serde_json::json!(self.target)),
            ],
        );
        Ok(applied)
    }
}

/// The `lease` bucket at the target, sorted: every lease a live key is attached to, and every
/// lease of the last lease table recorded at or before the target (the base snapshot's when no
/// segment ended there). TTLs are the granted ones; etcd restarts each lease's countdown when
/// it starts, as it does for any restore.
pub fn lease_bucket(
    base: &BTreeMap<i64, i64>,
    applied: &Applied,
    live_leases: impl IntoIterator<Item = i64>,
) -> Vec<([u8; 8], Vec<u8>)> {
    let ttl_of = |id: i64| {
        applied
            .ttls
            .get(&id)
            .or_else(|| base.get(&id))
            .copied()
            .unwrap_or(0)
    };
    let mut ids: BTreeMap<i64, i64> = BTreeMap::new();
    match &applied.table_at_target {
        Some(table) => {
            for l in table {
                ids.insert(l.id, l.granted_ttl);
            }
        }
        None => ids.extend(base.iter().map(|(k, v)| (*k, *v))),
    }
    for lease in live_leases {
        if lease != 0 {
            ids.entry(lease).or_insert_with(|| ttl_of(lease));
        }
    }
    ids.into_iter()
        .map(|(id, ttl)| {
            let value = Lease {
                id,
                ttl,
                remaining_ttl: 0,
            }
            .encode_to_vec();
            (lease_key(id), value)
        })
        .collect()
}
