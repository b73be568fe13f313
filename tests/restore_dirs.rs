//! Where `snapshot restore` writes: inside an existing empty data dir (kept as it is, even a
//! mount point), `--wal-dir` at the default place, a preallocated WAL that fails the restore on
//! a full disk, and nothing left behind when it fails.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use revkeeper::source::{KeyRange, RangeQuery, SnapshotSource, Source};
use revkeeper_harness::{Member, MemberSpec, free_port};

const WAL: &str = "0000000000000000-0000000000000000.wal";

/// `revkeeper snapshot restore SNAPSHOT --data-dir DATA` for member m1 on `peer_port`.
fn restore(snapshot: &Path, data_dir: &Path, peer_port: u16, extra: &[&str]) -> common::Run {
    let peer = format!("http://127.0.0.1:{peer_port}");
    common::run_cmd(
        common::revkeeper()
            .args(["snapshot", "restore"])
            .arg(snapshot)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--name", "m1", "--initial-cluster", &format!("m1={peer}")])
            .args(["--initial-cluster-token", "restored"])
            .args(["--initial-advertise-peer-urls", &peer])
            .args(extra),
    )
}

/// Starts a real etcd on the restored data dir and checks it serves the snapshot's keys.
fn serve_and_compare(snapshot: &Path, data_dir: &Path, peer_port: u16, extra_args: Vec<String>) {
    let mut member = Member::spawn_on(MemberSpec {
        name: "m1".into(),
        data_dir: data_dir.to_path_buf(),
        client_port: free_port(),
        peer_port,
        initial_cluster: format!("m1=http://127.0.0.1:{peer_port}"),
        cluster_token: "restored".into(),
        cluster_state: "new",
        tls: None,
        extra_args,
    });
    member.wait_healthy();
    let all = RangeQuery::latest(KeyRange::prefix(""));
    let original = SnapshotSource::open(snapshot).unwrap();
    assert_eq!(
        common::live_source(&member).range(&all).unwrap(),
        original.range(&all).unwrap()
    );
}

fn allocated(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().blocks() * 512
}

#[test]
fn an_existing_empty_data_dir_is_written_into_and_keeps_its_inode_and_mode() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o750)).unwrap();
    let before = std::fs::metadata(&data).unwrap();
    let peer_port = free_port();

    let run = restore(&common::sample_db(), &data, peer_port, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let after = std::fs::metadata(&data).unwrap();
    assert_eq!((after.ino(), after.dev()), (before.ino(), before.dev()));
    assert_eq!(after.mode() & 0o7777, 0o750);
    assert_eq!(common::files_in(&data), vec!["member"]);
    assert_eq!(common::files_in(dir.path()), vec!["data"]);
    let wal = data.join("member/wal").join(WAL);
    assert!(
        allocated(&wal) >= 64_000_000,
        "the WAL is preallocated, as etcdutl does: {} bytes allocated",
        allocated(&wal)
    );
    serve_and_compare(&common::sample_db(), &data, peer_port, Vec::new());
}

#[test]
fn wal_dir_at_its_default_place_inside_the_data_dir_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let wal_dir = data.join("member/wal");
    let peer_port = free_port();
    let run = restore(
        &common::sample_db(),
        &data,
        peer_port,
        &["--wal-dir", wal_dir.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(common::files_in(&data.join("member")), vec!["snap", "wal"]);
    assert!(wal_dir.join(WAL).is_file());
    assert_eq!(common::files_in(dir.path()), vec!["data"]);
    serve_and_compare(
        &common::sample_db(),
        &data,
        peer_port,
        vec!["--wal-dir".into(), wal_dir.display().to_string()],
    );

    // Inside the snap dir, or the member dir itself, etcd would not find its files: refused.
    let other = dir.path().join("other");
    for bad in ["member", "member/snap/wal"] {
        let run = restore(
            &common::sample_db(),
            &other,
            free_port(),
            &["--wal-dir", other.join(bad).to_str().unwrap()],
        );
        assert_eq!(run.code, 3, "{bad}: {run:?}");
        assert!(!other.exists(), "{bad}");
    }
}

/// A small tmpfs, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// `None` when this process may not mount (not root, or a container without the right).
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let ok = unsafe { libc::geteuid() } == 0
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700")])
                .arg("tmpfs")
                .arg(at)
                .status()
                .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_the_restore_cleanly_not_the_member_later() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let wal_mount = dir.path().join("wal");
    let Some(_tmpfs) = Tmpfs::mount(&wal_mount, "16m") else {
        // Without a tmpfs, the allocated blocks prove preallocation (as in the test above).
        eprintln!("notice: cannot mount a tmpfs (not root?); checking the WAL's blocks instead");
        let run = restore(&common::sample_db(), &data, free_port(), &[]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(allocated(&data.join("member/wal").join(WAL)) >= 64_000_000);
        return;
    };
    let run = restore(
        &common::sample_db(),
        &data,
        free_port(),
        &["--wal-dir", wal_mount.to_str().unwrap()],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(
        run.last_err_line().contains(&format!(
            "no space left for the WAL in {}",
            wal_mount.display()
        )),
        "{run:?}"
    );
    assert_eq!(common::files_in(&wal_mount), Vec::<String>::new());
    assert_eq!(common::files_in(dir.path()), vec!["wal"]);
}

#[test]
fn a_mount_point_as_data_dir_is_written_into_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let tmpfs = Tmpfs::mount(&data, "256m");
    if tmpfs.is_none() {
        eprintln!("notice: cannot mount a tmpfs (not root?); restoring into a plain empty dir");
    }
    let before = std::fs::metadata(&data).unwrap();
    let run = restore(&common::sample_db(), &data, free_port(), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let after = std::fs::metadata(&data).unwrap();
    assert_eq!((after.ino(), after.dev()), (before.ino(), before.dev()));
    assert_eq!(common::files_in(&data), vec!["member"]);
    assert_eq!(common::files_in(dir.path()), vec!["data"]);
    drop(tmpfs);
}
