//! `-o/-w` on every verb that prints: `decode -w json`, `stale fix -o json` and
//! `leases revoke -w json` print JSON (they exited 3 before), and a format a verb does not
//! print is one line naming the accepted ones, exit 3.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

fn json_of(r: &common::Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {r:?}"))
}

#[test]
fn decode_accepts_write_out_json() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let db = dir.join("cluster.db");
    let r = common::run(&[
        "get",
        "--key",
        "/registry/namespaces/default",
        "--snapshot",
        db.to_str().unwrap(),
        "-w",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let value = B64
        .decode(json_of(&r)["kvs"][0]["value"].as_str().unwrap())
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("value");
    std::fs::write(&file, &value).unwrap();
    for flag in ["-w", "--write-out", "-o"] {
        let r = common::run(&["decode", file.to_str().unwrap(), flag, "json"]);
        assert_eq!(r.code, 0, "{flag}: {r:?}");
        let object = json_of(&r);
        assert_eq!(object["kind"], "Namespace", "{r:?}");
        assert_eq!(object["metadata"]["name"], "default", "{r:?}");
    }
    // yaml stays the default.
    let r = common::run(&["decode", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("kind: Namespace\n"), "{r:?}");
}

#[test]
fn stale_fix_prints_its_dry_run_plan_as_json() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let db = dir.join("cluster.db");
    let r = common::run(&[
        "stale",
        "fix",
        "--snapshot",
        db.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc = json_of(&r);
    assert_eq!(doc["mode"], "dry-run", "{r:?}");
    let ops = doc["operations"].as_array().unwrap();
    assert!(!ops.is_empty(), "the fixture has planted findings: {r:?}");
    // The same operations the table prints, one per line after the header.
    let table = common::run(&["stale", "fix", "--snapshot", db.to_str().unwrap()]);
    assert_eq!(table.code, 0, "{table:?}");
    assert_eq!(table.stdout.lines().count(), ops.len() + 1, "{table:?}");
    for op in ops {
        assert!(op["operation"]["op"].is_string(), "{op}");
        assert!(
            op["checks"].as_array().is_some_and(|c| !c.is_empty()),
            "{op}"
        );
    }
}

#[test]
fn leases_revoke_prints_its_dry_run_plan_as_json() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let db = dir.join("cluster.db");
    let db = db.to_str().unwrap();
    let r = common::run(&["leases", "--snapshot", db, "-o", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let id = json_of(&r)["leases"][0]["id"]
        .as_str()
        .expect("the fixture has leases")
        .to_string();
    let r = common::run(&["leases", "revoke", &id, "--snapshot", db, "-w", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc = json_of(&r);
    assert_eq!(doc["mode"], "dry-run", "{r:?}");
    let ops = doc["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 1, "{r:?}");
    assert_eq!(ops[0]["operation"]["op"], "revoke", "{r:?}");
    assert_eq!(ops[0]["operation"]["lease"], id.as_str(), "{r:?}");
}

#[test]
fn a_format_the_verb_does_not_print_is_one_line_exit_3() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    let r = common::run(&["snapshot", "list", dir, "-o", "yaml"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(r.stderr.lines().count(), 1, "{r:?}");
    assert!(r.last_err_line().contains("-o yaml"), "{r:?}");
    assert!(r.last_err_line().contains("table, json"), "{r:?}");
    assert_eq!(r.stdout, "", "{r:?}");

    let value = tmp.path().join("value");
    std::fs::write(&value, b"{}").unwrap();
    let r = common::run(&["decode", value.to_str().unwrap(), "-w", "wide"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(r.stderr.lines().count(), 1, "{r:?}");
    assert!(r.last_err_line().contains("yaml, json"), "{r:?}");
}

/// The README's word: every command that prints data takes `-o json` (`-w`/`--write-out` too).
/// Each documented form on cluster-dev prints one JSON document and exits 0 (`snapshot save`
/// and `backup compact` need a live etcd: `tests/snapshot_save.rs`, `tests/continuous_backup.rs`).
#[test]
fn every_verb_that_prints_data_takes_o_and_w_json() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let db = dir.join("cluster.db");
    let db = db.to_str().unwrap();
    let config = dir.join("encryption-config.yaml");
    let config = config.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let backups = tmp.path().to_str().unwrap();
    let data_dir = tmp.path().join("restored");
    let data_dir = data_dir.to_str().unwrap();
    let forms: Vec<(Vec<&str>, &str)> = vec![
        (vec!["snapshot", "status", db], "revision"),
        (
            vec!["snapshot", "verify", db, "--encryption-config", config],
            "sha256_ok",
        ),
        (vec!["snapshot", "list", backups], "[]"),
        (
            vec!["snapshot", "prune", backups, "--keep-last", "1"],
            "dry_run",
        ),
        (
            vec!["snapshot", "restore", db, "--data-dir", data_dir],
            "member_id",
        ),
        (
            vec!["get", "--prefix", "/registry/namespaces/", "--snapshot", db],
            "kvs",
        ),
        (vec!["get", "namespaces", "--snapshot", db], "items"),
        (vec!["analyze", "--snapshot", db], "resources"),
        (vec!["leases", "--snapshot", db], "leases"),
        (vec!["stale", "--snapshot", db], "findings"),
        (vec!["stale", "fix", "--snapshot", db], "operations"),
    ];
    for (i, (form, field)) in forms.iter().enumerate() {
        let flag = ["-o", "-w", "--write-out"][i % 3];
        let mut args = form.clone();
        args.extend([flag, "json"]);
        let r = common::run(&args);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
        let doc = json_of(&r);
        // An empty backup directory lists as an empty array.
        let shaped = match *field {
            "[]" => doc == serde_json::json!([]),
            _ => doc.get(*field).is_some(),
        };
        assert!(shaped, "{args:?}: no {field}: {r:?}");
    }
}
