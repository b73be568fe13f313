//! The Leases and Stale views' data: the inspector's detectors (`crate::inspect`) run over the
//! facts the tracker keeps current, and deletes through `crate::remediate::apply_live`, the path
//! `stale fix --apply` takes (txn guarded by mod_revision and lease, same audit log).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use revkeeper_ui::{DeleteTarget, Finding, Findings, LeaseReport, LeaseRow, Severity};

use super::tracker::Tracker;
use crate::connect::ConnectConfig;
use crate::inspect::{self, EtcdOp, Options, Report};
use crate::remediate::{self, ApplyOptions, Plan, Step};
use crate::source::LeaseRecord;
use crate::{Error, Result};

/// A live cluster's report is reused this long when nothing changed (the Leases and Stale
/// views ask together).
const LIVE_REPORT_AGE: Duration = Duration::from_secs(10);
/// A live cluster's lease table costs a LeaseLeases and a LeaseTimeToLive per lease, twice (to
/// tell kept-alive leases): it is read again only after this long, or when the watch brought a
/// lease it does not hold.
const LEASE_TABLE_AGE: Duration = Duration::from_secs(60);

/// The findings of the tracked data, made again only when it changed.
pub struct Inspector {
    prefix: String,
    live: bool,
    report: Mutex<Option<Made>>,
    leases: Mutex<Option<Arc<LeaseTable>>>,
}

struct Made {
    report: Arc<Report>,
    generation: u64,
    at: Instant,
}

/// The etcd leases, polled once (a snapshot) or twice a poll interval apart (a live cluster).
struct LeaseTable {
    first: Vec<LeaseRecord>,
    second: Option<Vec<LeaseRecord>>,
    read_at: Instant,
}

impl LeaseTable {
    fn fresh(&self, live: bool) -> bool {
        !live || self.read_at.elapsed() < LEASE_TABLE_AGE
    }

    fn holds(&self, id: i64) -> bool {
        self.first.iter().any(|l| l.id == id)
    }
}

impl Inspector {
    pub fn new(prefix: &str, live: bool) -> Inspector {
        Inspector {
            prefix: prefix.to_string(),
            live,
            report: Mutex::new(None),
            leases: Mutex::new(None),
        }
    }

    /// The report, made again when the data changed or its lease table is old. The lock is
    /// held while inspecting, so the Leases and Stale views share one run.
    fn report(&self, tracker: &Arc<Tracker>) -> Result<Arc<Report>> {
        let mut made = self.report.lock().unwrap_or_else(|p| p.into_inner());
        let generation = tracker.with_loaded(&|_| {}, |l| l.generation)?;
        let table = self.lease_table(tracker)?;
        if let Some(m) = made.as_ref() {
            let unchanged = m.generation == generation && table.read_at <= m.at;
            if !self.live || (unchanged && m.at.elapsed() < LIVE_REPORT_AGE) {
                return Ok(m.report.clone());
            }
        }
        let opts = Options {
            prefix: self.prefix.clone(),
            ..Options::default()
        };
        super::phases::mark("lease-table");
        let (report, generation) = tracker.with_loaded(&|_| {}, |l| {
            let mut report = inspect::run_detectors(
                l.facts(),
                &table.first,
                table.second.as_deref(),
                self.live,
                &opts,
            );
            report.source = l.description.clone();
            report.revision = l.revision;
            super::phases::mark("detectors-done");
            (Arc::new(report), l.generation)
        })?;
        *made = Some(Made {
            report: report.clone(),
            generation,
            at: Instant::now(),
        });
        Ok(report)
    }

    /// The lease table, read again when it is old or misses a lease the watch brought.
    fn lease_table(&self, tracker: &Arc<Tracker>) -> Result<Arc<LeaseTable>> {
        let mut table = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        let seen = tracker.with_loaded(&|_| {}, |l| std::mem::take(&mut l.leases_seen))?;
        if let Some(t) = table.as_ref() {
            if t.fresh(self.live) && seen.iter().all(|&id| t.holds(id)) {
                return Ok(t.clone());
            }
        }
        let source = tracker.source();
        let first = source.leases()?;
        let poll = Options::default().poll_interval;
        let second = if self.live && !poll.is_zero() {
            std::thread::sleep(poll);
            Some(source.leases()?)
        } else {
            None
        };
        let read = Arc::new(LeaseTable {
            first,
            second,
            read_at: Instant::now(),
        });
        *table = Some(read.clone());
        Ok(read)
    }

    /// How many etcd leases there are: from the lease table the findings read last (the
    /// keyspace counts are asked at every change and never read it again themselves).
    pub fn lease_count(&self, tracker: &Arc<Tracker>) -> Result<u64> {
        let table = self
            .leases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let table = match table {
            Some(t) => t,
            None => self.lease_table(tracker)?,
        };
        Ok(table.first.len() as u64)
    }

    /// The last report, if one was made.
    pub fn cached(&self) -> Option<Arc<Report>> {
        let made = self.report.lock().unwrap_or_else(|p| p.into_inner());
        made.as_ref().map(|m| m.report.clone())
    }

    pub fn findings(&self, tracker: &Arc<Tracker>) -> Result<Findings> {
        let report = self.report(tracker)?;
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

    pub fn leases(&self, tracker: &Arc<Tracker>) -> Result<LeaseReport> {
        let report = self.report(tracker)?;
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
