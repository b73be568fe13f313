//! Conformance of the protobuf decoder (`revkeeper_formats::k8s::proto`) against reference data
//! outside the repository, `../shared/fixtures/`:
//!
//! * `k8s-api/{HEAD,v1.33.0}`: every built-in type as kube-apiserver stores it (`.pb`) and as the
//!   Go JSON serializer prints it (`.json`), from k8s.io/api's round-trip test data;
//! * `cluster-dev/cluster.db`: a real etcd snapshot whose live objects are listed, decoded by
//!   the Go libraries, in `objects.jsonl`.
//!
//! Comparison is semantic ([`diff`]): object key order is ignored, `null` equals absent, and
//! numbers compare by value (`1` = `1.0`). Nothing else is normalised.
//!
//! Without the fixtures the tests print a notice and pass, or fail when `REVKEEPER_REQUIRE_ALL=1`
//! (see `revkeeper_harness::require`); with them, any difference fails.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use revkeeper_formats::bbolt::Db;
use revkeeper_formats::k8s::proto;
use revkeeper_harness::require_fixture;
use serde_json::Value;

mod stored_values;
use stored_values::{
    LENGTH_BEYOND_VALUE, all_stored_values, damaged_values, deeply_nested, label, live_values,
};

/// Fixtures the vendored Kubernetes 1.35 schema cannot reproduce; the test fails for any OTHER
/// file, and also when one of these starts passing (so the list only shrinks). They are:
/// * HEAD (1.37) types and fields newer than 1.35: unknown kinds (MutatingAdmissionPolicy v1,
///   PodGroup, Workload, EvictionRequest, ...) and new fields, skipped as unknown field numbers
///   (emptyDir.mode, conditions[].observedGeneration, Node spec.podPreemptionPolicy, ...);
/// * v1.33.0's resource v1alpha3 DeviceTaintRule, whose 1.35 version dropped a field (the
///   legacy protos only serve kinds the current release lacks);
/// * v1.33.0 CSINode `after_roundtrip` files, whose `.json` was printed by HEAD (new `status`);
/// * `WatchEvent`, which has no TypeMeta in its envelope (not a storage object).
const KNOWN_NEWER_THAN_SCHEMA: &[&str] = &[
    "HEAD/admission.k8s.io.v1.AdmissionReview.pb",
    "HEAD/admission.k8s.io.v1beta1.AdmissionReview.pb",
    "HEAD/admissionregistration.k8s.io.v1.MutatingAdmissionPolicy.pb",
    "HEAD/admissionregistration.k8s.io.v1.MutatingAdmissionPolicyBinding.pb",
    "HEAD/apps.v1.DaemonSet.pb",
    "HEAD/apps.v1.Deployment.pb",
    "HEAD/apps.v1.ReplicaSet.pb",
    "HEAD/apps.v1.StatefulSet.pb",
    "HEAD/apps.v1beta1.Deployment.pb",
    "HEAD/apps.v1beta1.StatefulSet.pb",
    "HEAD/apps.v1beta2.DaemonSet.pb",
    "HEAD/apps.v1beta2.Deployment.pb",
    "HEAD/apps.v1beta2.ReplicaSet.pb",
    "HEAD/apps.v1beta2.StatefulSet.pb",
    "HEAD/authentication.k8s.io.v1.TokenRequest.pb",
    "HEAD/autoscaling.v2.HorizontalPodAutoscaler.pb",
    "HEAD/batch.v1.CronJob.pb",
    "HEAD/batch.v1.Job.pb",
    "HEAD/batch.v1beta1.CronJob.pb",
    "HEAD/certificates.k8s.io.v1.ClusterTrustBundle.pb",
    "HEAD/certificates.k8s.io.v1.PodCertificateRequest.pb",
    "HEAD/certificates.k8s.io.v1beta1.PodCertificateRequest.pb",
    "HEAD/core.v1.ListOptions.pb",
    "HEAD/core.v1.Node.pb",
    "HEAD/core.v1.PersistentVolumeClaim.pb",
    "HEAD/core.v1.Pod.pb",
    "HEAD/core.v1.PodTemplate.pb",
    "HEAD/core.v1.ReplicationController.pb",
    "HEAD/core.v1.Status.pb",
    "HEAD/core.v1.WatchEvent.pb",
    "HEAD/extensions.v1beta1.DaemonSet.pb",
    "HEAD/extensions.v1beta1.Deployment.pb",
    "HEAD/extensions.v1beta1.ReplicaSet.pb",
    "HEAD/lifecycle.k8s.io.v1alpha1.Eviction.pb",
    "HEAD/lifecycle.k8s.io.v1alpha1.EvictionRequest.pb",
    "HEAD/resource.k8s.io.v1.DeviceTaintRule.pb",
    "HEAD/resource.k8s.io.v1.ResourceClaim.pb",
    "HEAD/resource.k8s.io.v1.ResourceSlice.pb",
    "HEAD/resource.k8s.io.v1alpha3.ResourcePoolStatusRequest.pb",
    "HEAD/resource.k8s.io.v1beta1.ResourceClaim.pb",
    "HEAD/resource.k8s.io.v1beta1.ResourceSlice.pb",
    "HEAD/resource.k8s.io.v1beta2.DeviceTaintRule.pb",
    "HEAD/resource.k8s.io.v1beta2.ResourceClaim.pb",
    "HEAD/resource.k8s.io.v1beta2.ResourceSlice.pb",
    "HEAD/scheduling.k8s.io.v1alpha3.CompositePodGroup.pb",
    "HEAD/scheduling.k8s.io.v1alpha3.PodGroup.pb",
    "HEAD/scheduling.k8s.io.v1alpha3.Workload.pb",
    "HEAD/scheduling.k8s.io.v1beta1.PodGroup.pb",
    "HEAD/scheduling.k8s.io.v1beta1.Workload.pb",
    "HEAD/storage.k8s.io.v1.CSIDriver.pb",
    "HEAD/storage.k8s.io.v1.CSINode.pb",
    "HEAD/storage.k8s.io.v1beta1.CSIDriver.pb",
    "HEAD/storage.k8s.io.v1beta1.CSINode.pb",
    "HEAD/storagemigration.k8s.io.v1.StorageVersionMigration.pb",
    "v1.33.0/core.v1.WatchEvent.pb",
    "v1.33.0/resource.k8s.io.v1alpha3.DeviceTaintRule.pb",
    "v1.33.0/storage.k8s.io.v1.CSINode.after_roundtrip.pb",
    "v1.33.0/storage.k8s.io.v1beta1.CSINode.after_roundtrip.pb",
];

/// The fixture pairs (`.pb`, `.json`) of one k8s-api version directory.
fn k8s_api_pairs(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let pb = entry.unwrap().path();
        if pb.extension().is_some_and(|e| e == "pb") {
            let json = pb.with_extension("json");
            if json.exists() {
                out.push((pb, json));
            }
        }
    }
    out.sort();
    assert!(
        !out.is_empty(),
        "{} holds no .pb/.json pairs",
        dir.display()
    );
    out
}

fn all_k8s_api_pairs() -> Option<Vec<(PathBuf, PathBuf)>> {
    let root = require_fixture("k8s-api")?;
    let mut out = k8s_api_pairs(&root.join("HEAD"));
    out.extend(k8s_api_pairs(&root.join("v1.33.0")));
    Some(out)
}

/// The first path where `a` and `b` differ semantically, or None.
fn diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                let vb = y.get(k).unwrap_or(&Value::Null);
                if let Some(d) = diff(va, vb, &format!("{path}.{k}")) {
                    return Some(d);
                }
            }
            for (k, vb) in y {
                if !x.contains_key(k) && !vb.is_null() {
                    return Some(format!("{path}.{k}: absent vs {}", short(vb)));
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{path}: {} vs {} items", x.len(), y.len()));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| diff(p, q, &format!("{path}[{i}]")))
        }
        (Value::Number(x), Value::Number(y)) => {
            let same = if x.is_f64() || y.is_f64() {
                x.as_f64() == y.as_f64()
            } else {
                x == y
            };
            (!same).then(|| format!("{path}: {x} vs {y}"))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {} vs {}", short(a), short(b))),
    }
}

/// The first object whose keys (those present in both, nulls aside) come in another order:
/// kubectl's key order is Go struct order. The top level is exempt (Go prints `kind` before
/// `apiVersion`; we print `apiVersion` first, as kubectl does).
fn order_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys = |m: &serde_json::Map<String, Value>,
                        other: &serde_json::Map<String, Value>|
             -> Vec<String> {
                m.iter()
                    .filter(|(k, v)| !v.is_null() && other.get(*k).is_some_and(|o| !o.is_null()))
                    .map(|(k, _)| k.clone())
                    .filter(|k| !(path.is_empty() && (k == "apiVersion" || k == "kind")))
                    .collect()
            };
            let (kx, ky) = (keys(x, y), keys(y, x));
            if kx != ky {
                return Some(format!("{path}: key order {kx:?} vs {ky:?}"));
            }
            kx.iter()
                .find_map(|k| order_diff(&x[k], &y[k], &format!("{path}.{k}")))
        }
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| order_diff(p, q, &format!("{path}[{i}]"))),
        _ => None,
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s,
    }
}

#[test]
fn k8s_api_fixtures_decode_to_their_json() {
    let Some(pairs) = all_k8s_api_pairs() else {
        return;
    };
    let mut passed = 0;
    let mut failures = Vec::new();
    let mut known = Vec::new();
    for (pb, json) in &pairs {
        let name = label(pb);
        let want: Value = serde_json::from_slice(&std::fs::read(json).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", json.display()));
        let got = proto::decode(&std::fs::read(pb).unwrap());
        let problem = match &got {
            Err(e) => Some(format!("error: {e}")),
            Ok(got) => diff(got, &want, "").or_else(|| order_diff(got, &want, "")),
        };
        match problem {
            None => passed += 1,
            Some(p) if KNOWN_NEWER_THAN_SCHEMA.contains(&name.as_str()) => {
                known.push(format!("{name}: {p}"))
            }
            Some(p) => failures.push(format!("{name}: {p}")),
        }
    }
    println!(
        "k8s-api fixtures: {passed}/{} decode to their .json ({} known-newer-than-schema)",
        pairs.len(),
        known.len()
    );
    for k in &known {
        println!("  known gap: {k}");
    }
    assert!(
        failures.is_empty(),
        "{} fixtures differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let stale: Vec<_> = KNOWN_NEWER_THAN_SCHEMA
        .iter()
        .filter(|k| !known.iter().any(|f| f.starts_with(&format!("{k}:"))))
        .collect();
    assert!(
        stale.is_empty(),
        "these now decode correctly; remove them from KNOWN_NEWER_THAN_SCHEMA: {stale:?}"
    );
}

#[test]
fn cluster_dev_protobuf_values_decode_to_objects_jsonl() {
    let Some(dir) = require_fixture("cluster-dev") else {
        return;
    };
    let db = Db::open(&dir.join("cluster.db")).unwrap();
    let values = live_values(&db);
    let lines = std::fs::read_to_string(dir.join("objects.jsonl")).unwrap();
    let (mut checked, mut failures) = (0, Vec::new());
    for line in lines.lines() {
        let rec: Value = serde_json::from_str(line).unwrap();
        let key = rec["key"].as_str().unwrap();
        let value = values
            .get(key.as_bytes())
            .unwrap_or_else(|| panic!("{key} not live in cluster.db"));
        if !value.starts_with(proto::MAGIC) {
            continue; // JSON, encrypted (`k8s:enc:`) or raw values are other decoders' business.
        }
        checked += 1;
        match proto::decode(value) {
            Err(e) => failures.push(format!("{key}: error: {e}")),
            Ok(got) => {
                if let Some(d) =
                    diff(&got, &rec["object"], "").or_else(|| order_diff(&got, &rec["object"], ""))
                {
                    failures.push(format!("{key}: {d}"));
                }
            }
        }
    }
    println!(
        "cluster-dev: {}/{checked} protobuf values decode to objects.jsonl",
        checked - failures.len()
    );
    assert!(
        checked > 1000,
        "only {checked} protobuf values found in cluster.db"
    );
    assert!(
        failures.is_empty(),
        "{} values differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn encode_round_trips_every_fixture() {
    let Some(values) = all_stored_values() else {
        return;
    };
    let (mut decoded, mut identical, mut failures) = (0, 0, Vec::new());
    let (mut not_identical, mut api_identical) = (Vec::new(), 0);
    for (name, pb) in &values {
        let Ok(first) = proto::decode(pb) else {
            continue;
        };
        decoded += 1;
        let again = match proto::encode(&first) {
            Ok(b) => b,
            Err(e) => {
                failures.push(format!("{name}: encode: {e}"));
                continue;
            }
        };
        match proto::decode(&again) {
            Ok(second) if second == first => {}
            Ok(second) => failures.push(format!(
                "{name}: {}",
                diff(&second, &first, "").unwrap_or("key order".into())
            )),
            Err(e) => failures.push(format!("{name}: re-decode: {e}")),
        }
        if &again == pb {
            identical += 1;
            api_identical += usize::from(name.ends_with(".pb"));
        } else {
            not_identical.push(name.clone());
        }
    }
    println!(
        "round trip: {}/{decoded} decode(encode(decode(pb))) == decode(pb); {identical}/{decoded} byte-identical ({api_identical} of them k8s-api fixtures)",
        decoded - failures.len()
    );
    for n in not_identical.iter().filter(|n| n.ends_with(".pb")) {
        println!("  not byte-identical: {n}");
    }
    assert!(
        failures.is_empty(),
        "{} round trips differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn truncated_and_bit_flipped_values_never_panic() {
    let Some(values) = all_stored_values() else {
        return;
    };
    let (mut ok, mut err) = (0u64, 0u64);
    let mut tally = |r: Result<serde_json::Value, proto::ProtoError>| match r {
        Ok(_) => ok += 1,
        Err(e) => {
            assert!(!e.to_string().contains('\n'), "multi-line error: {e}");
            err += 1
        }
    };
    for v in damaged_values(&values) {
        tally(proto::decode(&v));
        let _ = proto::type_meta(&v);
    }
    assert!(matches!(
        proto::decode(&deeply_nested(500)),
        Err(proto::ProtoError::TooDeep { .. })
    ));
    tally(proto::decode(LENGTH_BEYOND_VALUE));
    println!("robustness: {ok} decoded, {err} rejected, no panic");
    assert!(err > 0);
}

/// Decode throughput over the fixture values (cluster.db's protobuf values are typical objects:
/// Events, Pods, ReplicaSets, ConfigMaps, ...), to JSON text and to a `serde_json::Value`, and
/// what parsing that text alone costs (the floor of the `Value` path). Run in release mode:
/// `cargo test --release -p revkeeper-formats --test k8s_proto_conformance -- --ignored --nocapture`
#[test]
#[ignore = "timing; run in release mode"]
fn decode_throughput() {
    let Some(values) = all_stored_values() else {
        return;
    };
    let _ = proto::decode(&values[0].1); // build the schema outside the timing
    let rounds = 20;
    let all: Vec<&[u8]> = values.iter().map(|(_, v)| v.as_slice()).collect();
    println!("decode throughput, objects/s per core of CPU time (JSON text | serde_json::Value):");
    report("all fixture values", &all, rounds);
    // Per kind, for the common ones (a Lease is a typical small object, a Pod a large one).
    let mut by_kind: HashMap<String, Vec<&[u8]>> = HashMap::new();
    for v in &all {
        if let Ok((api_version, kind)) = proto::type_meta(v) {
            by_kind
                .entry(format!("{api_version} {kind}"))
                .or_default()
                .push(v);
        }
    }
    let mut kinds: Vec<_> = by_kind.into_iter().filter(|(_, v)| v.len() >= 40).collect();
    kinds.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
    for (kind, vs) in kinds {
        report(&kind, &vs, rounds);
    }
}

fn report(what: &str, values: &[&[u8]], rounds: usize) {
    let texts: Vec<Vec<u8>> = values
        .iter()
        .filter_map(|v| proto::decode_to_json(v).ok())
        .collect();
    let rate = |f: &dyn Fn(&[u8]) -> bool| {
        let (wall, cpu) = (std::time::Instant::now(), thread_cpu_ns());
        let (mut ok, mut n) = (0usize, 0usize);
        // At least `rounds` rounds and 0.2 s, for a measurable CPU time.
        while n < rounds || wall.elapsed().as_secs_f64() < 0.2 {
            for v in values {
                ok += usize::from(f(v));
            }
            n += 1;
        }
        // The machine may be shared: the thread's own CPU time is the fairer measure.
        let secs = match (cpu, thread_cpu_ns()) {
            (Some(a), Some(b)) => (b - a) as f64 / 1e9,
            _ => wall.elapsed().as_secs_f64(),
        };
        assert!(ok > 0);
        (values.len() * n) as f64 / secs
    };
    let text = rate(&|v| proto::decode_to_json(v).is_ok());
    let check = rate(&|v| proto::validate(v).is_ok());
    let value = rate(&|v| proto::decode(v).is_ok());
    let parse_text = std::cell::Cell::new(0usize);
    let parse = rate(&|_| {
        let t = &texts[parse_text.get() % texts.len().max(1)];
        parse_text.set(parse_text.get() + 1);
        serde_json::from_slice::<Value>(t).is_ok()
    });
    let avg = values.iter().map(|v| v.len()).sum::<usize>() / values.len();
    println!(
        "  {what}: {text:.0} | {value:.0} (validate only: {check:.0}; parsing the text alone: {parse:.0}; {} values, {avg} bytes on average)",
        values.len()
    );
}

/// CPU time of the calling thread (Linux `schedstat`), in nanoseconds.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}
