//! The bbolt writer judged by real etcd tools, not by our own reader:
//! - `etcdutl snapshot status` (3.5) opens each written db with bbolt, runs `tx.Check()`, and
//!   computes hash, revision and size, which must match what we computed from the input data;
//! - `etcdutl snapshot restore` of a written db, then a real etcd 3.6 server on the restored data
//!   dir, read back through its HTTP/JSON gateway.
//!
//! etcdutl comes from `revkeeper_harness::require_tool` (a check without it prints a notice and
//! is skipped, or fails when `REVKEEPER_REQUIRE_ALL=1`); the server is the harness's etcd
//! (`ETCD_BIN`, else the vendored 3.6). `REVKEEPER_WRITER_KEYS` scales the big dbs (default 50000).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use prost::encoding::{WireType, encode_key, encode_varint};
use revkeeper_formats::bbolt::meta::Meta;
use revkeeper_formats::bbolt::writer::{DbWriter, WriterOptions};
use revkeeper_harness::{Member, MemberSpec, etcd_bin, free_port, require_tool};
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------------------------
// An etcd-shaped db, described by a generator so the expectations come from the input data.

/// One change in the `key` bucket: revision `(main, sub)` of `user_key`.
struct Change {
    main: i64,
    sub: i64,
    user_key: Vec<u8>,
    /// `None` for a deletion (tombstone).
    put: Option<Put>,
}

struct Put {
    create_revision: i64,
    version: i64,
    value: Vec<u8>,
}

/// The `key` bucket's history: `n` changes, three per transaction. The first 80 % create user
/// keys; the rest update (version 2) or, every 7th, delete one of the first keys.
struct History {
    n: usize,
    /// Every `big_every`-th change carries a 100 KB – 1 MB value (0: none).
    big_every: usize,
}

impl History {
    fn creates(&self) -> usize {
        self.n - self.n / 5
    }

    fn main_of(j: usize) -> i64 {
        2 + (j / 3) as i64
    }

    fn user_key(t: usize) -> Vec<u8> {
        format!("/registry/pods/ns{}/pod-{t:07}", t % 10).into_bytes()
    }

    fn value(&self, j: usize) -> Vec<u8> {
        let len = if self.big_every > 0 && j % self.big_every == self.big_every / 2 {
            100_000 + (j * 7919) % 948_576
        } else {
            (j * 37) % 700
        };
        (0..len).map(|i| (i * 13 + j) as u8).collect()
    }

    fn change(&self, j: usize) -> Change {
        let (main, sub) = (Self::main_of(j), (j % 3) as i64);
        if j < self.creates() {
            let put = Put {
                create_revision: main,
                version: 1,
                value: self.value(j),
            };
            return Change {
                main,
                sub,
                user_key: Self::user_key(j),
                put: Some(put),
            };
        }
        let target = j - self.creates();
        let put = (target % 7 != 6).then(|| Put {
            create_revision: Self::main_of(target),
            version: 2,
            value: self.value(j),
        });
        Change {
            main,
            sub,
            user_key: Self::user_key(target),
            put,
        }
    }

    /// The newest change of user key `t`.
    fn latest(&self, t: usize) -> Change {
        let update = t + self.creates();
        self.change(if update < self.n { update } else { t })
    }

    fn live_keys(&self) -> usize {
        (0..self.creates())
            .filter(|&t| self.latest(t).put.is_some())
            .count()
    }

    fn max_main(&self) -> i64 {
        Self::main_of(self.n - 1)
    }
}

impl Change {
    /// The bucket key (`main` BE, `_`, `sub` BE, and `t` for a tombstone) and the
    /// `mvccpb.KeyValue` value, proto3 with zero fields left out.
    fn encode(&self) -> (Vec<u8>, Vec<u8>) {
        let mut key = self.main.to_be_bytes().to_vec();
        key.push(b'_');
        key.extend_from_slice(&self.sub.to_be_bytes());
        let mut kv = Vec::new();
        bytes_field(&mut kv, 1, &self.user_key);
        match &self.put {
            Some(put) => {
                varint_field(&mut kv, 2, put.create_revision as u64);
                varint_field(&mut kv, 3, self.main as u64);
                varint_field(&mut kv, 4, put.version as u64);
                bytes_field(&mut kv, 5, &put.value);
            }
            None => key.push(b't'),
        }
        (key, kv)
    }
}

fn varint_field(buf: &mut Vec<u8>, tag: u32, v: u64) {
    if v != 0 {
        encode_key(tag, WireType::Varint, buf);
        encode_varint(v, buf);
    }
}

fn bytes_field(buf: &mut Vec<u8>, tag: u32, b: &[u8]) {
    if !b.is_empty() {
        encode_key(tag, WireType::LengthDelimited, buf);
        encode_varint(b.len() as u64, buf);
        buf.extend_from_slice(b);
    }
}

type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// The small buckets of an etcd 3.5 db (`key` is streamed from a [`History`]), sorted.
fn small_buckets() -> Vec<(&'static str, Entries)> {
    let kv = |k: &str, v: &[u8]| (k.as_bytes().to_vec(), v.to_vec());
    let mut lease = Vec::new();
    varint_field(&mut lease, 1, 0x7833_a200_2e49_1b0a);
    varint_field(&mut lease, 2, 3600);
    let mut buckets = vec![
        ("alarm", vec![]),
        ("auth", vec![kv("authRevision", &1u64.to_be_bytes())]),
        ("authRoles", vec![]),
        ("authUsers", vec![]),
        ("cluster", vec![kv("clusterVersion", b"3.5.0")]),
        ("key", vec![]),
        (
            "lease",
            vec![(0x7833_a200_2e49_1b0au64.to_be_bytes().to_vec(), lease)],
        ),
        (
            "members",
            vec![kv(
                "a47cae6e43440b72",
                br#"{"id":11852540107930471282,"peerURLs":["http://127.0.0.1:24802"],"name":"m1"}"#,
            )],
        ),
        ("members_removed", vec![]),
        (
            "meta",
            vec![
                kv(
                    "confState",
                    br#"{"voters":[11852540107930471282],"auto_leave":false}"#,
                ),
                kv("consistent_index", &12u64.to_be_bytes()),
                kv("term", &2u64.to_be_bytes()),
            ],
        ),
    ];
    buckets.sort_by(|a, b| a.0.cmp(b.0));
    buckets
}

/// What `etcdutl snapshot status` must report, computed from the input data.
struct Expected {
    /// CRC-32C over each bucket name, then each key and value, in order
    /// (`docs/format-etcd.md#snapshot-status`).
    hash: u32,
    revision: i64,
    /// k/v pairs in all buckets (3.5's `totalKey`).
    total_entries: u64,
}

/// Streams an etcd-shaped db to `path` and returns what status must say about it.
fn write_etcd_db(path: &Path, opts: WriterOptions, history: &History) -> Expected {
    let mut writer = DbWriter::new(File::create(path).unwrap(), opts).unwrap();
    let mut hash = 0u32;
    let mut total_entries = 0;
    for (name, entries) in small_buckets() {
        writer.begin_bucket(name.as_bytes()).unwrap();
        hash = crc32c::crc32c_append(hash, name.as_bytes());
        let history_entries = (0..history.n)
            .filter(|_| name == "key")
            .map(|j| history.change(j).encode());
        for (k, v) in history_entries.chain(entries) {
            writer.put(&k, &v).unwrap();
            hash = crc32c::crc32c_append(crc32c::crc32c_append(hash, &k), &v);
            total_entries += 1;
        }
    }
    let mut file = writer.finish().unwrap();
    assert_eq!(
        file.stream_position().unwrap(),
        file.metadata().unwrap().len()
    );
    Expected {
        hash,
        revision: history.max_main(),
        total_entries,
    }
}

/// `pgid * pageSize` from the file's newest meta, after checking it equals the file length.
fn db_size(path: &Path) -> u64 {
    let mut file = File::open(path).unwrap();
    let mut meta_page = [0; 1024];
    file.read_exact(&mut meta_page).unwrap();
    let meta = Meta::read_valid(&meta_page).unwrap();
    let size = meta.pgid * meta.page_size as u64;
    assert_eq!(
        size,
        file.metadata().unwrap().len(),
        "file length = pgid * pageSize"
    );
    size
}

// ---------------------------------------------------------------------------------------------
// The tools.

/// etcdutl 3.5 from the harness, or `None` when it is missing and may be.
fn etcdutl() -> Option<PathBuf> {
    require_tool("etcdutl")
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `etcdutl snapshot status -w json`: bbolt opens the file and `tx.Check()`s it first.
fn status(etcdutl: &Path, db: &Path) -> serde_json::Value {
    let out = run(Command::new(etcdutl)
        .args(["snapshot", "status", "-w", "json"])
        .arg(db));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("status output {out:?}: {e}"))
}

fn is_etcdutl_3_5(etcdutl: &Path) -> bool {
    run(Command::new(etcdutl).arg("version")).contains("etcdutl version: 3.5.")
}

/// Writes an etcd-shaped db and asserts etcdutl accepts it and agrees with our expectations.
/// The writer options of a restore (txid 2) with this page size and freelist variant.
fn restore_options(page_size: u32, freelist_page: bool) -> WriterOptions {
    WriterOptions {
        page_size,
        freelist_page,
        txid: 2,
    }
}

fn check_with_etcdutl(history: &History, opts: WriterOptions) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let started = Instant::now();
    let expected = write_etcd_db(&db, opts, history);
    let size = db_size(&db);
    eprintln!(
        "wrote {} changes, {size} bytes, {opts:?} in {:?}",
        history.n,
        started.elapsed()
    );
    let Some(etcdutl) = etcdutl() else { return };
    let status = status(&etcdutl, &db);
    assert_eq!(status["hash"], expected.hash, "{status}");
    assert_eq!(status["revision"], expected.revision, "{status}");
    assert_eq!(status["totalSize"], size, "{status}");
    if is_etcdutl_3_5(&etcdutl) {
        assert_eq!(status["totalKey"], expected.total_entries, "{status}");
    }
}

fn big_keys() -> usize {
    std::env::var("REVKEEPER_WRITER_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000)
}

// ---------------------------------------------------------------------------------------------
// etcdutl snapshot status

#[test]
fn tiny_etcd_db_passes_etcdutl_status() {
    let history = History {
        n: 10,
        big_every: 0,
    };
    for (page_size, freelist_page) in [(4096, true), (16384, false)] {
        let opts = restore_options(page_size, freelist_page);
        check_with_etcdutl(&history, opts);
    }
}

#[test]
fn big_etcd_dbs_with_overflow_values_pass_etcdutl_status() {
    let history = History {
        n: big_keys(),
        big_every: 5000,
    };
    for (page_size, freelist_page) in [(4096, false), (4096, true), (16384, true), (16384, false)] {
        let opts = restore_options(page_size, freelist_page);
        check_with_etcdutl(&history, opts);
    }
}

#[test]
fn etcdutl_status_does_reject_a_broken_db() {
    // Proof that the status checks above have teeth: list a page in use as free.
    let Some(etcdutl) = etcdutl() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let history = History {
        n: 2000,
        big_every: 0,
    };
    write_etcd_db(&db, WriterOptions::default(), &history);
    let mut file = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    file.seek(SeekFrom::Start(2 * 4096 + 10)).unwrap();
    file.write_all(&1u16.to_le_bytes()).unwrap();
    file.seek(SeekFrom::Start(2 * 4096 + 16)).unwrap();
    file.write_all(&3u64.to_le_bytes()).unwrap();
    drop(file);
    let out = Command::new(&etcdutl)
        .args(["snapshot", "status", "-w", "json"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success(), "etcdutl accepted a broken db");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("integrity check failed"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// A real etcd server on an `etcdutl snapshot restore` of a written db.

#[test]
fn etcd_serves_a_restored_written_db() {
    let Some(etcdutl) = etcdutl() else {
        return;
    };
    let history = History {
        n: 3000,
        big_every: 1000,
    };
    // As etcd writes on Linux, and with the other page size and freelist variant.
    for (page_size, freelist_page) in [(4096, false), (16384, true)] {
        let opts = restore_options(page_size, freelist_page);
        check_restored_db_on_etcd(&etcdutl, &history, opts);
    }
}

/// Writes the db with a SHA-256 trailer, restores it with `etcdutl snapshot restore`, starts
/// etcd on the result and reads keys back.
fn check_restored_db_on_etcd(etcdutl: &Path, history: &History, opts: WriterOptions) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("snapshot.db");
    write_etcd_db(&db, opts, history);
    append_sha256(&db);

    let (client_port, peer_port) = (free_port(), free_port());
    let peer_url = format!("http://127.0.0.1:{peer_port}");
    let data_dir = dir.path().join("data");
    run(Command::new(etcdutl)
        .args(["snapshot", "restore"])
        .arg(&db)
        .arg("--data-dir")
        .arg(&data_dir)
        .args([
            "--name",
            "m1",
            "--initial-cluster",
            &format!("m1={peer_url}"),
        ])
        .args(["--initial-advertise-peer-urls", &peer_url]));
    let mut server = Member::spawn_on(MemberSpec {
        name: "m1".into(),
        data_dir,
        client_port,
        peer_port,
        initial_cluster: format!("m1={peer_url}"),
        cluster_token: "etcd-cluster".into(),
        cluster_state: "new",
        tls: None,
        extra_args: Vec::new(),
    });
    server.wait_healthy();

    let mut samples: Vec<usize> = (0..history.creates()).step_by(97).collect();
    // Updated, deleted (every 7th of the first fifth), and 100 KB – 1 MB values.
    samples.extend([6, 13, 100, 500, 1500, 599, 600, history.creates() - 1]);
    for &t in &samples {
        let user_key = History::user_key(t);
        let response = post(
            &server,
            "/v3/kv/range",
            &serde_json::json!({ "key": b64(&user_key) }),
        );
        assert_eq!(int(&response["header"]["revision"]), history.max_main());
        let latest = history.latest(t);
        let Some(put) = latest.put else {
            assert_eq!(
                int(&response["count"]),
                0,
                "key {t} was deleted: {response}"
            );
            continue;
        };
        let kv = &response["kvs"][0];
        assert_eq!(unb64(&kv["key"]), user_key, "{response}");
        assert_eq!(int(&kv["create_revision"]), put.create_revision, "key {t}");
        assert_eq!(int(&kv["mod_revision"]), latest.main, "key {t}");
        assert_eq!(int(&kv["version"]), put.version, "key {t}");
        assert!(unb64(&kv["value"]) == put.value, "value of key {t}");
    }
    let all = serde_json::json!({
        "key": b64(b"/registry/"),
        "range_end": b64(b"/registry0"),
        "count_only": true,
    });
    let response = post(&server, "/v3/kv/range", &all);
    assert_eq!(int(&response["count"]), history.live_keys() as i64);
    eprintln!(
        "{} served the restored db ({opts:?}): {} live keys at revision {}",
        etcd_bin().display(),
        history.live_keys(),
        history.max_main()
    );
}

/// Appends the SHA-256 trailer `etcdctl snapshot save` writes, so `len % 512 == 32`.
fn append_sha256(db: &Path) {
    let digest = Sha256::digest(std::fs::read(db).unwrap());
    let mut file = std::fs::OpenOptions::new().append(true).open(db).unwrap();
    file.write_all(&digest).unwrap();
    assert_eq!(file.metadata().unwrap().len() % 512, 32);
}

/// POSTs JSON to the member's gRPC gateway and returns the JSON answer.
fn post(member: &Member, path: &str, body: &serde_json::Value) -> serde_json::Value {
    let (status, text) = request(member.spec.client_port, "POST", path, &body.to_string())
        .unwrap_or_else(|e| panic!("POST {path}: {e}\n{}", member.log_text()));
    assert_eq!(status, 200, "POST {path} {body}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} answered {text:?}: {e}"))
}

/// One HTTP/1.0 exchange: the server closes the connection after answering.
fn request(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_string()))
}

/// A JSON int64 as the gateway prints it: a string, or absent when zero.
fn int(v: &serde_json::Value) -> i64 {
    match v {
        serde_json::Value::String(s) => s.parse().unwrap(),
        serde_json::Value::Null => 0,
        other => other.as_i64().unwrap(),
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes a base64 JSON string; absent (an empty bytes field) decodes to nothing.
fn unb64(v: &serde_json::Value) -> Vec<u8> {
    let text = v.as_str().unwrap_or("").trim_end_matches('=');
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let d = B64.iter().position(|&x| x == c).expect("base64 digit") as u32;
        acc = acc << 6 | d;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Throughput

/// Writes a `key` bucket of `REVKEEPER_WRITER_BENCH_MB` (default 200) MB of ~1 KB values and
/// prints MB/s, keys/s and peak memory; checks the result with etcdutl when present. Run with
/// `cargo test --release -p revkeeper-formats --test bbolt_writer -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark: run in release mode"]
fn write_throughput() {
    let megabytes: u64 = std::env::var("REVKEEPER_WRITER_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let values: Vec<Vec<u8>> = (0..64)
        .map(|i| (0..200 + i * 25).map(|b| (b * 7 + i) as u8).collect())
        .collect();
    let average_entry = 16 + 17 + values.iter().map(Vec::len).sum::<usize>() / values.len();
    let n = megabytes * 1_000_000 / average_entry as u64;
    let fill = |out: File| {
        let mut writer = DbWriter::new(out, WriterOptions::default()).unwrap();
        writer.begin_bucket(b"key").unwrap();
        let mut key = [b'_'; 17];
        for j in 0..n {
            key[..8].copy_from_slice(&(j + 1).to_be_bytes());
            let value = &values[j as usize % values.len()];
            writer.put(&key, value).unwrap();
        }
        writer.finish().unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");

    // The writer's own cost, without a disk: the same db into /dev/null.
    let started = Instant::now();
    fill(File::create("/dev/null").unwrap());
    let cpu_only = started.elapsed();

    let started = Instant::now();
    let file = fill(File::create(&db).unwrap());
    let written = started.elapsed();
    let peak_rss = peak_rss();
    file.sync_all().unwrap();
    let synced = started.elapsed();

    let size = db_size(&db) as f64;
    let rate = |d: Duration| size / 1e6 / d.as_secs_f64();
    eprintln!(
        "wrote {n} keys, {:.1} MB in {written:.2?}: {:.0} MB/s, {:.0} keys/s \
         ({:.0} MB/s including fsync; {:.0} MB/s into /dev/null); peak RSS {peak_rss}",
        size / 1e6,
        rate(written),
        n as f64 / written.as_secs_f64(),
        rate(synced),
        rate(cpu_only),
    );
    if let Some(etcdutl) = etcdutl() {
        let status = status(&etcdutl, &db);
        assert_eq!(status["revision"], n);
        assert_eq!(status["totalSize"], size as u64);
    }
}

/// `VmHWM` of this process, as the kernel reports it.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}
