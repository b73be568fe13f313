//! Snapshot arguments that are not regular files (a FIFO, bash's `<(…)`, a directory) are
//! refused at once with one line, by every command that reads a snapshot, instead of blocking
//! forever or reading as "empty".

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Waits up to 20 s for `child`; kills it (and fails) if it is still running then.
fn finish_within(mut child: Child, what: &str) -> common::Run {
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} still blocks after 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    common::Run::from(child.wait_with_output().unwrap())
}

fn assert_refused(run: &common::Run, shown: &str, what: &str) {
    assert_eq!(run.code, 3, "{what}: {run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{what}: {run:?}");
    assert!(
        run.last_err_line()
            .contains(&format!("snapshot {shown} is not a regular file")),
        "{what}: {run:?}"
    );
}

fn commands(file: &str) -> Vec<Vec<&str>> {
    vec![
        vec!["snapshot", "status", file],
        vec!["snapshot", "verify", file],
        vec!["snapshot", "diff", file, file],
        vec!["snapshot", "restore", file, "--data-dir", "restored"],
        vec!["get", "--snapshot", file, "--prefix", "/registry"],
        vec!["dump", "out", "--snapshot", file],
    ]
}

#[test]
fn a_fifo_is_refused_instead_of_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("snapshot.db");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a plain mkfifo on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let shown = fifo.to_str().unwrap();
    for args in commands(shown) {
        let child = common::revkeeper()
            .args(&args)
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let run = finish_within(child, &format!("{args:?}"));
        assert_refused(&run, shown, &format!("{args:?}"));
        assert_eq!(
            common::files_in(dir.path()),
            vec!["snapshot.db"],
            "{args:?}"
        );
    }
}

#[test]
fn process_substitution_and_directories_are_refused_not_called_empty() {
    let dir = tempfile::tempdir().unwrap();
    let sample = common::sample_db();
    let bin = env!("CARGO_BIN_EXE_revkeeper");
    let child = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "exec '{bin}' snapshot status <(cat '{}')",
            sample.display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let run = finish_within(child, "status <(cat sample.db)");
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.last_err_line().contains("is not a regular file"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("empty"), "{run:?}");

    let shown = dir.path().to_str().unwrap();
    for args in commands(shown) {
        let run = common::run_cmd(common::revkeeper().args(&args).current_dir(dir.path()));
        assert_refused(&run, shown, &format!("{args:?}"));
    }
    assert_eq!(common::files_in(dir.path()), Vec::<String>::new());
}
