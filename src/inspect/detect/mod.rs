//! The stale-resource detectors: joins over the index (`docs/stale-and-leases.md#stale-resources`).
//! Each is a short function that appends findings; ids, severities and one-line definitions are in
//! [`CHECKS`].

mod facts;
mod fixes;
mod history;
mod keys;
mod lookups;
mod owners;

use std::collections::{BTreeMap, HashMap, HashSet};

use revkeeper_formats::k8s::resources;

use super::facts::{KindFacts, ValueState};
use super::index::{InspectIndex, ObjectEntry};
use super::{EtcdOp, Finding, Fix, Severity};
use crate::source::LeaseRecord;
use facts::*;
pub(super) use fixes::rfc3339;
use fixes::*;
use history::*;
use keys::*;
use lookups::Lookups;
use owners::*;

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

pub(super) fn run(ctx: &Ctx, leases: &[LeaseRecord]) -> Vec<Finding> {
    let known: HashSet<i64> = leases.iter().map(|l| l.id).collect();
    // The per-object checks run on every core, each over a slice of the entries; the slices'
    // results are joined in key order, so the findings are those of one pass.
    let entries = &ctx.index.entries;
    let per_core = entries
        .len()
        .div_ceil(crate::decode::batches::default_workers());
    let parts: Vec<PerObject<'_>> = std::thread::scope(|s| {
        let running: Vec<_> = (entries.chunks(per_core.max(1)))
            .map(|slice| s.spawn(|| per_object(ctx, &known, slice)))
            .collect();
        (running.into_iter())
            .map(|r| r.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut all = PerObject::default();
    for part in parts {
        all.out.extend(part.out);
        for (ns, n) in part.per_ns {
            *all.per_ns.entry(ns).or_default() += n;
        }
        for (release, revisions) in part.helm {
            all.helm.entry(release).or_default().extend(revisions);
        }
        for (uid, sets) in part.idle_rs {
            all.idle_rs.entry(uid).or_default().extend(sets);
        }
    }
    let mut out = all.out;
    namespaces(ctx, &all.per_ns, &mut out);
    helm_history(&all.helm, &mut out);
    old_replicasets(ctx, &all.idle_rs, &mut out);
    dedupe(out)
}

/// What the per-object pass over some entries found, and gathered for the checks across objects.
#[derive(Default)]
struct PerObject<'a> {
    out: Vec<Finding>,
    per_ns: HashMap<&'a str, usize>,
    helm: BTreeMap<(&'a str, &'a str), Vec<(u64, &'a ObjectEntry)>>,
    idle_rs: HashMap<&'a str, Vec<&'a ObjectEntry>>,
}

fn per_object<'a>(
    ctx: &Ctx<'a>,
    known: &HashSet<i64>,
    entries: &'a [ObjectEntry],
) -> PerObject<'a> {
    let index = ctx.index;
    let mut found = PerObject::default();
    let out = &mut found.out;
    let mut lookups = Lookups::default();
    for e in entries {
        let Some(k) = e.object_key(&index.prefix) else {
            continue;
        };
        if let Some(ns) = k.namespace {
            *found.per_ns.entry(ns).or_default() += 1;
        }
        let ns_missing = k
            .namespace
            .is_some_and(|ns| !lookups.namespace_exists(index, ns));
        by_key(ctx, e, &k, ns_missing, out);
        by_facts(ctx, e, &k, &mut lookups, out);
        owners(ctx, e, &k, &mut lookups, out);
        if k.resource == "secrets"
            && let Some((rel, n)) = helm_revision(k.name)
        {
            (found.helm.entry((k.namespace.unwrap_or(""), rel)))
                .or_default()
                .push((n, e));
        }
        if let KindFacts::ReplicaSet { idle: true } = e.facts.kind
            && let Some(o) = e.facts.owners.iter().find(|o| &*o.kind == "Deployment")
        {
            found.idle_rs.entry(&o.uid).or_default().push(e);
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
    found
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
