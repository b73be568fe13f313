//! Cluster machinery: leases, RBAC bindings, scheduling and runtime classes, certificate
//! requests, API priority and fairness, admission webhooks and policies, APIServices,
//! storage versions, dynamic resource allocation.

use serde_json::Value;

use super::cells::{bool_text, condition, items, list_with_more, n, or_none, s};
use super::time::human_duration;
use super::{Kind, col, name_and_age, wide};

/// NAME, one count of a list field, AGE.
fn counted(o: &Value, field: &[&str], ctx: &super::Ctx) -> Vec<String> {
    let [name, age] = name_and_age(o, ctx);
    let list = field.iter().fold(o, |v, f| &v[*f]);
    vec![name, items(list).len().to_string(), age]
}

/// RoleBindings and ClusterRoleBindings: ROLE, and the subjects for `-o wide`.
fn binding(o: &Value, ctx: &super::Ctx) -> Vec<String> {
    let [name, age] = name_and_age(o, ctx);
    let role = &o["roleRef"];
    let (mut users, mut groups, mut accounts) = (Vec::new(), Vec::new(), Vec::new());
    for subject in items(&o["subjects"]) {
        match s(&subject["kind"]) {
            "ServiceAccount" => accounts.push(format!(
                "{}/{}",
                s(&subject["namespace"]),
                s(&subject["name"])
            )),
            "User" => users.push(s(&subject["name"]).to_string()),
            "Group" => groups.push(s(&subject["name"]).to_string()),
            _ => {}
        }
    }
    vec![
        name,
        format!("{}/{}", s(&role["kind"]), s(&role["name"])),
        age,
        users.join(", "),
        groups.join(", "),
        accounts.join(", "),
    ]
}

const BINDING_COLUMNS: &[super::Col] = &[
    col("Name"),
    col("Role"),
    col("Age"),
    wide("Users"),
    wide("Groups"),
    wide("ServiceAccounts"),
];

/// Admission policies: how many rules, the kind of their parameters.
fn policy(o: &Value, rules: &str, ctx: &super::Ctx) -> Vec<String> {
    let [name, age] = name_and_age(o, ctx);
    let kind = &o["spec"]["paramKind"];
    let param_kind = if kind.is_object() {
        format!("{}/{}", s(&kind["apiVersion"]), s(&kind["kind"]))
    } else {
        "<unset>".into()
    };
    vec![
        name,
        items(&o["spec"][rules]).len().to_string(),
        param_kind,
        age,
    ]
}

/// Admission policy bindings: the policy, and `namespace/name` (or `*/name`) of the
/// parameters, or their selector as Go prints a `*LabelSelector`.
fn policy_binding(o: &Value, ctx: &super::Ctx) -> Vec<String> {
    let [name, age] = name_and_age(o, ctx);
    let r = &o["spec"]["paramRef"];
    let param = if !r.is_object() {
        "<unset>".to_string()
    } else if !s(&r["name"]).is_empty() {
        match s(&r["namespace"]) {
            "" => format!("*/{}", s(&r["name"])),
            ns => format!("{ns}/{}", s(&r["name"])),
        }
    } else if r["selector"].is_object() {
        go_label_selector(&r["selector"])
    } else {
        "<unset>".to_string()
    };
    vec![name, s(&o["spec"]["policyName"]).to_string(), param, age]
}

/// The generated `String()` of a `*metav1.LabelSelector`.
fn go_label_selector(sel: &Value) -> String {
    let mut labels: Vec<(&String, &Value)> = sel["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .collect();
    labels.sort_by(|a, b| a.0.cmp(b.0));
    let labels: String = labels
        .iter()
        .map(|(k, v)| format!("{k}: {},", s(v)))
        .collect();
    let expressions: String = items(&sel["matchExpressions"])
        .iter()
        .map(|e| {
            let values: Vec<&str> = items(&e["values"]).iter().map(s).collect();
            format!(
                "LabelSelectorRequirement{{Key:{},Operator:{},Values:[{}],}},",
                s(&e["key"]),
                s(&e["operator"]),
                values.join(" ")
            )
        })
        .collect();
    format!(
        "&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{expressions}}},}}"
    )
}

pub(super) const KINDS: &[Kind] = &[
    Kind {
        group: "coordination.k8s.io",
        plural: "leases",
        columns: &[col("Name"), col("Holder"), col("Age")],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            vec![name, s(&o["spec"]["holderIdentity"]).to_string(), age]
        },
    },
    Kind {
        group: "coordination.k8s.io",
        plural: "leasecandidates",
        columns: &[
            col("Name"),
            col("LeaseName"),
            col("BinaryVersion"),
            col("EmulationVersion"),
            col("Age"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let spec = &o["spec"];
            vec![
                name,
                s(&spec["leaseName"]).to_string(),
                s(&spec["binaryVersion"]).to_string(),
                s(&spec["emulationVersion"]).to_string(),
                age,
            ]
        },
    },
    Kind {
        group: "rbac.authorization.k8s.io",
        plural: "rolebindings",
        columns: BINDING_COLUMNS,
        row: binding,
    },
    Kind {
        group: "rbac.authorization.k8s.io",
        plural: "clusterrolebindings",
        columns: BINDING_COLUMNS,
        row: binding,
    },
    Kind {
        group: "scheduling.k8s.io",
        plural: "priorityclasses",
        // PREEMPTIONPOLICY has priority 0: kubectl always shows it (the apiserver prints
        // every table wide).
        columns: &[
            col("Name"),
            col("Value"),
            col("Global-Default"),
            col("Age"),
            col("PreemptionPolicy"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            vec![
                name,
                n(&o["value"]).to_string(),
                bool_text(o["globalDefault"].as_bool().unwrap_or(false)),
                age,
                s(&o["preemptionPolicy"]).to_string(),
            ]
        },
    },
    Kind {
        group: "node.k8s.io",
        plural: "runtimeclasses",
        columns: &[col("Name"), col("Handler"), col("Age")],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            vec![name, s(&o["handler"]).to_string(), age]
        },
    },
    Kind {
        group: "certificates.k8s.io",
        plural: "certificatesigningrequests",
        columns: &[
            col("Name"),
            col("Age"),
            col("SignerName"),
            col("Requestor"),
            col("RequestedDuration"),
            col("Condition"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let spec = &o["spec"];
            let has = |kind: &str| condition(&o["status"]["conditions"], kind).is_some();
            let mut status = if has("Denied") {
                "Denied"
            } else if has("Approved") {
                "Approved"
            } else {
                "Pending"
            }
            .to_string();
            if has("Failed") {
                status.push_str(",Failed");
            }
            if !s(&o["status"]["certificate"]).is_empty() {
                status.push_str(",Issued");
            }
            vec![
                name,
                age,
                or_none(s(&spec["signerName"])),
                s(&spec["username"]).to_string(),
                spec["expirationSeconds"]
                    .as_i64()
                    .map_or("<none>".into(), human_duration),
                status,
            ]
        },
    },
    Kind {
        group: "certificates.k8s.io",
        plural: "clustertrustbundles",
        columns: &[col("Name"), col("SignerName")],
        row: |o, _| {
            vec![
                s(&o["metadata"]["name"]).to_string(),
                or_none(s(&o["spec"]["signerName"])),
            ]
        },
    },
    Kind {
        group: "flowcontrol.apiserver.k8s.io",
        plural: "flowschemas",
        columns: &[
            col("Name"),
            col("PriorityLevel"),
            col("MatchingPrecedence"),
            col("DistinguisherMethod"),
            col("Age"),
            col("MissingPL"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let spec = &o["spec"];
            let method = &spec["distinguisherMethod"];
            let missing = condition(&o["status"]["conditions"], "Dangling")
                .map_or("?".to_string(), |c| s(&c["status"]).to_string());
            vec![
                name,
                s(&spec["priorityLevelConfiguration"]["name"]).to_string(),
                n(&spec["matchingPrecedence"]).to_string(),
                if method.is_object() {
                    s(&method["type"]).to_string()
                } else {
                    "<none>".into()
                },
                age,
                missing,
            ]
        },
    },
    Kind {
        group: "flowcontrol.apiserver.k8s.io",
        plural: "prioritylevelconfigurations",
        columns: &[
            col("Name"),
            col("Type"),
            col("NominalConcurrencyShares"),
            col("Queues"),
            col("HandSize"),
            col("QueueLengthLimit"),
            col("Age"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let limited = &o["spec"]["limited"];
            let none = || "<none>".to_string();
            let (mut shares, mut queues, mut hand, mut limit) = (none(), none(), none(), none());
            if limited.is_object() {
                // Older versions named the shares assuredConcurrencyShares.
                let named = &limited["nominalConcurrencyShares"];
                let old = &limited["assuredConcurrencyShares"];
                shares = n(if named.is_null() { old } else { named }).to_string();
                let q = &limited["limitResponse"]["queuing"];
                if q.is_object() {
                    queues = n(&q["queues"]).to_string();
                    hand = n(&q["handSize"]).to_string();
                    limit = n(&q["queueLengthLimit"]).to_string();
                }
            }
            let kind = s(&o["spec"]["type"]).to_string();
            vec![name, kind, shares, queues, hand, limit, age]
        },
    },
    Kind {
        group: "admissionregistration.k8s.io",
        plural: "mutatingwebhookconfigurations",
        columns: &[col("Name"), col("Webhooks"), col("Age")],
        row: |o, ctx| counted(o, &["webhooks"], ctx),
    },
    Kind {
        group: "admissionregistration.k8s.io",
        plural: "validatingwebhookconfigurations",
        columns: &[col("Name"), col("Webhooks"), col("Age")],
        row: |o, ctx| counted(o, &["webhooks"], ctx),
    },
    Kind {
        group: "admissionregistration.k8s.io",
        plural: "validatingadmissionpolicies",
        columns: &[
            col("Name"),
            col("Validations"),
            col("ParamKind"),
            col("Age"),
        ],
        row: |o, ctx| policy(o, "validations", ctx),
    },
    Kind {
        group: "admissionregistration.k8s.io",
        plural: "mutatingadmissionpolicies",
        columns: &[col("Name"), col("Mutations"), col("ParamKind"), col("Age")],
        row: |o, ctx| policy(o, "mutations", ctx),
    },
    Kind {
        group: "admissionregistration.k8s.io",
        plural: "validatingadmissionpolicybindings",
        columns: &[col("Name"), col("PolicyName"), col("ParamRef"), col("Age")],
        row: policy_binding,
    },
    Kind {
        group: "admissionregistration.k8s.io",
        plural: "mutatingadmissionpolicybindings",
        columns: &[col("Name"), col("PolicyName"), col("ParamRef"), col("Age")],
        row: policy_binding,
    },
    Kind {
        // kube-aggregator's own table (not in printers.go).
        group: "apiregistration.k8s.io",
        plural: "apiservices",
        columns: &[col("Name"), col("Service"), col("Available"), col("Age")],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let svc = &o["spec"]["service"];
            let service = if svc.is_object() {
                format!("{}/{}", s(&svc["namespace"]), s(&svc["name"]))
            } else {
                "Local".into()
            };
            let available = match condition(&o["status"]["conditions"], "Available") {
                None => "Unknown".to_string(),
                Some(c) => match (s(&c["status"]), s(&c["reason"])) {
                    ("True", _) => "True".into(),
                    (status, "") => status.into(),
                    (status, reason) => format!("{status} ({reason})"),
                },
            };
            vec![name, service, available, age]
        },
    },
    Kind {
        group: "internal.apiserver.k8s.io",
        plural: "storageversions",
        columns: &[
            col("Name"),
            col("CommonEncodingVersion"),
            col("StorageVersions"),
            col("Age"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let st = &o["status"];
            let versions: Vec<String> = items(&st["storageVersions"])
                .iter()
                .map(|v| format!("{}={}", s(&v["apiServerID"]), s(&v["encodingVersion"])))
                .collect();
            vec![
                name,
                st["commonEncodingVersion"]
                    .as_str()
                    .unwrap_or("<unset>")
                    .to_string(),
                list_with_more(&versions, 3),
                age,
            ]
        },
    },
    Kind {
        group: "storagemigration.k8s.io",
        plural: "storageversionmigrations",
        columns: &[col("Name"), col("Resource")],
        row: |o, _| {
            let r = &o["spec"]["resource"];
            vec![
                s(&o["metadata"]["name"]).to_string(),
                format!(
                    "{}.{}.{}",
                    s(&r["resource"]),
                    s(&r["version"]),
                    s(&r["group"])
                ),
            ]
        },
    },
    Kind {
        group: "resource.k8s.io",
        plural: "deviceclasses",
        columns: &[col("Name"), col("Age")],
        row: |o, ctx| name_and_age(o, ctx).to_vec(),
    },
    Kind {
        group: "resource.k8s.io",
        plural: "resourceclaimtemplates",
        columns: &[col("Name"), col("Age")],
        row: |o, ctx| name_and_age(o, ctx).to_vec(),
    },
    Kind {
        group: "resource.k8s.io",
        plural: "resourceclaims",
        columns: &[col("Name"), col("State"), col("Age")],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let deleted = super::time::is_set(&o["metadata"]["deletionTimestamp"]);
            let mut states = Vec::new();
            if deleted {
                states.push("deleted");
            }
            if o["status"]["allocation"].is_object() {
                states.push("allocated");
                if !items(&o["status"]["reservedFor"]).is_empty() {
                    states.push("reserved");
                }
            } else if !deleted {
                states.push("pending");
            }
            vec![name, states.join(","), age]
        },
    },
    Kind {
        group: "resource.k8s.io",
        plural: "resourceslices",
        columns: &[
            col("Name"),
            col("Node"),
            col("Driver"),
            col("Pool"),
            col("Age"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let spec = &o["spec"];
            vec![
                name,
                s(&spec["nodeName"]).to_string(),
                s(&spec["driver"]).to_string(),
                s(&spec["pool"]["name"]).to_string(),
                age,
            ]
        },
    },
];

/// The apiserver lists FlowSchemas by matching precedence, then name.
pub(super) fn flowschema_order(o: &Value) -> (i64, String) {
    (
        n(&o["spec"]["matchingPrecedence"]),
        s(&o["metadata"]["name"]).to_string(),
    )
}
