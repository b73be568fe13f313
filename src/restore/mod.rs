//! `snapshot restore`: a snapshot becomes the data dir of a new member, natively, with the
//! revision optionally bumped and everything up to it marked compacted, so Kubernetes watch
//! caches and informers relist instead of seeing time go backwards
//! (`docs/format-restore.md#why-bump-and-mark-compacted`).
//!
//! Everything is written into private temp dirs inside the targets ([`staging`]) and renamed
//! into place only after the new db has been re-read and verified; on any error or signal
//! nothing is left behind.

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
    let report = verify(check.db());
    if let Some(p) = report.problems.iter().find(|p| p.location != SHA256) {
        return Err(Error::general(format!(
            "the compacted db failed verification ({}: {}); nothing was written",
            p.location, p.message
        )));
    }
    Ok(written.revision)
}

use std::path::{Path, PathBuf};

use staging::Staging;

use serde::Serialize;

use crate::snapshot::status::status;
use crate::snapshot::verify::{SHA256, Trailer, verify};
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
    check_input(&source, req)?;

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

    let written =
        db::write_restored_db(&source, Some(&plan), &snap_dir.join("db"), deltas.as_ref())?;
    // Unmapped before the output is mapped for its check: peak memory is one db, not two.
    drop(source);
    plan.write_wal_and_snap(&wal_dir, &snap_dir)?;
    sync_dir(&snap_dir)?;
    sync_dir(&wal_dir)?;
    sync_dir(&member_dir)?;
    sync_dir(data.path())?;

    // Re-read what we wrote with our own reader before anyone starts etcd on it.
    let check = SnapshotSource::open(&snap_dir.join("db"))?;
    let report = verify(check.db());
    if !report.problems.is_empty() {
        return Err(Error::general(format!(
            "the restored db failed verification ({}: {}); nothing was written to {}",
            report.problems[0].location,
            report.problems[0].message,
            plan.data_dir.display()
        )));
    }
    let st = status(check.db()).map_err(Error::general)?;
    if st.revision != written.revision {
        return Err(Error::general(format!(
            "the restored db has revision {} instead of {}; nothing was written",
            st.revision, written.revision
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

/// Refuses, before anything is written, any input `snapshot verify` rejects: the trailer as
/// etcdutl checks it (`len % 512 == 32`; must match unless --skip-hash-check), and every
/// structural and etcd-level check (which --skip-hash-check does not skip).
fn check_input(source: &SnapshotSource, req: &RestoreRequest) -> Result<()> {
    let file = source.path().display();
    let report = verify(source.db());
    let mut blocking = report
        .problems
        .iter()
        .filter(|p| !(req.skip_hash_check && p.location == SHA256));
    match report.trailer {
        _ if req.skip_hash_check => {}
        Trailer::Ok | Trailer::Truncated => {}
        Trailer::Mismatch => {
            return Err(Error::invalid(format!(
                "snapshot {file}: sha256 trailer does not match its contents; the file is damaged (use another snapshot)"
            )));
        }
        Trailer::Absent => {
            return Err(Error::invalid(format!(
                "snapshot {file} has no sha256 trailer (a raw member/snap/db?); pass --skip-hash-check to restore it anyway"
            )));
        }
    }
    match blocking.next() {
        None => Ok(()),
        Some(p) => Err(Error::invalid(format!(
            "snapshot {file} failed verification ({}: {}; {} problem(s) in all); nothing was written: run `revkeeper snapshot verify {file}` for the list, and restore from another snapshot",
            p.location,
            p.message,
            report.problems.len()
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
