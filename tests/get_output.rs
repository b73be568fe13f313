//! `get`'s remaining output modes on cluster-dev's snapshot: kubectl's `-o custom-columns`
//! and `-o jsonpath`, `--for-apply` (checked over every object of the snapshot, and each
//! built-in one re-encoded to protobuf), and raw keys as etcdctl prints them (`-w simple`,
//! `--print-value-only` piped into `decode`, `--keys-only`).

mod common;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Stdio;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use revkeeper::printers::for_apply::SERVER_METADATA;
use revkeeper_formats::k8s::proto;
use serde_json::Value;

/// cluster-dev's snapshot and encryption config as `--snapshot F --encryption-config C`.
fn source() -> Option<(PathBuf, Vec<String>)> {
    let dir = common::cluster_dev()?;
    let args = vec![
        "--snapshot".to_string(),
        dir.join("cluster.db").display().to_string(),
        "--encryption-config".to_string(),
        dir.join("encryption-config.yaml").display().to_string(),
    ];
    Some((dir, args))
}

fn get(source: &[String], args: &[&str]) -> common::Run {
    let mut all: Vec<&str> = vec!["get"];
    all.extend_from_slice(args);
    all.extend(source.iter().map(String::as_str));
    common::run(&all)
}

/// cluster-dev's stored objects (`objects.jsonl`), in key order.
fn fixture_objects(dir: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("objects.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects
        .iter()
        .filter(|o| o["kind"] == kind && o["object"].is_object())
        .map(|o| &o["object"])
        .collect()
}

#[test]
fn custom_columns_print_one_row_per_object_with_none_for_missing_fields() {
    let Some((dir, src)) = source() else {
        return;
    };
    let fixture = fixture_objects(&dir);
    let pods = of_kind(&fixture, "Pod");
    let spec = "NAME:.metadata.name,NAMESPACE:{.metadata.namespace},NODE:spec.nodeName,\
                READY:.status.conditions[?(@.type==\"Ready\")].status";
    let r = get(
        &src,
        &[
            "pods",
            "-A",
            "-o",
            &format!("custom-columns={spec}"),
            "--sort-by",
            ".metadata.name",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<Vec<&str>> = r
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["NAME", "NAMESPACE", "NODE", "READY"], "{r:?}");
    let want: Vec<Vec<String>> = pods
        .iter()
        .map(|p| {
            let ready = p["status"]["conditions"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
                .and_then(|c| c["status"].as_str());
            vec![
                p["metadata"]["name"].as_str().unwrap().to_string(),
                p["metadata"]["namespace"].as_str().unwrap().to_string(),
                p["spec"]["nodeName"]
                    .as_str()
                    .unwrap_or("<none>")
                    .to_string(),
                ready.unwrap_or("<none>").to_string(),
            ]
        })
        .collect();
    let got: Vec<Vec<String>> = lines[1..]
        .iter()
        .map(|l| l.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(got.len(), pods.len(), "{r:?}");
    // The same rows (the order is kubectl's natural one, tested with the tables).
    let mut sorted_got = got.clone();
    sorted_got.sort();
    let mut sorted_want = want;
    sorted_want.sort();
    assert_eq!(sorted_got, sorted_want);
    assert!(
        got.iter().any(|row| row[2] == "<none>"),
        "cluster-dev has unscheduled pods: {r:?}"
    );

    // --no-headers, and the same columns from a custom-columns-file.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("columns.txt");
    std::fs::write(
        &file,
        "NAME NAMESPACE NODE READY\n.metadata.name .metadata.namespace .spec.nodeName \
         .status.conditions[?(@.type==\"Ready\")].status\n",
    )
    .unwrap();
    let from_file = get(
        &src,
        &[
            "pods",
            "-A",
            "-o",
            &format!("custom-columns-file={}", file.display()),
            "--sort-by",
            ".metadata.name",
        ],
    );
    assert_eq!(from_file.code, 0, "{from_file:?}");
    assert_eq!(from_file.stdout, r.stdout);
    let bare = get(
        &src,
        &[
            "pods",
            "-A",
            "-o",
            &format!("custom-columns={spec}"),
            "--sort-by",
            ".metadata.name",
            "--no-headers",
        ],
    );
    assert_eq!(bare.code, 0, "{bare:?}");
    assert_eq!(bare.stdout.lines().count(), pods.len(), "{bare:?}");
    assert!(!bare.stdout.contains("NAMESPACE"), "{bare:?}");

    // One object: one row.
    let one = get(
        &src,
        &[
            "ns",
            "default",
            "-o",
            "custom-columns=NAME:.metadata.name,PHASE:.status.phase",
        ],
    );
    assert_eq!(one.code, 0, "{one:?}");
    assert_eq!(one.stdout, "NAME      PHASE\ndefault   Active\n");
}

#[test]
fn jsonpath_runs_on_the_object_or_on_a_list() {
    let Some((dir, src)) = source() else {
        return;
    };
    let fixture = fixture_objects(&dir);
    let nodes = of_kind(&fixture, "Node");
    let template = r#"{range .items[*]}{.metadata.name}{"\t"}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}"#;
    let r = get(&src, &["nodes", "-o", &format!("jsonpath={template}")]);
    assert_eq!(r.code, 0, "{r:?}");
    let want: String = nodes
        .iter()
        .map(|n| {
            let ready = n["status"]["conditions"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
                .map_or("", |c| c["status"].as_str().unwrap());
            format!("{}\t{ready}\n", n["metadata"]["name"].as_str().unwrap())
        })
        .collect();
    assert_eq!(r.stdout, want);
    assert_eq!(r.stdout.matches("\tTrue\n").count(), nodes.len(), "{r:?}");

    let names = get(&src, &["nodes", "-o", "jsonpath={.items[*].metadata.name}"]);
    let want: Vec<&str> = nodes
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.stdout, want.join(" "), "{names:?}");
    // Several objects are a List; one named object is the object itself (no newline added).
    let list = get(&src, &["ns", "-o", "jsonpath={.kind} {.metadata.name}"]);
    assert_eq!(list.stdout, "List ", "{list:?}");
    let one = get(
        &src,
        &["ns", "default", "-o=jsonpath={.kind} {.metadata.name}"],
    );
    assert_eq!(one.stdout, "Namespace default", "{one:?}");
    // managedFields stay hidden, as with -o yaml.
    let one = get(
        &src,
        &["ns", "default", "-o", "jsonpath={.metadata.managedFields}"],
    );
    assert_eq!((one.code, one.stdout.as_str()), (0, ""), "{one:?}");
}

#[test]
fn malformed_templates_are_one_line_exit_3() {
    let Some((_, src)) = source() else {
        return;
    };
    for (format, named) in [
        ("jsonpath={.metadata.name", "{.metadata.name"),
        ("jsonpath={end}", "{end}"),
        ("custom-columns=NAME", "NAME"),
        ("custom-columns=N:.a[", ".a["),
        (
            "custom-columns-file=/nonexistent/columns",
            "/nonexistent/columns",
        ),
        (
            "jsonpath-file=/nonexistent/template",
            "/nonexistent/template",
        ),
    ] {
        let r = get(&src, &["pods", "-A", "-o", format]);
        assert_eq!(r.code, 3, "{format}: {r:?}");
        assert_eq!(r.stdout, "", "{format}: {r:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{format}: {r:?}");
        assert!(r.stderr.contains(named), "{format}: {r:?}");
    }
    let r = get(&src, &["pods", "-A", "-o", "jsonpath"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stderr.contains("jsonpath="),
        "the accepted values are listed: {r:?}"
    );
    let r = get(&src, &["pods", "--show-labels", "-o", "jsonpath={.kind}"]);
    assert_eq!(r.code, 3, "{r:?}");
}

/// Every field of `object` that `--for-apply` promises to remove, by JSON path.
fn server_managed_left(object: &Value) -> Vec<String> {
    let mut left = Vec::new();
    let meta = &object["metadata"];
    for field in SERVER_METADATA.iter().chain(&["ownerReferences"]) {
        if meta.get(*field).is_some() {
            left.push(format!("metadata.{field}"));
        }
    }
    if object.get("status").is_some() {
        left.push("status".into());
    }
    let spec = &object["spec"];
    match object["kind"].as_str() {
        Some("Service") if spec["clusterIP"] != "None" => {
            for f in ["clusterIP", "clusterIPs"] {
                if spec.get(f).is_some() {
                    left.push(format!("spec.{f}"));
                }
            }
        }
        Some("PersistentVolumeClaim") if spec.get("volumeName").is_some() => {
            left.push("spec.volumeName".into())
        }
        Some("Pod") if spec.get("nodeName").is_some() => left.push("spec.nodeName".into()),
        _ => {}
    }
    left
}

fn identity(object: &Value) -> String {
    format!(
        "{} {} {}/{}",
        object["apiVersion"].as_str().unwrap_or(""),
        object["kind"].as_str().unwrap_or(""),
        object["metadata"]["namespace"].as_str().unwrap_or(""),
        object["metadata"]["name"].as_str().unwrap_or("")
    )
}

#[test]
fn for_apply_leaves_no_server_managed_field_and_re_encodes() {
    let Some((dir, src)) = source() else {
        return;
    };
    let fixture = fixture_objects(&dir);
    let stored: Vec<&Value> = fixture.iter().filter(|o| o["object"].is_object()).collect();
    let protobuf: Vec<&&Value> = stored
        .iter()
        .filter(|o| o["encoding"].as_str().unwrap().ends_with("protobuf"))
        .collect();
    let built_in: HashSet<String> = protobuf.iter().map(|o| identity(&o["object"])).collect();
    assert!(
        stored
            .iter()
            .any(|o| !server_managed_left(&o["object"]).is_empty()),
        "the fixture's objects carry the fields"
    );

    let r = get(
        &src,
        &[
            "--prefix",
            "/registry/",
            "--decode",
            "--for-apply",
            "-o",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let list: Value = serde_json::from_str(&r.stdout).unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), stored.len(), "every object of the snapshot");
    let mut encoded = 0;
    for item in items {
        let left = server_managed_left(item);
        assert!(left.is_empty(), "{}: {left:?} left", identity(item));
        if built_in.contains(&identity(item)) {
            proto::encode(item).unwrap_or_else(|e| panic!("{}: {e}", identity(item)));
            encoded += 1;
        }
    }
    assert_eq!(encoded, protobuf.len(), "every built-in object re-encoded");

    // YAML is the default; another -o is refused.
    let yaml = get(
        &src,
        &["deploy", "coredns", "-n", "kube-system", "--for-apply"],
    );
    assert_eq!(yaml.code, 0, "{yaml:?}");
    let object: Value = serde_norway::from_str(&yaml.stdout).unwrap();
    assert_eq!(object["kind"], "Deployment");
    assert!(server_managed_left(&object).is_empty(), "{yaml:?}");
    for format in ["table", "wide", "name", "jsonl", "jsonpath={.kind}"] {
        let r = get(&src, &["deploy", "-A", "--for-apply", "-o", format]);
        assert_eq!(r.code, 3, "{format}: {r:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{format}: {r:?}");
        assert!(r.stderr.contains("--for-apply"), "{format}: {r:?}");
    }
    let r = get(&src, &["pods", "-A", "--keep-owners"]);
    assert_eq!(r.code, 3, "--keep-owners needs --for-apply: {r:?}");
    // --keep-owners keeps what a ReplicaSet-owned pod points at.
    let pod = fixture
        .iter()
        .find(|o| o["kind"] == "Pod" && o["object"]["metadata"]["ownerReferences"].is_array())
        .expect("an owned pod");
    let (ns, name) = (
        pod["namespace"].as_str().unwrap(),
        pod["name"].as_str().unwrap(),
    );
    let r = get(
        &src,
        &[
            "pod",
            name,
            "-n",
            ns,
            "--for-apply",
            "--keep-owners",
            "-o",
            "json",
        ],
    );
    let object: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        object["metadata"]["ownerReferences"],
        pod["object"]["metadata"]["ownerReferences"]
    );
}

/// `revkeeper get ARGS` with stdout as bytes.
fn get_bytes(src: &[String], args: &[&str]) -> Vec<u8> {
    let out = common::revkeeper()
        .arg("get")
        .args(args)
        .args(src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn raw_keys_print_as_etcdctl_does_and_values_round_trip() {
    let Some((dir, src)) = source() else {
        return;
    };
    let pod = fixture_objects(&dir)
        .into_iter()
        .find(|o| o["kind"] == "Pod" && o["encoding"] == "protobuf")
        .expect("a protobuf pod");
    let key = pod["key"].as_str().unwrap();
    let json: Value =
        serde_json::from_slice(&get_bytes(&src, &["--key", key, "-w", "json"])).unwrap();
    let value = B64
        .decode(json["kvs"][0]["value"].as_str().unwrap())
        .unwrap();
    assert!(value.starts_with(b"k8s\0"), "a protobuf value");

    // -w simple is the default: the key line, then the value's bytes and a newline.
    let mut want = format!("{key}\n").into_bytes();
    want.extend_from_slice(&value);
    want.push(b'\n');
    assert_eq!(get_bytes(&src, &["--key", key]), want);
    assert_eq!(get_bytes(&src, &["--key", key, "-w", "simple"]), want);
    let mut only = value.clone();
    only.push(b'\n');
    assert_eq!(get_bytes(&src, &["--key", key, "--print-value-only"]), only);
    assert_eq!(
        get_bytes(&src, &["--key", key, "--keys-only"]),
        format!("{key}\n\n").into_bytes()
    );
    let table = String::from_utf8(get_bytes(&src, &["--key", key, "-w", "table"])).unwrap();
    assert!(table.starts_with("KEY "), "{table}");

    // get --print-value-only | decode.
    let mut producer = common::revkeeper()
        .args(["get", "--key", key, "--print-value-only"])
        .args(&src)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let decoded = common::revkeeper()
        .args(["decode", "-o", "json"])
        .stdin(producer.stdout.take().unwrap())
        .output()
        .unwrap();
    assert!(producer.wait().unwrap().success());
    assert!(
        decoded.status.success(),
        "{}",
        String::from_utf8_lossy(&decoded.stderr)
    );
    let object: Value = serde_json::from_slice(&decoded.stdout).unwrap();
    assert_eq!(object["kind"], "Pod");
    assert_eq!(object["metadata"]["name"], pod["name"]);
    assert_eq!(object["metadata"]["uid"], pod["object"]["metadata"]["uid"]);

    // Values only with simple output; etcdctl's flags stay on raw keys.
    for (args, named) in [
        (
            vec!["--key", key, "--print-value-only", "-w", "json"],
            "--print-value-only",
        ),
        (
            vec!["--key", key, "--print-value-only", "-o", "yaml"],
            "--print-value-only",
        ),
        (
            vec!["--key", key, "--keys-only", "--for-apply"],
            "--keys-only",
        ),
    ] {
        let r = get(&src, &args);
        assert_eq!(r.code, 3, "{args:?}: {r:?}");
        assert!(r.stderr.contains(named), "{args:?}: {r:?}");
    }
}
