//! Access and APIs: ServiceAccounts, kube-root-ca.crt in every namespace, a bootstrap token,
//! RBAC, priority classes and the built-in APIServices (stored as JSON).

use serde_json::json;

use crate::cluster::*;
use crate::meta::*;

/// The cluster's ServiceAccounts, Secrets of the bootstrap kind, RBAC, priority classes and the
/// built-in APIServices (stored as JSON).
pub fn access(s: &mut Store) {
    for (ns, created) in NAMESPACES {
        let o = object("v1", "ServiceAccount", Some(ns), "default", created - 1);
        s.put("serviceaccounts", &o);
        s.put("configmaps", &set(
            configmap(ns, "kube-root-ca.crt", created - 1,
                json!({"ca.crt": "-----BEGIN CERTIFICATE-----\nMIIDBTCCAe2gAwIBAgIIb3Zlcm5pZ2h0MA0GCSqGSIb3DQEBCwUAMBUxEzARBgNV\nBAMTCmt1YmVybmV0ZXMwHhcNMjYwMzAyMjIxMTUyWhcNMzYwMjI4MjIxNjUyWjAV\n(sample data, not a real certificate)\n-----END CERTIFICATE-----\n"}),
                "kube-controller-manager"),
            json!({"metadata.annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}}),
        ));
    }
    for (ns, created) in NAMESPACES
        .into_iter()
        .filter(|(ns, _)| !ns.starts_with("kube-"))
    {
        let role = set(
            object(
                "rbac.authorization.k8s.io/v1",
                "Role",
                Some(ns),
                "deployer",
                created,
            ),
            json!({"rules": [{"verbs": ["get", "list", "watch", "create", "update", "patch"], "apiGroups": ["apps"], "resources": ["deployments", "statefulsets"]}]}),
        );
        s.put(
            "roles",
            &managed(role, "argocd-controller", created, &["rules"]),
        );
        let binding = set(
            object(
                "rbac.authorization.k8s.io/v1",
                "RoleBinding",
                Some(ns),
                "deployer",
                created,
            ),
            json!({"subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": format!("team:{ns}")}],
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"}}),
        );
        s.put(
            "rolebindings",
            &managed(
                binding,
                "argocd-controller",
                created,
                &["subjects", "roleRef"],
            ),
        );
    }
    for name in [
        "coredns",
        "kube-proxy",
        "node-controller",
        "replicaset-controller",
        "daemon-set-controller",
        "job-controller",
    ] {
        s.put(
            "serviceaccounts",
            &object("v1", "ServiceAccount", Some("kube-system"), name, AGE - 60),
        );
    }
    let token = set(
        object(
            "v1",
            "Secret",
            Some("kube-system"),
            "bootstrap-token-abcdef",
            AGE - 60,
        ),
        json!({"data": {"auth-extra-groups": "c3lzdGVtOmJvb3RzdHJhcHBlcnM6a3ViZWFkbTpkZWZhdWx0LW5vZGUtdG9rZW4=",
            "expiration": "MjAyNi0wMy0wM1QyMjoxMTo1Mlo=", "token-id": "YWJjZGVm", "token-secret": "c2FtcGxlc2FtcGxlMDAwMA==",
            "usage-bootstrap-authentication": "dHJ1ZQ==", "usage-bootstrap-signing": "dHJ1ZQ=="},
            "type": "bootstrap.kubernetes.io/token"}),
    );
    s.put("secrets", &managed(token, "kubeadm", AGE - 60, &["data"]));
    for (name, verbs) in [
        ("cluster-admin", json!(["*"])),
        (
            "admin",
            json!([
                "get", "list", "watch", "create", "update", "patch", "delete"
            ]),
        ),
        ("edit", json!(["create", "delete", "patch", "update"])),
        ("view", json!(["get", "list", "watch"])),
        ("system:coredns", json!(["list", "watch"])),
        ("system:node-proxier", json!(["list", "watch"])),
        (
            "cert-manager-controller-certificates",
            json!(["get", "list", "watch", "update"]),
        ),
    ] {
        let mut o = set(
            object(
                "rbac.authorization.k8s.io/v1",
                "ClusterRole",
                None,
                name,
                AGE - 60,
            ),
            json!({"rules": [{"verbs": verbs, "apiGroups": [""], "resources": ["pods", "services", "endpoints"]}]}),
        );
        if !name.starts_with("cert-manager") {
            o["metadata"]["labels"] = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
            o["metadata"]["annotations"] =
                json!({"rbac.authorization.kubernetes.io/autoupdate": "true"});
        }
        s.put(
            "clusterroles",
            &managed(o, "kube-apiserver", AGE - 60, &["rules"]),
        );
    }
    for (name, role, subject) in [
        (
            "cluster-admin",
            "cluster-admin",
            json!({"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:masters"}),
        ),
        (
            "kubeadm:cluster-admins",
            "cluster-admin",
            json!({"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "kubeadm:cluster-admins"}),
        ),
        (
            "system:coredns",
            "system:coredns",
            json!({"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}),
        ),
        (
            "kubeadm:node-proxier",
            "system:node-proxier",
            json!({"kind": "ServiceAccount", "name": "kube-proxy", "namespace": "kube-system"}),
        ),
    ] {
        let o = set(
            object(
                "rbac.authorization.k8s.io/v1",
                "ClusterRoleBinding",
                None,
                name,
                AGE - 60,
            ),
            json!({"subjects": [subject], "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}}),
        );
        s.put(
            "clusterrolebindings",
            &managed(o, "kubeadm", AGE - 60, &["subjects", "roleRef"]),
        );
    }
    for (name, value, desc) in [
        (
            "system-cluster-critical",
            2000000000,
            "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
        ),
        (
            "system-node-critical",
            2000001000,
            "Used for system critical pods that must not be moved from their current node.",
        ),
    ] {
        let o = set(
            object(
                "scheduling.k8s.io/v1",
                "PriorityClass",
                None,
                name,
                AGE - 60,
            ),
            json!({"value": value, "description": desc, "preemptionPolicy": "PreemptLowerPriority"}),
        );
        s.put("priorityclasses", &o);
    }
    for (group, version, prio) in [
        ("", "v1", 18000),
        ("apps", "v1", 17800),
        ("batch", "v1", 17400),
        ("autoscaling", "v2", 17500),
        ("coordination.k8s.io", "v1", 16500),
        ("networking.k8s.io", "v1", 17200),
        ("policy", "v1", 17100),
        ("rbac.authorization.k8s.io", "v1", 17000),
        ("storage.k8s.io", "v1", 16800),
        ("cert-manager.io", "v1", 1000),
    ] {
        let name = if group.is_empty() {
            version.to_string()
        } else {
            format!("{version}.{group}")
        };
        let mut o = set(
            object(
                "apiregistration.k8s.io/v1",
                "APIService",
                None,
                &name,
                if group == "cert-manager.io" {
                    AGE - 2 * DAY
                } else {
                    AGE
                },
            ),
            json!({"spec": {"group": group, "version": version, "groupPriorityMinimum": prio, "versionPriority": 15},
                "status": {"conditions": [{"type": "Available", "status": "True", "lastTransitionTime": ago(AGE - 30), "reason": "Local", "message": "Local APIServices are always available"}]}}),
        );
        o["metadata"]["labels"] = json!({"kube-aggregator.kubernetes.io/automanaged": if group == "cert-manager.io" {"true"} else {"onstart"}});
        s.put_json("apiregistration.k8s.io/apiservices", &o);
    }
}
