//! The inspector and remediation on small clusters built in a real etcd: every detector, every
//! lease class, dry run, guarded deletes, a concurrent change between inspect and apply, and
//! lease revokes (refused when kept alive, drained in batches when large).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use etcd_client::{Client, LeaseGrantOptions, PutOptions, Txn, TxnOp};
use revkeeper::inspect::{LeaseClass, Options, Report, inspect};
use revkeeper::remediate::{self, ApplyOptions};
use revkeeper::source::{KeyRange, KeyRecord, RangeQuery, Source};
use revkeeper_formats::k8s::Keyring;
use revkeeper_harness::Member;
use serde_json::{Value, json};

const EVENT_LEASE: i64 = 0x1000_0000_0000_0001;
const MASTER_LEASE: i64 = 0x1000_0000_0000_0002;
const KEYLESS_LEASE: i64 = 0x1000_0000_0000_0003;
const FOREIGN_LEASE: i64 = 0x1000_0000_0000_0004;
const BIG_LEASE: i64 = 0x1000_0000_0000_0005;
const ALIVE_LEASE: i64 = 0x1000_0000_0000_0006;

fn ts(ago_secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::seconds(ago_secs);
    revkeeper::timefmt::rfc3339(t)
}

fn obj(api: &str, kind: &str, ns: Option<&str>, name: &str, uid: &str, extra: Value) -> Value {
    let mut meta = json!({"name": name, "uid": uid, "creationTimestamp": ts(86400)});
    if let Some(ns) = ns {
        meta["namespace"] = json!(ns);
    }
    let mut o = json!({"apiVersion": api, "kind": kind, "metadata": meta});
    if let Some(m) = extra.get("metadata").and_then(Value::as_object) {
        for (k, v) in m {
            o["metadata"][k] = v.clone();
        }
    }
    if let Some(x) = extra.as_object() {
        for (k, v) in x {
            if k != "metadata" {
                o[k] = v.clone();
            }
        }
    }
    o
}

fn owner(api: &str, kind: &str, name: &str, uid: &str) -> Value {
    json!({"metadata": {"ownerReferences": [{"apiVersion": api, "kind": kind, "name": name, "uid": uid}]}})
}

/// The cluster: (key, object, lease) for every key, plus the findings it must produce.
fn objects() -> Vec<(String, Value, i64)> {
    let r = |k: &str| format!("/registry/{k}");
    let event = |name: &str, last: i64| {
        obj(
            "v1",
            "Event",
            Some("default"),
            name,
            &format!("ev-{name}"),
            json!({"lastTimestamp": ts(last), "firstTimestamp": ts(last), "reason": "Test"}),
        )
    };
    let mut v = vec![
        (
            r("namespaces/default"),
            obj("v1", "Namespace", None, "default", "ns-default", json!({})),
            0,
        ),
        (
            r("namespaces/kube-node-lease"),
            obj(
                "v1",
                "Namespace",
                None,
                "kube-node-lease",
                "ns-knl",
                json!({}),
            ),
            0,
        ),
        (
            r("namespaces/kube-system"),
            obj("v1", "Namespace", None, "kube-system", "ns-ks", json!({})),
            0,
        ),
        (
            r("namespaces/stuck"),
            obj(
                "v1",
                "Namespace",
                None,
                "stuck",
                "ns-stuck",
                json!({"metadata": {"deletionTimestamp": ts(7200)}, "spec": {"finalizers": ["kubernetes"]}}),
            ),
            0,
        ),
        (
            r("namespaces/leaving"),
            obj(
                "v1",
                "Namespace",
                None,
                "leaving",
                "ns-leaving",
                json!({"metadata": {"deletionTimestamp": ts(40)}}),
            ),
            0,
        ),
        (
            r("minions/node-a"),
            obj("v1", "Node", None, "node-a", "node-a-uid", json!({})),
            0,
        ),
        (
            r("leases/kube-node-lease/node-a"),
            obj(
                "coordination.k8s.io/v1",
                "Lease",
                Some("kube-node-lease"),
                "node-a",
                "l1",
                json!({"spec": {"holderIdentity": "node-a", "renewTime": ts(5), "leaseDurationSeconds": 40}}),
            ),
            0,
        ),
        (
            r("leases/kube-node-lease/node-gone"),
            obj(
                "coordination.k8s.io/v1",
                "Lease",
                Some("kube-node-lease"),
                "node-gone",
                "l2",
                json!({"spec": {"holderIdentity": "node-gone", "renewTime": ts(5), "leaseDurationSeconds": 40}}),
            ),
            0,
        ),
        (
            r("leases/kube-system/apiserver-abc"),
            obj(
                "coordination.k8s.io/v1",
                "Lease",
                Some("kube-system"),
                "apiserver-abc",
                "l3",
                json!({"metadata": {"labels": {"apiserver.kubernetes.io/identity": "kube-apiserver"}},
                   "spec": {"holderIdentity": "apiserver-abc", "renewTime": ts(3 * 86400), "leaseDurationSeconds": 3600}}),
            ),
            0,
        ),
        (
            r("leases/kube-system/old-operator"),
            obj(
                "coordination.k8s.io/v1",
                "Lease",
                Some("kube-system"),
                "old-operator",
                "l4",
                json!({"spec": {"holderIdentity": "op-1_x", "renewTime": ts(5 * 3600), "leaseDurationSeconds": 15}}),
            ),
            0,
        ),
        (
            r("leases/kube-system/kube-scheduler"),
            obj(
                "coordination.k8s.io/v1",
                "Lease",
                Some("kube-system"),
                "kube-scheduler",
                "l5",
                json!({"spec": {"holderIdentity": "s_1", "renewTime": ts(2), "leaseDurationSeconds": 15}}),
            ),
            0,
        ),
        (
            r("pods/default/on-gone-node"),
            obj(
                "v1",
                "Pod",
                Some("default"),
                "on-gone-node",
                "p1",
                json!({"spec": {"nodeName": "node-gone"}}),
            ),
            0,
        ),
        (
            r("pods/default/fine"),
            obj(
                "v1",
                "Pod",
                Some("default"),
                "fine",
                "p2",
                json!({"spec": {"nodeName": "node-a"}}),
            ),
            0,
        ),
        (
            r("pods/default/terminating"),
            obj(
                "v1",
                "Pod",
                Some("default"),
                "terminating",
                "p3",
                json!({"metadata": {"deletionTimestamp": ts(-20)}, "spec": {"nodeName": "node-a"}}),
            ),
            0,
        ),
        (
            r("pods/default/abandoned"),
            obj(
                "v1",
                "Pod",
                Some("default"),
                "abandoned",
                "p4",
                json!({"metadata": {"deletionTimestamp": ts(3 * 3600)}, "spec": {"nodeName": "node-a"}}),
            ),
            0,
        ),
        (
            r("pods/default/evicted"),
            obj(
                "v1",
                "Pod",
                Some("default"),
                "evicted",
                "p5",
                json!({"spec": {"nodeName": "node-a"}, "status": {"phase": "Failed", "reason": "Evicted"}}),
            ),
            0,
        ),
        (
            r("pods/default/orphan"),
            obj(
                "v1",
                "Pod",
                Some("default"),
                "orphan",
                "p6",
                owner("apps/v1", "ReplicaSet", "gone-rs", "rs-0"),
            ),
            0,
        ),
        (
            r("deployments/default/web"),
            obj(
                "apps/v1",
                "Deployment",
                Some("default"),
                "web",
                "dep-new",
                json!({}),
            ),
            0,
        ),
        (
            r("replicasets/default/web-1"),
            obj(
                "apps/v1",
                "ReplicaSet",
                Some("default"),
                "web-1",
                "rs-1",
                owner("apps/v1", "Deployment", "web", "dep-old"),
            ),
            0,
        ),
        (
            r("replicasets/default/web-2"),
            obj(
                "apps/v1",
                "ReplicaSet",
                Some("default"),
                "web-2",
                "rs-2",
                owner("apps/v1", "Deployment", "web", "dep-new"),
            ),
            0,
        ),
        (
            r("services/specs/default/web"),
            obj(
                "v1",
                "Service",
                Some("default"),
                "web",
                "svc-web",
                json!({}),
            ),
            0,
        ),
        (
            r("services/endpoints/default/web"),
            obj(
                "v1",
                "Endpoints",
                Some("default"),
                "web",
                "ep-web",
                json!({}),
            ),
            0,
        ),
        (
            r("services/endpoints/default/gone"),
            obj(
                "v1",
                "Endpoints",
                Some("default"),
                "gone",
                "ep-gone",
                json!({}),
            ),
            0,
        ),
        (
            r("endpointslices/default/gone-x1"),
            obj(
                "discovery.k8s.io/v1",
                "EndpointSlice",
                Some("default"),
                "gone-x1",
                "es-1",
                json!({"metadata": {"labels": {"kubernetes.io/service-name": "gone"}}}),
            ),
            0,
        ),
        (
            r("endpointslices/default/web-x1"),
            obj(
                "discovery.k8s.io/v1",
                "EndpointSlice",
                Some("default"),
                "web-x1",
                "es-2",
                json!({"metadata": {"labels": {"kubernetes.io/service-name": "web"}}}),
            ),
            0,
        ),
        (
            r("apiextensions.k8s.io/customresourcedefinitions/gadgets.example.com"),
            obj(
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                None,
                "gadgets.example.com",
                "crd-1",
                json!({"spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "gadgets", "kind": "Gadget"}}}),
            ),
            0,
        ),
        (
            r("example.com/gadgets/default/g1"),
            obj(
                "example.com/v1",
                "Gadget",
                Some("default"),
                "g1",
                "g1",
                json!({}),
            ),
            0,
        ),
        (
            r("example.com/widgets/default/w1"),
            obj(
                "example.com/v1",
                "Widget",
                Some("default"),
                "w1",
                "w1",
                json!({}),
            ),
            0,
        ),
        (
            r("secrets/default/gadget-owned"),
            obj(
                "v1",
                "Secret",
                Some("default"),
                "gadget-owned",
                "s0",
                owner("example.com/v1", "Gadget", "g-gone", "g-gone-uid"),
            ),
            0,
        ),
        (
            r("configmaps/vanished/cm"),
            obj("v1", "ConfigMap", Some("vanished"), "cm", "cm-v", json!({})),
            0,
        ),
        (
            r("configmaps/default/stuck-cm"),
            obj(
                "v1",
                "ConfigMap",
                Some("default"),
                "stuck-cm",
                "cm-s",
                json!({"metadata": {"deletionTimestamp": ts(2 * 3600), "finalizers": ["example.io/sync"]}}),
            ),
            0,
        ),
        (
            r("configmaps/default/going-cm"),
            obj(
                "v1",
                "ConfigMap",
                Some("default"),
                "going-cm",
                "cm-g",
                json!({"metadata": {"deletionTimestamp": ts(70), "finalizers": ["example.io/sync"]}}),
            ),
            0,
        ),
        (r("events/default/old"), event("old", 3 * 3600), EVENT_LEASE),
        (r("events/default/fresh"), event("fresh", 60), EVENT_LEASE),
        (r("events/default/no-lease"), event("no-lease", 60), 0),
        (
            r("masterleases/10.0.0.1"),
            obj("v1", "Endpoints", None, "10.0.0.1", "", json!({})),
            MASTER_LEASE,
        ),
        (
            r("masterleases/10.0.0.2"),
            obj("v1", "Endpoints", None, "10.0.0.2", "", json!({})),
            0,
        ),
        (
            r("jobs/default/done"),
            obj(
                "batch/v1",
                "Job",
                Some("default"),
                "done",
                "j1",
                json!({"status": {"conditions": [{"type": "Complete", "status": "True"}], "completionTime": ts(86400)}}),
            ),
            0,
        ),
        (
            r("jobs/default/done-ttl"),
            obj(
                "batch/v1",
                "Job",
                Some("default"),
                "done-ttl",
                "j2",
                json!({"spec": {"ttlSecondsAfterFinished": 3600}, "status": {"conditions": [{"type": "Complete", "status": "True"}]}}),
            ),
            0,
        ),
        (
            r("jobs/default/failed"),
            obj(
                "batch/v1",
                "Job",
                Some("default"),
                "failed",
                "j3",
                json!({"status": {"conditions": [{"type": "Failed", "status": "True"}]}}),
            ),
            0,
        ),
        (
            r("cronjobs/default/nightly"),
            obj(
                "batch/v1",
                "CronJob",
                Some("default"),
                "nightly",
                "cj1",
                json!({}),
            ),
            0,
        ),
        (
            r("jobs/default/nightly-1"),
            obj("batch/v1", "Job", Some("default"), "nightly-1", "j4", {
                let mut o = owner("batch/v1", "CronJob", "nightly", "cj1");
                o["status"] = json!({"conditions": [{"type": "Complete", "status": "True"}]});
                o
            }),
            0,
        ),
        (
            r("persistentvolumes/pv-released"),
            obj(
                "v1",
                "PersistentVolume",
                None,
                "pv-released",
                "pv1",
                json!({"status": {"phase": "Released"}}),
            ),
            0,
        ),
        (
            r("persistentvolumes/pv-failed"),
            obj(
                "v1",
                "PersistentVolume",
                None,
                "pv-failed",
                "pv2",
                json!({"status": {"phase": "Failed"}}),
            ),
            0,
        ),
        (
            r("persistentvolumes/pv-bound"),
            obj(
                "v1",
                "PersistentVolume",
                None,
                "pv-bound",
                "pv3",
                json!({"status": {"phase": "Bound"}}),
            ),
            0,
        ),
        (
            r("serviceaccounts/default/builder"),
            obj(
                "v1",
                "ServiceAccount",
                Some("default"),
                "builder",
                "sa-1",
                json!({}),
            ),
            0,
        ),
        (
            r("secrets/default/builder-token-abcde"),
            obj(
                "v1",
                "Secret",
                Some("default"),
                "builder-token-abcde",
                "s1",
                json!({"type": "kubernetes.io/service-account-token", "metadata": {"annotations": {
                "kubernetes.io/service-account.name": "builder", "kubernetes.io/service-account.uid": "sa-1"}}}),
            ),
            0,
        ),
        (
            r("secrets/default/deployer-token-fghij"),
            obj(
                "v1",
                "Secret",
                Some("default"),
                "deployer-token-fghij",
                "s2",
                json!({"type": "kubernetes.io/service-account-token", "metadata": {"annotations": {
                "kubernetes.io/service-account.name": "deployer", "kubernetes.io/service-account.uid": "sa-2"}}}),
            ),
            0,
        ),
        (
            r("apiregistration.k8s.io/apiservices/v1beta1.metrics.k8s.io"),
            obj(
                "apiregistration.k8s.io/v1",
                "APIService",
                None,
                "v1beta1.metrics.k8s.io",
                "as1",
                json!({"spec": {"service": {"namespace": "kube-system", "name": "metrics-server"}}}),
            ),
            0,
        ),
        (
            r("validatingwebhookconfigurations/policy"),
            obj(
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
                None,
                "policy",
                "wh1",
                json!({"webhooks": [{"name": "a", "clientConfig": {"service": {"namespace": "default", "name": "web"}}},
                                                      {"name": "b", "clientConfig": {"service": {"namespace": "policy", "name": "gone"}}}]}),
            ),
            0,
        ),
        (
            r("volumeattachments/csi-1"),
            obj(
                "storage.k8s.io/v1",
                "VolumeAttachment",
                None,
                "csi-1",
                "va1",
                json!({"spec": {"nodeName": "node-gone"}}),
            ),
            0,
        ),
        (
            r("certificatesigningrequests/csr-old"),
            {
                let mut o = obj(
                    "certificates.k8s.io/v1",
                    "CertificateSigningRequest",
                    None,
                    "csr-old",
                    "csr1",
                    json!({"status": {"conditions": [{"type": "Approved", "status": "True"}]}}),
                );
                o["metadata"]["creationTimestamp"] = json!(ts(2 * 3600));
                o
            },
            0,
        ),
        (
            r("certificatesigningrequests/csr-new"),
            {
                let mut o = obj(
                    "certificates.k8s.io/v1",
                    "CertificateSigningRequest",
                    None,
                    "csr-new",
                    "csr2",
                    json!({}),
                );
                o["metadata"]["creationTimestamp"] = json!(ts(600));
                o
            },
            0,
        ),
        (
            "/other-app/config/x".to_string(),
            json!({"not": "kubernetes"}),
            FOREIGN_LEASE,
        ),
    ];
    for n in 1..=11 {
        let name = format!("sh.helm.release.v1.shop.v{n}");
        v.push((
            r(&format!("secrets/default/{name}")),
            obj(
                "v1",
                "Secret",
                Some("default"),
                &name,
                &format!("h{n}"),
                json!({"type": "helm.sh/release.v1"}),
            ),
            0,
        ));
    }
    v
}

fn expected() -> BTreeSet<(String, String)> {
    let k = |c: &str, key: &str| (c.to_string(), format!("/registry/{key}"));
    let l = |c: &str, id: i64| (c.to_string(), format!("{id:016x}"));
    [
        k(
            "node-lease-without-node",
            "leases/kube-node-lease/node-gone",
        ),
        k("pod-on-missing-node", "pods/default/on-gone-node"),
        k("pod-stuck-terminating", "pods/default/abandoned"),
        k("pod-evicted", "pods/default/evicted"),
        k("owner-missing", "pods/default/orphan"),
        k("owner-missing", "secrets/default/gadget-owned"),
        k("owner-uid-mismatch", "replicasets/default/web-1"),
        k("replicaset-orphaned", "replicasets/default/web-1"),
        k(
            "endpoints-without-service",
            "services/endpoints/default/gone",
        ),
        k(
            "endpointslice-without-service",
            "endpointslices/default/gone-x1",
        ),
        k("cr-without-crd", "example.com/widgets/default/w1"),
        k("object-in-missing-namespace", "configmaps/vanished/cm"),
        k("stuck-deletion", "configmaps/default/stuck-cm"),
        k("namespace-stuck-terminating", "namespaces/stuck"),
        k("event-without-lease", "events/default/no-lease"),
        k("event-expired", "events/default/old"),
        k("masterlease-without-lease", "masterleases/10.0.0.2"),
        k("job-completed-without-ttl", "jobs/default/done"),
        k("job-failed-without-ttl", "jobs/default/failed"),
        k("pv-released", "persistentvolumes/pv-released"),
        k("pv-failed", "persistentvolumes/pv-failed"),
        k(
            "sa-token-secret-orphaned",
            "secrets/default/deployer-token-fghij",
        ),
        k(
            "helm-release-history",
            "secrets/default/sh.helm.release.v1.shop.v11",
        ),
        k(
            "apiservice-without-service",
            "apiregistration.k8s.io/apiservices/v1beta1.metrics.k8s.io",
        ),
        k(
            "webhook-without-service",
            "validatingwebhookconfigurations/policy",
        ),
        k(
            "volumeattachment-on-missing-node",
            "volumeattachments/csi-1",
        ),
        k("csr-not-cleaned", "certificatesigningrequests/csr-old"),
        k(
            "apiserver-identity-lease-expired",
            "leases/kube-system/apiserver-abc",
        ),
        k(
            "leader-election-lease-stale",
            "leases/kube-system/old-operator",
        ),
        l("lease-without-keys", KEYLESS_LEASE),
        l("lease-immortal", EVENT_LEASE),
        l("lease-unexpected", FOREIGN_LEASE),
        l("lease-oversized", BIG_LEASE),
        l("lease-kept-alive", ALIVE_LEASE),
        l("lease-unexpected", ALIVE_LEASE),
    ]
    .into_iter()
    .collect()
}

async fn build(c: &mut Client) {
    for (id, ttl) in [
        (EVENT_LEASE, 3660),
        (MASTER_LEASE, 15),
        (KEYLESS_LEASE, 3660),
        (FOREIGN_LEASE, 7200),
        (BIG_LEASE, 3660),
        (ALIVE_LEASE, 120),
    ] {
        c.lease_grant(ttl, Some(LeaseGrantOptions::new().with_id(id)))
            .await
            .unwrap();
    }
    for (key, value, lease) in objects() {
        let opts = (lease != 0).then(|| PutOptions::new().with_lease(lease));
        c.put(key, value.to_string(), opts).await.unwrap();
    }
    // An oversized event lease: 1001 Events (fresh, so not immortal).
    let keys: Vec<String> = (0..1001)
        .map(|i| format!("/registry/events/default/bulk.{i:04}"))
        .collect();
    for chunk in keys.chunks(100) {
        let ops: Vec<TxnOp> = chunk
            .iter()
            .map(|k| {
                let name = k.rsplit('/').next().unwrap();
                let v = obj(
                    "v1",
                    "Event",
                    Some("default"),
                    name,
                    name,
                    json!({"lastTimestamp": ts(30)}),
                );
                TxnOp::put(
                    k.as_str(),
                    v.to_string(),
                    Some(PutOptions::new().with_lease(BIG_LEASE)),
                )
            })
            .collect();
        c.txn(Txn::new().and_then(ops)).await.unwrap();
    }
}

/// Keeps `id` alive every 300 ms until the flag drops.
fn keep_alive(endpoint: String, id: i64, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        common::rt().block_on(async {
            let mut c = common::client(&endpoint).await;
            let (mut keeper, mut stream) = c.lease_keep_alive(id).await.unwrap();
            while !stop.load(Ordering::SeqCst) {
                keeper.keep_alive().await.unwrap();
                let _ = stream.message().await;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        })
    })
}

fn all(source: &dyn Source) -> Vec<KeyRecord> {
    source
        .range(&RangeQuery::latest(KeyRange::prefix("")))
        .unwrap()
}

fn found(report: &Report) -> BTreeSet<(String, String)> {
    report
        .findings
        .iter()
        .map(|f| {
            let id = f
                .key
                .clone()
                .unwrap_or_else(|| format!("{:016x}", f.lease.unwrap_or(0)));
            (f.check.to_string(), id)
        })
        .collect()
}

fn setup() -> (Member, Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let member = Member::start_single();
    let rt = common::rt();
    let mut c = common::member_client(&rt, &member);
    rt.block_on(build(&mut c));
    let stop = Arc::new(AtomicBool::new(false));
    let alive = keep_alive(member.endpoint(), ALIVE_LEASE, stop.clone());
    (member, stop, alive)
}

#[test]
fn every_detector_and_lease_class_on_a_live_cluster() {
    let (member, stop, alive) = setup();
    let source = common::live_source(&member);
    let report = inspect(&source, &Keyring::default(), &Options::default()).unwrap();
    stop.store(true, Ordering::SeqCst);
    alive.join().unwrap();
    assert!(!report.now_estimated, "a live cluster uses the clock");
    let want = expected();
    let got = found(&report);
    assert_eq!(
        got.difference(&want).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "reported but not planted"
    );
    assert_eq!(
        want.difference(&got).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "planted but not found"
    );
    let classes: BTreeMap<i64, LeaseClass> =
        report.leases.iter().map(|l| (l.id, l.class)).collect();
    assert_eq!(classes[&EVENT_LEASE], LeaseClass::KubernetesEvents);
    assert_eq!(classes[&MASTER_LEASE], LeaseClass::Masterleases);
    assert_eq!(classes[&KEYLESS_LEASE], LeaseClass::KubernetesEvents);
    assert_eq!(classes[&FOREIGN_LEASE], LeaseClass::Foreign);
    assert_eq!(classes[&BIG_LEASE], LeaseClass::KubernetesEvents);
    let big = report.leases.iter().find(|l| l.id == BIG_LEASE).unwrap();
    assert_eq!(big.key_count, 1001);
    assert!(report.leases.iter().all(|l| l.remaining_ttl.is_some()));
    // --older-than keeps findings at least that old (the expired Event is 3 h old).
    let ep = member.endpoint();
    let aged = |d: &str| {
        let out = common::run(&[
            "stale",
            "--endpoints",
            &ep,
            "-o",
            "json",
            "--check",
            "event-expired",
            "--older-than",
            d,
        ]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        serde_json::from_str::<Value>(&out.stdout).unwrap()["findings"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(aged("2h"), 1);
    assert_eq!(aged("4h"), 0);
    // JSON carries key / lease hex / check / evidence for every finding.
    let out = common::run(&["stale", "--endpoints", &member.endpoint(), "-o", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    for f in doc["findings"].as_array().unwrap() {
        assert!(f["check"].is_string() && f["evidence"].is_string(), "{f}");
        assert!(
            f["key"].is_string() || f["lease"].as_str().is_some_and(|l| l.len() == 16),
            "{f}"
        );
    }
}

#[test]
fn dry_run_changes_nothing_and_apply_deletes_exactly_the_reported_keys() {
    let (member, stop, alive) = setup();
    stop.store(true, Ordering::SeqCst);
    alive.join().unwrap();
    // The 15 s masterlease lease would expire mid-test and change the data by itself.
    let rt = common::rt();
    let mut c = common::member_client(&rt, &member);
    rt.block_on(c.lease_revoke(MASTER_LEASE)).unwrap();
    let source = common::live_source(&member);
    let before = all(&source);
    let ep = member.endpoint();
    let checks =
        "cr-without-crd,object-in-missing-namespace,event-without-lease,helm-release-history";
    let dry = common::run(&["stale", "fix", "--endpoints", &ep, "--check", checks]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("dry run"), "{}", dry.stdout);
    assert_eq!(all(&source), before, "a dry run changes nothing");

    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let applied = common::run(&[
        "stale",
        "fix",
        "--endpoints",
        &ep,
        "--check",
        checks,
        "--apply",
        "--audit-log",
        audit.to_str().unwrap(),
    ]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let after: BTreeSet<String> = all(&source)
        .iter()
        .map(|r| String::from_utf8(r.key.clone()).unwrap())
        .collect();
    let gone: BTreeSet<String> = before
        .iter()
        .map(|r| String::from_utf8(r.key.clone()).unwrap())
        .filter(|k| !after.contains(k))
        .collect();
    let mut want: BTreeSet<String> = [
        "/registry/example.com/widgets/default/w1",
        "/registry/configmaps/vanished/cm",
        "/registry/events/default/no-lease",
        "/registry/secrets/default/sh.helm.release.v1.shop.v1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(
        gone,
        std::mem::take(&mut want),
        "exactly the reported keys are deleted"
    );
    let lines: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let results: Vec<&Value> = lines.iter().filter(|l| l["phase"] == "result").collect();
    assert_eq!(results.len(), 4, "{lines:#?}");
    assert!(
        results
            .iter()
            .all(|l| l["succeeded"] == true && l["prev_value_sha256"].is_string())
    );
    assert_eq!(lines.iter().filter(|l| l["phase"] == "intent").count(), 4);

    // --apply never writes a snapshot file.
    let snap = dir.path().join("x.db");
    std::fs::write(&snap, b"").unwrap();
    let refused = common::run(&[
        "stale",
        "fix",
        "--snapshot",
        snap.to_str().unwrap(),
        "--apply",
    ]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
}

#[test]
fn a_concurrent_change_between_inspect_and_apply_keeps_the_key() {
    let (member, stop, alive) = setup();
    stop.store(true, Ordering::SeqCst);
    alive.join().unwrap();
    let source = common::live_source(&member);
    let report = inspect(&source, &Keyring::default(), &Options::default()).unwrap();
    let plan = remediate::plan_fix(
        &report,
        &["stuck-deletion".to_string(), "pv-failed".to_string()],
    );
    assert_eq!(
        plan.steps.len(),
        1,
        "pv-failed has no etcd operation; one delete: {plan:?}"
    );
    let rt = common::rt();
    let mut c = common::member_client(&rt, &member);
    let key = "/registry/configmaps/default/stuck-cm";
    rt.block_on(c.put(key, "{\"changed\":true}", None)).unwrap();
    let outcomes = rt
        .block_on(remediate::apply(&mut c, &plan, &ApplyOptions::default()))
        .unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].result, "changed", "{outcomes:?}");
    assert!(!outcomes[0].ok());
    let still = rt.block_on(c.get(key, None)).unwrap();
    assert_eq!(
        still.kvs()[0].value(),
        b"{\"changed\":true}",
        "the key is kept"
    );
}

#[test]
fn revoke_refuses_kept_alive_and_foreign_leases_and_drains_large_ones() {
    let (member, stop, alive) = setup();
    let ep = member.endpoint();
    let source = common::live_source(&member);
    let report = inspect(&source, &Keyring::default(), &Options::default()).unwrap();
    let rt = common::rt();
    let mut c = common::member_client(&rt, &member);
    let opts = ApplyOptions {
        min_lease_age: Duration::ZERO,
        ..ApplyOptions::default()
    };
    // Kept alive: refused by the plan (seen in the inspection) and by the re-check.
    let plan = remediate::plan_revoke(&report, &[ALIVE_LEASE, FOREIGN_LEASE]).unwrap();
    assert!(plan.steps.iter().all(|s| s.refused.is_some()), "{plan:?}");
    let mut unchecked = plan.clone();
    unchecked.steps.retain(|s| {
        matches!(
            s.op,
            revkeeper::inspect::EtcdOp::Revoke {
                lease: ALIVE_LEASE,
                ..
            }
        )
    });
    unchecked.steps[0].refused = None;
    let out = rt
        .block_on(remediate::apply(&mut c, &unchecked, &opts))
        .unwrap();
    assert_eq!(out[0].result, "refused", "{out:?}");
    assert!(out[0].message.contains("keeps it alive"), "{out:?}");
    stop.store(true, Ordering::SeqCst);
    alive.join().unwrap();

    // Young leases are refused by default (kube-apiserver may still attach Events to them).
    let young = common::run(&[
        "leases",
        "revoke",
        &format!("{KEYLESS_LEASE:016x}"),
        "--endpoints",
        &ep,
        "--apply",
    ]);
    assert_ne!(young.code, 0, "{}", young.stdout);
    assert!(young.stdout.contains("refused"), "{}", young.stdout);

    // The 1001-key lease: drained in batches, then revoked; every key is gone.
    let big = common::run(&[
        "leases",
        "revoke",
        &format!("{BIG_LEASE:016x}"),
        "--endpoints",
        &ep,
        "--apply",
        "--min-age",
        "0s",
    ]);
    assert_eq!(big.code, 0, "{}\n{}", big.stdout, big.stderr);
    assert!(big.stdout.contains("drained in batches"), "{}", big.stdout);
    let left = rt
        .block_on(
            c.get(
                "/registry/events/default/bulk.",
                Some(
                    etcd_client::GetOptions::new()
                        .with_prefix()
                        .with_count_only(),
                ),
            ),
        )
        .unwrap();
    assert_eq!(left.count(), 0);
    let ttl = rt.block_on(c.lease_time_to_live(BIG_LEASE, None)).unwrap();
    assert_eq!(ttl.ttl(), -1, "lease revoked");
}

/// Under a NOSPACE alarm etcd refuses puts and lease grants, but not deletes and revokes: the
/// fix still goes through.
#[test]
fn fixes_work_under_a_nospace_alarm() {
    let member = Member::start_single_with(None, vec!["--quota-backend-bytes=8388608".into()]);
    let ep = member.endpoint();
    let rt = common::rt();
    let mut c = common::member_client(&rt, &member);
    let stray = "/registry/example.com/widgets/default/w1";
    rt.block_on(async {
        c.put(
            "/registry/namespaces/default",
            obj("v1", "Namespace", None, "default", "ns", json!({})).to_string(),
            None,
        )
        .await
        .unwrap();
        c.put(
            stray,
            obj(
                "example.com/v1",
                "Widget",
                Some("default"),
                "w1",
                "w1",
                json!({}),
            )
            .to_string(),
            None,
        )
        .await
        .unwrap();
        c.lease_grant(3660, Some(LeaseGrantOptions::new().with_id(KEYLESS_LEASE)))
            .await
            .unwrap();
        // Small values in batches: a live scan pages 1000 keys per request (4 MiB gRPC limit).
        let mut i = 0u64;
        loop {
            let ops: Vec<TxnOp> = (0..100)
                .map(|j| {
                    TxnOp::put(
                        format!("/filler/{i}-{j}"),
                        common::random_bytes(i * 100 + j, 3000),
                        None,
                    )
                })
                .collect();
            match c.txn(Txn::new().and_then(ops)).await {
                Ok(_) => i += 1,
                Err(e) => {
                    assert!(e.to_string().contains("database space exceeded"), "{e}");
                    break;
                }
            }
            assert!(i < 200, "the quota was never reached");
        }
    });
    let alarms = rt
        .block_on(c.alarm(
            etcd_client::AlarmAction::Get,
            etcd_client::AlarmType::None,
            None,
        ))
        .unwrap();
    assert!(!alarms.alarms().is_empty(), "NOSPACE alarm raised");

    let fix = common::run(&[
        "stale",
        "fix",
        "--endpoints",
        &ep,
        "--check",
        "cr-without-crd",
        "--apply",
    ]);
    assert_eq!(fix.code, 0, "{}\n{}", fix.stdout, fix.stderr);
    assert_eq!(
        rt.block_on(c.get(stray, None)).unwrap().count(),
        0,
        "deleted under NOSPACE"
    );
    let revoke = common::run(&[
        "leases",
        "revoke",
        &format!("{KEYLESS_LEASE:016x}"),
        "--endpoints",
        &ep,
        "--apply",
        "--min-age",
        "0s",
    ]);
    assert_eq!(revoke.code, 0, "{}\n{}", revoke.stdout, revoke.stderr);
    assert_eq!(
        rt.block_on(c.lease_time_to_live(KEYLESS_LEASE, None))
            .unwrap()
            .ttl(),
        -1
    );
}
