//! `snapshot list`: the snapshots of a directory, read from their manifests, with a check that
//! each file is still there at the size recorded.

use serde::Serialize;

use super::human_bytes;
use super::manifest::{Entry, Manifest};

/// One listed snapshot: where it is, whether its file matches the manifest, and the manifest.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub path: String,
    pub status: &'static str,
    #[serde(flatten)]
    pub manifest: Manifest,
}

pub const HEADERS: [&str; 9] = [
    "SNAPSHOT",
    "TAKEN (UTC)",
    "REVISION",
    "DB SIZE",
    "FILE SIZE",
    "COMPRESSION",
    "ENCRYPTION",
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
        m.encryption
            .as_ref()
            .map_or("none".to_string(), |e| e.scheme.clone()),
        member,
        e.state.as_str().to_string(),
    ]
}

pub fn listed(e: &Entry) -> Listed {
    Listed {
        path: e.path.clone(),
        status: e.state.as_str(),
        manifest: e.manifest.clone(),
    }
}
