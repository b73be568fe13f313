//! Every live key of `../shared/fixtures/cluster-dev/cluster.db` (values written by the
//! Kubernetes Go libraries, Secrets encrypted with four keys) decodes with the fixture's
//! encryption config to the encoding and object `objects.jsonl` records.

mod common;

use std::collections::HashMap;

use revkeeper::source::{KeyRange, RangeQuery, SnapshotSource, Source};
use revkeeper_formats::k8s::{Keyring, decode_value, set_resource_version, write_value_json};
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
    assert_eq!(objects_compared, seen);
}

#[test]
fn analyze_counts_match_the_fixture_truth() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap();
    let db = dir.join("cluster.db");
    let r = common::run(&["analyze", "--snapshot", db.to_str().unwrap(), "-w", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let mut counts = serde_json::Map::new();
    let mut encodings: std::collections::BTreeMap<String, u64> = Default::default();
    for s in report["resources"].as_array().unwrap() {
        let resource = s["resource"].as_str().unwrap();
        let name = if resource == revkeeper_formats::k8s::resources::OTHER_KEYS {
            "compact_rev_key".to_string() // the only key outside /registry in this fixture
        } else {
            format!("/registry/{resource}/")
        };
        counts.insert(name, s["keys"].clone());
        let not_objects = s["keys"].as_u64().unwrap() - s["objects"].as_u64().unwrap();
        let expected = u64::from(resource == revkeeper_formats::k8s::resources::OTHER_KEYS);
        assert_eq!(
            not_objects, expected,
            "only compact_rev_key is not an object: {s}"
        );
        for (label, n) in s["encodings"].as_object().unwrap() {
            let label = if label == "text" {
                "raw"
            } else {
                label.as_str()
            };
            *encodings.entry(label.to_string()).or_default() += n.as_u64().unwrap();
        }
    }
    assert_eq!(Value::Object(counts), truth["counts_by_prefix"]);
    assert_eq!(
        serde_json::to_value(encodings).unwrap(),
        truth["value_encodings"]
    );
    assert_eq!(report["keys"], truth["keys"]["live"]);
    assert_eq!(
        report["objects"].as_u64().unwrap(),
        truth["keys"]["live"].as_u64().unwrap() - 1,
        "compact_rev_key is a key, not an object"
    );
    // Every entry of the key bucket is a kept revision.
    assert_eq!(
        report["revisions"],
        truth["snapshot"]["bucket_entries"]["key"]
    );
}

/// The JSON-lines fast path (protobuf straight to text, resourceVersion written by the walker)
/// prints exactly what the `Value` path prints, key order included, for every live key.
#[test]
fn json_text_path_equals_the_value_path() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let keys = Keyring::load(&dir.join("encryption-config.yaml")).expect("fixture config");
    let source = SnapshotSource::open(&dir.join("cluster.db")).unwrap();
    let (mut compared, mut failures) = (0, Vec::new());
    let mut text = b"previous line\n".to_vec();
    source
        .scan(&RangeQuery::latest(KeyRange::prefix(b"")), &mut |kv| {
            let key = String::from_utf8_lossy(kv.key).into_owned();
            text.truncate(b"previous line\n".len());
            let written =
                write_value_json(kv.key, kv.value, &keys, Some(kv.mod_revision), &mut text)
                    .unwrap_or_else(|e| panic!("{key}: {e}"));
            let mut want = decode_value(kv.key, kv.value, &keys).unwrap();
            assert_eq!(written.encoding, want.encoding, "{key}");
            assert_eq!(written.unknown_fields, want.unknown_fields, "{key}");
            let Some(object) = &mut want.object else {
                assert!(!written.object && text == b"previous line\n", "{key}");
                return Ok(());
            };
            set_resource_version(object, kv.mod_revision);
            let got: Value = serde_json::from_slice(&text[b"previous line\n".len()..])
                .unwrap_or_else(|e| panic!("{key}: not JSON: {e}"));
            compared += 1;
            if serde_json::to_string(&got).unwrap() != serde_json::to_string(object).unwrap() {
                failures.push(key);
            }
            Ok(())
        })
        .unwrap();
    assert!(compared > 2000, "{compared} objects compared");
    assert!(failures.is_empty(), "differ: {failures:?}");
}

/// `get --prefix --decode -o jsonl` (decoded on every core) prints every object once, in key
/// order, as objects.jsonl records it, with the key's mod_revision as resourceVersion.
#[test]
fn get_decode_jsonl_prints_every_object_in_key_order() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let db = dir.join("cluster.db");
    let config = dir.join("encryption-config.yaml");
    let r = common::run(&[
        "get",
        "--prefix",
        "/registry/",
        "--decode",
        "-o",
        "jsonl",
        "--snapshot",
        db.to_str().unwrap(),
        "--encryption-config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let expected: Vec<Value> = std::fs::read_to_string(dir.join("objects.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["key"].as_str().unwrap().starts_with("/registry/") && v["object"].is_object())
        .collect();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), expected.len());
    for (line, want) in lines.iter().zip(&expected) {
        let mut got: Value = serde_json::from_str(line).unwrap();
        let key = want["key"].as_str().unwrap();
        let meta = got["metadata"].as_object_mut().unwrap();
        let rv = meta.remove("resourceVersion");
        assert_eq!(
            rv,
            Some(Value::String(want["mod_revision"].to_string())),
            "{key}"
        );
        assert!(same(&got, &want["object"]), "{key}");
    }
}

/// The shared batch pipeline hands results back in key order whatever the worker count, and an
/// error from the taker stops the scan and the workers and is returned.
#[test]
fn batches_come_back_in_key_order_and_stop_on_error() {
    use revkeeper::decode::batches::for_each_in_order;
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let source = SnapshotSource::open(&dir.join("cluster.db")).unwrap();
    let query = RangeQuery::latest(KeyRange::prefix(b""));
    let want: Vec<Vec<u8>> = source
        .range(&query)
        .unwrap()
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert!(want.len() > 2000);
    let keys_of = |batch: &[revkeeper::source::KeyView<'_>]| {
        batch.iter().map(|kv| kv.key.to_vec()).collect::<Vec<_>>()
    };
    for workers in [1, 3] {
        let mut got = Vec::new();
        for_each_in_order(&source, &query, workers, &|_| true, &keys_of, &mut |keys| {
            got.extend(keys);
            Ok(())
        })
        .unwrap();
        assert_eq!(got, want, "{workers} workers");
    }
    let mut taken = 0;
    let err = for_each_in_order(&source, &query, 2, &|_| true, &keys_of, &mut |_| {
        taken += 1;
        if taken == 2 {
            return Err(revkeeper::Error::general("the reader went away"));
        }
        Ok(())
    })
    .unwrap_err();
    assert!(err.to_string().contains("the reader went away"), "{err}");
    assert_eq!(taken, 2);
}
