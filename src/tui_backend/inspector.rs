//! The Leases and Stale views' data from the inspector (`crate::inspect`), and deletes through
//! `crate::remediate::apply_live`, the path `stale fix --apply` takes (txn guarded by
//! mod_revision and lease, same audit log).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use revkeeper_formats::k8s::Keyring;
use revkeeper_ui::{DeleteTarget, Finding, Findings, LeaseReport, LeaseRow, Severity};

use crate::connect::ConnectConfig;
use crate::inspect::{self, EtcdOp, Options, Report};
use crate::remediate::{self, ApplyOptions, Plan, Step};
use crate::source::Source;
use crate::{Error, Result};

/// A live cluster's report is reused this long (the Leases and Stale views ask together).
const LIVE_REPORT_AGE: Duration = Duration::from_secs(10);

/// Runs the inspector once per source (a snapshot) or every few seconds (a live cluster).
pub struct Inspector {
    prefix: String,
    live: bool,
    report: Mutex<Option<(Arc<Report>, Instant)>>,
}

impl Inspector {
    pub fn new(prefix: &str, live: bool) -> Inspector {
        Inspector {
            prefix: prefix.to_string(),
            live,
            report: Mutex::new(None),
        }
    }

    /// The report, from the cache when it is fresh enough. The lock is held while inspecting,
    /// so the Leases and Stale views share one scan.
    fn report(&self, source: &dyn Source, keyring: &Keyring) -> Result<Arc<Report>> {
        let mut cached = self.report.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((r, at)) = cached.as_ref() {
            if !self.live || at.elapsed() < LIVE_REPORT_AGE {
                return Ok(r.clone());
            }
        }
        let opts = Options {
            prefix: self.prefix.clone(),
            ..Options::default()
        };
        let report = Arc::new(inspect::inspect(source, keyring, &opts)?);
        *cached = Some((report.clone(), Instant::now()));
        Ok(report)
    }

    /// The last report, if one was made.
    pub fn cached(&self) -> Option<Arc<Report>> {
        let cached = self.report.lock().unwrap_or_else(|p| p.into_inner());
        cached.as_ref().map(|(r, _)| r.clone())
    }

    /// Drops the cached report (after a change).
    pub fn forget(&self) {
        *self.report.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub fn findings(&self, source: &dyn Source, keyring: &Keyring) -> Result<Findings> {
        let report = self.report(source, keyring)?;
        let note = (report.values.encrypted > 0).then(|| {
            format!(
                "{} encrypted values were judged by their keys only (give --encryption-config)",
                report.values.encrypted
            )
        });
        Ok(Findings {
            items: report.findings.iter().map(finding).collect(),
            note,
        })
    }

    pub fn leases(&self, source: &dyn Source, keyring: &Keyring) -> Result<LeaseReport> {
        let report = self.report(source, keyring)?;
        Ok(LeaseReport {
            leases: report
                .leases
                .iter()
                .map(|l| LeaseRow {
                    id: l.id,
                    ttl: l.ttl,
                    remaining_ttl: l.remaining_ttl,
                    class: l.class.label().to_string(),
                    keys: l.keys.clone(),
                    findings: l.findings.iter().map(|c| c.to_string()).collect(),
                })
                .collect(),
            note: None,
        })
    }
}

fn finding(f: &inspect::Finding) -> Finding {
    let mut fix = Vec::new();
    if let Some(k) = &f.fix.kubectl {
        fix.push(format!("kubectl: {k}"));
    }
    let plan = Plan {
        steps: f
            .fix
            .etcd
            .iter()
            .map(|op| Step {
                op: op.clone(),
                checks: vec![f.check],
                refused: None,
            })
            .collect(),
    };
    fix.extend(remediate::describe(&plan));
    if let Some(n) = &f.fix.note {
        fix.push(n.clone());
    }
    Finding {
        check: f.check.to_string(),
        severity: match f.severity {
            inspect::Severity::Info => Severity::Info,
            inspect::Severity::Warning => Severity::Warning,
            inspect::Severity::Critical => Severity::Critical,
        },
        key: f.key.clone().unwrap_or_default(),
        lease: f.lease.unwrap_or(0),
        evidence: f.evidence.clone(),
        fix: fix.join("\n"),
    }
}

/// Where deletes go on a live cluster, and where they are recorded.
pub struct Writer {
    pub config: ConnectConfig,
    pub audit_log: PathBuf,
}

impl Writer {
    /// Deletes `t.key` in a txn that compares its mod_revision and lease first; the audit log
    /// gets the intent and the result.
    pub fn delete(&self, t: &DeleteTarget) -> Result<String> {
        let plan = Plan {
            steps: vec![Step {
                op: EtcdOp::Delete {
                    key: t.key.clone(),
                    mod_revision: t.mod_revision,
                    lease: t.lease,
                },
                checks: vec!["tui"],
                refused: None,
            }],
        };
        let runtime = crate::connect::runtime()?;
        let opts = ApplyOptions {
            audit_log: Some(self.audit_log.clone()),
            ..ApplyOptions::default()
        };
        let outcomes = remediate::apply_live(&runtime, &self.config, &plan, opts)?;
        let o = outcomes
            .first()
            .ok_or_else(|| Error::general("the delete was not attempted"))?;
        if o.ok() {
            Ok(format!("{} {}: {}", o.result, t.key, o.message))
        } else {
            Err(Error::general(format!(
                "{} {}: {}",
                o.result, t.key, o.message
            )))
        }
    }
}
