//! Every live key of `../shared/fixtures/cluster-dev/cluster.db` (values written by the
//! Kubernetes Go libraries, Secrets encrypted with four keys) decodes with the fixture's
//! encryption config to the encoding and object `objects.jsonl` records.

mod common;

use std::collections::HashMap;

use revkeeper::source::{KeyRange, RangeQuery, SnapshotSource, Source};
use revkeeper_formats::k8s::{Keyring, decode_value, proto};
use serde_json::Value;

/// JSON equality where a null field and an absent field are the same.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().all(|k| {
                same(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                )
            })
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[test]
fn cluster_dev_decodes_like_objects_jsonl() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let keys = Keyring::load(&dir.join("encryption-config.yaml")).expect("fixture config");
    let expected: HashMap<String, Value> = std::fs::read_to_string(dir.join("objects.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["key"].as_str().unwrap().to_string(), v)
        })
        .collect();
    // Until the protobuf decoder lands, protobuf objects are checked for their encoding only.
    let proto_built = !matches!(proto::decode(b"k8s\0"), Err(proto::ProtoError::NotBuilt));

    let source = SnapshotSource::open(&dir.join("cluster.db")).unwrap();
    let mut seen = 0;
    let mut objects_compared = 0;
    let mut failures = Vec::new();
    source
        .scan(&RangeQuery::latest(KeyRange::prefix(b"")), &mut |kv| {
            let key = String::from_utf8_lossy(kv.key).into_owned();
            let want = expected
                .get(&key)
                .unwrap_or_else(|| panic!("{key} is live in cluster.db but not in objects.jsonl"));
            seen += 1;
            let want_label = match want["encoding"].as_str().unwrap() {
                "raw" => "text",
                other => other,
            };
            match decode_value(kv.key, kv.value, &keys) {
                Ok(d) => {
                    if d.encoding.label() != want_label {
                        failures.push(format!(
                            "{key}: encoding {} != {want_label}",
                            d.encoding.label()
                        ));
                    }
                    let mut got = d.object.unwrap_or(Value::Null);
                    // objects.jsonl has the objects as stored: no resourceVersion.
                    if let Some(m) = got.get_mut("metadata").and_then(Value::as_object_mut) {
                        m.remove("resourceVersion");
                    }
                    objects_compared += 1;
                    if !same(&got, &want["object"]) {
                        failures.push(format!("{key}: object differs"));
                    }
                }
                Err(revkeeper_formats::k8s::ValueError::Proto(proto::ProtoError::NotBuilt))
                    if !proto_built =>
                {
                    // The encoding is still checked: the envelope was opened (decrypted) first.
                    let label = if kv.value.starts_with(b"k8s:enc:") {
                        let (env, _) = keys.decrypt(kv.key, kv.value).unwrap();
                        format!("encrypted:{}:{}+protobuf", env.provider, env.key_name)
                    } else {
                        "protobuf".into()
                    };
                    if label != want_label {
                        failures.push(format!("{key}: encoding {label} != {want_label}"));
                    }
                }
                Err(e) => failures.push(format!("{key}: {e}")),
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(
        seen,
        expected.len(),
        "live keys in cluster.db vs objects.jsonl"
    );
    assert!(
        failures.is_empty(),
        "{} of {seen} keys differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    if !proto_built {
        eprintln!(
            "notice: protobuf decoder not built yet; compared {objects_compared} non-protobuf objects, encodings of all {seen}"
        );
    }
}
