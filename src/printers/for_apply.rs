//! `get --for-apply`: an object as read from etcd, made ready for `kubectl apply -f -` /
//! `kubectl create -f -` — what the API server and the controllers set is removed, what the
//! user wrote stays. Every rule and why: `docs/for-apply.md`.

use serde_json::{Map, Value};

/// Metadata the API server sets on every object (and refuses, or ignores, on create).
pub const SERVER_METADATA: &[&str] = &[
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// The PV controller's binding annotations on a claim, and the scheduler's choice of node
/// for a `WaitForFirstConsumer` claim.
const CLAIM_BINDING_ANNOTATIONS: &[&str] = &[
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
    "volume.kubernetes.io/selected-node",
];

/// The labels the Job controller generates from the Job's uid (old and new names).
const JOB_UID_LABELS: &[&str] = &["controller-uid", "batch.kubernetes.io/controller-uid"];

/// What `--for-apply` keeps on request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ForApply {
    /// `--keep-owners`: keep `metadata.ownerReferences` (the owners still exist, same uids).
    pub keep_owners: bool,
    /// `--keep-bindings`: keep PVC `spec.volumeName` and PV `spec.claimRef` (by name).
    pub keep_bindings: bool,
}

impl ForApply {
    /// Strips `object` in place.
    pub fn strip(self, object: &mut Value) {
        let Some(map) = object.as_object_mut() else {
            return;
        };
        map.shift_remove("status");
        let group = map
            .get("apiVersion")
            .and_then(Value::as_str)
            .and_then(|v| v.rsplit_once('/'))
            .map_or("", |(g, _)| g)
            .to_string();
        let kind = map
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if let Some(meta) = object_at(map, "metadata") {
            for field in SERVER_METADATA {
                meta.shift_remove(*field);
            }
            if !self.keep_owners {
                meta.shift_remove("ownerReferences");
            }
        }
        match (group.as_str(), kind.as_str()) {
            ("", "Service") => service(map),
            ("", "PersistentVolumeClaim") if !self.keep_bindings => {
                remove_at(map, &["spec", "volumeName"]);
                remove_annotations(map, CLAIM_BINDING_ANNOTATIONS);
            }
            ("", "PersistentVolume") if self.keep_bindings => {
                remove_at(map, &["spec", "claimRef", "uid"]);
                remove_at(map, &["spec", "claimRef", "resourceVersion"]);
            }
            ("", "PersistentVolume") => {
                remove_at(map, &["spec", "claimRef"]);
                remove_annotations(map, &["pv.kubernetes.io/bound-by-controller"]);
            }
            ("", "Pod") => {
                for field in ["nodeName", "priority", "ephemeralContainers"] {
                    remove_at(map, &["spec", field]);
                }
            }
            ("batch", "Job") => job(map),
            _ => {}
        }
        if let Some(meta) = object_at(map, "metadata") {
            for field in ["annotations", "labels"] {
                if meta.get(field).is_some_and(is_empty_map) {
                    meta.shift_remove(field);
                }
            }
        }
    }
}

/// The cluster IPs are allocated again; a headless Service (`None`) stays headless.
fn service(map: &mut Map<String, Value>) {
    let headless = map
        .get("spec")
        .and_then(|s| s.get("clusterIP"))
        .and_then(Value::as_str)
        == Some("None");
    if !headless {
        remove_at(map, &["spec", "clusterIP"]);
        remove_at(map, &["spec", "clusterIPs"]);
    }
}

/// A Job's generated selector names the old uid, which the API server refuses on create
/// unless `manualSelector` is set.
fn job(map: &mut Map<String, Value>) {
    let manual = map
        .get("spec")
        .and_then(|s| s.get("manualSelector"))
        .and_then(Value::as_bool)
        == Some(true);
    if manual {
        return;
    }
    remove_at(map, &["spec", "selector"]);
    for label in JOB_UID_LABELS {
        remove_at(map, &["spec", "template", "metadata", "labels", label]);
        remove_at(map, &["metadata", "labels", label]);
    }
}

fn object_at<'a>(
    map: &'a mut Map<String, Value>,
    field: &str,
) -> Option<&'a mut Map<String, Value>> {
    map.get_mut(field).and_then(Value::as_object_mut)
}

/// Removes the field at `path` (its last element) if every map on the way exists.
fn remove_at(map: &mut Map<String, Value>, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = map;
    for p in parents {
        match object_at(at, p) {
            Some(next) => at = next,
            None => return,
        }
    }
    at.shift_remove(*last);
}

fn remove_annotations(map: &mut Map<String, Value>, keys: &[&str]) {
    for key in keys {
        remove_at(map, &["metadata", "annotations", key]);
    }
}

fn is_empty_map(v: &Value) -> bool {
    v.as_object().is_some_and(Map::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stripped(object: Value, opts: ForApply) -> Value {
        let mut object = object;
        opts.strip(&mut object);
        object
    }

    fn meta(extra: Value) -> Value {
        let mut m = json!({"name": "x", "namespace": "ns", "uid": "u", "resourceVersion": "5",
            "creationTimestamp": "2026-01-01T00:00:00Z", "generation": 3, "selfLink": "/x",
            "managedFields": [{"manager": "kubectl"}], "deletionTimestamp": "2026-01-02T00:00:00Z",
            "deletionGracePeriodSeconds": 30,
            "ownerReferences": [{"kind": "ReplicaSet", "name": "r", "uid": "o"}],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
            "finalizers": ["example.com/keep"]});
        m.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        m
    }

    #[test]
    fn server_metadata_and_status_go_the_users_fields_stay() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(json!({})),
            "data": {"a": "1"}, "status": {"x": 1}});
        let out = stripped(cm.clone(), ForApply::default());
        assert_eq!(
            out,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x",
                "namespace": "ns",
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
                "finalizers": ["example.com/keep"]}, "data": {"a": "1"}})
        );
        let kept = stripped(
            cm,
            ForApply {
                keep_owners: true,
                ..ForApply::default()
            },
        );
        assert_eq!(kept["metadata"]["ownerReferences"][0]["uid"], "o");
    }

    #[test]
    fn services_get_new_cluster_ips_unless_headless() {
        let svc = |ip: &str| {
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                "spec": {"clusterIP": ip, "clusterIPs": [ip], "ports": [{"port": 80, "nodePort": 30080}]}})
        };
        let out = stripped(svc("10.96.0.10"), ForApply::default());
        assert_eq!(
            out["spec"],
            json!({"ports": [{"port": 80, "nodePort": 30080}]})
        );
        let out = stripped(svc("None"), ForApply::default());
        assert_eq!(out["spec"]["clusterIP"], "None");
        assert_eq!(out["spec"]["clusterIPs"], json!(["None"]));
    }

    #[test]
    fn volume_bindings_only_on_request() {
        let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "annotations": {"pv.kubernetes.io/bind-completed": "yes",
                "pv.kubernetes.io/bound-by-controller": "yes", "volume.kubernetes.io/selected-node": "n1"}},
            "spec": {"volumeName": "pv-1", "storageClassName": "fast"}});
        let out = stripped(pvc.clone(), ForApply::default());
        assert_eq!(out["spec"], json!({"storageClassName": "fast"}));
        assert!(out["metadata"].get("annotations").is_none(), "{out}");
        let keep = ForApply {
            keep_bindings: true,
            ..ForApply::default()
        };
        let out = stripped(pvc.clone(), keep);
        assert_eq!(out["spec"], pvc["spec"]);
        assert_eq!(out["metadata"], pvc["metadata"]);

        let pv = json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-1"},
            "spec": {"claimRef": {"kind": "PersistentVolumeClaim", "namespace": "ns", "name": "data",
                "uid": "u", "resourceVersion": "7"}, "capacity": {"storage": "1Gi"}}});
        let out = stripped(pv.clone(), ForApply::default());
        assert_eq!(out["spec"], json!({"capacity": {"storage": "1Gi"}}));
        let out = stripped(pv, keep);
        assert_eq!(
            out["spec"]["claimRef"],
            json!({"kind": "PersistentVolumeClaim", "namespace": "ns", "name": "data"})
        );
    }

    #[test]
    fn pods_are_scheduled_again_and_jobs_get_a_new_selector() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"nodeName": "n1", "priority": 1000, "priorityClassName": "high",
                "ephemeralContainers": [{"name": "debug"}], "containers": [{"name": "c"}]}});
        let out = stripped(pod, ForApply::default());
        assert_eq!(
            out["spec"],
            json!({"priorityClassName": "high", "containers": [{"name": "c"}]})
        );

        let labels = json!({"controller-uid": "u", "batch.kubernetes.io/controller-uid": "u",
            "job-name": "j", "batch.kubernetes.io/job-name": "j"});
        let job = json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "j", "labels": labels},
            "spec": {"selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
                "template": {"metadata": {"labels": labels}, "spec": {}}}});
        let out = stripped(job.clone(), ForApply::default());
        let left = json!({"job-name": "j", "batch.kubernetes.io/job-name": "j"});
        assert_eq!(out["metadata"]["labels"], left);
        assert_eq!(out["spec"]["template"]["metadata"]["labels"], left);
        assert!(out["spec"].get("selector").is_none(), "{out}");
        let mut manual = job;
        manual["spec"]["manualSelector"] = json!(true);
        let out = stripped(manual.clone(), ForApply::default());
        assert_eq!(out["spec"], manual["spec"]);
    }
}
