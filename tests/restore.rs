//! `snapshot restore`, proven by real etcd servers started on what it wrote.

mod common;

use std::path::{Path, PathBuf};

use etcd_client::{PutOptions, WatchOptions};
use revkeeper::source::{KeyRange, RangeQuery, SnapshotSource, Source};
use revkeeper_harness::{Cluster, Member, MemberSpec, free_port, require_tool};

const BUMP: i64 = 1_000_000_000;

/// A source cluster with history, a compaction, leases and deletes; returns its snapshot.
fn source_snapshot(dir: &Path) -> (PathBuf, Vec<i64>) {
    let member = Member::start_single();
    let rt = common::rt();
    let mut c = common::member_client(&rt, &member);
    let leases = rt.block_on(async {
        let events = c.lease_grant(3660, None).await.unwrap().id();
        let short = c.lease_grant(600, None).await.unwrap().id();
        for i in 0..200 {
            let opts = (i % 10 == 0).then(|| PutOptions::new().with_lease(events));
            c.put(
                format!("/registry/pods/ns/p{i:03}"),
                vec![b'a' + (i % 26) as u8; 100 + i * 13],
                opts,
            )
            .await
            .unwrap();
        }
        c.put(
            "/registry/masterleases/10.0.0.1",
            "m",
            Some(PutOptions::new().with_lease(short)),
        )
        .await
        .unwrap();
        for v in 0..10 {
            c.put("/registry/configmaps/ns/cm", format!("v{v}"), None)
                .await
                .unwrap();
        }
        c.put("/registry/big", vec![7u8; 300_000], None)
            .await
            .unwrap();
        let r = c.get("x", None).await.unwrap().header().unwrap().revision();
        c.compact(r - 5, None).await.unwrap();
        c.delete("/registry/pods/ns/p005", None).await.unwrap();
        vec![events, short]
    });
    let snap = dir.join("source.db");
    common::save_snapshot(&rt, &mut c, &snap);
    (snap, leases)
}

struct Restored {
    spec: MemberSpec,
}

fn restore_member(
    snap: &Path,
    dir: &Path,
    name: &str,
    ports: &[(u16, u16)],
    names: &[&str],
    extra: &[&str],
) -> Restored {
    let initial: Vec<String> = names
        .iter()
        .zip(ports)
        .map(|(n, (_, p))| format!("{n}=http://127.0.0.1:{p}"))
        .collect();
    let initial = initial.join(",");
    let i = names.iter().position(|n| *n == name).unwrap();
    let (client_port, peer_port) = ports[i];
    let data_dir = dir.join(format!("{name}.etcd"));
    let out = common::revkeeper()
        .args(["snapshot", "restore"])
        .arg(snap)
        .arg("--data-dir")
        .arg(&data_dir)
        .args([
            "--name",
            name,
            "--initial-cluster",
            &initial,
            "--initial-cluster-token",
            "tok-restore",
        ])
        .args([
            "--initial-advertise-peer-urls",
            &format!("http://127.0.0.1:{peer_port}"),
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "restore failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Restored {
        spec: MemberSpec {
            name: name.into(),
            data_dir,
            client_port,
            peer_port,
            initial_cluster: initial,
            cluster_token: "tok-restore".into(),
            cluster_state: "new",
            tls: None,
            extra_args: Vec::new(),
        },
    }
}

fn all() -> RangeQuery {
    RangeQuery::latest(KeyRange::prefix(""))
}

#[test]
fn single_member_restore_with_bump_moves_time_forward() {
    let dir = tempfile::tempdir().unwrap();
    let (snap, leases) = source_snapshot(dir.path());
    let original = SnapshotSource::open(&snap).unwrap();
    let snap_rev = original.overview().unwrap().revision;

    let ports = [(free_port(), free_port())];
    let r = restore_member(
        &snap,
        dir.path(),
        "r1",
        &ports,
        &["r1"],
        &["--bump-revision", "1000000000", "--mark-compacted"],
    );
    assert_private_tree(&r.spec.data_dir);
    let live_keys = original.range(&all()).unwrap().len();
    common::assert_precompacted(
        &r.spec.data_dir.join("member/snap/db"),
        live_keys,
        snap_rev + BUMP,
    );
    // Info level: the lines that say whether a compaction ran at start.
    let mut spec = r.spec;
    spec.extra_args = vec!["--log-level".into(), "info".into()];
    let mut m = Member::spawn_on(spec);
    m.wait_healthy();
    common::assert_no_compaction_at_start(&m.log_text(), snap_rev + BUMP);
    let live = common::live_source(&m);

    assert_eq!(
        live.range(&all()).unwrap(),
        original.range(&all()).unwrap(),
        "every key, value, revision, version and lease"
    );
    let ov = live.overview().unwrap();
    assert!(
        ov.revision >= snap_rev + BUMP,
        "revision {} < {}",
        ov.revision,
        snap_rev + BUMP
    );
    assert_eq!(ov.compact_revision, snap_rev + BUMP);
    let old = RangeQuery {
        range: KeyRange::prefix(""),
        revision: Some(snap_rev),
        keys_only: true,
    };
    let err = live.range(&old).unwrap_err().to_string();
    assert!(err.contains("compacted"), "{err}");

    let rt = common::rt();
    let mut c = common::member_client(&rt, &m);
    rt.block_on(async {
        let mut stream = c
            .watch(
                "/registry/",
                Some(
                    WatchOptions::new()
                        .with_prefix()
                        .with_start_revision(snap_rev),
                ),
            )
            .await
            .unwrap();
        let mut canceled = None;
        while let Some(resp) = stream.message().await.unwrap() {
            if resp.canceled() {
                canceled = Some(resp.compact_revision());
                break;
            }
        }
        assert_eq!(
            canceled,
            Some(snap_rev + BUMP),
            "old watches end as compacted at the bumped revision"
        );
        let put = c.put("/registry/new", "after", None).await.unwrap();
        assert_eq!(put.header().unwrap().revision(), snap_rev + BUMP + 1);
        let live_leases = c.leases().await.unwrap();
        let mut ids: Vec<i64> = live_leases.leases().iter().map(|l| l.id()).collect();
        ids.sort();
        let mut want = leases.clone();
        want.sort();
        assert_eq!(ids, want);
        let ttl = c.lease_time_to_live(leases[0], None).await.unwrap();
        assert_eq!(ttl.granted_ttl(), 3660);
    });
}

#[test]
fn three_members_restored_from_one_snapshot_form_a_healthy_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let (snap, _) = source_snapshot(dir.path());
    let names = ["a", "b", "c"];
    let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
    let specs: Vec<MemberSpec> = names
        .iter()
        .map(|n| {
            restore_member(
                &snap,
                dir.path(),
                n,
                &ports,
                &names,
                &["--bump-revision", "1000", "--mark-compacted"],
            )
            .spec
        })
        .collect();
    let mut cluster = Cluster::spawn_all(specs);
    cluster.wait_healthy();
    let rt = common::rt();
    let mut leaders = std::collections::HashSet::new();
    let mut hashes = std::collections::HashSet::new();
    let mut data = Vec::new();
    // A write through one member, then every member must agree on the data at that revision.
    let mut first = common::member_client(&rt, &cluster.members[0]);
    let written = rt.block_on(async {
        for _ in 0..100 {
            if first
                .status()
                .await
                .map(|s| s.leader() != 0)
                .unwrap_or(false)
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        common::put_revision(&mut first, "/registry/after-restore", "x").await
    });
    let snap_rev = SnapshotSource::open(&snap)
        .unwrap()
        .overview()
        .unwrap()
        .revision;
    assert_eq!(
        written,
        snap_rev + 1_000 + 1,
        "the first write lands right after the bump"
    );
    for m in &cluster.members {
        let mut c = common::member_client(&rt, m);
        let (leader, hash) = rt.block_on(async {
            let st = c.status().await.unwrap();
            // Followers may apply the write a moment later.
            for _ in 0..100 {
                if c.status().await.unwrap().header().unwrap().revision() >= written {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            (st.leader(), c.hash_kv(written).await.unwrap().hash())
        });
        leaders.insert(leader);
        hashes.insert(hash);
        data.push(common::live_source(m).range(&all()).unwrap());
    }
    assert_eq!(leaders.len(), 1, "one leader");
    assert!(!leaders.contains(&0));
    assert_eq!(
        hashes.len(),
        1,
        "identical hashkv on every member: {hashes:?}"
    );
    assert!(data[0].iter().any(|r| r.key == b"/registry/after-restore"));
    assert!(data.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn restore_matches_etcdutl_byte_for_byte_where_it_should() {
    let Some(etcdutl) = require_tool("etcdutl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (snap, _) = source_snapshot(dir.path());
    for extra in [
        &[][..],
        &["--bump-revision", "1000000000", "--mark-compacted"][..],
    ] {
        let ours = dir.path().join(format!("ours{}", extra.len()));
        let theirs = dir.path().join(format!("theirs{}", extra.len()));
        for (bin, out) in [
            (PathBuf::from(env!("CARGO_BIN_EXE_revkeeper")), &ours),
            (etcdutl.clone(), &theirs),
        ] {
            let st = std::process::Command::new(bin)
                .args(["snapshot", "restore"])
                .arg(&snap)
                .arg("--data-dir")
                .arg(out)
                .args([
                    "--name",
                    "m1",
                    "--initial-cluster",
                    "m1=http://127.0.0.1:2380,m2=http://127.0.0.2:2380",
                ])
                .args([
                    "--initial-advertise-peer-urls",
                    "http://127.0.0.1:2380",
                    "--initial-cluster-token",
                    "t",
                ])
                .args(extra)
                .output()
                .unwrap();
            assert!(
                st.status.success(),
                "{}",
                String::from_utf8_lossy(&st.stderr)
            );
        }
        let wal = "member/wal/0000000000000000-0000000000000000.wal";
        assert!(
            std::fs::read(ours.join(wal)).unwrap() == std::fs::read(theirs.join(wal)).unwrap(),
            "WAL differs"
        );
        let snap_name = "member/snap/0000000000000001-0000000000000002.snap";
        assert_eq!(
            std::fs::read(ours.join(snap_name)).unwrap(),
            std::fs::read(theirs.join(snap_name)).unwrap()
        );
        let status = |db: PathBuf| -> serde_json::Value {
            let o = std::process::Command::new(&etcdutl)
                .args(["snapshot", "status", "-w", "json"])
                .arg(db)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            serde_json::from_slice(&o.stdout).unwrap()
        };
        let (a, b) = (
            status(ours.join("member/snap/db")),
            status(theirs.join("member/snap/db")),
        );
        // With the bump ours is pre-compacted (only the newest revision of each live key): the
        // hash and 3.5's totalKey (every entry of every bucket) are those etcdutl's db has once
        // etcd ran the compaction it schedules; the live keys (3.6's totalKey) are the same.
        let fields: &[&str] = if extra.is_empty() {
            &["hash", "revision", "totalKey"]
        } else {
            &["revision"]
        };
        for f in fields {
            assert_eq!(a[f], b[f], "{f} with {extra:?}");
        }
        let live_keys = |db: PathBuf| -> serde_json::Value {
            let o = common::revkeeper()
                .args(["snapshot", "status", "-w", "json"])
                .arg(db)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["totalKey"].clone()
        };
        assert_eq!(
            live_keys(ours.join("member/snap/db")),
            live_keys(theirs.join("member/snap/db")),
            "live keys with {extra:?}"
        );
    }
}

#[test]
fn bad_requests_fail_cleanly_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let snap = common::sample_db();
    let run = |args: &[&str]| {
        common::revkeeper()
            .args(["snapshot", "restore"])
            .arg(&snap)
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let cases: &[(&[&str], &str)] = &[
        (
            &["--bump-revision", "10", "--data-dir", "x"],
            "--mark-compacted",
        ),
        (&["--mark-compacted", "--data-dir", "x"], "--bump-revision"),
        (&["--name", "zz", "--data-dir", "x"], "zz"),
        (
            &[
                "--initial-advertise-peer-urls",
                "http://127.0.0.1:9",
                "--data-dir",
                "x",
            ],
            "advertise",
        ),
    ];
    for (args, needle) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1);
    }
    std::fs::create_dir(dir.path().join("full")).unwrap();
    std::fs::write(dir.path().join("full/keep"), "x").unwrap();
    let out = run(&["--data-dir", "full"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        std::fs::read(dir.path().join("full/keep")).unwrap(),
        b"x",
        "never touches an existing data dir"
    );
    std::fs::create_dir(dir.path().join("wal")).unwrap();
    std::fs::write(dir.path().join("wal/keep"), "x").unwrap();
    let out = run(&["--data-dir", "d2", "--wal-dir", "wal"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(!dir.path().join("d2").exists());

    // A damaged snapshot: refused, and no data dir or temp dir is left.
    let mut bytes = std::fs::read(&snap).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 1;
    let bad = dir.path().join("bad.db");
    std::fs::write(&bad, bytes).unwrap();
    let out = common::revkeeper()
        .args(["snapshot", "restore"])
        .arg(&bad)
        .args(["--data-dir", "d3"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        !left
            .iter()
            .any(|n| n == "d3" || n.starts_with(".revkeeper-restore-")),
        "left behind: {left:?}"
    );
}

fn assert_private_tree(data_dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for d in ["", "member", "member/snap", "member/wal"] {
        assert_eq!(mode(&data_dir.join(d)), 0o700, "{d}");
    }
    assert_eq!(mode(&data_dir.join("member/snap/db")), 0o600);
    assert_eq!(
        mode(&data_dir.join("member/wal/0000000000000000-0000000000000000.wal")),
        0o600
    );
    assert_eq!(
        std::fs::metadata(data_dir.join("member/wal/0000000000000000-0000000000000000.wal"))
            .unwrap()
            .len(),
        64_000_000
    );
}

#[test]
fn a_separate_wal_dir_is_written_and_etcd_starts_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let snap = common::sample_db();
    let wal_dir = dir.path().join("wal");
    let wal = wal_dir.to_str().unwrap();
    let ports = [(free_port(), free_port())];
    let mut r = restore_member(
        &snap,
        dir.path(),
        "w1",
        &ports,
        &["w1"],
        &["--wal-dir", wal],
    );
    assert!(
        wal_dir
            .join("0000000000000000-0000000000000000.wal")
            .is_file()
    );
    assert!(!r.spec.data_dir.join("member/wal").exists());
    r.spec.extra_args = vec!["--wal-dir".into(), wal.into()];
    let mut m = Member::spawn_on(r.spec);
    m.wait_healthy();
    let original = SnapshotSource::open(&snap).unwrap();
    assert_eq!(
        common::live_source(&m).range(&all()).unwrap(),
        original.range(&all()).unwrap()
    );
}
