//! Leaked etcd leases and stale Kubernetes resources, found from etcd contents alone
//! (`docs/stale-and-leases.md`). Works the same on a live cluster and a snapshot.
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
//! `truth.json` are used for the classes it defines. This module only reads; remediation (the writes)
//! lives in `crate::remediate`.

pub mod clock;
mod detect;
pub mod facts;
pub mod index;
mod leases;

use serde::{Serialize, Serializer};

use crate::decode::batches;
use crate::source::{KeyRange, KeyView, RangeQuery, Source};
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
    /// Estimated from the data (see [`clock::estimate`]), also for a live cluster (e.g. one
    /// loaded from an old snapshot).
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
    /// expired-but-not-revoked (L1) leases (at least 1 s to judge L9); zero polls once. Classes:
    /// `docs/stale-and-leases.md#lease-leak-classes`.
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
    /// How `now` was decided, e.g. "renewTime of /registry/leases/kube-node-lease/n3, the latest
    /// of the 64 newest writes with a heartbeat, revisions 1200-1263", with the keys ignored as
    /// clock skew.
    pub now_basis: String,
    pub values: ValueStats,
    pub leases: Vec<LeaseInfo>,
    pub findings: Vec<Finding>,
}

fn lease_hex<S: Serializer>(id: &i64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&revkeeper_formats::etcd::lease::id_hex(*id))
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
    let mut index = index::InspectIndex::new(&opts.prefix);
    scan_into(source, keyring, opts, &mut index)?;
    index.finish();
    let first_poll = source.leases()?;
    let second_poll = if live && !opts.poll_interval.is_zero() {
        std::thread::sleep(opts.poll_interval);
        Some(source.leases()?)
    } else {
        None
    };
    let mut report = run_detectors(&index, &first_poll, second_poll.as_deref(), live, opts);
    report.source = overview.description;
    report.revision = overview.revision;
    Ok(report)
}

/// Streams every key into `index` (see [`scan_facts`]). Returns the number of keys scanned.
fn scan_into(
    source: &dyn Source,
    keyring: &Keyring,
    opts: &Options,
    index: &mut index::InspectIndex,
) -> Result<u64> {
    let query = RangeQuery::latest(KeyRange::prefix(""));
    let prefix = index.prefix.clone();
    let report = |n: u64| {
        if let Some(p) = &opts.progress {
            p(n);
        }
    };
    let mut scanned = 0u64;
    scan_facts(
        source,
        &query,
        &prefix,
        keyring,
        &|_| (),
        &mut |entry, ()| {
            index.push_decoded(entry);
            scanned += 1;
            if scanned % 10_000 == 0 {
                report(scanned);
            }
            Ok(())
        },
    )?;
    report(scanned);
    Ok(scanned)
}

/// Every key of `query` as the inspector's facts: values are decoded into entries on every core
/// by the one ordered batch pipeline ([`crate::decode::batches`]), with `also` of each record
/// computed beside them, and both handed to `take` in scan order.
pub fn scan_facts<T: Send>(
    source: &dyn Source,
    query: &RangeQuery,
    prefix: &str,
    keyring: &Keyring,
    also: &(dyn Fn(&KeyView<'_>) -> T + Sync),
    take: &mut dyn FnMut(Option<index::ObjectEntry>, T) -> Result<()>,
) -> Result<()> {
    let decode = |batch: &[KeyView<'_>]| -> Vec<(Option<index::ObjectEntry>, T)> {
        batch
            .iter()
            .map(|kv| {
                let entry = index::ObjectEntry::decode(
                    prefix,
                    kv.key,
                    kv.value,
                    kv.lease,
                    kv.mod_revision,
                    keyring,
                );
                (entry, also(kv))
            })
            .collect()
    };
    batches::for_each_in_order(
        source,
        query,
        batches::default_workers(),
        &|_| true,
        &decode,
        &mut |entries| {
            for (entry, extra) in entries {
                take(entry, extra)?;
            }
            Ok(())
        },
    )
}

/// Runs the detectors over a built index and the lease bucket (one or two polls).
pub fn run_detectors(
    index: &index::InspectIndex,
    leases: &[crate::source::LeaseRecord],
    second_poll: Option<&[crate::source::LeaseRecord]>,
    live: bool,
    opts: &Options,
) -> Report {
    let clock = clock::decide(index, live, opts.now, None);
    let now = clock.now;
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
    findings.extend(clock::skew_findings(index, &clock));
    findings.sort_by(|a, b| {
        (a.check, a.key.as_deref(), a.lease).cmp(&(b.check, b.key.as_deref(), b.lease))
    });
    Report {
        source: String::new(),
        revision: 0,
        now,
        now_estimated: clock.estimated,
        now_basis: clock.basis,
        values,
        leases: lease_infos,
        findings,
    }
}
