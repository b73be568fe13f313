//! The reports of `stale`, `leases` and `inspect`: the header every report starts with (source,
//! revision, "now" and how it was decided, how values were read), the findings table and the
//! lease table, and the fields every `-o json` report starts with.

use crate::Result;
use crate::inspect::{Finding, LeaseInfo, Report};
use crate::output::{print_table, with_stdout};

/// The fields every `-o json` report of `stale`, `leases` and `inspect` starts with.
pub fn json_header(report: &Report) -> serde_json::Map<String, serde_json::Value> {
    let now = time::OffsetDateTime::from_unix_timestamp(report.now)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let mut doc = serde_json::Map::new();
    doc.insert("source".into(), report.source.clone().into());
    doc.insert("revision".into(), report.revision.into());
    doc.insert("now".into(), crate::timefmt::rfc3339(now).into());
    doc.insert("now_estimated".into(), report.now_estimated.into());
    doc.insert("now_basis".into(), serde_json::json!(report.now_basis));
    doc
}

/// The `#` lines a table report starts with.
pub fn print_header(report: &Report) -> Result<()> {
    let now = time::OffsetDateTime::from_unix_timestamp(report.now)
        .map(crate::timefmt::rfc3339)
        .unwrap_or_default();
    let how = if report.now_estimated {
        format!("estimated: {}", report.now_basis)
    } else {
        report.now_basis.clone()
    };
    let v = &report.values;
    with_stdout(|out| {
        writeln!(out, "# {} at revision {}", report.source, report.revision)?;
        writeln!(out, "# now {now} ({how})")?;
        writeln!(
            out,
            "# {} keys: {} decoded, {} encrypted (judged from keys), {} undecodable",
            v.keys, v.decoded, v.encrypted, v.undecodable
        )
    })
}

/// SEVERITY, CHECK, KEY, EVIDENCE, FIX: one row per finding.
pub fn print_findings(findings: &[&Finding]) -> Result<()> {
    let rows: Vec<Vec<String>> = findings
        .iter()
        .map(|f| {
            let what = match (&f.key, f.lease) {
                (Some(k), _) => k.clone(),
                (None, Some(l)) => format!("lease {l:016x}"),
                _ => "-".into(),
            };
            let fix = match (&f.fix.kubectl, f.fix.etcd.is_empty()) {
                (Some(k), _) => k.clone(),
                (None, false) => match f.lease {
                    Some(l) => format!("revkeeper leases revoke {l:016x}"),
                    None => format!("revkeeper stale fix --check {}", f.check),
                },
                (None, true) => f.fix.note.clone().unwrap_or_default(),
            };
            vec![
                format!("{:?}", f.severity).to_lowercase(),
                f.check.to_string(),
                what,
                f.evidence.clone(),
                fix,
            ]
        })
        .collect();
    print_table(&["SEVERITY", "CHECK", "KEY", "EVIDENCE", "FIX"], &rows)
}

/// ID, TTL, REMAINING, CLASS, KEYS, PREFIXES, FINDINGS: one row per lease (ids as etcdctl
/// prints them).
pub fn print_leases(leases: &[&LeaseInfo]) -> Result<()> {
    let rows: Vec<Vec<String>> = leases
        .iter()
        .map(|l| {
            vec![
                format!("{:016x}", l.id),
                l.ttl.to_string(),
                l.remaining_ttl
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "-".into()),
                l.class.label().to_string(),
                l.key_count.to_string(),
                l.prefixes
                    .iter()
                    .map(|(p, n)| format!("{p}({n})"))
                    .collect::<Vec<_>>()
                    .join(" "),
                l.findings.join(","),
            ]
        })
        .collect();
    print_table(
        &[
            "ID",
            "TTL",
            "REMAINING",
            "CLASS",
            "KEYS",
            "PREFIXES",
            "FINDINGS",
        ],
        &rows,
    )
}
