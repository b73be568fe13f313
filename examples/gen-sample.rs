//! Generates `testdata/sample.db`: a small etcd snapshot with Kubernetes-shaped keys, history,
//! a compaction, leases and deletions, taken from a real etcd server (the vendored 3.6 one, or
//! `ETCD_BIN`). Run through `scripts/gen-sample.sh`.

use std::io::Write;

use etcd_client::{Client, PutOptions};
use revkeeper_harness::Member;

const NAMESPACES: [&str; 3] = ["default", "kube-system", "demo"];

fn object(kind: &str, api: &str, ns: Option<&str>, name: &str, extra: &str) -> String {
    let ns = ns
        .map(|n| format!(r#","namespace":"{n}""#))
        .unwrap_or_default();
    format!(
        r#"{{"kind":"{kind}","apiVersion":"{api}","metadata":{{"name":"{name}"{ns},"uid":"{uid}","creationTimestamp":"2026-11-01T10:00:00Z"}}{extra}}}"#,
        uid = fake_uid(name),
    ) + "\n"
}

fn fake_uid(seed: &str) -> String {
    let h = seed.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    });
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 20) & 0xfff,
        h & 0xffff_ffff_ffff
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "testdata/sample.db".into());
    let member = Member::start_single();
    let mut c = Client::connect([member.endpoint()], None).await?;

    for ns in NAMESPACES {
        let v = object(
            "Namespace",
            "v1",
            None,
            ns,
            r#","spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}"#,
        );
        c.put(format!("/registry/namespaces/{ns}"), v, None).await?;
    }
    for node in ["node-a", "node-b"] {
        c.put(
            format!("/registry/minions/{node}"),
            object("Node", "v1", None, node, ""),
            None,
        )
        .await?;
    }
    for ns in NAMESPACES {
        for i in 0..4 {
            let name = format!("app-{i}");
            let cm = object(
                "ConfigMap",
                "v1",
                Some(ns),
                &name,
                &format!(r#","data":{{"replicas":"{i}"}}"#),
            );
            c.put(format!("/registry/configmaps/{ns}/{name}"), cm, None)
                .await?;
            let pod = object(
                "Pod",
                "v1",
                Some(ns),
                &format!("{name}-7d9f"),
                r#","spec":{"nodeName":"node-a"},"status":{"phase":"Running"}"#,
            );
            c.put(format!("/registry/pods/{ns}/{name}-7d9f"), pod, None)
                .await?;
        }
    }
    // History: a config map edited several times, then an early compaction.
    for v in 1..=5 {
        let cm = object(
            "ConfigMap",
            "v1",
            Some("demo"),
            "settings",
            &format!(r#","data":{{"version":"{v}"}}"#),
        );
        c.put("/registry/configmaps/demo/settings", cm, None)
            .await?;
    }
    let rev = c
        .get("/registry/configmaps/demo/settings", None)
        .await?
        .header()
        .map(|h| h.revision())
        .unwrap_or(0);
    c.compact(rev - 2, None).await?;
    c.put("/registry/compact_rev_key", (rev - 2).to_string(), None)
        .await?;
    // Events ride on one shared lease, masterleases on short ones, as kube-apiserver does it.
    let events = c.lease_grant(3660, None).await?.id();
    for i in 0..6 {
        let ev = object(
            "Event",
            "v1",
            Some("default"),
            &format!("app-0-7d9f.{i:x}"),
            r#","reason":"Pulled","type":"Normal""#,
        );
        c.put(
            format!("/registry/events/default/app-0-7d9f.{i:x}"),
            ev,
            Some(PutOptions::new().with_lease(events)),
        )
        .await?;
    }
    let master = c.lease_grant(15, None).await?.id();
    c.put(
        "/registry/masterleases/10.0.0.1",
        object("Endpoints", "v1", None, "10.0.0.1", ""),
        Some(PutOptions::new().with_lease(master)),
    )
    .await?;
    // A deleted pod and a re-created one leave tombstones in the history.
    c.delete("/registry/pods/demo/app-3-7d9f", None).await?;
    c.delete("/registry/configmaps/kube-system/app-1", None)
        .await?;
    let again = object(
        "ConfigMap",
        "v1",
        Some("kube-system"),
        "app-1",
        r#","data":{"replicas":"9"}"#,
    );
    c.put("/registry/configmaps/kube-system/app-1", again, None)
        .await?;

    // Findings for `revkeeper stale` / `leases` and the TUI demo: a node lease whose Node is
    // gone (node-a's fresh lease sets the offline "now"), an orphaned ReplicaSet, an Event
    // without a lease, a custom resource without its CRD, a namespace stuck Terminating and a
    // keyless event lease.
    let knl = object(
        "Namespace",
        "v1",
        None,
        "kube-node-lease",
        r#","spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}"#,
    );
    c.put("/registry/namespaces/kube-node-lease", knl, None)
        .await?;
    for (node, renew) in [
        ("node-a", "2026-11-01T12:00:00.000000Z"),
        ("node-c", "2026-11-01T11:59:50.000000Z"),
    ] {
        let lease = object(
            "Lease",
            "coordination.k8s.io/v1",
            Some("kube-node-lease"),
            node,
            &format!(
                r#","spec":{{"holderIdentity":"{node}","leaseDurationSeconds":40,"renewTime":"{renew}"}}"#
            ),
        );
        c.put(
            format!("/registry/leases/kube-node-lease/{node}"),
            lease,
            None,
        )
        .await?;
    }
    let rs = object(
        "ReplicaSet",
        "apps/v1",
        Some("demo"),
        "web-5f6d8",
        r#","spec":{"replicas":1}"#,
    )
    .replace(
        r#""creationTimestamp""#,
        r#""ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"web","uid":"0b5e3f1c-9a43-4d1e-8f5a-1d2c3b4a5e6f","controller":true}],"creationTimestamp""#,
    );
    c.put("/registry/replicasets/demo/web-5f6d8", rs, None)
        .await?;
    let stray = object(
        "Event",
        "v1",
        Some("demo"),
        "web-5f6d8.restored",
        r#","reason":"Restored","type":"Normal""#,
    );
    c.put("/registry/events/demo/web-5f6d8.restored", stray, None)
        .await?;
    c.put(
        "/registry/example.com/widgets/demo/w1",
        object(
            "Widget",
            "example.com/v1",
            Some("demo"),
            "w1",
            r#","spec":{"size":3}"#,
        ),
        None,
    )
    .await?;
    let stuck = object(
        "Namespace",
        "v1",
        None,
        "old-team",
        r#","spec":{"finalizers":["kubernetes"]},"status":{"phase":"Terminating"}"#,
    )
    .replace(
        r#""creationTimestamp""#,
        r#""deletionTimestamp":"2026-11-01T09:00:00Z","creationTimestamp""#,
    );
    c.put("/registry/namespaces/old-team", stuck, None).await?;
    c.lease_grant(3660, None).await?;

    let mut stream = c.snapshot().await?;
    let tmp = format!("{out}.part");
    let mut f = std::fs::File::create(&tmp)?;
    while let Some(resp) = stream.message().await? {
        f.write_all(resp.blob())?;
    }
    f.sync_all()?;
    std::fs::rename(&tmp, &out)?;
    eprintln!("wrote {out}");
    Ok(())
}
