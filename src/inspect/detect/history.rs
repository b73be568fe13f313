//! History kept past its use: old Helm release revisions and idle ReplicaSets.

use super::*;

pub(super) fn helm_history(
    helm: &BTreeMap<(&str, &str), Vec<(u64, &ObjectEntry)>>,
    out: &mut Vec<Finding>,
) {
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

pub(super) fn old_replicasets(
    ctx: &Ctx,
    idle: &HashMap<&str, Vec<&ObjectEntry>>,
    out: &mut Vec<Finding>,
) {
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
