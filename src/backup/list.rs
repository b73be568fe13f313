//! `snapshot list`: the snapshots of a directory, read from their manifests, with a check that
//! each file is still there at the size recorded.

use std::path::Path;

use serde::Serialize;

use super::human_bytes;
use super::manifest::{Entry, Manifest, scan_dir};
use crate::error::Result;
use crate::log;

/// One listed snapshot: where it is, whether its file matches the manifest, and the manifest.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub path: String,
    pub status: &'static str,
    #[serde(flatten)]
    pub manifest: Manifest,
}

/// The snapshots in `dir`, oldest first. Manifests that cannot be used are logged and left out.
pub fn list(dir: &Path) -> Result<Vec<Entry>> {
    let (entries, skipped) = scan_dir(dir)?;
    for (path, why) in skipped {
        log::warn(
            "ignoring manifest",
            &[
                ("file", serde_json::json!(path.display().to_string())),
                ("reason", serde_json::json!(why)),
            ],
        );
    }
    Ok(entries)
}

pub const HEADERS: [&str; 8] = [
    "SNAPSHOT",
    "TAKEN (UTC)",
    "REVISION",
    "DB SIZE",
    "FILE SIZE",
    "COMPRESSION",
    "MEMBER",
    "STATUS",
];

pub fn row(e: &Entry) -> Vec<String> {
    let m = &e.manifest;
    let member = if m.member_name.is_empty() {
        m.member_id.clone()
    } else {
        m.member_name.clone()
    };
    vec![
        m.file.clone(),
        crate::timefmt::rfc3339(e.started),
        m.revision.to_string(),
        human_bytes(m.db_size),
        human_bytes(m.file_size),
        m.compression.as_str().to_string(),
        member,
        e.state.as_str().to_string(),
    ]
}

pub fn listed(e: &Entry) -> Listed {
    Listed {
        path: e.snapshot_path.display().to_string(),
        status: e.state.as_str(),
        manifest: e.manifest.clone(),
    }
}
