//! Planning (pure, no network): which findings of a [`Report`] become which guarded etcd
//! operations, which lease revokes are refused up front, and the dry-run text.

use std::collections::HashSet;

use crate::inspect::{EtcdOp, LeaseClass, Report};
use crate::{Error, Result};

/// One planned operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub op: EtcdOp,
    /// The findings that asked for it.
    pub checks: Vec<&'static str>,
    /// Set when the plan already knows this step must not run (foreign or kept-alive lease).
    pub refused: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
}

/// The etcd operations of the findings whose check is in `checks` (all when empty): deletes
/// first, then revokes; a key is deleted once even when several findings name it.
pub fn plan_fix(report: &Report, checks: &[String]) -> Plan {
    let mut deletes: Vec<Step> = Vec::new();
    let mut revokes: Vec<Step> = Vec::new();
    for f in &report.findings {
        if !checks.is_empty() && !checks.iter().any(|c| c == f.check) {
            continue;
        }
        for op in &f.fix.etcd {
            let list = match op {
                EtcdOp::Delete { .. } => &mut deletes,
                EtcdOp::Revoke { .. } => &mut revokes,
            };
            match list.iter_mut().find(|s| s.op == *op) {
                Some(s) if !s.checks.contains(&f.check) => s.checks.push(f.check),
                Some(_) => {}
                None => list.push(Step {
                    op: op.clone(),
                    checks: vec![f.check],
                    refused: None,
                }),
            }
        }
    }
    let deleted: HashSet<&str> = deletes
        .iter()
        .filter_map(|s| match &s.op {
            EtcdOp::Delete { key, .. } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    for s in &mut revokes {
        if let EtcdOp::Revoke { lease, keys } = &mut s.op {
            keys.retain(|k| !deleted.contains(k.as_str()));
            s.refused = revoke_refusal(report, *lease);
        }
    }
    deletes.extend(revokes);
    Plan { steps: deletes }
}

/// Revokes of the leases `ids` as inspected in `report`.
pub fn plan_revoke(report: &Report, ids: &[i64]) -> Result<Plan> {
    let mut steps = Vec::new();
    for &id in ids {
        let info = report.leases.iter().find(|l| l.id == id).ok_or_else(|| {
            Error::invalid(format!(
                "lease {id:016x} not found (check `revkeeper leases`)"
            ))
        })?;
        steps.push(Step {
            op: EtcdOp::Revoke {
                lease: id,
                keys: info.keys.clone(),
            },
            checks: info.findings.clone(),
            refused: revoke_refusal(report, id),
        });
    }
    Ok(Plan { steps })
}

fn revoke_refusal(report: &Report, id: i64) -> Option<String> {
    let info = report.leases.iter().find(|l| l.id == id)?;
    if info.findings.contains(&"lease-kept-alive") {
        return Some("a client keeps this lease alive: it is in use".into());
    }
    if info.class == LeaseClass::Foreign {
        return Some("foreign lease (not granted by kube-apiserver): find its owner; revkeeper never revokes these".into());
    }
    None
}

/// The dry run: one line per operation, exactly what `--apply` would send.
pub fn describe(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .map(|s| {
            let what = match &s.op {
                EtcdOp::Delete {
                    key,
                    mod_revision,
                    lease,
                } => format!(
                    "txn: if mod_revision({key}) == {mod_revision} and lease({key}) == {lease:016x} then delete {key}"
                ),
                EtcdOp::Revoke { lease, keys } => format!(
                    "lease revoke {lease:016x} (after re-checking it; {} attached keys go with it{})",
                    keys.len(),
                    if keys.len() > DRAIN_ABOVE {
                        ", drained in batches first"
                    } else {
                        ""
                    }
                ),
            };
            match &s.refused {
                Some(r) => format!("REFUSED {what}: {r}"),
                None => format!("{what}   [{}]", s.checks.join(",")),
            }
        })
        .collect()
}

/// Leases with more keys than this are drained in batches before the revoke.
pub(super) const DRAIN_ABOVE: usize = 1000;
