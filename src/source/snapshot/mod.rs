//! A snapshot file (`.db`, or `.db.zst` decompressed to a private temp file) as a [`Source`].
//!
//! etcd's `key` bucket is ordered by revision, not by key: the latest state of a key is its
//! newest revision, so every query walks that bucket ([`latest`]), borrowing from the memory
//! map, so nothing is copied until the answer.

mod latest;

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use revkeeper_formats::bbolt::{Bucket, Db};
use revkeeper_formats::etcd::alarm::AlarmMember;
use revkeeper_formats::etcd::bucket as buckets;
use revkeeper_formats::etcd::kv_ref::KeyValueRef;
use revkeeper_formats::etcd::lease::Lease;
use revkeeper_formats::etcd::members::Member;
use revkeeper_formats::etcd::meta::MetaInfo;
use revkeeper_formats::etcd::revision::{Revision, RevisionKey};

use super::open::{OpenOptions, needs_unpacking, unpack};
use super::{
    AlarmRecord, ChangeView, KeyRange, KeyView, LeaseRecord, MemberRecord, Overview, RangeQuery,
    Source,
};
use crate::snapshot::verify::Trailer;
use crate::{Error, Result, log};

pub struct SnapshotSource {
    path: PathBuf,
    db: Db,
    /// etcd's `dbSizeInUse`: counting the free pages walks the whole tree, and the file does not
    /// change, so it is counted once.
    in_use: OnceLock<u64>,
}

impl SnapshotSource {
    /// Opens `path`, a regular file; a zstd-compressed snapshot is first streamed into a temp
    /// file in `$TMPDIR` that has no name (unlinked from the start), so no signal, crash or
    /// SIGKILL can leave the decompressed data behind. An encrypted one needs
    /// [`SnapshotSource::open_with`] and identities.
    pub fn open(path: &Path) -> Result<SnapshotSource> {
        SnapshotSource::open_with(path, &OpenOptions::default())
    }

    /// [`SnapshotSource::open`], decrypting an age-encrypted file with `opts.identities`.
    pub fn open_with(path: &Path, opts: &OpenOptions) -> Result<SnapshotSource> {
        let mut file = open_regular(path)?;
        let mut head = [0u8; 64];
        let n = read_up_to(&mut file, &mut head)
            .map_err(|e| Error::io("cannot read snapshot", path, e))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io("cannot read snapshot", path, e))?;
        let shown = path.display().to_string();
        if needs_unpacking(&head[..n]) {
            let plain = unpack(Box::new(file), &shown, opts)?;
            return SnapshotSource::from_file(&plain, &shown);
        }
        SnapshotSource::from_file(&file, &shown)
    }

    /// A readable db file; `shown` names the snapshot in messages.
    pub(crate) fn from_file(file: &std::fs::File, shown: &str) -> Result<SnapshotSource> {
        let path = PathBuf::from(shown);
        Ok(SnapshotSource {
            db: open_db(file, &path)?,
            path,
            in_use: OnceLock::new(),
        })
    }

    /// One warning on stderr when the file's bytes cannot be proven intact (its sha256 trailer
    /// does not match, is absent or is cut), for commands that read on anyway.
    pub fn warn_if_unproven(&self) {
        if let Some(warning) = self.unproven_warning() {
            log::warn(&warning, &[]);
        }
    }

    /// The warning of [`SnapshotSource::warn_if_unproven`], `None` for an intact file. It hashes
    /// the whole file (seconds on a large snapshot), so a streaming reader may run it on another
    /// thread while it decodes, and print its verdict before its first line.
    pub fn unproven_warning(&self) -> Option<String> {
        let db = self.db();
        let why = Trailer::of(db).problem(db)?;
        Some(format!(
            "snapshot {}: {why}; what is read from it may be wrong — run `revkeeper snapshot verify {}`, or read another snapshot",
            self.path.display(),
            self.path.display()
        ))
    }

    /// A snapshot held in memory (the sample bundled into the binary); `shown_as` names it in
    /// messages and descriptions.
    pub fn from_bytes(bytes: Vec<u8>, shown_as: &str) -> Result<SnapshotSource> {
        let db = Db::from_bytes(bytes).map_err(|e| {
            Error::invalid(format!("{shown_as} is not a readable etcd snapshot: {e}"))
        })?;
        Ok(SnapshotSource {
            path: PathBuf::from(shown_as),
            db,
            in_use: OnceLock::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The bbolt database inside the snapshot.
    pub fn db(&self) -> &Db {
        &self.db
    }

    fn bucket(&self, name: &[u8]) -> Result<Option<Bucket<'_>>> {
        self.db.bucket(name).map_err(|e| self.corrupt(e))
    }

    fn corrupt(&self, e: impl std::fmt::Display) -> Error {
        Error::invalid(format!(
            "snapshot {} is damaged: {e}; run `revkeeper snapshot verify {}` for details",
            self.path.display(),
            self.path.display()
        ))
    }

    /// The `meta` bucket, decoded.
    pub fn meta_info(&self) -> Result<MetaInfo> {
        let Some(meta) = self.bucket(buckets::META)? else {
            return Ok(MetaInfo::default());
        };
        let mut entries = Vec::new();
        for e in meta.iter() {
            let e = e.map_err(|e| self.corrupt(e))?;
            entries.push((e.key, e.value));
        }
        MetaInfo::from_entries(entries).map_err(|e| self.corrupt(e))
    }

    /// The highest revision in the `key` bucket (0 when empty): its last key.
    pub fn revision(&self) -> Result<i64> {
        let Some(keys) = self.bucket(buckets::KEY)? else {
            return Ok(0);
        };
        match keys.last().map_err(|e| self.corrupt(e))? {
            None => Ok(0),
            Some(e) => Ok(RevisionKey::parse(e.key)
                .map_err(|e| self.corrupt(e))?
                .rev
                .main),
        }
    }

    /// Revisions at or below this were compacted (etcd resumes a scheduled compaction on start).
    pub fn compact_revision(&self) -> Result<i64> {
        let m = self.meta_info()?;
        Ok(m.finished_compact_rev
            .unwrap_or(0)
            .max(m.scheduled_compact_rev.unwrap_or(0)))
    }

    /// Calls `f` with every entry of the `key` bucket up to `max_revision`, in revision order.
    fn scan_revisions<'a>(
        &'a self,
        max_revision: i64,
        mut f: impl FnMut(RevisionKey, KeyValueRef<'a>),
    ) -> Result<()> {
        self.walk_revisions(None, None, max_revision, |rk, _, kv| f(rk, kv))
    }

    /// Calls `f` with every entry of the `key` bucket from revision `from` (the first when
    /// `None`) to below `until` and up to `max_revision`, in revision order, with its stored
    /// `KeyValue` bytes and their parse.
    fn walk_revisions<'a>(
        &'a self,
        from: Option<Revision>,
        until: Option<Revision>,
        max_revision: i64,
        mut f: impl FnMut(RevisionKey, &'a [u8], KeyValueRef<'a>),
    ) -> Result<()> {
        let Some(keys) = self.bucket(buckets::KEY)? else {
            return Ok(());
        };
        let entries = match from {
            Some(rev) => keys.iter_from(&rev.to_bytes()),
            None => keys.iter(),
        };
        for e in entries {
            let e = e.map_err(|e| self.corrupt(e))?;
            let rk = self.revision_key(e.key)?;
            if rk.rev.main > max_revision || until.is_some_and(|u| rk.rev >= u) {
                break;
            }
            if from.is_some_and(|f| rk.rev < f) {
                return Err(self.corrupt(format!(
                    "key bucket, revision {}/{} is out of order",
                    rk.rev.main, rk.rev.sub
                )));
            }
            // The key of a damaged entry is unknown, so no key's answer could be trusted: stop.
            if e.is_bucket {
                return Err(self.corrupt(format!(
                    "key bucket, revision {}/{} is a sub-bucket where a key revision belongs",
                    rk.rev.main, rk.rev.sub
                )));
            }
            let kv = self.key_value(rk.rev.main, e.value)?;
            f(rk, e.value, kv);
        }
        Ok(())
    }

    fn description(&self) -> String {
        format!("snapshot {}", self.path.display())
    }

    /// A `key` bucket entry's key, or the error naming it.
    fn revision_key(&self, key: &[u8]) -> Result<RevisionKey> {
        RevisionKey::parse(key)
            .map_err(|err| self.corrupt(format!("key bucket entry {}: {err}", hex::encode(key))))
    }

    /// The `KeyValue` stored at `revision`, or the error naming it.
    fn key_value<'a>(&self, revision: i64, stored: &'a [u8]) -> Result<KeyValueRef<'a>> {
        KeyValueRef::parse(stored).map_err(|err| {
            self.corrupt(format!(
                "revision {revision}: value is not a KeyValue: {err}"
            ))
        })
    }

    /// The bytes of the file's pages in use (etcd's `dbSizeInUse`), counted once.
    fn in_use_size(&self) -> Result<u64> {
        if let Some(&size) = self.in_use.get() {
            return Ok(size);
        }
        let size = self.db.in_use_size().map_err(|e| self.corrupt(e))?;
        Ok(*self.in_use.get_or_init(|| size))
    }

    /// The first and last revision in the `key` bucket, `None` when it is empty.
    fn revision_span(&self) -> Result<Option<(i64, i64)>> {
        let Some(keys) = self.bucket(buckets::KEY)? else {
            return Ok(None);
        };
        let first = keys
            .iter()
            .next()
            .transpose()
            .map_err(|e| self.corrupt(e))?;
        let (Some(first), Some(last)) = (first, keys.last().map_err(|e| self.corrupt(e))?) else {
            return Ok(None);
        };
        let main = |key: &[u8]| Ok(self.revision_key(key)?.rev.main);
        Ok(Some((main(first.key)?, main(last.key)?)))
    }

    /// `key` as it was written at `revision` (its mod_revision, e.g. from an index built by a
    /// scan), found with one seek of the revision-ordered `key` bucket instead of a scan;
    /// `None` when `key` was not put at that revision.
    pub fn written_at(&self, key: &[u8], revision: i64) -> Result<Option<KeyView<'_>>> {
        let Some(keys) = self.bucket(buckets::KEY)? else {
            return Ok(None);
        };
        for e in keys.iter_from(&Revision::new(revision, 0).to_bytes()) {
            let e = e.map_err(|e| self.corrupt(e))?;
            let rk = self.revision_key(e.key)?;
            if rk.rev.main != revision {
                break;
            }
            if rk.tombstone || e.is_bucket {
                continue;
            }
            let kv = self.key_value(revision, e.value)?;
            if kv.key == key {
                return Ok(Some(view(kv, false)));
            }
        }
        Ok(None)
    }

    /// [`Source::scan`], with views borrowed from the memory map for as long as `self` lives.
    fn scan_latest<'s>(
        &'s self,
        query: &RangeQuery,
        f: &mut dyn FnMut(KeyView<'s>) -> Result<()>,
    ) -> Result<()> {
        let max_revision = self.query_revision(query)?;
        self.latest(&query.range, max_revision, |kv| {
            f(view(kv, query.keys_only))
        })
    }

    /// [`Source::scan`] with the walk of the revisions split at `starts` (ascending), for tests
    /// that any split gives the single walk's answer.
    #[doc(hidden)]
    pub fn scan_split_at(
        &self,
        query: &RangeQuery,
        starts: &[Revision],
        f: &mut dyn FnMut(KeyView<'_>) -> Result<()>,
    ) -> Result<()> {
        let max_revision = self.query_revision(query)?;
        self.latest_in_parts(&query.range, max_revision, starts, |kv| {
            f(view(kv, query.keys_only))
        })
    }

    /// The highest revision `query` reads, after checking it is in the snapshot.
    fn query_revision(&self, query: &RangeQuery) -> Result<i64> {
        match query.revision {
            Some(r) => {
                self.check_revision(r)?;
                Ok(r)
            }
            None => Ok(i64::MAX),
        }
    }

    fn check_revision(&self, rev: i64) -> Result<()> {
        let (current, compacted) = (self.revision()?, self.compact_revision()?);
        if rev > current {
            return Err(Error::invalid(format!(
                "revision {rev} is in the future of snapshot {} (its revision is {current})",
                self.path.display()
            )));
        }
        if rev < compacted {
            return Err(Error::invalid(format!(
                "revision {rev} has been compacted in snapshot {} (compact revision {compacted}); ask for {compacted} or later",
                self.path.display()
            )));
        }
        Ok(())
    }
}

impl Source for SnapshotSource {
    fn overview(&self) -> Result<Overview> {
        let mut members = Vec::new();
        if let Some(b) = self.bucket(buckets::MEMBERS)? {
            for e in b.iter() {
                let e = e.map_err(|e| self.corrupt(e))?;
                let m = Member::from_json(e.value).map_err(|err| {
                    self.corrupt(format!("member {}: {err}", String::from_utf8_lossy(e.key)))
                })?;
                members.push(MemberRecord {
                    id: m.id,
                    name: m.name,
                    peer_urls: m.peer_urls,
                    client_urls: m.client_urls,
                    is_learner: m.is_learner,
                });
            }
        }
        let mut alarms = Vec::new();
        if let Some(b) = self.bucket(buckets::ALARM)? {
            for e in b.iter() {
                let e = e.map_err(|e| self.corrupt(e))?;
                let a = AlarmMember::from_key(e.key)
                    .map_err(|err| self.corrupt(format!("alarm entry: {err}")))?;
                alarms.push(AlarmRecord {
                    member_id: a.member_id,
                    alarm: a.alarm.name(),
                });
            }
        }
        Ok(Overview {
            description: self.description(),
            revision: self.revision()?,
            compact_revision: self.compact_revision()?,
            db_size: self.db.size(),
            db_size_in_use: self.in_use_size()?,
            members,
            server_version: self.meta_info()?.storage_version,
            cluster_id: None,
            leader: None,
            alarms,
        })
    }

    fn description_and_revision(&self) -> Result<(String, i64)> {
        Ok((self.description(), self.revision()?))
    }

    fn scan(&self, query: &RangeQuery, f: &mut dyn FnMut(KeyView<'_>) -> Result<()>) -> Result<()> {
        self.scan_latest(query, f)
    }

    fn scan_lent<'s>(
        &'s self,
        query: &RangeQuery,
        f: &mut dyn FnMut(KeyView<'s>) -> Result<()>,
    ) -> Option<Result<()>> {
        Some(self.scan_latest(query, f))
    }

    fn scan_changes(
        &self,
        range: &KeyRange,
        f: &mut dyn FnMut(ChangeView<'_>) -> Result<()>,
    ) -> Result<()> {
        let mut failed = None;
        self.scan_revisions(i64::MAX, |rk, kv| {
            if failed.is_some() || kv.key.is_empty() || !range.contains(kv.key) {
                return;
            }
            let mut view = view(kv, false);
            if rk.tombstone {
                view = KeyView {
                    key: kv.key,
                    create_revision: 0,
                    mod_revision: 0,
                    version: 0,
                    value: &[],
                    lease: 0,
                };
            }
            let change = ChangeView {
                revision: rk.rev.main,
                deleted: rk.tombstone,
                kv: view,
            };
            if let Err(e) = f(change) {
                failed = Some(e);
            }
        })?;
        failed.map_or(Ok(()), Err)
    }

    fn leases(&self) -> Result<Vec<LeaseRecord>> {
        let Some(b) = self.bucket(buckets::LEASE)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for e in b.iter() {
            let e = e.map_err(|e| self.corrupt(e))?;
            let l = Lease::decode_value(e.value)
                .map_err(|err| self.corrupt(format!("lease {}: {err}", hex::encode(e.key))))?;
            out.push(LeaseRecord {
                id: l.id,
                ttl: l.ttl,
                remaining_ttl: None,
            });
        }
        Ok(out)
    }
}

fn view(kv: KeyValueRef<'_>, keys_only: bool) -> KeyView<'_> {
    KeyView {
        key: kv.key,
        create_revision: kv.create_revision,
        mod_revision: kv.mod_revision,
        version: kv.version,
        value: if keys_only { &[] } else { kv.value },
        lease: kv.lease,
    }
}

/// Opens `path` without blocking on a FIFO, and refuses anything but a regular file: a pipe
/// (`<(…)`, a FIFO) would block or read as empty, and cannot be mapped.
fn open_regular(path: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::io("cannot open snapshot", path, e))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io("cannot read snapshot", path, e))?;
    if !meta.is_file() {
        return Err(Error::invalid(format!(
            "snapshot {} is not a regular file (a pipe, device or directory); save it to a file first",
            path.display()
        )));
    }
    Ok(file)
}

fn open_db(file: &std::fs::File, shown_as: &Path) -> Result<Db> {
    Db::open_file(file, shown_as).map_err(|e| {
        Error::invalid(format!(
            "{} is not a readable etcd snapshot: {e}",
            shown_as.display()
        ))
    })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
