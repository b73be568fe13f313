//! The snapshot source answers exactly what the live server answers for the same revision.

mod common;

use etcd_client::{GetOptions, PutOptions};
use revkeeper::source::{KeyRange, RangeQuery, SnapshotSource, Source};
use revkeeper_harness::Member;

fn all(revision: Option<i64>) -> RangeQuery {
    RangeQuery {
        range: KeyRange::prefix(""),
        revision,
        keys_only: false,
    }
}

#[test]
fn snapshot_and_live_agree_on_keys_history_and_leases() {
    let member = Member::start_single();
    let rt = common::rt();
    let mut c = common::member_client(&rt, &member);
    let (mid_rev, lease) = rt.block_on(async {
        for i in 0..50 {
            c.put(format!("/registry/pods/ns/p{i:02}"), format!("v{i}"), None)
                .await
                .unwrap();
        }
        for v in 0..5 {
            c.put("/registry/configmaps/ns/hist", format!("gen{v}"), None)
                .await
                .unwrap();
        }
        let lease = c.lease_grant(3600, None).await.unwrap().id();
        c.put(
            "/registry/events/ns/e1",
            "event",
            Some(PutOptions::new().with_lease(lease)),
        )
        .await
        .unwrap();
        let r = c.get("x", None).await.unwrap().header().unwrap().revision();
        c.compact(r - 3, None).await.unwrap();
        c.delete("/registry/pods/ns/p07", None).await.unwrap();
        c.put("/registry/configmaps/ns/hist", "after-delete", None)
            .await
            .unwrap();
        c.delete("/registry/configmaps/ns/hist", None)
            .await
            .unwrap();
        c.put("/registry/configmaps/ns/hist", "recreated", None)
            .await
            .unwrap();
        c.put("/bin\u{1}ary", vec![0u8, 159, 146, 150], None)
            .await
            .unwrap();
        (r - 1, lease)
    });
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("s.db");
    common::save_snapshot(&rt, &mut c, &snap);

    let file = SnapshotSource::open(&snap).expect("open snapshot");
    let live = common::live_source(&member);

    let (fo, lo) = (file.overview().unwrap(), live.overview().unwrap());
    assert_eq!(fo.revision, lo.revision);
    assert_eq!(fo.compact_revision, lo.compact_revision);
    assert!(fo.compact_revision > 0);
    assert_eq!(
        fo.members.iter().map(|m| m.id).collect::<Vec<_>>(),
        lo.members.iter().map(|m| m.id).collect::<Vec<_>>()
    );

    let latest = file.range(&all(None)).unwrap();
    assert_eq!(latest, live.range(&all(None)).unwrap());
    assert_eq!(latest.len(), 50 - 1 + 1 + 1 + 1);
    assert_eq!(
        file.range(&all(Some(mid_rev))).unwrap(),
        live.range(&all(Some(mid_rev))).unwrap()
    );
    let prefix = RangeQuery {
        range: KeyRange::prefix("/registry/pods/"),
        revision: None,
        keys_only: true,
    };
    let keys = file.range(&prefix).unwrap();
    assert_eq!(keys, live.range(&prefix).unwrap());
    assert!(keys.iter().all(|k| k.value.is_empty()));
    assert_eq!(keys.len(), 49);

    let hist_file = file.history(b"/registry/configmaps/ns/hist").unwrap();
    assert_eq!(
        hist_file,
        live.history(b"/registry/configmaps/ns/hist").unwrap()
    );
    assert!(hist_file.iter().any(|h| h.deleted));
    assert_eq!(hist_file.last().unwrap().record.value, b"recreated");

    let leases = file.leases().unwrap();
    assert_eq!(leases.len(), 1);
    assert_eq!(leases[0].id, lease);
    assert_eq!(leases[0].ttl, live.leases().unwrap()[0].ttl);

    // Asking for a compacted revision is refused by both, as etcd does.
    assert!(file.range(&all(Some(1))).is_err());
    assert!(live.range(&all(Some(1))).is_err());
    // The raw server view agrees with the record values.
    let server = rt
        .block_on(c.get("/registry/pods/ns/p00", Some(GetOptions::new())))
        .unwrap();
    let kv = &server.kvs()[0];
    let ours = latest
        .iter()
        .find(|r| r.key == b"/registry/pods/ns/p00")
        .unwrap();
    assert_eq!(
        (ours.create_revision, ours.mod_revision, ours.version),
        (kv.create_revision(), kv.mod_revision(), kv.version())
    );
}

/// A live overview names the raft leader and lists the cluster's alarms; a snapshot has no
/// leader but keeps an alarm that was active when it was taken (etcd stores alarms in its
/// `alarm` bucket).
#[test]
fn overviews_name_the_leader_and_list_alarms() {
    let member = Member::start_single();
    let rt = common::rt();
    let mut c = common::member_client(&rt, &member);
    let live = common::live_source(&member);

    let before = live.overview().unwrap();
    assert_eq!(before.members.len(), 1);
    let id = before.members[0].id;
    assert_eq!(before.leader, Some(id), "a single member leads itself");
    assert!(before.alarms.is_empty(), "{:?}", before.alarms);

    rt.block_on(c.alarm(
        etcd_client::AlarmAction::Activate,
        etcd_client::AlarmType::Nospace,
        Some(on_member(id)),
    ))
    .unwrap();
    let err = rt.block_on(c.put("/after-alarm", "x", None)).unwrap_err();
    assert!(err.to_string().contains("database space exceeded"), "{err}");

    let raised = live.overview().unwrap();
    assert_eq!(raised.alarms.len(), 1, "{:?}", raised.alarms);
    assert_eq!(raised.alarms[0].member_id, id);
    assert_eq!(raised.alarms[0].alarm, "NOSPACE");
    assert_eq!(
        raised.alarms[0].to_string(),
        format!("NOSPACE on member {id:x}")
    );

    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("alarmed.db");
    common::save_snapshot(&rt, &mut c, &snap);
    let file = SnapshotSource::open(&snap).unwrap().overview().unwrap();
    assert_eq!(file.leader, None, "a snapshot knows no leader");
    assert_eq!(
        file.alarms, raised.alarms,
        "the alarm bucket holds the alarm"
    );

    rt.block_on(c.alarm(
        etcd_client::AlarmAction::Deactivate,
        etcd_client::AlarmType::Nospace,
        Some(on_member(id)),
    ))
    .unwrap();
    assert!(live.overview().unwrap().alarms.is_empty(), "disarmed");
}

fn on_member(id: u64) -> etcd_client::AlarmOptions {
    let mut o = etcd_client::AlarmOptions::new();
    o.with_member(id);
    o
}
