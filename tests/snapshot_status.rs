//! `snapshot status` gives etcdutl's values: on the shared fixture (ground truth recorded from
//! etcdutl), on fresh snapshots of a real etcd compared with etcdutl 3.5 when it is there, and
//! through the CLI on the bundled sample.

mod common;

use std::collections::HashSet;

use revkeeper::snapshot::status::status;
use revkeeper::source::{KeyRange, RangeQuery, SnapshotSource, Source};
use revkeeper_harness::Member;

#[test]
fn fixture_status_matches_the_recorded_etcdutl_output() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap();
    let src = SnapshotSource::open(&dir.join("cluster.db")).unwrap();
    let st = status(src.db()).unwrap();
    let expect = &truth["etcdutl_status"];
    assert_eq!(st.hash as u64, expect["hash"].as_u64().unwrap(), "hash");
    assert_eq!(st.revision, expect["revision"].as_i64().unwrap());
    assert_eq!(st.total_size, expect["totalSize"].as_u64().unwrap());
    // etcdutl 3.5 counted every bucket entry; 3.6 (which we follow) counts live user keys.
    assert_eq!(st.total_key as u64, truth["keys"]["live"].as_u64().unwrap());
    let overview = src.overview().unwrap();
    assert_eq!(
        overview.compact_revision,
        truth["snapshot"]["compact_revision"].as_i64().unwrap()
    );

    // Every live key of the ground truth, with its revisions and lease.
    let records = src
        .range(&RangeQuery::latest(KeyRange::prefix("")))
        .unwrap();
    let objects = std::fs::read_to_string(dir.join("objects.jsonl")).unwrap();
    let mut n = 0;
    for (line, rec) in objects.lines().zip(&records) {
        let o: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(o["key"].as_str().unwrap().as_bytes(), &rec.key[..]);
        assert_eq!(o["mod_revision"].as_i64().unwrap(), rec.mod_revision);
        assert_eq!(o["create_revision"].as_i64().unwrap(), rec.create_revision);
        assert_eq!(o["version"].as_i64().unwrap(), rec.version);
        assert_eq!(o["value_len"].as_u64().unwrap() as usize, rec.value.len());
        n += 1;
    }
    assert_eq!(n, records.len());
    assert_eq!(
        records.len() as u64,
        truth["keys"]["live"].as_u64().unwrap()
    );
    let lease_ids: HashSet<i64> = src.leases().unwrap().iter().map(|l| l.id).collect();
    assert_eq!(lease_ids.len(), truth["leases"].as_array().unwrap().len());
}

#[test]
fn status_equals_etcdutl_on_fresh_snapshots() {
    let member = Member::start_single();
    let rt = common::rt();
    let mut c = common::member_client(&rt, &member);
    rt.block_on(async {
        for i in 0..300 {
            c.put(
                format!("/registry/secrets/ns/s{i}"),
                vec![b'x'; (i * 37) % 9000],
                None,
            )
            .await
            .unwrap();
        }
        c.delete("/registry/secrets/ns/s1", None).await.unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("s.db");
    common::save_snapshot(&rt, &mut c, &snap);

    let r = common::run(&["snapshot", "status", "-w", "json", snap.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    let ours: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(ours["totalKey"], 299);
    let version = if revkeeper_harness::etcd_version() >= (3, 6) {
        serde_json::json!("3.6.0")
    } else {
        serde_json::Value::Null // absent before 3.6
    };
    assert_eq!(ours["version"], version);

    let Some(theirs) = common::etcdutl_status(&snap) else {
        return;
    };
    for field in ["hash", "revision", "totalSize"] {
        assert_eq!(ours[field], theirs[field], "{field}");
    }
}

#[test]
fn cli_reads_the_bundled_sample() {
    let sample = common::sample_db();
    let sample = sample.to_str().unwrap();
    let r = common::run(&["snapshot", "status", sample]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("HASH"), "{r:?}");
    let r = common::run(&["snapshot", "verify", sample]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("OK"), "{r:?}");
    let prefix = "/registry/configmaps/demo/";
    let r = common::run(&[
        "get",
        "--snapshot",
        sample,
        "--prefix",
        prefix,
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["count"].as_u64().unwrap() >= 4);
}

#[test]
fn damaged_snapshots_fail_verify_with_a_location_and_never_panic() {
    let sample = std::fs::read(common::sample_db()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.db");
    let mut flipped = sample.clone();
    flipped[4096 * 2 + 100] ^= 0x40;
    std::fs::write(&bad, &flipped).unwrap();
    let r = common::run(&["snapshot", "verify", bad.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("sha256 trailer: MISMATCH"), "{r:?}");
    assert_eq!(r.stderr.lines().count(), 1, "one-line error: {r:?}");

    let truncated = dir.path().join("short.db");
    std::fs::write(&truncated, &sample[..sample.len() / 2]).unwrap();
    let r = common::run(&["snapshot", "status", truncated.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stderr.contains("short.db"), "names the file: {r:?}");
    assert!(!r.stderr.contains("panicked"), "{r:?}");
}
