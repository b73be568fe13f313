//! `revkeeper snapshot prune` on real files: one real snapshot saved from a real etcd, copied
//! under other dates (with their manifests rewritten), next to files revkeeper does not own.

mod common;

use std::path::Path;

use common::*;

/// Copies the saved snapshot as if it had been taken at `stamp` (`yyyymmddThhmmssZ`).
fn fake_snapshot(dir: &Path, src: &Path, stamp: &str, rev: i64) -> String {
    let name = format!("etcd-{stamp}-rev{rev}.db.zst");
    let iso = format!(
        "{}-{}-{}T{}:{}:{}.000Z",
        &stamp[0..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13],
        &stamp[13..15]
    );
    copy_snapshot_as(dir, src, &name, &iso, rev);
    name
}

#[test]
fn prune_real_files_by_rules_and_never_touch_foreign_files() {
    let saved = saved_snapshot(20);
    let (real, dir) = (saved.file.clone(), saved.backups.clone());

    // Two per day for four days (09:00 and 21:00), oldest first.
    let stamps = [
        "20261101T090000Z",
        "20261101T210000Z",
        "20261102T090000Z",
        "20261102T210000Z",
        "20261103T090000Z",
        "20261103T210000Z",
        "20261104T090000Z",
        "20261104T210000Z",
    ];
    let names: Vec<String> = stamps
        .iter()
        .enumerate()
        .map(|(i, s)| fake_snapshot(&dir, &real, s, 100 + i as i64))
        .collect();
    // Not ours: no manifest, a manifest naming another file, and a stray file.
    std::fs::write(
        dir.join("etcd-20200101T000000Z-rev1.db.zst"),
        b"no manifest",
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), b"keep me").unwrap();
    let mut wrong = manifest_of(&real);
    wrong["file"] = "notes.txt".into();
    std::fs::write(
        dir.join("etcd-20200102T000000Z-rev2.db.zst.manifest.json"),
        wrong.to_string(),
    )
    .unwrap();
    let before = files_in(&dir);
    let d = dir.to_str().unwrap();

    // No rule: refused, nothing touched.
    let r = run(&["snapshot", "prune", d]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.last_err_line().contains("no keep rule"), "{r:?}");
    let r = run(&["snapshot", "prune", d, "--keep-last", "0"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(files_in(&dir), before);

    // Dry run: the plan, in JSON, and nothing deleted.
    let r = run(&[
        "snapshot",
        "prune",
        d,
        "--keep-daily",
        "2",
        "--keep-last",
        "1",
        "--dry-run",
        "-o",
        "json",
        "--log-format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    json_lines(&r.stderr);
    assert_eq!(files_in(&dir), before);
    let plan: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(plan["dry_run"], true);
    let actions: Vec<(String, String)> = plan["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["file"].as_str().unwrap().to_string(),
                s["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // keep-daily 2 → newest of 11-04 and of 11-03; keep-last 1 → 11-04 21:00.
    let expect: Vec<(String, String)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let a = if i == 5 || i == 7 {
                "keep"
            } else {
                "would-remove"
            };
            (n.clone(), a.to_string())
        })
        .collect();
    assert_eq!(actions, expect);
    let newest = &plan["snapshots"][7]["reasons"];
    assert_eq!(newest[0], "newest");
    assert!(
        newest.to_string().contains("keep-daily 2 (2026-11-04)"),
        "{newest}"
    );
    let removed = &plan["snapshots"][0]["reasons"][0];
    assert!(
        removed.as_str().unwrap().contains("kept by no rule"),
        "{removed}"
    );

    // With --apply, with a table on stdout naming each decision.
    let r = run(&[
        "snapshot",
        "prune",
        d,
        "--keep-daily",
        "2",
        "--keep-last",
        "1",
        "--apply",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("ACTION"), "{r:?}");
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.starts_with("remove "))
            .count(),
        6,
        "{r:?}"
    );
    assert_eq!(
        r.stdout.lines().filter(|l| l.starts_with("keep ")).count(),
        2,
        "{r:?}"
    );
    let after = files_in(&dir);
    let mut want = vec![
        "etcd-20200101T000000Z-rev1.db.zst".to_string(),
        "etcd-20200102T000000Z-rev2.db.zst.manifest.json".to_string(),
        "notes.txt".to_string(),
    ];
    for i in [5, 7] {
        want.push(names[i].clone());
        want.push(format!("{}.manifest.json", names[i]));
    }
    want.sort();
    assert_eq!(after, want);
    assert_eq!(std::fs::read(dir.join("notes.txt")).unwrap(), b"keep me");

    // What is left still lists and decompresses.
    let l = run(&["snapshot", "list", d, "-o", "json"]);
    let items: serde_json::Value = serde_json::from_str(&l.stdout).unwrap();
    assert_eq!(items.as_array().unwrap().len(), 2);
    split_checked(&zstd_decode(&dir.join(&names[7])));

    // Pruning again changes nothing.
    let r = run(&[
        "snapshot",
        "prune",
        d,
        "--keep-daily",
        "2",
        "--keep-last",
        "1",
        "--apply",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(files_in(&dir), want);
}
