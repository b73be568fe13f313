//! `revkeeper get` on cluster-dev's snapshot prints kubectl's tables: the headers, one row
//! per object in key order, the snapshot's estimated time once on stderr, kubectl's table
//! flags (`-l`, `-L`, `--show-labels`, `--no-headers`, `--sort-by`), `--show-etcd`, and
//! `-o json|yaml` without managedFields.

mod common;

use serde_json::Value;

/// A kubectl table split into cells at the header's column starts.
fn parse_table(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let header = lines.next().expect("a header line");
    let mut starts = Vec::new();
    let mut prev = ' ';
    for (i, c) in header.char_indices() {
        // A column starts after two or more spaces (names like NOMINATED NODE have one).
        if c != ' ' && (i == 0 || (prev == ' ' && header[..i].ends_with("  "))) {
            starts.push(i);
        }
        prev = c;
    }
    let cut = |line: &str| -> Vec<String> {
        starts
            .iter()
            .enumerate()
            .map(|(k, &s)| {
                let end = starts
                    .get(k + 1)
                    .copied()
                    .unwrap_or(line.len())
                    .min(line.len());
                line.get(s.min(line.len())..end)
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
            .collect()
    };
    (cut(header), lines.map(cut).collect())
}

/// `namespace/name` of cluster-dev's objects of a kind, in key order.
fn expected_names(kind: &str) -> Vec<String> {
    let dir = common::cluster_dev().unwrap();
    let mut names: Vec<(String, String)> = std::fs::read_to_string(dir.join("objects.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["kind"] == kind)
        .map(|v| {
            (
                v["key"].as_str().unwrap().to_string(),
                format!(
                    "{}/{}",
                    v["namespace"].as_str().unwrap_or(""),
                    v["name"].as_str().unwrap()
                ),
            )
        })
        .collect();
    names.sort();
    names.into_iter().map(|(_, n)| n).collect()
}

fn get(db: &std::path::Path, args: &[&str]) -> common::Run {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--snapshot", db.to_str().unwrap()]);
    let r = common::run(&all);
    assert_eq!(r.code, 0, "{args:?}: {r:?}");
    r
}

#[test]
fn get_on_the_cluster_dev_snapshot_prints_kubectls_tables() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let db = dir.join("cluster.db");
    let r = get(&db, &["pods", "-A"]);
    // The time, once: the newest node heartbeat (truth.json's snapshot_time is 10 s later).
    assert_eq!(
        r.stderr
            .matches("estimated time 2026-11-20T23:31:52Z")
            .count(),
        1,
        "{r:?}"
    );
    let (header, rows) = parse_table(&r.stdout);
    assert_eq!(
        header,
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    let names: Vec<String> = rows.iter().map(|r| format!("{}/{}", r[0], r[1])).collect();
    assert_eq!(names, expected_names("Pod"));
    let crashing = rows
        .iter()
        .find(|r| r[1] == "media-scheduler-nnm8kwq9fz-46m9j")
        .unwrap();
    assert_eq!(
        crashing[2..],
        ["0/1", "CrashLoopBackOff", "7 (56m ago)", "252d"]
    );
    // kubectl's layout: columns three spaces apart at the least.
    assert!(
        r.stdout.starts_with("NAMESPACE        NAME "),
        "{}",
        r.stdout
    );

    let (header, rows) = parse_table(&get(&db, &["pods", "-A", "-o", "wide"]).stdout);
    assert_eq!(
        header,
        [
            "NAMESPACE",
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED NODE",
            "READINESS GATES"
        ]
    );
    assert_eq!(rows.len(), expected_names("Pod").len());

    let (header, rows) = parse_table(&get(&db, &["nodes"]).stdout);
    assert_eq!(header, ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    let names: Vec<String> = rows.iter().map(|r| format!("/{}", r[0])).collect();
    assert_eq!(names, expected_names("Node"));
    let cp = rows
        .iter()
        .find(|r| r[0] == "ip-10-0-164-190.eu-central-1.compute.internal")
        .unwrap();
    assert_eq!(cp[1..], ["Ready", "control-plane", "381d", "v1.32.3"]);

    let (header, rows) = parse_table(&get(&db, &["deploy", "-A"]).stdout);
    assert_eq!(
        header,
        [
            "NAMESPACE",
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE"
        ]
    );
    let names: Vec<String> = rows.iter().map(|r| format!("{}/{}", r[0], r[1])).collect();
    assert_eq!(names, expected_names("Deployment"));

    // A custom resource by its CRD's short name: the CRD's columns.
    let (header, rows) = parse_table(&get(&db, &["certs", "-A"]).stdout);
    assert_eq!(header, ["NAMESPACE", "NAME", "READY", "AGE"]);
    let names: Vec<String> = rows.iter().map(|r| format!("{}/{}", r[0], r[1])).collect();
    assert_eq!(names, expected_names("Certificate"));
    assert!(rows.contains(&vec![
        "old-feature-x".into(),
        "old-feature-tls".into(),
        "".into(),
        "18d".into()
    ]));
    // Cluster-scoped: no NAMESPACE column even with -A.
    let (header, _) = parse_table(&get(&db, &["clusterissuers.cert-manager.io", "-A"]).stdout);
    assert_eq!(header, ["NAME", "READY", "AGE"]);
    // Custom resources without a CRD: NAME and AGE.
    let (header, rows) = parse_table(&get(&db, &["kafkatopics.kafka.strimzi.io", "-A"]).stdout);
    assert_eq!(header, ["NAMESPACE", "NAME", "AGE"]);
    assert_eq!(rows.len(), 3);
}

#[test]
fn kubectls_table_flags_on_the_snapshot() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let db = dir.join("cluster.db");
    // -l (set-based), -L and --show-labels (LABELS last), --no-headers.
    let r = get(
        &db,
        &[
            "pods",
            "-n",
            "media-prod",
            "-l",
            "app.kubernetes.io/name in (media-scheduler)",
            "-L",
            "app.kubernetes.io/name",
            "--show-labels",
        ],
    );
    let (header, rows) = parse_table(&r.stdout);
    assert_eq!(
        header,
        [
            "NAME", "READY", "STATUS", "RESTARTS", "AGE", "NAME", "LABELS"
        ]
    );
    assert!(!rows.is_empty());
    for row in &rows {
        assert!(row[0].starts_with("media-scheduler-"), "{row:?}");
        assert_eq!(row[5], "media-scheduler");
        assert!(
            row[6].contains("app.kubernetes.io/name=media-scheduler"),
            "{row:?}"
        );
    }
    let bare = get(
        &db,
        &[
            "pods",
            "-n",
            "media-prod",
            "-l",
            "app.kubernetes.io/name=media-scheduler",
            "--no-headers",
        ],
    );
    assert_eq!(bare.stdout.lines().count(), rows.len());
    assert!(
        bare.stdout.starts_with("media-scheduler-"),
        "{}",
        bare.stdout
    );
    // Equality and negation: nothing matches both.
    let none = common::run(&[
        "get",
        "pods",
        "-n",
        "media-prod",
        "-l",
        "app.kubernetes.io/name=media-scheduler,!app.kubernetes.io/name",
        "--snapshot",
        db.to_str().unwrap(),
    ]);
    assert_eq!((none.code, none.stdout.as_str()), (0, ""), "{none:?}");
    assert!(
        none.stderr
            .contains("No resources found in media-prod namespace."),
        "{none:?}"
    );
    // --sort-by orders -o name too; by creationTimestamp, the oldest first.
    let sorted = get(
        &db,
        &[
            "pods",
            "-A",
            "--sort-by",
            ".metadata.creationTimestamp",
            "-o",
            "name",
        ],
    );
    let by_name = get(&db, &["pods", "-A", "-o", "name"]);
    assert_ne!(sorted.stdout, by_name.stdout);
    let (_, rows) = parse_table(
        &get(
            &db,
            &["nodes", "--sort-by", "{.metadata.creationTimestamp}"],
        )
        .stdout,
    );
    // The oldest node first: created 2025-11-03T23:58:01Z (382 days).
    assert_eq!(rows[0][0], "ip-10-0-37-241.eu-central-1.compute.internal");
    assert_eq!(
        rows.last().unwrap()[0],
        "ip-10-0-88-164.eu-central-1.compute.internal"
    );
    // --field-selector: the pods that are neither running nor done.
    let (_, rows) = parse_table(
        &get(
            &db,
            &[
                "pods",
                "-A",
                "--field-selector",
                "status.phase!=Running,status.phase!=Succeeded",
            ],
        )
        .stdout,
    );
    assert_eq!(
        rows,
        [[
            "reviews-prod",
            "reviews-frontend-w9lkvrst87-ks9zp",
            "0/1",
            "Pending",
            "0",
            "29m"
        ]]
    );
    // A bad selector is one line and exit 3.
    let bad = common::run(&[
        "get",
        "pods",
        "-l",
        "app in web",
        "--snapshot",
        db.to_str().unwrap(),
    ]);
    assert_eq!(bad.code, 3, "{bad:?}");
    assert!(
        bad.last_err_line().contains("selector \"app in web\""),
        "{bad:?}"
    );
}

#[test]
fn managed_fields_are_hidden_unless_asked_for() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let db = dir.join("cluster.db");
    let node = ["nodes", "ip-10-0-164-190.eu-central-1.compute.internal"];
    let stored = std::fs::read_to_string(dir.join("objects.jsonl")).unwrap();
    let has_them = stored
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["key"] == "/registry/minions/ip-10-0-164-190.eu-central-1.compute.internal")
        .is_some_and(|v| v["object"]["metadata"]["managedFields"].is_array());
    assert!(has_them, "the fixture node has managedFields");
    for format in ["json", "yaml"] {
        let mut args = node.to_vec();
        args.extend(["-o", format]);
        let hidden = get(&db, &args);
        assert!(!hidden.stdout.contains("managedFields"), "{format}");
        assert!(hidden.stdout.contains("kubeletVersion"), "{format}");
        args.push("--show-managed-fields");
        assert!(get(&db, &args).stdout.contains("managedFields"), "{format}");
    }
    // -o jsonl keeps the stored object whole.
    let mut args = node.to_vec();
    args.extend(["-o", "jsonl"]);
    assert!(get(&db, &args).stdout.contains("managedFields"));
}

#[test]
fn wide_secrets_have_as_many_cells_as_headers() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let db = dir.join("cluster.db");
    let config = dir.join("encryption-config.yaml");
    let config = config.to_str().unwrap();
    let r = get(
        &db,
        &[
            "secrets",
            "-A",
            "-o",
            "wide",
            "--show-etcd",
            "--encryption-config",
            config,
        ],
    );
    let (header, rows) = parse_table(&r.stdout);
    assert_eq!(
        header,
        [
            "NAMESPACE",
            "NAME",
            "TYPE",
            "DATA",
            "AGE",
            "ENCODING",
            "SIZE",
            "REVISION"
        ]
    );
    assert_eq!(rows.len(), expected_names("Secret").len());
    for row in &rows {
        assert!(row.iter().all(|c| !c.is_empty()), "{row:?}");
        assert!(
            row[5] == "protobuf" || row[5].starts_with("encrypted:"),
            "{row:?}"
        );
        assert!(
            row[6].parse::<u64>().is_ok() && row[7].parse::<u64>().is_ok(),
            "{row:?}"
        );
    }
    // Objects of any kind (--prefix --decode): NAME, AGE; -o wide adds the stored apiVersion,
    // kind and etcd's columns, one cell under each header.
    let r = get(
        &db,
        &[
            "--prefix",
            "/registry/leases/",
            "--decode",
            "-o",
            "wide",
            "-A",
        ],
    );
    let (header, rows) = parse_table(&r.stdout);
    assert_eq!(
        header,
        [
            "NAMESPACE",
            "NAME",
            "AGE",
            "APIVERSION",
            "KIND",
            "ENCODING",
            "SIZE",
            "REVISION"
        ]
    );
    assert_eq!(rows.len(), expected_names("Lease").len());
    assert!(
        rows.iter()
            .all(|r| r[3] == "coordination.k8s.io/v1" && r[4] == "Lease"),
        "{rows:?}"
    );
}
