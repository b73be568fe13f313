//! `revkeeper snapshot save` against real etcd servers (harness), run as a real process.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use revkeeper_harness::{Cluster, Member};

fn metrics(path: &Path) -> std::collections::BTreeMap<String, f64> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut m = std::collections::BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (name, value) = line.split_once(' ').unwrap();
        m.insert(name.to_string(), value.parse::<f64>().unwrap());
    }
    m
}

/// zstd into --dir: the file decompresses to `[db][sha256]` whose trailer verifies; the manifest,
/// the metrics and etcdutl agree on the revision; and etcdutl restores it into a data dir a real
/// etcd starts on, serving the key written before the save.
#[test]
fn save_to_dir_is_verified_and_restorable() {
    let member = Member::start_single();
    let ep = member.endpoint();
    let rev = fill_small(&ep, 300);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("backups");
    std::fs::create_dir(&dir).unwrap();
    let prom = tmp.path().join("etcd-backup.prom");
    let r = run(&[
        "snapshot",
        "save",
        "--dir",
        dir.to_str().unwrap(),
        "--endpoints",
        &ep,
        "--metrics-file",
        prom.to_str().unwrap(),
        "--log-format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");

    // stdout: the path; name: <prefix>-<UTC>-rev<revision>.db.zst
    let path = Path::new(r.stdout.trim()).to_path_buf();
    let name = path.file_name().unwrap().to_str().unwrap().to_string();
    let suffix = format!("-rev{rev}.db.zst");
    assert!(
        name.starts_with("etcd-20") && name.ends_with(&suffix),
        "{name}"
    );
    assert_eq!(name.len(), "etcd-".len() + 16 + suffix.len(), "{name}");
    assert_eq!(
        files_in(&dir),
        vec![name.clone(), format!("{name}.manifest.json")]
    );
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&dir.join(format!("{name}.manifest.json"))), 0o600);

    // Logs: one JSON object per line, the save reported with the member.
    let logs = json_lines(&r.stderr);
    let saved = logs
        .iter()
        .find(|l| l["msg"] == "snapshot saved")
        .expect("saved line");
    assert_eq!(saved["revision"], rev);
    assert_eq!(saved["member"], "m1");

    // Content: zstd of [db][sha256], trailer verified; manifest matches.
    let file = std::fs::read(&path).unwrap();
    let plain = zstd_decode(&path);
    let (db, trailer) = split_checked(&plain);
    let m = manifest_of(&path);
    assert_eq!(m["format"], "revkeeper.snapshot-manifest/v1");
    assert_eq!(m["file"], name.as_str());
    assert_eq!(m["compression"], "zstd");
    assert_eq!(m["zstd_level"], 1, "the default level");
    assert_eq!(m["db_size"], db.len());
    assert_eq!(m["db_sha256"], hex::encode(trailer));
    assert_eq!(m["file_size"], file.len());
    assert_eq!(m["file_sha256"], sha256_hex(&file));
    assert_eq!(m["revision"], rev);
    assert_eq!(m["revision_source"], "db");
    assert_eq!(m["member_name"], "m1");
    assert_eq!(m["endpoint"], ep.as_str());
    assert!(m["etcd_version"].as_str().unwrap().starts_with("3."));
    assert!(m["cluster_id"].as_str().unwrap().len() >= 8);
    assert!(m["member_id"].as_str().unwrap().len() >= 8);
    assert!(m["started_at"].as_str().unwrap() <= m["finished_at"].as_str().unwrap());
    assert_eq!(m["revkeeper_version"], env!("CARGO_PKG_VERSION"));

    // Metrics: parsed, success with the snapshot's facts.
    let v = metrics(&prom);
    assert_eq!(v["revkeeper_snapshot_success"], 1.0);
    assert_eq!(v["revkeeper_snapshot_revision"], rev as f64);
    assert_eq!(v["revkeeper_snapshot_db_size_bytes"], db.len() as f64);
    assert_eq!(v["revkeeper_snapshot_file_size_bytes"], file.len() as f64);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let last_ok = v["revkeeper_snapshot_last_success_timestamp_seconds"];
    assert!((now - last_ok).abs() < 120.0, "{last_ok} vs {now}");
    assert!(v["revkeeper_snapshot_duration_seconds"] > 0.0);

    // A failed run keeps the last success time and says success 0.
    let dead = format!("127.0.0.1:{}", revkeeper_harness::free_port());
    let r2 = run(&[
        "snapshot",
        "save",
        "--dir",
        dir.to_str().unwrap(),
        "--endpoints",
        &dead,
        "--metrics-file",
        prom.to_str().unwrap(),
    ]);
    assert_eq!(r2.code, 2, "{r2:?}");
    let v2 = metrics(&prom);
    assert_eq!(v2["revkeeper_snapshot_success"], 0.0);
    assert_eq!(
        v2["revkeeper_snapshot_last_success_timestamp_seconds"],
        last_ok
    );
    assert_eq!(v2["revkeeper_snapshot_revision"], rev as f64);

    // `snapshot list` reads it back.
    let l = run(&["snapshot", "list", dir.to_str().unwrap(), "-w", "json"]);
    assert_eq!(l.code, 0, "{l:?}");
    let items: serde_json::Value = serde_json::from_str(&l.stdout).unwrap();
    assert_eq!(items.as_array().unwrap().len(), 1);
    assert_eq!(items[0]["status"], "ok");
    assert_eq!(items[0]["revision"], rev);
    let t = run(&["snapshot", "list", dir.to_str().unwrap()]);
    assert!(t.stdout.starts_with("SNAPSHOT"), "{t:?}");
    assert!(
        t.stdout.contains(&name) && t.stdout.contains(" ok"),
        "{t:?}"
    );

    // etcdutl reads the decompressed snapshot at the same revision, restores it, and a real
    // etcd serves the data.
    let plain_path = tmp.path().join("plain.db");
    std::fs::write(&plain_path, &plain).unwrap();
    if let Some(status) = etcdutl_status(&plain_path) {
        assert_eq!(status["revision"], rev);
        assert_eq!(status["totalSize"], db.len());
        let value = restore_and_get(&plain_path, tmp.path(), "/proof").unwrap();
        assert_eq!(value, b"hello from revkeeper");
    }
}

/// `--compress none`: a plain `[db][sha256]` file (the db bytes are exactly what the server sent:
/// the server's own sha256 of its stream matches them) that etcdutl accepts unchanged. A FILE not
/// ending in .zst is plain without asking.
#[test]
fn compress_none_writes_what_the_server_sent() {
    let member = Member::start_single();
    let ep = member.endpoint();
    let rev = fill_small(&ep, 50);
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("snap.db");
    let r = run(&[
        "snapshot",
        "save",
        file.to_str().unwrap(),
        "--compress",
        "none",
        "--endpoints",
        &ep,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.trim(), file.to_str().unwrap());
    let bytes = std::fs::read(&file).unwrap();
    let (db, trailer) = split_checked(&bytes);
    let m = manifest_of(&file);
    assert_eq!(m["compression"], "none");
    assert!(m.get("zstd_level").is_none());
    assert_eq!(m["db_sha256"], hex::encode(trailer));
    assert_eq!(m["file_sha256"], sha256_hex(&bytes));
    assert_eq!(m["file_size"], bytes.len());
    assert_eq!(m["db_size"], db.len());
    assert_eq!(&db[16..20], &0xED0C_DAEDu32.to_le_bytes(), "bbolt magic");
    if let Some(status) = etcdutl_status(&file) {
        assert_eq!(status["revision"], rev);
    }

    // Auto: .db → plain, .zst → zstd.
    let auto = tmp.path().join("auto.db");
    save_file(&ep, &auto);
    split_checked(&std::fs::read(&auto).unwrap());
    let zst = tmp.path().join("auto.db.zst");
    save_file(&ep, &zst);
    split_checked(&zstd_decode(&zst));
}

/// Three members, the first one dead: the snapshot comes from the second, and both the log and
/// the manifest say which member it was.
#[test]
fn first_endpoint_dead_falls_over_to_the_next_member() {
    let mut cluster = Cluster::start(3);
    let eps = cluster.endpoints();
    let rev = fill_small(&eps[1], 10);
    cluster.members[0].kill();
    let tmp = tempfile::tempdir().unwrap();
    let list = eps.join(",");
    let r = run(&[
        "snapshot",
        "save",
        "--dir",
        tmp.path().to_str().unwrap(),
        "--endpoints",
        &list,
        "--log-format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let logs = json_lines(&r.stderr);
    let skipped = logs
        .iter()
        .find(|l| l["endpoint"] == eps[0].as_str() && l["level"] == "warn")
        .unwrap_or_else(|| panic!("no warning for the dead endpoint: {r:?}"));
    assert!(
        skipped["error"].as_str().unwrap().contains("refused"),
        "{skipped}"
    );
    let chosen = logs
        .iter()
        .find(|l| l["msg"] == "taking the snapshot from this member")
        .unwrap();
    assert_eq!(chosen["endpoint"], eps[1].as_str());
    assert_eq!(chosen["member"], "m2");
    let path = Path::new(r.stdout.trim());
    let m = manifest_of(path);
    assert_eq!(m["endpoint"], eps[1].as_str());
    assert_eq!(m["member_name"], "m2");
    assert!(m["revision"].as_i64().unwrap() >= rev);
    split_checked(&zstd_decode(path));
}

/// Starts a save of a ~48 MiB incompressible db, waits for its `.part` file, then calls `act`.
fn interrupt_mid_stream(
    act: impl FnOnce(&mut Member, &mut std::process::Child),
) -> (Run, Vec<String>) {
    let mut member = Member::start_single();
    let ep = member.endpoint();
    fill_random_mib(&ep, 48);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let prom = tmp.path().join("m.prom");
    let mut child = spawn(&[
        "snapshot",
        "save",
        "--dir",
        dir.to_str().unwrap(),
        "--endpoints",
        &ep,
        "--metrics-file",
        prom.to_str().unwrap(),
    ]);
    // Data is flowing once the part file has some: the first zstd frames are written.
    let part = wait_for_part(&dir, 1, Duration::from_secs(30));
    assert!(part.is_some(), "no .part file with data appeared");
    act(&mut member, &mut child);
    let out = child.wait_with_output().unwrap();
    let run = Run::from(out);
    eprintln!("{run:?}");
    let v = metrics(&prom);
    assert_eq!(v["revkeeper_snapshot_success"], 0.0, "{run:?}");
    (run, files_in(&dir))
}

/// etcd dies (SIGKILL) in the middle of the stream: exit 5, one-line error, nothing left.
#[test]
fn etcd_killed_mid_stream_leaves_nothing() {
    let (r, left) = interrupt_mid_stream(|member, _| member.kill());
    assert_eq!(r.code, 5, "{r:?}");
    assert!(left.is_empty(), "files left behind: {left:?}");
    let last = r.last_err_line();
    assert!(
        last.contains("snapshot stream broke after") && last.contains("http://127.0.0.1:"),
        "{r:?}"
    );
}

/// SIGTERM to revkeeper mid-save: exit 5, the partial file removed.
#[test]
fn sigterm_mid_save_exits_5_and_removes_the_part_file() {
    let (r, left) = interrupt_mid_stream(|_, child| unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    });
    assert_eq!(r.code, 5, "{r:?}");
    assert!(r.last_err_line().contains("SIGTERM"), "{r:?}");
    assert!(left.is_empty(), "files left behind: {left:?}");
}

/// An existing file is never overwritten without --force (exit 3, untouched); with it, replaced.
#[test]
fn existing_file_needs_force() {
    let member = Member::start_single();
    let ep = member.endpoint();
    fill_small(&ep, 5);
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("snap.db");
    std::fs::write(&file, b"precious").unwrap();
    let r = run(&[
        "snapshot",
        "save",
        file.to_str().unwrap(),
        "--endpoints",
        &ep,
    ]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.last_err_line().contains("--force"), "{r:?}");
    assert_eq!(std::fs::read(&file).unwrap(), b"precious");
    assert_eq!(files_in(tmp.path()), vec!["snap.db"]);

    let r = run(&[
        "snapshot",
        "save",
        file.to_str().unwrap(),
        "--endpoints",
        &ep,
        "--force",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    split_checked(&std::fs::read(&file).unwrap());
    assert_eq!(
        files_in(tmp.path()),
        vec!["snap.db", "snap.db.manifest.json"]
    );
}

#[test]
fn a_missing_dir_is_created_private_and_a_plain_name_needs_no_warning() {
    let member = Member::start_single();
    let ep = member.endpoint();
    fill_small(&ep, 3);
    let tmp = tempfile::tempdir().unwrap();
    let new_dir = tmp.path().join("backups");
    let r = run(&[
        "snapshot",
        "save",
        "--endpoints",
        &ep,
        "--dir",
        new_dir.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(mode(&new_dir), 0o700);
    assert_eq!(files_in(&new_dir).len(), 2, "{:?}", files_in(&new_dir));
    // Its parent must exist: a typo does not create a tree.
    let deep = tmp.path().join("no/such/parent");
    let r = run(&[
        "snapshot",
        "save",
        "--endpoints",
        &ep,
        "--dir",
        deep.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.last_err_line()
            .contains("parent directory does not exist"),
        "{r:?}"
    );
    // `snapshot save x.db` is the etcdctl-compatible path: plain, and nothing to warn about.
    let plain = tmp.path().join("x.db");
    let r = run(&[
        "snapshot",
        "save",
        "--endpoints",
        &ep,
        plain.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stderr.contains(".zst"), "{r:?}");
}
