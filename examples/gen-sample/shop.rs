//! The shop: web (a pod evicted from worker-3, its replacement), a crash-looping API, a worker
//! Pending for want of CPU, four more services, a Redis StatefulSet with its volume, a
//! CronJob's completed Job, and the Events of the last hour.

use serde_json::{Value, json};

use crate::cluster::*;
use crate::meta::*;
use crate::workloads::*;

const RUN: State = State::Running { restarts: 0 };

pub fn shop(s: &mut Store) {
    let [_, w1, w2, w3] = &NODES;
    let label =
        |app: &str| json!({"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "shop"});
    let web = Workload {
        ns: "shop",
        name: "web",
        created: 96 * DAY,
        labels: label("web"),
        image: "registry.example.com/shop/web:2.14.1",
        port: 8080,
        replicas: 3,
        ready: 3,
        rolled: 2 * DAY + 3 * HOUR,
        manager: "argocd-controller",
    };
    let web_pods = workload(
        s,
        &web,
        &[
            (w1, "10.244.1.21", RUN, None),
            (w2, "10.244.2.17", RUN, None),
            (w3, "10.244.3.9", State::NodeLost { deleted: EVICTED }, None),
            (w1, "10.244.1.34", RUN, Some(EVICTED - 2)),
        ],
    );
    service(
        s,
        "shop",
        "web",
        "10.104.33.7",
        8080,
        label("web"),
        &[
            (&web_pods[0], "10.244.1.21", "worker-1"),
            (&web_pods[1], "10.244.2.17", "worker-2"),
            (&web_pods[3], "10.244.1.34", "worker-1"),
        ],
        96 * DAY,
    );
    let api = Workload {
        ns: "shop",
        name: "api",
        created: 96 * DAY,
        labels: label("api"),
        image: "registry.example.com/shop/api:3.2.0",
        port: 8081,
        replicas: 2,
        ready: 1,
        rolled: 3 * HOUR + 12 * MIN,
        manager: "argocd-controller",
    };
    let api_pods = workload(
        s,
        &api,
        &[
            (w1, "10.244.1.40", RUN, None),
            (
                w2,
                "10.244.2.22",
                State::CrashLoop {
                    restarts: 37,
                    last: 2 * MIN + 14,
                    exit: 1,
                },
                None,
            ),
        ],
    );
    service(
        s,
        "shop",
        "api",
        "10.104.51.90",
        8081,
        label("api"),
        &[(&api_pods[0], "10.244.1.40", "worker-1")],
        96 * DAY,
    );
    let worker = Workload {
        ns: "shop",
        name: "worker",
        created: 96 * DAY,
        labels: label("worker"),
        image: "registry.example.com/shop/worker:3.2.0",
        port: 9090,
        replicas: 2,
        ready: 1,
        rolled: 25 * MIN,
        manager: "argocd-controller",
    };
    let worker_pods = workload(
        s,
        &worker,
        &[
            (w2, "10.244.2.30", RUN, None),
            (w1, "", State::Pending, Some(25 * MIN - 1)),
        ],
    );
    for (i, app) in ["cart", "catalog", "checkout", "search"]
        .into_iter()
        .enumerate()
    {
        let w = Workload {
            ns: "shop",
            name: app,
            created: 96 * DAY - i as i64 * HOUR,
            labels: label(app),
            image: &format!("registry.example.com/shop/{app}:1.{}.0", 7 + i),
            port: 8080,
            replicas: 2,
            ready: 2,
            rolled: (9 + 4 * i as i64) * DAY,
            manager: "argocd-controller",
        };
        let ips = [
            format!("10.244.1.{}", 60 + i),
            format!("10.244.2.{}", 60 + i),
        ];
        let pods = workload(s, &w, &[(w1, &ips[0], RUN, None), (w2, &ips[1], RUN, None)]);
        let cluster_ip = format!("10.104.{}.{}", 70 + i, 10 + 3 * i);
        service(
            s,
            "shop",
            app,
            &cluster_ip,
            8080,
            label(app),
            &[
                (&pods[0], &ips[0], "worker-1"),
                (&pods[1], &ips[1], "worker-2"),
            ],
            w.created,
        );
        s.put(
            "serviceaccounts",
            &object("v1", "ServiceAccount", Some("shop"), app, w.created),
        );
        s.put(
            "configmaps",
            &crate::cluster::configmap(
                "shop",
                &format!("{app}-config"),
                w.created,
                json!({"LOG_LEVEL": "info", "PORT": "8080"}),
                "argocd-controller",
            ),
        );
    }

    redis(s);
    nightly_report(s);
    let db = set(
        object("v1", "Secret", Some("shop"), "db-credentials", 96 * DAY),
        json!({"data": {"username": "c2hvcA==", "password": "bm90LWEtcmVhbC1wYXNzd29yZA=="}, "type": "Opaque"}),
    );
    s.put(
        "secrets",
        &managed(db, "argocd-controller", 96 * DAY, &["data"]),
    );
    s.put("configmaps", &crate::cluster::configmap("shop", "web-config", 96 * DAY,
        json!({"LOG_LEVEL": "info", "API_URL": "http://api.shop.svc:8081", "CACHE_URL": "redis://redis.shop.svc:6379"}), "argocd-controller"));
    s.put(
        "serviceaccounts",
        &object("v1", "ServiceAccount", Some("shop"), "web", 96 * DAY),
    );
    let hpa = set(
        object(
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            Some("shop"),
            "web",
            90 * DAY,
        ),
        json!({"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"}, "minReplicas": 3, "maxReplicas": 10,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]},
            "status": {"lastScaleTime": ago(2 * DAY), "currentReplicas": 3, "desiredReplicas": 3,
                "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageValue": "41m", "averageUtilization": 41}}}],
                "conditions": [{"type": "AbleToScale", "status": "True", "lastTransitionTime": ago(90 * DAY), "reason": "ReadyForNewScale", "message": "recommended size matches current size"}]}}),
    );
    s.put(
        "horizontalpodautoscalers",
        &managed(hpa, "argocd-controller", 90 * DAY, &["spec"]),
    );
    let pdb = set(
        object(
            "policy/v1",
            "PodDisruptionBudget",
            Some("shop"),
            "web",
            90 * DAY,
        ),
        json!({"spec": {"minAvailable": 2, "selector": {"matchLabels": label("web")}},
            "status": {"observedGeneration": 1, "disruptionsAllowed": 1, "currentHealthy": 3, "desiredHealthy": 2, "expectedPods": 3}}),
    );
    s.put("poddisruptionbudgets", &pdb);
    let ing = set(
        object(
            "networking.k8s.io/v1",
            "Ingress",
            Some("shop"),
            "web",
            95 * DAY,
        ),
        json!({"spec": {"ingressClassName": "nginx", "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
                "rules": [{"host": "shop.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": "web", "port": {"number": 8080}}}}]}}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.40"}]}}}),
    );
    s.put(
        "ingress",
        &managed(ing, "argocd-controller", 95 * DAY, &["spec"]),
    );
    shop_events(s, &web_pods, &api_pods, &worker_pods);
}

fn redis(s: &mut Store) {
    let created = 96 * DAY;
    let labels = json!({"app.kubernetes.io/name": "redis", "app.kubernetes.io/part-of": "shop"});
    let sts = set(
        object("apps/v1", "StatefulSet", Some("shop"), "redis", created),
        json!({"metadata.labels": labels,
            "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": template(&labels, "redis", "docker.io/library/redis:7.4.1-alpine", 6379),
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "8Gi"}}, "volumeMode": "Filesystem"}}],
                "serviceName": "redis", "podManagementPolicy": "OrderedReady",
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}, "revisionHistoryLimit": 10},
            "status": {"observedGeneration": 1, "replicas": 1, "readyReplicas": 1, "currentReplicas": 1, "updatedReplicas": 1,
                "currentRevision": "redis-5c7d8f9b6d", "updateRevision": "redis-5c7d8f9b6d", "collisionCount": 0, "availableReplicas": 1}}),
    );
    s.put(
        "statefulsets",
        &managed(
            sts,
            "argocd-controller",
            created,
            &["metadata.labels", "spec"],
        ),
    );
    let mut pl = labels.clone();
    pl["statefulset.kubernetes.io/pod-name"] = json!("redis-0");
    let mut p = pod(PodSpec {
        ns: "shop",
        name: "redis-0",
        node: Some("worker-2"),
        node_ip: NODES[2].ip,
        pod_ip: "10.244.2.11",
        created: 40 * DAY,
        labels: pl,
        owner: Some(owner("apps/v1", "StatefulSet", Some("shop"), "redis")),
        image: "docker.io/library/redis:7.4.1-alpine",
        container: "redis",
        state: RUN,
        restart_policy: "Always",
    });
    p["spec"]["hostname"] = json!("redis-0");
    p["spec"]["subdomain"] = json!("redis");
    s.put("pods", &p);
    service(
        s,
        "shop",
        "redis",
        "10.104.60.2",
        6379,
        labels.clone(),
        &[("redis-0", "10.244.2.11", "worker-2")],
        created,
    );
    let pv_name = format!("pvc-{}", uid("PersistentVolumeClaim/shop/data-redis-0"));
    let pvc = set(
        object(
            "v1",
            "PersistentVolumeClaim",
            Some("shop"),
            "data-redis-0",
            created,
        ),
        json!({"metadata.labels": labels,
            "metadata.annotations": {"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
                "volume.kubernetes.io/storage-provisioner": "rancher.io/local-path", "volume.kubernetes.io/selected-node": "worker-2"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "8Gi"}}, "volumeName": pv_name,
                "storageClassName": "local-path", "volumeMode": "Filesystem"},
            "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "8Gi"}}}),
    );
    let mut pvc = pvc;
    pvc["metadata"]["finalizers"] = json!(["kubernetes.io/pvc-protection"]);
    s.put(
        "persistentvolumeclaims",
        &managed(pvc, "kube-controller-manager", created, &["spec"]),
    );
    let mut pv = set(
        object("v1", "PersistentVolume", None, &pv_name, created - 5),
        json!({"metadata.annotations": {"local.path.provisioner/selected-node": "worker-2", "pv.kubernetes.io/provisioned-by": "rancher.io/local-path"},
            "spec": {"capacity": {"storage": "8Gi"}, "hostPath": {"path": format!("/opt/local-path-provisioner/{pv_name}_shop_data-redis-0"), "type": "DirectoryOrCreate"},
                "accessModes": ["ReadWriteOnce"], "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "shop", "name": "data-redis-0",
                    "uid": uid("PersistentVolumeClaim/shop/data-redis-0"), "apiVersion": "v1"},
                "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "local-path", "volumeMode": "Filesystem",
                "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["worker-2"]}]}]}}},
            "status": {"phase": "Bound", "lastPhaseTransitionTime": ago(created - 5)}}),
    );
    pv["metadata"]["finalizers"] = json!(["kubernetes.io/pv-protection"]);
    s.put(
        "persistentvolumes",
        &managed(pv, "local-path-provisioner", created - 5, &["spec"]),
    );
    let sc = set(
        object(
            "storage.k8s.io/v1",
            "StorageClass",
            None,
            "local-path",
            AGE - DAY,
        ),
        json!({"metadata.annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"}),
    );
    s.put("storageclasses", &sc);
}

/// A CronJob whose last Job ran at 02:00 and completed.
fn nightly_report(s: &mut Store) {
    let created = 60 * DAY;
    let ran = HOUR + 16 * MIN + 52;
    let labels =
        json!({"app.kubernetes.io/name": "nightly-report", "app.kubernetes.io/part-of": "shop"});
    let job_template = json!({"metadata": {"creationTimestamp": null},
        "spec": {"backoffLimit": 2, "template": {"metadata": {"creationTimestamp": null, "labels": labels},
            "spec": {"containers": [{"name": "report", "image": "registry.example.com/shop/report:1.4.0", "args": ["--since=24h"],
                "resources": {}, "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}],
                "restartPolicy": "OnFailure", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst", "securityContext": {}, "schedulerName": "default-scheduler"}}}});
    let cj = set(
        object(
            "batch/v1",
            "CronJob",
            Some("shop"),
            "nightly-report",
            created,
        ),
        json!({"spec": {"schedule": "0 2 * * *", "timeZone": "Etc/UTC", "concurrencyPolicy": "Forbid", "suspend": false,
                "jobTemplate": job_template, "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1},
            "status": {"lastScheduleTime": ago(ran), "lastSuccessfulTime": ago(ran - 94)}}),
    );
    s.put(
        "cronjobs",
        &managed(
            managed(cj, "argocd-controller", created, &["spec"]),
            "kube-controller-manager",
            ran - 94,
            &["status"],
        ),
    );
    let job_name = "nightly-report-29399160";
    let mut job_labels = labels.clone();
    job_labels["batch.kubernetes.io/job-name"] = json!(job_name);
    job_labels["batch.kubernetes.io/controller-uid"] = json!(uid(&format!("Job/shop/{job_name}")));
    let mut job = set(
        object("batch/v1", "Job", Some("shop"), job_name, ran),
        json!({"metadata.labels": job_labels,
            "spec": {"parallelism": 1, "completions": 1, "backoffLimit": 2, "completionMode": "NonIndexed", "suspend": false,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid(&format!("Job/shop/{job_name}"))}},
                "template": job_template["spec"]["template"]},
            "status": {"conditions": [
                    {"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": ago(ran - 94), "lastTransitionTime": ago(ran - 94), "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"},
                    {"type": "Complete", "status": "True", "lastProbeTime": ago(ran - 94), "lastTransitionTime": ago(ran - 94), "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"}],
                "startTime": ago(ran), "completionTime": ago(ran - 94), "succeeded": 1, "terminating": 0,
                "uncountedTerminatedPods": {}, "ready": 0}}),
    );
    job["metadata"]["ownerReferences"] =
        json!([owner("batch/v1", "CronJob", Some("shop"), "nightly-report")]);
    s.put(
        "jobs",
        &managed(job, "kube-controller-manager", ran - 94, &["status"]),
    );
    let pod_name = format!("{job_name}-{}", suffix(job_name, 5));
    s.put(
        "pods",
        &pod(PodSpec {
            ns: "shop",
            name: &pod_name,
            node: Some("worker-1"),
            node_ip: NODES[1].ip,
            pod_ip: "10.244.1.29",
            created: ran - 1,
            labels: job_labels,
            owner: Some(owner("batch/v1", "Job", Some("shop"), job_name)),
            image: "registry.example.com/shop/report:1.4.0",
            container: "report",
            state: State::Completed { ran: 93 },
            restart_policy: "OnFailure",
        }),
    );
}

/// The last hour's Events: the crash loop, the unschedulable worker, worker-3 going away and
/// the pods it took with it.
fn shop_events(s: &mut Store, web: &[String], api: &[String], worker: &[String]) {
    let kubelet = |n: &str| ("kubelet", n.to_string());
    let mut events: Vec<Value> = Vec::new();
    let mut add = |v: Value| events.push(v);
    let (c, h) = kubelet("worker-2");
    add(event(
        "shop",
        "Pod",
        &api[1],
        "Warning",
        "BackOff",
        "Back-off restarting failed container api in pod api",
        (58 * MIN, 14, 236),
        (c, &h),
    ));
    add(event(
        "shop",
        "Pod",
        &api[1],
        "Normal",
        "Pulled",
        "Container image \"registry.example.com/shop/api:3.2.0\" already present on machine",
        (58 * MIN, 2 * MIN + 18, 12),
        (c, &h),
    ));
    add(event(
        "shop",
        "Pod",
        &api[1],
        "Normal",
        "Created",
        "Created container: api",
        (58 * MIN, 2 * MIN + 18, 12),
        (c, &h),
    ));
    add(event(
        "shop",
        "Pod",
        &api[1],
        "Normal",
        "Started",
        "Started container api",
        (58 * MIN, 2 * MIN + 17, 12),
        (c, &h),
    ));
    add(event(
        "shop",
        "Pod",
        &worker[1],
        "Warning",
        "FailedScheduling",
        "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 Insufficient cpu. preemption: 0/4 nodes are available: 2 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
        (25 * MIN, 65, 9),
        ("default-scheduler", ""),
    ));
    add(event(
        "shop",
        "ReplicaSet",
        worker[0].rsplit_once('-').map_or("worker", |(rs, _)| rs),
        "Normal",
        "SuccessfulCreate",
        &format!("Created pod: {}", worker[1]),
        (25 * MIN, 25 * MIN, 1),
        ("replicaset-controller", ""),
    ));
    add(event(
        "default",
        "Node",
        "worker-3",
        "Normal",
        "NodeNotReady",
        "Node worker-3 status is now: NodeNotReady",
        (LOST - 40, LOST - 40, 1),
        ("node-controller", ""),
    ));
    {
        let (ns, pod) = ("shop", web[2].as_str());
        add(event(
            ns,
            "Pod",
            pod,
            "Warning",
            "NodeNotReady",
            "Node is not ready",
            (LOST - 41, LOST - 41, 1),
            ("node-controller", ""),
        ));
        add(event(
            ns,
            "Pod",
            pod,
            "Normal",
            "TaintManagerEviction",
            &format!("Marking for deletion Pod {ns}/{pod}"),
            (EVICTED, EVICTED, 1),
            ("taint-eviction-controller", ""),
        ));
    }
    let (c, h) = kubelet("worker-1");
    let fresh = &web[3];
    add(event(
        "shop",
        "Pod",
        fresh,
        "Normal",
        "Scheduled",
        &format!("Successfully assigned shop/{fresh} to worker-1"),
        (EVICTED - 2, EVICTED - 2, 1),
        ("default-scheduler", ""),
    ));
    add(event(
        "shop",
        "Pod",
        fresh,
        "Normal",
        "Pulled",
        "Container image \"registry.example.com/shop/web:2.14.1\" already present on machine",
        (EVICTED - 3, EVICTED - 3, 1),
        (c, &h),
    ));
    add(event(
        "shop",
        "Pod",
        fresh,
        "Normal",
        "Created",
        "Created container: web",
        (EVICTED - 3, EVICTED - 3, 1),
        (c, &h),
    ));
    add(event(
        "shop",
        "Pod",
        fresh,
        "Normal",
        "Started",
        "Started container web",
        (EVICTED - 4, EVICTED - 4, 1),
        (c, &h),
    ));
    let mut failed = event(
        "shop",
        "Certificate",
        "api-tls",
        "Warning",
        "Failed",
        "The certificate request has failed to complete and will be retried: Failed to wait for order resource \"api-tls-1-3720117361\" to become ready: order is in \"invalid\" state: 403 urn:ietf:params:acme:error:unauthorized",
        (38 * MIN, 8 * MIN, 4),
        ("cert-manager-certificates-issuing", ""),
    );
    failed["involvedObject"]["apiVersion"] = json!("cert-manager.io/v1");
    add(failed);
    let (c, h) = kubelet("worker-2");
    add(event(
        "shop",
        "Pod",
        &api[1],
        "Warning",
        "Unhealthy",
        "Readiness probe failed: Get \"http://10.244.2.22:8081/healthz\": dial tcp 10.244.2.22:8081: connect: connection refused",
        (58 * MIN, 9, 412),
        (c, &h),
    ));
    let worker_rs = worker[0].rsplit_once('-').map_or("worker", |(rs, _)| rs);
    let mut scaled = event(
        "shop",
        "Deployment",
        "worker",
        "Normal",
        "ScalingReplicaSet",
        &format!("Scaled up replica set {worker_rs} from 1 to 2"),
        (25 * MIN + 1, 25 * MIN + 1, 1),
        ("deployment-controller", ""),
    );
    scaled["involvedObject"]["apiVersion"] = json!("apps/v1");
    add(scaled);
    for e in &events {
        s.event(e);
    }
}
