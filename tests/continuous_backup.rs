//! `backup run` following a real etcd, and point-in-time restores proven on a real etcd: for
//! several revisions X, the restored member serves exactly what the source served at X (every
//! key, value, create/mod revision, version and lease).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Run, restore_and_serve_with, revkeeper, rt};
use etcd_client::{Client, Compare, CompareOp, GetOptions, PutOptions, Txn, TxnOp};
use revkeeper_harness::Member;

type Served = Vec<(Vec<u8>, Vec<u8>, i64, i64, i64, i64)>;

/// Every key as etcd serves it at `rev` (0: the latest).
fn served_at(endpoint: &str, rev: i64) -> Served {
    rt().block_on(async {
        let mut c = common::client(endpoint).await;
        let mut opts = GetOptions::new().with_from_key();
        if rev > 0 {
            opts = opts.with_revision(rev);
        }
        let resp = c.get(vec![0u8], Some(opts)).await.unwrap();
        resp.kvs()
            .iter()
            .map(|kv| {
                (
                    kv.key().to_vec(),
                    kv.value().to_vec(),
                    kv.create_revision(),
                    kv.mod_revision(),
                    kv.version(),
                    kv.lease(),
                )
            })
            .collect()
    })
}

fn leases_of(endpoint: &str) -> Vec<i64> {
    rt().block_on(async {
        let mut c = common::client(endpoint).await;
        let mut ids: Vec<i64> = c
            .leases()
            .await
            .unwrap()
            .leases()
            .iter()
            .map(|l| l.id())
            .collect();
        ids.sort();
        ids
    })
}

/// A running `backup run`, killed if the test ends without stopping it.
struct Follower(Option<Child>);

impl Drop for Follower {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn follower(endpoint: &str, dir: &Path, extra: &[&str]) -> Follower {
    let child = revkeeper()
        .args(["backup", "run", "--endpoints", endpoint, "--dir"])
        .arg(dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn backup run");
    Follower(Some(child))
}

/// SIGTERM, then the run's output; it must exit 0 within 30 s.
fn stop(mut f: Follower) -> Run {
    let child = f.0.take().expect("running");
    // SAFETY: a plain kill(2) of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(30));
        // SAFETY: as above; the child may be gone (then this does nothing harmful to us).
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    });
    let run = Run::from(child.wait_with_output().unwrap());
    drop(watchdog);
    assert_eq!(run.code, 0, "backup run after SIGTERM: {run:?}");
    run
}

fn files(dir: &Path) -> Vec<String> {
    common::files_in(dir)
}

/// The segments in `dir` as (first, last), by revision.
fn segments(dir: &Path) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = files(dir)
        .iter()
        .filter_map(|f| revkeeper::backup::chain::SegmentName::parse(f))
        .map(|n| (n.first, n.last))
        .collect();
    out.sort();
    out
}

/// The segments of `dir` start right after its first full snapshot and follow each other: no
/// gap, no duplicate.
fn assert_segments_follow_the_full_snapshot(dir: &Path) {
    let segs = segments(dir);
    assert_eq!(segs[0].0, full_revisions(dir)[0] + 1, "{segs:?}");
    for pair in segs.windows(2) {
        assert_eq!(pair[1].0, pair[0].1 + 1, "no gap, no duplicate: {segs:?}");
    }
}

/// Full snapshot revisions in `dir`, from their manifests.
fn full_revisions(dir: &Path) -> Vec<i64> {
    let mut out: Vec<i64> = files(dir)
        .iter()
        .filter(|f| f.ends_with(".manifest.json"))
        .map(|f| {
            common::read_json(&dir.join(f))["revision"]
                .as_i64()
                .unwrap()
        })
        .collect();
    out.sort();
    out
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Restores `dir` to `rev` (with `extra` flags), serves it, and returns the restored member.
fn restore_to(dir: &Path, work: &Path, rev: i64, extra: &[&str]) -> Member {
    let r = rev.to_string();
    let mut args = vec!["--to-revision", r.as_str()];
    args.extend_from_slice(extra);
    static RESTORES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RESTORES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let w = work.join(format!("restore-{n}-rev{rev}"));
    std::fs::create_dir_all(&w).unwrap();
    restore_and_serve_with(revkeeper(), dir.as_os_str(), &args, &w)
}

async fn put(c: &mut Client, k: &str, v: &str) -> i64 {
    c.put(k, v, None)
        .await
        .unwrap()
        .header()
        .unwrap()
        .revision()
}

/// A workload of every shape a restore must reproduce; returns (revision of a txn writing three
/// keys, revision where a lease was revoked).
async fn workload(c: &mut Client, round: usize) -> (i64, i64) {
    let lease = c.lease_grant(600, None).await.unwrap().id();
    let doomed = c.lease_grant(600, None).await.unwrap().id();
    for i in 0..10 {
        put(c, &format!("/r{round}/plain/{i}"), &format!("v{i}")).await;
    }
    c.put(
        format!("/r{round}/leased"),
        "held",
        Some(PutOptions::new().with_lease(lease)),
    )
    .await
    .unwrap();
    c.put(
        format!("/r{round}/doomed"),
        "gone with its lease",
        Some(PutOptions::new().with_lease(doomed)),
    )
    .await
    .unwrap();
    let txn = Txn::new()
        .when([Compare::version(
            format!("/r{round}/plain/0"),
            CompareOp::Greater,
            0,
        )])
        .and_then([
            TxnOp::put(format!("/r{round}/txn/a"), "1", None),
            TxnOp::put(format!("/r{round}/txn/b"), "2", None),
            TxnOp::delete(format!("/r{round}/plain/1"), None),
        ]);
    let txn_rev = c.txn(txn).await.unwrap().header().unwrap().revision();
    c.delete(format!("/r{round}/plain/2"), None).await.unwrap();
    put(c, &format!("/r{round}/plain/2"), "re-created").await;
    put(c, &format!("/r{round}/plain/3"), "updated").await;
    let revoked = c
        .lease_revoke(doomed)
        .await
        .unwrap()
        .header()
        .unwrap()
        .revision();
    (txn_rev, revoked)
}

/// A source etcd and a `backup run` following it into `dir`, once it has its first full
/// snapshot.
struct Setup {
    work: tempfile::TempDir,
    dir: PathBuf,
    source: Member,
}

impl Setup {
    fn start() -> Setup {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("backups");
        std::fs::create_dir(&dir).unwrap();
        Setup {
            work,
            dir,
            source: Member::start_single(),
        }
    }
    fn ep(&self) -> String {
        self.source.endpoint()
    }
    fn follow(&self, extra: &[&str]) -> Follower {
        let run = follower(&self.ep(), &self.dir, extra);
        wait_for("a full snapshot", Duration::from_secs(20), || {
            !full_revisions(&self.dir).is_empty()
        });
        run
    }
    /// `snapshot restore DIR --to-revision REV` that must fail, leaving nothing; its run.
    fn restore_fails(&self, rev: i64, what: &str) -> Run {
        let data = self.work.path().join(format!("fail-{rev}-{what}"));
        let run = common::run_cmd(
            revkeeper()
                .args(["snapshot", "restore"])
                .arg(&self.dir)
                .args(["--to-revision", &rev.to_string(), "--data-dir"])
                .arg(&data),
        );
        assert_ne!(run.code, 0, "{what}: {run:?}");
        assert!(!data.exists(), "{what}: nothing written");
        run
    }
}

fn assert_same(restored: &Member, source: &str, rev: i64) {
    let want = served_at(source, rev);
    assert!(!want.is_empty());
    assert_eq!(
        served_at(&restored.endpoint(), 0),
        want,
        "state at revision {rev}"
    );
}

#[test]
fn restores_to_any_revision_equal_to_what_etcd_served() {
    let s = Setup::start();
    let (w, dir, ep) = (s.work.path(), s.dir.clone(), s.ep());
    let run = s.follow(&[
        "--delta-interval",
        "300ms",
        "--full-interval",
        "2s",
        "--metrics-addr",
        "127.0.0.1:0",
    ]);
    let (txn1, revoked1, last) = rt().block_on(async {
        let mut c = common::client(&ep).await;
        let (txn1, revoked1) = workload(&mut c, 1).await;
        tokio::time::sleep(Duration::from_millis(2600)).await;
        workload(&mut c, 2).await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        let last = put(&mut c, "/last", "the end").await;
        (txn1, revoked1, last)
    });
    wait_for(
        "the last revision in a segment",
        Duration::from_secs(20),
        || segments(&dir).last().is_some_and(|s| s.1 >= last),
    );
    let out = stop(run);
    assert!(out.stderr.contains("delta segment written"), "{out:?}");

    let segs = segments(&dir);
    for pair in segs.windows(2) {
        assert_eq!(
            pair[1].0,
            pair[0].1 + 1,
            "segments follow each other: {segs:?}"
        );
    }
    let fulls = full_revisions(&dir);
    assert!(
        fulls.len() >= 2,
        "a periodic full snapshot was taken: {fulls:?}"
    );
    let new_segment = segs[segs.len() / 2].0;
    let mut points = vec![fulls[0] + 1, txn1, revoked1, new_segment, fulls[1], last];
    points.sort();
    points.dedup();
    for rev in points {
        let restored = restore_to(&dir, w, rev, &[]);
        assert_same(&restored, &ep, rev);
        if rev >= txn1 && rev < revoked1 {
            assert!(leases_of(&restored.endpoint()).len() >= 2);
        }
    }

    // With the bump, the restored member starts far ahead and answers "compacted" below it.
    let bumped = restore_to(
        &dir,
        w,
        txn1,
        &["--bump-revision", "1000", "--mark-compacted"],
    );
    assert_same(&bumped, &ep, txn1);
    let (header_rev, old_read) = rt().block_on(async {
        let mut c = common::client(&bumped.endpoint()).await;
        let rev = c
            .get("/last", None)
            .await
            .unwrap()
            .header()
            .unwrap()
            .revision();
        let old = c
            .get("/r1/plain/0", Some(GetOptions::new().with_revision(txn1)))
            .await;
        (rev, old)
    });
    assert!(header_rev >= txn1 + 1000, "{header_rev}");
    assert!(old_read.is_err(), "revision {txn1} must answer compacted");
    // Pre-compacted: the base snapshot and the delta events folded into the state at txn1.
    let mut bumped = bumped;
    bumped.stop();
    let live_at_txn1 = served_at(&ep, txn1).len();
    common::assert_precompacted(
        &bumped.spec.data_dir.join("member/snap/db"),
        live_at_txn1,
        txn1 + 1000,
    );

    // --to-time: the last revision received at or before the time a segment's last event was
    // received is that segment's last revision.
    let names: Vec<revkeeper::backup::chain::SegmentName> = files(&dir)
        .iter()
        .filter_map(|f| revkeeper::backup::chain::SegmentName::parse(f))
        .collect();
    let middle = names
        .iter()
        .min_by_key(|n| (n.first - new_segment).abs())
        .unwrap();
    let at = middle
        .last_time
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let tw = w.join("by-time");
    std::fs::create_dir(&tw).unwrap();
    let by_time = restore_and_serve_with(revkeeper(), dir.as_os_str(), &["--to-time", &at], &tw);
    assert_same(&by_time, &ep, middle.last);

    let list = common::run(&["snapshot", "list", dir.to_str().unwrap()]);
    assert!(list.stdout.contains("restorable (cluster "), "{list:?}");
    assert!(list.stdout.contains(&format!("–{last}, ")), "{list:?}");

    // Prune knows chains: keeping the newest full snapshot drops the segments before it and
    // keeps every one after it, so the newest state stays restorable.
    let newest = *full_revisions(&dir).last().unwrap();
    let prune = common::run(&[
        "snapshot",
        "prune",
        dir.to_str().unwrap(),
        "--keep-last",
        "1",
        "--apply",
    ]);
    assert_eq!(prune.code, 0, "{prune:?}");
    assert_eq!(full_revisions(&dir), vec![newest]);
    let left = segments(&dir);
    assert!(left.iter().all(|s| s.1 > newest), "{left:?}");
    assert!(left.iter().any(|s| s.1 >= last), "{left:?}");
    let after = restore_to(&dir, w, last, &[]);
    assert_same(&after, &ep, last);
    if newest > txn1 {
        let gone = s.restore_fails(txn1, "pruned");
        assert_eq!(gone.code, 3, "{gone:?}");
        assert!(
            gone.last_err_line()
                .contains("before the oldest full snapshot"),
            "{gone:?}"
        );
    }
}

#[test]
fn sigkill_and_restart_leave_no_gap_and_no_duplicate() {
    let s = Setup::start();
    let (w, dir, ep) = (s.work.path(), s.dir.clone(), s.ep());
    let mut run = s.follow(&["--delta-interval", "30s"]);
    rt().block_on(async {
        let mut c = common::client(&ep).await;
        workload(&mut c, 1).await;
    });
    std::thread::sleep(Duration::from_millis(500));
    let mut child = run.0.take().expect("running");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        segments(&dir).is_empty(),
        "nothing was flushed before SIGKILL"
    );

    let run = follower(&ep, &dir, &["--delta-interval", "300ms"]);
    let last = rt().block_on(async {
        let mut c = common::client(&ep).await;
        workload(&mut c, 2).await;
        put(&mut c, "/last", "x").await
    });
    wait_for(
        "the last revision in a segment",
        Duration::from_secs(20),
        || segments(&dir).last().is_some_and(|s| s.1 >= last),
    );
    let out = stop(run);
    assert!(out.stderr.contains("continuing the chain"), "{out:?}");
    assert_segments_follow_the_full_snapshot(&dir);
    let restored = restore_to(&dir, w, last, &[]);
    assert_same(&restored, &ep, last);
}

#[test]
fn compaction_while_down_starts_a_new_chain_and_keeps_the_old_one() {
    let s = Setup::start();
    let (w, dir, ep) = (s.work.path(), s.dir.clone(), s.ep());
    let run = s.follow(&["--delta-interval", "300ms"]);
    let end = rt().block_on(async {
        let mut c = common::client(&ep).await;
        workload(&mut c, 1).await;
        put(&mut c, "/end-of-first-chain", "x").await
    });
    wait_for(
        "the end of the first chain",
        Duration::from_secs(20),
        || segments(&dir).last().is_some_and(|s| s.1 >= end),
    );
    stop(run);
    let at_end = served_at(&ep, end);
    let latest = rt().block_on(async {
        let mut c = common::client(&ep).await;
        workload(&mut c, 2).await;
        let rev = put(&mut c, "/while-down", "x").await;
        c.compact(rev, None).await.unwrap();
        rev
    });
    let run = follower(&ep, &dir, &["--delta-interval", "300ms"]);
    wait_for("a new full snapshot", Duration::from_secs(20), || {
        full_revisions(&dir).len() >= 2
    });
    let out = stop(run);
    assert!(out.stderr.contains("compacted"), "{out:?}");
    assert!(
        full_revisions(&dir).contains(&latest),
        "{:?}",
        full_revisions(&dir)
    );

    let old = restore_to(&dir, w, end, &[]);
    assert_eq!(served_at(&old.endpoint(), 0), at_end);
    let gap = s.restore_fails(end + 1, "gap");
    assert_eq!(gap.code, 3, "{gap:?}");
    assert!(
        gap.last_err_line()
            .contains(&format!("revision {}", end + 1)),
        "{gap:?}"
    );
}

#[test]
fn a_damaged_or_missing_segment_fails_restores_after_it_only() {
    let s = Setup::start();
    let (w, dir, ep) = (s.work.path(), s.dir.clone(), s.ep());
    let run = s.follow(&["--delta-interval", "200ms"]);
    let last = rt().block_on(async {
        let mut c = common::client(&ep).await;
        for round in 0..3 {
            workload(&mut c, round).await;
            tokio::time::sleep(Duration::from_millis(600)).await;
        }
        put(&mut c, "/last", "x").await
    });
    wait_for(
        "the last revision in a segment",
        Duration::from_secs(20),
        || segments(&dir).last().is_some_and(|s| s.1 >= last),
    );
    stop(run);
    let segs = segments(&dir);
    assert!(segs.len() >= 3, "{segs:?}");
    let (first, victim) = (segs[0], segs[1]);
    let name_of = |s: (i64, i64)| -> PathBuf {
        let n = files(&dir)
            .into_iter()
            .find(|f| {
                revkeeper::backup::chain::SegmentName::parse(f)
                    .is_some_and(|p| (p.first, p.last) == s)
            })
            .unwrap();
        dir.join(n)
    };
    let victim_path = name_of(victim);
    let mut bytes = std::fs::read(&victim_path).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    std::fs::write(&victim_path, &bytes).unwrap();
    let damaged = s.restore_fails(last, "damaged");
    let victim_name = victim_path.file_name().unwrap().to_str().unwrap();
    assert!(damaged.last_err_line().contains(victim_name), "{damaged:?}");
    let before = restore_to(&dir, w, first.1, &[]);
    assert_same(&before, &ep, first.1);

    std::fs::remove_file(&victim_path).unwrap();
    let missing = s.restore_fails(last, "missing");
    assert!(
        missing
            .last_err_line()
            .contains(&format!("revision {}", victim.0)),
        "{missing:?}"
    );
}

#[test]
fn compact_folds_a_chain_into_a_full_snapshot_that_restores_the_same_state() {
    let s = Setup::start();
    let (w, dir, ep) = (s.work.path(), s.dir.clone(), s.ep());
    let run = s.follow(&["--delta-interval", "300ms"]);
    let (txn, last) = rt().block_on(async {
        let mut c = common::client(&ep).await;
        let (txn, _) = workload(&mut c, 1).await;
        workload(&mut c, 2).await;
        (txn, put(&mut c, "/last", "x").await)
    });
    wait_for(
        "the last revision in a segment",
        Duration::from_secs(20),
        || segments(&dir).last().is_some_and(|s| s.1 >= last),
    );
    stop(run);
    let compact = common::run(&[
        "backup",
        "compact",
        dir.to_str().unwrap(),
        "--to-revision",
        &txn.to_string(),
    ]);
    assert_eq!(compact.code, 0, "{compact:?}");
    let made = compact.stdout.trim().to_string();
    assert!(
        full_revisions(&dir).contains(&txn),
        "{:?}",
        full_revisions(&dir)
    );
    let verify = common::run(&["snapshot", "verify", &made]);
    assert_eq!(verify.code, 0, "{verify:?}");
    // The compacted snapshot restores as is, and serves as the base of later restores.
    let plain = w.join("plain");
    std::fs::create_dir(&plain).unwrap();
    let from_file = restore_and_serve_with(revkeeper(), made.as_ref(), &[], &plain);
    assert_same(&from_file, &ep, txn);
    let restored = restore_to(&dir, w, last, &[]);
    assert_same(&restored, &ep, last);
    let log = common::run_cmd(
        revkeeper()
            .args(["snapshot", "restore"])
            .arg(&dir)
            .args(["--to-revision", &last.to_string(), "--data-dir"])
            .arg(w.join("again")),
    );
    assert!(
        log.stderr.contains(&format!("base_revision={txn}")),
        "restores start from the compacted snapshot: {log:?}"
    );
    // `-o json` prints the new snapshot's path and manifest, as `snapshot save -o json` does.
    let json = common::run(&["backup", "compact", dir.to_str().unwrap(), "-o", "json"]);
    assert_eq!(json.code, 0, "{json:?}");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["revision"], last, "{json:?}");
    let path = doc["path"].as_str().unwrap_or_default();
    assert!(std::path::Path::new(path).is_file(), "{json:?}");
}

#[test]
fn encrypted_chains_restore_with_the_identity_only() {
    if revkeeper_harness::require(
        "age-keygen",
        "apt-get install age",
        revkeeper_harness::have_age().then_some(()),
    )
    .is_none()
    {
        return;
    }
    let s = Setup::start();
    let (w, dir, ep) = (s.work.path(), s.dir.clone(), s.ep());
    let (identity, public) = revkeeper_harness::age_keygen(w, "key.txt");
    let run = s.follow(&["--delta-interval", "300ms", "--encrypt-to", &public]);
    let last = rt().block_on(async {
        let mut c = common::client(&ep).await;
        workload(&mut c, 1).await;
        put(&mut c, "/last", "x").await
    });
    wait_for(
        "the last revision in a segment",
        Duration::from_secs(20),
        || segments(&dir).last().is_some_and(|s| s.1 >= last),
    );
    stop(run);
    for f in files(&dir)
        .iter()
        .filter(|f| !f.ends_with(".manifest.json"))
    {
        assert!(
            f.ends_with(".age"),
            "every snapshot and segment is encrypted: {f}"
        );
        let bytes = std::fs::read(dir.join(f)).unwrap();
        assert!(bytes.starts_with(b"age-encryption.org/v1"), "{f}");
    }
    let locked = s.restore_fails(last, "no-identity");
    assert_eq!(locked.code, 3, "{locked:?}");
    assert!(locked.last_err_line().contains("--identity"), "{locked:?}");
    let restored = restore_to(&dir, w, last, &["--identity", identity.to_str().unwrap()]);
    assert_same(&restored, &ep, last);
}

#[test]
fn a_restart_after_the_full_interval_takes_a_full_snapshot_at_once() {
    let s = Setup::start();
    let (dir, ep) = (s.dir.clone(), s.ep());
    let run = s.follow(&["--delta-interval", "300ms"]);
    rt().block_on(async {
        let mut c = common::client(&ep).await;
        put(&mut c, "/before", "x").await;
    });
    stop(run);
    // The newest full snapshot is now older than the interval the restart is given.
    std::thread::sleep(Duration::from_millis(4500));
    let started = Instant::now();
    let run = s.follow(&["--delta-interval", "300ms", "--full-interval", "4s"]);
    wait_for("a second full snapshot", Duration::from_secs(20), || {
        full_revisions(&dir).len() >= 2
    });
    let took = started.elapsed();
    let out = stop(run);
    assert!(out.stderr.contains("a new one starts now"), "{out:?}");
    assert!(
        took < Duration::from_millis(3500),
        "not after a whole interval: {took:?}"
    );
}

/// The segments in `dir`, decoded, by revision.
fn decoded_segments(dir: &Path) -> Vec<revkeeper_formats::delta::Segment> {
    let mut out: Vec<_> = files(dir)
        .iter()
        .filter(|f| revkeeper::backup::chain::SegmentName::parse(f).is_some())
        .map(|f| {
            let raw = zstd::decode_all(&std::fs::read(dir.join(f)).unwrap()[..]).unwrap();
            revkeeper_formats::delta::Segment::decode(&raw).unwrap()
        })
        .collect();
    out.sort_by_key(|s| s.first_revision);
    out
}

/// How many `method` calls etcd at `endpoint` has answered, from its /metrics.
fn grpc_calls(endpoint: &str, method: &str) -> u64 {
    use std::io::{Read, Write};
    let addr = endpoint.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(conn, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).unwrap();
    let series = format!("grpc_method=\"{method}\"");
    text.lines()
        .filter(|l| l.starts_with("grpc_server_handled_total{") && l.contains(&series))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[test]
fn lease_tables_follow_grants_and_revokes_and_read_each_lease_once() {
    let s = Setup::start();
    let (dir, ep) = (s.dir.clone(), s.ep());
    let (kept, revoked) = rt().block_on(async {
        let mut c = common::client(&ep).await;
        let kept = c.lease_grant(600, None).await.unwrap().id();
        let revoked = c.lease_grant(300, None).await.unwrap().id();
        c.put("/leased", "x", Some(PutOptions::new().with_lease(kept)))
            .await
            .unwrap();
        (kept, revoked)
    });
    let before = grpc_calls(&ep, "LeaseTimeToLive");
    let run = s.follow(&["--delta-interval", "300ms"]);
    // Several segments; a lease granted between two of them, another revoked.
    let (granted, last) = rt().block_on(async {
        let mut c = common::client(&ep).await;
        let mut granted = 0;
        let mut last = 0;
        for round in 0..6 {
            if round == 2 {
                granted = c.lease_grant(77, None).await.unwrap().id();
            }
            if round == 4 {
                c.lease_revoke(revoked).await.unwrap();
            }
            last = put(&mut c, "/tick", &round.to_string()).await;
            let want = last;
            wait_for("a segment", Duration::from_secs(20), || {
                segments(&dir).last().is_some_and(|s| s.1 >= want)
            });
        }
        (granted, last)
    });
    stop(run);
    let segs = decoded_segments(&dir);
    assert!(segs.len() >= 6, "one segment per round: {}", segs.len());
    assert_eq!(segs.last().unwrap().last_revision, last);
    let ids = |s: &revkeeper_formats::delta::Segment| -> Vec<(i64, i64)> {
        let mut v: Vec<(i64, i64)> = s.leases.iter().map(|l| (l.id, l.granted_ttl)).collect();
        v.sort();
        v
    };
    let sorted = |mut v: Vec<(i64, i64)>| {
        v.sort();
        v
    };
    assert_eq!(ids(&segs[0]), sorted(vec![(kept, 600), (revoked, 300)]));
    assert_eq!(
        ids(&segs[3]),
        sorted(vec![(kept, 600), (revoked, 300), (granted, 77)])
    );
    assert_eq!(
        ids(segs.last().unwrap()),
        sorted(vec![(kept, 600), (granted, 77)])
    );
    assert!(
        segs.iter()
            .flat_map(|s| &s.leases)
            .all(|l| l.remaining_ttl > 0)
    );
    // Each lease's TimeToLive was read once, not once per segment.
    let reads = grpc_calls(&ep, "LeaseTimeToLive") - before;
    assert_eq!(reads, 3, "{} segments", segs.len());
}

#[test]
fn a_lost_member_is_followed_on_the_next_without_a_gap() {
    let mut cluster = revkeeper_harness::Cluster::start(3);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("backups");
    std::fs::create_dir(&dir).unwrap();
    let eps = cluster.endpoints();
    let run = follower(&eps.join(","), &dir, &["--delta-interval", "300ms"]);
    wait_for("a full snapshot", Duration::from_secs(30), || {
        !full_revisions(&dir).is_empty()
    });
    let survivor = eps[1].clone();
    let first = rt().block_on(async {
        let mut c = common::client(&survivor).await;
        workload(&mut c, 1).await;
        put(&mut c, "/before-the-loss", "x").await
    });
    wait_for("the first segments", Duration::from_secs(20), || {
        segments(&dir).last().is_some_and(|s| s.1 >= first)
    });
    cluster.members[0].kill();
    let last = rt().block_on(async {
        let mut c = common::client(&survivor).await;
        // The killed member may have been the leader: writes wait for the next one.
        let deadline = Instant::now() + Duration::from_secs(30);
        while c.put("/after-election", "x", None).await.is_err() {
            assert!(Instant::now() < deadline, "no leader after the loss");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        workload(&mut c, 2).await;
        put(&mut c, "/after-the-loss", "x").await
    });
    wait_for(
        "the last revision in a segment",
        Duration::from_secs(60),
        || segments(&dir).last().is_some_and(|s| s.1 >= last),
    );
    let out = stop(run);
    assert!(out.stderr.contains("lost the member"), "{out:?}");
    assert_segments_follow_the_full_snapshot(&dir);
    let restored = restore_to(&dir, work.path(), last, &[]);
    assert_same(&restored, &survivor, last);
}

/// etcd splits a watch response bigger than its request limit into fragments, even inside one
/// revision; the watch `backup run` follows passes them on as whole revisions, so a segment
/// cut after any response ends at a revision boundary.
#[test]
fn fragmented_watch_responses_arrive_as_whole_revisions() {
    use revkeeper::source::{KeyRange, Source, WatchEnd};
    let member =
        Member::start_single_with(None, vec!["--max-request-bytes".into(), "32768".into()]);
    let ep = member.endpoint();
    let (first, last) = rt().block_on(async {
        let mut c = common::client(&ep).await;
        let mut revs = Vec::new();
        // 40 revisions of 20 KiB: about 0.8 MiB in one catch-up response, over the limit of
        // a watch response (the request limit + 512 KiB for gRPC).
        for t in 0..40 {
            let ops: Vec<TxnOp> = (0..20)
                .map(|k| TxnOp::put(format!("/txn{t}/{k:02}"), vec![b'v'; 1024], None))
                .collect();
            let resp = c.txn(Txn::new().and_then(ops)).await.unwrap();
            revs.push(resp.header().unwrap().revision());
        }
        (revs[0], revs[39])
    });
    let source = common::live_source(&member);
    let mut calls: Vec<Vec<i64>> = Vec::new();
    let end = source
        .watch(&KeyRange::prefix(Vec::new()), first, &mut |changes, _| {
            if !changes.is_empty() {
                calls.push(changes.iter().map(|c| c.revision).collect());
            }
            Ok(calls.iter().map(Vec::len).sum::<usize>() < 800)
        })
        .unwrap();
    assert_eq!(end, WatchEnd::Stopped);
    let seen: Vec<i64> = calls.concat();
    assert_eq!(seen.len(), 800, "{calls:?}");
    assert_eq!(*seen.last().unwrap(), last);
    for call in &calls {
        for rev in call {
            let n = call.iter().filter(|r| *r == rev).count();
            assert_eq!(n, 20, "revision {rev} split across calls: {calls:?}");
        }
    }
}
