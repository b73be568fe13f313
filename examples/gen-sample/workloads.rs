//! Pods and the controllers that own them, in the shapes kube-apiserver stores (spec, status and
//! the managedFields of the client that wrote each part).

use serde_json::{Value, json};

use crate::cluster::Node;
use crate::meta::*;

/// What a pod is doing at the snapshot.
#[derive(Clone, Copy)]
pub enum State {
    /// Running and ready, after `restarts` restarts.
    Running { restarts: i64 },
    /// Crashing: `restarts` restarts, the last one `last` seconds ago with `exit` code.
    CrashLoop { restarts: i64, last: i64, exit: i64 },
    /// Not scheduled: no node has room.
    Pending,
    /// A Job's pod that ran to completion in `ran` seconds.
    Completed { ran: i64 },
    /// On a node that stopped answering: deleted by the taint eviction controller `deleted`
    /// seconds ago, and still there since no kubelet confirms it.
    NodeLost { deleted: i64 },
}

pub struct PodSpec<'a> {
    pub ns: &'a str,
    pub name: &'a str,
    pub node: Option<&'a str>,
    pub node_ip: &'a str,
    pub pod_ip: &'a str,
    pub created: i64,
    pub labels: Value,
    pub owner: Option<Value>,
    pub image: &'a str,
    pub container: &'a str,
    pub state: State,
    pub restart_policy: &'a str,
}

fn condition(kind: &str, status: bool, secs: i64) -> Value {
    json!({"type": kind, "status": if status {"True"} else {"False"},
        "lastProbeTime": null, "lastTransitionTime": ago(secs)})
}

fn container_id(seed: &str) -> String {
    let mut id = String::new();
    for i in 0..4 {
        id.push_str(&uid(&format!("{seed}/{i}")).replace('-', "")[..16]);
    }
    format!("containerd://{id}")
}

fn digest(image: &str) -> String {
    let repo = image.split(':').next().unwrap_or(image);
    let d: String = (0..4)
        .map(|i| uid(&format!("{image}/{i}")).replace('-', "")[..16].to_string())
        .collect();
    format!("{repo}@sha256:{d}")
}

pub fn pod(p: PodSpec) -> Value {
    // Static pods (mirrors of the kubelet's manifests, owned by their Node) have no account.
    let static_pod = p.owner.as_ref().is_some_and(|o| o["kind"] == "Node");
    let sa = if static_pod { None } else { Some("default") };
    let mut spec = json!({
        "volumes": [{"name": format!("kube-api-access-{}", suffix(p.name, 5)), "projected": {
            "sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}],
            "defaultMode": 420}}],
        "containers": [{"name": p.container, "image": p.image,
            "resources": {"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent"}],
        "restartPolicy": p.restart_policy,
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "securityContext": {},
        "schedulerName": "default-scheduler",
        "tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
        "priority": 0,
        "enableServiceLinks": true,
        "preemptionPolicy": "PreemptLowerPriority"
    });
    match sa {
        Some(sa) => {
            spec["serviceAccountName"] = json!(sa);
            spec["serviceAccount"] = json!(sa);
        }
        None => {
            spec.as_object_mut().unwrap().remove("volumes");
        }
    }
    if let Some(node) = p.node {
        spec["nodeName"] = json!(node);
    }
    let started = p.created - 5;
    let cid = container_id(&format!("{}/{}", p.ns, p.name));
    let base = |state: Value, last: Value, ready: bool, restarts: i64| {
        json!([{"name": p.container, "state": state, "lastState": last, "ready": ready,
            "restartCount": restarts, "image": p.image, "imageID": digest(p.image),
            "containerID": cid, "started": ready}])
    };
    let mut status = match p.state {
        State::Running { restarts } => json!({"phase": "Running",
            "conditions": [condition("PodReadyToStartContainers", true, started),
                condition("Initialized", true, p.created), condition("Ready", true, started),
                condition("ContainersReady", true, started), condition("PodScheduled", true, p.created)],
            "containerStatuses": base(json!({"running": {"startedAt": ago(started)}}), json!({}), true, restarts)}),
        State::CrashLoop {
            restarts,
            last,
            exit,
        } => json!({"phase": "Running",
            "conditions": [condition("PodReadyToStartContainers", true, started),
                condition("Initialized", true, p.created), condition("Ready", false, last),
                condition("ContainersReady", false, last), condition("PodScheduled", true, p.created)],
            "containerStatuses": base(
                json!({"waiting": {"reason": "CrashLoopBackOff",
                    "message": format!("back-off 5m0s restarting failed container={} pod={}_{}({})", p.container, p.name, p.ns, uid(&format!("Pod/{}/{}", p.ns, p.name)))}}),
                json!({"terminated": {"exitCode": exit, "reason": "Error",
                    "startedAt": ago(last + 4), "finishedAt": ago(last), "containerID": cid}}),
                false, restarts)}),
        State::Pending => json!({"phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "lastProbeTime": null,
                "lastTransitionTime": ago(p.created), "reason": "Unschedulable",
                "message": "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 Insufficient cpu. preemption: 0/4 nodes are available: 2 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."}],
            "qosClass": "Burstable"}),
        State::Completed { ran } => json!({"phase": "Succeeded",
            "conditions": [condition("PodReadyToStartContainers", false, p.created - ran),
                json!({"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": ago(p.created), "reason": "PodCompleted"}),
                json!({"type": "Ready", "status": "False", "lastProbeTime": null, "lastTransitionTime": ago(p.created - ran), "reason": "PodCompleted"}),
                json!({"type": "ContainersReady", "status": "False", "lastProbeTime": null, "lastTransitionTime": ago(p.created - ran), "reason": "PodCompleted"}),
                condition("PodScheduled", true, p.created)],
            "containerStatuses": base(json!({"terminated": {"exitCode": 0, "reason": "Completed",
                "startedAt": ago(started), "finishedAt": ago(p.created - ran), "containerID": cid}}), json!({}), false, 0)}),
        State::NodeLost { .. } => json!({"phase": "Running",
            "conditions": [condition("PodReadyToStartContainers", true, started),
                condition("Initialized", true, p.created), condition("Ready", false, crate::cluster::LOST - 40),
                condition("ContainersReady", true, started), condition("PodScheduled", true, p.created),
                json!({"type": "DisruptionTarget", "status": "True", "lastProbeTime": null, "lastTransitionTime": ago(crate::cluster::LOST - 340), "reason": "DeletionByTaintManager", "message": "Taint manager: deleting due to NoExecute taint"})],
            "containerStatuses": base(json!({"running": {"startedAt": ago(started)}}), json!({}), true, 0)}),
    };
    if p.node.is_some() {
        status["hostIP"] = json!(p.node_ip);
        status["hostIPs"] = json!([{"ip": p.node_ip}]);
        status["podIP"] = json!(p.pod_ip);
        status["podIPs"] = json!([{"ip": p.pod_ip}]);
        status["startTime"] = json!(ago(p.created));
        status["qosClass"] = json!("Burstable");
    }
    let mut obj = set(
        object("v1", "Pod", Some(p.ns), p.name, p.created),
        json!({"metadata.labels": p.labels, "spec": spec, "status": status}),
    );
    if let Some(o) = &p.owner {
        obj["metadata"]["ownerReferences"] = json!([o]);
    }
    let writer = if p.owner.is_some() && !static_pod {
        "kube-controller-manager"
    } else {
        "kubelet"
    };
    obj = managed(obj, writer, p.created, &["metadata.labels", "spec"]);
    if p.node.is_some() {
        obj = managed(obj, "kube-scheduler", p.created, &["status"]);
    }
    let kubelet_time = match p.state {
        State::CrashLoop { last, .. } => last,
        State::Completed { ran } => p.created - ran,
        State::NodeLost { .. } => crate::cluster::LOST - 40,
        _ => started,
    };
    if p.node.is_some() {
        obj = managed(obj, "kubelet", kubelet_time, &["status"]);
    } else {
        obj = managed(obj, "kube-scheduler", p.created, &["status"]);
    }
    if let State::NodeLost { deleted } = p.state {
        obj["metadata"]["deletionTimestamp"] = json!(ago(deleted - 30));
        obj["metadata"]["deletionGracePeriodSeconds"] = json!(30);
    }
    obj
}

/// The pod template of a controller: labels and one container.
pub fn template(labels: &Value, container: &str, image: &str, port: i64) -> Value {
    json!({"metadata": {"creationTimestamp": null, "labels": labels},
        "spec": {"containers": [{"name": container, "image": image,
            "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
            "resources": {"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent"}],
        "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
        "securityContext": {}, "schedulerName": "default-scheduler"}})
}

pub struct Workload<'a> {
    pub ns: &'a str,
    pub name: &'a str,
    pub created: i64,
    pub labels: Value,
    pub image: &'a str,
    pub port: i64,
    pub replicas: i64,
    pub ready: i64,
    /// When the current ReplicaSet was created (the last rollout).
    pub rolled: i64,
    pub manager: &'a str,
}

/// A Deployment and its current ReplicaSet; returns (deployment, replicaset, pod-template-hash).
pub fn deployment(w: &Workload) -> (Value, Value, String) {
    let hash = suffix(&format!("{}/{}/{}", w.ns, w.name, w.rolled), 10);
    let tmpl = template(&w.labels, w.name, w.image, w.port);
    let available = w.ready == w.replicas;
    let rs_name = format!("{}-{hash}", w.name);
    let mut d = set(
        object("apps/v1", "Deployment", Some(w.ns), w.name, w.created),
        json!({"metadata.labels": w.labels,
            "metadata.annotations": {"deployment.kubernetes.io/revision": "1"},
            "spec": {"replicas": w.replicas, "selector": {"matchLabels": w.labels}, "template": tmpl,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
            "status": {"observedGeneration": 1, "replicas": w.replicas, "updatedReplicas": w.replicas,
                "readyReplicas": w.ready, "availableReplicas": w.ready,
                "unavailableReplicas": w.replicas - w.ready,
                "conditions": [
                    {"type": "Available", "status": if available {"True"} else {"False"},
                        "lastUpdateTime": ago(w.rolled), "lastTransitionTime": ago(w.rolled),
                        "reason": if available {"MinimumReplicasAvailable"} else {"MinimumReplicasUnavailable"},
                        "message": if available {"Deployment has minimum availability."} else {"Deployment does not have minimum availability."}},
                    {"type": "Progressing", "status": "True", "lastUpdateTime": ago(w.rolled),
                        "lastTransitionTime": ago(w.created), "reason": "NewReplicaSetAvailable",
                        "message": format!("ReplicaSet \"{rs_name}\" has successfully progressed.")}]}}),
    );
    if w.ready == w.replicas {
        d["status"]
            .as_object_mut()
            .unwrap()
            .remove("unavailableReplicas");
    }
    d["metadata"]["generation"] = json!(1);
    let d = managed(d, w.manager, w.created, &["metadata.labels", "spec"]);
    let d = managed(d, "kube-controller-manager", w.rolled, &["status"]);

    let mut rs_labels = w.labels.clone();
    rs_labels["pod-template-hash"] = json!(hash);
    let mut rs_tmpl = tmpl.clone();
    rs_tmpl["metadata"]["labels"] = rs_labels.clone();
    let mut rs = set(
        object("apps/v1", "ReplicaSet", Some(w.ns), &rs_name, w.rolled),
        json!({"metadata.labels": rs_labels,
            "metadata.annotations": {"deployment.kubernetes.io/desired-replicas": w.replicas.to_string(),
                "deployment.kubernetes.io/max-replicas": (w.replicas + 1).to_string(),
                "deployment.kubernetes.io/revision": "1"},
            "spec": {"replicas": w.replicas, "selector": {"matchLabels": rs_labels}, "template": rs_tmpl},
            "status": {"replicas": w.replicas, "fullyLabeledReplicas": w.replicas,
                "readyReplicas": w.ready, "availableReplicas": w.ready, "observedGeneration": 1}}),
    );
    rs["metadata"]["generation"] = json!(1);
    rs["metadata"]["ownerReferences"] = json!([owner("apps/v1", "Deployment", Some(w.ns), w.name)]);
    let rs = managed(
        rs,
        "kube-controller-manager",
        w.rolled,
        &["metadata.labels", "spec"],
    );
    let rs = managed(rs, "kube-controller-manager", w.rolled, &["status"]);
    (d, rs, hash)
}

/// A DaemonSet running one pod per node in `nodes`.
pub fn daemonset(w: &Workload, nodes: i64) -> Value {
    let d = set(
        object("apps/v1", "DaemonSet", Some(w.ns), w.name, w.created),
        json!({"metadata.labels": w.labels,
            "metadata.annotations": {"deprecated.daemonset.template.generation": "1"},
            "spec": {"selector": {"matchLabels": w.labels},
                "template": template(&w.labels, w.name, w.image, w.port),
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
                "revisionHistoryLimit": 10},
            "status": {"currentNumberScheduled": nodes, "numberMisscheduled": 0,
                "desiredNumberScheduled": nodes, "numberReady": w.ready, "observedGeneration": 1,
                "updatedNumberScheduled": nodes, "numberAvailable": w.ready,
                "numberUnavailable": nodes - w.ready}}),
    );
    let d = managed(d, w.manager, w.created, &["metadata.labels", "spec"]);
    managed(
        d,
        "kube-controller-manager",
        crate::cluster::EVICTED,
        &["status"],
    )
}

/// An Event about `kind/name` (`ns`), seen `count` times, first `first` and last `last`
/// seconds ago, reported by `component` on `host`.
#[allow(clippy::too_many_arguments)]
pub fn event(
    ns: &str,
    kind: &str,
    name: &str,
    type_: &str,
    reason: &str,
    message: &str,
    (first, last, count): (i64, i64, i64),
    (component, host): (&str, &str),
) -> Value {
    // kube-apiserver clients name Events `<object>.<unix nanos in hex>`.
    let nanos =
        (T - first) as u64 * 1_000_000_000 + hash(&format!("{name}/{reason}"), 4) % 1_000_000_000;
    let ev_name = format!("{name}.{nanos:x}");
    let mut involved = json!({"kind": kind, "namespace": ns, "name": name,
        "uid": uid(&format!("{kind}/{ns}/{name}")), "apiVersion": if kind == "Pod" || kind == "Node" {"v1"} else {"apps/v1"}});
    if kind == "Pod" {
        involved["fieldPath"] = json!(format!(
            "spec.containers{{{}}}",
            name.split('-').next().unwrap_or(name)
        ));
    }
    if kind == "Node" {
        involved.as_object_mut().unwrap().remove("namespace");
    }
    let mut e = set(
        object("v1", "Event", Some(ns), &ev_name, first),
        json!({"involvedObject": involved, "reason": reason, "message": message,
            "source": {"component": component}, "firstTimestamp": ago(first),
            "lastTimestamp": ago(last), "count": count, "type": type_, "eventTime": null,
            "reportingComponent": component, "reportingInstance": host}),
    );
    if !host.is_empty() {
        e["source"]["host"] = json!(host);
    }
    managed(
        e,
        component,
        last,
        &["involvedObject", "reason", "message", "source", "count"],
    )
}

/// One pod of a workload: its node (none when Pending), IP, state, and when it was created
/// (`None`: at the workload's last rollout).
pub type PodAt<'a> = (&'a Node, &'a str, State, Option<i64>);

/// A Deployment, its ReplicaSet and their pods; returns the pods' names.
pub fn workload(s: &mut Store, w: &Workload, pods: &[PodAt]) -> Vec<String> {
    let (d, rs, hash) = deployment(w);
    s.put("deployments", &d);
    s.put("replicasets", &rs);
    let rs_name = rs["metadata"]["name"].as_str().unwrap().to_string();
    let mut labels = w.labels.clone();
    labels["pod-template-hash"] = json!(hash);
    let mut names = Vec::new();
    for (i, (node, ip, state, created)) in pods.iter().enumerate() {
        let name = format!("{rs_name}-{}", suffix(&format!("{rs_name}/{i}"), 5));
        let pending = matches!(state, State::Pending);
        let created = created.unwrap_or(w.rolled - 3 - i as i64);
        let state = *state;
        s.put(
            "pods",
            &pod(PodSpec {
                ns: w.ns,
                name: &name,
                node: (!pending).then_some(node.name),
                node_ip: node.ip,
                pod_ip: ip,
                created,
                labels: labels.clone(),
                owner: Some(owner("apps/v1", "ReplicaSet", Some(w.ns), &rs_name)),
                image: w.image,
                container: w.name,
                state,
                restart_policy: "Always",
            }),
        );
        names.push(name);
    }
    names
}

/// A Service with its Endpoints and EndpointSlice, the pods given as (name, IP, node).
#[allow(clippy::too_many_arguments)]
pub fn service(
    s: &mut Store,
    ns: &str,
    name: &str,
    ip: &str,
    port: i64,
    selector: Value,
    pods: &[(&str, &str, &str)],
    created: i64,
) {
    let svc = set(
        object("v1", "Service", Some(ns), name, created),
        json!({"metadata.labels": selector,
            "spec": {"ports": [{"name": "http", "protocol": "TCP", "port": port, "targetPort": port}],
                "selector": selector, "clusterIP": ip, "clusterIPs": [ip], "type": "ClusterIP",
                "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                "internalTrafficPolicy": "Cluster"},
            "status": {"loadBalancer": {}}}),
    );
    s.put(
        "services/specs",
        &managed(
            svc,
            "kubectl-client-side-apply",
            created,
            &["metadata.labels", "spec"],
        ),
    );
    let addresses: Vec<Value> = pods.iter().map(|(pod, ip, node)| json!({"ip": ip, "nodeName": node,
        "targetRef": {"kind": "Pod", "namespace": ns, "name": pod, "uid": uid(&format!("Pod/{ns}/{pod}"))}})).collect();
    let mut ep = object("v1", "Endpoints", Some(ns), name, created);
    ep["metadata"]["labels"] = selector.clone();
    ep["metadata"]["annotations"] =
        json!({"endpoints.kubernetes.io/last-change-trigger-time": ago(created)});
    if !addresses.is_empty() {
        ep["subsets"] = json!([{"addresses": addresses, "ports": [{"name": "http", "port": port, "protocol": "TCP"}]}]);
    }
    s.put(
        "services/endpoints",
        &managed(
            ep,
            "kube-controller-manager",
            created,
            &["metadata.labels", "subsets"],
        ),
    );
    let slice_name = format!("{name}-{}", suffix(&format!("slice/{ns}/{name}"), 5));
    let endpoints: Vec<Value> = pods.iter().map(|(pod, ip, node)| json!({"addresses": [ip],
        "conditions": {"ready": true, "serving": true, "terminating": false}, "nodeName": node,
        "targetRef": {"kind": "Pod", "namespace": ns, "name": pod, "uid": uid(&format!("Pod/{ns}/{pod}"))}})).collect();
    let mut labels = selector.clone();
    labels["endpointslice.kubernetes.io/managed-by"] = json!("endpointslice-controller.k8s.io");
    labels["kubernetes.io/service-name"] = json!(name);
    let mut es = set(
        object(
            "discovery.k8s.io/v1",
            "EndpointSlice",
            Some(ns),
            &slice_name,
            created,
        ),
        json!({"metadata.labels": labels, "addressType": "IPv4", "endpoints": endpoints,
            "ports": [{"name": "http", "protocol": "TCP", "port": port}]}),
    );
    es["metadata"]["generateName"] = json!(format!("{name}-"));
    es["metadata"]["ownerReferences"] = json!([owner("v1", "Service", Some(ns), name)]);
    s.put(
        "endpointslices",
        &managed(
            es,
            "kube-controller-manager",
            created,
            &["metadata.labels", "endpoints", "ports"],
        ),
    );
}
