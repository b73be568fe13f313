//! What `revkeeper stale`, `leases` and the TUI demonstrate on the sample, in namespace `demo`
//! and around it: history with a compaction, a deleted and a re-created key, and the findings
//! (node lease without its Node, orphaned ReplicaSet, Event without a lease, custom resource
//! without its CRD, namespace stuck Terminating, an event lease without keys).

use serde_json::json;

use crate::cluster::{AGE, configmap};
use crate::meta::*;
use crate::workloads::*;

/// Config maps edited several times, an early compaction (recorded in `compact_rev_key` as
/// kube-apiserver does), a deleted pod and a deleted then re-created config map.
pub fn history(s: &mut Store) {
    for i in 0..4 {
        let name = format!("app-{i}");
        let cm = configmap(
            "demo",
            &name,
            20 * DAY,
            json!({"replicas": i.to_string()}),
            "kubectl-create",
        );
        s.put("configmaps", &cm);
    }
    for v in 1..=5 {
        let cm = configmap(
            "demo",
            "settings",
            20 * DAY - v * DAY,
            json!({"version": v.to_string(), "feature.checkout-v2": (v >= 4).to_string()}),
            "kubectl-edit",
        );
        s.put("configmaps", &cm);
    }
    let rev = s.revision();
    s.compact(rev - 2);
    let pod = |name: &str, state| {
        pod(PodSpec {
            ns: "demo",
            name,
            node: Some("worker-1"),
            node_ip: "10.0.0.11",
            pod_ip: "10.244.1.50",
            created: 19 * DAY,
            labels: json!({"app": "demo"}),
            owner: None,
            image: "docker.io/library/nginx:1.27",
            container: "nginx",
            state,
            restart_policy: "Always",
        })
    };
    s.put("pods", &pod("nginx", State::Running { restarts: 0 }));
    s.put("pods", &pod("nginx-debug", State::Running { restarts: 0 }));
    s.delete("/registry/pods/demo/nginx-debug");
    s.delete("/registry/configmaps/demo/app-1");
    s.put(
        "configmaps",
        &configmap(
            "demo",
            "app-1",
            2 * DAY,
            json!({"replicas": "9"}),
            "kubectl-create",
        ),
    );
}

/// The findings, each with its cause.
pub fn demo(s: &mut Store) {
    // A node removed 3 days ago whose lease stayed (it had no owner reference).
    let mut gone = crate::cluster::lease(
        "kube-node-lease",
        "worker-0",
        "worker-0",
        40,
        3 * DAY,
        AGE - 10 * MIN,
    );
    gone["spec"].as_object_mut().unwrap().remove("acquireTime");
    s.beat(3 * DAY, "leases", gone, 0);
    // A ReplicaSet whose Deployment `web` was deleted with --cascade=orphan.
    let mut rs = object("apps/v1", "ReplicaSet", Some("demo"), "web-5f6d8", 15 * DAY);
    rs["metadata"]["ownerReferences"] =
        json!([owner("apps/v1", "Deployment", Some("demo"), "web")]);
    rs["metadata"]["labels"] = json!({"app": "web", "pod-template-hash": "5f6d8"});
    rs["spec"] = json!({"replicas": 0, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5f6d8"}},
        "template": template(&json!({"app": "web", "pod-template-hash": "5f6d8"}), "web", "docker.io/library/nginx:1.27", 80)});
    rs["status"] = json!({"replicas": 0, "observedGeneration": 2});
    s.put(
        "replicasets",
        &managed(
            rs,
            "kube-controller-manager",
            15 * DAY,
            &["metadata.labels", "spec"],
        ),
    );
    // An Event restored from an old backup by a tool that dropped its lease: it never expires.
    let mut ev = event(
        "demo",
        "ReplicaSet",
        "web-5f6d8",
        "Normal",
        "SuccessfulDelete",
        "Deleted pod: web-5f6d8-qx7p2",
        (15 * DAY, 15 * DAY, 1),
        ("replicaset-controller", ""),
    );
    ev["metadata"]["name"] = json!("web-5f6d8.restored");
    s.put("events", &ev);
    // A Widget left behind when its CRD was deleted: invisible to the API.
    let w = set(
        object("example.com/v1", "Widget", Some("demo"), "w1", 19 * DAY),
        json!({"spec": {"size": 3}, "status": {"phase": "Ready"}}),
    );
    s.put_json("example.com/widgets", &w);
    // A namespace deleted 2 days ago while an aggregated API was down: the namespace
    // controller gave up, the `kubernetes` finalizer stays.
    let mut ns = object("v1", "Namespace", None, "old-team", 200 * DAY);
    ns["metadata"]["deletionTimestamp"] = json!(ago(2 * DAY));
    ns["metadata"]["labels"] = json!({"kubernetes.io/metadata.name": "old-team"});
    ns["spec"] = json!({"finalizers": ["kubernetes"]});
    ns["status"] = json!({"phase": "Terminating", "conditions": [
        {"type": "NamespaceDeletionDiscoveryFailure", "status": "True", "lastTransitionTime": ago(2 * DAY), "reason": "DiscoveryFailed",
            "message": "Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: widgets.example.com/v1alpha1: the server is currently unable to handle the request"}]});
    s.put("namespaces", &ns);
    // An event lease granted by an apiserver that then stopped: no key is attached.
    s.grant(3660);
}

/// The apiserver's endpoint in `default/kubernetes`, on a 15 s lease as it refreshes it. The
/// snapshot must be taken within 15 s of this.
pub fn masterlease(s: &mut Store) {
    let lease = s.grant(15);
    let mut ep = object("v1", "Endpoints", None, "10.0.0.10", 0);
    ep["metadata"] = json!({"name": "10.0.0.10", "creationTimestamp": null});
    ep["subsets"] = json!([{"addresses": [{"ip": "10.0.0.10"}], "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]);
    s.put_leased("masterleases", &ep, lease);
    let svc = set(
        object("v1", "Service", Some("default"), "kubernetes", AGE),
        json!({"metadata.labels": {"component": "apiserver", "provider": "kubernetes"},
            "spec": {"ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 6443}],
                "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"], "type": "ClusterIP", "sessionAffinity": "None",
                "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"},
            "status": {"loadBalancer": {}}}),
    );
    s.put(
        "services/specs",
        &managed(svc, "kube-apiserver", AGE, &["metadata.labels", "spec"]),
    );
    let ep = set(
        object("v1", "Endpoints", Some("default"), "kubernetes", AGE),
        json!({"metadata.labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
            "subsets": [{"addresses": [{"ip": "10.0.0.10"}], "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]}),
    );
    s.put(
        "services/endpoints",
        &managed(ep, "kube-apiserver", AGE, &["subsets"]),
    );
}
