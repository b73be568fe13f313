//! `get` prints kubectl's columns: rows of the shared fixtures (the k8s-api round-trip
//! objects, every field set to a placeholder, and cluster-dev's realistic objects, some varied
//! to reach each rule) against rows worked out by hand from kube-apiserver's printer rules;
//! each expected value says which rule gives it. Pods, nodes and workloads here; the other
//! kinds in `get_columns_kinds.rs`, the binary on a snapshot in `get_columns_cli.rs`.

mod printer_fixtures;

use printer_fixtures::*;
use serde_json::{Value, json};

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
