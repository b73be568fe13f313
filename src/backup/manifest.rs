//! The JSON sidecar written next to every snapshot (`FILE.manifest.json`, mode 0600): what was
//! saved, from which member, and the hashes to check it with. `list` and `prune` work from
//! manifests only, so a file without one is never touched.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::fsutil;
use crate::error::{Error, Result};
use crate::location::Store;

pub const MANIFEST_SUFFIX: &str = ".manifest.json";
/// The `format` field; bumped on incompatible changes.
pub const FORMAT: &str = "revkeeper.snapshot-manifest/v1";

/// The zstd level of snapshots and segments unless `--zstd-level` says otherwise.
pub const DEFAULT_ZSTD_LEVEL: i32 = 1;

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
    /// Set when the file is encrypted; absent for a clear file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
}

/// How a snapshot file is encrypted. Public keys only: an identity is never recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Encryption {
    /// `age`.
    pub scheme: String,
    /// The recipients it was encrypted to (`age1…`, `ssh-ed25519 …`, `ssh-rsa …`).
    pub recipients: Vec<String>,
}

/// RFC 3339 UTC with milliseconds.
pub fn timestamp(t: OffsetDateTime) -> String {
    // Always three digits, so timestamps also sort as strings (RFC 3339 formatting drops a
    // zero fraction, and "…:01Z" sorts after "…:01.5Z").
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
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
        fsutil::write_atomic(&path, &self.to_bytes()?, 0o600)?;
        Ok(path)
    }

    pub fn read(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, e))?;
        Manifest::parse(&text, &path.display().to_string())
    }

    /// The manifest in `text`; `shown` names it in errors.
    pub fn parse(text: &str, shown: &str) -> Result<Manifest> {
        let m: Manifest = serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("{shown} is not a revkeeper manifest: {e}")))?;
        if m.format != FORMAT {
            return Err(Error::invalid(format!(
                "{shown}: unknown manifest format {:?}",
                m.format
            )));
        }
        Ok(m)
    }

    /// The manifest as stored: pretty JSON and a newline.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::general(format!("cannot encode manifest: {e}")))?;
        text.push('\n');
        Ok(text.into_bytes())
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

/// A manifest that was left alone (as messages name it), and why.
pub type Skipped = (String, String);

/// A manifest found in a location, with the snapshot it describes.
#[derive(Clone, Debug)]
pub struct Entry {
    pub manifest_name: String,
    /// The snapshot's name in its location.
    pub snapshot_name: String,
    /// The snapshot as messages and `-o json` name it: a path, or a redacted URL.
    pub path: String,
    pub manifest: Manifest,
    pub state: FileState,
    pub started: OffsetDateTime,
}

/// Every revkeeper manifest in a location (not recursive), oldest first. A manifest counts only
/// when it parses, carries our format, and names the file it sits beside (`X.manifest.json` →
/// `X`). Anything else is returned in the second list with the reason, and left alone.
pub fn scan(store: &Store) -> Result<(Vec<Entry>, Vec<Skipped>)> {
    let objects = store.list("")?;
    let sizes: std::collections::HashMap<&str, u64> =
        objects.iter().map(|o| (o.name.as_str(), o.size)).collect();
    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    for object in &objects {
        let Some(snapshot_name) = object.name.strip_suffix(MANIFEST_SUFFIX) else {
            continue;
        };
        let shown = store.location().describe(&object.name);
        let manifest = match read_manifest(store, &object.name) {
            Ok(m) => m,
            Err(e) if e.kind == crate::error::ErrorKind::InvalidInput => {
                skipped.push((shown, e.to_string()));
                continue;
            }
            Err(e) => return Err(e),
        };
        if manifest.file != snapshot_name || manifest.file.contains('/') {
            skipped.push((
                shown,
                format!(
                    "names file {:?}, not the {snapshot_name:?} it sits beside",
                    manifest.file
                ),
            ));
            continue;
        }
        let Some(started) = manifest.started() else {
            skipped.push((shown, format!("bad started_at {:?}", manifest.started_at)));
            continue;
        };
        let state = match sizes.get(snapshot_name) {
            Some(&size) if size == manifest.file_size => FileState::Ok,
            Some(_) => FileState::SizeMismatch,
            None => FileState::Missing,
        };
        entries.push(Entry {
            manifest_name: object.name.clone(),
            snapshot_name: snapshot_name.to_string(),
            path: store.location().describe(snapshot_name),
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

/// Reads and checks the manifest object `name`; a manifest that is not ours is `InvalidInput`.
fn read_manifest(store: &Store, name: &str) -> Result<Manifest> {
    let shown = store.location().describe(name);
    let mut text = String::new();
    store
        .open_read(name)?
        .take(1 << 20)
        .read_to_string(&mut text)
        .map_err(|e| Error::invalid(format!("cannot read {shown}: {e}")))?;
    Manifest::parse(&text, &shown)
}

/// The newest snapshot of a location: the highest revision (per cluster, the cluster whose
/// newest snapshot is the most recent when a location holds several), whose file is present.
pub fn latest(store: &Store) -> Result<Entry> {
    let (entries, _) = scan(store)?;
    entries
        .into_iter()
        .filter(|e| e.state == FileState::Ok)
        .max_by_key(|e| (e.manifest.revision, e.started))
        .ok_or_else(|| {
            Error::invalid(format!(
                "{} holds no snapshot with a revkeeper manifest; give a snapshot file or object instead of --latest",
                store.location()
            ))
        })
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
            encryption: None,
        }
    }

    #[test]
    fn timestamps_keep_milliseconds() {
        let t = time::macros::datetime!(2026-11-21 03:04:05.678901 UTC);
        let s = timestamp(t);
        assert!(s.starts_with("2026-11-21T03:04:05.678"), "{s}");
        assert!(s.ends_with('Z'), "{s}");
        let whole = timestamp(time::macros::datetime!(2026-11-21 03:04:05 UTC));
        assert_eq!(whole, "2026-11-21T03:04:05.000Z");
        assert!(whole < timestamp(time::macros::datetime!(2026-11-21 03:04:05.5 UTC)));
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
        let store = crate::location::Location::Local(d.to_path_buf())
            .open(&Default::default())
            .unwrap();
        let (entries, skipped) = scan(&store).unwrap();
        let names: Vec<_> = entries.iter().map(|e| e.manifest.file.as_str()).collect();
        assert_eq!(names, vec!["d.db", "a.db.zst"]);
        assert_eq!(entries[0].state, FileState::Missing);
        assert_eq!(entries[1].state, FileState::Ok);
        assert_eq!(skipped.len(), 2, "{skipped:?}");
    }
}
