//! The bundled `testdata/sample.db` (the TUI demo data, made by `scripts/gen-sample.sh`) shows
//! what it was built to show: kubectl's tables over a realistic small cluster, and findings.

mod common;

/// `revkeeper ARGS --snapshot testdata/sample.db`, which must succeed.
fn on_sample(args: &[&str]) -> common::Run {
    let sample = common::sample_db();
    let mut all = args.to_vec();
    all.extend(["--snapshot", sample.to_str().unwrap()]);
    let r = common::run(&all);
    assert_eq!(r.code, 0, "{args:?}: {r:?}");
    r
}

/// The values of column `name` in a kubectl-style table.
fn column(table: &str, name: &str) -> Vec<String> {
    let header = table.lines().next().unwrap();
    let at = header
        .find(name)
        .unwrap_or_else(|| panic!("{name} in {header}"));
    table
        .lines()
        .skip(1)
        .map(|l| l[at..].split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn the_bundled_sample_is_a_small_realistic_cluster() {
    let size = std::fs::metadata(common::sample_db()).unwrap().len();
    assert!(size < 1 << 20, "embedded in the binary: {size} bytes");
    let r = on_sample(&["analyze", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let objects = doc["objects"].as_u64().unwrap();
    assert!(
        (200..1000).contains(&objects),
        "a few hundred objects: {objects}"
    );

    let pods = on_sample(&["get", "pods", "-A"]);
    assert!(
        pods.stderr.contains(
            "estimated time 2026-11-21T03:16:52Z (renewTime of /registry/leases/kube-node-lease/worker-2, "
        ),
        "the newest node heartbeat sets the time, and the line names it: {}",
        pods.stderr
    );
    let statuses = column(&pods.stdout, "STATUS");
    for status in [
        "Running",
        "CrashLoopBackOff",
        "Pending",
        "Completed",
        "Terminating",
    ] {
        assert!(
            statuses.iter().any(|s| s == status),
            "{status}: {}",
            pods.stdout
        );
    }
    let nodes = on_sample(&["get", "nodes"]).stdout;
    let mut statuses = column(&nodes, "STATUS");
    statuses.sort();
    assert_eq!(statuses, ["NotReady", "Ready", "Ready", "Ready"], "{nodes}");
    let certs = on_sample(&["get", "certs", "-A", "-o", "wide"]).stdout;
    assert!(
        certs.starts_with(
            "NAMESPACE    NAME          READY   SECRET        ISSUER             STATUS"
        ),
        "the CRD's printer columns: {certs}"
    );
    assert_eq!(
        column(&certs, "READY")
            .iter()
            .filter(|r| *r == "False")
            .count(),
        1,
        "{certs}"
    );
    for kind in ["deployments", "events", "leases"] {
        let out = on_sample(&["get", kind, "-A"]).stdout;
        assert!(out.lines().count() > 8, "{kind}: {out}");
    }
}

#[test]
fn the_bundled_sample_has_findings() {
    let sample = common::sample_db();
    let sample = sample.to_str().unwrap();
    let r = common::run(&["stale", "--snapshot", sample, "-o", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        doc["now"], "2026-11-21T03:16:52Z",
        "estimated from worker-2's node lease"
    );
    assert!(
        doc["now_basis"]
            .as_str()
            .unwrap()
            .starts_with("renewTime of /registry/leases/kube-node-lease/worker-2, "),
        "{}",
        doc["now_basis"]
    );
    assert_eq!(doc["now_estimated"], true);
    let mut got: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let id = f["key"].as_str().or(f["lease"].as_str()).unwrap();
            (f["check"].as_str().unwrap().to_string(), id.to_string())
        })
        .filter(|(_, id)| id.starts_with('/'))
        .collect();
    got.sort();
    let k = |c: &str, key: &str| (c.to_string(), format!("/registry/{key}"));
    assert_eq!(
        got,
        vec![
            k("cr-without-crd", "example.com/widgets/demo/w1"),
            k("event-expired", "events/demo/web-5f6d8.restored"),
            k("event-without-lease", "events/demo/web-5f6d8.restored"),
            k("namespace-stuck-terminating", "namespaces/old-team"),
            k("node-lease-without-node", "leases/kube-node-lease/worker-0"),
            k("owner-missing", "replicasets/demo/web-5f6d8"),
            k("replicaset-orphaned", "replicasets/demo/web-5f6d8"),
        ]
    );
    let checks: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["key"].is_null())
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["lease-without-keys"], "the keyless event lease");
}

#[test]
fn leases_class_shows_only_findings_of_that_class() {
    let sample = common::sample_db();
    let all = common::run(&[
        "leases",
        "--snapshot",
        sample.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(all.code, 0, "{all:?}");
    let all: serde_json::Value = serde_json::from_str(&all.stdout).unwrap();
    let everything = all["findings"].as_array().unwrap().len();
    for class in ["kubernetes-events", "foreign"] {
        let r = common::run(&[
            "leases",
            "--snapshot",
            sample.to_str().unwrap(),
            "--class",
            class,
            "-o",
            "json",
        ]);
        assert_eq!(r.code, 0, "{r:?}");
        let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let ids: Vec<&str> = doc["leases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap())
            .collect();
        for f in doc["findings"].as_array().unwrap() {
            match f["lease"].as_str() {
                Some(id) => assert!(ids.contains(&id), "{class}: {f}"),
                None => assert_eq!(
                    (class, f["check"].as_str().unwrap()),
                    ("kubernetes-events", "event-without-lease"),
                    "{f}"
                ),
            }
        }
        assert!(
            doc["findings"].as_array().unwrap().len() < everything,
            "{class}"
        );
    }
}

#[test]
fn inspect_is_stale_and_leases_in_one_run() {
    let json = |verb: &str| -> serde_json::Value {
        serde_json::from_str(&on_sample(&[verb, "-o", "json"]).stdout).unwrap()
    };
    let (both, stale, leases) = (json("inspect"), json("stale"), json("leases"));
    for field in ["source", "revision", "now", "now_estimated", "now_basis"] {
        assert_eq!(both[field], stale[field], "{field}");
    }
    assert_eq!(both["values"], stale["values"]);
    assert_eq!(
        both["findings"], stale["findings"],
        "every finding, as stale"
    );
    assert_eq!(both["leases"], leases["leases"], "every lease, as leases");
    assert!(!both["leases"].as_array().unwrap().is_empty());
    for f in leases["findings"].as_array().unwrap() {
        assert!(both["findings"].as_array().unwrap().contains(f), "{f}");
    }

    let table = on_sample(&["inspect"]).stdout;
    let (findings, lease_table) = table.split_once("\n\n").expect("two tables");
    assert!(findings.contains("cr-without-crd"), "{findings}");
    assert!(lease_table.starts_with("ID "), "{lease_table}");
    let leases_text = on_sample(&["leases"]).stdout;
    let without_header: String = leases_text
        .lines()
        .filter(|l| !l.starts_with("# "))
        .map(|l| format!("{l}\n"))
        .collect();
    let (leases_table, _) = without_header
        .split_once("\n\n")
        .expect("leases, then findings");
    assert_eq!(
        lease_table.trim_end(),
        leases_table.trim_end(),
        "the table `leases` prints"
    );
}

/// A snapshot whose sha256 trailer no longer matches its bytes: `inspect`, `stale` and `leases`
/// (which check the trailer beside their scan) still report, and warn once, naming the file,
/// before their output is used.
#[test]
fn inspecting_readers_warn_once_about_a_trailer_that_does_not_match() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(common::sample_db()).unwrap();
    *bytes.last_mut().unwrap() ^= 0x01; // a byte of the trailer itself
    let file = tmp.path().join("changed.db");
    std::fs::write(&file, &bytes).unwrap();
    let snap = file.to_str().unwrap();
    for verb in ["inspect", "stale", "leases"] {
        let r = common::run(&[verb, "--snapshot", snap]);
        assert_eq!(r.code, 0, "{verb}: {r:?}");
        let warnings: Vec<&str> = (r.stderr.lines())
            .filter(|l| l.contains("does not match"))
            .collect();
        assert_eq!(warnings.len(), 1, "{verb}: one warning: {r:?}");
        assert!(warnings[0].contains(snap), "{verb} names the file: {r:?}");
        assert!(!r.stdout.is_empty(), "{verb} still reports: {r:?}");
    }
}
