//! The stale-resource detectors: joins over the index (spec §3, §4.1). Each is a short function
//! that appends findings; ids, severities and one-line definitions are in [`CHECKS`].

use std::collections::{BTreeMap, HashMap, HashSet};

use revkeeper_formats::k8s::resources;

use super::facts::{KindFacts, ValueState};
use super::index::{InspectIndex, ObjectEntry};
use super::{EtcdOp, Finding, Fix, Severity};
use crate::source::LeaseRecord;

/// Every check id with its default severity and definition. Key-only checks still work on
/// values that are encrypted without keys.
pub const CHECKS: &[(&str, Severity, &str)] = &[
    (
        "node-lease-without-node",
        Severity::Warning,
        "Lease in kube-node-lease whose Node (/registry/minions/<name>) does not exist",
    ),
    (
        "pod-on-missing-node",
        Severity::Warning,
        "Pod whose spec.nodeName has no Node",
    ),
    (
        "pod-stuck-terminating",
        Severity::Warning,
        "Pod without finalizers whose deletionTimestamp passed more than 1 h ago (its kubelet is gone)",
    ),
    (
        "pod-evicted",
        Severity::Info,
        "Pod in phase Failed with reason Evicted",
    ),
    (
        "owner-missing",
        Severity::Warning,
        "ownerReference whose target (same namespace for namespaced kinds) does not exist",
    ),
    (
        "owner-uid-mismatch",
        Severity::Warning,
        "ownerReference whose target exists with another uid",
    ),
    (
        "replicaset-orphaned",
        Severity::Warning,
        "ReplicaSet whose owning Deployment is missing or has another uid",
    ),
    (
        "replicaset-old",
        Severity::Info,
        "scaled-down ReplicaSet beyond its Deployment's revisionHistoryLimit",
    ),
    (
        "endpoints-without-service",
        Severity::Warning,
        "Endpoints without a Service of the same name",
    ),
    (
        "endpointslice-without-service",
        Severity::Warning,
        "EndpointSlice whose kubernetes.io/service-name Service does not exist",
    ),
    (
        "cr-without-crd",
        Severity::Critical,
        "custom resource key with no CustomResourceDefinition <plural>.<group> (invisible to the API)",
    ),
    (
        "object-in-missing-namespace",
        Severity::Critical,
        "namespaced key whose Namespace does not exist (invisible to the API)",
    ),
    (
        "stuck-deletion",
        Severity::Warning,
        "deletionTimestamp more than 1 h ago and finalizers left",
    ),
    (
        "namespace-stuck-terminating",
        Severity::Warning,
        "Namespace deleted more than 1 h ago and still there",
    ),
    (
        "event-without-lease",
        Severity::Warning,
        "Event stored with lease 0: it never expires",
    ),
    (
        "event-expired",
        Severity::Warning,
        "Event whose newest timestamp is more than 2 × --event-ttl old",
    ),
    (
        "masterlease-without-lease",
        Severity::Critical,
        "/registry/masterleases/<ip> with lease 0: the IP stays in default/kubernetes",
    ),
    (
        "peerserverlease-without-lease",
        Severity::Warning,
        "/registry/peerserverleases/<id> with lease 0",
    ),
    (
        "job-completed-without-ttl",
        Severity::Info,
        "Job complete, no ttlSecondsAfterFinished, not owned by a CronJob",
    ),
    (
        "job-failed-without-ttl",
        Severity::Info,
        "Job failed, no ttlSecondsAfterFinished, not owned by a CronJob",
    ),
    (
        "pv-released",
        Severity::Warning,
        "PersistentVolume in phase Released (its disk is kept)",
    ),
    (
        "pv-failed",
        Severity::Warning,
        "PersistentVolume in phase Failed",
    ),
    (
        "sa-token-secret-orphaned",
        Severity::Warning,
        "service-account token Secret whose ServiceAccount is missing or has another uid",
    ),
    (
        "helm-release-history",
        Severity::Info,
        "Helm release with more than 10 revision Secrets",
    ),
    (
        "apiservice-without-service",
        Severity::Critical,
        "APIService whose backing Service does not exist (blocks discovery and namespace deletion)",
    ),
    (
        "webhook-without-service",
        Severity::Critical,
        "admission webhook whose Service does not exist",
    ),
    (
        "volumeattachment-on-missing-node",
        Severity::Warning,
        "VolumeAttachment whose Node does not exist",
    ),
    (
        "csr-not-cleaned",
        Severity::Info,
        "CSR decided more than 1 h ago or pending more than 24 h (the cleaner is not running)",
    ),
    (
        "apiserver-identity-lease-expired",
        Severity::Info,
        "kube-apiserver identity Lease expired more than 1 h ago (apiserver gone, GC not running)",
    ),
    (
        "leader-election-lease-stale",
        Severity::Info,
        "Lease not renewed for more than 1 h past its duration (its controller is gone)",
    ),
    (
        "clock-skew",
        Severity::Warning,
        "heartbeat (Lease renewTime, Node or Event heartbeat) or creationTimestamp more than 5 min after now: written by a clock running ahead",
    ),
    (
        "key-with-missing-lease",
        Severity::Critical,
        "key attached to a lease that is not in the lease bucket: it never expires",
    ),
    (
        "lease-without-keys",
        Severity::Warning,
        "lease with TTL > 60 s and no live key",
    ),
    (
        "lease-immortal",
        Severity::Warning,
        "lease holding Events far older than --event-ttl (renewed by leader elections)",
    ),
    (
        "lease-oversized",
        Severity::Warning,
        "lease with more than 1000 keys (revoking it stalls etcd: drain it in batches)",
    ),
    (
        "lease-unexpected",
        Severity::Info,
        "lease not from kube-apiserver: unexpected TTL or keys outside the prefix",
    ),
    (
        "lease-expired-not-revoked",
        Severity::Critical,
        "live: lease past its TTL that etcd did not revoke",
    ),
    (
        "lease-kept-alive",
        Severity::Info,
        "live: lease renewed between two polls by some client (in use, not leaked)",
    ),
];

pub(super) fn severity(check: &str) -> Severity {
    CHECKS
        .iter()
        .find(|c| c.0 == check)
        .map(|c| c.1)
        .unwrap_or(Severity::Info)
}

pub(super) struct Ctx<'a> {
    pub index: &'a InspectIndex,
    pub now: i64,
    pub event_ttl: i64,
}

const HOUR: i64 = 3600;

pub(super) fn finding(
    check: &'static str,
    key: Option<&str>,
    evidence: String,
    fix: Fix,
) -> Finding {
    Finding {
        check,
        severity: severity(check),
        key: key.map(str::to_string),
        lease: None,
        keys: Vec::new(),
        evidence,
        age_seconds: None,
        fix,
    }
}

pub(super) fn delete_op(e: &ObjectEntry) -> EtcdOp {
    EtcdOp::Delete {
        key: e.key.to_string(),
        mod_revision: e.mod_revision,
        lease: e.lease,
    }
}

fn etcd_delete(e: &ObjectEntry) -> Fix {
    Fix {
        etcd: vec![delete_op(e)],
        ..Fix::default()
    }
}

fn kubectl(verb: &str, e: &ObjectEntry, ctx: &Ctx, extra: &str) -> Option<String> {
    let k = e.object_key(&ctx.index.prefix)?;
    let ns = k.namespace.map(|n| format!(" -n {n}")).unwrap_or_default();
    Some(format!(
        "kubectl {verb} {}{ns} {}{extra}",
        resources::qualified_name(k.resource),
        k.name
    ))
}

fn api_and_etcd(e: &ObjectEntry, ctx: &Ctx, verb: &str, extra: &str) -> Fix {
    Fix {
        kubectl: kubectl(verb, e, ctx, extra),
        etcd: vec![delete_op(e)],
        note: None,
    }
}

fn encrypted_note(e: &ObjectEntry) -> &'static str {
    if matches!(e.state, ValueState::Encrypted { .. }) {
        " (value encrypted: judged from the key)"
    } else {
        ""
    }
}

fn ago(now: i64, t: i64) -> String {
    let s = now - t;
    if s >= 2 * 86400 {
        format!("{}d ago", s / 86400)
    } else if s >= 2 * HOUR {
        format!("{}h ago", s / HOUR)
    } else {
        format!("{}m ago", s / 60)
    }
}

pub(super) fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map(crate::timefmt::rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

pub(super) fn run(ctx: &Ctx, leases: &[LeaseRecord]) -> Vec<Finding> {
    let mut out = Vec::new();
    let index = ctx.index;
    let known: HashSet<i64> = leases.iter().map(|l| l.id).collect();
    let mut per_ns: HashMap<&str, usize> = HashMap::new();
    let mut helm: BTreeMap<(&str, &str), Vec<(u64, &ObjectEntry)>> = BTreeMap::new();
    let mut idle_rs: HashMap<&str, Vec<&ObjectEntry>> = HashMap::new();
    let mut namespace_exists: HashMap<&str, bool> = HashMap::new();
    for e in &index.entries {
        let Some(k) = e.object_key(&index.prefix) else {
            continue;
        };
        if let Some(ns) = k.namespace {
            *per_ns.entry(ns).or_default() += 1;
        }
        let ns_missing = k.namespace.is_some_and(|ns| {
            !*namespace_exists
                .entry(ns)
                .or_insert_with(|| index.object("namespaces", None, ns).is_some())
        });
        by_key(ctx, e, &k, ns_missing, &mut out);
        by_facts(ctx, e, &k, &mut out);
        owners(ctx, e, &k, &mut out);
        if k.resource == "secrets"
            && let Some((rel, n)) = helm_revision(k.name)
        {
            helm.entry((k.namespace.unwrap_or(""), rel))
                .or_default()
                .push((n, e));
        }
        if let KindFacts::ReplicaSet { idle: true } = e.facts.kind
            && let Some(o) = e.facts.owners.iter().find(|o| &*o.kind == "Deployment")
        {
            idle_rs.entry(&o.uid).or_default().push(e);
        }
        if e.lease != 0 && !known.contains(&e.lease) {
            out.push(finding(
                "key-with-missing-lease",
                Some(&e.key),
                format!(
                    "attached to lease {:016x}, which is not in the lease bucket: the key never expires",
                    e.lease
                ),
                Fix {
                    etcd: vec![delete_op(e)],
                    note: Some("a re-put with a live lease would also work; delete if stale".into()),
                    ..Fix::default()
                },
            ));
        }
    }
    namespaces(ctx, &per_ns, &mut out);
    helm_history(&helm, &mut out);
    old_replicasets(ctx, &idle_rs, &mut out);
    dedupe(out)
}

/// One finding per (check, key): several bad owner references become one line of evidence.
fn dedupe(mut out: Vec<Finding>) -> Vec<Finding> {
    let mut seen: HashMap<(&'static str, Option<String>), usize> = HashMap::new();
    let mut kept: Vec<Finding> = Vec::with_capacity(out.len());
    for f in out.drain(..) {
        match seen.get(&(f.check, f.key.clone())) {
            Some(&i) => {
                let e = &mut kept[i].evidence;
                e.push_str("; ");
                e.push_str(&f.evidence);
            }
            None => {
                seen.insert((f.check, f.key.clone()), kept.len());
                kept.push(f);
            }
        }
    }
    kept
}

/// Checks that need only the key and its lease.
fn by_key(
    ctx: &Ctx,
    e: &ObjectEntry,
    k: &revkeeper_formats::k8s::key::ObjectKey,
    ns_missing: bool,
    out: &mut Vec<Finding>,
) {
    let index = ctx.index;
    match (k.resource, k.namespace) {
        ("leases", Some("kube-node-lease")) if index.object("minions", None, k.name).is_none() => {
            out.push(finding(
                "node-lease-without-node",
                Some(&e.key),
                format!("Node {} does not exist{}", k.name, encrypted_note(e)),
                api_and_etcd(e, ctx, "delete", ""),
            ));
        }
        ("services/endpoints", Some(ns)) if index.object("services/specs", Some(ns), k.name).is_none() => {
            out.push(finding(
                "endpoints-without-service",
                Some(&e.key),
                format!("no Service {ns}/{}", k.name),
                api_and_etcd(e, ctx, "delete", ""),
            ));
        }
        ("events", _) if e.lease == 0 => out.push(finding(
            "event-without-lease",
            Some(&e.key),
            "Event stored with lease 0: it never expires".into(),
            api_and_etcd(e, ctx, "delete", ""),
        )),
        ("masterleases", None) if e.lease == 0 => out.push(finding(
            "masterlease-without-lease",
            Some(&e.key),
            format!(
                "masterlease of apiserver {} stored with lease 0: never expires and keeps the IP in default/kubernetes endpoints",
                k.name
            ),
            Fix {
                etcd: vec![delete_op(e)],
                note: Some("the API cannot delete masterleases; a live apiserver re-creates its own within 10 s".into()),
                ..Fix::default()
            },
        )),
        ("peerserverleases", _) if e.lease == 0 => out.push(finding(
            "peerserverlease-without-lease",
            Some(&e.key),
            "peer server lease stored with lease 0: never expires".into(),
            etcd_delete(e),
        )),
        _ => {}
    }
    if let Some((group, plural)) = k.resource.split_once('/')
        && group.contains('.')
        && group != "apiextensions.k8s.io"
        && group != "apiregistration.k8s.io"
        && index
            .object(
                "apiextensions.k8s.io/customresourcedefinitions",
                None,
                &format!("{plural}.{group}"),
            )
            .is_none()
    {
        out.push(finding(
            "cr-without-crd",
            Some(&e.key),
            format!(
                "no CustomResourceDefinition {plural}.{group}: the API cannot list or delete this"
            ),
            Fix {
                etcd: vec![delete_op(e)],
                note: Some("or re-create the CRD, then delete it through the API".into()),
                ..Fix::default()
            },
        ));
    }
    if let Some(ns) = k.namespace
        && ns_missing
    {
        out.push(finding(
            "object-in-missing-namespace",
            Some(&e.key),
            format!("namespace {ns} does not exist: the API cannot list or delete this"),
            Fix {
                etcd: vec![delete_op(e)],
                note: Some(format!(
                    "or re-create namespace {ns}, then delete it through the API"
                )),
                ..Fix::default()
            },
        ));
    }
    if k.resource == "secrets"
        && !matches!(e.state, ValueState::Object)
        && let Some(sa) = token_secret_sa(k.name)
        && index.object("serviceaccounts", k.namespace, sa).is_none()
    {
        out.push(finding(
            "sa-token-secret-orphaned",
            Some(&e.key),
            format!(
                "ServiceAccount {sa} does not exist{} — the token type is guessed from the name <sa>-token-xxxxx",
                encrypted_note(e)
            ),
            api_and_etcd(e, ctx, "delete", ""),
        ));
    }
}

/// `<sa>-token-<5 chars>`: the name legacy token controllers gave SA token Secrets.
fn token_secret_sa(name: &str) -> Option<&str> {
    let (sa, suffix) = name.rsplit_once("-token-")?;
    (suffix.len() == 5 && suffix.chars().all(|c| c.is_ascii_alphanumeric()) && !sa.is_empty())
        .then_some(sa)
}

/// `sh.helm.release.v1.<release>.v<N>`.
fn helm_revision(name: &str) -> Option<(&str, u64)> {
    let rest = name.strip_prefix("sh.helm.release.v1.")?;
    let (rel, n) = rest.rsplit_once(".v")?;
    Some((rel, n.parse().ok()?))
}

/// Checks that read decoded facts.
fn by_facts(
    ctx: &Ctx,
    e: &ObjectEntry,
    k: &revkeeper_formats::k8s::key::ObjectKey,
    out: &mut Vec<Finding>,
) {
    let index = ctx.index;
    let now = ctx.now;
    let f = &e.facts;
    if let Some(t) = f.deleted_at
        && t < now - HOUR
    {
        if !f.finalizers.is_empty() {
            let list = f.finalizers.join(", ");
            let mut fi = finding(
                "stuck-deletion",
                Some(&e.key),
                format!(
                    "deletionTimestamp {} ({}), finalizers [{list}]",
                    rfc3339(t),
                    ago(now, t)
                ),
                Fix {
                    kubectl: kubectl(
                        "patch",
                        e,
                        ctx,
                        " --type=merge -p '{\"metadata\":{\"finalizers\":null}}'",
                    ),
                    etcd: vec![delete_op(e)],
                    note: Some(
                        "first check that the controller owning the finalizer is really gone"
                            .into(),
                    ),
                },
            );
            fi.age_seconds = Some(now - t);
            out.push(fi);
        } else if k.resource == "pods" {
            let mut fi = finding(
                "pod-stuck-terminating",
                Some(&e.key),
                format!(
                    "terminating since {} ({}) without finalizers: its kubelet is gone",
                    rfc3339(t),
                    ago(now, t)
                ),
                api_and_etcd(e, ctx, "delete", " --force --grace-period=0"),
            );
            fi.age_seconds = Some(now - t);
            out.push(fi);
        }
    }
    match &f.kind {
        KindFacts::Pod { node_name, evicted } => {
            if let Some(node) = node_name
                && index.object("minions", None, node).is_none()
            {
                out.push(finding(
                    "pod-on-missing-node",
                    Some(&e.key),
                    format!("spec.nodeName {node} has no Node"),
                    api_and_etcd(e, ctx, "delete", " --force --grace-period=0"),
                ));
            }
            if *evicted {
                out.push(finding(
                    "pod-evicted",
                    Some(&e.key),
                    "phase Failed, reason Evicted".into(),
                    api_and_etcd(e, ctx, "delete", ""),
                ));
            }
        }
        KindFacts::Event { newest: Some(t) } if *t < now - 2 * ctx.event_ttl => {
            let lease = if e.lease == 0 {
                "lease 0".to_string()
            } else {
                format!("lease {:016x}", e.lease)
            };
            let mut fi = finding(
                "event-expired",
                Some(&e.key),
                format!(
                    "newest timestamp {} ({}), far older than --event-ttl={}s; {lease}",
                    rfc3339(*t),
                    ago(now, *t),
                    ctx.event_ttl
                ),
                api_and_etcd(e, ctx, "delete", ""),
            );
            fi.age_seconds = Some(now - t);
            out.push(fi);
        }
        KindFacts::Lease {
            renew,
            duration,
            apiserver_identity,
            holder,
        } if k.namespace != Some("kube-node-lease") => {
            let expiry = renew.map(|r| r.saturating_add(duration.unwrap_or(0)));
            if let Some(x) = expiry
                && x < now - HOUR
            {
                let check = if *apiserver_identity {
                    "apiserver-identity-lease-expired"
                } else {
                    "leader-election-lease-stale"
                };
                let mut fi = finding(
                    check,
                    Some(&e.key),
                    format!(
                        "holder {}, last renewed {} ({})",
                        holder.as_deref().unwrap_or("-"),
                        rfc3339(renew.unwrap_or(0)),
                        ago(now, renew.unwrap_or(0))
                    ),
                    api_and_etcd(e, ctx, "delete", ""),
                );
                fi.age_seconds = Some(now - x);
                out.push(fi);
            }
        }
        KindFacts::Job {
            complete,
            failed,
            has_ttl: false,
            finished,
        } if (*complete || *failed) && !f.owners.iter().any(|o| &*o.kind == "CronJob") => {
            let check = if *complete {
                "job-completed-without-ttl"
            } else {
                "job-failed-without-ttl"
            };
            let when = finished
                .map(|t| format!(" at {}", rfc3339(t)))
                .unwrap_or_default();
            let mut fi = finding(
                check,
                Some(&e.key),
                format!("finished{when}, no ttlSecondsAfterFinished, not owned by a CronJob"),
                api_and_etcd(e, ctx, "delete", ""),
            );
            fi.age_seconds = finished.map(|t| now - t);
            out.push(fi);
        }
        KindFacts::PersistentVolume { phase } if &**phase == "Released" || &**phase == "Failed" => {
            let check = if &**phase == "Released" {
                "pv-released"
            } else {
                "pv-failed"
            };
            out.push(finding(
                check,
                Some(&e.key),
                format!("status.phase {phase}: the volume's storage is kept"),
                Fix {
                    kubectl: kubectl("delete", e, ctx, ""),
                    note: Some(
                        "deleting the PV object does not delete a Retain volume's disk".into(),
                    ),
                    ..Fix::default()
                },
            ));
        }
        KindFacts::Secret {
            kind,
            sa_name: Some(sa),
            sa_uid,
        } if &**kind == "kubernetes.io/service-account-token" => {
            let target = index.object("serviceaccounts", k.namespace, sa);
            let why = match target {
                None => Some(format!("ServiceAccount {sa} does not exist")),
                Some(t) => match (&t.facts.uid, sa_uid) {
                    (Some(have), Some(want)) if have != want => Some(format!(
                        "ServiceAccount {sa} has uid {have}, the token names {want}"
                    )),
                    _ => None,
                },
            };
            if let Some(why) = why {
                out.push(finding(
                    "sa-token-secret-orphaned",
                    Some(&e.key),
                    why,
                    api_and_etcd(e, ctx, "delete", ""),
                ));
            }
        }
        KindFacts::EndpointSlice {
            service_name: Some(svc),
        } if index.object("services/specs", k.namespace, svc).is_none() => {
            out.push(finding(
                "endpointslice-without-service",
                Some(&e.key),
                format!("kubernetes.io/service-name={svc} but the Service does not exist"),
                api_and_etcd(e, ctx, "delete", ""),
            ));
        }
        KindFacts::ServiceRefs(refs) => {
            let check = if k.resource == "apiregistration.k8s.io/apiservices" {
                "apiservice-without-service"
            } else {
                "webhook-without-service"
            };
            for (ns, name) in refs {
                if index.object("services/specs", Some(ns), name).is_none() {
                    out.push(finding(
                        check,
                        Some(&e.key),
                        format!("Service {ns}/{name} does not exist"),
                        api_and_etcd(e, ctx, "delete", ""),
                    ));
                }
            }
        }
        KindFacts::VolumeAttachment {
            node_name: Some(node),
        } if index.object("minions", None, node).is_none() => {
            out.push(finding(
                "volumeattachment-on-missing-node",
                Some(&e.key),
                format!("spec.nodeName {node} has no Node"),
                api_and_etcd(e, ctx, "delete", ""),
            ));
        }
        KindFacts::Csr { decided } => {
            let limit = if *decided { HOUR } else { 24 * HOUR };
            if let Some(c) = f.created
                && c < now - limit
            {
                let state = if *decided { "decided" } else { "pending" };
                let mut fi = finding(
                    "csr-not-cleaned",
                    Some(&e.key),
                    format!("{state}, created {} ({})", rfc3339(c), ago(now, c)),
                    api_and_etcd(e, ctx, "delete", ""),
                );
                fi.age_seconds = Some(now - c);
                out.push(fi);
            }
        }
        _ => {}
    }
}

/// ownerReferences resolved by apiVersion + kind (built-ins, then CRDs in the data).
fn owners(
    ctx: &Ctx,
    e: &ObjectEntry,
    k: &revkeeper_formats::k8s::key::ObjectKey,
    out: &mut Vec<Finding>,
) {
    let index = ctx.index;
    for o in &e.facts.owners {
        let Some((resource, namespaced)) = index.resolve_kind(&o.api_version, &o.kind) else {
            continue; // a kind nobody declares: cannot be resolved, not judged
        };
        if namespaced && k.namespace.is_none() {
            continue; // invalid reference (cluster-scoped dependent); the GC ignores it
        }
        let ns = if namespaced { k.namespace } else { None };
        let target = index.object(&resource, ns, &o.name);
        let what = format!("{}/{} {}", o.api_version, o.kind, o.name);
        let (check, evidence) = match target {
            None => (
                "owner-missing",
                format!("ownerReference {what} uid {} does not exist", o.uid),
            ),
            Some(t) => match &t.facts.uid {
                Some(uid) if !o.uid.is_empty() && *uid != o.uid => (
                    "owner-uid-mismatch",
                    format!(
                        "ownerReference {what} uid {} but the live object has uid {uid}",
                        o.uid
                    ),
                ),
                _ => continue,
            },
        };
        let fix = api_and_etcd(e, ctx, "delete", "");
        if k.resource == "replicasets" && &*o.kind == "Deployment" {
            out.push(finding(
                "replicaset-orphaned",
                Some(&e.key),
                evidence.clone(),
                fix.clone(),
            ));
        }
        out.push(finding(check, Some(&e.key), evidence, fix));
    }
}

fn namespaces(ctx: &Ctx, per_ns: &HashMap<&str, usize>, out: &mut Vec<Finding>) {
    let prefix = revkeeper_formats::k8s::key::key_prefix(&ctx.index.prefix, "namespaces", None);
    let start = ctx.index.entries.partition_point(|e| *e.key < *prefix);
    for e in ctx.index.entries[start..]
        .iter()
        .take_while(|e| e.key.starts_with(&prefix))
    {
        let Some(t) = e.facts.deleted_at else {
            continue;
        };
        if t >= ctx.now - HOUR {
            continue;
        }
        let name = &e.key[prefix.len()..];
        let left = per_ns.get(name).copied().unwrap_or(0);
        let mut fi = finding(
            "namespace-stuck-terminating",
            Some(&e.key),
            format!("Terminating since {} ({}); {left} keys left in it", rfc3339(t), ago(ctx.now, t)),
            Fix {
                kubectl: Some(format!(
                    "kubectl get namespace {name} -o json | jq '.spec.finalizers=[]' | kubectl replace --raw /api/v1/namespaces/{name}/finalize -f -"
                )),
                note: Some("first find what blocks it (unavailable APIService, content finalizers); deleting the Namespace key would strand its content".into()),
                ..Fix::default()
            },
        );
        fi.age_seconds = Some(ctx.now - t);
        out.push(fi);
    }
}

fn helm_history(helm: &BTreeMap<(&str, &str), Vec<(u64, &ObjectEntry)>>, out: &mut Vec<Finding>) {
    const KEEP: usize = 10;
    for ((ns, rel), revs) in helm {
        if revs.len() <= KEEP {
            continue;
        }
        let mut revs = revs.clone();
        revs.sort_by_key(|(n, _)| *n);
        let newest = revs.last().map(|(_, e)| e.key.to_string());
        let old = &revs[..revs.len() - KEEP];
        let bytes: u64 = revs.iter().map(|(_, e)| e.value_len as u64).sum();
        let mut fi = finding(
            "helm-release-history",
            newest.as_deref(),
            format!(
                "Helm release {ns}/{rel} keeps {} revision Secrets (v{}..v{}, {bytes} bytes); helm's --history-max default is {KEEP}",
                revs.len(),
                revs[0].0,
                revs[revs.len() - 1].0
            ),
            Fix {
                kubectl: Some(format!(
                    "kubectl delete secret -n {ns} {}",
                    old.iter()
                        .map(|(n, _)| format!("sh.helm.release.v1.{rel}.v{n}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                )),
                etcd: old.iter().map(|(_, e)| delete_op(e)).collect(),
                note: Some(format!(
                    "keeps the newest {KEEP}; set --history-max on helm upgrade"
                )),
            },
        );
        fi.keys = revs.iter().map(|(_, e)| e.key.to_string()).collect();
        out.push(fi);
    }
}

fn old_replicasets(ctx: &Ctx, idle: &HashMap<&str, Vec<&ObjectEntry>>, out: &mut Vec<Finding>) {
    let mut limits: HashMap<&str, i64> = HashMap::new();
    for e in &ctx.index.entries {
        if let (KindFacts::Deployment { history_limit }, Some(uid)) = (&e.facts.kind, &e.facts.uid)
        {
            limits.insert(uid, *history_limit);
        }
    }
    for (uid, rs) in idle {
        let Some(&limit) = limits.get(uid) else {
            continue;
        };
        // A negative limit (damaged data; the API rejects it) says nothing about what to keep.
        let Ok(keep) = usize::try_from(limit) else {
            continue;
        };
        if rs.len() <= keep {
            continue;
        }
        let mut rs = rs.clone();
        rs.sort_by_key(|e| e.mod_revision);
        for e in &rs[..rs.len() - keep] {
            out.push(finding(
                "replicaset-old",
                Some(&e.key),
                format!(
                    "{} idle ReplicaSets for a Deployment with revisionHistoryLimit {limit}",
                    rs.len()
                ),
                api_and_etcd(e, ctx, "delete", ""),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_patterns() {
        assert_eq!(
            token_secret_sa("ci-deployer-6m8h-token-9fckf"),
            Some("ci-deployer-6m8h")
        );
        assert_eq!(token_secret_sa("github-token"), None);
        assert_eq!(
            helm_revision("sh.helm.release.v1.kube-prometheus-stack.v14"),
            Some(("kube-prometheus-stack", 14))
        );
        assert_eq!(helm_revision("sh.helm.release.v1.x.vfoo"), None);
    }

    /// Idle ReplicaSets of a Deployment with `revisionHistoryLimit` `limit`: the old-ReplicaSet
    /// keys the detectors report.
    fn old_replicasets_with_limit(limit: i64) -> Vec<String> {
        use crate::inspect::facts::ValueState;
        use serde_json::json;
        let mut index = crate::inspect::index::InspectIndex::new("/registry");
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "uid": "d-1"},
            "spec": {"revisionHistoryLimit": limit}});
        index.add_decoded(
            "/registry/deployments/default/web",
            100,
            0,
            2,
            ValueState::Object,
            Some(&deployment),
        );
        for i in 0..3 {
            let rs = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": format!("web-{i}"), "namespace": "default", "uid": format!("r-{i}"),
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                        "name": "web", "uid": "d-1", "controller": true}]},
                "spec": {"replicas": 0}, "status": {"replicas": 0}});
            index.add_decoded(
                &format!("/registry/replicasets/default/web-{i}"),
                100,
                0,
                10 + i,
                ValueState::Object,
                Some(&rs),
            );
        }
        index.finish();
        let opts = crate::inspect::Options {
            poll_interval: std::time::Duration::ZERO,
            ..Default::default()
        };
        crate::inspect::run_detectors(&index, &[], None, false, &opts)
            .findings
            .into_iter()
            .filter(|f| f.check == "replicaset-old")
            .filter_map(|f| f.key)
            .collect()
    }

    #[test]
    fn old_replicasets_beyond_the_history_limit_and_never_for_a_negative_one() {
        assert_eq!(
            old_replicasets_with_limit(1),
            [
                "/registry/replicasets/default/web-0",
                "/registry/replicasets/default/web-1"
            ]
        );
        assert!(old_replicasets_with_limit(3).is_empty());
        assert!(old_replicasets_with_limit(-1).is_empty());
    }
}
