//! `snapshot restore`: a snapshot becomes the data dir of a new member, natively, with the
//! revision optionally bumped and everything up to it marked compacted, so Kubernetes watch
//! caches and informers relist instead of seeing time go backwards (etcd-restore.md §4–§6).
//!
//! Everything is written into temp dirs beside the targets and renamed into place only after
//! the new db has been re-read and verified; on any error nothing is left behind.

mod db;
mod plan;

pub use plan::{RestorePlan, RestoreRequest};

use std::path::{Path, PathBuf};

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
    let source = SnapshotSource::open(&req.snapshot)?;
    check_input(&source, req)?;

    let data_tmp = private_temp_dir_beside(&plan.data_dir)?;
    let wal_tmp = match &req.wal_dir {
        Some(w) => Some(private_temp_dir_beside(w)?),
        None => None,
    };
    let member_dir = data_tmp.path().join("member");
    let snap_dir = member_dir.join("snap");
    let wal_dir = match &wal_tmp {
        Some(t) => t.path().to_path_buf(),
        None => member_dir.join("wal"),
    };
    for d in [&member_dir, &snap_dir, &wal_dir] {
        create_private_dir(d)?;
    }

    let written = db::write_restored_db(&source, &plan, &snap_dir.join("db"))?;
    plan.write_wal_and_snap(&wal_dir, &snap_dir)?;
    sync_dir(&snap_dir)?;
    sync_dir(&wal_dir)?;
    sync_dir(&member_dir)?;

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

    if let (Some(tmp), Some(target)) = (wal_tmp, &req.wal_dir) {
        move_into_place(tmp, target)?;
    }
    if let Err(e) = move_into_place(data_tmp, &plan.data_dir) {
        // The wal dir did not exist before (checked in the plan): take it back out.
        if let Some(wal) = &req.wal_dir {
            let _ = std::fs::remove_dir_all(wal);
        }
        return Err(e);
    }
    Ok(RestoreSummary {
        name: req.name.clone(),
        member_id: format!("{:x}", plan.local_member_id()),
        cluster_id: format!("{:x}", plan.cluster_id()),
        data_dir: plan.data_dir.clone(),
        wal_dir: req
            .wal_dir
            .clone()
            .unwrap_or_else(|| plan.data_dir.join("member/wal")),
        snapshot_revision: written.snapshot_revision,
        revision: written.revision,
        compact_revision: written.compact_revision,
        keys: written.live_keys,
    })
}

/// Refuses, before anything is written, any input `snapshot verify` rejects: the trailer as
/// etcdutl checks it (`len % 512 == 32`; must match unless --skip-hash-check), and every
/// structural and etcd-level check (which --skip-hash-check does not skip).
fn check_input(source: &SnapshotSource, req: &RestoreRequest) -> Result<()> {
    let file = req.snapshot.display();
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

fn private_temp_dir_beside(target: &Path) -> Result<tempfile::TempDir> {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::io("cannot create", &parent, e))?;
    let dir = tempfile::Builder::new()
        .prefix(".revkeeper-restore-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io("cannot create a temp dir in", &parent, e))?;
    set_mode(dir.path(), 0o700)?;
    Ok(dir)
}

fn create_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    set_mode(dir, 0o700)
}

pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("cannot set permissions on", path, e))
}

pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("cannot sync", dir, e))
}

/// Renames the finished temp dir to `target` (an empty existing `target` is replaced).
fn move_into_place(tmp: tempfile::TempDir, target: &Path) -> Result<()> {
    if target.exists() {
        std::fs::remove_dir(target)
            .map_err(|e| Error::io("cannot replace the empty dir", target, e))?;
    }
    let path = tmp.keep();
    if let Err(e) = std::fs::rename(&path, target) {
        let _ = std::fs::remove_dir_all(&path);
        return Err(Error::io("cannot move the restored data into", target, e));
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    Ok(())
}
