//! Helpers shared by the integration tests: run the real binary, fill a real etcd, take
//! snapshots straight from the server, read the shared fixtures, check snapshot files the way
//! etcdutl would.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use revkeeper::source::LiveSource;
use revkeeper_harness::{Member, MemberSpec, free_port, require_fixture, require_tool};
use sha2::{Digest, Sha256};

/// Variables that would change what the binary does if the developer has them set.
const AMBIENT: &[&str] = &[
    "ETCDCTL_ENDPOINTS",
    "ETCDCTL_CACERT",
    "ETCDCTL_CERT",
    "ETCDCTL_KEY",
    "ETCDCTL_INSECURE_SKIP_TLS_VERIFY",
    "ETCDCTL_USER",
    "ETCDCTL_PASSWORD",
    "ETCDCTL_DIAL_TIMEOUT",
    "ETCDCTL_COMMAND_TIMEOUT",
    "REVKEEPER_LOG_FORMAT",
];

/// `revkeeper` as a real process, stdin closed, no ambient ETCDCTL_* settings.
pub fn revkeeper() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_revkeeper"));
    for v in AMBIENT {
        c.env_remove(v);
    }
    c.stdin(Stdio::null());
    c
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
    /// The last line on stderr: the one-line error of a failed run.
    pub fn last_err_line(&self) -> &str {
        self.stderr.lines().last().unwrap_or("")
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn run(args: &[&str]) -> Run {
    run_cmd(revkeeper().args(args))
}

pub fn run_cmd(cmd: &mut Command) -> Run {
    Run::from(cmd.output().expect("run revkeeper"))
}

/// `revkeeper snapshot save FILE --endpoints EP`, which must succeed.
pub fn save_file(endpoint: &str, file: &Path) {
    let r = run(&[
        "snapshot",
        "save",
        file.to_str().unwrap(),
        "--endpoints",
        endpoint,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// `revkeeper snapshot save --dir DIR --endpoints EP`, which must succeed; the file it saved.
pub fn save_into(endpoint: &str, dir: &Path) -> PathBuf {
    let r = run(&[
        "snapshot",
        "save",
        "--dir",
        dir.to_str().unwrap(),
        "--endpoints",
        endpoint,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    PathBuf::from(r.stdout.trim())
}

pub fn spawn(args: &[&str]) -> Child {
    revkeeper()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn revkeeper")
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub async fn client(endpoint: &str) -> etcd_client::Client {
    etcd_client::Client::connect([endpoint], None)
        .await
        .expect("connect")
}

/// A fast deterministic PRNG for incompressible test values.
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Puts `key` = `value`; returns the store revision afterwards.
pub async fn put_revision(c: &mut etcd_client::Client, key: &str, value: &str) -> i64 {
    c.put(key, value, None)
        .await
        .unwrap()
        .header()
        .unwrap()
        .revision()
}

/// Puts `n` small Kubernetes-looking keys plus `/proof` = `hello from revkeeper`; returns the
/// store revision afterwards.
pub fn fill_small(endpoint: &str, n: usize) -> i64 {
    rt().block_on(async {
        let mut c = client(endpoint).await;
        for i in 0..n {
            let v = format!(
                r#"{{"kind":"ConfigMap","apiVersion":"v1","metadata":{{"name":"cm-{i}","namespace":"default"}},"data":{{"n":"{i}"}}}}"#
            );
            c.put(format!("/registry/configmaps/default/cm-{i}"), v, None)
                .await
                .unwrap();
        }
        put_revision(&mut c, "/proof", "hello from revkeeper").await
    })
}

/// Puts `mib` values of 1 MiB of random bytes (incompressible), 4 at a time.
pub fn fill_random_mib(endpoint: &str, mib: usize) {
    rt().block_on(async {
        let c = client(endpoint).await;
        let mut tasks = Vec::new();
        for w in 0..4 {
            let mut c = c.clone();
            tasks.push(tokio::spawn(async move {
                for i in (w..mib).step_by(4) {
                    c.put(
                        format!("/big/{i:04}"),
                        random_bytes(i as u64 + 1, 1 << 20),
                        None,
                    )
                    .await
                    .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    })
}

pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Splits `[db][sha256]` and checks the layout and hash, as etcdutl does.
pub fn split_checked(file: &[u8]) -> (&[u8], &[u8]) {
    assert_eq!(
        file.len() % 512,
        32,
        "size % 512 must be 32 (sha256 trailer)"
    );
    let (db, trailer) = file.split_at(file.len() - 32);
    assert_eq!(
        Sha256::digest(db).as_slice(),
        trailer,
        "sha256 trailer must match the db"
    );
    (db, trailer)
}

pub fn zstd_decode(path: &Path) -> Vec<u8> {
    zstd::decode_all(std::fs::File::open(path).unwrap()).expect("valid zstd")
}

pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn manifest_of(snapshot: &Path) -> serde_json::Value {
    let mut p = snapshot.as_os_str().to_os_string();
    p.push(".manifest.json");
    read_json(Path::new(&p))
}

/// One real snapshot for the tests of what is done with saved files: a real etcd holding `keys`
/// small keys ([`fill_small`]), saved by `snapshot save --dir <tmp>/staging`, and an empty
/// `<tmp>/backups` for the test.
pub struct SavedSnapshot {
    pub member: Member,
    pub tmp: tempfile::TempDir,
    pub file: PathBuf,
    pub backups: PathBuf,
}

pub fn saved_snapshot(keys: usize) -> SavedSnapshot {
    let member = Member::start_single();
    let ep = member.endpoint();
    fill_small(&ep, keys);
    let tmp = tempfile::tempdir().unwrap();
    let staging = tmp.path().join("staging");
    let backups = tmp.path().join("backups");
    std::fs::create_dir(&staging).unwrap();
    std::fs::create_dir(&backups).unwrap();
    let file = save_into(&ep, &staging);
    SavedSnapshot {
        member,
        tmp,
        file,
        backups,
    }
}

/// Copies the saved snapshot `src` into `dir` as `name`, with its real manifest rewritten to say
/// it was taken at `started_at` (RFC 3339) at `revision`.
pub fn copy_snapshot_as(dir: &Path, src: &Path, name: &str, started_at: &str, revision: i64) {
    std::fs::copy(src, dir.join(name)).unwrap();
    let mut m = manifest_of(src);
    m["file"] = name.into();
    m["started_at"] = started_at.into();
    m["finished_at"] = started_at.into();
    m["revision"] = revision.into();
    std::fs::write(
        dir.join(format!("{name}.manifest.json")),
        serde_json::to_string_pretty(&m).unwrap(),
    )
    .unwrap();
}

pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

pub fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// `etcdutl snapshot status -w json` of a plain snapshot, or `None` when etcdutl 3.5 is missing
/// and the comparison may be skipped (see [`require_tool`]).
pub fn etcdutl_status(plain: &Path) -> Option<serde_json::Value> {
    let etcdutl = require_tool("etcdutl")?;
    let out = Command::new(etcdutl)
        .args(["snapshot", "status", "-w", "json"])
        .arg(plain)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "etcdutl snapshot status: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// Restores `snapshot` into a one-member data dir under `work` with `restorer` (`revkeeper` or
/// `etcdutl`, which take the same flags) and serves it with a real etcd.
pub fn restore_and_serve(restorer: Command, snapshot: &Path, work: &Path) -> Member {
    restore_and_serve_with(restorer, snapshot.as_os_str(), &[], work)
}

/// [`restore_and_serve`] of any snapshot argument (a path or a URL), with `extra` flags.
pub fn restore_and_serve_with(
    mut restorer: Command,
    snapshot: &std::ffi::OsStr,
    extra: &[&str],
    work: &Path,
) -> Member {
    let (client_port, peer_port) = (free_port(), free_port());
    let data_dir: PathBuf = work.join("restored");
    let initial_cluster = format!("m1=http://127.0.0.1:{peer_port}");
    let out = restorer
        .args(["snapshot", "restore"])
        .arg(snapshot)
        .args(extra)
        .arg("--data-dir")
        .arg(&data_dir)
        .args(["--name", "m1", "--initial-cluster", &initial_cluster])
        .args(["--initial-cluster-token", "restored"])
        .arg("--initial-advertise-peer-urls")
        .arg(format!("http://127.0.0.1:{peer_port}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "snapshot restore of {}: {}",
        snapshot.to_string_lossy(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut member = Member::spawn_on(MemberSpec {
        name: "m1".into(),
        data_dir,
        client_port,
        peer_port,
        initial_cluster,
        cluster_token: "restored".into(),
        cluster_state: "new",
        tls: None,
        extra_args: Vec::new(),
    });
    member.wait_healthy();
    member
}

/// Restores a plain snapshot with `etcdutl snapshot restore`, starts a real etcd on it and
/// returns the value of `key`. `None` when etcdutl is missing and may be (see [`require_tool`]).
pub fn restore_and_get(plain: &Path, work: &Path, key: &str) -> Option<Vec<u8>> {
    let member = restore_and_serve(Command::new(require_tool("etcdutl")?), plain, work);
    let endpoint = member.endpoint();
    let value = rt().block_on(async {
        let mut c = client(&endpoint).await;
        let resp = c.get(key, None).await.unwrap();
        resp.kvs().first().map(|kv| kv.value().to_vec())
    });
    Some(value.unwrap_or_default())
}

/// Waits until a `*.part` file in `dir` holds at least `min_bytes` (or `timeout` passes): the
/// transfer is then under way.
pub fn wait_for_part(dir: &Path, min_bytes: u64, timeout: Duration) -> Option<PathBuf> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().ends_with(".part")
                    && e.metadata().map(|m| m.len()).unwrap_or(0) >= min_bytes
                {
                    return Some(e.path());
                }
            }
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    None
}

/// stderr lines must each be one JSON object; returns them.
pub fn json_lines(stderr: &str) -> Vec<serde_json::Value> {
    stderr
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"))
        })
        .collect()
}

/// A client for a harness member, on `rt`.
pub fn member_client(rt: &tokio::runtime::Runtime, member: &Member) -> etcd_client::Client {
    rt.block_on(client(&member.endpoint()))
}

/// A live source on `member`, as the CLI builds it.
pub fn live_source(member: &Member) -> LiveSource {
    let rt = rt();
    let c = member_client(&rt, member);
    LiveSource::new(rt, c, member.endpoint(), Duration::from_secs(10))
}

/// Saves a snapshot with the server's own stream (db bytes + sha256 trailer) to `path`.
pub fn save_snapshot(rt: &tokio::runtime::Runtime, client: &mut etcd_client::Client, path: &Path) {
    use std::io::Write;
    rt.block_on(async {
        let mut stream = client.snapshot().await.expect("snapshot stream");
        let mut f = std::fs::File::create(path).expect("create snapshot file");
        while let Some(resp) = stream.message().await.expect("snapshot message") {
            f.write_all(resp.blob()).expect("write snapshot");
        }
    });
}

/// The bundled sample snapshot (the TUI demo data), `testdata/sample.db`.
pub fn sample_db() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sample.db")
}

/// The shared `cluster-dev` fixture directory, or `None` when it is missing and may be (see
/// [`require_fixture`]).
pub fn cluster_dev() -> Option<PathBuf> {
    let db = require_fixture("cluster-dev/cluster.db")?;
    Some(
        db.parent()
            .expect("a fixture file has a directory")
            .to_path_buf(),
    )
}

/// The S3 server (`s3s-fs`) and the `age` CLI, or the harness' verdict on their absence (a
/// notice and `false`, or a failure under `REVKEEPER_REQUIRE_ALL=1`).
pub fn s3_and_age() -> bool {
    use revkeeper_harness::{have_age, require, s3s_fs_bin};
    require(
        "s3s-fs (S3S_FS_BIN)",
        "scripts/test.sh installs it",
        s3s_fs_bin(),
    )
    .is_some()
        && require(
            "age-keygen",
            "apt-get install age",
            have_age().then_some(()),
        )
        .is_some()
}

/// Every file below `dir`, recursively (dot files included), as sorted relative paths.
pub fn files_below(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        for e in entries.flatten() {
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

/// A pre-compacted db: one entry per live key, at its newest revision (create revision and
/// version as they were), no tombstone, the bump marker last, and the compaction at the marker
/// recorded as finished.
pub fn assert_precompacted(db: &Path, live_keys: usize, compact_rev: i64) {
    use revkeeper_formats::bbolt::Db;
    use revkeeper_formats::etcd::kv_ref::KeyValueRef;
    use revkeeper_formats::etcd::meta::MetaInfo;
    use revkeeper_formats::etcd::revision::RevisionKey;
    let db = Db::open(db).unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut last = None;
    for e in db.bucket(b"key").unwrap().unwrap().iter() {
        let e = e.unwrap();
        let rk = RevisionKey::parse(e.key).unwrap();
        assert!(!rk.tombstone, "a tombstone at {:?}", rk.rev);
        last = Some((rk.rev.main, e.value.is_empty()));
        if e.value.is_empty() {
            continue;
        }
        let kv = KeyValueRef::parse(e.value).unwrap();
        assert!(seen.insert(kv.key.to_vec()), "two revisions of one key");
        assert_eq!(kv.mod_revision, rk.rev.main);
    }
    assert_eq!(seen.len(), live_keys, "only the live keys");
    assert_eq!(
        last,
        Some((compact_rev, true)),
        "the bump marker comes last"
    );
    let meta = db.bucket(b"meta").unwrap().unwrap();
    let entries: Vec<(&[u8], &[u8])> = meta
        .iter()
        .map(|e| e.unwrap())
        .map(|e| (e.key, e.value))
        .collect();
    let info = MetaInfo::from_entries(entries).unwrap();
    assert_eq!(info.scheduled_compact_rev, Some(compact_rev));
    assert_eq!(info.finished_compact_rev, Some(compact_rev));
}

/// etcd read the finished compaction and resumed none (the messages of 3.4's capnslog and of
/// zap in 3.4 to 3.6).
pub fn assert_no_compaction_at_start(log: &str, compact_rev: i64) {
    assert!(
        log.contains(&format!("restore compact to {compact_rev}"))
            || log
                .lines()
                .any(|l| l.contains("restored last compact revision")
                    && l.contains(&format!("\"restored-compact-revision\":{compact_rev}"))),
        "etcd did not read the finished compaction at {compact_rev}:\n{log}"
    );
    assert!(
        !log.contains("resume scheduled compaction"),
        "etcd ran a compaction at start:\n{log}"
    );
}

/// Polls until `ready` holds while `child` runs; false if it exited first or after a minute.
pub fn wait_while_running(child: &mut Child, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if ready() {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_micros(300));
    }
    false
}

/// Sends `sig` to `child`.
pub fn signal(child: &Child, sig: i32) {
    // SAFETY: sends a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}
