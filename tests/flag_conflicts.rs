//! Flags that would be ignored together are refused (exit 3, one error line naming both), and
//! `--rev` reads the same on a live cluster and on a snapshot: 0 is the latest (as in etcdctl),
//! negative is refused.

mod common;

use std::path::Path;

use common::*;
use revkeeper_harness::Member;

/// Exit 3, and the first line of stderr is the error naming every one of `flags`.
fn refused(args: &[&str], flags: &[&str]) {
    let r = run(args);
    assert_eq!(r.code, 3, "{args:?}: {r:?}");
    let first = r.stderr.lines().next().unwrap_or("");
    for f in flags {
        assert!(first.contains(f), "{args:?}: {f} not named in {first:?}");
    }
    assert!(r.stdout.is_empty(), "{args:?}: {r:?}");
}

#[test]
fn snapshot_with_connection_flags_is_refused_but_etcdctl_variables_are_not() {
    let s = sample_db();
    let s = s.to_str().unwrap();
    for (flag, value) in [
        ("--endpoints", "http://127.0.0.1:2379"),
        ("--cacert", "/etc/ca.crt"),
        ("--user", "root:pw"),
        ("--dial-timeout", "1s"),
        ("--command-timeout", "1s"),
    ] {
        refused(
            &[
                "get",
                "--prefix",
                "/registry/",
                "--snapshot",
                s,
                flag,
                value,
            ],
            &["--snapshot", flag],
        );
        refused(
            &["analyze", "--snapshot", s, flag, value],
            &["--snapshot", flag],
        );
    }
    refused(
        &[
            "get",
            "--key",
            "/a",
            "--snapshot",
            s,
            "--key-file",
            "/k.pem",
        ],
        &["--snapshot", "--key-file"],
    );
    refused(
        &["leases", "--snapshot", s, "--insecure-skip-tls-verify"],
        &["--snapshot", "--insecure-skip-tls-verify"],
    );
    refused(
        &[
            "dump",
            "/nonexistent-dir",
            "--snapshot",
            s,
            "--endpoints",
            "h:1",
        ],
        &["--snapshot", "--endpoints"],
    );

    // The same variables an etcdctl user keeps exported: --snapshot still wins, quietly.
    let r = run_cmd(
        revkeeper()
            .args(["get", "--prefix", "/registry/namespaces/", "--keys-only"])
            .args(["--snapshot", s])
            .env("ETCDCTL_ENDPOINTS", "http://127.0.0.1:1")
            .env("ETCDCTL_USER", "root:pw")
            .env("ETCDCTL_DIAL_TIMEOUT", "1s"),
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("/registry/namespaces/default\n"), "{r:?}");
}

#[test]
fn keys_only_with_decoded_output_is_refused() {
    let s = sample_db();
    let s = s.to_str().unwrap();
    let base = ["get", "--prefix", "/registry/namespaces/", "--snapshot", s];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        base.iter().copied().chain(extra.iter().copied()).collect()
    };
    refused(
        &with(&["--keys-only", "--decode"]),
        &["--keys-only", "--decode"],
    );
    refused(
        &with(&["--keys-only", "--decode", "-o", "json"]),
        &["--keys-only", "--decode"],
    );
    for format in ["yaml", "jsonl", "wide", "name"] {
        refused(
            &with(&["--keys-only", "-o", format]),
            &["--keys-only", &format!("-o {format}")],
        );
    }
    // etcdctl's own keys-only outputs stay.
    for format in ["table", "json"] {
        let r = run(&with(&["--keys-only", "-o", format]));
        assert_eq!(r.code, 0, "{format}: {r:?}");
        assert!(r.stdout.contains(if format == "json" {
            "\"kvs\""
        } else {
            "/registry/namespaces/default"
        }));
    }
}

/// `get --prefix P -o json` (etcdctl's shape) with extra flags, parsed.
fn get_json(source: &[&str], extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["get", "--prefix", "/registry/configmaps/", "-o", "json"];
    args.extend_from_slice(source);
    args.extend_from_slice(extra);
    let r = run(&args);
    assert_eq!(r.code, 0, "{args:?}: {r:?}");
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn rev_zero_is_the_latest_and_negative_is_refused_on_both_sources() {
    let member = Member::start_single();
    let ep = member.endpoint();
    fill_small(&ep, 3);
    let latest = rt().block_on(async {
        let mut c = client(&ep).await;
        let changed = r#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm-0","namespace":"default"},"data":{"n":"changed"}}"#;
        put_revision(&mut c, "/registry/configmaps/default/cm-0", changed).await
    });
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("s.db");
    save_file(&ep, &file);

    let live = ["--endpoints", ep.as_str()];
    let snap = ["--snapshot", file.to_str().unwrap()];
    let mut answers = Vec::new();
    for source in [&live[..], &snap[..]] {
        let plain = get_json(source, &[]);
        let zero = get_json(source, &["--rev", "0"]);
        assert_eq!(zero, plain, "{source:?}: --rev 0 is not the latest");
        assert_eq!(zero["header"]["revision"], latest, "{source:?}");
        assert_eq!(zero["count"], 3, "{source:?}");
        answers.push(zero["kvs"].clone());
        // An older revision still reads the older value.
        let older = get_json(source, &["--rev", &(latest - 1).to_string()]);
        assert_ne!(older["kvs"], zero["kvs"], "{source:?}");
        for bad in [&["--rev", "-1"][..], &["--rev=-1"][..]] {
            let mut args = vec!["get", "--prefix", "/registry/configmaps/"];
            args.extend_from_slice(source);
            args.extend_from_slice(bad);
            refused(&args, &["--rev"]);
        }
    }
    assert_eq!(
        answers[0], answers[1],
        "live and snapshot differ at --rev 0"
    );

    // dump reads --rev the same way.
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for (dir, extra) in [(&a, &[][..]), (&b, &["--rev", "0"][..])] {
        let mut args = vec!["dump", dir.to_str().unwrap()];
        args.extend_from_slice(&snap);
        args.extend_from_slice(extra);
        let r = run(&args);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
    }
    let cms = |d: &Path| files_in(&d.join("configmaps/default"));
    assert_eq!(cms(&b), cms(&a));
    assert_eq!(cms(&a).len(), 3);
    refused(
        &[
            "dump",
            tmp.path().join("c").to_str().unwrap(),
            snap[0],
            snap[1],
            "--rev",
            "-2",
        ],
        &["--rev"],
    );
}

#[test]
fn tls_errors_name_the_key_flag_as_the_command_spells_it() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("client.key");
    std::fs::write(&key, "not a key").unwrap();
    let key = key.to_str().unwrap();
    let ep = "https://127.0.0.1:1";
    // `get`'s --key is the etcd key; its TLS key flag is --key-file.
    let r = run(&["get", "--prefix", "/", "--endpoints", ep, "--key-file", key]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.last_err_line().contains("--key-file"), "{r:?}");
    let r = run(&["leases", "--endpoints", ep, "--key", key]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.last_err_line().contains("--key "), "{r:?}");
    assert!(!r.last_err_line().contains("--key-file"), "{r:?}");
}
