//! Our restore WAL and `.snap` against the real `etcdutl snapshot restore` (3.5): identical
//! file names and bytes (all 64,000,000 WAL bytes), modes as in
//! `docs/format-restore.md#output-tree`.
//!
//! etcdutl and the snapshot (`../shared/fixtures/cluster-dev/cluster.db`) come from the harness
//! (`revkeeper_harness::require_tool`, `require_fixture`): without either the comparison is
//! skipped with a notice, or fails when `REVKEEPER_REQUIRE_ALL=1`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use revkeeper_formats::etcd::bootstrap::RestoreBootstrap;
use revkeeper_formats::etcd::members::{InitialCluster, parse_urls};
use revkeeper_formats::etcd::snap::write_snap_file;
use revkeeper_formats::etcd::wal::{FIRST_SEGMENT_NAME, read_segment, write_first_segment};
use revkeeper_harness::{require_fixture, require_tool};

/// The inputs of one restore, as etcdutl flags.
struct Restore<'a> {
    name: &'a str,
    initial_cluster: &'a str,
    advertise_peer_urls: &'a str,
    token: &'a str,
}

impl Restore<'_> {
    const DEFAULTS: Restore<'static> = Restore {
        name: "default",
        initial_cluster: "default=http://localhost:2380",
        advertise_peer_urls: "http://localhost:2380",
        token: "etcd-cluster",
    };
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs etcdutl; with `defaults` no membership flags are passed at all.
fn run_etcdutl(etcdutl: &Path, db: &Path, data_dir: &Path, r: &Restore, defaults: bool) {
    let mut cmd = Command::new(etcdutl);
    cmd.arg("snapshot")
        .arg("restore")
        .arg(db)
        .arg("--data-dir")
        .arg(data_dir);
    if !defaults {
        cmd.args(["--name", r.name])
            .args(["--initial-cluster", r.initial_cluster])
            .args(["--initial-advertise-peer-urls", r.advertise_peer_urls])
            .args(["--initial-cluster-token", r.token]);
    }
    let out = cmd.output().expect("run etcdutl");
    assert!(
        out.status.success(),
        "etcdutl failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn compare(case: &str, r: &Restore, defaults: bool) {
    let (Some(etcdutl), Some(db)) = (
        require_tool("etcdutl"),
        require_fixture("cluster-dev/cluster.db"),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let theirs = tmp.path().join("etcdutl");
    run_etcdutl(&etcdutl, &db, &theirs, r, defaults);

    // Ours, from the same flag values through the same parsing and checks.
    let cluster = InitialCluster::parse(r.initial_cluster).unwrap();
    let advertised: Vec<&str> = r.advertise_peer_urls.split(',').collect();
    cluster
        .verify_bootstrap(r.name, &parse_urls(&advertised).unwrap())
        .unwrap();
    let bootstrap = RestoreBootstrap::from_initial_cluster(&cluster, r.token).unwrap();
    let ours = tmp.path().join("ours");
    fs::create_dir(&ours).unwrap();
    let our_wal = write_first_segment(&ours, &bootstrap.wal_bytes(r.name).unwrap()).unwrap();
    let our_snap =
        write_snap_file(&ours, &bootstrap.snap_file_name(), &bootstrap.snap_bytes()).unwrap();

    let member = theirs.join("member");
    let (wal_dir, snap_dir) = (member.join("wal"), member.join("snap"));
    for dir in [&theirs, &member, &wal_dir, &snap_dir] {
        assert_eq!(mode(dir), 0o700, "{case}: mode of {}", dir.display());
    }
    assert_eq!(
        file_names(&wal_dir),
        [FIRST_SEGMENT_NAME],
        "{case}: wal dir"
    );
    assert_eq!(
        file_names(&snap_dir),
        [bootstrap.snap_file_name(), "db".to_string()],
        "{case}: snap dir"
    );
    assert_eq!(mode(&snap_dir.join("db")), 0o600, "{case}: db mode");

    let their_wal_path = wal_dir.join(FIRST_SEGMENT_NAME);
    assert_eq!(mode(&their_wal_path), 0o600, "{case}: etcdutl wal mode");
    assert_eq!(mode(&our_wal), 0o600, "{case}: our wal mode");
    let their_wal = fs::read(&their_wal_path).unwrap();
    let our_wal_bytes = fs::read(&our_wal).unwrap();
    assert_eq!(their_wal.len(), 64_000_000, "{case}: etcdutl wal size");
    if their_wal != our_wal_bytes {
        let first = their_wal
            .iter()
            .zip(&our_wal_bytes)
            .position(|(a, b)| a != b);
        panic!(
            "{case}: WAL differs at byte {first:?}\netcdutl: {:?}\nours:    {:?}",
            read_segment(&their_wal),
            read_segment(&our_wal_bytes)
        );
    }

    let their_snap_path = snap_dir.join(bootstrap.snap_file_name());
    assert_eq!(mode(&their_snap_path), mode(&our_snap), "{case}: snap mode");
    assert_eq!(mode(&their_snap_path) & 0o600, 0o600, "{case}: snap mode");
    let their_snap = fs::read(&their_snap_path).unwrap();
    let our_snap_bytes = fs::read(&our_snap).unwrap();
    assert!(their_snap == our_snap_bytes, "{case}: .snap bytes differ");
    eprintln!("{case}: WAL and .snap identical to {}", etcdutl.display());
}

#[test]
fn defaults_match_etcdutl() {
    compare("defaults", &Restore::DEFAULTS, true);
}

#[test]
fn three_members_with_two_peer_urls_match_etcdutl() {
    let restore = Restore {
        name: "m2",
        initial_cluster: "m1=http://127.0.0.1:24811,m2=http://127.0.0.1:24822,\
                          m2=http://127.0.0.1:24812,m3=http://127.0.0.1:24813",
        advertise_peer_urls: "http://127.0.0.1:24822,http://127.0.0.1:24812",
        // Gives m1 the 15-digit ID 8c02d438254270b: numerically the smallest (the vote,
        // raft index 1) but not first among the hex keys of the v2 store's members map.
        token: "tok-compare-6",
    };
    let cluster = InitialCluster::parse(restore.initial_cluster).unwrap();
    let bootstrap = RestoreBootstrap::from_initial_cluster(&cluster, restore.token).unwrap();
    assert_eq!(bootstrap.members()[0].name, "m1");
    assert_eq!(bootstrap.members()[0].id, 0x8c02d438254270b);
    compare("3 members", &restore, false);
}
