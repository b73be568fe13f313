//! The bundled `testdata/sample.db` (the TUI demo data) shows the findings it was built with.

mod common;

#[test]
fn the_bundled_sample_has_findings() {
    let sample = common::sample_db();
    let sample = sample.to_str().unwrap();
    let r = common::run(&["stale", "--snapshot", sample, "-o", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        doc["now"], "2026-11-01T12:00:00Z",
        "estimated from node-a's lease"
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
            k("event-without-lease", "events/demo/web-5f6d8.restored"),
            k("namespace-stuck-terminating", "namespaces/old-team"),
            k("node-lease-without-node", "leases/kube-node-lease/node-c"),
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
