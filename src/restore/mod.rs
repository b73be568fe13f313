//! `snapshot restore`: a snapshot becomes the data dir of a new member, natively, with the
//! revision optionally bumped and everything up to it marked compacted, so Kubernetes watch
//! caches and informers relist instead of seeing time go backwards
//! (`docs/format-restore.md#why-bump-and-mark-compacted`).
//!
//! Everything is written into private temp dirs inside the targets ([`staging`]) and renamed
//! into place only after the new db has been re-read and verified; on any error or signal
//! nothing is left behind.

mod check;
mod compacted;
mod db;
mod plan;
mod point;
mod staging;
mod writeback;

pub use plan::{RestorePlan, RestoreRequest, WalPlace};
pub(crate) use point::Deltas;

/// `backup compact`: the db the source would have snapshotted at the target of `deltas`
/// (membership and meta kept), written to `path`; returns its revision.
pub(crate) fn write_compacted(
    source: &SnapshotSource,
    deltas: &Deltas,
    path: &Path,
) -> Result<i64> {
    let written = db::write_restored_db(source, None, path, Some(deltas), &mut |_| {})?;
    written
        .file
        .sync_all()
        .map_err(|e| Error::io("cannot sync", path, e))?;
    let check = SnapshotSource::open(path)?;
    if let Some(p) = bbolt_check(check.db()).first() {
        return Err(Error::general(format!(
            "the compacted db failed verification ({p}); nothing was written"
        )));
    }
    Ok(written.revision)
}

use std::path::{Path, PathBuf};

use check::{InputCheck, check_trailer_present};
use staging::Staging;

use serde::Serialize;

use revkeeper_formats::bbolt::check as bbolt_check;

use crate::source::SnapshotSource;
use crate::{Error, Result};

/// What a restore produced.
#[derive(Clone, Debug, Serialize)]
pub struct RestoreSummary {
    pub name: String,
    pub member_id: String,
    pub cluster_id: String,
    pub data_dir: PathBuf,
    pub wal_dir: PathBuf,
    /// The snapshot's own newest revision.
    pub snapshot_revision: i64,
    /// The revision the new member starts at (= snapshot revision + bump).
    pub revision: i64,
    /// Revisions at or below this answer "compacted" (0 without --mark-compacted).
    pub compact_revision: i64,
    pub keys: usize,
}

pub fn restore(req: &RestoreRequest) -> Result<RestoreSummary> {
    let plan = RestorePlan::new(req)?;
    let (source, deltas) = open_input(req)?;
    check_trailer_present(&source, req)?;
    populate(source.db().data());

    let data = Staging::new(&plan.data_dir)?;
    let member_dir = data.path().join("member");
    let snap_dir = member_dir.join("snap");
    create_private_dirs(data.path(), &snap_dir)?;
    let (wal_dir, wal) = match &plan.wal {
        WalPlace::InDataDir(rel) => {
            let dir = data.path().join(rel);
            create_private_dirs(data.path(), &dir)?;
            (dir, None)
        }
        WalPlace::Separate(dir) => {
            let staged = Staging::new(dir)?;
            (staged.path().to_path_buf(), Some(staged))
        }
    };

    // One pass over the input: this core writes the new db while the other hashes and checks
    // the input, then decodes its values. The db is in the staging dir, so a failed check
    // leaves nothing behind, as if it came first.
    let db_path = snap_dir.join("db");
    let check = InputCheck::new(&source, req);
    if plan.bump == 0 {
        check.check_every_value(); // every revision is restored
    }
    let written = std::thread::scope(|scope| {
        let other = scope.spawn(|| {
            check.hash_and_structure(source.db());
            check.help_with_values_in_input(source.db());
        });
        let written = db::write_restored_db(
            &source,
            Some(&plan),
            &db_path,
            deltas.as_ref(),
            &mut |kept| check.check_kept_values(kept),
        );
        // A write that failed before it knew what it keeps: check every value.
        check.check_every_value();
        check.writer_done();
        other
            .join()
            .map_err(|_| Error::general("the check of the snapshot stopped unexpectedly"))?;
        if written.is_err() || check.structure_sound() != Some(true) {
            // A damaged input explains a failed write better than the write's own error, and
            // its report counts every problem: its values are decoded in the input.
            std::thread::scope(|both| {
                both.spawn(|| check.help_with_values(source.db(), None));
                check.help_with_values(source.db(), None);
            });
            check.verdict()?;
        }
        written
    })?;
    // Unmapped before the output is mapped for its check: peak memory is one db, not two.
    drop(source);

    // Re-read what we wrote with our own reader before anyone starts etcd on it: bbolt's
    // structural check on one core while the values not yet decoded are decoded in it (the
    // same bytes as the input's) on both; meanwhile the disk catches up and the WAL and .snap
    // are written.
    let out = SnapshotSource::open(&db_path)?;
    populate(out.db().data());
    let (synced, out_problems) = std::thread::scope(|scope| {
        let file = &written.file;
        let synced = scope.spawn(|| -> Result<()> {
            file.sync_all()
                .map_err(|e| Error::io("cannot sync", &db_path, e))?;
            plan.write_wal_and_snap(&wal_dir, &snap_dir)?;
            sync_dir(&snap_dir)?;
            sync_dir(&wal_dir)?;
            sync_dir(&member_dir)?;
            sync_dir(data.path())
        });
        let structure = scope.spawn(|| {
            let problems = bbolt_check(out.db());
            check.help_with_values(out.db(), None);
            problems
        });
        check.help_with_values(out.db(), None);
        (synced.join(), structure.join())
    });
    let stopped = || Error::general("the check of the restored db stopped unexpectedly");
    if let Some(p) = out_problems.map_err(|_| stopped())?.first() {
        return Err(Error::general(format!(
            "the restored db failed verification ({p}); nothing was written to {}",
            plan.data_dir.display()
        )));
    }
    check.verdict()?;
    synced.map_err(|_| stopped())??;
    let revision = db::latest_revision(&out)?.main;
    if revision != written.revision {
        return Err(Error::general(format!(
            "the restored db has revision {revision} instead of {}; nothing was written",
            written.revision
        )));
    }
    drop(out);

    // Both or neither: a failed commit drops (undoes) both, before signals resume.
    crate::interrupt::critical(|| -> Result<()> {
        let (mut data, mut wal) = (data, wal);
        if let Some(w) = &mut wal {
            w.commit()?;
        }
        data.commit()?;
        data.finish();
        if let Some(w) = wal {
            w.finish();
        }
        Ok(())
    })?;
    Ok(RestoreSummary {
        name: req.name.clone(),
        member_id: format!("{:x}", plan.local_member_id()),
        cluster_id: format!("{:x}", plan.cluster_id()),
        data_dir: plan.data_dir.clone(),
        wal_dir: plan.wal_dir(),
        snapshot_revision: written.snapshot_revision,
        revision: written.revision,
        compact_revision: written.compact_revision,
        keys: written.live_keys,
    })
}

/// The snapshot to restore, and for a point-in-time restore (`--to-revision`, `--to-time`, or
/// `--latest`, which then includes the delta segments) the segments to apply on it.
fn open_input(req: &RestoreRequest) -> Result<(SnapshotSource, Option<point::Deltas>)> {
    use crate::backup::chain::{self, Point};
    use crate::source::open::{self, OpenOptions};
    let point = match (req.point, req.open.latest) {
        (Some(p), _) => p,
        (None, true) => Point::Latest,
        (None, false) => return Ok((open::open(&req.snapshot, &req.open)?, None)),
    };
    let location = crate::location::Location::parse(&req.snapshot)?;
    if location.local_path().is_some_and(|p| p.is_file()) {
        return Err(Error::invalid(format!(
            "{} is a file; --to-revision, --to-time and --latest take the directory or bucket that `backup run` or `snapshot save --dir` writes to",
            req.snapshot
        )));
    }
    let store = location.open(&req.open.location)?;
    let decryptor = crate::location::Decryptor::from_args(&req.open.identities)?;
    let chain = chain::plan(&store, point, decryptor.as_ref())?;
    crate::log::info(
        "restoring to a point",
        &[
            ("revision", chain.target.into()),
            ("base", chain.base.path.clone().into()),
            ("base_revision", chain.base.manifest.revision.into()),
            ("segments", chain.segments.len().into()),
        ],
    );
    let source = open::open(
        &chain.base.path,
        &OpenOptions {
            latest: false,
            ..req.open.clone()
        },
    )?;
    let deltas = (!chain.segments.is_empty()).then_some(point::Deltas {
        store,
        segments: chain.segments,
        decryptor,
        target: chain.target,
    });
    Ok((source, deltas))
}

/// Maps every page of `data` (a file mapping) in at once, half on another thread, before the
/// writer and the checks walk it. Faulting a snapshot in page by page as they first touch it
/// costs seconds on a 4 GiB one on a small VM (about 3 µs a page, measured); this is several
/// times cheaper. Only a hint: a kernel without MADV_POPULATE_READ (before 5.14) refuses it and
/// the pages fault in as before.
fn populate(data: &[u8]) {
    let page = 4096;
    let start = data.as_ptr() as usize & !(page - 1);
    let end = data.as_ptr() as usize + data.len();
    let mid = (start + (end - start) / 2) & !(page - 1);
    let advise = |from: usize, to: usize| {
        // SAFETY: the range lies within pages of `data`'s mapping, which stays mapped for the
        // call; MADV_POPULATE_READ only reads them in and changes no contents.
        unsafe {
            libc::madvise(
                from as *mut libc::c_void,
                to - from,
                libc::MADV_POPULATE_READ,
            )
        }
    };
    std::thread::scope(|s| {
        s.spawn(|| advise(mid, end));
        advise(start, mid);
    });
}

/// Creates `dir` and its missing parents below the temp dir `base`, one by one (0700): never
/// `base` itself, so nothing is re-created in a temp dir that a signal has removed.
fn create_private_dirs(base: &Path, dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let below: Vec<&Path> = dir.ancestors().take_while(|a| *a != base).collect();
    for d in below.into_iter().rev() {
        match std::fs::DirBuilder::new().mode(0o700).create(d) {
            Ok(()) => set_mode(d, 0o700)?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io("cannot create", d, e)),
        }
    }
    Ok(())
}

pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("cannot set permissions on", path, e))
}

pub(crate) use crate::backup::fsutil::sync_dir;
