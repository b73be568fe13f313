//! `snapshot prune` guards on real files: it is a dry run unless `--apply`, and the highest
//! revision of a cluster survives a manifest dated in the future by a skewed clock.

mod common;

use common::*;

fn action_of<'a>(plan: &'a serde_json::Value, file: &str) -> &'a serde_json::Value {
    plan["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["file"] == file)
        .unwrap_or_else(|| panic!("{file} not in {plan}"))
}

#[test]
fn prune_is_a_dry_run_by_default_and_keeps_the_highest_revision_over_a_future_date() {
    let saved = saved_snapshot(5);
    let (real, dir) = (saved.file.clone(), saved.backups.clone());

    let old = "etcd-20261101T090000Z-rev100.db.zst";
    let latest = "etcd-20261102T090000Z-rev200.db.zst";
    // Saved before `latest` (lower revision) by a host whose clock ran far ahead.
    let skewed = "etcd-20991231T000000Z-rev150.db.zst";
    copy_snapshot_as(&dir, &real, old, "2026-11-01T09:00:00.000Z", 100);
    copy_snapshot_as(&dir, &real, latest, "2026-11-02T09:00:00.000Z", 200);
    copy_snapshot_as(&dir, &real, skewed, "2099-12-31T00:00:00.000Z", 150);
    let before = files_in(&dir);
    let d = dir.to_str().unwrap();

    // No --apply: the plan, nothing deleted.
    let r = run(&["snapshot", "prune", d, "--keep-last", "1", "-o", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        files_in(&dir),
        before,
        "prune without --apply deleted files"
    );
    let plan: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(plan["dry_run"], true);
    assert_eq!(action_of(&plan, old)["action"], "would-remove");
    assert_eq!(action_of(&plan, skewed)["action"], "keep");
    let top = action_of(&plan, latest);
    assert_eq!(top["action"], "keep", "{plan}");
    let why = top["reasons"].to_string();
    assert!(why.contains("highest revision (200)"), "{why}");
    assert!(why.contains(skewed) && why.contains("clock skew"), "{why}");

    // --dry-run is still accepted and still deletes nothing; with --apply it is a conflict.
    let r = run(&["snapshot", "prune", d, "--keep-last", "1", "--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(files_in(&dir), before);
    let r = run(&[
        "snapshot",
        "prune",
        d,
        "--keep-last",
        "1",
        "--dry-run",
        "--apply",
    ]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stderr.contains("--dry-run") && r.stderr.contains("--apply"),
        "{r:?}"
    );
    assert_eq!(files_in(&dir), before);

    // --apply: only the old one goes; the table says why the highest revision stayed.
    let r = run(&["snapshot", "prune", d, "--keep-last", "1", "--apply"]);
    assert_eq!(r.code, 0, "{r:?}");
    let row = r
        .stdout
        .lines()
        .find(|l| l.contains(latest))
        .unwrap_or_else(|| panic!("{r:?}"));
    assert!(row.starts_with("keep "), "{row}");
    assert!(row.contains("highest revision (200)"), "{row}");
    let mut want = vec![];
    for f in [latest, skewed] {
        want.push(f.to_string());
        want.push(format!("{f}.manifest.json"));
    }
    want.sort();
    assert_eq!(files_in(&dir), want);
    split_checked(&zstd_decode(&dir.join(latest)));
}
