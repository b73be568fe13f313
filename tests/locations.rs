//! Backup locations against real parts: a real S3 server (`s3s-fs`, started by the harness on
//! 127.0.0.1 with SigV4 credentials), the real `age`/`age-keygen` CLIs, and local directories.
//! GCS and Azure have no server here: their parsing, builders and messages are unit tests in
//! `src/location/`.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use revkeeper::location::{
    AGE_HEADER, CloudEnv, Decryptor, Encryptor, Location, LocationOptions, Store, error_from_io,
};
use revkeeper_harness::{S3Server, age_keygen, s3s_fs_bin};
use sha2::{Digest, Sha256};

/// A prerequisite: present, or the harness' verdict on its absence (a notice and `false`, or a
/// failure under `REVKEEPER_REQUIRE_ALL=1`).
fn have(what: &str, found: bool) -> bool {
    revkeeper_harness::require(what, "scripts/test.sh installs it", found.then_some(())).is_some()
}

fn have_s3() -> bool {
    have("s3s-fs (S3S_FS_BIN)", s3s_fs_bin().is_some())
}

fn have_tool(name: &str) -> bool {
    let found = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    have(name, found)
}

/// Options reading this server's variables instead of the process environment, with quick
/// retries so failure tests end fast.
fn options(server: &S3Server) -> LocationOptions {
    LocationOptions {
        env: CloudEnv::Vars(server.aws_env()),
        max_retries: 2,
        retry_timeout: Duration::from_secs(10),
        ..LocationOptions::default()
    }
}

fn open(url: &str, opts: &LocationOptions) -> Store {
    Location::parse(url).unwrap().open(opts).unwrap()
}

/// Deterministic bytes that do not compress to nothing and hold a marker now and then.
fn payload(len: usize, marker: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut x: u32 = 0x1234_5678;
    while out.len() < len {
        if out.len() % 65_536 == 0 {
            out.extend_from_slice(marker);
        }
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.push((x >> 24) as u8);
    }
    out.truncate(len);
    out
}

fn sha(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// Writes `data` in uneven pieces, as a compressor would.
fn write_in_pieces(w: &mut impl Write, data: &[u8]) {
    for piece in data.chunks(777_777) {
        w.write_all(piece).unwrap();
    }
}

#[test]
fn a_multi_part_upload_round_trips_through_a_real_s3_server() {
    if !have_s3() {
        return;
    }
    let server = S3Server::start();
    let bucket_dir = server.create_bucket("backups");
    let store = open("s3://backups/etcd/prod", &options(&server));
    let data = payload(21 << 20, b"");

    let mut up = store.put_stream("etcd-a-rev1.db.zst", false).unwrap();
    write_in_pieces(&mut up, &data);
    assert_eq!(up.written(), data.len() as u64);
    assert!(
        store.list("").unwrap().is_empty(),
        "an unfinished upload must not be visible"
    );
    assert_eq!(up.finish().unwrap(), data.len() as u64);
    store
        .put_small("etcd-a-rev1.db.zst.manifest.json", b"{}")
        .unwrap();
    store.put_small("other.txt", b"x").unwrap();

    let listed = store.list("etcd-").unwrap();
    let names: Vec<&str> = listed.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["etcd-a-rev1.db.zst", "etcd-a-rev1.db.zst.manifest.json"]
    );
    assert_eq!(listed[0].size, data.len() as u64);
    assert_eq!(store.list("").unwrap().len(), 3);

    // The bytes on the server's disk are the stream's.
    let on_disk = std::fs::read(bucket_dir.join("etcd/prod/etcd-a-rev1.db.zst")).unwrap();
    assert_eq!(sha(&on_disk), sha(&data));

    let fetched = store.get_to_temp("etcd-a-rev1.db.zst").unwrap();
    assert!(fetched.is_temp());
    let temp_path = fetched.path().to_path_buf();
    let mode = std::fs::metadata(&temp_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(sha(&std::fs::read(&temp_path).unwrap()), sha(&data));
    drop(fetched);
    assert!(!temp_path.exists(), "the temp download is removed on drop");

    let mut streamed = Vec::new();
    store
        .open_read("etcd-a-rev1.db.zst")
        .unwrap()
        .read_to_end(&mut streamed)
        .unwrap();
    assert_eq!(sha(&streamed), sha(&data));

    let e = store.put_stream("etcd-a-rev1.db.zst", false).err().unwrap();
    assert_eq!(e.exit_code(), 3);
    assert!(e.to_string().contains("already exists"), "{e}");

    store.delete("other.txt").unwrap();
    store.delete("other.txt").unwrap();
    assert_eq!(store.list("").unwrap().len(), 2);
    let e = store.get_to_temp("missing.db").err().unwrap();
    assert_eq!(e.exit_code(), 3, "{e}");
    assert!(
        e.to_string().contains("s3://backups/etcd/prod/missing.db"),
        "{e}"
    );
}

#[test]
fn an_aborted_or_dropped_upload_leaves_no_object() {
    if !have_s3() {
        return;
    }
    let server = S3Server::start();
    server.create_bucket("bkt");
    let store = open("s3://bkt/p", &options(&server));
    let data = payload(18 << 20, b"");

    let mut up = store.put_stream("aborted.db", false).unwrap();
    write_in_pieces(&mut up, &data);
    assert!(
        files_under(server.root())
            .iter()
            .any(|f| f.starts_with(".upload-")),
        "the server keeps the upload in progress on disk"
    );
    up.abort().unwrap();

    let mut up = store.put_stream("dropped.db", false).unwrap();
    write_in_pieces(&mut up, &data);
    drop(up);

    assert!(store.list("").unwrap().is_empty());
    // Neither an object nor the parts and state of the aborted multipart uploads remain.
    let left = files_under(server.root());
    assert!(left.is_empty(), "left on the server's disk: {left:?}");
}

#[test]
fn local_directories_keep_part_file_fsync_and_rename() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let store = open(&url, &LocationOptions::default());
    let mut up = store.put_stream("snap.db", false).unwrap();
    up.write_all(b"hello").unwrap();
    let part = dir.path().join("snap.db.part");
    let mode = std::fs::metadata(&part).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(
        store.list("").unwrap().is_empty(),
        ".part files are not listed"
    );
    up.finish().unwrap();
    assert!(!part.exists());
    let mode = std::fs::metadata(dir.path().join("snap.db"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);

    let e = store.put_stream("snap.db", false).err().unwrap();
    assert_eq!(e.exit_code(), 3);
    let mut up = store.put_stream("snap.db", true).unwrap();
    up.write_all(b"again").unwrap();
    drop(up);
    assert!(!part.exists(), "a dropped upload removes its .part file");
    assert_eq!(std::fs::read(dir.path().join("snap.db")).unwrap(), b"hello");

    store.put_small("snap.db.manifest.json", b"{}").unwrap();
    let names: Vec<String> = store
        .list("")
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["snap.db", "snap.db.manifest.json"]);
    let fetched = store.get_to_temp("snap.db").unwrap();
    assert!(!fetched.is_temp());
    assert_eq!(fetched.path(), dir.path().join("snap.db"));
}

#[test]
fn wrong_credentials_give_one_line_naming_the_location_without_the_secret() {
    if !have_s3() {
        return;
    }
    let server = S3Server::start();
    server.create_bucket("bkt");
    let wrong_secret = "WrongSecretValue0123456789";
    let mut vars = server.aws_env();
    for (k, v) in vars.iter_mut() {
        if k == "AWS_SECRET_ACCESS_KEY" {
            *v = wrong_secret.to_string();
        }
    }
    let opts = LocationOptions {
        env: CloudEnv::Vars(vars),
        ..options(&server)
    };
    let store = open("s3://bkt/prod", &opts);
    let errors = [
        store.list("").err().unwrap(),
        store.put_small("m.json", b"{}").err().unwrap(),
    ];
    for e in errors {
        let msg = e.to_string();
        assert_eq!(e.exit_code(), 4, "{msg}");
        assert!(msg.contains("s3://bkt/prod"), "{msg}");
        assert!(msg.contains("access denied"), "{msg}");
        assert!(msg.contains("check AWS_ACCESS_KEY_ID"), "{msg}");
        assert!(!msg.contains(wrong_secret) && !msg.contains(&server.secret_key));
        assert_eq!(msg.lines().count(), 1);
    }
}

#[test]
fn a_missing_bucket_is_named() {
    if !have_s3() {
        return;
    }
    let server = S3Server::start();
    let store = open("s3://nosuchbucket/p", &options(&server));
    let e = store.list("").err().unwrap();
    assert_eq!(e.exit_code(), 3, "{e}");
    assert!(
        e.to_string()
            .starts_with("cannot list s3://nosuchbucket/p: bucket \"nosuchbucket\" does not exist"),
        "{e}"
    );
    // s3s-fs accepts the start of a multipart upload into a missing bucket: put_stream checks.
    let e = store.put_stream("x.db", false).err().unwrap();
    assert_eq!(e.exit_code(), 3, "{e}");
    assert!(
        e.to_string()
            .contains("bucket \"nosuchbucket\" does not exist"),
        "{e}"
    );
    assert_eq!(store.check().unwrap_err().exit_code(), 3);
    assert!(files_under(server.root()).is_empty());
}

#[test]
fn an_unreachable_endpoint_is_a_connect_error() {
    if !have_s3() {
        return;
    }
    let mut server = S3Server::start();
    let opts = options(&server);
    server.kill();
    let store = open("s3://bkt/p", &opts);
    let e = store.list("").err().unwrap();
    let msg = e.to_string();
    assert_eq!(e.exit_code(), 2, "{msg}");
    assert!(
        msg.starts_with("cannot list s3://bkt/p: cannot connect"),
        "{msg}"
    );
    assert!(msg.contains("AWS_ENDPOINT_URL"), "{msg}");
    assert_eq!(msg.lines().count(), 1);
}

#[test]
fn killing_the_server_mid_upload_fails_and_leaves_no_object() {
    if !have_s3() {
        return;
    }
    let mut server = S3Server::start();
    server.create_bucket("bkt");
    let store = open("s3://bkt/p", &options(&server));
    let data = payload(40 << 20, b"");
    let mut up = store.put_stream("cut.db", false).unwrap();
    write_in_pieces(&mut up, &data[..10 << 20]);
    server.kill();
    let mut write_error = None;
    for piece in data[10 << 20..].chunks(1 << 20) {
        if let Err(e) = up.write_all(piece) {
            write_error = Some(error_from_io(e, "cut.db"));
            break;
        }
    }
    let err = match write_error {
        Some(e) => {
            up.abort().ok();
            e
        }
        None => up
            .finish()
            .expect_err("finishing without a server must fail"),
    };
    let msg = err.to_string();
    assert_eq!(err.exit_code(), 2, "{msg}");
    assert!(
        msg.contains("s3://bkt/p/cut.db") && msg.contains("cannot connect"),
        "{msg}"
    );
    assert_eq!(msg.lines().count(), 1);
    let on_disk = files_under(server.root());
    assert!(
        !on_disk.iter().any(|f| f == "bkt/p/cut.db"),
        "no object may appear: {on_disk:?}"
    );
}

const MARKER: &[u8] = b"SECRET-VALUE-c2VjcmV0LXRva2Vu /registry/secrets/kube-system/";

#[test]
fn encrypted_uploads_are_ciphertext_on_the_server_and_the_age_cli_decrypts_them() {
    if !have_s3() || !have_tool("age") || !have_tool("age-keygen") {
        return;
    }
    let server = S3Server::start();
    let bucket = server.create_bucket("bkt");
    let store = open("s3://bkt/p", &options(&server));
    let keys = tempfile::tempdir().unwrap();
    let (identity, public) = age_keygen(keys.path(), "id.txt");
    let data = payload(12 << 20, MARKER);
    assert!(data.windows(MARKER.len()).any(|w| w == MARKER));

    let enc = Encryptor::from_args(&[public], &[]).unwrap().unwrap();
    let mut w = enc
        .wrap(store.put_stream("snap.db.zst.age", false).unwrap())
        .unwrap();
    write_in_pieces(&mut w, &data);
    w.finish().unwrap().finish().unwrap();

    let stored = bucket.join("p/snap.db.zst.age");
    let cipher = std::fs::read(&stored).unwrap();
    assert!(cipher.starts_with(AGE_HEADER));
    assert!(
        !cipher.windows(MARKER.len()).any(|w| w == MARKER),
        "plaintext on the server's disk"
    );

    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&identity)
        .arg(&stored)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "age -d: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sha(&out.stdout), sha(&data));

    let dec = Decryptor::from_files(&[identity]).unwrap();
    let target = store.location().describe("snap.db.zst.age");
    let mut plain = Vec::new();
    dec.wrap(store.open_read("snap.db.zst.age").unwrap(), &target)
        .unwrap()
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(sha(&plain), sha(&data));
}

#[test]
fn files_encrypted_by_the_age_cli_decrypt_with_ours() {
    if !have_tool("age") || !have_tool("age-keygen") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (identity, public) = age_keygen(dir.path(), "id.txt");
    let plain_path = dir.path().join("plain.db");
    let data = payload(3 << 20, MARKER);
    std::fs::write(&plain_path, &data).unwrap();
    let cipher_path = dir.path().join("plain.db.age");
    let out = Command::new("age")
        .arg("-r")
        .arg(&public)
        .arg("-o")
        .arg(&cipher_path)
        .arg(&plain_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(revkeeper::location::is_age_file(&cipher_path).unwrap());
    assert!(!revkeeper::location::is_age_file(&plain_path).unwrap());

    let dec = Decryptor::from_files(&[identity]).unwrap();
    let file = std::fs::File::open(&cipher_path).unwrap();
    let mut plain = Vec::new();
    dec.wrap(file, "plain.db.age")
        .unwrap()
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(sha(&plain), sha(&data));
}

#[test]
fn ssh_ed25519_recipients_interoperate_with_the_age_cli() {
    if !have_tool("age") || !have("ssh-keygen", Path::new("/usr/bin/ssh-keygen").is_file()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id_ed25519");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let enc = Encryptor::from_args(&[public.trim().to_string()], &[])
        .unwrap()
        .unwrap();
    let data = payload(200_000, MARKER);
    let mut w = enc.wrap(Vec::new()).unwrap();
    w.write_all(&data).unwrap();
    let cipher_path = dir.path().join("x.age");
    std::fs::write(&cipher_path, w.finish().unwrap()).unwrap();
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&key)
        .arg(&cipher_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sha(&out.stdout), sha(&data));
    // And our decryptor takes the OpenSSH private key as an identity file.
    let dec = Decryptor::from_files(&[key]).unwrap();
    let mut plain = Vec::new();
    dec.wrap(&std::fs::read(&cipher_path).unwrap()[..], "x.age")
        .unwrap()
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(sha(&plain), sha(&data));
}

#[test]
fn a_wrong_identity_or_a_tampered_byte_on_the_server_fails_with_one_line() {
    if !have_s3() || !have_tool("age-keygen") {
        return;
    }
    let server = S3Server::start();
    let bucket = server.create_bucket("bkt");
    let store = open("s3://bkt/p", &options(&server));
    let keys = tempfile::tempdir().unwrap();
    let (identity, public) = age_keygen(keys.path(), "id.txt");
    let (other, _) = age_keygen(keys.path(), "other.txt");
    let enc = Encryptor::from_args(&[public], &[]).unwrap().unwrap();
    let mut w = enc.wrap(store.put_stream("s.age", false).unwrap()).unwrap();
    write_in_pieces(&mut w, &payload(1 << 20, MARKER));
    w.finish().unwrap().finish().unwrap();
    let target = store.location().describe("s.age");

    let read_all = |dec: &Decryptor| -> revkeeper::Result<Vec<u8>> {
        let mut r = dec.wrap(store.open_read("s.age")?, &target)?;
        let mut out = Vec::new();
        r.read_to_end(&mut out)
            .map_err(|e| error_from_io(e, &target))?;
        Ok(out)
    };
    let other_secret = std::fs::read_to_string(&other).unwrap();
    let e = read_all(&Decryptor::from_files(&[other]).unwrap()).unwrap_err();
    let msg = e.to_string();
    assert_eq!(e.exit_code(), 3, "{msg}");
    assert!(
        msg.contains("s3://bkt/p/s.age") && msg.contains("wrong --identity"),
        "{msg}"
    );
    assert!(
        !other_secret
            .lines()
            .any(|l| l.starts_with("AGE-SECRET") && msg.contains(l))
    );

    // One byte of the body changed on the server's disk.
    let stored = bucket.join("p/s.age");
    let mut bytes = std::fs::read(&stored).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    std::fs::write(&stored, &bytes).unwrap();
    let e = read_all(&Decryptor::from_files(&[identity]).unwrap()).unwrap_err();
    let msg = e.to_string();
    assert_eq!(e.exit_code(), 3, "{msg}");
    assert!(
        msg.contains("s3://bkt/p/s.age") && msg.contains("modified or truncated"),
        "{msg}"
    );
    assert_eq!(msg.lines().count(), 1);
}

/// The child process of [`a_signal_removes_the_temp_download`]: downloads into a temp file
/// with the real signal handler installed and the real environment (`CloudEnv::Process`), says
/// where, and waits to be signalled.
#[test]
#[ignore = "run as a child process by a_signal_removes_the_temp_download"]
fn temp_download_child() {
    let url = std::env::var("REVKEEPER_TEST_CHILD_URL")
        .expect("started by a_signal_removes_the_temp_download");
    revkeeper::interrupt::install().unwrap();
    let store = open(&url, &LocationOptions::default());
    let fetched = store.get_to_temp("snap.db").unwrap();
    println!("TEMP={}", fetched.path().display());
    std::io::stdout().flush().unwrap();
    std::thread::sleep(Duration::from_secs(60));
    panic!("no signal came");
}

#[test]
fn a_signal_removes_the_temp_download() {
    if !have_s3() {
        return;
    }
    use std::io::BufRead;
    let server = S3Server::start();
    server.create_bucket("bkt");
    open("s3://bkt/p", &options(&server))
        .put_small("snap.db", &payload(1 << 20, b""))
        .unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "temp_download_child", "--ignored", "--nocapture"])
        .env("REVKEEPER_TEST_CHILD_URL", "s3://bkt/p")
        .envs(server.aws_env())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let temp = stdout
        .lines()
        .map_while(|l| l.ok())
        .find_map(|l| l.strip_prefix("TEMP=").map(PathBuf::from))
        .expect("the child names its temp file");
    assert!(temp.exists());
    // SAFETY: signals our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    assert!(!temp.exists(), "{} survived SIGTERM", temp.display());
}
