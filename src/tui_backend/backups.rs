//! The Snapshots view's data: a backup directory's snapshots from their manifests, verifying
//! one, and the objects that differ between two sources, per resource.

use revkeeper_formats::k8s::Keyring;
use revkeeper_ui::{DiffRow, SnapshotRow, VerifyResult};

use crate::Result;
use crate::backup::manifest::scan;
use crate::diff::{DiffOptions, Scope, compare};
use crate::location::Location;
use crate::source::Source;
use crate::source::open::{self, OpenOptions};

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

/// Objects added, removed and changed from `from` to `to`, per resource (only those with
/// changes): [`crate::diff::compare`]'s counts. Values that could not be decoded count as changed
/// and are said in the title note.
pub fn diff(
    from: &dyn Source,
    to: &dyn Source,
    prefix: &str,
    keyring: &Keyring,
) -> Result<(Vec<DiffRow>, Option<String>)> {
    let opts = DiffOptions {
        scope: Scope::everything(prefix),
        keyring,
        whole_objects: false,
    };
    let summary = compare(from, to, &opts, &mut |_| Ok(()))?;
    let rows = summary
        .resources
        .into_iter()
        .map(|r| DiffRow {
            resource: r.resource,
            added: r.added,
            removed: r.removed,
            changed: r.changed,
        })
        .collect();
    let note = (summary.undecodable > 0).then(|| {
        format!(
            "{} values could not be decoded (counted as changed; --encryption-config?)",
            summary.undecodable
        )
    });
    Ok((rows, note))
}
