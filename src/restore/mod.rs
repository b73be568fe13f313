//! `snapshot restore`: a snapshot becomes the data dir of a new member, natively, with the
//! revision optionally bumped and everything up to it marked compacted, so Kubernetes watch
//! caches and informers relist instead of seeing time go backwards
//! (`docs/format-restore.md#why-bump-and-mark-compacted`).
//!
//! Everything is written into private temp dirs inside the targets ([`staging`]) and renamed
//! into place only after the new db has been re-read and verified; on any error or signal
//! nothing is left behind.

mod compacted;
mod db;
mod plan;
mod point;
mod staging;

pub use plan::{RestorePlan, RestoreRequest, WalPlace};
pub(crate) use point::Deltas;

/// `backup compact`: the db the source would have snapshotted at the target of `deltas`
/// (membership and meta kept), written to `path`; returns its revision.
pub(crate) fn write_compacted(
    source: &SnapshotSource,
    deltas: &Deltas,
    path: &Path,
) -> Result<i64> {
    let written = db::write_restored_db(source, None, path, Some(deltas))?;
    let check = SnapshotSource::open(path)?;
    if let Some(p) = bbolt_check(check.db()).first() {
        return Err(Error::general(format!(
            "the compacted db failed verification ({p}); nothing was written"
        )));
    }
    Ok(written.revision)
}

use std::path::{Path, PathBuf};

use staging::Staging;

use serde::Serialize;

use revkeeper_formats::bbolt::check as bbolt_check;

use crate::snapshot::verify::{SHA256, Trailer, ValueCheck, verify_structure, verify_values};
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

    // One pass over the input: this core copies it while the other hashes and checks it. The
    // copy is in the staging dir, so a failed check leaves nothing behind, as if it came first.
    let written = std::thread::scope(|scope| {
        let checked = scope.spawn(|| check_input(&source, req));
        let written =
            db::write_restored_db(&source, Some(&plan), &snap_dir.join("db"), deltas.as_ref());
        // A damaged input explains a failed copy better than the copy's own error.
        checked
            .join()
            .map_err(|_| Error::general("the check of the snapshot stopped unexpectedly"))??;
        written
    })?;
    // Unmapped before the output is mapped for its check: peak memory is one db, not two.
    drop(source);
    plan.write_wal_and_snap(&wal_dir, &snap_dir)?;
    sync_dir(&snap_dir)?;
    sync_dir(&wal_dir)?;
    sync_dir(&member_dir)?;
    sync_dir(data.path())?;

    // Re-read what we wrote with our own reader before anyone starts etcd on it: its contents
    // were checked in the input, so bbolt's structural check is what is left to prove.
    let check = SnapshotSource::open(&snap_dir.join("db"))?;
    if let Some(p) = bbolt_check(check.db()).first() {
        return Err(Error::general(format!(
            "the restored db failed verification ({p}); nothing was written to {}",
            plan.data_dir.display()
        )));
    }
    let revision = db::latest_revision(&check)?.main;
    if revision != written.revision {
        return Err(Error::general(format!(
            "the restored db has revision {revision} instead of {}; nothing was written",
            written.revision
        )));
    }
    drop(check);

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

/// Refuses at once, before anything is written, an input whose end is not a whole sha256
/// trailer (etcdutl's `len % 512 == 32`), unless --skip-hash-check.
fn check_trailer_present(source: &SnapshotSource, req: &RestoreRequest) -> Result<()> {
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

/// Refuses any input `snapshot verify` rejects: the sha256 trailer (unless --skip-hash-check)
/// and every structural, etcd-level and Kubernetes value check (which --skip-hash-check does
/// not skip).
fn check_input(source: &SnapshotSource, req: &RestoreRequest) -> Result<()> {
    let file = source.path().display();
    let db = source.db();
    // Kubernetes values are decoded on a thread of their own: with the copy, three threads
    // keep both cores busy until the end instead of leaving one waiting for the longest check.
    let (hash_ok, mut problems, value_problems) = std::thread::scope(|scope| {
        let values = scope.spawn(|| verify_values(db, &ValueCheck::default()));
        let hash_ok = req.skip_hash_check || db.verify_sha256() != Some(false);
        let structure = verify_structure(db);
        (hash_ok, structure, values.join())
    });
    if !hash_ok {
        return Err(Error::invalid(format!(
            "snapshot {file}: sha256 trailer does not match its contents; the file is damaged (use another snapshot)"
        )));
    }
    problems.extend(
        value_problems.map_err(|_| {
            Error::general("the check of the snapshot's values stopped unexpectedly")
        })?,
    );
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
