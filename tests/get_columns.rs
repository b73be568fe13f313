//! `get` prints kubectl's columns. Per kind: rows of the shared fixtures (the k8s-api
//! round-trip objects, every field set to a placeholder, and cluster-dev's realistic objects,
//! some varied to reach each rule) against rows worked out by hand from kube-apiserver's
//! printer rules; each expected value says which rule gives it. Then the binary on
//! cluster-dev's snapshot: headers, one row per object, the estimated time, and kubectl's
//! table flags.

mod common;

use std::collections::HashMap;
use std::sync::OnceLock;

use revkeeper::printers::{Ctx, Printer};
use revkeeper_harness::require_fixture;
use serde_json::{Value, json};
use time::macros::datetime;

/// After every timestamp of the k8s-api fixtures (they are 2001…2010-01-01T01:01:01Z).
/// Ages from there: 2008-01-01 (creationTimestamp) is 731 days → "2y1d" (2y ≤ age < 8y:
/// years and days); 2007 is 1096 days → "3y1d"; 2006 → "4y1d"; 2004 → 2192 days → "6y2d".
const K8S_API_NOW: time::OffsetDateTime = datetime!(2010-01-01 01:01:01 UTC);
/// cluster-dev's estimated snapshot time (the newest heartbeat, see the CLI test).
const CLUSTER_NOW: time::OffsetDateTime = datetime!(2026-11-20 23:31:52 UTC);

fn k8s_api(name: &str) -> Option<Value> {
    let path = require_fixture(&format!("k8s-api/v1.33.0/{name}.json"))?;
    Some(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
}

/// cluster-dev's live objects by key.
fn cluster_dev_objects() -> Option<&'static HashMap<String, Value>> {
    static OBJECTS: OnceLock<HashMap<String, Value>> = OnceLock::new();
    let dir = common::cluster_dev()?;
    Some(OBJECTS.get_or_init(|| {
        std::fs::read_to_string(dir.join("objects.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (v["key"].as_str().unwrap().to_string(), v["object"].clone())
            })
            .collect()
    }))
}

fn cluster_dev(key: &str) -> Option<Value> {
    let objects = cluster_dev_objects()?;
    Some(
        objects
            .get(key)
            .unwrap_or_else(|| panic!("{key} in objects.jsonl"))
            .clone(),
    )
}

/// Every cell of the row (wide ones included: the apiserver prints wide, kubectl filters).
fn row(group: &str, plural: &str, object: &Value, now: time::OffsetDateTime) -> Vec<String> {
    Printer::for_resource(group, plural).cells(object, &Ctx { now })
}

fn headers(group: &str, plural: &str) -> Vec<String> {
    Printer::for_resource(group, plural)
        .columns()
        .into_iter()
        .map(|c| {
            if c.wide {
                format!("[{}]", c.name)
            } else {
                c.name
            }
        })
        .collect()
}

#[test]
fn pods_from_the_round_trip_fixture() {
    let Some(pod) = k8s_api("core.v1.Pod") else {
        return;
    };
    assert_eq!(
        headers("", "pods"),
        [
            "Name",
            "Ready",
            "Status",
            "Restarts",
            "Age",
            "[IP]",
            "[Node]",
            "[Nominated Node]",
            "[Readiness Gates]"
        ]
    );
    assert_eq!(
        row("", "pods", &pod, K8S_API_NOW),
        [
            "nameValue",
            // The init container failed (terminated, exit code 1): the regular containers
            // are not looked at, so none counts as ready; its restartPolicy is not Always,
            // so only the one regular container counts in the total.
            "0/1",
            // Init:<reason> first, but a deletionTimestamp on a pod whose phase is not
            // Succeeded/Failed (and whose reason is not NodeLost) makes it Terminating.
            "Terminating",
            // The init container's 5 restarts, last finished 2006-01-01.
            "5 (4y1d ago)",
            "2y1d",
            // podIPs[0]; nodeName; nominatedNodeName.
            "ipValue",
            "nodeNameValue",
            "nominatedNodeNameValue",
            // One readiness gate, whose condition type the pod does not have.
            "0/1",
        ]
    );
}

/// The crash-looping pod of cluster-dev, changed by `edit` to reach one rule.
fn crashing_pod(edit: impl FnOnce(&mut Value)) -> Option<Vec<String>> {
    let mut pod = cluster_dev("/registry/pods/media-prod/media-scheduler-nnm8kwq9fz-46m9j")?;
    edit(&mut pod);
    Some(row("", "pods", &pod, CLUSTER_NOW))
}

#[test]
fn pod_status_follows_kubectls_rules() {
    let Some(objects) = cluster_dev_objects() else {
        return;
    };
    let pod = |key: &str| row("", "pods", &objects[key], CLUSTER_NOW);
    assert_eq!(
        pod("/registry/pods/media-prod/media-scheduler-nnm8kwq9fz-46m9j"),
        [
            "media-scheduler-nnm8kwq9fz-46m9j",
            // Waiting, not ready: 0 of 1.
            "0/1",
            // A waiting container's reason is the pod's status.
            "CrashLoopBackOff",
            // 7 restarts; the last one finished 22:35:21, 56m31s before now.
            "7 (56m ago)",
            // Created 2026-03-13T05:24:43Z: 252 days (≥ 8 days, < 2 years: days only).
            "252d",
            "100.64.11.6",
            "ip-10-0-139-133.eu-central-1.compute.internal",
            "<none>",
            "<none>",
        ]
    );
    // Deleted while running: Terminating (its deletionTimestamp is the end of the grace period).
    let terminating = pod("/registry/pods/ingress-nginx/ingress-nginx-controller-swwdxkhn72-tjfs5");
    assert_eq!(terminating[1..5], ["1/1", "Terminating", "0", "25m"]);
    // A finished Job pod: its container's terminated reason, Completed; not ready.
    let done = pod("/registry/pods/billing-prod/billing-report-29920247-ztc8j");
    assert_eq!(done[1..5], ["0/1", "Completed", "0", "44m"]);
    // Not scheduled: no container status, so the phase; no IP and no node.
    let pending = pod("/registry/pods/reviews-prod/reviews-frontend-w9lkvrst87-ks9zp");
    assert_eq!(
        pending[1..],
        [
            "0/1", "Pending", "0", "29m", "<none>", "<none>", "<none>", "<none>"
        ]
    );
    // Restarts without a last termination time: the count alone.
    let restarted = pod("/registry/pods/argocd/argocd-server-mc7sdktwnc-czcjw");
    assert_eq!(restarted[1..5], ["1/1", "Running", "2", "380d"]);
}

#[test]
fn pod_status_rules_on_varied_fixture_pods() {
    let waiting = |reason: &'static str| {
        move |p: &mut Value| {
            p["status"]["containerStatuses"][0]["state"] = json!({"waiting": {"reason": reason}})
        }
    };
    let Some(r) = crashing_pod(waiting("ImagePullBackOff")) else {
        return;
    };
    assert_eq!(r[2], "ImagePullBackOff");
    // Failed: the terminated reason; without one, the signal or the exit code.
    let terminated = |state: Value| {
        move |p: &mut Value| {
            p["status"]["phase"] = json!("Failed");
            p["status"]["containerStatuses"][0]["state"] = json!({"terminated": state});
        }
    };
    for (state, want) in [
        (json!({"exitCode": 1, "reason": "Error"}), "Error"),
        (json!({"exitCode": 137, "signal": 9}), "Signal:9"),
        (json!({"exitCode": 137}), "ExitCode:137"),
    ] {
        assert_eq!(crashing_pod(terminated(state)).unwrap()[2], want);
    }
    // A node lost: status.reason NodeLost is shown; once deleted, Unknown.
    let lost = |deleted: bool| {
        move |p: &mut Value| {
            p["status"]["reason"] = json!("NodeLost");
            p["status"]["containerStatuses"] = json!([]);
            if deleted {
                p["metadata"]["deletionTimestamp"] = json!("2026-11-20T23:00:00Z");
            }
        }
    };
    assert_eq!(crashing_pod(lost(false)).unwrap()[2], "NodeLost");
    assert_eq!(crashing_pod(lost(true)).unwrap()[2], "Unknown");
    // A Succeeded pod being deleted is not Terminating: its phase is terminal.
    let deleted_done = crashing_pod(|p| {
        p["status"]["phase"] = json!("Succeeded");
        p["status"]["containerStatuses"][0]["state"] =
            json!({"terminated": {"exitCode": 0, "reason": "Completed"}});
        p["metadata"]["deletionTimestamp"] = json!("2026-11-20T23:00:00Z");
    });
    assert_eq!(deleted_done.unwrap()[2], "Completed");
    // Init containers: the first one not done decides; N counts the done ones.
    let init = |second: Value, initialized: bool| {
        move |p: &mut Value| {
            p["spec"]["initContainers"] = json!([{"name": "a"}, {"name": "b"}]);
            p["status"]["initContainerStatuses"] = json!([
                {"name": "a", "restartCount": 1, "state": {"terminated": {"exitCode": 0}},
                 "lastState": {"terminated": {"finishedAt": "2026-11-20T23:30:00Z"}}},
                {"name": "b", "restartCount": 2, "state": second}]);
            if !initialized {
                p["status"]["conditions"] = json!([{"type": "Initialized", "status": "False"}]);
            }
        }
    };
    let r = crashing_pod(init(json!({"running": {}}), false)).unwrap();
    // Init:1/2; restarts are the init containers' (1 + 2), last at 23:30:00 (112 s ago).
    assert_eq!(r[1..4], ["0/1", "Init:1/2", "3 (112s ago)"]);
    let r = crashing_pod(init(
        json!({"waiting": {"reason": "CrashLoopBackOff"}}),
        false,
    ))
    .unwrap();
    assert_eq!(r[2], "Init:CrashLoopBackOff");
    let r = crashing_pod(init(json!({"terminated": {"exitCode": 2}}), false)).unwrap();
    assert_eq!(r[2], "Init:ExitCode:2");
    // PodInitializing is no reason: the count is shown.
    let r = crashing_pod(init(
        json!({"waiting": {"reason": "PodInitializing"}}),
        false,
    ))
    .unwrap();
    assert_eq!(r[2], "Init:1/2");
    // Initialized=True: the regular containers decide, restarts are theirs (7).
    let r = crashing_pod(init(json!({"running": {}}), true)).unwrap();
    assert_eq!(r[1..4], ["0/1", "CrashLoopBackOff", "7 (56m ago)"]);
    // A sidecar (restartPolicy Always) counts in READY; started and ready, it is 1 of 2.
    let sidecar = crashing_pod(|p| {
        p["spec"]["initContainers"] = json!([{"name": "proxy", "restartPolicy": "Always"}]);
        p["status"]["initContainerStatuses"] = json!([{"name": "proxy", "restartCount": 4,
            "started": true, "ready": true, "state": {"running": {}}}]);
    })
    .unwrap();
    // Restarts: the sidecar's 4 and the container's 7; the last finish is the container's.
    assert_eq!(sidecar[1..4], ["1/2", "CrashLoopBackOff", "11 (56m ago)"]);
    // Completed beside a running, ready container: Running with PodReady, else NotReady.
    let mixed = |ready: &'static str| {
        move |p: &mut Value| {
            p["status"]["containerStatuses"] = json!([
                {"name": "job", "ready": false, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                {"name": "web", "ready": true, "state": {"running": {}}}]);
            p["status"]["conditions"] = json!([{"type": "Ready", "status": ready}]);
        }
    };
    assert_eq!(
        crashing_pod(mixed("True")).unwrap()[1..3],
        ["1/1", "Running"]
    );
    assert_eq!(
        crashing_pod(mixed("False")).unwrap()[1..3],
        ["1/1", "NotReady"]
    );
    // Scheduling gates: SchedulingGated.
    let gated = crashing_pod(|p| {
        p["status"]["conditions"] =
            json!([{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]);
        p["status"]["containerStatuses"] = json!([]);
    });
    assert_eq!(gated.unwrap()[2], "SchedulingGated");
    // Readiness gates: how many of their conditions are True.
    let gates = crashing_pod(|p| {
        p["spec"]["readinessGates"] = json!([{"conditionType": "a"}, {"conditionType": "b"}]);
        p["status"]["conditions"] =
            json!([{"type": "a", "status": "True"}, {"type": "b", "status": "False"}]);
    });
    assert_eq!(gates.unwrap()[8], "1/2");
}

#[test]
fn nodes() {
    let (Some(fuzzed), Some(real)) = (
        k8s_api("core.v1.Node"),
        cluster_dev("/registry/minions/ip-10-0-164-190.eu-central-1.compute.internal"),
    ) else {
        return;
    };
    assert_eq!(
        row("", "nodes", &fuzzed, K8S_API_NOW),
        [
            "nameValue",
            // No Ready condition: Unknown; spec.unschedulable adds SchedulingDisabled.
            "Unknown,SchedulingDisabled",
            // No node-role.kubernetes.io/* or kubernetes.io/role label.
            "<none>",
            "2y1d",
            "kubeletVersionValue",
            // No InternalIP/ExternalIP address (the only one has type typeValue).
            "<none>",
            "<none>",
            "osImageValue",
            "kernelVersionValue",
            "containerRuntimeVersionValue",
        ]
    );
    assert_eq!(
        row("", "nodes", &real, CLUSTER_NOW),
        [
            "ip-10-0-164-190.eu-central-1.compute.internal",
            "Ready",
            // node-role.kubernetes.io/control-plane.
            "control-plane",
            // Created 2025-11-04T00:02:42Z: 381 days.
            "381d",
            "v1.32.3",
            "10.0.164.190",
            "<none>",
            "Debian GNU/Linux 12 (bookworm)",
            "6.1.0-28-cloud-amd64",
            "containerd://1.7.24",
        ]
    );
    let mut varied = real.clone();
    for c in varied["status"]["conditions"].as_array_mut().unwrap() {
        if c["type"] == "Ready" {
            c["status"] = json!("False");
        }
    }
    varied["spec"]["unschedulable"] = json!(true);
    varied["metadata"]["labels"]["kubernetes.io/role"] = json!("ingress");
    varied["metadata"]["labels"]["node-role.kubernetes.io/worker"] = json!("");
    let r = row("", "nodes", &varied, CLUSTER_NOW);
    // Ready=False: NotReady; roles from both label forms, sorted, each once.
    assert_eq!(
        r[1..3],
        [
            "NotReady,SchedulingDisabled",
            "control-plane,ingress,worker"
        ]
    );
}

#[test]
fn workloads_from_the_round_trip_fixtures() {
    let Some(deploy) = k8s_api("apps.v1.Deployment") else {
        return;
    };
    assert_eq!(
        row("apps", "deployments", &deploy, K8S_API_NOW),
        [
            "nameValue",
            // readyReplicas / spec.replicas; updatedReplicas; availableReplicas.
            "7/1",
            "3",
            "4",
            "2y1d",
            "nameValue",
            "imageValue",
            // The selector has operator operatorValue: LabelSelectorAsSelector fails.
            "<invalid>",
        ]
    );
    let rs = k8s_api("apps.v1.ReplicaSet").unwrap();
    assert_eq!(
        row("apps", "replicasets", &rs, K8S_API_NOW),
        // DESIRED spec.replicas, CURRENT status.replicas, READY; FormatLabelSelector of a
        // selector that does not convert: <error>.
        [
            "nameValue",
            "1",
            "1",
            "4",
            "2y1d",
            "nameValue",
            "imageValue",
            "<error>"
        ]
    );
    let sts = k8s_api("apps.v1.StatefulSet").unwrap();
    assert_eq!(
        row("apps", "statefulsets", &sts, K8S_API_NOW),
        // READY readyReplicas/spec.replicas.
        ["nameValue", "3/1", "2y1d", "nameValue", "imageValue"]
    );
    let ds = k8s_api("apps.v1.DaemonSet").unwrap();
    assert_eq!(
        row("apps", "daemonsets", &ds, K8S_API_NOW),
        [
            "nameValue",
            // desired, current, ready, up-to-date, available numbers.
            "3",
            "1",
            "4",
            "6",
            "7",
            // The pod template's nodeSelector as labels.
            "nodeSelectorKey=nodeSelectorValue",
            "2y1d",
            "nameValue",
            "imageValue",
            "<error>",
        ]
    );
    let job = k8s_api("batch.v1.Job").unwrap();
    assert_eq!(
        row("batch", "jobs", &job, K8S_API_NOW),
        [
            "nameValue",
            // No Complete/Failed condition, deleted: Terminating.
            "Terminating",
            // succeeded/completions.
            "5/2",
            // completionTime − startTime: 2002-01-01 to 2003-01-01, 365 days.
            "365d",
            "2y1d",
            "nameValue",
            "imageValue",
            "<error>",
        ]
    );
    let cj = k8s_api("batch.v1.CronJob").unwrap();
    assert_eq!(
        row("batch", "cronjobs", &cj, K8S_API_NOW),
        [
            "nameValue",
            "scheduleValue",
            "timeZoneValue",
            // printBoolPtr: True.
            "True",
            // One active job.
            "1",
            // lastScheduleTime 2004-01-01.
            "6y2d",
            "2y1d",
            "nameValue",
            "imageValue",
            "<error>",
        ]
    );
    let rev = k8s_api("apps.v1.ControllerRevision").unwrap();
    assert_eq!(
        row("apps", "controllerrevisions", &rev, K8S_API_NOW),
        // The controller owner reference: kind (lower case; no group in apiVersionValue)/name.
        ["nameValue", "kindvalue/nameValue", "3", "2y1d"]
    );
}

#[test]
fn workloads_from_cluster_dev() {
    let Some(objects) = cluster_dev_objects() else {
        return;
    };
    let get = |key: &str| &objects[key];
    assert_eq!(
        row(
            "apps",
            "deployments",
            get("/registry/deployments/media-prod/media-scheduler"),
            CLUSTER_NOW
        )[..5],
        ["media-scheduler", "4/4", "4", "4", "252d"]
    );
    let job = get("/registry/jobs/billing-prod/billing-report-29920247");
    // Complete=True: Complete; 1/1; startTime to completionTime.
    let r = row("batch", "jobs", job, CLUSTER_NOW);
    assert_eq!(r[1..3], ["Complete", "1/1"]);
    let mut running = job.clone();
    running["status"] = json!({"startTime": "2026-11-20T23:30:00Z", "active": 1});
    running["spec"]
        .as_object_mut()
        .unwrap()
        .remove("completions");
    running["spec"]["parallelism"] = json!(3);
    // No condition: Running; no completions with parallelism 3: "0/1 of 3"; still running:
    // the time since startTime (112 s).
    assert_eq!(
        row("batch", "jobs", &running, CLUSTER_NOW)[1..4],
        ["Running", "0/1 of 3", "112s"]
    );
    let hpa = get("/registry/horizontalpodautoscalers/billing-prod/billing-renderer");
    assert_eq!(
        row("autoscaling", "horizontalpodautoscalers", hpa, CLUSTER_NOW),
        // Resource metric with a utilization target: "<name>: <current>%/<target>%".
        [
            "billing-renderer",
            "Deployment/billing-renderer",
            "cpu: 44%/70%",
            "2",
            "8",
            "2",
            "229d"
        ]
    );
    let pdb = get("/registry/poddisruptionbudgets/billing-prod/billing-renderer");
    // minAvailable unset: N/A; maxUnavailable an IntOrString.
    assert_eq!(
        row("policy", "poddisruptionbudgets", pdb, CLUSTER_NOW)[1..4],
        ["N/A", "1", "1"]
    );
}

#[test]
fn core_kinds_from_the_round_trip_fixtures() {
    let Some(svc) = k8s_api("core.v1.Service") else {
        return;
    };
    assert_eq!(
        row("", "services", &svc, K8S_API_NOW),
        [
            "nameValue",
            "typeValue",
            // clusterIPs[0].
            "clusterIPsValue",
            // A type that is none of ClusterIP/NodePort/LoadBalancer/ExternalName.
            "<unknown>",
            // port:nodePort/protocol.
            "3:5/protocolValue",
            "2y1d",
            "selectorKey=selectorValue",
        ]
    );
    let ev = k8s_api("core.v1.Event").unwrap();
    assert_eq!(
        headers("", "events")[..4],
        ["Last Seen", "Type", "Reason", "Object"]
    );
    assert_eq!(
        row("", "events", &ev, K8S_API_NOW),
        [
            // A series: its lastObservedTime (2002-01-01T01:01:01.000002Z, 2 µs short of
            // 8 years: 7y, but ≥ 70080 h prints years alone) and its count.
            "8y",
            "typeValue",
            "reasonValue",
            // kind in lower case / name.
            "kindvalue/nameValue",
            "fieldPathValue",
            // source.component, source.host.
            "componentValue, hostValue",
            "messageValue",
            // firstTimestamp 2006-01-01.
            "4y1d",
            "1",
            "nameValue",
        ]
    );
    let cm = k8s_api("core.v1.ConfigMap").unwrap();
    // DATA counts data and binaryData.
    assert_eq!(
        row("", "configmaps", &cm, K8S_API_NOW),
        ["nameValue", "2", "2y1d"]
    );
    let secret = k8s_api("core.v1.Secret").unwrap();
    // stringData is write-only: only data counts.
    assert_eq!(
        row("", "secrets", &secret, K8S_API_NOW),
        ["nameValue", "typeValue", "1", "2y1d"]
    );
    let sa = k8s_api("core.v1.ServiceAccount").unwrap();
    assert_eq!(
        row("", "serviceaccounts", &sa, K8S_API_NOW),
        ["nameValue", "1", "2y1d"]
    );
    let ns = k8s_api("core.v1.Namespace").unwrap();
    assert_eq!(
        row("", "namespaces", &ns, K8S_API_NOW),
        ["nameValue", "phaseValue", "2y1d"]
    );
    let ep = k8s_api("core.v1.Endpoints").unwrap();
    // ip:port of the ready addresses (not notReadyAddresses).
    assert_eq!(
        row("", "endpoints", &ep, K8S_API_NOW),
        ["nameValue", "ipValue:2", "2y1d"]
    );
    let quota = k8s_api("core.v1.ResourceQuota").unwrap();
    // Every status.hard resource as name: used/hard (used 0 when absent); none is limits.*.
    assert_eq!(
        row("", "resourcequotas", &quota, K8S_API_NOW),
        ["nameValue", "hardKey: 0/0", "", "2y1d"]
    );
}

#[test]
fn core_kinds_from_cluster_dev() {
    let Some(objects) = cluster_dev_objects() else {
        return;
    };
    let get = |key: &str| &objects[key];
    let scheduled = get("/registry/events/media-prod/media-backup-29920232-287r8.18e9e18e006844e0");
    assert_eq!(
        row("", "events", scheduled, CLUSTER_NOW),
        [
            // No first/lastTimestamp: eventTime 22:32:06.49 → 59m45s (Go truncates).
            "59m",
            "Normal",
            "Scheduled",
            "pod/media-backup-29920232-287r8",
            "",
            // source is empty: reportingComponent, reportingInstance.
            "default-scheduler, default-scheduler-ip-10-0-37-241.eu-central-1.compute.internal",
            "Successfully assigned media-prod/media-backup-29920232-287r8 to ip-10-0-35-20.eu-central-1.compute.internal",
            "59m",
            // No count and no series: one occurrence.
            "1",
            "media-backup-29920232-287r8.18e9e18e006844e0",
        ]
    );
    let probe = get("/registry/events/media-prod/media-auth-dcvvvk9r4-zbcqw.18e9e341341f08e3");
    let r = row("", "events", probe, CLUSTER_NOW);
    // lastTimestamp 23:27:21 (4m31s), firstTimestamp 23:03:15 (28m37s), count 4.
    assert_eq!(
        [&r[0], &r[3], &r[7], &r[8]],
        ["4m31s", "pod/media-auth-dcvvvk9r4-zbcqw", "28m", "4"]
    );
    let svc = get("/registry/services/specs/argocd/argocd-application-controller-headless");
    // Headless: clusterIPs[0] is None; ClusterIP without externalIPs: <none>.
    assert_eq!(
        row("", "services", svc, CLUSTER_NOW)[1..5],
        ["ClusterIP", "None", "<none>", "80/TCP"]
    );
    let mut lb = svc.clone();
    lb["spec"]["type"] = json!("LoadBalancer");
    lb["spec"]["ports"][0]["nodePort"] = json!(30080);
    // LoadBalancer without an address yet: <pending>; a nodePort shows as port:nodePort.
    assert_eq!(
        row("", "services", &lb, CLUSTER_NOW)[3..5],
        ["<pending>", "80:30080/TCP"]
    );
    lb["status"]["loadBalancer"]["ingress"] =
        json!([{"hostname": "b.example.com"}, {"ip": "10.9.9.9"}]);
    lb["spec"]["externalIPs"] = json!(["192.0.2.1"]);
    // Balancer addresses (IP, else host name) sorted, then externalIPs; never cut (the
    // apiserver prints wide).
    assert_eq!(
        row("", "services", &lb, CLUSTER_NOW)[3],
        "10.9.9.9,b.example.com,192.0.2.1"
    );
}

#[test]
fn storage_and_networking_from_the_round_trip_fixtures() {
    let Some(pv) = k8s_api("core.v1.PersistentVolume") else {
        return;
    };
    assert_eq!(
        row("", "persistentvolumes", &pv, K8S_API_NOW),
        [
            "nameValue",
            // No storage capacity: the zero quantity.
            "0",
            // An access mode that is none of the four: nothing.
            "",
            "persistentVolumeReclaimPolicyValue",
            // deletionTimestamp: Terminating.
            "Terminating",
            "namespaceValue/nameValue",
            "storageClassNameValue",
            "volumeAttributesClassNameValue",
            "reasonValue",
            "2y1d",
            "volumeModeValue",
        ]
    );
    let pvc = k8s_api("core.v1.PersistentVolumeClaim").unwrap();
    assert_eq!(
        row("", "persistentvolumeclaims", &pvc, K8S_API_NOW),
        [
            "nameValue",
            "Terminating",
            "volumeNameValue",
            // Bound to a volume: status capacity (none for storage: 0) and access modes.
            "0",
            "",
            "storageClassNameValue",
            "volumeAttributesClassNameValue",
            "2y1d",
            "volumeModeValue",
        ]
    );
    let sc = k8s_api("storage.k8s.io.v1.StorageClass").unwrap();
    assert_eq!(
        row("storage.k8s.io", "storageclasses", &sc, K8S_API_NOW),
        [
            "nameValue",
            "provisionerValue",
            "reclaimPolicyValue",
            "volumeBindingModeValue",
            "true",
            "2y1d"
        ]
    );
    let ing = k8s_api("networking.k8s.io.v1.Ingress").unwrap();
    assert_eq!(
        row("networking.k8s.io", "ingresses", &ing, K8S_API_NOW),
        // TLS configured: "80, 443"; the balancer's IP.
        [
            "nameValue",
            "ingressClassNameValue",
            "hostValue",
            "ipValue",
            "80, 443",
            "2y1d"
        ]
    );
    let slice = k8s_api("discovery.k8s.io.v1.EndpointSlice").unwrap();
    assert_eq!(
        row("discovery.k8s.io", "endpointslices", &slice, K8S_API_NOW),
        [
            "nameValue",
            "addressTypeValue",
            "3",
            "addressesValue",
            "2y1d"
        ]
    );
    let np = k8s_api("networking.k8s.io.v1.NetworkPolicy").unwrap();
    assert_eq!(
        row("networking.k8s.io", "networkpolicies", &np, K8S_API_NOW),
        ["nameValue", "<error>", "2y1d"]
    );
    let class = k8s_api("networking.k8s.io.v1.IngressClass").unwrap();
    assert_eq!(
        row("networking.k8s.io", "ingressclasses", &class, K8S_API_NOW),
        // Parameters: kind.apiGroup/name.
        [
            "nameValue",
            "controllerValue",
            "kindValue.apiGroupValue/nameValue",
            "2y1d"
        ]
    );
    let va = k8s_api("storage.k8s.io.v1.VolumeAttachment").unwrap();
    let r = row("storage.k8s.io", "volumeattachments", &va, K8S_API_NOW);
    assert_eq!(r[1..3], ["attacherValue", "persistentVolumeNameValue"]);
    let csinode = k8s_api("storage.k8s.io.v1.CSINode").unwrap();
    assert_eq!(
        row("storage.k8s.io", "csinodes", &csinode, K8S_API_NOW),
        ["nameValue", "1", "2y1d"]
    );
    let driver = k8s_api("storage.k8s.io.v1.CSIDriver").unwrap();
    assert_eq!(
        row("storage.k8s.io", "csidrivers", &driver, K8S_API_NOW),
        [
            "nameValue",
            "true",
            "true",
            "true",
            "audienceValue",
            "true",
            "volumeLifecycleModesValue",
            "2y1d"
        ]
    );
}

#[test]
fn cluster_kinds_from_the_round_trip_fixtures() {
    let Some(lease) = k8s_api("coordination.k8s.io.v1.Lease") else {
        return;
    };
    assert_eq!(
        row("coordination.k8s.io", "leases", &lease, K8S_API_NOW),
        ["nameValue", "holderIdentityValue", "2y1d"]
    );
    let rb = k8s_api("rbac.authorization.k8s.io.v1.RoleBinding").unwrap();
    assert_eq!(
        row(
            "rbac.authorization.k8s.io",
            "rolebindings",
            &rb,
            K8S_API_NOW
        ),
        // roleRef kind/name; a subject of another kind is in none of the wide columns.
        ["nameValue", "kindValue/nameValue", "2y1d", "", "", ""]
    );
    let pc = k8s_api("scheduling.k8s.io.v1.PriorityClass").unwrap();
    assert_eq!(
        row("scheduling.k8s.io", "priorityclasses", &pc, K8S_API_NOW),
        ["nameValue", "2", "true", "2y1d", "preemptionPolicyValue"]
    );
    let csr = k8s_api("certificates.k8s.io.v1.CertificateSigningRequest").unwrap();
    assert_eq!(
        row(
            "certificates.k8s.io",
            "certificatesigningrequests",
            &csr,
            K8S_API_NOW
        ),
        // No Approved/Denied condition: Pending; a certificate: ,Issued; 8 s requested.
        [
            "nameValue",
            "2y1d",
            "signerNameValue",
            "usernameValue",
            "8s",
            "Pending,Issued"
        ]
    );
    let fs = k8s_api("flowcontrol.apiserver.k8s.io.v1.FlowSchema").unwrap();
    assert_eq!(
        row(
            "flowcontrol.apiserver.k8s.io",
            "flowschemas",
            &fs,
            K8S_API_NOW
        ),
        // No Dangling condition: "?".
        ["nameValue", "nameValue", "2", "typeValue", "2y1d", "?"]
    );
    let plc = k8s_api("flowcontrol.apiserver.k8s.io.v1.PriorityLevelConfiguration").unwrap();
    assert_eq!(
        row(
            "flowcontrol.apiserver.k8s.io",
            "prioritylevelconfigurations",
            &plc,
            K8S_API_NOW
        ),
        ["nameValue", "typeValue", "1", "1", "2", "3", "2y1d"]
    );
    let hook = k8s_api("admissionregistration.k8s.io.v1.ValidatingWebhookConfiguration").unwrap();
    assert_eq!(
        row(
            "admissionregistration.k8s.io",
            "validatingwebhookconfigurations",
            &hook,
            K8S_API_NOW
        ),
        ["nameValue", "1", "2y1d"]
    );
    let vap = k8s_api("admissionregistration.k8s.io.v1.ValidatingAdmissionPolicy").unwrap();
    assert_eq!(
        row(
            "admissionregistration.k8s.io",
            "validatingadmissionpolicies",
            &vap,
            K8S_API_NOW
        )[2],
        "apiVersionValue/kindValue"
    );
    let binding =
        k8s_api("admissionregistration.k8s.io.v1.ValidatingAdmissionPolicyBinding").unwrap();
    assert_eq!(
        row(
            "admissionregistration.k8s.io",
            "validatingadmissionpolicybindings",
            &binding,
            K8S_API_NOW
        ),
        // paramRef with a name: namespace/name (the selector is not looked at).
        [
            "nameValue",
            "policyNameValue",
            "namespaceValue/nameValue",
            "2y1d"
        ]
    );
    let rc = k8s_api("node.k8s.io.v1.RuntimeClass").unwrap();
    assert_eq!(
        row("node.k8s.io", "runtimeclasses", &rc, K8S_API_NOW),
        ["nameValue", "handlerValue", "2y1d"]
    );
    let role = k8s_api("rbac.authorization.k8s.io.v1.ClusterRole").unwrap();
    // No printer: the apiserver's default table, NAME and CREATED AT (RFC 3339).
    assert_eq!(
        headers("rbac.authorization.k8s.io", "clusterroles"),
        ["Name", "Created At"]
    );
    assert_eq!(
        row(
            "rbac.authorization.k8s.io",
            "clusterroles",
            &role,
            K8S_API_NOW
        ),
        ["nameValue", "2008-01-01T01:01:01Z"]
    );
}

#[test]
fn custom_resources_use_their_crds_columns() {
    let Some(objects) = cluster_dev_objects() else {
        return;
    };
    let crd = &objects["/registry/apiextensions.k8s.io/customresourcedefinitions/certificates.cert-manager.io"];
    let crd = revkeeper::printers::custom::Crd::from_object(crd);
    assert_eq!((crd.namespaced, crd.kind.as_str()), (true, "Certificate"));
    assert!(crd.is_named("certs") && crd.is_named("cert") && crd.is_named("certificate"));
    let printer = Printer::Custom(crd.columns);
    let names: Vec<String> = printer.columns().into_iter().map(|c| c.name).collect();
    // v1beta1: the top-level additionalPrinterColumns after NAME.
    assert_eq!(names, ["Name", "Ready", "Age"]);
    let ctx = Ctx { now: CLUSTER_NOW };
    let ready = &objects["/registry/cert-manager.io/certificates/catalog-prod/catalog-web-tls"];
    // .status.conditions[?(@.type=="Ready")].status (string); creationTimestamp (date → age).
    assert_eq!(
        printer.cells(ready, &ctx),
        ["catalog-web-tls", "True", "205d"]
    );
    let unready = &objects["/registry/cert-manager.io/certificates/old-feature-x/old-feature-tls"];
    // No conditions: no match, an empty cell.
    assert_eq!(printer.cells(unready, &ctx), ["old-feature-tls", "", "18d"]);
}

/// A kubectl table split into cells at the header's column starts.
fn parse_table(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let header = lines.next().expect("a header line");
    let mut starts = Vec::new();
    let mut prev = ' ';
    for (i, c) in header.char_indices() {
        // A column starts after two or more spaces (names like NOMINATED NODE have one).
        if c != ' ' && (i == 0 || (prev == ' ' && header[..i].ends_with("  "))) {
            starts.push(i);
        }
        prev = c;
    }
    let cut = |line: &str| -> Vec<String> {
        starts
            .iter()
            .enumerate()
            .map(|(k, &s)| {
                let end = starts
                    .get(k + 1)
                    .copied()
                    .unwrap_or(line.len())
                    .min(line.len());
                line.get(s.min(line.len())..end)
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
            .collect()
    };
    (cut(header), lines.map(cut).collect())
}

/// `namespace/name` of cluster-dev's objects of a kind, in key order.
fn expected_names(kind: &str) -> Vec<String> {
    let dir = common::cluster_dev().unwrap();
    let mut names: Vec<(String, String)> = std::fs::read_to_string(dir.join("objects.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["kind"] == kind)
        .map(|v| {
            (
                v["key"].as_str().unwrap().to_string(),
                format!(
                    "{}/{}",
                    v["namespace"].as_str().unwrap_or(""),
                    v["name"].as_str().unwrap()
                ),
            )
        })
        .collect();
    names.sort();
    names.into_iter().map(|(_, n)| n).collect()
}

fn get(db: &std::path::Path, args: &[&str]) -> common::Run {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--snapshot", db.to_str().unwrap()]);
    let r = common::run(&all);
    assert_eq!(r.code, 0, "{args:?}: {r:?}");
    r
}

#[test]
fn get_on_the_cluster_dev_snapshot_prints_kubectls_tables() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let db = dir.join("cluster.db");
    let r = get(&db, &["pods", "-A"]);
    // The time, once: the newest node heartbeat (truth.json's snapshot_time is 10 s later).
    assert_eq!(
        r.stderr
            .matches("estimated time 2026-11-20T23:31:52Z")
            .count(),
        1,
        "{r:?}"
    );
    let (header, rows) = parse_table(&r.stdout);
    assert_eq!(
        header,
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    let names: Vec<String> = rows.iter().map(|r| format!("{}/{}", r[0], r[1])).collect();
    assert_eq!(names, expected_names("Pod"));
    let crashing = rows
        .iter()
        .find(|r| r[1] == "media-scheduler-nnm8kwq9fz-46m9j")
        .unwrap();
    assert_eq!(
        crashing[2..],
        ["0/1", "CrashLoopBackOff", "7 (56m ago)", "252d"]
    );
    // kubectl's layout: columns three spaces apart at the least.
    assert!(
        r.stdout.starts_with("NAMESPACE        NAME "),
        "{}",
        r.stdout
    );

    let (header, rows) = parse_table(&get(&db, &["pods", "-A", "-o", "wide"]).stdout);
    assert_eq!(
        header,
        [
            "NAMESPACE",
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED NODE",
            "READINESS GATES"
        ]
    );
    assert_eq!(rows.len(), expected_names("Pod").len());

    let (header, rows) = parse_table(&get(&db, &["nodes"]).stdout);
    assert_eq!(header, ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    let names: Vec<String> = rows.iter().map(|r| format!("/{}", r[0])).collect();
    assert_eq!(names, expected_names("Node"));
    let cp = rows
        .iter()
        .find(|r| r[0] == "ip-10-0-164-190.eu-central-1.compute.internal")
        .unwrap();
    assert_eq!(cp[1..], ["Ready", "control-plane", "381d", "v1.32.3"]);

    let (header, rows) = parse_table(&get(&db, &["deploy", "-A"]).stdout);
    assert_eq!(
        header,
        [
            "NAMESPACE",
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE"
        ]
    );
    let names: Vec<String> = rows.iter().map(|r| format!("{}/{}", r[0], r[1])).collect();
    assert_eq!(names, expected_names("Deployment"));

    // A custom resource by its CRD's short name: the CRD's columns.
    let (header, rows) = parse_table(&get(&db, &["certs", "-A"]).stdout);
    assert_eq!(header, ["NAMESPACE", "NAME", "READY", "AGE"]);
    let names: Vec<String> = rows.iter().map(|r| format!("{}/{}", r[0], r[1])).collect();
    assert_eq!(names, expected_names("Certificate"));
    assert!(rows.contains(&vec![
        "old-feature-x".into(),
        "old-feature-tls".into(),
        "".into(),
        "18d".into()
    ]));
    // Cluster-scoped: no NAMESPACE column even with -A.
    let (header, _) = parse_table(&get(&db, &["clusterissuers.cert-manager.io", "-A"]).stdout);
    assert_eq!(header, ["NAME", "READY", "AGE"]);
    // Custom resources without a CRD: NAME and AGE.
    let (header, rows) = parse_table(&get(&db, &["kafkatopics.kafka.strimzi.io", "-A"]).stdout);
    assert_eq!(header, ["NAMESPACE", "NAME", "AGE"]);
    assert_eq!(rows.len(), 3);
}

#[test]
fn kubectls_table_flags_on_the_snapshot() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let db = dir.join("cluster.db");
    // -l (set-based), -L and --show-labels (LABELS last), --no-headers.
    let r = get(
        &db,
        &[
            "pods",
            "-n",
            "media-prod",
            "-l",
            "app.kubernetes.io/name in (media-scheduler)",
            "-L",
            "app.kubernetes.io/name",
            "--show-labels",
        ],
    );
    let (header, rows) = parse_table(&r.stdout);
    assert_eq!(
        header,
        [
            "NAME", "READY", "STATUS", "RESTARTS", "AGE", "NAME", "LABELS"
        ]
    );
    assert!(!rows.is_empty());
    for row in &rows {
        assert!(row[0].starts_with("media-scheduler-"), "{row:?}");
        assert_eq!(row[5], "media-scheduler");
        assert!(
            row[6].contains("app.kubernetes.io/name=media-scheduler"),
            "{row:?}"
        );
    }
    let bare = get(
        &db,
        &[
            "pods",
            "-n",
            "media-prod",
            "-l",
            "app.kubernetes.io/name=media-scheduler",
            "--no-headers",
        ],
    );
    assert_eq!(bare.stdout.lines().count(), rows.len());
    assert!(
        bare.stdout.starts_with("media-scheduler-"),
        "{}",
        bare.stdout
    );
    // Equality and negation: nothing matches both.
    let none = common::run(&[
        "get",
        "pods",
        "-n",
        "media-prod",
        "-l",
        "app.kubernetes.io/name=media-scheduler,!app.kubernetes.io/name",
        "--snapshot",
        db.to_str().unwrap(),
    ]);
    assert_eq!((none.code, none.stdout.as_str()), (0, ""), "{none:?}");
    assert!(
        none.stderr
            .contains("No resources found in media-prod namespace."),
        "{none:?}"
    );
    // --sort-by orders -o name too; by creationTimestamp, the oldest first.
    let sorted = get(
        &db,
        &[
            "pods",
            "-A",
            "--sort-by",
            ".metadata.creationTimestamp",
            "-o",
            "name",
        ],
    );
    let by_name = get(&db, &["pods", "-A", "-o", "name"]);
    assert_ne!(sorted.stdout, by_name.stdout);
    let (_, rows) = parse_table(
        &get(
            &db,
            &["nodes", "--sort-by", "{.metadata.creationTimestamp}"],
        )
        .stdout,
    );
    // The oldest node first: created 2025-11-03T23:58:01Z (382 days).
    assert_eq!(rows[0][0], "ip-10-0-37-241.eu-central-1.compute.internal");
    assert_eq!(
        rows.last().unwrap()[0],
        "ip-10-0-88-164.eu-central-1.compute.internal"
    );
    // A bad selector is one line and exit 3.
    let bad = common::run(&[
        "get",
        "pods",
        "-l",
        "app in web",
        "--snapshot",
        db.to_str().unwrap(),
    ]);
    assert_eq!(bad.code, 3, "{bad:?}");
    assert!(
        bad.last_err_line().contains("selector \"app in web\""),
        "{bad:?}"
    );
}

#[test]
fn managed_fields_are_hidden_unless_asked_for() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let db = dir.join("cluster.db");
    let node = ["nodes", "ip-10-0-164-190.eu-central-1.compute.internal"];
    let has_them = cluster_dev("/registry/minions/ip-10-0-164-190.eu-central-1.compute.internal")
        .unwrap()["metadata"]["managedFields"]
        .is_array();
    assert!(has_them, "the fixture node has managedFields");
    for format in ["json", "yaml"] {
        let mut args = node.to_vec();
        args.extend(["-o", format]);
        let hidden = get(&db, &args);
        assert!(!hidden.stdout.contains("managedFields"), "{format}");
        assert!(hidden.stdout.contains("kubeletVersion"), "{format}");
        args.push("--show-managed-fields");
        assert!(get(&db, &args).stdout.contains("managedFields"), "{format}");
    }
    // -o jsonl keeps the stored object whole.
    let mut args = node.to_vec();
    args.extend(["-o", "jsonl"]);
    assert!(get(&db, &args).stdout.contains("managedFields"));
}

#[test]
fn wide_secrets_have_as_many_cells_as_headers() {
    let Some(dir) = common::cluster_dev() else {
        return;
    };
    let db = dir.join("cluster.db");
    let config = dir.join("encryption-config.yaml");
    let config = config.to_str().unwrap();
    let r = get(
        &db,
        &[
            "secrets",
            "-A",
            "-o",
            "wide",
            "--show-etcd",
            "--encryption-config",
            config,
        ],
    );
    let (header, rows) = parse_table(&r.stdout);
    assert_eq!(
        header,
        [
            "NAMESPACE",
            "NAME",
            "TYPE",
            "DATA",
            "AGE",
            "ENCODING",
            "SIZE",
            "REVISION"
        ]
    );
    assert_eq!(rows.len(), expected_names("Secret").len());
    for row in &rows {
        assert!(row.iter().all(|c| !c.is_empty()), "{row:?}");
        assert!(
            row[5] == "protobuf" || row[5].starts_with("encrypted:"),
            "{row:?}"
        );
        assert!(
            row[6].parse::<u64>().is_ok() && row[7].parse::<u64>().is_ok(),
            "{row:?}"
        );
    }
    // Objects of any kind (--prefix --decode): NAME, AGE; -o wide adds the stored apiVersion,
    // kind and etcd's columns, one cell under each header.
    let r = get(
        &db,
        &[
            "--prefix",
            "/registry/leases/",
            "--decode",
            "-o",
            "wide",
            "-A",
        ],
    );
    let (header, rows) = parse_table(&r.stdout);
    assert_eq!(
        header,
        [
            "NAMESPACE",
            "NAME",
            "AGE",
            "APIVERSION",
            "KIND",
            "ENCODING",
            "SIZE",
            "REVISION"
        ]
    );
    assert_eq!(rows.len(), expected_names("Lease").len());
    assert!(
        rows.iter()
            .all(|r| r[3] == "coordination.k8s.io/v1" && r[4] == "Lease"),
        "{rows:?}"
    );
}
