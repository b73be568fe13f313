//! The Snapshots view's data: a backup directory's snapshots from their manifests, verifying
//! one, and the keys that differ between two sources, per resource.

use std::collections::BTreeMap;
use std::hash::BuildHasher;

use revkeeper_formats::k8s::key::ObjectKey;
use revkeeper_formats::k8s::resources::{OTHER_KEYS, display_name};
use revkeeper_ui::{DiffRow, SnapshotRow, VerifyResult};

use crate::Result;
use crate::backup::manifest::scan;
use crate::location::Location;
use crate::source::open::{self, OpenOptions};
use crate::source::{KeyRange, RangeQuery, Source};

/// The snapshots of a directory or bucket, oldest first, as `snapshot list` shows them.
pub fn list(location: &str, opts: &OpenOptions) -> Result<Vec<SnapshotRow>> {
    let store = Location::parse(location)?.open(&opts.location)?;
    let (entries, _skipped) = scan(&store)?;
    Ok(entries
        .iter()
        .map(|e| {
            let m = &e.manifest;
            SnapshotRow {
                path: e.path.clone(),
                file: m.file.clone(),
                taken: crate::timefmt::rfc3339(e.started),
                revision: m.revision,
                db_size: m.db_size,
                file_size: m.file_size,
                member: if m.member_name.is_empty() {
                    m.member_id.clone()
                } else {
                    m.member_name.clone()
                },
                status: e.state.as_str().to_string(),
            }
        })
        .collect())
}

/// `snapshot verify` of one snapshot (a path or an object URL).
pub fn verify(path: &str, opts: &OpenOptions) -> Result<VerifyResult> {
    let source = open::open(path, opts)?;
    let report = crate::snapshot::verify::verify(source.db());
    let mut lines: Vec<String> = report
        .problems
        .iter()
        .map(|p| format!("{}: {}", p.location, p.message))
        .collect();
    if report.problems.is_empty() {
        lines.push(match report.sha256_ok {
            Some(true) => "sha256 trailer matches; bbolt structure and etcd data are sound".into(),
            _ => "no sha256 trailer; bbolt structure and etcd data are sound".into(),
        });
    }
    Ok(VerifyResult {
        path: path.to_string(),
        clean: report.is_clean(),
        lines,
    })
}

/// Every key of `source` with a hash of its value, sorted by key.
fn fingerprint(source: &dyn Source) -> Result<Vec<(Vec<u8>, u64)>> {
    let hasher = foldhash::quality::FixedState::with_seed(0x7265_766b);
    let mut out = Vec::new();
    source.scan(
        &RangeQuery::latest(KeyRange::prefix(Vec::new())),
        &mut |kv| {
            out.push((kv.key.to_vec(), hasher.hash_one(kv.value)));
            Ok(())
        },
    )?;
    Ok(out)
}

/// Keys added, removed and changed from `from` to `to`, per resource (only those with changes).
pub fn diff(from: &dyn Source, to: &dyn Source, prefix: &str) -> Result<Vec<DiffRow>> {
    let (a, b) = (fingerprint(from)?, fingerprint(to)?);
    let mut rows: BTreeMap<String, DiffRow> = BTreeMap::new();
    let mut bump = |key: &[u8], f: fn(&mut DiffRow)| {
        let resource = ObjectKey::parse(key, prefix)
            .map(|k| k.resource)
            .unwrap_or(OTHER_KEYS);
        let row = rows.entry(resource.to_string()).or_insert_with(|| DiffRow {
            resource: display_name(resource),
            ..DiffRow::default()
        });
        f(row);
    };
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.0 == y.0 => {
                if x.1 != y.1 {
                    bump(&x.0, |r| r.changed += 1);
                }
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x.0 < y.0 => {
                bump(&x.0, |r| r.removed += 1);
                i += 1;
            }
            (Some(x), None) => {
                bump(&x.0, |r| r.removed += 1);
                i += 1;
            }
            (_, Some(y)) => {
                bump(&y.0, |r| r.added += 1);
                j += 1;
            }
            (None, None) => break,
        }
    }
    Ok(rows.into_values().collect())
}
