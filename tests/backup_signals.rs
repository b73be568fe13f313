//! Signals while a backup location is in use, end to end with a real etcd and a real S3 server
//! (`s3s-fs`): SIGTERM to `snapshot save --dir s3://…` in the middle of its multipart upload, and
//! SIGINT to a reader downloading an encrypted object. Nothing may be left: no object, no
//! pending `.part` object, no part or temp file on the server's disk, no temp file locally.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{
    Run, files_below, revkeeper, run_cmd, s3_and_age as prerequisites, signal, wait_while_running,
};
use revkeeper_harness::{Member, S3Server};

/// MiB of random values: several 8 MiB parts, so the upload is still going after the first.
const RANDOM_MIB: usize = 96;

/// `revkeeper` with the server's credentials and a private `TMPDIR`.
fn rk(server: &S3Server, tmp: &Path) -> Command {
    let mut c = revkeeper();
    c.envs(server.aws_env())
        .env("TMPDIR", tmp)
        .env_remove("REVKEEPER_AGE_IDENTITY");
    c
}

fn spawn(mut cmd: Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn revkeeper")
}

/// Whether s3s-fs has stored a whole part of a multipart upload (`.upload_id-ID.part-N`, renamed
/// into place once the part's request is complete).
fn a_part_is_stored(root: &Path) -> bool {
    std::fs::read_dir(root).unwrap().flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.starts_with(".upload_id-") && name.contains(".part-")
    })
}

/// The size of a file below `dir` that process `pid` holds open (named or unlinked), if any.
fn open_file_size_in(pid: u32, dir: &Path) -> Option<u64> {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    fds.flatten()
        .filter(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t.starts_with(dir)))
        .find_map(|fd| std::fs::metadata(fd.path()).ok().map(|m| m.len()))
}

fn private_tmpdir(dir: &Path) -> PathBuf {
    let tmp = dir.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    tmp.canonicalize().unwrap()
}

fn save_args<'a>(endpoint: &'a str, url: &'a str) -> Vec<&'a str> {
    vec![
        "snapshot",
        "save",
        "--endpoints",
        endpoint,
        "--dir",
        url,
        "--compress",
        "none",
    ]
}

#[test]
fn sigterm_mid_upload_exits_5_and_leaves_nothing_in_the_bucket_or_on_the_server() {
    if !prerequisites() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let tmp = private_tmpdir(work.path());
    let etcd = Member::start_single();
    // Incompressible values and no compression: the object is as big as the db.
    common::fill_random_mib(&etcd.endpoint(), RANDOM_MIB);
    let server = S3Server::start();
    let bucket = server.create_bucket("backups");
    let ep = etcd.endpoint();

    let mut save = rk(&server, &tmp);
    save.args(save_args(&ep, "s3://backups/p"));
    let mut child = spawn(save);
    let root = server.root().to_path_buf();
    assert!(
        wait_while_running(&mut child, || a_part_is_stored(&root)),
        "the server never received a part: {:?}\n{}",
        Run::from(child.wait_with_output().unwrap()),
        server.log_text()
    );
    signal(&child, libc::SIGTERM);
    let run = Run::from(child.wait_with_output().unwrap());

    assert_eq!(run.code, 5, "{run:?}");
    assert!(
        run.last_err_line().contains("interrupted by SIGTERM"),
        "{run:?}"
    );
    assert!(run.stdout.is_empty(), "{run:?}");
    // Nothing visible: no snapshot, no manifest, no pending `.part` object.
    assert_eq!(files_below(&bucket), Vec::<String>::new());
    let listed = run_cmd(rk(&server, &tmp).args(["snapshot", "list", "s3://backups/p"]));
    assert_eq!(listed.code, 0, "{listed:?}");
    assert!(!listed.stdout.contains("etcd-"), "{listed:?}");
    // The abort removed the stored parts, the upload's record and every temp file of the
    // server; only the (empty) bucket directory is left on its disk.
    assert_eq!(
        files_below(&root),
        Vec::<String>::new(),
        "{}",
        server.log_text()
    );
    assert_eq!(common::files_in(&tmp), Vec::<String>::new());
}

#[test]
fn sigint_while_an_encrypted_object_downloads_leaves_no_temp_file() {
    if !prerequisites() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let tmp = private_tmpdir(work.path());
    let key = work.path().join("key.txt");
    let made = Command::new("age-keygen")
        .arg("-o")
        .arg(&key)
        .output()
        .unwrap();
    assert!(made.status.success(), "age-keygen: {made:?}");
    let public = Command::new("age-keygen")
        .arg("-y")
        .arg(&key)
        .output()
        .unwrap();
    let public = String::from_utf8(public.stdout).unwrap().trim().to_string();
    let etcd = Member::start_single();
    common::fill_random_mib(&etcd.endpoint(), RANDOM_MIB);
    let server = S3Server::start();
    server.create_bucket("backups");
    let ep = etcd.endpoint();
    let mut args = save_args(&ep, "s3://backups/p");
    args.extend(["--encrypt-to", &public]);
    let saved = run_cmd(rk(&server, &tmp).args(&args));
    assert_eq!(saved.code, 0, "{saved:?}");
    let object = saved.stdout.trim().to_string();
    assert!(object.ends_with(".db.age"), "{saved:?}");
    drop(etcd);

    let mut status = rk(&server, &tmp);
    status.args([
        "snapshot",
        "status",
        &object,
        "--identity",
        key.to_str().unwrap(),
    ]);
    let mut child = spawn(status);
    let pid = child.id();
    // Signal once the decrypted copy has started to fill, well before it is complete.
    assert!(
        wait_while_running(&mut child, || open_file_size_in(pid, &tmp)
            .is_some_and(|n| n > 0)),
        "the download never started: {:?}",
        Run::from(child.wait_with_output().unwrap())
    );
    signal(&child, libc::SIGINT);
    let run = Run::from(child.wait_with_output().unwrap());

    assert_ne!(run.code, 0, "{run:?}");
    assert_eq!(run.code, 5, "{run:?}");
    assert!(
        run.last_err_line().contains("interrupted by SIGINT"),
        "{run:?}"
    );
    assert_eq!(common::files_in(&tmp), Vec::<String>::new());
    // The object itself is untouched and still readable.
    let again = run_cmd(rk(&server, &tmp).args([
        "snapshot",
        "status",
        &object,
        "--identity",
        key.to_str().unwrap(),
    ]));
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(common::files_in(&tmp), Vec::<String>::new());
}
