//! The JSON sidecar written next to every snapshot (`FILE.manifest.json`, mode 0600): what was
//! saved, from which member, and the hashes to check it with. `list` and `prune` work from
//! manifests only, so a file without one is never touched.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::fsutil;
use crate::error::{Error, Result};

pub const MANIFEST_SUFFIX: &str = ".manifest.json";
/// The `format` field; bumped on incompatible changes.
pub const FORMAT: &str = "revkeeper.snapshot-manifest/v1";

/// How the snapshot file is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Plain `[db][sha256]`, exactly what `etcdutl snapshot restore` reads.
    None,
    /// zstd frame(s) whose content is `[db][sha256]`.
    Zstd,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Zstd => "zstd",
        }
    }
    /// File name ending in `--dir` mode.
    pub fn extension(self) -> &'static str {
        match self {
            Compression::None => "db",
            Compression::Zstd => "db.zst",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// File name of the snapshot, in the manifest's directory.
    pub file: String,
    pub file_size: u64,
    /// SHA-256 of the file as stored (compressed or not), for checking copies.
    pub file_sha256: String,
    pub compression: Compression,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zstd_level: Option<i32>,
    /// Size of the bbolt db (without the 32-byte trailer).
    pub db_size: u64,
    /// SHA-256 of the db bytes: the trailer the server sent, verified while streaming.
    pub db_sha256: String,
    /// The store revision inside the snapshot.
    pub revision: i64,
    /// `db`: read from the snapshot's `key` bucket; `server-status`: the member's header just
    /// before the snapshot (a lower bound), when the db could not be followed.
    pub revision_source: String,
    /// Hex, as etcdctl prints them.
    pub cluster_id: String,
    pub member_id: String,
    pub member_name: String,
    pub endpoint: String,
    pub etcd_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub storage_version: String,
    /// RFC 3339 UTC, milliseconds: when the transfer started (the snapshot's point in time).
    pub started_at: String,
    pub finished_at: String,
    pub duration_seconds: f64,
    pub revkeeper_version: String,
}

/// RFC 3339 UTC with milliseconds.
pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let ms = t.millisecond();
    t.replace_nanosecond(ms as u32 * 1_000_000)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

pub fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// `snapshot` → `snapshot.manifest.json`.
pub fn manifest_path(snapshot: &Path) -> PathBuf {
    fsutil::with_suffix(snapshot, MANIFEST_SUFFIX)
}

impl Manifest {
    /// Writes the manifest beside `snapshot`, atomically, mode 0600.
    pub fn write_beside(&self, snapshot: &Path) -> Result<PathBuf> {
        let path = manifest_path(snapshot);
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::general(format!("cannot encode manifest: {e}")))?;
        text.push('\n');
        fsutil::write_atomic(&path, text.as_bytes(), 0o600)?;
        Ok(path)
    }

    pub fn read(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, e))?;
        let m: Manifest = serde_json::from_str(&text).map_err(|e| {
            Error::invalid(format!(
                "{} is not a revkeeper manifest: {e}",
                path.display()
            ))
        })?;
        if m.format != FORMAT {
            return Err(Error::invalid(format!(
                "{}: unknown manifest format {:?}",
                path.display(),
                m.format
            )));
        }
        Ok(m)
    }

    pub fn started(&self) -> Option<OffsetDateTime> {
        parse_timestamp(&self.started_at)
    }
}

/// What the snapshot file a manifest names looks like on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileState {
    Ok,
    Missing,
    SizeMismatch,
}

impl FileState {
    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Ok => "ok",
            FileState::Missing => "missing",
            FileState::SizeMismatch => "size-mismatch",
        }
    }
}

/// A manifest that was left alone, and why.
pub type Skipped = (PathBuf, String);

/// A manifest found in a directory, with the snapshot it describes.
#[derive(Clone, Debug)]
pub struct Entry {
    pub manifest_path: PathBuf,
    pub snapshot_path: PathBuf,
    pub manifest: Manifest,
    pub state: FileState,
    pub started: OffsetDateTime,
}

/// Every revkeeper manifest in `dir` (not recursive), oldest first. A manifest counts only when
/// it parses, carries our format, and names the file it sits beside (`X.manifest.json` → `X`).
/// Anything else is returned in the second list with the reason, and left alone.
pub fn scan_dir(dir: &Path) -> Result<(Vec<Entry>, Vec<Skipped>)> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io("cannot read directory", dir, e))?;
    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    for item in rd {
        let item = item.map_err(|e| Error::io("cannot read directory", dir, e))?;
        let name = item.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(snapshot_name) = name.strip_suffix(MANIFEST_SUFFIX) else {
            continue;
        };
        let path = item.path();
        if !item.file_type().map(|t| t.is_file()).unwrap_or(false) {
            continue;
        }
        let manifest = match Manifest::read(&path) {
            Ok(m) => m,
            Err(e) => {
                skipped.push((path, e.to_string()));
                continue;
            }
        };
        if manifest.file != snapshot_name || manifest.file.contains('/') {
            skipped.push((
                path,
                format!(
                    "names file {:?}, not the {snapshot_name:?} it sits beside",
                    manifest.file
                ),
            ));
            continue;
        }
        let Some(started) = manifest.started() else {
            skipped.push((path, format!("bad started_at {:?}", manifest.started_at)));
            continue;
        };
        let snapshot_path = dir.join(snapshot_name);
        let state = match std::fs::symlink_metadata(&snapshot_path) {
            Ok(md) if md.is_file() && md.len() == manifest.file_size => FileState::Ok,
            Ok(md) if md.is_file() => FileState::SizeMismatch,
            Ok(_) => FileState::SizeMismatch,
            Err(_) => FileState::Missing,
        };
        entries.push(Entry {
            manifest_path: path,
            snapshot_path,
            manifest,
            state,
            started,
        });
    }
    entries.sort_by(|a, b| {
        (a.started, a.manifest.revision, &a.manifest.file).cmp(&(
            b.started,
            b.manifest.revision,
            &b.manifest.file,
        ))
    });
    skipped.sort();
    Ok((entries, skipped))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample(file: &str, started_at: &str, revision: i64) -> Manifest {
        Manifest {
            format: FORMAT.into(),
            file: file.into(),
            file_size: 3,
            file_sha256: "00".repeat(32),
            compression: Compression::Zstd,
            zstd_level: Some(3),
            db_size: 4096,
            db_sha256: "11".repeat(32),
            revision,
            revision_source: "db".into(),
            cluster_id: "c1".into(),
            member_id: "a1".into(),
            member_name: "m1".into(),
            endpoint: "http://127.0.0.1:2379".into(),
            etcd_version: "3.6.0".into(),
            storage_version: String::new(),
            started_at: started_at.into(),
            finished_at: started_at.into(),
            duration_seconds: 1.0,
            revkeeper_version: "0.1.0".into(),
        }
    }

    #[test]
    fn timestamps_keep_milliseconds() {
        let t = time::macros::datetime!(2026-11-21 03:04:05.678901 UTC);
        let s = timestamp(t);
        assert!(s.starts_with("2026-11-21T03:04:05.678"), "{s}");
        assert!(s.ends_with('Z'), "{s}");
        assert_eq!(parse_timestamp(&s).unwrap().millisecond(), 678);
    }

    #[test]
    fn scan_finds_only_consistent_manifests() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let a = d.join("a.db.zst");
        std::fs::write(&a, b"abc").unwrap();
        sample("a.db.zst", "2026-01-01T00:00:00Z", 5)
            .write_beside(&a)
            .unwrap();
        // Names another file: ignored.
        let b = d.join("b.db");
        sample("a.db.zst", "2026-01-01T00:00:00Z", 5)
            .write_beside(&b)
            .unwrap();
        // Not JSON.
        std::fs::write(d.join("c.db.manifest.json"), "nope").unwrap();
        // Missing snapshot.
        sample("d.db", "2025-01-01T00:00:00Z", 1)
            .write_beside(&d.join("d.db"))
            .unwrap();
        std::fs::write(d.join("notes.txt"), "x").unwrap();
        let (entries, skipped) = scan_dir(d).unwrap();
        let names: Vec<_> = entries.iter().map(|e| e.manifest.file.as_str()).collect();
        assert_eq!(names, vec!["d.db", "a.db.zst"]);
        assert_eq!(entries[0].state, FileState::Missing);
        assert_eq!(entries[1].state, FileState::Ok);
        assert_eq!(skipped.len(), 2, "{skipped:?}");
    }
}
