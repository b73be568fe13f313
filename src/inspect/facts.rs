//! The compact facts kept per object during the scan: what the detectors need, never the whole
//! object, so memory grows with the number of keys and owner references, not with value sizes.

mod proto;

use std::sync::Arc;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
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
    pub api_version: Arc<str>,
    pub kind: Arc<str>,
    pub name: Arc<str>,
    pub uid: Arc<str>,
}

/// Per-kind facts, only for the kinds some detector reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum KindFacts {
    #[default]
    None,
    Pod {
        node_name: Option<Arc<str>>,
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
    pub finalizers: Vec<Arc<str>>,
    pub owners: Vec<OwnerRef>,
    pub kind: KindFacts,
    /// The newest timestamp that records when this object was last written by its own writer
    /// (Lease renewTime, Node lastHeartbeatTime, Event lastTimestamp/eventTime/series): the
    /// input of the offline estimate of "now" (see [`super::clock`]).
    pub heartbeat: Option<i64>,
}

/// RFC 3339 (with or without fractional seconds) to unix seconds.
pub fn parse_time(s: Option<&str>) -> Option<i64> {
    OffsetDateTime::parse(s?, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// Extracts the facts of a decoded object stored under etcd resource `resource`.
pub fn extract(resource: &str, obj: &Value) -> ObjectFacts {
    from_doc(resource, &Doc::deserialize(obj).unwrap_or_default())
}

/// Extracts the facts straight from JSON bytes (custom resources, CRDs, APIServices), without
/// building the whole object; `None` when the bytes are not a JSON object.
pub fn extract_json(resource: &str, json: &[u8]) -> Option<ObjectFacts> {
    let doc: Doc = serde_json::from_slice(json).ok()?;
    Some(from_doc(resource, &doc))
}

/// Extracts the facts straight from a protobuf-stored value (`k8s\0` + runtime.Unknown, already
/// decrypted), without decoding the object; `None` when the value is not one this reader handles
/// or cannot be read this way: decode it and use [`extract`].
pub fn extract_proto(resource: &str, value: &[u8]) -> Option<ObjectFacts> {
    let object = revkeeper_formats::k8s::fields::StoredObject::parse(value)?;
    let doc = proto::doc(resource, &object).ok()??;
    Some(from_doc(resource, &doc))
}

fn from_doc(resource: &str, d: &Doc) -> ObjectFacts {
    let m = &d.metadata.0;
    let spec = &d.spec.0;
    let status = &d.status.0;
    let condition = |kind: &str| {
        status
            .conditions
            .0
            .iter()
            .any(|c| c.0.kind.as_deref() == Some(kind) && c.0.status.as_deref() == Some("True"))
    };
    let mut heartbeat = None;
    let kind = match resource {
        "pods" => KindFacts::Pod {
            node_name: spec.node_name.as_deref().map(Arc::from),
            evicted: status.phase.as_deref() == Some("Failed")
                && status.reason.as_deref() == Some("Evicted"),
        },
        "events" => {
            let observed = [
                &d.last_timestamp,
                &d.event_time,
                &d.series.0.last_observed_time,
            ]
            .into_iter()
            .filter_map(|t| t.0)
            .max();
            heartbeat = observed;
            let first = [&d.first_timestamp, &m.creation_timestamp]
                .into_iter()
                .filter_map(|t| t.0)
                .max();
            KindFacts::Event {
                newest: observed.max(first),
            }
        }
        "leases" => {
            let renew = spec.renew_time.0;
            heartbeat = renew;
            KindFacts::Lease {
                holder: spec.holder_identity.0.clone(),
                renew,
                duration: spec.lease_duration_seconds.0,
                apiserver_identity: m.labels.0.identity.0.is_some()
                    || m.labels.0.component.as_deref() == Some("kube-apiserver"),
            }
        }
        "minions" => {
            heartbeat = status
                .conditions
                .0
                .iter()
                .filter_map(|c| c.0.last_heartbeat_time.0)
                .max();
            KindFacts::None
        }
        "jobs" => KindFacts::Job {
            complete: condition("Complete"),
            failed: condition("Failed"),
            has_ttl: spec.ttl_seconds_after_finished.0.is_some(),
            finished: status.completion_time.0,
        },
        "persistentvolumes" => KindFacts::PersistentVolume {
            phase: status.phase.0.clone().unwrap_or_default(),
        },
        "secrets" => KindFacts::Secret {
            kind: d.kind.0.clone().unwrap_or_default(),
            sa_name: m.annotations.0.sa_name.0.clone(),
            sa_uid: m.annotations.0.sa_uid.0.clone(),
        },
        "endpointslices" => KindFacts::EndpointSlice {
            service_name: m.labels.0.service_name.0.clone(),
        },
        "apiextensions.k8s.io/customresourcedefinitions" => KindFacts::Crd {
            group: spec.group.0.clone().unwrap_or_default(),
            kind: spec.names.0.kind.0.clone().unwrap_or_default(),
            plural: spec.names.0.plural.0.clone().unwrap_or_default(),
            namespaced: spec.scope.as_deref() != Some("Cluster"),
        },
        "apiregistration.k8s.io/apiservices" => {
            KindFacts::ServiceRefs(spec.service.0.pair().into_iter().collect())
        }
        "validatingwebhookconfigurations" | "mutatingwebhookconfigurations" => {
            KindFacts::ServiceRefs(
                d.webhooks
                    .0
                    .iter()
                    .filter_map(|w| w.0.client_config.0.service.0.pair())
                    .collect(),
            )
        }
        "volumeattachments" => KindFacts::VolumeAttachment {
            node_name: spec.node_name.0.clone(),
        },
        "certificatesigningrequests" => KindFacts::Csr {
            decided: ["Approved", "Denied", "Failed"]
                .iter()
                .any(|c| condition(c)),
        },
        "replicasets" => KindFacts::ReplicaSet {
            idle: spec.replicas.0 == Some(0) && status.replicas.0.unwrap_or(0) == 0,
        },
        "deployments" => KindFacts::Deployment {
            history_limit: spec.revision_history_limit.0.unwrap_or(10),
        },
        _ => KindFacts::None,
    };
    ObjectFacts {
        uid: m.uid.0.clone(),
        created: m.creation_timestamp.0,
        deleted_at: m.deletion_timestamp.0,
        finalizers: m
            .finalizers
            .0
            .iter()
            .filter_map(|f| f.as_deref().map(Arc::from))
            .collect(),
        owners: m
            .owner_references
            .0
            .iter()
            .map(|o| OwnerRef {
                api_version: o.0.api_version.as_deref().unwrap_or_default().into(),
                kind: o.0.kind.as_deref().unwrap_or_default().into(),
                name: o.0.name.as_deref().unwrap_or_default().into(),
                uid: o.0.uid.as_deref().unwrap_or_default().into(),
            })
            .collect(),
        kind,
        heartbeat,
    }
}

// The few fields the detectors read, deserialized leniently: a field of an unexpected type (a
// custom resource may use `spec.replicas` for anything) reads as absent instead of failing the
// whole object, and everything else is skipped without being built.

/// A non-empty string leaf; anything else ("" included) reads as `None`.
#[derive(Default)]
struct Text(Option<Box<str>>);

impl Text {
    fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// An RFC 3339 time leaf as unix seconds; any other JSON value (or text that is not such a
/// time) reads as `None`.
#[derive(Default)]
struct Stamp(Option<i64>);

/// An integer leaf; any other JSON value reads as `None`.
#[derive(Default)]
struct Int(Option<i64>);

/// An object node; any other JSON value reads as `T::default()`.
#[derive(Default)]
struct Node<T>(T);

/// An array; any other JSON value reads as empty.
struct List<T>(Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(Vec::new())
    }
}

macro_rules! lenient_leaf {
    ($ty:ident, $expect:literal, $($method:ident($arg:ty) => $conv:expr),*) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str($expect)
                    }
                    $(fn $method<E: serde::de::Error>(self, v: $arg) -> Result<$ty, E> {
                        #[allow(clippy::redundant_closure_call)]
                        Ok($ty(($conv)(v)))
                    })*
                    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<$ty, E> { Ok($ty(None)) }
                    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<$ty, E> { Ok($ty(None)) }
                    fn visit_unit<E: serde::de::Error>(self) -> Result<$ty, E> { Ok($ty(None)) }
                    fn visit_none<E: serde::de::Error>(self) -> Result<$ty, E> { Ok($ty(None)) }
                    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<$ty, D::Error> {
                        $ty::deserialize(d)
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<$ty, A::Error> {
                        while a.next_element::<IgnoredAny>()?.is_some() {}
                        Ok($ty(None))
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<$ty, A::Error> {
                        while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                        Ok($ty(None))
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

lenient_leaf!(Text, "a string",
    visit_str(&str) => |v: &str| (!v.is_empty()).then(|| v.into()),
    visit_i64(i64) => |_| None,
    visit_u64(u64) => |_| None);
lenient_leaf!(Stamp, "an RFC 3339 time",
    visit_str(&str) => |v: &str| parse_time(Some(v)),
    visit_i64(i64) => |_| None,
    visit_u64(u64) => |_| None);
lenient_leaf!(Int, "an integer",
    visit_str(&str) => |_| None,
    visit_i64(i64) => Some,
    visit_u64(u64) => |v: u64| i64::try_from(v).ok());

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for Node<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for V<T> {
            type Value = Node<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<Node<T>, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(a)).map(Node)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Node<T>, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Node(T::default()))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node<T>, D::Error> {
                Node::deserialize(d)
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Node<T>, E> {
                Ok(Node(T::default()))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Node<T>, E> {
                Ok(Node(T::default()))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Node<T>, E> {
                Ok(Node(T::default()))
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Node<T>, E> {
                Ok(Node(T::default()))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Node<T>, E> {
                Ok(Node(T::default()))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Node<T>, E> {
                Ok(Node(T::default()))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Node<T>, E> {
                Ok(Node(T::default()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<List<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = a.next_element()? {
                    out.push(x);
                }
                Ok(List(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<List<T>, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(List::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<List<T>, D::Error> {
                List::deserialize(d)
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<List<T>, E> {
                Ok(List::default())
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<List<T>, E> {
                Ok(List::default())
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<List<T>, E> {
                Ok(List::default())
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<List<T>, E> {
                Ok(List::default())
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<List<T>, E> {
                Ok(List::default())
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<List<T>, E> {
                Ok(List::default())
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<List<T>, E> {
                Ok(List::default())
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Doc {
    metadata: Node<Meta>,
    spec: Node<Spec>,
    status: Node<Status>,
    #[serde(rename = "type")]
    kind: Text,
    last_timestamp: Stamp,
    event_time: Stamp,
    first_timestamp: Stamp,
    series: Node<Series>,
    webhooks: List<Node<Webhook>>,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Meta {
    uid: Text,
    creation_timestamp: Stamp,
    deletion_timestamp: Stamp,
    finalizers: List<Text>,
    owner_references: List<Node<Owner>>,
    labels: Node<Labels>,
    annotations: Node<Annotations>,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Owner {
    api_version: Text,
    kind: Text,
    name: Text,
    uid: Text,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Labels {
    #[serde(rename = "kubernetes.io/service-name")]
    service_name: Text,
    #[serde(rename = "apiserver.kubernetes.io/identity")]
    identity: Text,
    #[serde(rename = "k8s.io/component")]
    component: Text,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Annotations {
    #[serde(rename = "kubernetes.io/service-account.name")]
    sa_name: Text,
    #[serde(rename = "kubernetes.io/service-account.uid")]
    sa_uid: Text,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Spec {
    node_name: Text,
    holder_identity: Text,
    renew_time: Stamp,
    lease_duration_seconds: Int,
    ttl_seconds_after_finished: Int,
    group: Text,
    scope: Text,
    names: Node<Names>,
    service: Node<ServiceRef>,
    replicas: Int,
    revision_history_limit: Int,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Names {
    kind: Text,
    plural: Text,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ServiceRef {
    namespace: Text,
    name: Text,
}

impl ServiceRef {
    fn pair(&self) -> Option<(Box<str>, Box<str>)> {
        Some((self.namespace.0.clone()?, self.name.0.clone()?))
    }
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Status {
    phase: Text,
    reason: Text,
    completion_time: Stamp,
    replicas: Int,
    conditions: List<Node<Condition>>,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Condition {
    #[serde(rename = "type")]
    kind: Text,
    status: Text,
    last_heartbeat_time: Stamp,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Series {
    last_observed_time: Stamp,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Webhook {
    client_config: Node<ClientConfig>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ClientConfig {
    service: Node<ServiceRef>,
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
    fn odd_field_types_read_as_absent() {
        let f = extract(
            "replicasets",
            &json!({"metadata": {"uid": 7, "finalizers": "x", "ownerReferences": {"a": 1}},
                    "spec": {"replicas": "zero"}, "status": []}),
        );
        assert_eq!(
            f,
            ObjectFacts {
                kind: KindFacts::ReplicaSet { idle: false },
                ..ObjectFacts::default()
            }
        );
        let bytes = br#"{"metadata":{"uid":"u","labels":{"kubernetes.io/service-name":"web"}},"spec":{"x":[1,{"y":null}]}}"#;
        let f = extract_json("endpointslices", bytes).unwrap();
        assert_eq!(f.uid.as_deref(), Some("u"));
        assert_eq!(
            f.kind,
            KindFacts::EndpointSlice {
                service_name: Some("web".into())
            }
        );
        assert!(extract_json("pods", b"{not json").is_none());
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
