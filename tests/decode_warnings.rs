//! Objects written by a Kubernetes newer than the vendored schema (protobuf fields it does not
//! know) still print, and every decoding command says so in ONE warning line per run, naming an
//! example key — from a real etcd, live and through a snapshot taken from it.

mod common;

use common::Run;
use revkeeper_formats::k8s::proto;
use revkeeper_harness::Member;
use serde_json::{Value, json};

const PLAIN: &str = "/registry/configmaps/ns1/a-plain";
const NEWER_B: &str = "/registry/configmaps/ns1/b-newer";
const NEWER_C: &str = "/registry/configmaps/ns1/c-newer";

fn config_map(name: &str) -> Vec<u8> {
    proto::encode(&json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "ns1", "uid": format!("uid-{name}")},
        "data": {"k": "v"}
    }))
    .unwrap()
}

/// `value` with `extra` appended inside the envelope's `raw` (field 2): the object then carries
/// fields after the ones the schema knows. Walks the envelope's length-delimited fields.
fn with_extra_field(value: &[u8], extra: &[u8]) -> Vec<u8> {
    fn varint(b: &[u8], at: &mut usize) -> usize {
        let (mut v, mut shift) = (0usize, 0);
        loop {
            let byte = b[*at];
            *at += 1;
            v |= ((byte & 0x7f) as usize) << shift;
            if byte < 0x80 {
                return v;
            }
            shift += 7;
        }
    }
    fn put_varint(out: &mut Vec<u8>, mut v: usize) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    let mut out = proto::MAGIC.to_vec();
    let mut at = proto::MAGIC.len();
    while at < value.len() {
        let tag = varint(value, &mut at);
        assert_eq!(tag & 7, 2, "envelope fields are length-delimited");
        let len = varint(value, &mut at);
        let mut field = value[at..at + len].to_vec();
        at += len;
        if tag >> 3 == 2 {
            field.extend_from_slice(extra);
        }
        put_varint(&mut out, tag);
        put_varint(&mut out, field.len());
        out.extend_from_slice(&field);
    }
    out
}

/// ConfigMap field 99 as a varint and field 100 as a string: numbers no Kubernetes release uses.
fn newer_config_map(name: &str) -> Vec<u8> {
    with_extra_field(&config_map(name), b"\x98\x06\x01\xa2\x06\x03new")
}

fn warnings(r: &Run) -> Vec<&str> {
    r.stderr
        .lines()
        .filter(|l| l.contains("newer than"))
        .collect()
}

fn expected(n: &str, key: &str) -> String {
    format!(
        "{n} fields newer than revkeeper's Kubernetes 1.35 schema; they were skipped: e.g. {key}"
    )
}

fn run(args: &[&str], source: &[String]) -> Run {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend(source.iter().cloned());
    common::run_cmd(common::revkeeper().args(&all))
}

#[test]
fn newer_fields_warn_once_per_run_and_objects_still_print() {
    let member = Member::start_single();
    let rt = common::rt();
    let mut c = common::member_client(&rt, &member);
    rt.block_on(async {
        c.put(PLAIN, config_map("a-plain"), None).await.unwrap();
        c.put(NEWER_C, newer_config_map("c-newer"), None)
            .await
            .unwrap();
        c.put(NEWER_B, newer_config_map("b-newer"), None)
            .await
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snap.db");
    common::save_snapshot(&rt, &mut c, &snapshot);
    let sources = [
        ("live", vec!["--endpoints".to_string(), member.endpoint()]),
        (
            "snapshot",
            vec!["--snapshot".to_string(), snapshot.display().to_string()],
        ),
    ];

    for (what, src) in &sources {
        // A listing: every object prints, the known fields of the newer ones intact.
        let r = run(&["get", "configmaps", "-n", "ns1", "-o", "json"], src);
        assert_eq!(r.code, 0, "{what}: {r:?}");
        let list: Value = serde_json::from_str(&r.stdout).unwrap();
        let items = list["items"].as_array().unwrap();
        let names: Vec<&str> = items
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a-plain", "b-newer", "c-newer"], "{what}");
        assert_eq!(items[1]["data"], json!({"k": "v"}), "{what}");
        assert_eq!(items[1]["metadata"]["uid"], "uid-b-newer", "{what}");
        let w = warnings(&r);
        assert_eq!(w.len(), 1, "{what}: one line per run: {r:?}");
        assert!(
            w[0].ends_with(&expected("2 objects carry", NEWER_B)),
            "{what}: {r:?}"
        );

        // One object.
        let r = run(
            &["get", "configmaps", "c-newer", "-n", "ns1", "-o", "yaml"],
            src,
        );
        assert_eq!(r.code, 0, "{what}: {r:?}");
        assert!(r.stdout.contains("name: c-newer\n"), "{what}: {r:?}");
        assert_eq!(warnings(&r).len(), 1, "{what}: {r:?}");
        assert!(
            warnings(&r)[0].ends_with(&expected("1 object carries", NEWER_C)),
            "{what}: {r:?}"
        );

        // An object the schema fully knows: no warning.
        let r = run(
            &["get", "configmaps", "a-plain", "-n", "ns1", "-o", "yaml"],
            src,
        );
        assert_eq!(r.code, 0, "{what}: {r:?}");
        assert!(r.stdout.contains("name: a-plain\n"), "{what}: {r:?}");
        assert!(warnings(&r).is_empty(), "{what}: {r:?}");

        // dump, with several decoding threads: one line for the whole run, every file written.
        let out = dir.path().join(format!("dump-{what}"));
        let r = run(&["dump", out.to_str().unwrap(), "--jobs", "3"], src);
        assert_eq!(r.code, 0, "{what}: {r:?}");
        for name in ["a-plain", "b-newer", "c-newer"] {
            let yaml =
                std::fs::read_to_string(out.join(format!("configmaps/ns1/{name}.yaml"))).unwrap();
            assert!(yaml.contains(&format!("name: {name}\n")), "{what}: {yaml}");
        }
        let w = warnings(&r);
        assert_eq!(w.len(), 1, "{what}: {r:?}");
        assert!(
            w[0].ends_with(&expected("2 objects carry", NEWER_B)),
            "{what}: {r:?}"
        );
    }

    // decode: one value, named by its key.
    let file = dir.path().join("value");
    std::fs::write(&file, newer_config_map("c-newer")).unwrap();
    let r = common::run(&["decode", file.to_str().unwrap(), "--key", NEWER_C]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("name: c-newer\n"), "{r:?}");
    assert_eq!(warnings(&r).len(), 1, "{r:?}");
    assert!(
        warnings(&r)[0].ends_with(&expected("1 object carries", NEWER_C)),
        "{r:?}"
    );
}
