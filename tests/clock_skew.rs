//! A snapshot's "now" is estimated robustly: one Lease written by a clock days ahead (the Lease
//! of a deleted Node) is reported as `clock-skew` instead of moving "now" and making every Event
//! expired. Real etcd: the reference cluster restored and served, the Lease put through the API,
//! the snapshot taken from the server.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

const SKEWED: &str = "/registry/leases/kube-node-lease/ip-10-0-250-7.eu-central-1.compute.internal";
/// 3.7 days after the fixture's snapshot_time (2026-11-20T23:32:02Z).
const SKEWED_RENEW: &str = "2026-11-24T16:20:00.000000Z";

/// The fixture's data plus the skewed Lease, as a snapshot taken from a real etcd.
fn skewed_snapshot(dir: &Path, work: &Path) -> std::path::PathBuf {
    let member = common::restore_and_serve(common::revkeeper(), &dir.join("cluster.db"), work);
    let rt = common::rt();
    let mut c = common::member_client(&rt, &member);
    let lease = json!({
        "kind": "Lease", "apiVersion": "coordination.k8s.io/v1",
        "metadata": {"name": "ip-10-0-250-7.eu-central-1.compute.internal",
            "namespace": "kube-node-lease", "uid": "6a1f0c3e-skewed",
            "creationTimestamp": "2026-10-02T08:00:00Z"},
        "spec": {"holderIdentity": "ip-10-0-250-7.eu-central-1.compute.internal",
            "leaseDurationSeconds": 40, "renewTime": SKEWED_RENEW}
    });
    rt.block_on(c.put(SKEWED, lease.to_string(), None)).unwrap();
    let snap = work.join("skewed.db");
    common::save_snapshot(&rt, &mut c, &snap);
    snap
}

fn keys_of(findings: &[Value], check: &str) -> BTreeSet<String> {
    findings
        .iter()
        .filter(|f| f["check"] == check)
        .map(|f| f["key"].as_str().unwrap().to_string())
        .collect()
}

fn planted(truth: &Value, class: &str) -> BTreeSet<String> {
    truth["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["class"] == class)
        .map(|a| a["key"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_lease_from_a_clock_days_ahead_is_clock_skew_not_now() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let truth = common::read_json(&dir.join("truth.json"));
    let work = tempfile::tempdir().unwrap();
    let snap = skewed_snapshot(&dir, work.path());
    let snap = snap.to_str().unwrap();
    let config = dir.join("encryption-config.yaml");
    let config = config.to_str().unwrap();
    let args = ["stale", "--snapshot", snap, "--encryption-config", config];

    let r = common::run(&[&args[..], &["-o", "json"]].concat());
    assert_eq!(r.code, 0, "{r:?}");
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();

    // "now" is the fixture's own time, not the skewed renewTime.
    let snapshot_time = time::OffsetDateTime::parse(
        truth["snapshot_time"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let now = time::OffsetDateTime::parse(
        doc["now"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let behind = (snapshot_time - now).whole_seconds();
    assert!(
        (0..=120).contains(&behind),
        "now {now} should be just before snapshot_time {snapshot_time} ({})",
        doc["now_basis"]
    );
    assert_eq!(doc["now_estimated"], true);
    let basis = doc["now_basis"].as_str().unwrap();
    assert!(
        basis.contains(", the latest of the 64 newest writes with a heartbeat, revisions ")
            && basis.ends_with(&format!("; 1 ignored as clock skew: {SKEWED}")),
        "{basis}"
    );

    // Age-based findings are exactly the planted ones: no Event expired, no deletion stuck
    // because of the skewed clock.
    for class in [
        "event-expired",
        "stuck-deletion",
        "namespace-stuck-terminating",
    ] {
        assert_eq!(keys_of(findings, class), planted(&truth, class), "{class}");
    }

    // The skewed Lease is the one clock-skew finding, a warning with its evidence.
    assert_eq!(
        keys_of(findings, "clock-skew"),
        BTreeSet::from([SKEWED.into()])
    );
    let skew = findings
        .iter()
        .find(|f| f["check"] == "clock-skew")
        .unwrap();
    assert_eq!(skew["severity"], "warning");
    let evidence = skew["evidence"].as_str().unwrap();
    assert!(
        evidence.starts_with(
            "renewTime 2026-11-24T16:20:00Z is 3d16h after the estimated now (2026-11-20T23:31:52Z)"
        ),
        "{evidence}"
    );
    assert!(keys_of(findings, "node-lease-without-node").contains(SKEWED));

    // The table says how "now" was estimated, and `--check clock-skew` selects the finding.
    let r = common::run(&[&args[..], &["--check", "clock-skew"]].concat());
    assert_eq!(r.code, 0, "{r:?}");
    let header = r.stdout.lines().find(|l| l.starts_with("# now ")).unwrap();
    assert_eq!(
        header,
        format!(
            "# now {} (estimated: {basis})",
            doc["now"].as_str().unwrap()
        )
    );
    let rows: Vec<&str> = r.stdout.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(
        rows.iter()
            .any(|l| l.contains("clock-skew") && l.contains(SKEWED)),
        "{}",
        r.stdout
    );
    assert!(
        !rows.iter().any(|l| l.contains("event-expired")),
        "{}",
        r.stdout
    );
}
