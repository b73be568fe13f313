//! `snapshot diff` between two snapshots of a real etcd holding objects as kube-apiserver
//! stores them (protobuf, a Secret encrypted at rest), with known changes in between: it reports
//! exactly those — not a rewrite with the same bytes, a re-encoding to JSON or a re-encryption
//! of the same content —, never prints a Secret's value unless asked, narrows by resource and
//! namespace, and gives the same answer with the live cluster as B. Unreadable inputs end in
//! one line and a non-zero exit.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::{Run, run};
use revkeeper_formats::k8s::{Keyring, decode_value, proto};
use revkeeper_harness::Member;
use serde_json::{Value, json};

const WEB_1: &str = "/registry/pods/default/web-1";
const WEB_2: &str = "/registry/pods/default/web-2";
const WEB_3: &str = "/registry/pods/default/web-3";
const API_POD: &str = "/registry/pods/prod/api";
const SETTINGS: &str = "/registry/configmaps/default/settings";
const CFG: &str = "/registry/configmaps/prod/cfg";
const NEW_CFG: &str = "/registry/configmaps/prod/new-cfg";
const DB_SECRET: &str = "/registry/secrets/prod/db";
const TOKEN: &str = "/registry/secrets/default/token";
const N1: &str = "/registry/minions/n1";
const N2: &str = "/registry/minions/n2";
const API_DEPLOY: &str = "/registry/deployments/prod/api";
const CRD: &str = "/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com";
const W0: &str = "/registry/example.com/widgets/prod/w0";
const W1: &str = "/registry/example.com/widgets/prod/w1";
const COMPACT: &str = "compact_rev_key";
const SERVICE_IPS: &str = "/registry/ranges/serviceips";
/// Unchanged ConfigMaps, enough that the second source arrives in several batches.
const BULK: usize = 600;

const OLD_PASSWORD: &str = "s3cr3t-old-pw";
const NEW_PASSWORD: &str = "s3cr3t-new-pw";

fn config_text() -> String {
    format!(
        "apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc:
          keys: [{{name: cbc1, secret: {}}}]
      - identity: {{}}
",
        B64.encode([7u8; 32])
    )
}

fn meta(ns: Option<&str>, name: &str) -> Value {
    let mut m = json!({"name": name, "uid": format!("uid-{name}"),
                       "creationTimestamp": "2026-01-01T00:00:00Z"});
    if let Some(ns) = ns {
        m["namespace"] = ns.into();
    }
    m
}

fn pod(ns: &str, name: &str, image: &str) -> Vec<u8> {
    proto::encode(&json!({
        "kind": "Pod", "apiVersion": "v1", "metadata": meta(Some(ns), name),
        "spec": {"containers": [{"name": "main", "image": image}], "nodeName": "n1"},
        "status": {"phase": "Running"}
    }))
    .unwrap()
}

fn configmap(ns: &str, name: &str, value: &str) -> Vec<u8> {
    proto::encode(&json!({
        "kind": "ConfigMap", "apiVersion": "v1", "metadata": meta(Some(ns), name),
        "data": {"value": value}
    }))
    .unwrap()
}

fn secret(ns: &str, name: &str, password: &str) -> Vec<u8> {
    proto::encode(&json!({
        "kind": "Secret", "apiVersion": "v1", "metadata": meta(Some(ns), name),
        "data": {"password": B64.encode(password)}, "type": "Opaque"
    }))
    .unwrap()
}

fn node(name: &str) -> Vec<u8> {
    proto::encode(&json!({"kind": "Node", "apiVersion": "v1", "metadata": meta(None, name)}))
        .unwrap()
}

fn deployment(replicas: i64) -> Vec<u8> {
    proto::encode(&json!({
        "kind": "Deployment", "apiVersion": "apps/v1", "metadata": meta(Some("prod"), "api"),
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "api"}},
                 "template": {"metadata": {"labels": {"app": "api"}},
                              "spec": {"containers": [{"name": "main", "image": "api:1.0"}]}}}
    }))
    .unwrap()
}

/// A custom resource as kube-apiserver stores it: JSON, ending in a newline.
fn widget(name: &str, size: i64) -> Vec<u8> {
    let mut v = serde_json::to_vec(&json!({
        "apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta(Some("prod"), name),
        "spec": {"size": size}
    }))
    .unwrap();
    v.push(b'\n');
    v
}

/// The Widget CRD, with a short name only B knows.
fn widget_crd() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": meta(None, "widgets.example.com"),
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget",
                           "shortNames": ["wd"]},
                 "versions": [{"name": "v1", "served": true, "storage": true}]}
    }))
    .unwrap()
}

struct World {
    member: Member,
    _dir: tempfile::TempDir,
    a: PathBuf,
    b: PathBuf,
    config: PathBuf,
}

fn world() -> World {
    let member = Member::start_single();
    let ep = member.endpoint();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("encryption.yaml");
    std::fs::write(&config, config_text()).unwrap();
    let keys = Keyring::from_config(config_text().as_bytes()).unwrap();
    let rt = common::rt();
    let mut c = common::member_client(&rt, &member);
    let mut put = |key: &str, value: Vec<u8>| {
        rt.block_on(c.put(key, value, None)).unwrap();
    };
    put(WEB_1, pod("default", "web-1", "nginx:1.27"));
    put(WEB_2, pod("default", "web-2", "nginx:1.27"));
    put(API_POD, pod("prod", "api", "api:1.0"));
    put(SETTINGS, configmap("default", "settings", "a"));
    put(CFG, configmap("prod", "cfg", "b"));
    for i in 0..BULK {
        let name = format!("cm-{i:04}");
        put(
            &format!("/registry/configmaps/bulk/{name}"),
            configmap("bulk", &name, "x"),
        );
    }
    put(DB_SECRET, secret("prod", "db", OLD_PASSWORD));
    put(TOKEN, secret("default", "token", "t0k3n-value"));
    put(N1, node("n1"));
    put(API_DEPLOY, deployment(2));
    put(W0, widget("w0", 1));
    put(COMPACT, b"12".to_vec());
    put(SERVICE_IPS, b"range 10.96.0.0/12".to_vec());
    let a = dir.path().join("a.db");
    common::save_file(&ep, &a);

    put(WEB_3, pod("default", "web-3", "nginx:1.27"));
    put(NEW_CFG, configmap("prod", "new-cfg", "c"));
    put(N2, node("n2"));
    put(API_POD, pod("prod", "api", "api:1.1"));
    put(API_DEPLOY, deployment(3));
    put(DB_SECRET, secret("prod", "db", NEW_PASSWORD));
    put(COMPACT, b"40".to_vec());
    put(CRD, widget_crd());
    put(W1, widget("w1", 1));
    put(W0, widget("w0", 2));
    // The same content written again: the same bytes, JSON instead of protobuf, encrypted.
    put(WEB_1, pod("default", "web-1", "nginx:1.27"));
    put(SERVICE_IPS, b"range 10.96.0.0/12".to_vec());
    let cfg = configmap("prod", "cfg", "b");
    let as_json = decode_value(CFG.as_bytes(), &cfg, &Keyring::default())
        .unwrap()
        .object
        .unwrap();
    put(CFG, serde_json::to_vec(&as_json).unwrap());
    let token = secret("default", "token", "t0k3n-value");
    put(
        TOKEN,
        keys.encrypt(TOKEN.as_bytes(), "aescbc", "cbc1", &token)
            .unwrap(),
    );
    rt.block_on(c.delete(WEB_2, None)).unwrap();
    rt.block_on(c.delete(SETTINGS, None)).unwrap();
    let b = dir.path().join("b.db");
    common::save_file(&ep, &b);
    World {
        member,
        _dir: dir,
        a,
        b,
        config,
    }
}

impl World {
    fn diff(&self, extra: &[&str]) -> Run {
        let mut args = vec![
            "snapshot",
            "diff",
            self.a.to_str().unwrap(),
            self.b.to_str().unwrap(),
            "--encryption-config",
            self.config.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run(&args)
    }

    fn json(&self, extra: &[&str]) -> Value {
        let r = self.diff(&[extra, &["-o", "json"][..]].concat());
        assert_eq!(r.code, 0, "{r:?}");
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"))
    }
}

type Change = (String, String, Option<String>, String);

fn change(kind: &str, resource: &str, ns: Option<&str>, name: &str) -> Change {
    (
        kind.into(),
        resource.into(),
        ns.map(str::to_string),
        name.into(),
    )
}

fn changes(doc: &Value) -> BTreeSet<Change> {
    doc["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["change"].as_str().unwrap().into(),
                o["resource"].as_str().unwrap().into(),
                o["namespace"].as_str().map(str::to_string),
                o["name"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn all_changes() -> BTreeSet<Change> {
    [
        change("added", "pods", Some("default"), "web-3"),
        change("added", "configmaps", Some("prod"), "new-cfg"),
        change("added", "nodes", None, "n2"),
        change("removed", "pods", Some("default"), "web-2"),
        change("removed", "configmaps", Some("default"), "settings"),
        change("changed", "pods", Some("prod"), "api"),
        change("changed", "deployments", Some("prod"), "api"),
        change("changed", "secrets", Some("prod"), "db"),
        change("changed", "(other keys)", None, COMPACT),
        change(
            "added",
            "customresourcedefinitions",
            None,
            "widgets.example.com",
        ),
        change("added", "widgets.example.com", Some("prod"), "w1"),
        change("changed", "widgets.example.com", Some("prod"), "w0"),
    ]
    .into_iter()
    .collect()
}

/// No form of either password: as typed, base64 (as in `data`), or base64 of the JSON.
fn assert_no_password(text: &str, what: &str) {
    for pw in [OLD_PASSWORD, NEW_PASSWORD] {
        for form in [pw.to_string(), B64.encode(pw)] {
            assert!(
                !text.contains(&form),
                "{what} shows a Secret value:\n{text}"
            );
        }
    }
}

#[test]
fn reports_exactly_the_known_changes_and_never_a_secret_value() {
    let w = world();

    let doc = w.json(&[]);
    assert_eq!(changes(&doc), all_changes(), "{doc:#}");
    assert_eq!(
        doc["resources"],
        json!([
            {"resource": "(other keys)", "added": 0, "removed": 0, "changed": 1},
            {"resource": "configmaps", "added": 1, "removed": 1, "changed": 0},
            {"resource": "customresourcedefinitions", "added": 1, "removed": 0, "changed": 0},
            {"resource": "deployments", "added": 0, "removed": 0, "changed": 1},
            {"resource": "nodes", "added": 1, "removed": 0, "changed": 0},
            {"resource": "pods", "added": 1, "removed": 1, "changed": 1},
            {"resource": "secrets", "added": 0, "removed": 0, "changed": 1},
            {"resource": "widgets.example.com", "added": 1, "removed": 0, "changed": 1},
        ])
    );
    assert_eq!(doc["from"], format!("snapshot {}", w.a.display()));
    assert_eq!(doc["to"], format!("snapshot {}", w.b.display()));
    let api = doc["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["key"] == API_POD)
        .unwrap();
    assert!(api["from_revision"].as_i64().unwrap() < api["to_revision"].as_i64().unwrap());
    assert!(api.get("diff").is_none(), "no diff without --show: {api}");

    let table = w.diff(&[]);
    assert_eq!(table.code, 0, "{table:?}");
    assert_eq!(
        table.stdout,
        "RESOURCE                   ADDED  REMOVED  CHANGED\n\
         (other keys)               0      0        1\n\
         configmaps                 1      1        0\n\
         customresourcedefinitions  1      0        0\n\
         deployments                0      0        1\n\
         nodes                      1      0        0\n\
         pods                       1      1        1\n\
         secrets                    0      0        1\n\
         widgets.example.com        1      0        1\n"
    );

    // --show: the changed lines of each object, added objects whole, Secrets redacted.
    let show = w.diff(&["--show"]);
    assert_eq!(show.code, 0, "{show:?}");
    let out = &show.stdout;
    for expected in [
        "\n-  - image: api:1.0\n+  - image: api:1.1\n",
        "\n-  replicas: 2\n+  replicas: 3\n",
        "\n-  password: (redacted)\n+  password: (redacted, changed)\n",
        "--- /dev/null\n+++ b/pods/default/web-3\trevision ",
        "--- a/configmaps/default/settings\trevision ",
        "Values a/compact_rev_key and b/compact_rev_key differ (not objects)\n",
        "\n-  size: 1\n+  size: 2\n",
        "\n\nRESOURCE                   ADDED  REMOVED  CHANGED\n",
    ] {
        assert!(out.contains(expected), "{expected:?} missing:\n{out}");
    }
    assert!(out.contains("--- a/pods/prod/api\trevision "), "{out}");
    assert!(!out.contains("web-1") && !out.contains("bulk"), "{out}");
    let plus_minus = out
        .lines()
        .filter(|l| l.starts_with(['+', '-']) && !l.starts_with("+++") && !l.starts_with("---"))
        .count();
    // web-3, new-cfg and n2 whole, web-2 and settings whole, 2 lines per changed object.
    assert!(plus_minus > 20, "{out}");
    assert_no_password(out, "--show");
    assert_no_password(&show.stderr, "--show's stderr");
    let json_show = w.diff(&["--show", "-o", "json"]);
    assert_eq!(json_show.code, 0, "{json_show:?}");
    assert_no_password(&json_show.stdout, "-o json --show");
    let doc: Value = serde_json::from_str(&json_show.stdout).unwrap();
    assert_eq!(changes(&doc), all_changes());
    let db = doc["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["key"] == DB_SECRET)
        .unwrap();
    assert!(
        db["diff"]
            .as_str()
            .unwrap()
            .contains("+  password: (redacted, changed)\n"),
        "{db}"
    );
    let secrets = w.diff(&["--show", "--show-secrets", "--resource", "secret"]);
    assert_eq!(secrets.code, 0, "{secrets:?}");
    let expected = format!(
        "\n-  password: {}\n+  password: {}\n",
        B64.encode(OLD_PASSWORD),
        B64.encode(NEW_PASSWORD)
    );
    assert!(secrets.stdout.contains(&expected), "{secrets:?}");

    // Narrowing: a resource as `get` names it, a namespace, both; -n does not hide nodes.
    let narrowed = |extra: &[&str]| changes(&w.json(extra));
    let only = |keep: &dyn Fn(&Change) -> bool| -> BTreeSet<Change> {
        all_changes().into_iter().filter(|c| keep(c)).collect()
    };
    assert_eq!(narrowed(&["--resource", "po"]), only(&|c| c.1 == "pods"));
    // A custom resource by the short name of a CRD that only B has.
    let widgets = only(&|c| c.1 == "widgets.example.com");
    assert_eq!(widgets.len(), 2);
    assert_eq!(narrowed(&["--resource", "wd", "-n", "prod"]), widgets);
    assert_eq!(narrowed(&["--resource", "widgets.example.com"]), widgets);
    assert_eq!(
        narrowed(&["--resource", "deploy"]),
        only(&|c| c.1 == "deployments")
    );
    assert_eq!(
        narrowed(&["--resource", "pods", "-n", "prod"]),
        only(&|c| c.1 == "pods" && c.2.as_deref() == Some("prod"))
    );
    assert_eq!(
        narrowed(&["-n", "default"]),
        only(&|c| c.2.as_deref() == Some("default"))
    );
    assert_eq!(
        narrowed(&["--resource", "nodes", "-n", "prod"]),
        only(&|c| c.1 == "nodes")
    );
    assert_eq!(
        narrowed(&["--resource", "secrets", "-n", "bulk"]),
        only(&|_| false)
    );

    // B as the live cluster (nothing written since B was saved): the same answer.
    let live = run(&[
        "snapshot",
        "diff",
        w.a.to_str().unwrap(),
        "--endpoints",
        &w.member.endpoint(),
        "--encryption-config",
        w.config.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(live.code, 0, "{live:?}");
    let live: Value = serde_json::from_str(&live.stdout).unwrap();
    assert_eq!(live["objects"], doc_without_diffs(&json_show)["objects"]);
    assert_eq!(live["resources"], doc["resources"]);
    assert_eq!(live["to"], format!("cluster via {}", w.member.endpoint()));

    // Without the encryption config the re-encrypted Secret cannot be compared: named, counted
    // as changed, exit 1; still no value on either stream.
    let blind = run(&[
        "snapshot",
        "diff",
        w.a.to_str().unwrap(),
        w.b.to_str().unwrap(),
        "-o",
        "json",
        "--show",
    ]);
    assert_eq!(blind.code, 1, "{blind:?}");
    assert!(blind.stderr.lines().any(|l| l.contains(TOKEN)), "{blind:?}");
    assert!(
        blind.last_err_line().contains("could not be decoded"),
        "{blind:?}"
    );
    let doc: Value = serde_json::from_str(&blind.stdout).unwrap();
    let mut expected = all_changes();
    expected.insert(change("changed", "secrets", Some("default"), "token"));
    assert_eq!(changes(&doc), expected);
    assert_no_password(&blind.stdout, "a diff without the encryption config");
    assert!(
        !blind.stdout.contains(&B64.encode("t0k3n-value")),
        "{blind:?}"
    );
}

/// The `-o json --show` document without each object's `diff` (the live run has none).
fn doc_without_diffs(r: &Run) -> Value {
    let mut doc: Value = serde_json::from_str(&r.stdout).unwrap();
    for o in doc["objects"].as_array_mut().unwrap() {
        o.as_object_mut().unwrap().remove("diff");
    }
    doc
}

fn assert_one_line(r: &Run, code: i32, names: &str, what: &str) {
    assert_eq!(r.code, code, "{what}: {r:?}");
    assert_eq!(r.stderr.lines().count(), 1, "{what}: {r:?}");
    assert!(r.stderr.contains(names), "{what}: {r:?}");
    assert!(r.stdout.is_empty(), "{what}: {r:?}");
}

#[test]
fn unreadable_inputs_end_in_one_line() {
    let saved = common::saved_snapshot(3);
    let good = saved.file.to_str().unwrap();
    let missing = saved.tmp.path().join("missing.db");
    let missing = missing.to_str().unwrap();
    let r = run(&["snapshot", "diff", missing, good]);
    assert_one_line(&r, 3, missing, "a missing A");
    let r = run(&["snapshot", "diff", good, missing]);
    assert_one_line(&r, 3, missing, "a missing B");

    let damaged = saved.tmp.path().join("damaged.db");
    let bytes = common::zstd_decode(&saved.file);
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let damaged = damaged.to_str().unwrap();
    let r = run(&["snapshot", "diff", good, damaged]);
    assert_ne!(r.code, 0, "{r:?}");
    assert_one_line(&r, r.code, damaged, "a damaged B");

    let r = run(&[
        "snapshot",
        "diff",
        good,
        "--endpoints",
        "http://127.0.0.1:1",
        "--dial-timeout",
        "300ms",
    ]);
    // The connection layer names each endpoint it tried, then fails in one line.
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.last_err_line().contains("cannot connect to any endpoint"),
        "{r:?}"
    );
    assert!(r.stdout.is_empty(), "{r:?}");

    let r = run(&[
        "snapshot",
        "diff",
        good,
        good,
        "--endpoints",
        "http://127.0.0.1:1",
    ]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stderr
            .contains("a second snapshot B cannot be used with --endpoints"),
        "{r:?}"
    );
    let dir = saved.file.parent().unwrap().to_str().unwrap();
    let r = run(&["snapshot", "diff", dir, good, "--latest"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.last_err_line().contains("--latest"), "{r:?}");

    // The newest snapshot of a directory against the cluster it came from: nothing differs.
    let r = run(&[
        "snapshot",
        "diff",
        dir,
        "--latest",
        "--endpoints",
        &saved.member.endpoint(),
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["objects"], json!([]), "{r:?}");
    assert_eq!(doc["resources"], json!([]), "{r:?}");
}
