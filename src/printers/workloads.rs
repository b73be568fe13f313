//! Workloads: deployments, replica sets, stateful sets, daemon sets, jobs, cron jobs,
//! replication controllers, controller revisions, and what scales or guards them (HPAs,
//! PodDisruptionBudgets).

use serde_json::Value;

use super::cells::{bool_ptr, condition_true, containers, int_or_string, items, n, quantity, s};
use super::labels::{Selector, format_label_selector, format_labels};
use super::time::{between, is_set, parse, since};
use super::{Col, Ctx, Kind, col, name_and_age, wide};

/// `spec.replicas`, which decoding from storage defaults to 1 when absent.
fn replicas(o: &Value) -> i64 {
    o["spec"]["replicas"].as_i64().unwrap_or(1)
}

/// NAME … AGE, then CONTAINERS, IMAGES (and SELECTOR) of the pod template for `-o wide`.
fn with_template(cells: Vec<String>, pod_spec: &Value, selector: Option<String>) -> Vec<String> {
    let mut cells = cells;
    cells.extend(containers(pod_spec));
    cells.extend(selector);
    cells
}

pub(super) const KINDS: &[Kind] = &[
    Kind {
        group: "apps",
        plural: "deployments",
        columns: &[
            col("Name"),
            col("Ready"),
            col("Up-to-date"),
            col("Available"),
            col("Age"),
            wide("Containers"),
            wide("Images"),
            wide("Selector"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let st = &o["status"];
            // LabelSelectorAsSelector(...).String(): "" for none, <invalid> when unconvertible.
            let selector = match Selector::from_label_selector(&o["spec"]["selector"]) {
                Some(sel) => sel.text(),
                None => "<invalid>".into(),
            };
            let cells = vec![
                name,
                format!("{}/{}", n(&st["readyReplicas"]), replicas(o)),
                n(&st["updatedReplicas"]).to_string(),
                n(&st["availableReplicas"]).to_string(),
                age,
            ];
            with_template(cells, &o["spec"]["template"]["spec"], Some(selector))
        },
    },
    Kind {
        group: "apps",
        plural: "replicasets",
        columns: REPLICA_COLUMNS,
        row: |o, ctx| replica_row(o, ctx, format_label_selector(&o["spec"]["selector"])),
    },
    Kind {
        group: "",
        plural: "replicationcontrollers",
        columns: REPLICA_COLUMNS,
        // A replication controller's selector is a plain label map.
        row: |o, ctx| replica_row(o, ctx, format_labels(&o["spec"]["selector"])),
    },
    Kind {
        group: "apps",
        plural: "statefulsets",
        columns: &[
            col("Name"),
            col("Ready"),
            col("Age"),
            wide("Containers"),
            wide("Images"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let ready = format!("{}/{}", n(&o["status"]["readyReplicas"]), replicas(o));
            with_template(vec![name, ready, age], &o["spec"]["template"]["spec"], None)
        },
    },
    Kind {
        group: "apps",
        plural: "daemonsets",
        columns: &[
            col("Name"),
            col("Desired"),
            col("Current"),
            col("Ready"),
            col("Up-to-date"),
            col("Available"),
            col("Node Selector"),
            col("Age"),
            wide("Containers"),
            wide("Images"),
            wide("Selector"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let st = &o["status"];
            let pod_spec = &o["spec"]["template"]["spec"];
            let mut cells = vec![name];
            for field in [
                "desiredNumberScheduled",
                "currentNumberScheduled",
                "numberReady",
                "updatedNumberScheduled",
                "numberAvailable",
            ] {
                cells.push(n(&st[field]).to_string());
            }
            cells.push(format_labels(&pod_spec["nodeSelector"]));
            cells.push(age);
            let selector = format_label_selector(&o["spec"]["selector"]);
            with_template(cells, pod_spec, Some(selector))
        },
    },
    Kind {
        group: "batch",
        plural: "jobs",
        columns: &[
            col("Name"),
            col("Status"),
            col("Completions"),
            col("Duration"),
            col("Age"),
            wide("Containers"),
            wide("Images"),
            wide("Selector"),
        ],
        row: job,
    },
    Kind {
        group: "batch",
        plural: "cronjobs",
        columns: &[
            col("Name"),
            col("Schedule"),
            col("Timezone"),
            col("Suspend"),
            col("Active"),
            col("Last Schedule"),
            col("Age"),
            wide("Containers"),
            wide("Images"),
            wide("Selector"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let spec = &o["spec"];
            let last = &o["status"]["lastScheduleTime"];
            let cells = vec![
                name,
                s(&spec["schedule"]).to_string(),
                super::cells::or_none(s(&spec["timeZone"])),
                bool_ptr(&spec["suspend"]),
                items(&o["status"]["active"]).len().to_string(),
                if is_set(last) {
                    since(last, ctx.now)
                } else {
                    "<none>".into()
                },
                age,
            ];
            let job = &spec["jobTemplate"]["spec"];
            let selector = format_label_selector(&job["selector"]);
            with_template(cells, &job["template"]["spec"], Some(selector))
        },
    },
    Kind {
        group: "apps",
        plural: "controllerrevisions",
        columns: &[col("Name"), col("Controller"), col("Revision"), col("Age")],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let owner = items(&o["metadata"]["ownerReferences"])
                .iter()
                .find(|r| r["controller"].as_bool() == Some(true));
            // formatResourceName: lower-case Kind.group, then the name.
            let controller = owner.map_or("<none>".to_string(), |r| {
                let group = s(&r["apiVersion"]).rsplit_once('/').map_or("", |(g, _)| g);
                let kind = match group {
                    "" => s(&r["kind"]).to_string(),
                    g => format!("{}.{g}", s(&r["kind"])),
                };
                match kind.as_str() {
                    "" => s(&r["name"]).to_string(),
                    k => format!("{}/{}", k.to_lowercase(), s(&r["name"])),
                }
            });
            vec![name, controller, n(&o["revision"]).to_string(), age]
        },
    },
    Kind {
        group: "autoscaling",
        plural: "horizontalpodautoscalers",
        columns: &[
            col("Name"),
            col("Reference"),
            col("Targets"),
            col("MinPods"),
            col("MaxPods"),
            col("Replicas"),
            col("Age"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let spec = &o["spec"];
            let target = &spec["scaleTargetRef"];
            vec![
                name,
                format!("{}/{}", s(&target["kind"]), s(&target["name"])),
                hpa_targets(o),
                spec["minReplicas"]
                    .as_i64()
                    .map_or("<unset>".into(), |m| m.to_string()),
                n(&spec["maxReplicas"]).to_string(),
                n(&o["status"]["currentReplicas"]).to_string(),
                age,
            ]
        },
    },
    Kind {
        group: "policy",
        plural: "poddisruptionbudgets",
        columns: &[
            col("Name"),
            col("Min Available"),
            col("Max Unavailable"),
            col("Allowed Disruptions"),
            col("Age"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let bound = |v: &Value| {
                if v.is_null() {
                    "N/A".to_string()
                } else {
                    int_or_string(v)
                }
            };
            vec![
                name,
                bound(&o["spec"]["minAvailable"]),
                bound(&o["spec"]["maxUnavailable"]),
                n(&o["status"]["disruptionsAllowed"]).to_string(),
                age,
            ]
        },
    },
];

fn job(o: &Value, ctx: &Ctx) -> Vec<String> {
    let [name, age] = name_and_age(o, ctx);
    let spec = &o["spec"];
    let st = &o["status"];
    let succeeded = n(&st["succeeded"]);
    let completions = match spec["completions"].as_i64() {
        Some(c) => format!("{succeeded}/{c}"),
        None => match n(&spec["parallelism"]) {
            p if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let start = parse(s(&st["startTime"]));
    let duration = match (start, parse(s(&st["completionTime"]))) {
        (None, _) => String::new(),
        (Some(start), None) => between(start, ctx.now),
        (Some(start), Some(done)) => between(start, done),
    };
    let conditions = &st["conditions"];
    let status = if condition_true(conditions, "Complete") {
        "Complete"
    } else if condition_true(conditions, "Failed") {
        "Failed"
    } else if is_set(&o["metadata"]["deletionTimestamp"]) {
        "Terminating"
    } else if condition_true(conditions, "Suspended") {
        "Suspended"
    } else if condition_true(conditions, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let cells = vec![name, status.into(), completions, duration, age];
    let selector = format_label_selector(&spec["selector"]);
    with_template(cells, &spec["template"]["spec"], Some(selector))
}

/// `formatHPAMetrics`: each metric as current/target, two at most, then `+ N more...`.
/// An `autoscaling/v1` object's CPU target counts as one Resource metric, as its conversion
/// makes it.
fn hpa_targets(o: &Value) -> String {
    let spec = &o["spec"];
    let status = &o["status"];
    let v1_cpu;
    let v1_current;
    let (specs, statuses) = if let Some(cpu) = spec["targetCPUUtilizationPercentage"].as_i64() {
        v1_cpu = vec![
            serde_json::json!({"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": cpu}}}),
        ];
        v1_current = match status["currentCPUUtilizationPercentage"].as_i64() {
            Some(now) => vec![
                serde_json::json!({"type": "Resource", "resource": {"name": "cpu",
                "current": {"averageUtilization": now}}}),
            ],
            None => Vec::new(),
        };
        (v1_cpu.as_slice(), v1_current.as_slice())
    } else {
        (items(&spec["metrics"]), items(&status["currentMetrics"]))
    };
    if specs.is_empty() {
        return "<none>".into();
    }
    // A missing *Quantity prints as <nil> in Go.
    let q = |v: &Value| {
        if v.is_null() {
            "<nil>".to_string()
        } else {
            quantity(v)
        }
    };
    let mut list = Vec::new();
    for (i, m) in specs.iter().enumerate() {
        let status = statuses.get(i);
        let current_of = |field: &str| status.map(|st| &st[field]).filter(|v| v.is_object());
        let text = match s(&m["type"]) {
            kind @ ("External" | "Object") => {
                let field = if kind == "External" {
                    "external"
                } else {
                    "object"
                };
                let target = &m[field]["target"];
                let current = current_of(field).map(|c| &c["current"]);
                if !target["averageValue"].is_null() {
                    let now = current
                        .filter(|c| !c["averageValue"].is_null())
                        .map_or("<unknown>".into(), |c| q(&c["averageValue"]));
                    format!("{now}/{} (avg)", q(&target["averageValue"]))
                } else {
                    let now = current.map_or("<unknown>".into(), |c| q(&c["value"]));
                    format!("{now}/{}", q(&target["value"]))
                }
            }
            "Pods" => {
                let now = current_of("pods")
                    .map_or("<unknown>".into(), |c| q(&c["current"]["averageValue"]));
                format!("{now}/{}", q(&m["pods"]["target"]["averageValue"]))
            }
            kind @ ("Resource" | "ContainerResource") => {
                let field = if kind == "Resource" {
                    "resource"
                } else {
                    "containerResource"
                };
                let source = &m[field];
                let target = &source["target"];
                let current = current_of(field).map(|c| &c["current"]);
                let resource = s(&source["name"]);
                if !target["averageValue"].is_null() {
                    let now = current.map_or("<unknown>".into(), |c| q(&c["averageValue"]));
                    format!("{resource}: {now}/{}", q(&target["averageValue"]))
                } else {
                    let now = current
                        .and_then(|c| c["averageUtilization"].as_i64())
                        .map_or("<unknown>".into(), |u| format!("{u}%"));
                    let goal = target["averageUtilization"]
                        .as_i64()
                        .map_or("<auto>".into(), |u| format!("{u}%"));
                    format!("{resource}: {now}/{goal}")
                }
            }
            _ => "<unknown type>".into(),
        };
        list.push(text);
    }
    let more = list.len().saturating_sub(2);
    list.truncate(2);
    let shown = list.join(", ");
    if more > 0 {
        format!("{shown} + {more} more...")
    } else {
        shown
    }
}

/// Replica sets and replication controllers print alike; only their selectors differ in shape.
const REPLICA_COLUMNS: &[Col] = &[
    col("Name"),
    col("Desired"),
    col("Current"),
    col("Ready"),
    col("Age"),
    wide("Containers"),
    wide("Images"),
    wide("Selector"),
];

fn replica_row(o: &Value, ctx: &Ctx, selector: String) -> Vec<String> {
    let [name, age] = name_and_age(o, ctx);
    let st = &o["status"];
    let cells = vec![
        name,
        replicas(o).to_string(),
        n(&st["replicas"]).to_string(),
        n(&st["readyReplicas"]).to_string(),
        age,
    ];
    with_template(cells, &o["spec"]["template"]["spec"], Some(selector))
}
