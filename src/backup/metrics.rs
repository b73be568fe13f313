//! `--metrics-file`: a Prometheus textfile for node_exporter's textfile collector, written
//! atomically after every run. Batch-job convention: alert on the age of
//! `revkeeper_snapshot_last_success_timestamp_seconds`; a failed run keeps the previous success
//! time (read back from the old file) and sets `revkeeper_snapshot_success` to 0.

use std::collections::BTreeMap;
use std::path::Path;

use super::fsutil;
use crate::error::Result;

/// What one `snapshot save` run reports.
#[derive(Clone, Debug)]
pub struct SaveRun {
    pub success: bool,
    /// Unix time the run ended.
    pub finished_unix: f64,
    pub duration_seconds: f64,
    /// Facts of the snapshot written, on success.
    pub snapshot: Option<SnapshotFacts>,
    /// `--job`: a `job` label on every sample, so jobs can share a textfile directory.
    pub job: Option<String>,
    /// One per destination (`--dir`): whether it got the snapshot, bytes sent, seconds.
    pub destinations: Vec<DestinationRun>,
}

#[derive(Clone, Debug)]
pub struct DestinationRun {
    /// The location as given (redacted URL or directory).
    pub location: String,
    pub success: bool,
    pub bytes: u64,
    pub seconds: f64,
}

#[derive(Clone, Copy, Debug)]
pub struct SnapshotFacts {
    pub db_size: u64,
    pub file_size: u64,
    pub revision: i64,
}

const LAST_SUCCESS: &str = "revkeeper_snapshot_last_success_timestamp_seconds";
/// Metrics that describe the last successful snapshot: carried over by a failed run.
const CARRIED: &[&str] = &[
    LAST_SUCCESS,
    "revkeeper_snapshot_db_size_bytes",
    "revkeeper_snapshot_file_size_bytes",
    "revkeeper_snapshot_revision",
];

const HELP: &[(&str, &str)] = &[
    (
        "revkeeper_snapshot_success",
        "1 if the last snapshot save succeeded, 0 if it failed.",
    ),
    (
        "revkeeper_snapshot_last_attempt_timestamp_seconds",
        "Unix time the last snapshot save ended, successful or not.",
    ),
    (
        "revkeeper_snapshot_duration_seconds",
        "Wall time of the last snapshot save, successful or not.",
    ),
    (
        LAST_SUCCESS,
        "Unix time of the last successful snapshot save.",
    ),
    (
        "revkeeper_snapshot_db_size_bytes",
        "Size of the etcd db in the last successful snapshot.",
    ),
    (
        "revkeeper_snapshot_file_size_bytes",
        "Size on disk of the last successful snapshot file.",
    ),
    (
        "revkeeper_snapshot_revision",
        "etcd store revision of the last successful snapshot.",
    ),
];

/// Sample values of an exposition text, by metric name: the per-run metrics this module writes
/// (the `job` label is dropped; per-destination samples, which carry a `location`, are not read).
pub fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.contains("location=") {
            continue;
        }
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let name = series.split('{').next().unwrap_or(series);
        if let Ok(v) = value.parse::<f64>() {
            out.insert(name.to_string(), v);
        }
    }
    out
}

/// A label value escaped as the exposition format wants.
fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", label_value(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

const DESTINATION_HELP: &[(&str, &str)] = &[
    (
        "revkeeper_snapshot_destination_success",
        "1 if the last snapshot save wrote this destination, 0 if it failed there.",
    ),
    (
        "revkeeper_snapshot_destination_bytes",
        "Bytes the last snapshot save sent to this destination.",
    ),
    (
        "revkeeper_snapshot_destination_duration_seconds",
        "Seconds from the start of the last snapshot save to this destination's end.",
    ),
];

/// The exposition text for `run`, given the previous file's values.
pub fn render(run: &SaveRun, previous: &BTreeMap<String, f64>) -> String {
    let mut values: BTreeMap<&str, f64> = BTreeMap::new();
    values.insert(
        "revkeeper_snapshot_success",
        if run.success { 1.0 } else { 0.0 },
    );
    values.insert(
        "revkeeper_snapshot_last_attempt_timestamp_seconds",
        run.finished_unix,
    );
    values.insert("revkeeper_snapshot_duration_seconds", run.duration_seconds);
    match (run.success, run.snapshot) {
        (true, Some(s)) => {
            values.insert(LAST_SUCCESS, run.finished_unix);
            values.insert("revkeeper_snapshot_db_size_bytes", s.db_size as f64);
            values.insert("revkeeper_snapshot_file_size_bytes", s.file_size as f64);
            values.insert("revkeeper_snapshot_revision", s.revision as f64);
        }
        _ => {
            for name in CARRIED {
                if let Some(v) = previous.get(*name) {
                    values.insert(name, *v);
                }
            }
        }
    }
    let job: Vec<(&str, &str)> = run.job.iter().map(|j| ("job", j.as_str())).collect();
    let mut text = String::new();
    for (name, help) in HELP {
        if let Some(v) = values.get(name) {
            text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
            text.push_str(&format!("{name}{} {}\n", labels(&job), format_value(*v)));
        }
    }
    for (i, (name, help)) in DESTINATION_HELP.iter().enumerate() {
        if run.destinations.is_empty() {
            break;
        }
        text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
        for d in &run.destinations {
            let mut pairs = job.clone();
            pairs.push(("location", &d.location));
            let v = match i {
                0 => f64::from(u8::from(d.success)),
                1 => d.bytes as f64,
                _ => d.seconds,
            };
            text.push_str(&format!("{name}{} {}\n", labels(&pairs), format_value(v)));
        }
    }
    text
}

fn format_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.3}")
    }
}

/// Writes the metrics file atomically (mode 0644: node_exporter must read it).
pub fn write(path: &Path, run: &SaveRun) -> Result<()> {
    let previous = std::fs::read_to_string(path)
        .map(|t| parse(&t))
        .unwrap_or_default();
    fsutil::write_atomic(path, render(run, &previous).as_bytes(), 0o644)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_keeps_last_success() {
        let ok = SaveRun {
            success: true,
            finished_unix: 1000.5,
            duration_seconds: 2.25,
            snapshot: Some(SnapshotFacts {
                db_size: 4096,
                file_size: 100,
                revision: 42,
            }),
            job: None,
            destinations: Vec::new(),
        };
        let first = render(&ok, &BTreeMap::new());
        let v = parse(&first);
        assert_eq!(v["revkeeper_snapshot_success"], 1.0);
        assert_eq!(v[LAST_SUCCESS], 1000.5);
        assert_eq!(v["revkeeper_snapshot_revision"], 42.0);
        assert!(first.contains("# TYPE revkeeper_snapshot_success gauge"));

        let failed = SaveRun {
            success: false,
            finished_unix: 2000.0,
            duration_seconds: 0.5,
            snapshot: None,
            job: Some("etcd-main".into()),
            destinations: vec![DestinationRun {
                location: "s3://b/p".into(),
                success: false,
                bytes: 10,
                seconds: 0.25,
            }],
        };
        let v2 = parse(&render(&failed, &v));
        assert_eq!(v2["revkeeper_snapshot_success"], 0.0);
        assert_eq!(v2[LAST_SUCCESS], 1000.5);
        assert_eq!(
            v2["revkeeper_snapshot_last_attempt_timestamp_seconds"],
            2000.0
        );
        assert_eq!(v2["revkeeper_snapshot_duration_seconds"], 0.5);
        assert_eq!(v2["revkeeper_snapshot_revision"], 42.0);

        let text = render(&failed, &v);
        assert!(
            text.contains("revkeeper_snapshot_success{job=\"etcd-main\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "revkeeper_snapshot_destination_success{job=\"etcd-main\",location=\"s3://b/p\"} 0\n"
            ),
            "{text}"
        );

        // A first run that fails has no success time at all.
        let v3 = parse(&render(&failed, &BTreeMap::new()));
        assert!(!v3.contains_key(LAST_SUCCESS));
    }
}
