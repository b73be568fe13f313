//! The cluster itself: namespaces, nodes (one NotReady), their leases, the control plane's
//! leases and kube-system's workloads of a kubeadm 1.32 cluster.

use serde_json::{Value, json};

use crate::meta::*;
use crate::workloads::*;

/// The cluster was created this long before the snapshot.
pub const AGE: i64 = 263 * DAY + 5 * HOUR;
/// worker-3 stopped posting its status this long ago; 40 s later it was NotReady, and 5 min
/// after that (the pods' tolerationSeconds) its pods were evicted.
pub const LOST: i64 = 7 * MIN + 20;
/// When worker-3's pods were evicted.
pub const EVICTED: i64 = LOST - 40 - 300;

pub struct Node {
    pub name: &'static str,
    pub ip: &'static str,
    pub cidr: u8,
}

pub const NODES: [Node; 4] = [
    Node {
        name: "cp-1",
        ip: "10.0.0.10",
        cidr: 0,
    },
    Node {
        name: "worker-1",
        ip: "10.0.0.11",
        cidr: 1,
    },
    Node {
        name: "worker-2",
        ip: "10.0.0.12",
        cidr: 2,
    },
    Node {
        name: "worker-3",
        ip: "10.0.0.13",
        cidr: 3,
    },
];

pub const NAMESPACES: [(&str, i64); 8] = [
    ("default", AGE),
    ("kube-system", AGE),
    ("kube-public", AGE),
    ("kube-node-lease", AGE),
    ("cert-manager", AGE - 2 * DAY),
    ("monitoring", AGE - 2 * DAY),
    ("shop", 96 * DAY),
    ("demo", 20 * DAY),
];

pub fn namespaces(s: &mut Store) {
    for (ns, created) in NAMESPACES {
        let o = set(
            object("v1", "Namespace", None, ns, created),
            json!({"metadata.labels": {"kubernetes.io/metadata.name": ns},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}),
        );
        let manager = if created == AGE {
            "kube-apiserver"
        } else {
            "kubectl-create"
        };
        s.put(
            "namespaces",
            &managed(o, manager, created, &["metadata.labels"]),
        );
    }
}

fn node(n: &Node) -> Value {
    let lost = n.name == "worker-3";
    let control = n.name == "cp-1";
    let created = if control { AGE } else { AGE - 10 * MIN };
    let beat = if lost { LOST + 40 } else { 3 * MIN + 7 };
    let cond = |kind: &str, ok: &str, reason: &str, msg: &str| {
        if lost {
            json!({"type": kind, "status": "Unknown", "lastHeartbeatTime": ago(beat),
                "lastTransitionTime": ago(LOST - 40), "reason": "NodeStatusUnknown",
                "message": "Kubelet stopped posting node status."})
        } else {
            json!({"type": kind, "status": ok, "lastHeartbeatTime": ago(beat),
                "lastTransitionTime": ago(created - 40), "reason": reason, "message": msg})
        }
    };
    let mut labels = json!({"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux"});
    if control {
        labels["node-role.kubernetes.io/control-plane"] = json!("");
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = json!("");
    }
    let mut spec = json!({"podCIDR": format!("10.244.{}.0/24", n.cidr),
        "podCIDRs": [format!("10.244.{}.0/24", n.cidr)]});
    if control {
        spec["taints"] =
            json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]);
    }
    if lost {
        spec["taints"] = json!([
            {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule", "timeAdded": ago(LOST - 40)},
            {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": ago(LOST - 45)}]);
    }
    let o = set(
        object("v1", "Node", None, n.name, created),
        json!({"metadata.labels": labels,
            "metadata.annotations": {"kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
                "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
            "spec": spec,
            "status": {
                "capacity": {"cpu": "4", "ephemeral-storage": "81106868Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "16365140Ki", "pods": "110"},
                "allocatable": {"cpu": "4", "ephemeral-storage": "74747745346", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "16262740Ki", "pods": "110"},
                "conditions": [
                    cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    cond("Ready", "True", "KubeletReady", "kubelet is posting ready status")],
                "addresses": [{"type": "InternalIP", "address": n.ip}, {"type": "Hostname", "address": n.name}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {"machineID": uid(n.name).replace('-', ""), "systemUUID": uid(&format!("sys/{}", n.name)),
                    "bootID": uid(&format!("boot/{}", n.name)), "kernelVersion": "6.1.0-28-cloud-amd64",
                    "osImage": "Debian GNU/Linux 12 (bookworm)", "containerRuntimeVersion": "containerd://1.7.24",
                    "kubeletVersion": "v1.32.3", "kubeProxyVersion": "v1.32.3", "operatingSystem": "linux", "architecture": "amd64"},
                "images": [
                    {"names": ["registry.k8s.io/kube-proxy:v1.32.3"], "sizeBytes": 30_905_312},
                    {"names": ["registry.k8s.io/pause:3.10"], "sizeBytes": 320_368}]}}),
    );
    let o = managed(
        o,
        "kubeadm",
        created,
        &["metadata.annotations", "metadata.labels"],
    );
    let o = managed(o, "kube-controller-manager", created - 30, &["spec"]);
    managed(o, "kubelet", beat, &["status"])
}

pub fn nodes(s: &mut Store) {
    for n in &NODES {
        let beat = if n.name == "worker-3" {
            LOST + 40
        } else {
            3 * MIN + 7
        };
        s.beat(beat, "minions", node(n), 0);
    }
}

/// A Lease as kubelets and leader elections keep them.
pub fn lease(
    ns: &str,
    name: &str,
    holder: &str,
    duration: i64,
    renewed: i64,
    created: i64,
) -> Value {
    let o = set(
        object("coordination.k8s.io/v1", "Lease", Some(ns), name, created),
        json!({"spec": {"holderIdentity": holder, "leaseDurationSeconds": duration,
            "acquireTime": ago_micro(created - 20, 118_204), "renewTime": ago_micro(renewed, 412_377), "leaseTransitions": 0}}),
    );
    managed(
        o,
        holder.split('_').next().unwrap_or(holder),
        renewed,
        &["spec"],
    )
}

/// Node heartbeats (renewed every 10 s; worker-3's stopped) and leader-election leases.
pub fn leases(s: &mut Store) {
    for (i, n) in NODES.iter().enumerate() {
        let renewed = if n.name == "worker-3" {
            LOST + 38
        } else {
            6 - 3 * i as i64
        };
        let mut l = lease(
            "kube-node-lease",
            n.name,
            n.name,
            40,
            renewed,
            AGE - 10 * MIN,
        );
        l["spec"].as_object_mut().unwrap().remove("acquireTime");
        l["spec"]
            .as_object_mut()
            .unwrap()
            .remove("leaseTransitions");
        l["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "Node", "name": n.name, "uid": uid(&format!("Node//{}", n.name))}]);
        s.beat(renewed, "leases", l, 0);
    }
    for (name, holder, renewed) in [
        (
            "kube-controller-manager",
            "cp-1_5b2ef1d4-3f0c-4a7e-9e2a-6f1d3c0b8a71",
            2,
        ),
        (
            "kube-scheduler",
            "cp-1_0c8d3a7e-1b5f-4e2d-8a9c-7e6f5d4c3b21",
            4,
        ),
    ] {
        s.beat(
            renewed,
            "leases",
            lease("kube-system", name, holder, 15, renewed, AGE),
            0,
        );
    }
    let id = format!("apiserver-{}", suffix("apiserver", 26));
    let mut l = lease(
        "kube-system",
        &id,
        &format!("{id}_{}", uid("holder")),
        3600,
        6,
        AGE,
    );
    l["metadata"]["labels"] = json!({"apiserver.kubernetes.io/identity": "kube-apiserver", "kubernetes.io/hostname": "cp-1"});
    s.beat(6, "leases", l, 0);
    let cm = lease(
        "kube-system",
        "cert-manager-controller",
        "cert-manager-7b9d6c5f4d-x2kq9-external-cert-manager-controller",
        60,
        18,
        AGE - 2 * DAY,
    );
    s.beat(18, "leases", cm, 0);
}

/// Static pods of the control plane, kube-proxy and CoreDNS.
pub fn kube_system(s: &mut Store) {
    let cp = &NODES[0];
    for (name, image) in [
        ("etcd", "registry.k8s.io/etcd:3.5.16-0"),
        ("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.32.3"),
        (
            "kube-controller-manager",
            "registry.k8s.io/kube-controller-manager:v1.32.3",
        ),
        ("kube-scheduler", "registry.k8s.io/kube-scheduler:v1.32.3"),
    ] {
        let pod_name = format!("{name}-cp-1");
        let mut p = pod(PodSpec {
            ns: "kube-system",
            name: &pod_name,
            node: Some("cp-1"),
            node_ip: cp.ip,
            pod_ip: cp.ip,
            created: AGE - 60,
            labels: json!({"component": name, "tier": "control-plane"}),
            owner: Some(
                json!({"apiVersion": "v1", "kind": "Node", "name": "cp-1", "uid": uid("Node//cp-1"), "controller": true}),
            ),
            image,
            container: name,
            state: State::Running { restarts: 0 },
            restart_policy: "Always",
        });
        p["metadata"]["annotations"] = json!({"kubernetes.io/config.source": "file", "kubernetes.io/config.hash": suffix(name, 32)});
        p["spec"]["priorityClassName"] = json!("system-node-critical");
        p["spec"]["priority"] = json!(2000001000);
        p["spec"]["hostNetwork"] = json!(true);
        s.put("pods", &p);
    }
    let proxy = Workload {
        ns: "kube-system",
        name: "kube-proxy",
        created: AGE - 60,
        labels: json!({"k8s-app": "kube-proxy"}),
        image: "registry.k8s.io/kube-proxy:v1.32.3",
        port: 10249,
        replicas: 4,
        ready: 3,
        rolled: AGE - 60,
        manager: "kubeadm",
    };
    s.put("daemonsets", &daemonset(&proxy, 4));
    for n in &NODES {
        let name = format!("kube-proxy-{}", suffix(n.name, 5));
        let state = if n.name == "worker-3" {
            State::NodeLost { deleted: EVICTED }
        } else {
            State::Running { restarts: 0 }
        };
        let mut p = pod(PodSpec {
            ns: "kube-system",
            name: &name,
            node: Some(n.name),
            node_ip: n.ip,
            pod_ip: n.ip,
            created: AGE - 10 * MIN,
            labels: json!({"k8s-app": "kube-proxy", "controller-revision-hash": "7d4c9b8f6d", "pod-template-generation": "1"}),
            owner: Some(owner(
                "apps/v1",
                "DaemonSet",
                Some("kube-system"),
                "kube-proxy",
            )),
            image: proxy.image,
            container: "kube-proxy",
            state,
            restart_policy: "Always",
        });
        if n.name == "worker-3" {
            // DaemonSet pods tolerate unreachable nodes: kept, not deleted.
            p["metadata"]
                .as_object_mut()
                .unwrap()
                .remove("deletionTimestamp");
            p["metadata"]
                .as_object_mut()
                .unwrap()
                .remove("deletionGracePeriodSeconds");
        }
        s.put("pods", &p);
    }
    let dns = Workload {
        ns: "kube-system",
        name: "coredns",
        created: AGE - 60,
        labels: json!({"k8s-app": "kube-dns"}),
        image: "registry.k8s.io/coredns/coredns:v1.11.3",
        port: 53,
        replicas: 2,
        ready: 2,
        rolled: AGE - 60,
        manager: "kubeadm",
    };
    let run = State::Running { restarts: 0 };
    let dns_pods = workload(
        s,
        &dns,
        &[
            (&NODES[0], "10.244.0.2", run, None),
            (&NODES[1], "10.244.1.3", run, None),
        ],
    );
    service(
        s,
        "kube-system",
        "kube-dns",
        "10.96.0.10",
        53,
        json!({"k8s-app": "kube-dns"}),
        &[
            (&dns_pods[0], "10.244.0.2", "cp-1"),
            (&dns_pods[1], "10.244.1.3", "worker-1"),
        ],
        AGE - 60,
    );
    for (name, data) in [
        (
            "coredns",
            json!({"Corefile": ".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n"}),
        ),
        (
            "kube-proxy",
            json!({"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.244.0.0/16\nmode: iptables\n"}),
        ),
        (
            "kubeadm-config",
            json!({"ClusterConfiguration": "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nclusterName: prod-eu\nkubernetesVersion: v1.32.3\ncontrolPlaneEndpoint: 10.0.0.10:6443\nnetworking:\n  dnsDomain: cluster.local\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/12\n"}),
        ),
        (
            "kubelet-config",
            json!({"kubelet": "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\nclusterDNS:\n- 10.96.0.10\nclusterDomain: cluster.local\n"}),
        ),
    ] {
        s.put(
            "configmaps",
            &configmap("kube-system", name, AGE - 60, data, "kubeadm"),
        );
    }
    s.put("configmaps", &configmap("kube-public", "cluster-info", AGE - 60,
        json!({"kubeconfig": "apiVersion: v1\nclusters:\n- cluster:\n    server: https://10.0.0.10:6443\n  name: \"\"\nkind: Config\n"}), "kubeadm"));
}

pub fn configmap(ns: &str, name: &str, created: i64, data: Value, manager: &str) -> Value {
    let o = set(
        object("v1", "ConfigMap", Some(ns), name, created),
        json!({"data": data}),
    );
    managed(o, manager, created, &["data"])
}
