//! Where etcd data comes from: a live cluster or a snapshot file, behind one interface, so every
//! command and view is written once and works on both the same way.

mod key_range;
pub mod live;
pub mod open;
pub mod snapshot;

pub use key_range::KeyRange;
pub use live::LiveSource;
pub use snapshot::SnapshotSource;

use std::time::Duration;

use serde::Serialize;

use crate::Result;

/// One key as etcd stores it (the latest state, or the state at a requested revision).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyRecord {
    pub key: Vec<u8>,
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    /// Empty when the caller asked for keys only.
    pub value: Vec<u8>,
    pub lease: i64,
}

/// One change of one key: a put (with the value it wrote) or a delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyChange {
    pub revision: i64,
    pub deleted: bool,
    /// For a delete: the key only, every other field zero.
    pub record: KeyRecord,
}

/// One key borrowed from the source during a [`Source::scan`]: nothing is copied, so a scan of
/// millions of keys holds one value at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyView<'a> {
    pub key: &'a [u8],
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    /// Empty when the caller asked for keys only.
    pub value: &'a [u8],
    pub lease: i64,
}

impl KeyView<'_> {
    pub fn to_record(&self) -> KeyRecord {
        KeyRecord {
            key: self.key.to_vec(),
            create_revision: self.create_revision,
            mod_revision: self.mod_revision,
            version: self.version,
            value: self.value.to_vec(),
            lease: self.lease,
        }
    }
}

impl KeyRecord {
    pub fn view(&self) -> KeyView<'_> {
        KeyView {
            key: &self.key,
            create_revision: self.create_revision,
            mod_revision: self.mod_revision,
            version: self.version,
            value: &self.value,
            lease: self.lease,
        }
    }
}

/// One kept change of one key during a [`Source::scan_changes`], borrowed like [`KeyView`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeView<'a> {
    pub revision: i64,
    pub deleted: bool,
    /// For a delete: the key, an empty value and zero revisions.
    pub kv: KeyView<'a>,
}

/// An etcd lease (not a Kubernetes `Lease` object).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LeaseRecord {
    pub id: i64,
    /// Granted TTL in seconds.
    pub ttl: i64,
    /// Seconds left: live clusters only (a snapshot keeps only checkpointed values).
    pub remaining_ttl: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberRecord {
    pub id: u64,
    pub name: String,
    pub peer_urls: Vec<String>,
    pub client_urls: Vec<String>,
    pub is_learner: bool,
}

/// An active etcd alarm: which member raised it, and what it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AlarmRecord {
    pub member_id: u64,
    /// etcd's name (`NOSPACE`, `CORRUPT`), or the number of a type this version does not know.
    pub alarm: String,
}

impl std::fmt::Display for AlarmRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on member {:x}", self.alarm, self.member_id)
    }
}

/// Facts about the whole source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Overview {
    /// "snapshot FILE" or "cluster via ENDPOINT".
    pub description: String,
    pub revision: i64,
    /// Revisions at or below this are gone (0 when never compacted).
    pub compact_revision: i64,
    pub db_size: u64,
    pub db_size_in_use: u64,
    pub members: Vec<MemberRecord>,
    /// Live clusters: the server version of the member answering.
    pub server_version: Option<String>,
    pub cluster_id: Option<u64>,
    /// Live clusters: the member id of the raft leader (`None` for a snapshot).
    pub leader: Option<u64>,
    /// Active alarms: a live cluster's alarm list, or a snapshot's `alarm` bucket.
    pub alarms: Vec<AlarmRecord>,
}

/// What to read: a key range at a revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeQuery {
    pub range: KeyRange,
    /// `None`: the latest revision.
    pub revision: Option<i64>,
    pub keys_only: bool,
}

impl RangeQuery {
    /// The latest state of `range`, with values.
    pub fn latest(range: KeyRange) -> RangeQuery {
        RangeQuery {
            range,
            revision: None,
            keys_only: false,
        }
    }
}

/// Read access to etcd data. Implemented for a live cluster and for a snapshot file.
pub trait Source: Send + Sync {
    fn overview(&self) -> Result<Overview>;

    /// The overview's `description` and `revision` alone, where the rest costs more (a
    /// snapshot's in-use size walks every page: seconds on a big file).
    fn description_and_revision(&self) -> Result<(String, i64)> {
        self.overview().map(|o| (o.description, o.revision))
    }

    /// Calls `f` with every key in `query.range` as of `query.revision`, sorted by key, deleted
    /// keys left out, one at a time (a live source pages; a snapshot lends from its memory map).
    /// An error from `f` stops the scan and is returned.
    fn scan(&self, query: &RangeQuery, f: &mut dyn FnMut(KeyView<'_>) -> Result<()>) -> Result<()>;

    /// [`Source::scan`] with views that live as long as the source, so they can be batched and
    /// handed to other threads without copying (a snapshot lends from its memory map); `None`
    /// when the source cannot lend them (a live source reads into pages it lets go): then use
    /// [`Source::scan`].
    fn scan_lent<'s>(
        &'s self,
        query: &RangeQuery,
        f: &mut dyn FnMut(KeyView<'s>) -> Result<()>,
    ) -> Option<Result<()>> {
        let _ = (query, f);
        None
    }

    /// Keys in `query.range` as of `query.revision`, sorted by key, deleted keys left out.
    fn range(&self, query: &RangeQuery) -> Result<Vec<KeyRecord>> {
        let mut out = Vec::new();
        self.scan(query, &mut |kv| {
            out.push(kv.to_record());
            Ok(())
        })?;
        Ok(out)
    }

    /// Every change of `key` the source still keeps (after the compact revision), oldest first.
    fn history(&self, key: &[u8]) -> Result<Vec<KeyChange>> {
        let mut out = Vec::new();
        self.scan_changes(&KeyRange::key(key), &mut |c| {
            out.push(KeyChange {
                revision: c.revision,
                deleted: c.deleted,
                record: c.kv.to_record(),
            });
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f` with every change the source keeps of every key in `range`, in revision
    /// order: a snapshot's whole `key` bucket (one pass over it, including the last state
    /// before the compaction), a live cluster's changes since its compact revision (one watch).
    fn scan_changes(
        &self,
        range: &KeyRange,
        f: &mut dyn FnMut(ChangeView<'_>) -> Result<()>,
    ) -> Result<()>;

    fn leases(&self) -> Result<Vec<LeaseRecord>>;

    /// [`Source::scan`], resting `pause` between pages so a busy member is not read flat out
    /// (a snapshot has no pages: the same as `scan`).
    fn scan_paced(
        &self,
        query: &RangeQuery,
        pause: Duration,
        f: &mut dyn FnMut(KeyView<'_>) -> Result<()>,
    ) -> Result<()> {
        let _ = pause;
        self.scan(query, f)
    }

    /// Follows every change of `range` from revision `from` on (a live cluster: one watch) until
    /// `f` returns `false`. `f` gets each response's changes (whole revisions: a response etcd
    /// split into fragments comes as one, so a caller that stops resumes at its next revision)
    /// and the revision etcd was at, and is also called about every second with no changes and
    /// revision 0, so the caller can stop a quiet watch. A quiet watch asks etcd for progress
    /// now and then, and counts a connection that stops answering as lost.
    /// A lost connection is an error (resume from the next revision); history compacted away
    /// ends the watch with [`WatchEnd::Compacted`]. A snapshot has nothing to follow.
    fn watch(
        &self,
        range: &KeyRange,
        from: i64,
        f: &mut dyn FnMut(&[ChangeView<'_>], i64) -> Result<bool>,
    ) -> Result<WatchEnd> {
        let _ = (range, from, f);
        Err(crate::Error::invalid(
            "a snapshot file does not change: there is nothing to watch",
        ))
    }
}

/// Why a [`Source::watch`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchEnd {
    /// The callback asked to stop.
    Stopped,
    /// etcd compacted the revisions the watch still had to send: re-read the range instead.
    Compacted { compact_revision: i64 },
}
