//! The inspector against the reference cluster `../shared/fixtures/cluster-dev`: its findings,
//! restricted to the classes `truth.json` defines, must equal the planted `anomalies` exactly
//! (compared as sets of (class, key or lease hex)), and no `controls` item may show up under any
//! check — offline on `cluster.db`, on the fixture's own decoded objects, and live on a real
//! etcd started from the same data.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use revkeeper::inspect::facts::ValueState;
use revkeeper::inspect::index::InspectIndex;
use revkeeper::inspect::{Now, Options, Report, inspect, run_detectors};
use revkeeper::source::{LeaseRecord, SnapshotSource};
use revkeeper_formats::k8s::Keyring;
use serde_json::Value;

type Set = BTreeSet<(String, String)>;

fn truth(dir: &Path) -> Value {
    common::read_json(&dir.join("truth.json"))
}

fn expected(truth: &Value) -> Set {
    truth["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let id = a["key"].as_str().or(a["lease"].as_str()).unwrap();
            (a["class"].as_str().unwrap().to_string(), id.to_string())
        })
        .collect()
}

fn found(report: &Report, truth: &Value) -> Set {
    let classes = truth["anomaly_classes"].as_object().unwrap();
    report
        .findings
        .iter()
        .filter(|f| classes.contains_key(f.check))
        .map(|f| (f.check.to_string(), finding_id(f)))
        .collect()
}

fn finding_id(f: &revkeeper::inspect::Finding) -> String {
    match (&f.key, f.lease) {
        (Some(k), _) => k.clone(),
        (None, Some(l)) => format!("{l:016x}"),
        (None, None) => String::new(),
    }
}

/// Fails with the differences (and any control that was reported under any check).
fn assert_matches_truth(what: &str, report: &Report, truth: &Value) {
    let want = expected(truth);
    let got = found(report, truth);
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    let controls: Vec<String> = truth["controls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| {
            c["key"]
                .as_str()
                .or(c["lease"].as_str())
                .map(str::to_string)
        })
        .collect();
    let flagged: Vec<String> = report
        .findings
        .iter()
        .filter(|f| controls.contains(&finding_id(f)))
        .map(|f| format!("{} {}", f.check, finding_id(f)))
        .collect();
    if !missing.is_empty() || !extra.is_empty() || !flagged.is_empty() {
        panic!(
            "{what}: findings differ from truth.json\n  missing ({}): {missing:#?}\n  not in truth ({}): {extra:#?}\n  controls reported: {flagged:#?}\n  values: {:?}",
            missing.len(),
            extra.len(),
            report.values
        );
    }
}

fn fixture_keyring(dir: &Path) -> Keyring {
    Keyring::load(&dir.join("encryption-config.yaml")).unwrap()
}

fn estimate_now() -> Options {
    Options {
        now: Now::Estimate,
        poll_interval: Duration::ZERO,
        ..Options::default()
    }
}

/// The detectors on the fixture's own decoded objects (`objects.jsonl`): checks the rules
/// independently of the value decoders.
#[test]
fn detectors_match_truth_on_decoded_objects() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let truth = truth(&dir);
    let text = std::fs::read_to_string(dir.join("objects.jsonl")).unwrap();
    let mut index = InspectIndex::new("/registry");
    for line in text.lines() {
        let o: Value = serde_json::from_str(line).unwrap();
        let object = o.get("object").filter(|v| !v.is_null());
        let state = if object.is_some() {
            ValueState::Object
        } else {
            ValueState::NotObject
        };
        index.add_decoded(
            o["key"].as_str().unwrap(),
            o["value_len"].as_u64().unwrap() as usize,
            o["lease"].as_i64().unwrap(),
            o["mod_revision"].as_i64().unwrap(),
            state,
            object,
        );
    }
    index.finish();
    let leases: Vec<LeaseRecord> = truth["leases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| LeaseRecord {
            id: l["id"].as_i64().unwrap(),
            ttl: l["ttl"].as_i64().unwrap(),
            remaining_ttl: None,
        })
        .collect();
    let report = run_detectors(&index, &leases, None, false, &estimate_now());
    let t = time::OffsetDateTime::parse(
        truth["snapshot_time"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
    .unix_timestamp();
    assert!(report.now_estimated);
    assert!(
        (t - 120..=t).contains(&report.now),
        "now estimated as {} ({}), snapshot_time {t}",
        report.now,
        report.now_basis
    );
    assert_matches_truth("objects.jsonl", &report, &truth);
}

#[test]
fn snapshot_findings_match_truth() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let truth = truth(&dir);
    let source = SnapshotSource::open(&dir.join("cluster.db")).unwrap();
    let report = inspect(&source, &fixture_keyring(&dir), &Options::default()).unwrap();
    assert!(report.now_estimated, "a snapshot's now is estimated");
    assert_eq!(
        report.leases.len(),
        truth["leases"].as_array().unwrap().len()
    );
    assert_matches_truth("cluster.db", &report, &truth);
}

/// The same data in a live etcd: the snapshot restored with `revkeeper snapshot restore` and
/// served by a real etcd (same keys, values, lease ids and TTLs; keys whose lease is missing
/// stay that way, which no v3 API call can reproduce).
#[test]
fn live_findings_match_truth() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let truth = truth(&dir);
    let work = tempfile::tempdir().unwrap();
    let member =
        common::restore_and_serve(common::revkeeper(), &dir.join("cluster.db"), work.path());
    let source = common::live_source(&member);
    // The data is a replay of an older cluster: judge ages from its own clock.
    let report = inspect(&source, &fixture_keyring(&dir), &estimate_now()).unwrap();
    assert!(report.leases.iter().all(|l| l.remaining_ttl.is_some()));
    assert_matches_truth("live etcd", &report, &truth);
}
