//! The fields of a Pod that its columns read ([`super::pods`]), straight from its protobuf value:
//! a small object holding only those, so a list of many Pods does not decode their specs,
//! managedFields and status to JSON. The row is then made by the same `printPod` code, so the
//! cells are those of the whole object. Field numbers are those of `formats/k8s-protos/`
//! (`api/core/v1`, `apimachinery/.../meta/v1`).

use revkeeper_formats::k8s::fields::{Malformed, Message, StoredObject};
use serde_json::{Map, Value, json};

/// The Pod columns' fields of a plain protobuf value (`k8s\0`, not encrypted); `None` when it is
/// not a v1 Pod readable this way (the caller decodes the whole value instead).
pub fn pod_columns(value: &[u8]) -> Option<Value> {
    let object = StoredObject::parse(value)?;
    if (object.api_version, object.kind) != ("v1", "Pod") {
        return None;
    }
    pod(object.body).ok()
}

fn pod(body: Message<'_>) -> Result<Value, Malformed> {
    let mut out = Map::new();
    out.insert("metadata".into(), meta(body.message(1)?)?);
    if let Some(spec) = body.message(2)? {
        out.insert("spec".into(), pod_spec(spec)?);
    }
    if let Some(status) = body.message(3)? {
        out.insert("status".into(), pod_status(status)?);
    }
    Ok(Value::Object(out))
}

fn meta(meta: Option<Message<'_>>) -> Result<Value, Malformed> {
    let mut out = Map::new();
    if let Some(m) = meta {
        text(&mut out, "name", m.string(1)?);
        text(&mut out, "namespace", m.string(3)?);
        out.insert("creationTimestamp".into(), time(m, 8)?);
        if m.last(9).is_some() {
            out.insert("deletionTimestamp".into(), time(m, 9)?);
        }
    }
    Ok(Value::Object(out))
}

fn pod_spec(spec: Message<'_>) -> Result<Value, Malformed> {
    let mut out = Map::new();
    let init = spec.messages(20).map(|c| {
        let c = c?;
        let mut o = Map::new();
        text(&mut o, "name", c.string(1)?);
        text(&mut o, "restartPolicy", c.string(24)?);
        Ok(Value::Object(o))
    });
    list(&mut out, "initContainers", init)?;
    // Only their number is read.
    let containers = spec.messages(2).map(|c| c.map(|_| json!({})));
    list(&mut out, "containers", containers)?;
    let gates = spec.messages(28).map(|g| {
        let mut o = Map::new();
        text(&mut o, "conditionType", g?.string(1)?);
        Ok(Value::Object(o))
    });
    list(&mut out, "readinessGates", gates)?;
    text(&mut out, "nodeName", spec.string(10)?);
    Ok(Value::Object(out))
}

fn pod_status(status: Message<'_>) -> Result<Value, Malformed> {
    let mut out = Map::new();
    text(&mut out, "phase", status.string(1)?);
    let conditions = status.messages(2).map(|c| {
        let c = c?;
        let mut o = Map::new();
        text(&mut o, "type", c.string(1)?);
        text(&mut o, "status", c.string(2)?);
        text(&mut o, "reason", c.string(5)?);
        Ok(Value::Object(o))
    });
    list(&mut out, "conditions", conditions)?;
    text(&mut out, "reason", status.string(4)?);
    text(&mut out, "nominatedNodeName", status.string(11)?);
    text(&mut out, "podIP", status.string(6)?);
    let ips = status.messages(12).map(|ip| {
        let mut o = Map::new();
        text(&mut o, "ip", ip?.string(1)?);
        Ok(Value::Object(o))
    });
    list(&mut out, "podIPs", ips)?;
    list(
        &mut out,
        "initContainerStatuses",
        status.messages(10).map(container),
    )?;
    list(
        &mut out,
        "containerStatuses",
        status.messages(8).map(container),
    )?;
    Ok(Value::Object(out))
}

/// A ContainerStatus: name, state, lastState, ready, restartCount, started.
fn container(c: Result<Message<'_>, Malformed>) -> Result<Value, Malformed> {
    let c = c?;
    let mut o = Map::new();
    text(&mut o, "name", c.string(1)?);
    if let Some(state) = c.message(2)? {
        o.insert("state".into(), container_state(state)?);
    }
    if let Some(state) = c.message(3)? {
        o.insert("lastState".into(), container_state(state)?);
    }
    flag(&mut o, "ready", c.int(4)?);
    if let Some(n) = c.int(5)? {
        o.insert("restartCount".into(), json!(n as i32));
    }
    flag(&mut o, "started", c.int(9)?);
    Ok(Value::Object(o))
}

/// A ContainerState: which of waiting, running and terminated is set, with the fields read.
fn container_state(state: Message<'_>) -> Result<Value, Malformed> {
    let mut o = Map::new();
    if let Some(w) = state.message(1)? {
        let mut waiting = Map::new();
        text(&mut waiting, "reason", w.string(1)?);
        o.insert("waiting".into(), Value::Object(waiting));
    }
    if state.message(2)?.is_some() {
        o.insert("running".into(), json!({}));
    }
    if let Some(t) = state.message(3)? {
        let mut terminated = Map::new();
        for (name, number) in [("exitCode", 1), ("signal", 2)] {
            if let Some(n) = t.int(number)? {
                terminated.insert(name.into(), json!(n as i32));
            }
        }
        text(&mut terminated, "reason", t.string(3)?);
        terminated.insert("finishedAt".into(), time(t, 6)?);
        o.insert("terminated".into(), Value::Object(terminated));
    }
    Ok(Value::Object(o))
}

fn text(out: &mut Map<String, Value>, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        out.insert(name.into(), Value::String(v.into()));
    }
}

fn flag(out: &mut Map<String, Value>, name: &str, value: Option<i64>) {
    if let Some(v) = value {
        out.insert(name.into(), Value::Bool(v != 0));
    }
}

fn list(
    out: &mut Map<String, Value>,
    name: &str,
    items: impl Iterator<Item = Result<Value, Malformed>>,
) -> Result<(), Malformed> {
    let items = items.collect::<Result<Vec<_>, _>>()?;
    if !items.is_empty() {
        out.insert(name.into(), Value::Array(items));
    }
    Ok(())
}

/// A meta/v1 Time as the decoder writes it (RFC 3339, whole seconds), `null` when unset.
fn time(m: Message<'_>, number: u32) -> Result<Value, Malformed> {
    Ok(match m.time(number)? {
        Some(t) => ::time::OffsetDateTime::from_unix_timestamp(t)
            .map(|t| Value::String(crate::timefmt::rfc3339(t)))
            .unwrap_or(Value::Null),
        None => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::{Ctx, Printer};
    use crate::source::{KeyRange, RangeQuery, SnapshotSource, Source};
    use revkeeper_formats::k8s::{self, Keyring};

    /// Changes that reach every branch of `printPod`, made to a real Pod.
    fn variants(pod: &Value) -> Vec<Value> {
        let edits: Vec<fn(&mut Value)> = vec![
            |p| {
                p["status"]["containerStatuses"][0]["state"] =
                    json!({"waiting": {"reason": "ImagePullBackOff"}})
            },
            |p| {
                p["status"]["phase"] = json!("Failed");
                p["status"]["containerStatuses"][0]["state"] =
                    json!({"terminated": {"exitCode": 137, "signal": 9}});
                p["status"]["containerStatuses"][0]["lastState"] =
                    json!({"terminated": {"exitCode": 1, "finishedAt": "2026-11-20T23:30:00Z"}});
                p["status"]["containerStatuses"][0]["restartCount"] = json!(3);
            },
            |p| {
                p["status"]["reason"] = json!("NodeLost");
                p["metadata"]["deletionTimestamp"] = json!("2026-11-20T23:00:00Z");
            },
            |p| p["metadata"]["deletionTimestamp"] = json!("2026-11-20T23:00:00Z"),
            |p| {
                p["spec"]["initContainers"] = json!([{"name": "a", "image": "i"}, {"name": "proxy", "image": "i", "restartPolicy": "Always"}, {"name": "b", "image": "i"}]);
                p["status"]["initContainerStatuses"] = json!([
                    {"name": "a", "restartCount": 1, "state": {"terminated": {"exitCode": 0}},
                     "lastState": {"terminated": {"finishedAt": "2026-11-20T23:30:00Z"}}},
                    {"name": "proxy", "restartCount": 4, "started": true, "ready": true, "state": {"running": {}}},
                    {"name": "b", "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]);
                p["status"]["conditions"] = json!([{"type": "Initialized", "status": "False"}]);
            },
            |p| {
                p["spec"]["readinessGates"] =
                    json!([{"conditionType": "a"}, {"conditionType": "b"}]);
                p["status"]["conditions"] = json!([{"type": "a", "status": "True"}, {"type": "Ready", "status": "False"},
                    {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]);
                p["status"]["podIPs"] = json!([{"ip": "10.0.0.9"}, {"ip": "fd00::9"}]);
                p["status"]["nominatedNodeName"] = json!("n2");
            },
        ];
        edits
            .iter()
            .map(|edit| {
                let mut p = pod.clone();
                edit(&mut p);
                p
            })
            .collect()
    }

    /// Every Pod of cluster-dev's snapshot, the round-trip fixture (every field set) and changed
    /// copies reaching every status rule get the same cells, wide columns included, from these
    /// fields as from the whole object, at several reference times (ages and "(5m ago)").
    #[test]
    fn pod_cells_equal_those_of_the_whole_object() {
        let Some(db) = revkeeper_harness::require_fixture("cluster-dev/cluster.db") else {
            return;
        };
        let Some(round_trip) = revkeeper_harness::require_fixture("k8s-api/HEAD/core.v1.Pod.pb")
        else {
            return;
        };
        let snapshot = SnapshotSource::open(&db).unwrap();
        let query = RangeQuery::latest(KeyRange::prefix(b"/registry/pods/".to_vec()));
        let mut values = vec![std::fs::read(round_trip).unwrap()];
        (snapshot.scan(&query, &mut |kv| {
            values.push(kv.value.to_vec());
            Ok(())
        }))
        .unwrap();
        let decode = |value: &[u8]| {
            let key = b"/registry/pods/x/y";
            k8s::decode_value(key, value, &Keyring::default())
                .unwrap()
                .object
                .unwrap()
        };
        let first = decode(&values[1]);
        for changed in variants(&first) {
            values.push(k8s::proto::encode(&changed).unwrap());
        }
        let printer = Printer::for_resource("", "pods");
        let mut statuses = std::collections::BTreeSet::new();
        for value in &values {
            let whole = decode(value);
            let sparse = pod_columns(value).expect("a plain protobuf Pod");
            for now in [1_700_000_000, 1_800_000_000, 1_900_000_000] {
                let ctx = Ctx {
                    now: ::time::OffsetDateTime::from_unix_timestamp(now).unwrap(),
                };
                let name = &whole["metadata"]["name"];
                let cells = printer.cells(&sparse, &ctx);
                assert_eq!(cells, printer.cells(&whole, &ctx), "{name}");
                statuses.insert(cells[2].clone());
            }
            assert_eq!(
                sparse["metadata"]["namespace"],
                whole["metadata"]["namespace"]
            );
        }
        assert!(values.len() > 20, "only {} Pods compared", values.len());
        for status in [
            "ImagePullBackOff",
            "Signal:9",
            "Unknown",
            "Terminating",
            "Init:CrashLoopBackOff",
            "SchedulingGated",
        ] {
            assert!(statuses.contains(status), "{status} not among {statuses:?}");
        }
    }
}
