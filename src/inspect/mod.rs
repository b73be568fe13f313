//! Leaked etcd leases and stale Kubernetes resources, found from etcd contents alone (spec:
//! `../shared/specs/leaks-and-stale.md`). Works the same on a live cluster and a snapshot.
//!
//! [`inspect`] makes one streaming pass over every key (decoding each value and keeping only
//! compact facts, see [`facts`]), reads the etcd leases, then runs the detectors over the index:
//!
//! ```no_run
//! # fn demo(source: &dyn revkeeper::source::Source) -> revkeeper::Result<()> {
//! use revkeeper::inspect::{inspect, Options};
//! let keyring = revkeeper_formats::k8s::Keyring::default();
//! let report = inspect(source, &keyring, &Options::default())?;
//! for f in &report.findings {
//!     println!("{} {} {}", f.check, f.key.as_deref().unwrap_or("-"), f.evidence);
//! }
//! # Ok(()) }
//! ```
//!
//! Check ids are stable (scripts and alerts use them); the ones of the reference fixture's
//! `truth.json` are used for the classes it defines. Remediation lives in [`remediate`].

mod detect;
pub mod facts;
pub mod index;
mod leases;
pub mod remediate;

use serde::{Serialize, Serializer};

use crate::source::{KeyRange, RangeQuery, Source};
use crate::{Error, Result};
use revkeeper_formats::k8s::Keyring;

pub use detect::CHECKS;
pub use leases::{LeaseClass, LeaseInfo};

/// How "now" is decided; every age-based rule depends on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Now {
    /// Live clusters: the system clock. Snapshots: estimated from the data.
    #[default]
    Auto,
    /// Estimated from the newest heartbeats in the data (node-lease renewTime, Node heartbeats),
    /// also for a live cluster (e.g. one loaded from an old snapshot).
    Estimate,
    /// This instant (unix seconds).
    At(i64),
}

/// What to inspect and how.
pub struct Options {
    /// kube-apiserver's `--etcd-prefix`.
    pub prefix: String,
    /// kube-apiserver's `--event-ttl` in seconds (event leases get this plus up to 60 s).
    pub event_ttl: i64,
    pub now: Now,
    /// Live clusters: time between the two lease polls that reveal kept-alive (L9) and
    /// expired-but-not-revoked (L1) leases (at least 1 s to judge L9); zero polls once.
    pub poll_interval: std::time::Duration,
    /// Called with the number of keys scanned so far (every 10 000 keys and at the end).
    pub progress: Option<Box<dyn Fn(u64) + Send + Sync>>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            prefix: revkeeper_formats::k8s::key::DEFAULT_PREFIX.to_string(),
            event_ttl: 3600,
            now: Now::Auto,
            poll_interval: std::time::Duration::from_millis(1500),
            progress: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// One change remediation can make in etcd, guarded by what was inspected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum EtcdOp {
    /// Delete `key` if its mod_revision and lease are still these.
    Delete {
        key: String,
        mod_revision: i64,
        #[serde(serialize_with = "lease_hex")]
        lease: i64,
    },
    /// Revoke the lease (after re-checking it; its `keys` attached keys go with it).
    Revoke {
        #[serde(serialize_with = "lease_hex")]
        lease: i64,
        keys: Vec<String>,
    },
}

/// How to fix a finding: the kubectl command when the API can do it, the etcd operations
/// `revkeeper stale fix` / `leases revoke` would run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Fix {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubectl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub etcd: Vec<EtcdOp>,
    /// Why no etcd operation is offered, or what to watch out for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The detector's id (see [`CHECKS`]).
    pub check: &'static str,
    pub severity: Severity,
    /// The etcd key the finding is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The etcd lease it is about (printed as `%016x`, as etcdctl does).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_lease_hex"
    )]
    pub lease: Option<i64>,
    /// Other keys involved (e.g. every revision Secret of a Helm release).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    pub evidence: String,
    /// How old the problem is, in seconds, when it has an age.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<i64>,
    pub fix: Fix,
}

/// Counts of how values were read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ValueStats {
    pub keys: u64,
    pub decoded: u64,
    /// Encrypted and not decryptable with the keys given: detectors used the keys only.
    pub encrypted: u64,
    pub undecodable: u64,
    /// The first few undecodable keys with the reason (never value bytes).
    pub undecodable_examples: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// "snapshot FILE" or "cluster via ENDPOINT".
    pub source: String,
    pub revision: i64,
    /// Unix seconds used as "now".
    pub now: i64,
    /// True when `now` was estimated from timestamps in the data (snapshots).
    pub now_estimated: bool,
    /// Where the estimate came from, e.g. "newest heartbeat: /registry/leases/kube-node-lease/n1".
    pub now_basis: String,
    pub values: ValueStats,
    pub leases: Vec<LeaseInfo>,
    pub findings: Vec<Finding>,
}

fn lease_hex<S: Serializer>(id: &i64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{id:016x}"))
}

fn opt_lease_hex<S: Serializer>(id: &Option<i64>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match id {
        Some(id) => lease_hex(id, s),
        None => s.serialize_none(),
    }
}

/// Parses a lease id as etcdctl prints it (hex) or as a decimal number.
pub fn parse_lease_id(text: &str) -> Result<i64> {
    let t = text.trim();
    let hex = t.strip_prefix("0x").unwrap_or(t);
    u64::from_str_radix(hex, 16).map(|v| v as i64).map_err(|_| {
        Error::invalid(format!(
            "lease id {text:?} is not a hex number (etcdctl prints leases as %016x)"
        ))
    })
}

/// Scans `source` and runs every detector.
pub fn inspect(source: &dyn Source, keyring: &Keyring, opts: &Options) -> Result<Report> {
    let overview = source.overview()?;
    let live = !overview.description.starts_with("snapshot");
    let mut index = index::Index::new(&opts.prefix);
    let mut stats = ValueStats::default();
    let query = RangeQuery::latest(KeyRange::prefix(""));
    source.scan(&query, &mut |kv| {
        index.add(kv.key, kv.value, kv.lease, kv.mod_revision, keyring);
        stats.keys += 1;
        if let Some(p) = &opts.progress
            && stats.keys % 10_000 == 0
        {
            p(stats.keys);
        }
        Ok(())
    })?;
    if let Some(p) = &opts.progress {
        p(stats.keys);
    }
    index.finish();
    let first_poll = source.leases()?;
    let second_poll = if live && !opts.poll_interval.is_zero() {
        std::thread::sleep(opts.poll_interval);
        Some(source.leases()?)
    } else {
        None
    };
    let mut report = analyze(&index, &first_poll, second_poll.as_deref(), live, opts);
    report.source = overview.description;
    report.revision = overview.revision;
    Ok(report)
}

/// Runs the detectors over a built index and the lease bucket (one or two polls).
pub fn analyze(
    index: &index::Index,
    leases: &[crate::source::LeaseRecord],
    second_poll: Option<&[crate::source::LeaseRecord]>,
    live: bool,
    opts: &Options,
) -> Report {
    let (now, now_estimated, now_basis) = decide_now(index, live, opts.now);
    let mut values = ValueStats::default();
    for e in &index.entries {
        values.keys += 1;
        match &e.state {
            facts::ValueState::Object => values.decoded += 1,
            facts::ValueState::Encrypted { .. } => values.encrypted += 1,
            facts::ValueState::Undecodable { error } => {
                values.undecodable += 1;
                if values.undecodable_examples.len() < 5 {
                    values
                        .undecodable_examples
                        .push(format!("{}: {error}", e.key));
                }
            }
            facts::ValueState::NotObject => {}
        }
    }
    let ctx = detect::Ctx {
        index,
        now,
        event_ttl: opts.event_ttl,
    };
    let (lease_infos, mut findings) =
        leases::analyze(&ctx, leases, second_poll, opts.poll_interval.as_secs());
    findings.extend(detect::run(&ctx, leases));
    findings.sort_by(|a, b| {
        (a.check, a.key.as_deref(), a.lease).cmp(&(b.check, b.key.as_deref(), b.lease))
    });
    Report {
        source: String::new(),
        revision: 0,
        now,
        now_estimated,
        now_basis,
        values,
        leases: lease_infos,
        findings,
    }
}

fn decide_now(index: &index::Index, live: bool, now: Now) -> (i64, bool, String) {
    let clock = time::OffsetDateTime::now_utc().unix_timestamp();
    match now {
        Now::At(t) => return (t, false, "given".into()),
        Now::Auto if live => return (clock, false, "system clock".into()),
        _ => {}
    }
    let newest = |f: &dyn Fn(&index::Entry) -> Option<i64>| {
        index
            .entries
            .iter()
            .filter_map(|e| f(e).map(|t| (t, &e.key)))
            .max()
    };
    if let Some((t, key)) = newest(&|e| e.facts.heartbeat) {
        return (t, true, format!("newest heartbeat in the data ({key})"));
    }
    if let Some((t, key)) = newest(&|e| e.facts.created) {
        return (
            t,
            true,
            format!("newest creationTimestamp in the data ({key})"),
        );
    }
    (
        clock,
        true,
        "no timestamps in the data: system clock".into(),
    )
}
