//! ownerReferences and namespaces: objects whose owner or namespace is gone.

use super::*;

/// ownerReferences resolved by apiVersion + kind (built-ins, then CRDs in the data).
pub(super) fn owners<'a>(
    ctx: &Ctx<'a>,
    e: &'a ObjectEntry,
    k: &revkeeper_formats::k8s::key::ObjectKey<'a>,
    lookups: &mut Lookups<'a>,
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
        let target = lookups.owner(index, resource, ns, &o.name);
        let what = || format!("{}/{} {}", o.api_version, o.kind, o.name);
        let (check, evidence) = match target {
            None => (
                "owner-missing",
                format!("ownerReference {} uid {} does not exist", what(), o.uid),
            ),
            Some(t) => match &t.facts.uid {
                Some(uid) if !o.uid.is_empty() && **uid != *o.uid => (
                    "owner-uid-mismatch",
                    format!(
                        "ownerReference {} uid {} but the live object has uid {uid}",
                        what(),
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

pub(super) fn namespaces(ctx: &Ctx, per_ns: &HashMap<&str, usize>, out: &mut Vec<Finding>) {
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
