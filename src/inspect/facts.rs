//! The compact facts kept per object during the scan: what the detectors need, never the whole
//! object, so memory grows with the number of keys and owner references, not with value sizes.

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What the value of a key turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueState {
    /// Decoded into an object (protobuf, JSON, CBOR, or decrypted).
    Object,
    /// Encrypted at rest and not decryptable with the keys given: only the key is known.
    Encrypted { label: String },
    /// Not decodable (damaged or a format not supported); the error, without value bytes.
    Undecodable { error: String },
    /// Text or binary that is not a Kubernetes object (`compact_rev_key`, range allocators).
    NotObject,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerRef {
    pub api_version: Box<str>,
    pub kind: Box<str>,
    pub name: Box<str>,
    pub uid: Box<str>,
}

/// Per-kind facts, only for the kinds some detector reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum KindFacts {
    #[default]
    None,
    Pod {
        node_name: Option<Box<str>>,
        evicted: bool,
    },
    Event {
        /// Newest of lastTimestamp, eventTime, series.lastObservedTime, firstTimestamp and
        /// creationTimestamp (unix seconds).
        newest: Option<i64>,
    },
    /// coordination.k8s.io Lease.
    Lease {
        holder: Option<Box<str>>,
        renew: Option<i64>,
        duration: Option<i64>,
        apiserver_identity: bool,
    },
    Job {
        complete: bool,
        failed: bool,
        has_ttl: bool,
        finished: Option<i64>,
    },
    PersistentVolume {
        phase: Box<str>,
    },
    Secret {
        kind: Box<str>,
        sa_name: Option<Box<str>>,
        sa_uid: Option<Box<str>>,
    },
    EndpointSlice {
        service_name: Option<Box<str>>,
    },
    Crd {
        group: Box<str>,
        kind: Box<str>,
        plural: Box<str>,
        namespaced: bool,
    },
    /// APIService or webhook configuration: the Services it calls (namespace, name).
    ServiceRefs(Vec<(Box<str>, Box<str>)>),
    VolumeAttachment {
        node_name: Option<Box<str>>,
    },
    Csr {
        /// Approved, Denied or Failed (the cleaner removes these after 1 h); None: pending.
        decided: bool,
    },
    ReplicaSet {
        idle: bool,
    },
    Deployment {
        history_limit: i64,
    },
}

/// Facts of one object taken from its decoded value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectFacts {
    pub uid: Option<Box<str>>,
    pub created: Option<i64>,
    pub deleted_at: Option<i64>,
    pub finalizers: Vec<Box<str>>,
    pub owners: Vec<OwnerRef>,
    pub kind: KindFacts,
    /// The newest heartbeat this object shows (node-lease renewTime, Node heartbeats): the
    /// offline estimate of "now" is the newest of these.
    pub heartbeat: Option<i64>,
}

/// RFC 3339 (with or without fractional seconds) to unix seconds.
pub fn parse_time(v: Option<&Value>) -> Option<i64> {
    let s = v?.as_str()?;
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

fn text(v: Option<&Value>) -> Option<Box<str>> {
    v.and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(Into::into)
}

fn has_condition(obj: &Value, kind: &str) -> bool {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some(kind)
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

/// Extracts the facts of `obj` stored under etcd resource `resource`.
pub fn extract(resource: &str, obj: &Value) -> ObjectFacts {
    let meta = obj.get("metadata");
    let m = |f: &str| meta.and_then(|m| m.get(f));
    let owners = m("ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .map(|r| OwnerRef {
                    api_version: text(r.get("apiVersion")).unwrap_or_default(),
                    kind: text(r.get("kind")).unwrap_or_default(),
                    name: text(r.get("name")).unwrap_or_default(),
                    uid: text(r.get("uid")).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let finalizers = m("finalizers")
        .and_then(Value::as_array)
        .map(|f| f.iter().filter_map(|s| text(Some(s))).collect())
        .unwrap_or_default();
    let label =
        |name: &str| meta.and_then(|m| m.pointer(&format!("/labels/{}", name.replace('/', "~1"))));
    let annotation = |name: &str| {
        meta.and_then(|m| m.pointer(&format!("/annotations/{}", name.replace('/', "~1"))))
    };
    let created = parse_time(m("creationTimestamp"));
    let mut heartbeat = None;
    let kind = match resource {
        "pods" => KindFacts::Pod {
            node_name: text(obj.pointer("/spec/nodeName")),
            evicted: obj.pointer("/status/phase").and_then(Value::as_str) == Some("Failed")
                && obj.pointer("/status/reason").and_then(Value::as_str) == Some("Evicted"),
        },
        "events" => {
            let times = [
                obj.get("lastTimestamp"),
                obj.get("eventTime"),
                obj.pointer("/series/lastObservedTime"),
                obj.get("firstTimestamp"),
                m("creationTimestamp"),
            ];
            KindFacts::Event {
                newest: times.into_iter().filter_map(parse_time).max(),
            }
        }
        "leases" => {
            let renew = parse_time(obj.pointer("/spec/renewTime"));
            heartbeat = renew;
            KindFacts::Lease {
                holder: text(obj.pointer("/spec/holderIdentity")),
                renew,
                duration: obj
                    .pointer("/spec/leaseDurationSeconds")
                    .and_then(Value::as_i64),
                apiserver_identity: label("apiserver.kubernetes.io/identity").is_some()
                    || label("k8s.io/component").and_then(Value::as_str) == Some("kube-apiserver"),
            }
        }
        "minions" => {
            heartbeat = obj
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|cs| {
                    cs.iter()
                        .filter_map(|c| parse_time(c.get("lastHeartbeatTime")))
                        .max()
                });
            KindFacts::None
        }
        "jobs" => KindFacts::Job {
            complete: has_condition(obj, "Complete"),
            failed: has_condition(obj, "Failed"),
            has_ttl: obj
                .pointer("/spec/ttlSecondsAfterFinished")
                .is_some_and(|v| !v.is_null()),
            finished: parse_time(obj.pointer("/status/completionTime")),
        },
        "persistentvolumes" => KindFacts::PersistentVolume {
            phase: text(obj.pointer("/status/phase")).unwrap_or_default(),
        },
        "secrets" => KindFacts::Secret {
            kind: text(obj.get("type")).unwrap_or_default(),
            sa_name: text(annotation("kubernetes.io/service-account.name")),
            sa_uid: text(annotation("kubernetes.io/service-account.uid")),
        },
        "endpointslices" => KindFacts::EndpointSlice {
            service_name: text(label("kubernetes.io/service-name")),
        },
        "apiextensions.k8s.io/customresourcedefinitions" => KindFacts::Crd {
            group: text(obj.pointer("/spec/group")).unwrap_or_default(),
            kind: text(obj.pointer("/spec/names/kind")).unwrap_or_default(),
            plural: text(obj.pointer("/spec/names/plural")).unwrap_or_default(),
            namespaced: obj.pointer("/spec/scope").and_then(Value::as_str) != Some("Cluster"),
        },
        "apiregistration.k8s.io/apiservices" => {
            let svc = obj.pointer("/spec/service");
            let refs = svc
                .and_then(|s| Some((text(s.get("namespace"))?, text(s.get("name"))?)))
                .into_iter()
                .collect();
            KindFacts::ServiceRefs(refs)
        }
        "validatingwebhookconfigurations" | "mutatingwebhookconfigurations" => {
            let refs = obj
                .get("webhooks")
                .and_then(Value::as_array)
                .map(|hooks| {
                    hooks
                        .iter()
                        .filter_map(|h| {
                            let s = h.pointer("/clientConfig/service")?;
                            Some((text(s.get("namespace"))?, text(s.get("name"))?))
                        })
                        .collect()
                })
                .unwrap_or_default();
            KindFacts::ServiceRefs(refs)
        }
        "volumeattachments" => KindFacts::VolumeAttachment {
            node_name: text(obj.pointer("/spec/nodeName")),
        },
        "certificatesigningrequests" => KindFacts::Csr {
            decided: ["Approved", "Denied", "Failed"]
                .iter()
                .any(|c| has_condition(obj, c)),
        },
        "replicasets" => KindFacts::ReplicaSet {
            idle: obj.pointer("/spec/replicas").and_then(Value::as_i64) == Some(0)
                && obj
                    .pointer("/status/replicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
                    == 0,
        },
        "deployments" => KindFacts::Deployment {
            history_limit: obj
                .pointer("/spec/revisionHistoryLimit")
                .and_then(Value::as_i64)
                .unwrap_or(10),
        },
        _ => KindFacts::None,
    };
    ObjectFacts {
        uid: text(m("uid")),
        created,
        deleted_at: parse_time(m("deletionTimestamp")),
        finalizers,
        owners,
        kind,
        heartbeat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_newest_timestamp_wins() {
        let f = extract(
            "events",
            &json!({"metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"},
                    "lastTimestamp": "2026-01-02T00:00:00Z",
                    "series": {"lastObservedTime": "2026-01-03T00:00:00.123456Z"}}),
        );
        assert_eq!(
            f.kind,
            KindFacts::Event {
                newest: Some(1767398400)
            }
        );
    }

    #[test]
    fn owners_finalizers_and_secret_annotations() {
        let f = extract(
            "secrets",
            &json!({"metadata": {"uid": "u1", "finalizers": ["a/b"],
                "deletionTimestamp": "2026-01-01T00:00:00Z",
                "annotations": {"kubernetes.io/service-account.name": "sa1"},
                "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": "u2"}]},
                "type": "kubernetes.io/service-account-token"}),
        );
        assert_eq!(f.uid.as_deref(), Some("u1"));
        assert_eq!(f.finalizers.len(), 1);
        assert_eq!(f.deleted_at, Some(1767225600));
        assert_eq!(&*f.owners[0].kind, "Pod");
        assert!(matches!(f.kind, KindFacts::Secret { sa_name: Some(ref n), .. } if &**n == "sa1"));
    }
}
