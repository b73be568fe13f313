//! Checks a restore request the way etcdutl does, before anything is written, and holds the
//! new cluster's membership (IDs, WAL, `.snap`, `members`/`meta` entries).

use std::path::{Path, PathBuf};

use revkeeper_formats::etcd::bootstrap::RestoreBootstrap;
use revkeeper_formats::etcd::members::parse_urls;
use revkeeper_formats::etcd::meta::{
    FINISHED_COMPACT_KEY, SCHEDULED_COMPACT_KEY, compact_rev_value,
};
use revkeeper_formats::etcd::revision::Revision;
use revkeeper_formats::etcd::snap::write_snap_file;
use revkeeper_formats::etcd::urls::InitialCluster;
use revkeeper_formats::etcd::wal::{SEGMENT_SIZE_BYTES, write_first_segment};

use super::staging;
use crate::{Error, Result};

/// The flags of `snapshot restore`, as given.
#[derive(Clone, Debug)]
pub struct RestoreRequest {
    /// A file, an object URL, or a location with `open.latest`.
    pub snapshot: String,
    /// How to reach and decrypt it.
    pub open: crate::source::open::OpenOptions,
    /// A point-in-time restore from continuous backups (`snapshot` is then their location).
    pub point: Option<crate::backup::chain::Point>,
    /// `None`: `<name>.etcd`, as etcdutl 3.6 does.
    pub data_dir: Option<PathBuf>,
    pub wal_dir: Option<PathBuf>,
    pub name: String,
    pub initial_cluster: String,
    pub initial_cluster_token: String,
    /// Comma-separated.
    pub initial_advertise_peer_urls: String,
    pub skip_hash_check: bool,
    pub bump_revision: u64,
    pub mark_compacted: bool,
}

/// Where the WAL goes.
#[derive(Clone, Debug, PartialEq)]
pub enum WalPlace {
    /// Inside the data dir, at this relative path (`member/wal` by default).
    InDataDir(PathBuf),
    /// A dir of its own, outside the data dir.
    Separate(PathBuf),
}

/// A validated request.
pub struct RestorePlan {
    pub data_dir: PathBuf,
    pub wal: WalPlace,
    pub bump: u64,
    name: String,
    bootstrap: RestoreBootstrap,
}

impl RestorePlan {
    pub fn new(req: &RestoreRequest) -> Result<RestorePlan> {
        if (req.bump_revision == 0) == req.mark_compacted {
            return Err(Error::invalid(if req.mark_compacted {
                "--mark-compacted needs --bump-revision N (N > 0): use both together"
            } else {
                "--bump-revision needs --mark-compacted: use both together, so old revisions answer 'compacted'"
            }));
        }
        let bad = |e: &dyn std::fmt::Display| Error::invalid(e.to_string());
        let cluster = InitialCluster::parse(&req.initial_cluster).map_err(|e| bad(&e))?;
        let advertised: Vec<&str> = req.initial_advertise_peer_urls.split(',').collect();
        let advertised = parse_urls(&advertised).map_err(|e| bad(&e))?;
        cluster
            .verify_bootstrap(&req.name, &advertised)
            .map_err(|e| bad(&e))?;
        let bootstrap =
            RestoreBootstrap::from_initial_cluster(&cluster, &req.initial_cluster_token)
                .map_err(|e| bad(&e))?;

        let data_dir = req
            .data_dir
            .clone()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from(format!("{}.etcd", req.name)));
        let wal = wal_place(&data_dir, req.wal_dir.as_deref())?;
        staging::remove_stale(&data_dir);
        if !is_absent_or_empty(&data_dir)? {
            return Err(Error::invalid(format!(
                "data-dir {} is not empty; restore into a new or empty directory (never over a member's data)",
                data_dir.display()
            )));
        }
        if let WalPlace::Separate(wal) = &wal {
            staging::remove_stale(wal);
            if !is_absent_or_empty(wal)? {
                return Err(Error::invalid(format!(
                    "wal-dir {} is not empty; give a new or empty directory",
                    wal.display()
                )));
            }
        }
        Ok(RestorePlan {
            data_dir,
            wal,
            bump: req.bump_revision,
            name: req.name.clone(),
            bootstrap,
        })
    }

    /// The WAL dir as the member will see it.
    pub fn wal_dir(&self) -> PathBuf {
        match &self.wal {
            WalPlace::InDataDir(rel) => self.data_dir.join(rel),
            WalPlace::Separate(dir) => dir.clone(),
        }
    }

    pub fn local_member_id(&self) -> u64 {
        self.bootstrap
            .member_by_name(&self.name)
            .map(|m| m.id)
            .unwrap_or_default()
    }

    pub fn cluster_id(&self) -> u64 {
        self.bootstrap.cluster_id()
    }

    /// The `members` bucket of the new cluster (hex id → member JSON), sorted.
    pub fn members_bucket(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.bootstrap.members_bucket_entries()
    }

    /// `meta` keys the restore overwrites: the consistent index and term of the new raft log,
    /// and with a bump the scheduled and finished compaction at the bumped revision (the `key`
    /// bucket is written pre-compacted, so etcd has no compaction to resume).
    pub fn meta_overrides(&self, bumped: Option<Revision>) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out: Vec<(Vec<u8>, Vec<u8>)> = self
            .bootstrap
            .meta_entries()
            .iter()
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect();
        if let Some(b) = bumped {
            for key in [SCHEDULED_COMPACT_KEY, FINISHED_COMPACT_KEY] {
                out.push((key.to_vec(), compact_rev_value(b.main).to_vec()));
            }
        }
        out
    }

    pub fn write_wal_and_snap(&self, wal_dir: &Path, snap_dir: &Path) -> Result<()> {
        let wal = self
            .bootstrap
            .wal_bytes(&self.name)
            .map_err(|e| Error::invalid(e.to_string()))?;
        write_first_segment(wal_dir, &wal).map_err(|e| {
            if e.raw_os_error() == Some(libc::ENOSPC) {
                Error::general(format!(
                    "no space left for the WAL in {} (etcd preallocates {} MB): free space or choose another --wal-dir; nothing was restored",
                    self.wal_dir().display(),
                    SEGMENT_SIZE_BYTES / 1_000_000
                ))
            } else {
                Error::io("cannot write the WAL in", wal_dir, e)
            }
        })?;
        write_snap_file(
            snap_dir,
            &self.bootstrap.snap_file_name(),
            &self.bootstrap.snap_bytes(),
        )
        .map_err(|e| Error::io("cannot write the .snap file in", snap_dir, e))?;
        Ok(())
    }
}

fn is_absent_or_empty(dir: &Path) -> Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(Error::io("cannot read data-dir", dir, e)),
    }
}

/// Where `--wal-dir` puts the WAL. Paths are compared lexically, as absolute paths: the
/// default place `DATA/member/wal` (which etcdutl accepts) is the same as no flag.
fn wal_place(data_dir: &Path, wal_dir: Option<&Path>) -> Result<WalPlace> {
    let default = WalPlace::InDataDir(PathBuf::from("member/wal"));
    let Some(wal) = wal_dir.filter(|w| !w.as_os_str().is_empty()) else {
        return Ok(default);
    };
    let (data_abs, wal_abs) = (lexical_absolute(data_dir)?, lexical_absolute(wal)?);
    let Ok(rel) = wal_abs.strip_prefix(&data_abs) else {
        if data_abs.starts_with(&wal_abs) {
            return Err(Error::invalid(format!(
                "wal-dir {} contains the data-dir {}; give a wal-dir beside or inside it",
                wal.display(),
                data_dir.display()
            )));
        }
        return Ok(WalPlace::Separate(wal.to_path_buf()));
    };
    let reserved =
        rel.as_os_str().is_empty() || rel == Path::new("member") || rel.starts_with("member/snap");
    if reserved {
        return Err(Error::invalid(format!(
            "wal-dir {} is the data-dir, its member dir or inside its snap dir; use {} or a dir of its own",
            wal.display(),
            data_dir.join("member/wal").display()
        )));
    }
    Ok(WalPlace::InDataDir(rel.to_path_buf()))
}

/// `path` made absolute against the current dir, `.` and `..` resolved without following links.
fn lexical_absolute(path: &Path) -> Result<PathBuf> {
    use std::path::Component;
    let abs = std::path::absolute(path).map_err(|e| Error::io("cannot resolve", path, e))?;
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wal_dirs_inside_the_data_dir_are_placed_relative_to_it() {
        let place = |w: &str| wal_place(Path::new("restore/d"), Some(Path::new(w)));
        let inside = |rel: &str| WalPlace::InDataDir(PathBuf::from(rel));
        assert_eq!(
            wal_place(Path::new("d"), None).unwrap(),
            inside("member/wal")
        );
        assert_eq!(place("restore/d/member/wal").unwrap(), inside("member/wal"));
        assert_eq!(place("./restore/x/../d/wal").unwrap(), inside("wal"));
        assert_eq!(
            place("restore/wal").unwrap(),
            WalPlace::Separate(PathBuf::from("restore/wal"))
        );
        for bad in [
            "restore/d",
            "restore/d/member",
            "restore/d/member/snap",
            "restore",
        ] {
            assert!(place(bad).is_err(), "{bad}");
        }
    }
}
