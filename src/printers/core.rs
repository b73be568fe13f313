//! Core kinds that are not about networking or storage: nodes, namespaces, configmaps,
//! secrets, service accounts, events, resource quotas, pod templates.

use serde_json::Value;

use super::cells::{condition, containers, count, items, n, quantity, s};
use super::labels::format_labels;
use super::time::since;
use super::{Ctx, Kind, col, name_and_age, wide};

pub(super) const KINDS: &[Kind] = &[
    Kind {
        group: "",
        plural: "nodes",
        columns: &[
            col("Name"),
            col("Status"),
            col("Roles"),
            col("Age"),
            col("Version"),
            wide("Internal-IP"),
            wide("External-IP"),
            wide("OS-Image"),
            wide("Kernel-Version"),
            wide("Container-Runtime"),
        ],
        row: node,
    },
    Kind {
        group: "",
        plural: "namespaces",
        columns: &[col("Name"), col("Status"), col("Age")],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            vec![name, s(&o["status"]["phase"]).to_string(), age]
        },
    },
    Kind {
        group: "",
        plural: "configmaps",
        columns: &[col("Name"), col("Data"), col("Age")],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let data = count(&o["data"]) + count(&o["binaryData"]);
            vec![name, data.to_string(), age]
        },
    },
    Kind {
        group: "",
        plural: "secrets",
        columns: &[col("Name"), col("Type"), col("Data"), col("Age")],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let kind = s(&o["type"]).to_string();
            vec![name, kind, count(&o["data"]).to_string(), age]
        },
    },
    Kind {
        group: "",
        plural: "serviceaccounts",
        columns: &[col("Name"), col("Secrets"), col("Age")],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            vec![name, count(&o["secrets"]).to_string(), age]
        },
    },
    Kind {
        group: "",
        plural: "events",
        columns: &[
            col("Last Seen"),
            col("Type"),
            col("Reason"),
            col("Object"),
            wide("Subobject"),
            wide("Source"),
            col("Message"),
            wide("First Seen"),
            wide("Count"),
            wide("Name"),
        ],
        row: event,
    },
    Kind {
        group: "",
        plural: "resourcequotas",
        columns: &[col("Name"), col("Request"), col("Limit"), col("Age")],
        row: resource_quota,
    },
    Kind {
        group: "",
        plural: "podtemplates",
        columns: &[
            col("Name"),
            col("Containers"),
            col("Images"),
            col("Pod Labels"),
        ],
        row: |o, _| {
            let [names, images] = containers(&o["template"]["spec"]);
            let labels = format_labels(&o["template"]["metadata"]["labels"]);
            vec![s(&o["metadata"]["name"]).to_string(), names, images, labels]
        },
    },
];

fn node(o: &Value, ctx: &Ctx) -> Vec<String> {
    let mut status = match condition(&o["status"]["conditions"], "Ready") {
        Some(c) if s(&c["status"]) == "True" => vec!["Ready"],
        Some(_) => vec!["NotReady"],
        None => vec!["Unknown"],
    };
    if o["spec"]["unschedulable"].as_bool() == Some(true) {
        status.push("SchedulingDisabled");
    }
    // node-role.kubernetes.io/<role> labels, and the older kubernetes.io/role=<role>.
    let mut roles: Vec<&str> = Vec::new();
    for (k, v) in o["metadata"]["labels"].as_object().into_iter().flatten() {
        let role = match k.strip_prefix("node-role.kubernetes.io/") {
            Some(r) => r,
            None if k == "kubernetes.io/role" => s(v),
            None => "",
        };
        if !role.is_empty() && !roles.contains(&role) {
            roles.push(role);
        }
    }
    roles.sort_unstable();
    let info = &o["status"]["nodeInfo"];
    let address = |kind: &str| {
        items(&o["status"]["addresses"])
            .iter()
            .find(|a| s(&a["type"]) == kind)
            .map_or("<none>".to_string(), |a| s(&a["address"]).to_string())
    };
    let or_unknown = |v: &Value| match s(v) {
        "" => "<unknown>".to_string(),
        t => t.to_string(),
    };
    let [name, age] = name_and_age(o, ctx);
    vec![
        name,
        status.join(","),
        if roles.is_empty() {
            "<none>".into()
        } else {
            roles.join(",")
        },
        age,
        s(&info["kubeletVersion"]).to_string(),
        address("InternalIP"),
        address("ExternalIP"),
        or_unknown(&info["osImage"]),
        or_unknown(&info["kernelVersion"]),
        or_unknown(&info["containerRuntimeVersion"]),
    ]
}

fn event(o: &Value, ctx: &Ctx) -> Vec<String> {
    let set = super::time::is_set;
    let first = if set(&o["firstTimestamp"]) {
        since(&o["firstTimestamp"], ctx.now)
    } else {
        since(&o["eventTime"], ctx.now)
    };
    let mut last = if set(&o["lastTimestamp"]) {
        since(&o["lastTimestamp"], ctx.now)
    } else {
        first.clone()
    };
    let mut count = n(&o["count"]);
    let series = &o["series"];
    if series.is_object() {
        last = since(&series["lastObservedTime"], ctx.now);
        count = n(&series["count"]);
    } else if count == 0 {
        // Events of the events.k8s.io API have no count: each is one occurrence.
        count = 1;
    }
    let involved = &o["involvedObject"];
    let kind = s(&involved["kind"]).to_lowercase();
    let target = match s(&involved["name"]) {
        "" => kind,
        name => format!("{kind}/{name}"),
    };
    let first_of = |a: &Value, b: &Value| {
        let a = s(a);
        if a.is_empty() { s(b) } else { a }.to_string()
    };
    let component = first_of(&o["source"]["component"], &o["reportingComponent"]);
    let host = first_of(&o["source"]["host"], &o["reportingInstance"]);
    let source = if host.is_empty() {
        component
    } else {
        format!("{component}, {host}")
    };
    vec![
        last,
        s(&o["type"]).to_string(),
        s(&o["reason"]).to_string(),
        target,
        s(&involved["fieldPath"]).to_string(),
        source,
        s(&o["message"]).trim().to_string(),
        first,
        count.to_string(),
        s(&o["metadata"]["name"]).to_string(),
    ]
}

fn resource_quota(o: &Value, ctx: &Ctx) -> Vec<String> {
    let hard = o["status"]["hard"].as_object();
    let mut names: Vec<&String> = hard.into_iter().flat_map(|h| h.keys()).collect();
    names.sort();
    let (mut requests, mut limits) = (Vec::new(), Vec::new());
    for r in names {
        let used = quantity_or_zero(&o["status"]["used"][r.as_str()]);
        let text = format!("{r}: {used}/{}", quantity(&o["status"]["hard"][r.as_str()]));
        // Resources named limits.* go to LIMIT, all others to REQUEST.
        match r.split_once('.') {
            Some(("limits", _)) => limits.push(text),
            _ => requests.push(text),
        }
    }
    let [name, age] = name_and_age(o, ctx);
    vec![name, requests.join(", "), limits.join(", "), age]
}

/// A quantity that may be absent (Go's zero `Quantity` prints `0`).
fn quantity_or_zero(v: &Value) -> String {
    if v.is_null() { "0".into() } else { quantity(v) }
}
