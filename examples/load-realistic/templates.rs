//! The real objects the generated cluster is made of: cluster-dev's live objects
//! (`../shared/fixtures/cluster-dev/objects.jsonl`, as the Kubernetes Go serializer prints them),
//! grouped by the role they play. Objects `truth.json` lists as planted anomalies are left out,
//! so the generated cluster is a healthy one.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use serde_json::Value;

/// A Deployment with one of its ReplicaSets and the Pods that ReplicaSet owns.
pub struct AppTemplate {
    pub deployment: Value,
    pub replicaset: Value,
    pub pods: Vec<Value>,
}

/// A custom resource and the key prefix of its resource (`/registry/<group>/<plural>`).
pub struct CrTemplate {
    pub prefix: String,
    pub object: Value,
}

pub struct Templates {
    /// The snapshot's wall clock (truth.json's `snapshot_time`), in Unix seconds: the
    /// templates' timestamps are relative to it.
    pub now: i64,
    pub apps: Vec<AppTemplate>,
    pub events: Vec<Value>,
    pub secrets: Vec<Value>,
    pub configmaps: Vec<Value>,
    pub root_ca: Value,
    pub service_account: Value,
    pub services: Vec<Value>,
    pub crs: Vec<CrTemplate>,
    /// CRDs as stored: key and object (JSON), written once.
    pub crds: Vec<(String, Value)>,
    pub namespace: Value,
    pub nodes: Vec<Value>,
    pub node_lease: Value,
    /// Leader-election Leases of kube-system, written once: key and object.
    pub system_leases: Vec<(String, Value)>,
}

type Error = Box<dyn std::error::Error>;

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(v, |v, p| v.get(p))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn owner_uid(v: &Value) -> &str {
    v.pointer("/metadata/ownerReferences/0/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
}

impl Templates {
    pub fn load(dir: &Path) -> Result<Templates, Error> {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name))
                .map_err(|e| format!("{}: {e}", dir.join(name).display()))
        };
        let truth: Value = serde_json::from_str(&read("truth.json")?)?;
        let now = truth["snapshot_time"]
            .as_str()
            .ok_or("truth.json: no snapshot_time")?;
        let now = time::OffsetDateTime::parse(now, &time::format_description::well_known::Rfc3339)?
            .unix_timestamp();
        let planted: HashSet<&str> = truth["anomalies"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(truth["controls"].as_array().into_iter().flatten())
            .filter_map(|a| a["key"].as_str())
            .collect();

        let mut by_kind: HashMap<String, Vec<(String, Value)>> = HashMap::new();
        for line in read("objects.jsonl")?.lines() {
            let row: Value = serde_json::from_str(line)?;
            let key = row["key"].as_str().unwrap_or("").to_string();
            if planted.contains(key.as_str()) || !row["object"].is_object() {
                continue;
            }
            let object = row["object"].clone();
            if object["metadata"].get("deletionTimestamp").is_some() {
                continue;
            }
            let kind = str_at(&object, &["kind"]).to_string();
            by_kind.entry(kind).or_default().push((key, object));
        }
        let take = |kind: &str| by_kind.get(kind).cloned().unwrap_or_default();
        let objects =
            |kind: &str| -> Vec<Value> { take(kind).into_iter().map(|(_, o)| o).collect() };
        let first = |kind: &str, pred: &dyn Fn(&Value) -> bool| -> Result<Value, Error> {
            objects(kind)
                .into_iter()
                .find(|o| pred(o))
                .ok_or_else(|| format!("cluster-dev has no usable {kind}").into())
        };

        let pods = objects("Pod");
        let replicasets = objects("ReplicaSet");
        let mut apps = Vec::new();
        for deployment in objects("Deployment") {
            let uid = str_at(&deployment, &["metadata", "uid"]);
            let best = replicasets
                .iter()
                .filter(|rs| owner_uid(rs) == uid)
                .map(|rs| {
                    let rs_uid = str_at(rs, &["metadata", "uid"]);
                    let owned: Vec<Value> = pods
                        .iter()
                        .filter(|p| owner_uid(p) == rs_uid)
                        .cloned()
                        .collect();
                    (rs, owned)
                })
                .max_by_key(|(_, owned)| owned.len());
            if let Some((rs, owned)) = best.filter(|(_, owned)| !owned.is_empty()) {
                apps.push(AppTemplate {
                    deployment: deployment.clone(),
                    replicaset: rs.clone(),
                    pods: owned,
                });
            }
        }

        let crd_names: BTreeSet<String> = objects("CustomResourceDefinition")
            .iter()
            .map(|c| str_at(c, &["metadata", "name"]).to_string())
            .collect();
        let mut crs = Vec::new();
        for (key, object) in by_kind.values().flatten() {
            let ns = str_at(object, &["metadata", "namespace"]);
            let name = str_at(object, &["metadata", "name"]);
            let api_version = str_at(object, &["apiVersion"]);
            let group = api_version.split('/').next().unwrap_or("");
            let Some(prefix) = key.strip_suffix(&format!("/{ns}/{name}")) else {
                continue;
            };
            let plural = prefix.rsplit('/').next().unwrap_or("");
            if ns.is_empty()
                || !api_version.contains('/')
                || !crd_names.contains(&format!("{plural}.{group}"))
            {
                continue;
            }
            let mut object = object.clone();
            if let Some(meta) = object["metadata"].as_object_mut() {
                meta.remove("ownerReferences");
            }
            crs.push(CrTemplate {
                prefix: prefix.to_string(),
                object,
            });
        }
        crs.sort_by(|a, b| {
            a.prefix
                .cmp(&b.prefix)
                .then(a.object.to_string().cmp(&b.object.to_string()))
        });

        let is_named =
            |name: &'static str| move |o: &Value| str_at(o, &["metadata", "name"]) == name;
        let in_ns = |ns: &'static str| move |o: &Value| str_at(o, &["metadata", "namespace"]) == ns;
        let system_leases = take("Lease")
            .into_iter()
            .filter(|(_, o)| in_ns("kube-system")(o))
            .collect();
        let templates = Templates {
            now,
            apps,
            events: objects("Event")
                .into_iter()
                .filter(|e| str_at(e, &["involvedObject", "kind"]) == "Pod")
                .collect(),
            secrets: objects("Secret")
                .into_iter()
                .filter(|s| str_at(s, &["type"]) != "kubernetes.io/service-account-token")
                .collect(),
            configmaps: objects("ConfigMap")
                .into_iter()
                .filter(|c| !is_named("kube-root-ca.crt")(c))
                .collect(),
            root_ca: first("ConfigMap", &is_named("kube-root-ca.crt"))?,
            service_account: first("ServiceAccount", &is_named("default"))?,
            services: objects("Service")
                .into_iter()
                .filter(|s| !in_ns("default")(s))
                .collect(),
            crs,
            crds: take("CustomResourceDefinition"),
            namespace: first("Namespace", &|n| {
                str_at(n, &["status", "phase"]) == "Active" && n["spec"].get("finalizers").is_some()
            })?,
            nodes: objects("Node"),
            node_lease: first("Lease", &in_ns("kube-node-lease"))?,
            system_leases,
        };
        for (what, n) in [
            (
                "Deployments with ReplicaSets and Pods",
                templates.apps.len(),
            ),
            ("Pod Events", templates.events.len()),
            ("Secrets", templates.secrets.len()),
            ("ConfigMaps", templates.configmaps.len()),
            ("Services", templates.services.len()),
            ("custom resources with a CRD", templates.crs.len()),
            ("Nodes", templates.nodes.len()),
        ] {
            if n == 0 {
                return Err(format!("{}: no usable {what}", dir.display()).into());
            }
        }
        Ok(templates)
    }
}
