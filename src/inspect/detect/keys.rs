//! Checks that need only the key and its lease.

use super::*;

/// Checks that need only the key and its lease.
pub(super) fn by_key(
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
pub(super) fn token_secret_sa(name: &str) -> Option<&str> {
    let (sa, suffix) = name.rsplit_once("-token-")?;
    (suffix.len() == 5 && suffix.chars().all(|c| c.is_ascii_alphanumeric()) && !sa.is_empty())
        .then_some(sa)
}

/// `sh.helm.release.v1.<release>.v<N>`.
pub(super) fn helm_revision(name: &str) -> Option<(&str, u64)> {
    let rest = name.strip_prefix("sh.helm.release.v1.")?;
    let (rel, n) = rest.rsplit_once(".v")?;
    Some((rel, n.parse().ok()?))
}
