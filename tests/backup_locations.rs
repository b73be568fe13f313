//! `snapshot save|list|prune|status|verify|restore` and `backup run` with bucket locations and
//! age encryption, end to end: a real etcd, a real S3 server (`s3s-fs`, started on 127.0.0.1
//! with SigV4 credentials) and the real `age` CLI. A restore counts only when a real etcd
//! serves it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{
    Run, files_below, fill_small, restore_and_serve_with, revkeeper, rt, run_cmd,
    s3_and_age as prerequisites, split_checked,
};
use revkeeper_harness::{Member, S3Server, age_keygen};
use sha2::{Digest, Sha256};

const SECRET_KEY: &str = "/registry/secrets/default/db-password";
const SECRET_VALUE: &str = "TOP-SECRET-MARKER-4242";

/// `revkeeper` with the server's credentials in its environment.
fn rk(server: &S3Server) -> Command {
    let mut c = revkeeper();
    for (k, v) in server.aws_env() {
        c.env(k, v);
    }
    c.env_remove("REVKEEPER_AGE_IDENTITY");
    c
}

fn rk_run(server: &S3Server, args: &[&str]) -> Run {
    run_cmd(rk(server).args(args))
}

/// Every key, value and mod revision a member serves.
fn served(endpoint: &str) -> Vec<(Vec<u8>, Vec<u8>, i64)> {
    rt().block_on(async {
        let mut c = common::client(endpoint).await;
        let opts = etcd_client::GetOptions::new().with_from_key();
        let resp = c.get(vec![0u8], Some(opts)).await.unwrap();
        resp.kvs()
            .iter()
            .map(|kv| (kv.key().to_vec(), kv.value().to_vec(), kv.mod_revision()))
            .collect()
    })
}

/// A member holding ConfigMaps and a Secret-like value with a known marker.
fn source_cluster() -> Member {
    let member = Member::start_single();
    fill_small(&member.endpoint(), 40);
    rt().block_on(async {
        let mut c = common::client(&member.endpoint()).await;
        c.put(SECRET_KEY, SECRET_VALUE, None).await.unwrap();
    });
    member
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn encrypted_save_to_a_bucket_lists_verifies_and_restores_latest() {
    if !prerequisites() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let etcd = source_cluster();
    let server = S3Server::start();
    let bucket = server.create_bucket("backups");
    let (identity, public) = age_keygen(w, "key.txt");
    let local = w.join("local");
    std::fs::create_dir(&local).unwrap();
    let metrics = w.join("save.prom");
    let url = "s3://backups/etcd/prod";

    let save = rk_run(
        &server,
        &[
            "snapshot",
            "save",
            "--endpoints",
            &etcd.endpoint(),
            "--dir",
            url,
            "--dir",
            local.to_str().unwrap(),
            "--encrypt-to",
            &public,
            "--job",
            "prod",
            "--metrics-file",
            metrics.to_str().unwrap(),
            "--log-format",
            "json",
        ],
    );
    assert_eq!(save.code, 0, "{save:?}");
    let lines: Vec<&str> = save.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "one line per destination: {save:?}");
    let object_url = lines[0];
    assert!(
        object_url.starts_with(&format!("{url}/etcd-")),
        "{object_url}"
    );
    assert!(object_url.ends_with(".db.zst.age"), "{object_url}");
    let name = object_url.rsplit('/').next().unwrap();
    let log = common::json_lines(&save.stderr);
    for line in &log {
        assert_eq!(
            line["job"], "prod",
            "every log line carries the job: {line}"
        );
    }
    let saved = log
        .iter()
        .find(|l| l["msg"] == "snapshot saved")
        .expect("a saved line");
    let dests = saved["destinations"].as_array().unwrap();
    assert_eq!(dests[0]["location"], url);
    assert_eq!(dests[0]["ok"], true);
    assert!(dests[0]["bytes"].as_u64().unwrap() > 0, "{saved}");

    // 2. No plaintext on the server's disk: only the object and its manifest, the object
    // starts with the age header and holds neither the Secret's value nor any key name.
    let stored = files_below(&bucket.join("etcd/prod"));
    assert!(stored.contains(&name.to_string()), "{stored:?}");
    assert!(
        stored.contains(&format!("{name}.manifest.json")),
        "{stored:?}"
    );
    assert!(!stored.iter().any(|f| f.ends_with(".part")), "{stored:?}");
    let bytes = std::fs::read(bucket.join("etcd/prod").join(name)).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1"));
    assert!(!contains(&bytes, SECRET_VALUE.as_bytes()));
    assert!(!contains(&bytes, b"/registry/"));
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            bucket
                .join("etcd/prod")
                .join(format!("{name}.manifest.json")),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["encryption"]["scheme"], "age");
    assert_eq!(manifest["encryption"]["recipients"][0], public.as_str());
    assert!(!manifest.to_string().contains("AGE-SECRET-KEY"));

    // Metrics name each destination.
    let prom = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        prom.contains(&format!(
            "revkeeper_snapshot_destination_success{{job=\"prod\",location=\"{url}\"}} 1"
        )),
        "{prom}"
    );
    assert!(
        prom.contains("revkeeper_snapshot_success{job=\"prod\"} 1"),
        "{prom}"
    );
    assert!(
        !prom.contains(&server.aws_env()[1].1),
        "no credential in metrics"
    );

    // list shows the encrypted snapshot without the identity.
    let list = rk_run(&server, &["snapshot", "list", url]);
    assert_eq!(list.code, 0, "{list:?}");
    assert!(
        list.stdout.contains(name) && list.stdout.contains(" age "),
        "{list:?}"
    );

    // status and verify need the identity, and say so in one line without it.
    let id = identity.to_str().unwrap();
    let status = rk_run(
        &server,
        &[
            "snapshot",
            "status",
            url,
            "--latest",
            "--identity",
            id,
            "-o",
            "json",
        ],
    );
    assert_eq!(status.code, 0, "{status:?}");
    let st: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(st["revision"], manifest["revision"]);
    let verify = rk_run(
        &server,
        &["snapshot", "verify", object_url, "--identity", id],
    );
    assert_eq!(verify.code, 0, "{verify:?}");
    let locked = rk_run(&server, &["snapshot", "status", object_url]);
    assert_eq!(locked.code, 3, "{locked:?}");
    assert!(
        locked.last_err_line().contains(object_url)
            && locked.last_err_line().contains("--identity"),
        "{locked:?}"
    );

    // get reads the object too.
    let get = rk_run(
        &server,
        &[
            "get",
            "--snapshot",
            object_url,
            "--identity",
            id,
            "--key",
            SECRET_KEY,
        ],
    );
    assert_eq!(get.code, 0, "{get:?}");
    assert!(get.stdout.contains(SECRET_VALUE), "{get:?}");

    // 1. Restore the newest snapshot of the bucket; a real etcd serves every key as the source.
    let mut restorer = rk(&server);
    restorer.env("REVKEEPER_AGE_IDENTITY", &identity);
    let restored = restore_and_serve_with(
        restorer,
        url.as_ref(),
        &[
            "--latest",
            "--bump-revision",
            "1000000000",
            "--mark-compacted",
        ],
        w,
    );
    assert_eq!(served(&restored.endpoint()), served(&etcd.endpoint()));

    // The age CLI decrypts our file: `age -d | zstd -d` gives the db and its trailer.
    let local_file = PathBuf::from(lines[1]);
    let out = Command::new("age")
        .args(["-d", "-i", id])
        .arg(&local_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "age -d: {out:?}");
    let plain = zstd::decode_all(&out.stdout[..]).unwrap();
    let (db, trailer) = split_checked(&plain);
    assert_eq!(
        hex::encode(Sha256::digest(db)),
        manifest["db_sha256"].as_str().unwrap()
    );
    assert_eq!(trailer, &Sha256::digest(db)[..]);
}

#[test]
fn a_file_encrypted_by_the_age_cli_restores() {
    if !prerequisites() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let etcd = source_cluster();
    let plain = w.join("snap.db");
    let runtime = rt();
    let mut client = runtime.block_on(common::client(&etcd.endpoint()));
    common::save_snapshot(&runtime, &mut client, &plain);
    let (identity, public) = age_keygen(w, "key.txt");
    let encrypted = w.join("snap.db.age");
    let out = Command::new("age")
        .args(["-r", &public, "-o"])
        .arg(&encrypted)
        .arg(&plain)
        .output()
        .unwrap();
    assert!(out.status.success(), "age -r: {out:?}");
    let restored = restore_and_serve_with(
        revkeeper(),
        encrypted.as_os_str(),
        &["--identity", identity.to_str().unwrap()],
        w,
    );
    assert_eq!(served(&restored.endpoint()), served(&etcd.endpoint()));
}

#[test]
fn failures_name_the_location_and_leave_nothing_behind() {
    if !prerequisites() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let tmp = w.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let etcd = source_cluster();
    let mut server = S3Server::start();
    let bucket = server.create_bucket("backups");
    let (identity, public) = age_keygen(w, "key.txt");
    let (other, _) = age_keygen(w, "other.txt");
    let ep = etcd.endpoint();
    let save = |server: &S3Server, url: &str, extra: &[(&str, &str)]| {
        let mut c = rk(server);
        c.env("TMPDIR", &tmp);
        for (k, v) in extra {
            c.env(k, v);
        }
        run_cmd(c.args([
            "snapshot",
            "save",
            "--endpoints",
            &ep,
            "--dir",
            url,
            "--encrypt-to",
            &public,
        ]))
    };

    // Wrong credentials: access denied (exit 4), naming the location, never the secret.
    let denied = save(
        &server,
        "s3://backups/p",
        &[("AWS_SECRET_ACCESS_KEY", "not-the-secret")],
    );
    assert_eq!(denied.code, 4, "{denied:?}");
    assert!(
        denied.last_err_line().contains("s3://backups/p"),
        "{denied:?}"
    );
    assert!(!denied.stderr.contains("not-the-secret"), "{denied:?}");
    // A missing bucket: exit 3, says so.
    let missing = save(&server, "s3://no-such-bucket/p", &[]);
    assert_eq!(missing.code, 3, "{missing:?}");
    assert!(
        missing.last_err_line().contains("no-such-bucket"),
        "{missing:?}"
    );
    assert!(
        files_below(&bucket).is_empty(),
        "{:?}",
        files_below(&bucket)
    );

    // A good save, then readers with a wrong identity and a tampered ciphertext.
    let ok = save(&server, "s3://backups/p", &[]);
    assert_eq!(ok.code, 0, "{ok:?}");
    let object_url = ok.stdout.trim().to_string();
    let name = object_url.rsplit('/').next().unwrap().to_string();
    let read = |id: &Path| {
        let mut c = rk(&server);
        c.env("TMPDIR", &tmp);
        run_cmd(c.args([
            "snapshot",
            "status",
            &object_url,
            "--identity",
            id.to_str().unwrap(),
        ]))
    };
    let wrong = read(&other);
    assert_eq!(wrong.code, 3, "{wrong:?}");
    assert!(wrong.last_err_line().contains(&object_url), "{wrong:?}");
    assert!(
        wrong
            .last_err_line()
            .contains("none of the given identities"),
        "{wrong:?}"
    );
    let on_disk = bucket.join("p").join(&name);
    let mut bytes = std::fs::read(&on_disk).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&on_disk, &bytes).unwrap();
    let tampered = read(&identity);
    assert_ne!(tampered.code, 0, "{tampered:?}");
    assert!(
        tampered.last_err_line().contains(&object_url),
        "{tampered:?}"
    );
    assert!(
        std::fs::read_dir(&tmp).unwrap().next().is_none(),
        "temp files left in TMPDIR"
    );

    // The server gone: cannot connect (exit 2), nothing left locally.
    server.kill();
    let gone = save(&server, "s3://backups/p", &[]);
    assert_eq!(gone.code, 2, "{gone:?}");
    assert!(gone.last_err_line().contains("s3://backups/p"), "{gone:?}");
    assert!(
        std::fs::read_dir(&tmp).unwrap().next().is_none(),
        "temp files left in TMPDIR"
    );
}

#[test]
fn an_unreachable_bucket_stops_the_run_before_anything_is_written() {
    if !prerequisites() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let local = work.path().join("local");
    std::fs::create_dir(&local).unwrap();
    let etcd = source_cluster();
    let mut server = S3Server::start();
    server.create_bucket("backups");
    let metrics = work.path().join("m.prom");
    server.kill();
    let run = rk_run(
        &server,
        &[
            "snapshot",
            "save",
            "--endpoints",
            &etcd.endpoint(),
            "--dir",
            "s3://backups/p",
            "--dir",
            local.to_str().unwrap(),
            "--metrics-file",
            metrics.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        common::files_in(&local).is_empty(),
        "{:?}",
        common::files_in(&local)
    );
    let prom = std::fs::read_to_string(&metrics).unwrap();
    assert!(prom.contains("revkeeper_snapshot_success 0"), "{prom}");
}

#[test]
fn a_bucket_lost_mid_upload_fails_the_run_but_not_the_other_destination() {
    if !prerequisites() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let local = work.path().join("local");
    std::fs::create_dir(&local).unwrap();
    let etcd = Member::start_single();
    // Incompressible values: the upload needs several 8 MiB parts.
    common::fill_random_mib(&etcd.endpoint(), 40);
    let mut server = S3Server::start();
    let bucket = server.create_bucket("backups");
    let metrics = work.path().join("m.prom");
    let child = rk(&server)
        .args([
            "snapshot",
            "save",
            "--endpoints",
            &etcd.endpoint(),
            "--dir",
            "s3://backups/p",
            "--dir",
            local.to_str().unwrap(),
            "--metrics-file",
            metrics.to_str().unwrap(),
            "--compress",
            "none",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let part = common::wait_for_part(&local, 12 << 20, std::time::Duration::from_secs(60));
    assert!(part.is_some(), "the transfer never got under way");
    server.kill();
    let run = Run::from(child.wait_with_output().unwrap());
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.last_err_line().contains("s3://backups/p"), "{run:?}");
    assert!(run.last_err_line().contains("was saved to"), "{run:?}");
    // The local copy is complete and described by its manifest.
    let files = common::files_in(&local);
    assert_eq!(files.len(), 2, "{files:?}");
    let snapshot = local.join(files.iter().find(|f| f.ends_with(".db")).unwrap());
    let bytes = std::fs::read(&snapshot).unwrap();
    let (db, trailer) = split_checked(&bytes);
    assert_eq!(trailer, &Sha256::digest(db)[..]);
    assert_eq!(run.stdout.trim(), snapshot.display().to_string());
    // Metrics say which destination failed.
    let prom = std::fs::read_to_string(&metrics).unwrap();
    assert!(prom.contains("revkeeper_snapshot_success 0"), "{prom}");
    let local_line = format!(
        "revkeeper_snapshot_destination_success{{location=\"{}\"}} 1",
        local.display()
    );
    assert!(prom.contains(&local_line), "{prom}");
    assert!(
        prom.contains("revkeeper_snapshot_destination_success{location=\"s3://backups/p\"} 0"),
        "{prom}"
    );
    // Nothing visible in the bucket.
    assert!(
        !files_below(&bucket)
            .iter()
            .any(|f| f.starts_with("p/etcd-")),
        "{:?}",
        files_below(&bucket)
    );
}

/// A manifest as `snapshot save` writes it, for a 3-byte file.
fn manifest(file: &str, started: &str, revision: i64) -> String {
    serde_json::json!({
        "format": "revkeeper.snapshot-manifest/v1",
        "file": file, "file_size": 3, "file_sha256": "00".repeat(32),
        "compression": "zstd", "db_size": 4096, "db_sha256": "11".repeat(32),
        "revision": revision, "revision_source": "db", "cluster_id": "c1", "member_id": "a1",
        "member_name": "m1", "endpoint": "http://127.0.0.1:2379", "etcd_version": "3.6.0",
        "started_at": started, "finished_at": started, "duration_seconds": 1.0,
        "revkeeper_version": "0.1.0"
    })
    .to_string()
}

#[test]
fn prune_on_a_bucket_keeps_and_deletes_what_it_does_on_a_directory() {
    if !prerequisites() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let local = work.path().join("local");
    let server = S3Server::start();
    let remote = server.create_bucket("backups").join("etcd");
    let snapshots = [
        (
            "etcd-20261101T000000Z-rev100.db.zst",
            "2026-11-01T00:00:00Z",
            100,
        ),
        (
            "etcd-20261102T000000Z-rev200.db.zst",
            "2026-11-02T00:00:00Z",
            200,
        ),
        (
            "etcd-20261103T000000Z-rev300.db.zst",
            "2026-11-03T00:00:00Z",
            300,
        ),
        (
            "etcd-20261104T000000Z-rev400.db.zst",
            "2026-11-04T00:00:00Z",
            400,
        ),
        // Dated in the future by a skewed clock, with a lower revision.
        (
            "etcd-20271231T000000Z-rev250.db.zst",
            "2027-12-31T00:00:00Z",
            250,
        ),
    ];
    for dir in [&local, &remote] {
        std::fs::create_dir_all(dir).unwrap();
        for (file, started, rev) in snapshots {
            std::fs::write(dir.join(file), b"abc").unwrap();
            std::fs::write(
                dir.join(format!("{file}.manifest.json")),
                manifest(file, started, rev),
            )
            .unwrap();
        }
        std::fs::write(dir.join("notes.txt"), b"not ours").unwrap();
    }
    let prune = |target: &str, apply: bool| {
        let mut args = vec![
            "snapshot",
            "prune",
            target,
            "--keep-last",
            "2",
            "-o",
            "json",
        ];
        if apply {
            args.push("--apply");
        }
        let run = rk_run(&server, &args);
        assert_eq!(run.code, 0, "{run:?}");
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let decisions: Vec<(String, String)> = v["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["file"].as_str().unwrap().into(),
                    s["action"].as_str().unwrap().into(),
                )
            })
            .collect();
        decisions
    };
    let planned_local = prune(local.to_str().unwrap(), false);
    let planned_remote = prune("s3://backups/etcd", false);
    assert_eq!(planned_local, planned_remote);
    assert_eq!(
        files_below(&local),
        files_below(&remote),
        "a dry run deletes nothing"
    );
    assert_eq!(
        prune(local.to_str().unwrap(), true),
        prune("s3://backups/etcd", true)
    );
    let left = files_below(&local);
    assert_eq!(left, files_below(&remote));
    assert!(
        left.contains(&"etcd-20261104T000000Z-rev400.db.zst".to_string()),
        "{left:?}"
    );
    assert!(
        !left.contains(&"etcd-20261101T000000Z-rev100.db.zst".to_string()),
        "{left:?}"
    );
    assert!(left.contains(&"notes.txt".to_string()), "{left:?}");
}

/// `backup run` to a bucket: its full snapshot and delta segments land there, one after the
/// other, and a point-in-time restore from the bucket to the last revision serves what the
/// member served.
#[test]
fn backup_run_to_a_bucket_restores_to_its_last_revision() {
    if !prerequisites() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let etcd = source_cluster();
    let server = S3Server::start();
    let chain = server.create_bucket("backups").join("c");
    let in_bucket = || {
        if chain.is_dir() {
            common::files_in(&chain)
        } else {
            Vec::new()
        }
    };
    let segments = || {
        let mut s: Vec<(i64, i64)> = in_bucket()
            .iter()
            .filter_map(|f| revkeeper::backup::chain::SegmentName::parse(f))
            .map(|n| (n.first, n.last))
            .collect();
        s.sort();
        s
    };
    let wait = |what: &str, ok: &dyn Fn() -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !ok() {
            assert!(
                std::time::Instant::now() < deadline,
                "{what}: {:?}",
                in_bucket()
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    let run = rk(&server)
        .args(["backup", "run", "--endpoints", &etcd.endpoint()])
        .args(["--dir", "s3://backups/c", "--delta-interval", "300ms"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait("a full snapshot", &|| {
        in_bucket().iter().any(|f| f.ends_with(".manifest.json"))
    });
    let last = rt().block_on(async {
        let mut c = common::client(&etcd.endpoint()).await;
        let mut last = 0;
        for i in 0..30 {
            let put = c.put(format!("/after/{i}"), format!("v{i}"), None);
            last = put.await.unwrap().header().unwrap().revision();
        }
        c.delete("/after/3", None).await.unwrap();
        c.put("/after/last", "x", None)
            .await
            .unwrap()
            .header()
            .unwrap()
            .revision()
            .max(last)
    });
    wait("a segment up to the last revision", &|| {
        segments().last().is_some_and(|s| s.1 >= last)
    });
    // SAFETY: a plain kill(2) of our own child.
    unsafe { libc::kill(run.id() as i32, libc::SIGTERM) };
    let stopped = Run::from(run.wait_with_output().unwrap());
    assert_eq!(stopped.code, 0, "{stopped:?}");
    let segs = segments();
    for pair in segs.windows(2) {
        assert_eq!(pair[1].0, pair[0].1 + 1, "no gap, no duplicate: {segs:?}");
    }
    assert!(
        !in_bucket().iter().any(|f| f.ends_with(".part")),
        "{:?}",
        in_bucket()
    );

    let restored = restore_and_serve_with(
        rk(&server),
        "s3://backups/c".as_ref(),
        &["--to-revision", &last.to_string()],
        work.path(),
    );
    assert_eq!(served(&restored.endpoint()), served(&etcd.endpoint()));
}
