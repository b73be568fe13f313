//! The TUI on a live etcd costs one load, then one watch: puts, deletes and lease changes made
//! after the first load reach the keyspace counts, the findings and the leases through the
//! watch, without listing again; only a compaction past the watch's revision lists again, once.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use etcd_client::{CompactionOptions, PutOptions};
use revkeeper::tui_backend::tracker::Tracker;
use revkeeper::tui_backend::{CoreBackend, Opened, Settings};
use revkeeper_formats::k8s::Keyring;
use revkeeper_harness::Member;
use revkeeper_ui::Backend;
use serde_json::json;

fn configmap(name: &str, owner: Option<(&str, &str)>) -> String {
    let mut o = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"),
                     "creationTimestamp": "2025-01-01T00:00:00Z"},
    });
    if let Some((name, uid)) = owner {
        o["metadata"]["ownerReferences"] =
            json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name, "uid": uid}]);
    }
    o.to_string()
}

fn replicaset(name: &str, uid: &str) -> String {
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": "default", "uid": uid,
                     "creationTimestamp": "2025-01-01T00:00:00Z"},
        "spec": {"replicas": 1},
    })
    .to_string()
}

fn count_of(ks: &revkeeper_ui::Keyspace, resource: &str) -> u64 {
    ks.resources
        .iter()
        .find(|r| r.resource == resource)
        .map_or(0, |r| r.count)
}

/// Asks until `done` holds (the watch brings changes within a moment), failing after 20 s.
fn eventually<T>(what: &str, mut ask: impl FnMut() -> T, done: impl Fn(&T) -> bool) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = ask();
        if done(&got) {
            return got;
        }
        assert!(Instant::now() < deadline, "{what}: not seen within 20 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn puts_deletes_and_leases_arrive_by_the_watch_without_a_relist() {
    let member = Member::start_single();
    let rt = rt();
    let mut c = member_client(&rt, &member);
    let put = |c: &mut etcd_client::Client, key: &str, value: String, lease: Option<i64>| {
        let opts = lease.map(|l| PutOptions::new().with_lease(l));
        rt.block_on(c.put(key, value, opts)).unwrap();
    };
    put(
        &mut c,
        "/registry/namespaces/default",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default", "uid": "ns"}})
            .to_string(),
        None,
    );
    put(
        &mut c,
        "/registry/configmaps/default/orphan",
        configmap("orphan", Some(("rs1", "rs1-uid"))),
        None,
    );
    put(
        &mut c,
        "/registry/configmaps/default/doomed",
        configmap("doomed", None),
        None,
    );

    let backend = CoreBackend::new(
        Opened::Live(Box::new(live_source(&member))),
        Settings::default(),
    );
    let ks = backend.keyspace(&|_| {}).unwrap();
    assert_eq!(count_of(&ks, "configmaps"), 2);
    let owner_missing = |b: &CoreBackend| {
        b.findings()
            .unwrap()
            .items
            .iter()
            .filter(|f| f.check == "owner-missing")
            .map(|f| f.key.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        owner_missing(&backend),
        ["/registry/configmaps/default/orphan"]
    );
    let first = backend
        .overview()
        .unwrap()
        .reads
        .expect("a live source's reads");
    assert_eq!(first.relists, 0);
    assert!(first.first_load_bytes > 0, "{first:?}");

    // After the first load: the owner appears, a key goes, a key with a new lease comes.
    put(
        &mut c,
        "/registry/replicasets/default/rs1",
        replicaset("rs1", "rs1-uid"),
        None,
    );
    rt.block_on(c.delete("/registry/configmaps/default/doomed", None))
        .unwrap();
    let lease = rt.block_on(c.lease_grant(600, None)).unwrap().id();
    put(
        &mut c,
        "/registry/configmaps/default/leased",
        configmap("leased", None),
        Some(lease),
    );

    let ks = eventually(
        "the put, the delete and the leased key",
        || backend.keyspace(&|_| {}).unwrap(),
        |ks| count_of(ks, "configmaps") == 2 && count_of(ks, "replicasets") == 1,
    );
    assert_eq!(ks.total_keys, 4);
    assert!(
        owner_missing(&backend).is_empty(),
        "the owner came by the watch: its facts are in the findings"
    );
    let leases = backend.leases().unwrap();
    let row = leases
        .leases
        .iter()
        .find(|l| l.id == lease)
        .unwrap_or_else(|| panic!("lease {lease:x} not in {leases:?}"));
    assert_eq!(row.keys, ["/registry/configmaps/default/leased"]);
    let reads = backend.overview().unwrap().reads.unwrap();
    assert_eq!(reads.relists, 0, "{reads:?}");
    assert_eq!(reads.listed_at, first.listed_at, "no list since the first");
    assert_eq!(reads.watch_error, None);
}

#[test]
fn a_compaction_past_the_watch_lists_again_once() {
    let member = Member::start_single();
    let rt = rt();
    let mut c = member_client(&rt, &member);
    for n in ["a", "b"] {
        rt.block_on(c.put(
            format!("/registry/configmaps/default/{n}"),
            configmap(n, None),
            None,
        ))
        .unwrap();
    }
    let tracker = Arc::new(Tracker::new(
        Arc::new(live_source(&member)),
        "/registry",
        Keyring::default(),
        true,
    ));
    let listed = tracker.with_loaded(&|_| {}, |l| l.revision).unwrap();
    let has = |key: &str| {
        tracker
            .with_loaded(&|_| {}, |l| l.keyspace.contains(key.as_bytes()))
            .unwrap()
    };
    assert!(has("/registry/configmaps/default/a"));

    // Before the watch starts: changes, then a compaction that takes their history away.
    rt.block_on(c.delete("/registry/configmaps/default/a", None))
        .unwrap();
    let r = rt
        .block_on(c.put("/registry/configmaps/default/c", configmap("c", None), None))
        .unwrap();
    let head = r.header().unwrap().revision();
    assert!(head > listed + 1);
    rt.block_on(c.compact(head, Some(CompactionOptions::new().with_physical())))
        .unwrap();

    tracker.start_following().unwrap();
    let cost = eventually(
        "the relist after the compaction",
        || tracker.cost().unwrap(),
        |c| c.relists > 0,
    );
    assert_eq!(cost.relists, 1);
    assert!(
        cost.relist_reason.as_deref().unwrap().contains("compacted"),
        "{cost:?}"
    );
    assert!(cost.listed_at >= head, "{cost:?}");
    assert!(!has("/registry/configmaps/default/a"));
    assert!(has("/registry/configmaps/default/c"));

    // The watch goes on from the new list.
    rt.block_on(c.put("/registry/configmaps/default/d", configmap("d", None), None))
        .unwrap();
    eventually(
        "a put after the relist",
        || has("/registry/configmaps/default/d"),
        |seen| *seen,
    );
    assert_eq!(tracker.cost().unwrap().relists, 1, "exactly one relist");
    tracker.stop();
}
