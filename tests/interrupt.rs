//! Signals in the middle of commands that read a `.db.zst` and of `snapshot restore`: the real
//! binary on snapshots made from the shared cluster-dev fixture, stopped by SIGINT, SIGTERM,
//! SIGHUP (exit 5, nothing left in a per-test `TMPDIR` or beside the data dir) or SIGKILL
//! (nothing decompressed left; the next restore removes the dead one's temp dir).

mod common;

use common::{signal, wait_while_running};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

const RESTORE_FLAGS: &[&str] = &[
    "--skip-hash-check",
    "--name",
    "m1",
    "--initial-cluster",
    "m1=http://127.0.0.1:2380",
    "--initial-advertise-peer-urls",
    "http://127.0.0.1:2380",
];

/// The fixture's db with `pad_mib` MiB of zeros after its pages (a valid bbolt file still,
/// without the sha256 trailer), zstd-compressed: big enough to decompress for a while.
fn fixture_zst(dir: &Path, pad_mib: usize) -> PathBuf {
    let fixture = common::cluster_dev().expect("../shared/fixtures/cluster-dev is required");
    let bytes = std::fs::read(fixture.join("cluster.db")).unwrap();
    let (db, _) = common::split_checked(&bytes);
    let path = dir.join(format!("cluster-{pad_mib}.db.zst"));
    let mut enc = zstd::Encoder::new(std::fs::File::create(&path).unwrap(), 1).unwrap();
    enc.write_all(db).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..pad_mib {
        enc.write_all(&zeros).unwrap();
    }
    enc.finish().unwrap().sync_all().unwrap();
    path
}

/// A private, canonical `TMPDIR` for one run.
fn private_tmpdir(dir: &Path) -> PathBuf {
    let tmp = dir.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    tmp.canonicalize().unwrap()
}

fn spawn_with_tmpdir(args: &[&str], tmpdir: &Path, cwd: &Path) -> Child {
    common::revkeeper()
        .args(args)
        .env("TMPDIR", tmpdir)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn revkeeper")
}

/// Whether process `pid` holds an open file below `dir` (named or already unlinked): the
/// decompressed copy of a `.zst` is being written.
fn holds_file_in(pid: u32, dir: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .any(|target| target.starts_with(dir))
}

/// Every `.revkeeper-restore-*` below `dir` (two levels: beside and inside a data dir).
fn restore_temps(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut visit = |d: &Path| {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with(".revkeeper-restore-")
            {
                found.push(e.path());
            }
        }
    };
    visit(dir);
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            visit(&e.path());
        }
    }
    found
}

fn finish(child: Child) -> common::Run {
    common::Run::from(child.wait_with_output().unwrap())
}

const SIGNALS: [(i32, &str); 3] = [
    (libc::SIGINT, "SIGINT"),
    (libc::SIGTERM, "SIGTERM"),
    (libc::SIGHUP, "SIGHUP"),
];

#[test]
fn a_signal_while_a_zst_is_read_exits_5_and_leaves_no_decompressed_copy() {
    let dir = tempfile::tempdir().unwrap();
    let snap = fixture_zst(dir.path(), 256);
    let snap = snap.to_str().unwrap();
    let mut restore = vec!["snapshot", "restore", snap, "--data-dir", "restored"];
    restore.extend(RESTORE_FLAGS);
    let commands = [
        vec!["snapshot", "status", snap],
        vec!["analyze", "--snapshot", snap],
        restore,
    ];
    for ((sig, name), args) in SIGNALS.into_iter().zip(&commands) {
        let work = tempfile::tempdir_in(dir.path()).unwrap();
        let tmp = private_tmpdir(work.path());
        let mut child = spawn_with_tmpdir(args, &tmp, work.path());
        let pid = child.id();
        assert!(
            wait_while_running(&mut child, || holds_file_in(pid, &tmp)),
            "{args:?} never started decompressing: {:?}",
            finish(child)
        );
        signal(&child, sig);
        let run = finish(child);
        assert_eq!(run.code, 5, "{name} {args:?}: {run:?}");
        assert!(
            run.last_err_line()
                .contains(&format!("interrupted by {name}")),
            "{run:?}"
        );
        assert_eq!(
            common::files_in(&tmp),
            Vec::<String>::new(),
            "{name} {args:?}"
        );
        assert_eq!(
            common::files_in(work.path()),
            vec!["tmp".to_string()],
            "{name} {args:?}"
        );
    }
}

#[test]
fn a_sigkill_while_a_zst_is_read_leaves_no_decompressed_copy() {
    let dir = tempfile::tempdir().unwrap();
    let snap = fixture_zst(dir.path(), 256);
    let tmp = private_tmpdir(dir.path());
    let mut child = spawn_with_tmpdir(
        &["snapshot", "status", snap.to_str().unwrap()],
        &tmp,
        dir.path(),
    );
    let pid = child.id();
    assert!(
        wait_while_running(&mut child, || holds_file_in(pid, &tmp)),
        "never started decompressing: {:?}",
        finish(child)
    );
    signal(&child, libc::SIGKILL);
    let run = finish(child);
    assert_eq!(run.code, -1, "killed: {run:?}");
    assert_eq!(common::files_in(&tmp), Vec::<String>::new());
}

#[test]
fn a_signal_during_restore_exits_5_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let snap = fixture_zst(dir.path(), 0);
    for (sig, name) in SIGNALS {
        for existing in [false, true] {
            let work = tempfile::tempdir_in(dir.path()).unwrap();
            let tmp = private_tmpdir(work.path());
            let data = work.path().join("data");
            if existing {
                std::fs::create_dir(&data).unwrap();
            }
            let mut args = vec!["snapshot", "restore", snap.to_str().unwrap()];
            args.extend(["--data-dir", "data"]);
            args.extend(RESTORE_FLAGS);
            let mut child = spawn_with_tmpdir(&args, &tmp, work.path());
            assert!(
                wait_while_running(&mut child, || !restore_temps(work.path()).is_empty()),
                "the restore never created its temp dir: {:?}",
                finish(child)
            );
            signal(&child, sig);
            let run = finish(child);
            assert_eq!(run.code, 5, "{name}: {run:?}");
            assert!(
                run.last_err_line()
                    .contains(&format!("interrupted by {name}; partial output removed")),
                "{run:?}"
            );
            assert_eq!(restore_temps(work.path()), Vec::<PathBuf>::new(), "{name}");
            assert_eq!(common::files_in(&tmp), Vec::<String>::new(), "{name}");
            if existing {
                assert_eq!(common::files_in(&data), Vec::<String>::new(), "{name}");
            } else {
                assert!(!data.exists(), "{name}: the data dir it created is left");
            }
        }
    }
}

#[test]
fn the_next_restore_removes_what_a_sigkilled_one_left() {
    let dir = tempfile::tempdir().unwrap();
    let snap = fixture_zst(dir.path(), 0);
    let tmp = private_tmpdir(dir.path());
    let args: Vec<&str> = ["snapshot", "restore", snap.to_str().unwrap()]
        .into_iter()
        .chain(["--data-dir", "data"])
        .chain(RESTORE_FLAGS.iter().copied())
        .collect();
    let mut child = spawn_with_tmpdir(&args, &tmp, dir.path());
    assert!(
        wait_while_running(&mut child, || !restore_temps(dir.path()).is_empty()),
        "the restore never created its temp dir: {:?}",
        finish(child)
    );
    signal(&child, libc::SIGKILL);
    assert_eq!(finish(child).code, -1);
    assert!(
        !restore_temps(dir.path()).is_empty(),
        "a SIGKILL leaves the temp dir (the premise of this test)"
    );

    let again = common::run_cmd(
        common::revkeeper()
            .args(&args)
            .env("TMPDIR", &tmp)
            .current_dir(dir.path()),
    );
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(restore_temps(dir.path()), Vec::<PathBuf>::new());
    assert_eq!(common::files_in(&dir.path().join("data")), vec!["member"]);
}
