//! `get`, `decode`, `dump` and `analyze` on values this test builds itself (JSON, CBOR as
//! Kubernetes writes it, each encryption provider, broken values) written into a real etcd,
//! read through the live source and through a snapshot taken from that server.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ciborium::Value as C;
use common::Run;
use etcd_client::PutOptions;
use revkeeper_formats::k8s::{Keyring, proto};
use revkeeper_harness::Member;
use serde_json::{Value, json};

const W1: &str = "/registry/example.com/widgets/ns1/w1";
const W2: &str = "/registry/example.com/widgets/ns1/w2";
const BAD_CBOR: &str = "/registry/example.com/widgets/ns1/bad-cbor";
const BAD_JSON: &str = "/registry/example.com/widgets/ns1/bad-json";
const CW1: &str = "/registry/example.com/clusterwidgets/cw1";
const S_CBC: &str = "/registry/secrets/ns1/s-cbc";
const S_GCM: &str = "/registry/secrets/ns1/s-gcm";
const S_SB: &str = "/registry/secrets/ns1/s-sb";
const S_CORRUPT: &str = "/registry/secrets/ns1/s-corrupt";
const S_UNKNOWN: &str = "/registry/secrets/ns1/s-unknown-key";
const S_OTHER_NS: &str = "/registry/secrets/ns2/s-other";
const EVENT: &str = "/registry/events/ns1/w1.17a";
const POD: &str = "/registry/pods/ns1/web-1";
const BAD_TRUNC: &str = "/registry/pods/ns1/bad-truncated";
const BAD_KIND: &str = "/registry/pods/ns1/bad-kind";
const NODE: &str = "/registry/minions/node-1";
const SVC: &str = "/registry/services/specs/ns1/web";
const DEPLOY: &str = "/registry/deployments/ns1/web";

fn config() -> String {
    format!(
        "apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aesgcm:
          keys: [{{name: gcm1, secret: {}}}]
      - secretbox:
          keys: [{{name: sb1, secret: {}}}]
      - aescbc:
          keys: [{{name: cbc1, secret: {}}}]
      - identity: {{}}
",
        B64.encode([1u8; 32]),
        B64.encode([2u8; 32]),
        B64.encode([3u8; 16]),
    )
}

fn widget_json(name: &str, replicas: i64) -> Vec<u8> {
    let mut v = serde_json::to_vec(&json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": name, "namespace": "ns1", "uid": format!("uid-{name}"),
                     "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"replicas": replicas, "color": "blue"}
    }))
    .unwrap();
    v.push(b'\n'); // Go's json.Encoder ends values with a newline
    v
}

/// A custom resource as the CBOR serializer stores it: tag 55799, byte-string keys and strings.
fn widget_cbor() -> Vec<u8> {
    let b = |s: &str| C::Bytes(s.as_bytes().to_vec());
    let v = C::Tag(
        55799,
        Box::new(C::Map(vec![
            (b("apiVersion"), b("example.com/v1")),
            (b("kind"), b("Widget")),
            (
                b("metadata"),
                C::Map(vec![
                    (b("creationTimestamp"), b("2026-01-02T00:00:00Z")),
                    (b("name"), b("w2")),
                    (b("namespace"), b("ns1")),
                ]),
            ),
            (
                b("spec"),
                C::Map(vec![
                    (b("blob"), C::Tag(22, Box::new(C::Bytes(vec![0, 1, 2])))),
                    (b("ratio"), C::Float(0.25)),
                    (b("replicas"), C::Integer(5.into())),
                ]),
            ),
        ])),
    );
    let mut out = Vec::new();
    ciborium::into_writer(&v, &mut out).unwrap();
    out
}

/// A Secret as kube-apiserver stores it before encryption: protobuf.
fn secret_proto(name: &str, ns: &str) -> Vec<u8> {
    proto::encode(&json!({
        "kind": "Secret", "apiVersion": "v1",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": "2026-01-01T00:00:00Z"},
        "data": {"password": B64.encode(format!("pw-{name}"))},
        "type": "Opaque"
    }))
    .unwrap()
}

fn pod() -> Value {
    json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": "web-1", "namespace": "ns1", "uid": "0b5c2f8e-0000-4000-8000-000000000001",
                     "creationTimestamp": "2026-01-01T00:00:00Z", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                 "ports": [{"containerPort": 80, "protocol": "TCP"}],
                                 "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}}],
                 "nodeName": "node-1"},
        "status": {"phase": "Running", "podIP": "10.0.0.7"}
    })
}

/// An envelope naming a kind no Kubernetes has.
fn unknown_kind_value() -> Vec<u8> {
    let type_meta = [&[0x0a, 2][..], b"v1", &[0x12, 5], b"Gizmo"].concat();
    [
        &b"k8s\0"[..],
        &[0x0a, type_meta.len() as u8],
        &type_meta,
        &[0x12, 0],
    ]
    .concat()
}

struct World {
    member: Member,
    _dir: tempfile::TempDir,
    snapshot: PathBuf,
    config: PathBuf,
    /// The revision of W1's first version.
    w1_first_rev: i64,
}

fn world() -> World {
    let member = Member::start_single();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("encryption.yaml");
    std::fs::write(&config, config_text()).unwrap();
    let keys = Keyring::from_config(config_text().as_bytes()).unwrap();
    let enc = |key: &str, provider: &str, name: &str| {
        keys.encrypt(
            key.as_bytes(),
            provider,
            name,
            &secret_proto(key.rsplit('/').next().unwrap(), "ns1"),
        )
        .unwrap()
    };
    let rt = common::rt();
    let mut c = common::member_client(&rt, &member);
    let mut corrupt = enc(S_CORRUPT, "aesgcm", "gcm1");
    *corrupt.last_mut().unwrap() ^= 0x01;
    let other_keys =
        Keyring::from_config(config_text().replace("gcm1", "gcm-retired").as_bytes()).unwrap();
    let unknown = other_keys
        .encrypt(
            S_UNKNOWN.as_bytes(),
            "aesgcm",
            "gcm-retired",
            &secret_proto("s-unknown-key", "ns1"),
        )
        .unwrap();
    let w1_first_rev = rt.block_on(async {
        let first = c.put(W1, widget_json("w1", 1), None).await.unwrap();
        c.put(W1, widget_json("w1", 2), None).await.unwrap();
        c.put(W1, widget_json("w1", 3), None).await.unwrap();
        c.put(W2, widget_cbor(), None).await.unwrap();
        let mut truncated = widget_cbor();
        truncated.truncate(truncated.len() - 5);
        c.put(BAD_CBOR, truncated, None).await.unwrap();
        c.put(BAD_JSON, &b"{\"kind\":\"Widget\",\"metadata\":"[..], None)
            .await
            .unwrap();
        let cw = serde_json::to_vec(
            &json!({"apiVersion": "example.com/v1", "kind": "ClusterWidget",
            "metadata": {"name": "cw1"}}),
        )
        .unwrap();
        c.put(CW1, cw, None).await.unwrap();
        c.put(S_CBC, enc(S_CBC, "aescbc", "cbc1"), None)
            .await
            .unwrap();
        c.put(S_GCM, enc(S_GCM, "aesgcm", "gcm1"), None)
            .await
            .unwrap();
        c.put(S_SB, enc(S_SB, "secretbox", "sb1"), None)
            .await
            .unwrap();
        c.put(S_CORRUPT, corrupt, None).await.unwrap();
        c.put(S_UNKNOWN, unknown, None).await.unwrap();
        c.put(S_OTHER_NS, secret_proto("s-other", "ns2"), None)
            .await
            .unwrap();
        c.put(POD, proto::encode(&pod()).unwrap(), None).await.unwrap();
        let mut truncated = proto::encode(&pod()).unwrap();
        truncated.truncate(truncated.len() / 2);
        c.put(BAD_TRUNC, truncated, None).await.unwrap();
        c.put(BAD_KIND, unknown_kind_value(), None).await.unwrap();
        let node = json!({"kind": "Node", "apiVersion": "v1", "metadata": {"name": "node-1",
            "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {"podCIDR": "10.0.0.0/24"}});
        c.put(NODE, proto::encode(&node).unwrap(), None).await.unwrap();
        let svc = json!({"kind": "Service", "apiVersion": "v1", "metadata": {"name": "web",
            "namespace": "ns1"}, "spec": {"ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}],
            "clusterIP": "10.96.0.10", "type": "ClusterIP"}});
        c.put(SVC, proto::encode(&svc).unwrap(), None).await.unwrap();
        let deploy = json!({"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "web",
            "namespace": "ns1"}, "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}});
        c.put(DEPLOY, proto::encode(&deploy).unwrap(), None).await.unwrap();
        // Events are written with an etcd lease (--event-ttl), as kube-apiserver does.
        let lease = c.lease_grant(3600, None).await.unwrap().id();
        let event = serde_json::to_vec(&json!({"kind": "Event", "apiVersion": "v1",
            "metadata": {"name": "w1.17a", "namespace": "ns1"}, "reason": "Scaled"}))
        .unwrap();
        c.put(EVENT, event, Some(PutOptions::new().with_lease(lease)))
            .await
            .unwrap();
        c.put("compact_rev_key", "3", None).await.unwrap();
        first.header().unwrap().revision()
    });
    let snapshot = dir.path().join("snap.db");
    common::save_snapshot(&rt, &mut c, &snapshot);
    World {
        member,
        _dir: dir,
        snapshot,
        config,
        w1_first_rev,
    }
}

fn config_text() -> String {
    config()
}

impl World {
    /// The source flags: the live member, or the snapshot taken from it.
    fn sources(&self) -> Vec<(&'static str, Vec<String>)> {
        vec![
            ("live", vec!["--endpoints".into(), self.member.endpoint()]),
            (
                "snapshot",
                vec!["--snapshot".into(), self.snapshot.display().to_string()],
            ),
        ]
    }

    fn run(&self, source: &[String], args: &[&str]) -> Run {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend(source.iter().cloned());
        common::run_cmd(common::revkeeper().args(&all))
    }
}

fn json_of(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {r:?}"))
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn get_decodes_json_cbor_and_encrypted_objects_from_live_and_snapshot() {
    let w = world();
    let cfg = w.config.display().to_string();
    for (what, src) in w.sources() {
        // A custom resource listing: JSON and CBOR objects, two broken values reported by key.
        let r = w.run(
            &src,
            &["get", "widgets.example.com", "-n", "ns1", "-o", "json"],
        );
        assert_eq!(r.code, 1, "{what}: {r:?}");
        let list = json_of(&r);
        assert_eq!(
            (list["kind"].as_str(), list["apiVersion"].as_str()),
            (Some("List"), Some("v1"))
        );
        assert_eq!(names(&list), ["w1", "w2"], "{what}");
        let w1 = &list["items"][0];
        assert_eq!(w1["spec"]["replicas"], 3, "{what}");
        let keys: Vec<&String> = w1.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["apiVersion", "kind", "metadata", "spec"],
            "JSON keeps stored order"
        );
        assert_eq!(
            w1["metadata"]["resourceVersion"],
            (w.w1_first_rev + 2).to_string()
        );
        let w2 = &list["items"][1];
        assert_eq!(
            w2["spec"],
            json!({"blob": "AAEC", "ratio": 0.25, "replicas": 5}),
            "{what}"
        );
        assert!(
            r.stderr.contains(&format!("{BAD_CBOR}: cbor: ")),
            "{what}: {r:?}"
        );
        assert!(
            r.stderr.contains(&format!("{BAD_JSON}: json: ")),
            "{what}: {r:?}"
        );
        assert_eq!(
            r.last_err_line(),
            "revkeeper: 2 of 4 keys could not be decoded",
            "{what}"
        );

        // One object as YAML (sorted keys), by <group>/<plural>.
        let r = w.run(
            &src,
            &[
                "get",
                "example.com/widgets",
                "w2",
                "-n",
                "ns1",
                "-o",
                "yaml",
            ],
        );
        assert_eq!(r.code, 0, "{what}: {r:?}");
        assert!(
            r.stdout
                .starts_with("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n"),
            "{r:?}"
        );
        let y: Value = serde_norway::from_str(&r.stdout).unwrap();
        assert_eq!(y["spec"]["replicas"], 5);

        // Encrypted Secrets: every provider decrypts; a corrupt value and an unknown key are
        // named; the other namespace is not listed.
        let r = w.run(
            &src,
            &[
                "get",
                "secrets",
                "-n",
                "ns1",
                "-o",
                "json",
                "--encryption-config",
                &cfg,
            ],
        );
        assert_eq!(r.code, 1, "{what}: {r:?}");
        let list = json_of(&r);
        assert_eq!(names(&list), ["s-cbc", "s-gcm", "s-sb"], "{what}");
        for item in list["items"].as_array().unwrap() {
            let name = item["metadata"]["name"].as_str().unwrap();
            assert_eq!(item["data"]["password"], B64.encode(format!("pw-{name}")));
        }
        assert!(
            r.stderr.contains(&format!(
                "{S_CORRUPT}: cannot decrypt with aesgcm key gcm1: authentication failed"
            )),
            "{what}: {r:?}"
        );
        assert!(
            r.stderr.contains(&format!("{S_UNKNOWN}: value is encrypted with aesgcm key gcm-retired, which the encryption config does not have")),
            "{what}: {r:?}"
        );
        assert_eq!(
            r.last_err_line(),
            "revkeeper: 2 of 5 keys could not be decoded"
        );

        // Without the config: a clear error naming key and provider.
        let r = w.run(&src, &["get", "secret", "s-gcm", "-n", "ns1"]);
        assert_eq!(r.code, 1, "{what}: {r:?}");
        assert!(
            r.last_err_line().contains(&format!(
                "{S_GCM}: value is encrypted with aesgcm key gcm1; pass --encryption-config FILE"
            )),
            "{what}: {r:?}"
        );

        // -A lists every namespace with a NAMESPACE column; the table has kubectl's columns,
        // and --show-etcd adds how each value is stored.
        let r = w.run(
            &src,
            &[
                "get",
                "secrets",
                "-A",
                "--encryption-config",
                &cfg,
                "-o",
                "wide",
                "--show-etcd",
            ],
        );
        assert_eq!(r.code, 1, "{what}: {r:?}");
        let lines: Vec<&str> = r.stdout.lines().collect();
        let headers: Vec<&str> = lines[0].split_whitespace().collect();
        assert_eq!(
            headers,
            [
                "NAMESPACE",
                "NAME",
                "TYPE",
                "DATA",
                "AGE",
                "ENCODING",
                "SIZE",
                "REVISION"
            ],
            "{r:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("ns2") && l.contains("s-other") && l.contains(" protobuf ")),
            "{r:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("s-gcm") && l.contains("encrypted:aesgcm:gcm1+protobuf")),
            "{r:?}"
        );

        // Protobuf objects: a Pod decodes to what was encoded; broken envelopes are named.
        let r = w.run(&src, &["get", "pods", "-n", "ns1", "-o", "json"]);
        assert_eq!(r.code, 1, "{what}: {r:?}");
        let list = json_of(&r);
        assert_eq!(names(&list), ["web-1"], "{what}");
        let got = &list["items"][0];
        assert_eq!(
            got["spec"]["containers"][0]["resources"],
            pod()["spec"]["containers"][0]["resources"]
        );
        assert_eq!(got["status"], pod()["status"]);
        assert_eq!(got["metadata"]["labels"], json!({"app": "web"}));
        assert!(
            r.stderr.contains(&format!("{BAD_TRUNC}: protobuf: ")),
            "{what}: {r:?}"
        );
        assert!(
            r.stderr
                .contains(&format!("{BAD_KIND}: protobuf: unknown kind v1 Gizmo")),
            "{what}: {r:?}"
        );
        assert_eq!(
            r.last_err_line(),
            "revkeeper: 2 of 3 keys could not be decoded"
        );
        // Special prefixes: nodes are minions, services are services/specs.
        let r = w.run(&src, &["get", "no", "-o", "name"]);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (0, "node/node-1\n"),
            "{what}: {r:?}"
        );
        let r = w.run(&src, &["get", "svc", "web", "-n", "ns1", "-o", "json"]);
        assert_eq!(r.code, 0, "{what}: {r:?}");
        assert_eq!(json_of(&r)["spec"]["ports"][0]["targetPort"], 8080);
        let r = w.run(&src, &["get", "deploy", "-n", "ns1", "-o", "name"]);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (0, "deployment.apps/web\n"),
            "{what}: {r:?}"
        );

        // Cluster-scoped custom resources, -o name.
        let r = w.run(&src, &["get", "clusterwidgets.example.com", "-o", "name"]);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (0, "clusterwidget.example.com/cw1\n"),
            "{what}: {r:?}"
        );

        // Events (on an etcd lease).
        let r = w.run(&src, &["get", "ev", "-n", "ns1", "-o", "jsonl"]);
        assert_eq!(r.code, 0, "{what}: {r:?}");
        assert_eq!(
            serde_json::from_str::<Value>(r.stdout.trim()).unwrap()["reason"],
            "Scaled"
        );

        // --rev reads the first version; --history every kept one.
        let rev = w.w1_first_rev.to_string();
        let r = w.run(
            &src,
            &[
                "get",
                "widgets.example.com",
                "w1",
                "-n",
                "ns1",
                "-o",
                "json",
                "--rev",
                &rev,
            ],
        );
        assert_eq!(r.code, 0, "{what}: {r:?}");
        assert_eq!(json_of(&r)["spec"]["replicas"], 1);
        let r = w.run(&src, &["get", "--key", W1, "--history", "-o", "json"]);
        assert_eq!(r.code, 0, "{what}: {r:?}");
        let h = json_of(&r);
        let replicas: Vec<i64> = h["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["spec"]["replicas"].as_i64().unwrap())
            .collect();
        assert_eq!(replicas, [1, 2, 3], "{what}");
        assert_eq!(h["items"][0]["metadata"]["resourceVersion"], rev);
        let r = w.run(
            &src,
            &["get", "widgets.example.com", "w1", "-n", "ns1", "--history"],
        );
        assert_eq!(r.code, 0, "{what}: {r:?}");
        assert_eq!(
            r.stdout.lines().filter(|l| l.contains(" PUT ")).count(),
            3,
            "{r:?}"
        );

        // Raw etcdctl shapes stay; --decode turns them into objects.
        let r = w.run(
            &src,
            &[
                "get",
                "--prefix",
                "/registry/example.com/widgets/ns1/w",
                "-w",
                "json",
            ],
        );
        assert_eq!(r.code, 0, "{what}: {r:?}");
        assert_eq!(json_of(&r)["count"], 2);
        let r = w.run(
            &src,
            &[
                "get",
                "--prefix",
                "/registry/example.com/widgets/ns1/w",
                "--decode",
                "-o",
                "json",
            ],
        );
        assert_eq!(r.code, 0, "{what}: {r:?}");
        assert_eq!(names(&json_of(&r)), ["w1", "w2"]);
        let r = w.run(
            &src,
            &["get", "--key", "compact_rev_key", "--decode", "-o", "yaml"],
        );
        assert_eq!(r.code, 1, "{what}: {r:?}");
        assert!(
            r.last_err_line()
                .contains("compact_rev_key: not a Kubernetes object (text, 1 bytes)"),
            "{r:?}"
        );

        // Missing objects and unknown resources.
        let r = w.run(&src, &["get", "pods", "nope"]);
        assert_eq!(r.code, 1, "{what}: {r:?}");
        assert!(r.last_err_line().contains("not found"), "{r:?}");
        let r = w.run(&src, &["get", "gizmos"]);
        assert_eq!(r.code, 3, "{what}: {r:?}");
    }
}

#[test]
fn decode_dump_and_analyze_work_on_both_sources() {
    let w = world();
    let cfg = w.config.display().to_string();
    let tmp = tempfile::tempdir().unwrap();

    // decode: etcdctl output with its key line (the AAD of aesgcm) and trailing newline.
    let value = read_live_value(&w, S_GCM);
    let printed = tmp.path().join("printed");
    std::fs::write(
        &printed,
        [format!("{S_GCM}\n").as_bytes(), &value, b"\n"].concat(),
    )
    .unwrap();
    let r = common::run(&[
        "decode",
        printed.to_str().unwrap(),
        "--encryption-config",
        &cfg,
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(json_of(&r)["metadata"]["name"], "s-gcm");
    // Without the key line, aesgcm needs --key.
    let bare = tmp.path().join("bare");
    std::fs::write(&bare, [&value[..], b"\n"].concat()).unwrap();
    let r = common::run(&[
        "decode",
        bare.to_str().unwrap(),
        "--encryption-config",
        &cfg,
    ]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.last_err_line().contains("pass --key KEY"), "{r:?}");
    let r = common::run(&[
        "decode",
        bare.to_str().unwrap(),
        "--encryption-config",
        &cfg,
        "--key",
        S_GCM,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("name: s-gcm\n"), "{r:?}");
    // stdin, CBOR.
    let mut child = common::revkeeper()
        .args(["decode", "-", "-o", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&widget_cbor())
        .unwrap();
    let r = Run::from(child.wait_with_output().unwrap());
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(json_of(&r)["spec"]["blob"], "AAEC");

    for (what, src) in w.sources() {
        let out = tmp.path().join(format!("dump-{what}"));
        let r = w.run(
            &src,
            &["dump", out.to_str().unwrap(), "--encryption-config", &cfg],
        );
        assert_eq!(r.code, 1, "{what}: {r:?}");
        for bad in [
            BAD_CBOR, BAD_JSON, S_CORRUPT, S_UNKNOWN, BAD_TRUNC, BAD_KIND,
        ] {
            assert!(
                r.stderr.contains(&format!("{bad}: ")),
                "{what}: {bad}: {r:?}"
            );
        }
        assert_eq!(
            r.last_err_line(),
            "revkeeper: 6 of 18 keys could not be decoded",
            "{r:?}"
        );
        let files = list_files(&out);
        assert_eq!(
            files,
            [
                "deployments/ns1/web.yaml",
                "events/ns1/w1.17a.yaml",
                "example.com/clusterwidgets/cw1.yaml",
                "example.com/widgets/ns1/w1.yaml",
                "example.com/widgets/ns1/w2.yaml",
                "nodes/node-1.yaml",
                "pods/ns1/web-1.yaml",
                "secrets/ns1/s-cbc.yaml",
                "secrets/ns1/s-gcm.yaml",
                "secrets/ns1/s-sb.yaml",
                "secrets/ns2/s-other.yaml",
                "services/ns1/web.yaml",
            ],
            "{what}"
        );
        let secret = out.join("secrets/ns1/s-sb.yaml");
        assert_eq!(
            std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let y: Value = serde_norway::from_slice(&std::fs::read(&secret).unwrap()).unwrap();
        assert_eq!(y["data"]["password"], B64.encode("pw-s-sb"));
        let p: Value =
            serde_norway::from_slice(&std::fs::read(out.join("pods/ns1/web-1.yaml")).unwrap())
                .unwrap();
        assert_eq!(p["spec"]["nodeName"], "node-1");
        // A second dump into the same directory is refused.
        let again = w.run(&src, &["dump", out.to_str().unwrap()]);
        assert_eq!(again.code, 3, "{again:?}");
        assert!(again.last_err_line().contains("is not empty"), "{again:?}");

        let r = w.run(&src, &["analyze", "-w", "json"]);
        assert_eq!(r.code, 0, "{what}: {r:?}");
        let a = json_of(&r);
        let by: std::collections::HashMap<&str, &Value> = a["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["resource"].as_str().unwrap(), s))
            .collect();
        let widgets = by["example.com/widgets"];
        assert_eq!(widgets["objects"], 4, "{what}");
        assert_eq!(widgets["revisions"], 6, "{what}: w1 has three");
        assert_eq!(
            widgets["encodings"],
            json!({"cbor": 2, "json": 2}),
            "{what}"
        );
        assert_eq!(
            by["secrets"]["encodings"],
            json!({"encrypted:aescbc:cbc1": 1, "encrypted:aesgcm:gcm-retired": 1,
                   "encrypted:aesgcm:gcm1": 2, "encrypted:secretbox:sb1": 1, "protobuf": 1}),
            "{what}"
        );
        assert_eq!(
            a["most_history"][0],
            json!({"key": W1, "revisions": 3}),
            "{what}"
        );
        let r = w.run(&src, &["analyze"]);
        assert_eq!(r.code, 0, "{what}: {r:?}");
        assert!(r.stdout.starts_with("RESOURCE"), "{r:?}");
        assert!(r.stdout.contains("MOST HISTORY"), "{r:?}");
    }
}

fn read_live_value(w: &World, key: &str) -> Vec<u8> {
    let rt = common::rt();
    let mut c = common::member_client(&rt, &w.member);
    rt.block_on(async { c.get(key, None).await.unwrap().kvs()[0].value().to_vec() })
}

fn list_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}
