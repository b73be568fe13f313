//! The check of a restore's input, run while the new db is written: the sha256 trailer, bbolt's
//! and etcd's structure ([`verify_structure`]), and the decoding of every Kubernetes value the
//! restored db holds ([`verify_values_in`]). The value check, the longest, is cut into chunks of
//! revisions that each thread takes from once its own work is done, so both cores stay busy to
//! the end instead of one waiting for the other's longest job. Chunks taken while the writer
//! still writes are decoded in the input; the rest, once the input is unmapped, in the new db,
//! which holds the same bytes at the same revisions, beside its own structural check
//! (`docs/format-restore.md#flags-and-checks`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use revkeeper_formats::bbolt::Db;
use revkeeper_formats::etcd::revision::Revision;

use super::RestoreRequest;
use crate::snapshot::verify::{
    Problem, Revisions, SHA256, Trailer, ValueCheck, verify_structure, verify_values_in,
};
use crate::source::SnapshotSource;
use crate::{Error, Result};

/// Revisions per chunk of a pre-compacted restore's values (a few milliseconds of decoding).
const KEPT_PER_CHUNK: usize = 2048;
/// Chunks the whole `key` bucket is cut into when every revision is kept.
const RANGE_CHUNKS: i64 = 256;

/// Which values are decoded, once the writer knows.
enum Work {
    /// Every revision of the snapshot (a restore that keeps them all), in ranges of `step` main
    /// revisions up to `latest` (delta events a point-in-time restore writes above it are not
    /// the snapshot's).
    Every { step: i64, latest: i64 },
    /// Only the revisions a pre-compacted restore writes (ascending).
    Kept(Vec<Revision>),
}

impl Work {
    fn chunks(&self) -> usize {
        match self {
            Work::Every { .. } => RANGE_CHUNKS as usize,
            Work::Kept(kept) => kept.len().div_ceil(KEPT_PER_CHUNK),
        }
    }

    fn chunk(&self, i: usize) -> Revisions<'_> {
        match self {
            Work::Every { step, latest } => {
                let at = |i: i64| Revision {
                    main: step.saturating_mul(i).saturating_add(1),
                    sub: 0,
                };
                let i = i as i64;
                // Nothing above the snapshot's newest revision: delta events are not its own.
                let end = Revision {
                    main: latest.saturating_add(1),
                    sub: 0,
                };
                Revisions {
                    // The first chunk starts at the first entry, the last one runs to `end`.
                    from: if i == 0 { Revision::default() } else { at(i) },
                    until: Some(if i + 1 < RANGE_CHUNKS {
                        at(i + 1).min(end)
                    } else {
                        end
                    }),
                    only: None,
                }
            }
            Work::Kept(kept) => {
                let part = &kept[i * KEPT_PER_CHUNK..((i + 1) * KEPT_PER_CHUNK).min(kept.len())];
                Revisions {
                    from: part[0],
                    until: None,
                    only: Some(part),
                }
            }
        }
    }
}

pub(super) struct InputCheck {
    /// The input's path as shown in errors.
    file: String,
    /// The input's newest main revision.
    latest: i64,
    skip_hash_check: bool,
    values: ValueCheck,
    work: Mutex<Option<Arc<Work>>>,
    published: Condvar,
    next_chunk: AtomicUsize,
    /// Set once the new db is written: no more chunks are taken from the input.
    writer_done: AtomicBool,
    /// Problems found by chunk number, so they are reported in revision order.
    found: Mutex<Vec<(usize, Vec<Problem>)>>,
    /// The trailer's verdict and the structural problems, from [`InputCheck::hash_and_structure`].
    structure: Mutex<Option<(bool, Vec<Problem>)>>,
}

impl InputCheck {
    pub fn new(source: &SnapshotSource, req: &RestoreRequest) -> InputCheck {
        InputCheck {
            file: source.path().display().to_string(),
            latest: super::db::latest_revision(source)
                .map(|r| r.main)
                .unwrap_or(0),
            skip_hash_check: req.skip_hash_check,
            values: ValueCheck::default(),
            work: Mutex::new(None),
            published: Condvar::new(),
            next_chunk: AtomicUsize::new(0),
            writer_done: AtomicBool::new(false),
            found: Mutex::new(Vec::new()),
            structure: Mutex::new(None),
        }
    }

    /// The values to decode are those of every revision (unless already told otherwise).
    pub fn check_every_value(&self) {
        let latest = self.latest;
        self.publish(Work::Every {
            step: latest.max(1) / RANGE_CHUNKS + 1,
            latest,
        });
    }

    /// The values to decode are those of `kept`: the only revisions a pre-compacted restore
    /// writes; a damaged value it drops never reaches the new cluster
    /// (`docs/format-restore.md#flags-and-checks`).
    pub fn check_kept_values(&self, kept: &[Revision]) {
        self.publish(Work::Kept(kept.to_vec()));
    }

    fn publish(&self, work: Work) {
        let mut slot = self.work.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(Arc::new(work));
            self.published.notify_all();
        }
    }

    /// The sha256 trailer (unless --skip-hash-check), bbolt's structure and etcd's buckets.
    pub fn hash_and_structure(&self, db: &Db) {
        let hash_ok = self.skip_hash_check || db.verify_sha256() != Some(false);
        let problems = verify_structure(db);
        *self.structure.lock().unwrap_or_else(|e| e.into_inner()) = Some((hash_ok, problems));
    }

    /// The writer is done: [`InputCheck::help_with_values_in_input`] takes no more chunks.
    pub fn writer_done(&self) {
        self.writer_done.store(true, Ordering::Release);
    }

    /// Whether the trailer and the structure passed (`None` until they have run).
    pub fn structure_sound(&self) -> Option<bool> {
        let structure = self.structure.lock().unwrap_or_else(|e| e.into_inner());
        structure
            .as_ref()
            .map(|(hash_ok, problems)| *hash_ok && problems.is_empty())
    }

    /// Decodes chunks of values in the input `db` while the writer writes; waits until the
    /// values are known.
    pub fn help_with_values_in_input(&self, db: &Db) {
        self.help_with_values(db, Some(&self.writer_done));
    }

    /// Decodes chunks of values in `db` (the input, or the new db holding the same entries)
    /// until none is left, or until `stop` is set; waits until the values are known.
    pub fn help_with_values(&self, db: &Db, stop: Option<&AtomicBool>) {
        let work = {
            let mut slot = self.work.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                match &*slot {
                    Some(w) => break Arc::clone(w),
                    None => slot = self.published.wait(slot).unwrap_or_else(|e| e.into_inner()),
                }
            }
        };
        loop {
            if stop.is_some_and(|s| s.load(Ordering::Acquire)) {
                return;
            }
            let i = self.next_chunk.fetch_add(1, Ordering::Relaxed);
            if i >= work.chunks() {
                return;
            }
            let problems = verify_values_in(db, &self.values, &work.chunk(i));
            if !problems.is_empty() {
                self.found
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((i, problems));
            }
        }
    }

    /// The verdict once every part has run: refuses any input `snapshot verify` rejects, the
    /// value check limited to what is restored.
    pub fn verdict(&self) -> Result<()> {
        let file = &self.file;
        let (hash_ok, mut problems) = self
            .structure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| Error::general("the check of the snapshot stopped unexpectedly"))?;
        if !hash_ok {
            return Err(Error::invalid(format!(
                "snapshot {file}: sha256 trailer does not match its contents; the file is damaged (use another snapshot)"
            )));
        }
        let mut found = std::mem::take(&mut *self.found.lock().unwrap_or_else(|e| e.into_inner()));
        found.sort_unstable_by_key(|(i, _)| *i);
        problems.extend(found.into_iter().flat_map(|(_, p)| p));
        match problems.first() {
            None => Ok(()),
            Some(p) => Err(Error::invalid(format!(
                "snapshot {file} failed verification ({}: {}; {} problem(s) in all); nothing was written: run `revkeeper snapshot verify {file}` for the list, and restore from another snapshot",
                p.location,
                p.message,
                problems.len()
            ))),
        }
    }
}

/// Refuses at once, before anything is written, an input whose end is not a whole sha256
/// trailer (etcdutl's `len % 512 == 32`), unless --skip-hash-check.
pub(super) fn check_trailer_present(source: &SnapshotSource, req: &RestoreRequest) -> Result<()> {
    let db = source.db();
    let file = source.path().display();
    if req.skip_hash_check {
        return Ok(());
    }
    if let Some(why) = db.stray_tail().and(Trailer::Truncated.problem(db)) {
        return Err(Error::invalid(format!(
            "snapshot {file} failed verification ({SHA256}: {why}); nothing was written: run `revkeeper snapshot verify {file}` for the list, and restore from another snapshot"
        )));
    }
    if db.sha256_trailer().is_none() {
        return Err(Error::invalid(format!(
            "snapshot {file} has no sha256 trailer (a raw member/snap/db?); pass --skip-hash-check to restore it anyway"
        )));
    }
    Ok(())
}
