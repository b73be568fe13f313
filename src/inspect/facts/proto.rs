//! The detectors' fields read straight from a protobuf-stored object into the same [`Doc`] the
//! JSON reader fills, so one set of rules (`from_doc`) judges both. Field numbers are those of
//! the Kubernetes `.proto` files (`formats/k8s-protos/`).

use revkeeper_formats::k8s::fields::{Malformed, Message, StoredObject, Wire};
use revkeeper_formats::k8s::resources;

use super::{
    Annotations, Condition, Doc, Int, Labels, List, Meta, Node, Owner, Series, Stamp, Text,
};

/// The Doc of `object` stored under etcd resource `resource`; `Ok(None)` when this reader does
/// not handle it (an unexpected type for the resource, or a resource whose facts need more than
/// these fields): the caller decodes it instead.
pub(super) fn doc(resource: &str, object: &StoredObject<'_>) -> Result<Option<Doc>, Malformed> {
    let Some(expected) = expected_type(resource) else {
        return Ok(None);
    };
    let (api_version, kind) = (object.api_version, object.kind);
    match expected {
        Some(t) if t != (api_version, kind) => return Ok(None),
        // Only metadata is read: any built-in type (custom types are not protobuf).
        None if resources::by_kind(api_version, kind).is_none() => return Ok(None),
        _ => {}
    }
    let body = object.body;
    let mut d = Doc {
        metadata: Node(meta(body.message(1)?)?),
        ..Doc::default()
    };
    // spec 2 and status 3 in the types that have them (not Event or Secret).
    let has_spec = !matches!(resource, "events" | "secrets") && expected.is_some();
    let spec = if has_spec { body.message(2)? } else { None };
    let status = if has_spec { body.message(3)? } else { None };
    let (s, st) = (&mut d.spec.0, &mut d.status.0);
    match resource {
        "pods" => {
            s.node_name = text(spec, 10)?;
            st.phase = text(status, 1)?;
            st.reason = text(status, 4)?;
        }
        "events" => {
            d.first_timestamp = Stamp(body.time(6)?);
            d.last_timestamp = Stamp(body.time(7)?);
            d.event_time = Stamp(body.micro_time(10)?);
            if let Some(series) = body.message(11)? {
                d.series = Node(Series {
                    last_observed_time: Stamp(series.micro_time(2)?),
                });
            }
        }
        "leases" => {
            s.holder_identity = text(spec, 1)?;
            s.lease_duration_seconds = int(spec, 2)?;
            s.renew_time = Stamp(opt(spec, |m| m.micro_time(4))?);
        }
        "minions" => st.conditions = conditions(status, 4, 2, Some(3))?,
        "jobs" => {
            s.ttl_seconds_after_finished = int(spec, 8)?;
            st.conditions = conditions(status, 1, 2, None)?;
            st.completion_time = Stamp(opt(status, |m| m.time(3))?);
        }
        "persistentvolumes" => st.phase = text(status, 1)?,
        "secrets" => d.kind = Text(nonempty(body.string(3)?)),
        "volumeattachments" => s.node_name = text(spec, 3)?,
        "certificatesigningrequests" => st.conditions = conditions(status, 1, 6, None)?,
        "replicasets" => {
            s.replicas = int(spec, 1)?;
            st.replicas = int(status, 1)?;
        }
        "deployments" => {
            s.replicas = int(spec, 1)?;
            s.revision_history_limit = int(spec, 6)?;
        }
        _ => {}
    }
    Ok(Some(d))
}

/// `Some(Some(type))`: a resource this reader handles, stored as that type;
/// `Some(None)`: only metadata matters, any built-in type; `None`: not handled here.
fn expected_type(resource: &str) -> Option<Option<(&'static str, &'static str)>> {
    Some(Some(match resource {
        "pods" => ("v1", "Pod"),
        "events" => ("v1", "Event"),
        "leases" => ("coordination.k8s.io/v1", "Lease"),
        "minions" => ("v1", "Node"),
        "jobs" => ("batch/v1", "Job"),
        "persistentvolumes" => ("v1", "PersistentVolume"),
        "secrets" => ("v1", "Secret"),
        "endpointslices" => ("discovery.k8s.io/v1", "EndpointSlice"),
        "volumeattachments" => ("storage.k8s.io/v1", "VolumeAttachment"),
        "certificatesigningrequests" => ("certificates.k8s.io/v1", "CertificateSigningRequest"),
        "replicasets" => ("apps/v1", "ReplicaSet"),
        "deployments" => ("apps/v1", "Deployment"),
        // Their facts need nested lists of references: read from the decoded object.
        "apiextensions.k8s.io/customresourcedefinitions"
        | "apiregistration.k8s.io/apiservices"
        | "validatingwebhookconfigurations"
        | "mutatingwebhookconfigurations" => return None,
        _ => return Some(None),
    }))
}

/// ObjectMeta: uid 5, creationTimestamp 8, deletionTimestamp 9, labels 11, annotations 12,
/// ownerReferences 13, finalizers 14. One walk over its fields (every object has one, and
/// Pods carry many labels and annotations): the last of a singular field counts, as in
/// protobuf, and a map's last entry for a key.
fn meta(m: Option<Message<'_>>) -> Result<Meta, Malformed> {
    const LABELS: [&str; 3] = [
        "kubernetes.io/service-name",
        "apiserver.kubernetes.io/identity",
        "k8s.io/component",
    ];
    const ANNOTATIONS: [&str; 2] = [
        "kubernetes.io/service-account.name",
        "kubernetes.io/service-account.uid",
    ];
    let Some(m) = m else {
        return Ok(Meta::default());
    };
    let (mut uid, mut created, mut deleted) = (None, None, None);
    let (mut labels, mut annotations) = ([None; 3], [None; 2]);
    let mut out = Meta::default();
    for (number, wire) in m.fields() {
        match number {
            5 => uid = Some(wire),
            8 => created = Some(wire),
            9 => deleted = Some(wire),
            11 => {
                if let (k, Some(v)) = wire.message()?.map_entry(|k| LABELS.contains(&k))? {
                    labels[LABELS.iter().position(|l| *l == k).unwrap_or(0)] = Some(v);
                }
            }
            12 => {
                if let (k, Some(v)) = wire.message()?.map_entry(|k| ANNOTATIONS.contains(&k))? {
                    annotations[ANNOTATIONS.iter().position(|a| *a == k).unwrap_or(0)] = Some(v);
                }
            }
            // OwnerReference: kind 1, name 3, uid 4, apiVersion 5.
            13 => {
                let o = wire.message()?;
                out.owner_references.0.push(Node(Owner {
                    api_version: Text(nonempty(o.string(5)?)),
                    kind: Text(nonempty(o.string(1)?)),
                    name: Text(nonempty(o.string(3)?)),
                    uid: Text(nonempty(o.string(4)?)),
                }));
            }
            14 => out.finalizers.0.push(Text(nonempty(Some(wire.text()?)))),
            _ => {}
        }
    }
    let time = |w: Option<Wire<'_>>| w.map_or(Ok(None), |w| w.message()?.as_time());
    out.uid = Text(nonempty(uid.map(Wire::text).transpose()?));
    out.creation_timestamp = Stamp(time(created)?);
    out.deletion_timestamp = Stamp(time(deleted)?);
    let [service_name, identity, component] = labels.map(|v| Text(nonempty(v)));
    out.labels = Node(Labels {
        service_name,
        identity,
        component,
    });
    let [sa_name, sa_uid] = annotations.map(|v| Text(nonempty(v)));
    out.annotations = Node(Annotations { sa_name, sa_uid });
    Ok(out)
}

/// A repeated condition field: type 1, status `status`, and the heartbeat time when asked.
fn conditions(
    m: Option<Message<'_>>,
    number: u32,
    status: u32,
    heartbeat: Option<u32>,
) -> Result<List<Node<Condition>>, Malformed> {
    let Some(m) = m else {
        return Ok(List::default());
    };
    m.messages(number)
        .map(|c| {
            let c = c?;
            Ok(Node(Condition {
                kind: Text(nonempty(c.string(1)?)),
                status: Text(nonempty(c.string(status)?)),
                last_heartbeat_time: Stamp(match heartbeat {
                    Some(n) => c.time(n)?,
                    None => None,
                }),
            }))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(List)
}

fn opt<'a, T>(
    m: Option<Message<'a>>,
    f: impl FnOnce(Message<'a>) -> Result<Option<T>, Malformed>,
) -> Result<Option<T>, Malformed> {
    m.map_or(Ok(None), f)
}

fn text(m: Option<Message<'_>>, number: u32) -> Result<Text, Malformed> {
    Ok(Text(nonempty(opt(m, |m| m.string(number))?)))
}

/// An int32 field of a Go pointer (`*int32`): present on the wire means set, zero included.
fn int(m: Option<Message<'_>>, number: u32) -> Result<Int, Malformed> {
    Ok(Int(opt(m, |m| m.int(number))?.map(|v| i64::from(v as i32))))
}

fn nonempty(s: Option<&str>) -> Option<Box<str>> {
    s.filter(|s| !s.is_empty()).map(Box::from)
}

#[cfg(test)]
mod tests {
    use revkeeper_formats::k8s::{Keyring, decode_value, key::ObjectKey};

    use crate::source::{KeyRange, RangeQuery, SnapshotSource, Source};

    /// Every object of the shared fixture (Secrets decrypted with its encryption config): the
    /// facts read from the protobuf equal those taken from the decoded JSON.
    #[test]
    fn facts_equal_those_of_the_decoded_object_on_the_fixture() {
        let Some(db) = revkeeper_harness::require_fixture("cluster-dev/cluster.db") else {
            return;
        };
        let dir = db.parent().unwrap();
        let keyring = Keyring::load(&dir.join("encryption-config.yaml")).unwrap();
        let source = SnapshotSource::open(&db).unwrap();
        let (mut read, mut resources) = (0, std::collections::BTreeSet::new());
        let query = RangeQuery::latest(KeyRange::prefix(""));
        source
            .scan(&query, &mut |kv| {
                let Some(k) = ObjectKey::parse(kv.key, "/registry") else {
                    return Ok(());
                };
                let value = match kv
                    .value
                    .starts_with(revkeeper_formats::k8s::encryption::PREFIX)
                {
                    true => keyring.decrypt(kv.key, kv.value).unwrap().1,
                    false => kv.value.to_vec(),
                };
                let Some(fast) = super::super::extract_proto(k.resource, &value) else {
                    return Ok(());
                };
                let object = decode_value(kv.key, kv.value, &keyring)
                    .unwrap()
                    .object
                    .unwrap();
                let want = super::super::extract(k.resource, &object);
                assert_eq!(fast, want, "{}", String::from_utf8_lossy(kv.key));
                read += 1;
                resources.insert(k.resource.to_string());
                Ok(())
            })
            .unwrap();
        assert!(read > 200, "only {read} objects read from protobuf");
        for r in [
            "pods",
            "events",
            "leases",
            "minions",
            "secrets",
            "replicasets",
            "deployments",
        ] {
            assert!(
                resources.contains(r),
                "no {r} read from protobuf: {resources:?}"
            );
        }
    }
}
