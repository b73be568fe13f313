//! Checks that read decoded facts.

use super::*;

/// Checks that read decoded facts.
pub(super) fn by_facts<'a>(
    ctx: &Ctx<'a>,
    e: &'a ObjectEntry,
    k: &revkeeper_formats::k8s::key::ObjectKey<'a>,
    lookups: &mut Lookups<'a>,
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
                && !lookups.node_exists(index, node)
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
        } if !lookups.node_exists(index, node) => {
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
