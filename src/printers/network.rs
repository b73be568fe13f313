//! Networking: services, endpoints, endpoint slices, ingresses and their classes, network
//! policies, IP addresses and service CIDRs.

use serde_json::Value;

use super::cells::{items, list_with_more, n, or_none, s};
use super::labels::{format_label_selector, format_labels};
use super::{Ctx, Kind, col, name_and_age, wide};

pub(super) const KINDS: &[Kind] = &[
    Kind {
        group: "",
        plural: "services",
        columns: &[
            col("Name"),
            col("Type"),
            col("Cluster-IP"),
            col("External-IP"),
            col("Port(s)"),
            col("Age"),
            wide("Selector"),
        ],
        row: service,
    },
    Kind {
        group: "",
        plural: "endpoints",
        columns: &[col("Name"), col("Endpoints"), col("Age")],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            vec![name, endpoints(o), age]
        },
    },
    Kind {
        group: "discovery.k8s.io",
        plural: "endpointslices",
        columns: &[
            col("Name"),
            col("AddressType"),
            col("Ports"),
            col("Endpoints"),
            col("Age"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let ports: Vec<String> = items(&o["ports"])
                .iter()
                .map(|p| match (p["port"].as_i64(), p["name"].as_str()) {
                    (Some(port), _) => port.to_string(),
                    (None, Some(name)) => name.to_string(),
                    (None, None) => "*".into(),
                })
                .collect();
            let addresses: Vec<String> = items(&o["endpoints"])
                .iter()
                .flat_map(|e| items(&e["addresses"]).iter().map(|a| s(a).to_string()))
                .collect();
            vec![
                name,
                s(&o["addressType"]).to_string(),
                list_with_more(&ports, 3),
                list_with_more(&addresses, 3),
                age,
            ]
        },
    },
    Kind {
        group: "networking.k8s.io",
        plural: "ingresses",
        columns: &[
            col("Name"),
            col("Class"),
            col("Hosts"),
            col("Address"),
            col("Ports"),
            col("Age"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let spec = &o["spec"];
            let ports = if items(&spec["tls"]).is_empty() {
                "80"
            } else {
                "80, 443"
            };
            vec![
                name,
                spec["ingressClassName"]
                    .as_str()
                    .unwrap_or("<none>")
                    .to_string(),
                ingress_hosts(items(&spec["rules"])),
                load_balancer(&o["status"]["loadBalancer"]),
                ports.into(),
                age,
            ]
        },
    },
    Kind {
        group: "networking.k8s.io",
        plural: "ingressclasses",
        columns: &[
            col("Name"),
            col("Controller"),
            col("Parameters"),
            col("Age"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let p = &o["spec"]["parameters"];
            let parameters = if p.is_object() {
                let kind = match p["apiGroup"].as_str() {
                    Some(g) => format!("{}.{g}", s(&p["kind"])),
                    None => s(&p["kind"]).to_string(),
                };
                format!("{kind}/{}", s(&p["name"]))
            } else {
                "<none>".into()
            };
            vec![
                name,
                s(&o["spec"]["controller"]).to_string(),
                parameters,
                age,
            ]
        },
    },
    Kind {
        group: "networking.k8s.io",
        plural: "networkpolicies",
        columns: &[col("Name"), col("Pod-Selector"), col("Age")],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let selector = &o["spec"]["podSelector"];
            // podSelector is not a pointer: absent is the empty selector.
            let selector = if selector.is_null() {
                "<none>".into()
            } else {
                format_label_selector(selector)
            };
            vec![name, selector, age]
        },
    },
    Kind {
        group: "networking.k8s.io",
        plural: "ipaddresses",
        // The printer also computes an age, but defines no column for it: kubectl drops it.
        columns: &[col("Name"), col("ParentRef")],
        row: |o, _| {
            let r = &o["spec"]["parentRef"];
            let parent = if r.is_object() {
                let resource = match s(&r["group"]) {
                    "" => s(&r["resource"]).to_string(),
                    g => format!("{}.{g}", s(&r["resource"])),
                };
                let mut p = resource.to_lowercase();
                if !s(&r["namespace"]).is_empty() {
                    p = format!("{p}/{}", s(&r["namespace"]));
                }
                format!("{p}/{}", s(&r["name"]))
            } else {
                "<none>".into()
            };
            vec![s(&o["metadata"]["name"]).to_string(), parent]
        },
    },
    Kind {
        group: "networking.k8s.io",
        plural: "servicecidrs",
        columns: &[col("Name"), col("CIDRs"), col("Age")],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let cidrs: Vec<&str> = items(&o["spec"]["cidrs"]).iter().map(s).collect();
            vec![name, cidrs.join(","), age]
        },
    },
];

fn service(o: &Value, ctx: &Ctx) -> Vec<String> {
    let [name, age] = name_and_age(o, ctx);
    let spec = &o["spec"];
    let cluster_ip = items(&spec["clusterIPs"])
        .first()
        .map(s)
        .or(spec["clusterIP"].as_str())
        .filter(|ip| !ip.is_empty())
        .unwrap_or("<none>");
    let external: Vec<&str> = items(&spec["externalIPs"]).iter().map(s).collect();
    let joined_or_none = || {
        if external.is_empty() {
            "<none>".into()
        } else {
            external.join(",")
        }
    };
    let kind = s(&spec["type"]);
    let external_ip = match kind {
        "ClusterIP" | "NodePort" => joined_or_none(),
        "LoadBalancer" => {
            let lb = load_balancer(&o["status"]["loadBalancer"]);
            if !external.is_empty() {
                let mut all: Vec<&str> = lb.split(',').filter(|x| !x.is_empty()).collect();
                all.extend(&external);
                all.join(",")
            } else if lb.is_empty() {
                "<pending>".into()
            } else {
                lb
            }
        }
        "ExternalName" => s(&spec["externalName"]).to_string(),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = items(&spec["ports"])
        .iter()
        .map(|p| {
            let (port, proto) = (n(&p["port"]), s(&p["protocol"]));
            match n(&p["nodePort"]) {
                0 => format!("{port}/{proto}"),
                node => format!("{port}:{node}/{proto}"),
            }
        })
        .collect();
    vec![
        name,
        kind.to_string(),
        cluster_ip.to_string(),
        external_ip,
        or_none(&ports.join(",")),
        age,
        format_labels(&spec["selector"]),
    ]
}

/// `loadBalancerStatusStringer`: the distinct IPs (or host names) sorted, comma-separated.
/// It cuts them to 16 characters unless wide, but the apiserver prints every table wide.
fn load_balancer(status: &Value) -> String {
    let mut seen: Vec<&str> = items(&status["ingress"])
        .iter()
        .map(|i| match s(&i["ip"]) {
            "" => s(&i["hostname"]),
            ip => ip,
        })
        .filter(|a| !a.is_empty())
        .collect();
    seen.sort_unstable();
    seen.dedup();
    seen.join(",")
}

/// `formatHosts`: the first three rule hosts, `*` when none has one; a rule seen after
/// three hosts makes `+ N more...` (N counts every rule past the third).
fn ingress_hosts(rules: &[Value]) -> String {
    let mut hosts: Vec<&str> = Vec::new();
    let mut more = false;
    for r in rules {
        more |= hosts.len() == 3;
        if !more && !s(&r["host"]).is_empty() {
            hosts.push(s(&r["host"]));
        }
    }
    if hosts.is_empty() {
        return "*".into();
    }
    let shown = hosts.join(",");
    if more {
        format!("{shown} + {} more...", rules.len() - 3)
    } else {
        shown
    }
}

/// `formatEndpoints`: up to three `ip:port` (or bare IPs of port-less subsets), then
/// `+ N more...`; `<none>` without subsets.
fn endpoints(o: &Value) -> String {
    let subsets = items(&o["subsets"]);
    if subsets.is_empty() {
        return "<none>".into();
    }
    let (mut list, mut count) = (Vec::new(), 0usize);
    for ss in subsets {
        let addresses = items(&ss["addresses"]);
        let ports = items(&ss["ports"]);
        let rounds: Vec<Option<i64>> = if ports.is_empty() {
            vec![None]
        } else {
            ports.iter().map(|p| Some(n(&p["port"]))).collect()
        };
        for port in rounds {
            count += addresses.len();
            for a in addresses {
                if list.len() == 3 {
                    break;
                }
                let ip = s(&a["ip"]);
                list.push(match port {
                    None => ip.to_string(),
                    Some(p) if ip.contains(':') => format!("[{ip}]:{p}"),
                    Some(p) => format!("{ip}:{p}"),
                });
            }
        }
    }
    let shown = list.join(",");
    if count > list.len() {
        format!("{shown} + {} more...", count - 3)
    } else {
        shown
    }
}
