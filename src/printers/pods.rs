//! Pods: kube-apiserver's `printPod` — READY, STATUS (the container and init-container
//! states that decide it), RESTARTS with the time of the last restart, AGE; `-o wide` adds
//! IP, NODE, NOMINATED NODE and READINESS GATES.

use serde_json::Value;
use time::OffsetDateTime;

use super::cells::{condition_true, items, n, or_none, s};
use super::time::{between, parse};
use super::{Ctx, Kind, col, wide};

pub(super) const KINDS: &[Kind] = &[Kind {
    group: "",
    plural: "pods",
    columns: &[
        col("Name"),
        col("Ready"),
        col("Status"),
        col("Restarts"),
        col("Age"),
        wide("IP"),
        wide("Node"),
        wide("Nominated Node"),
        wide("Readiness Gates"),
    ],
    row: pod,
}];

/// An init container with `restartPolicy: Always` runs beside the others (a sidecar).
fn is_sidecar(pod: &Value, name: &str) -> bool {
    items(&pod["spec"]["initContainers"])
        .iter()
        .any(|c| s(&c["name"]) == name && s(&c["restartPolicy"]) == "Always")
}

/// The latest `lastState.terminated.finishedAt` seen, for "(5m ago)".
#[derive(Default)]
struct LastRestart(Option<OffsetDateTime>);

impl LastRestart {
    fn note(&mut self, status: &Value) {
        // A terminated state without a time has Go's zero time, which never counts.
        if let Some(t) = parse(s(&status["lastState"]["terminated"]["finishedAt"])) {
            if self.0.is_none_or(|seen| seen < t) {
                self.0 = Some(t);
            }
        }
    }
}

/// `Init:…`/plain reason for a terminated container without a reason of its own.
fn exit_reason(terminated: &Value) -> String {
    match n(&terminated["signal"]) {
        0 => format!("ExitCode:{}", n(&terminated["exitCode"])),
        sig => format!("Signal:{sig}"),
    }
}

fn pod(pod: &Value, ctx: &Ctx) -> Vec<String> {
    let spec = &pod["spec"];
    let status = &pod["status"];
    let phase = s(&status["phase"]);
    let mut reason = match s(&status["reason"]) {
        "" => phase.to_string(),
        r => r.to_string(),
    };
    if items(&status["conditions"])
        .iter()
        .any(|c| s(&c["type"]) == "PodScheduled" && s(&c["reason"]) == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }
    let init_specs = items(&spec["initContainers"]);
    let total = items(&spec["containers"]).len()
        + init_specs
            .iter()
            .filter(|c| s(&c["restartPolicy"]) == "Always")
            .count();
    let mut ready = 0;
    let mut restarts = 0;
    let mut sidecar_restarts = 0;
    let mut last = LastRestart::default();
    let mut last_sidecar = LastRestart::default();

    let mut initializing = false;
    for (i, c) in items(&status["initContainerStatuses"]).iter().enumerate() {
        restarts += n(&c["restartCount"]);
        last.note(c);
        let sidecar = is_sidecar(pod, s(&c["name"]));
        if sidecar {
            sidecar_restarts += n(&c["restartCount"]);
            last_sidecar.note(c);
        }
        let terminated = &c["state"]["terminated"];
        let waiting = &c["state"]["waiting"];
        if terminated.is_object() && n(&terminated["exitCode"]) == 0 {
            continue;
        }
        if sidecar && c["started"].as_bool() == Some(true) {
            if c["ready"].as_bool() == Some(true) {
                ready += 1;
            }
            continue;
        }
        reason = if terminated.is_object() {
            match s(&terminated["reason"]) {
                "" => format!("Init:{}", exit_reason(terminated)),
                r => format!("Init:{r}"),
            }
        } else if waiting.is_object() && !matches!(s(&waiting["reason"]), "" | "PodInitializing") {
            format!("Init:{}", s(&waiting["reason"]))
        } else {
            format!("Init:{i}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }

    if !initializing || condition_true(&status["conditions"], "Initialized") {
        restarts = sidecar_restarts;
        last = last_sidecar;
        let mut has_running = false;
        for c in items(&status["containerStatuses"]).iter().rev() {
            restarts += n(&c["restartCount"]);
            last.note(c);
            let waiting = &c["state"]["waiting"];
            let terminated = &c["state"]["terminated"];
            if waiting.is_object() && !s(&waiting["reason"]).is_empty() {
                reason = s(&waiting["reason"]).to_string();
            } else if terminated.is_object() && !s(&terminated["reason"]).is_empty() {
                reason = s(&terminated["reason"]).to_string();
            } else if terminated.is_object() {
                reason = exit_reason(terminated);
            } else if c["ready"].as_bool() == Some(true) && c["state"]["running"].is_object() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition_true(&status["conditions"], "Ready") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }

    let deleting = super::time::is_set(&pod["metadata"]["deletionTimestamp"]);
    if deleting && s(&status["reason"]) == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && !matches!(phase, "Succeeded" | "Failed") {
        reason = "Terminating".into();
    }

    let restarts = match last.0 {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", between(t, ctx.now)),
        _ => restarts.to_string(),
    };
    let ip = items(&status["podIPs"])
        .first()
        .map(|p| s(&p["ip"]))
        .filter(|ip| !ip.is_empty())
        .unwrap_or(s(&status["podIP"]));
    let gates = items(&spec["readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let conditions = items(&status["conditions"]);
        let met = gates
            .iter()
            .filter(|g| {
                conditions
                    .iter()
                    .find(|c| c["type"] == g["conditionType"])
                    .is_some_and(|c| s(&c["status"]) == "True")
            })
            .count();
        format!("{met}/{}", gates.len())
    };
    vec![
        s(&pod["metadata"]["name"]).to_string(),
        format!("{ready}/{total}"),
        reason,
        restarts,
        super::time::age(pod, ctx.now),
        or_none(ip),
        or_none(s(&spec["nodeName"])),
        or_none(s(&status["nominatedNodeName"])),
        readiness_gates,
    ]
}
