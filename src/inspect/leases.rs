//! etcd leases joined with their keys (`docs/stale-and-leases.md#etcd-leases`): who owns each
//! lease and the leak classes L1 and L3–L9 (`docs/stale-and-leases.md#lease-leak-classes`).
//! (L5/L6 are per key and live in `detect`.)

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::detect::{Ctx, finding};
use super::facts::KindFacts;
use super::{EtcdOp, Finding, Fix};
use crate::source::LeaseRecord;

/// kube-apiserver's lease reuse window (`--lease-reuse-duration-seconds`, default 60).
const REUSE: i64 = 60;
/// kube-apiserver's objects-per-lease limit.
const MAX_OBJECTS: usize = 1000;
/// Masterleases and peer server leases.
const ENDPOINT_TTL: i64 = 15;

/// Who a lease belongs to, judged from its keys (and its TTL when it has none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeaseClass {
    /// kube-apiserver's Event leases (`--event-ttl` + reuse window).
    KubernetesEvents,
    /// `/registry/masterleases/<ip>` (15 s).
    Masterleases,
    /// `/registry/peerserverleases/…` (15 s).
    Peerserverleases,
    /// Anything else: another etcd client or another cluster prefix.
    Foreign,
}

impl LeaseClass {
    pub fn label(self) -> &'static str {
        match self {
            LeaseClass::KubernetesEvents => "kubernetes-events",
            LeaseClass::Masterleases => "masterleases",
            LeaseClass::Peerserverleases => "peerserverleases",
            LeaseClass::Foreign => "foreign",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct LeaseInfo {
    #[serde(serialize_with = "super::lease_hex")]
    pub id: i64,
    /// Granted TTL in seconds.
    pub ttl: i64,
    /// Live only: seconds left (second poll when there were two).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_ttl: Option<i64>,
    pub class: LeaseClass,
    pub key_count: usize,
    /// Keys per resource prefix, e.g. `/registry/events/` → 74.
    pub prefixes: BTreeMap<String, usize>,
    /// The attached keys, sorted.
    pub keys: Vec<String>,
    /// Ids of the lease findings about it.
    pub findings: Vec<&'static str>,
}

fn resource_prefix(ctx: &Ctx, key: &str) -> String {
    match revkeeper_formats::k8s::key::ObjectKey::parse(key.as_bytes(), &ctx.index.prefix) {
        Some(k) => revkeeper_formats::k8s::key::key_prefix(&ctx.index.prefix, k.resource, None),
        None => revkeeper_formats::k8s::resources::OTHER_KEYS.into(),
    }
}

fn classify(ctx: &Ctx, ttl: i64, prefixes: &BTreeMap<String, usize>) -> LeaseClass {
    let p = &ctx.index.prefix;
    let only = |name: &str| {
        prefixes.len() == 1
            && prefixes.contains_key(&revkeeper_formats::k8s::key::key_prefix(p, name, None))
    };
    if only("events") {
        LeaseClass::KubernetesEvents
    } else if only("masterleases") {
        LeaseClass::Masterleases
    } else if only("peerserverleases") {
        LeaseClass::Peerserverleases
    } else if !prefixes.is_empty() {
        LeaseClass::Foreign
    } else if event_ttl_range(ctx).contains(&ttl) {
        LeaseClass::KubernetesEvents
    } else if ttl == ENDPOINT_TTL {
        LeaseClass::Masterleases
    } else {
        LeaseClass::Foreign
    }
}

/// TTLs kube-apiserver grants Event leases: ttl + min(5 % of ttl, reuse window).
fn event_ttl_range(ctx: &Ctx) -> std::ops::RangeInclusive<i64> {
    ctx.event_ttl..=ctx.event_ttl + REUSE.min(ctx.event_ttl / 20)
}

pub(super) fn analyze(
    ctx: &Ctx,
    leases: &[LeaseRecord],
    second_poll: Option<&[LeaseRecord]>,
    poll_interval: u64,
) -> (Vec<LeaseInfo>, Vec<Finding>) {
    let mut keys: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, e) in ctx.index.entries.iter().enumerate() {
        if e.lease != 0 {
            keys.entry(e.lease).or_default().push(i);
        }
    }
    let later: HashMap<i64, &LeaseRecord> = second_poll
        .unwrap_or_default()
        .iter()
        .map(|l| (l.id, l))
        .collect();
    let mut infos = Vec::new();
    let mut findings = Vec::new();
    let mut sorted: Vec<&LeaseRecord> = leases.iter().collect();
    sorted.sort_by_key(|l| l.id);
    for l in sorted {
        let attached = keys.get(&l.id).map(Vec::as_slice).unwrap_or_default();
        let mut prefixes = BTreeMap::new();
        for &i in attached {
            *prefixes
                .entry(resource_prefix(ctx, &ctx.index.entries[i].key))
                .or_insert(0) += 1;
        }
        let class = classify(ctx, l.ttl, &prefixes);
        let key_names: Vec<String> = attached
            .iter()
            .map(|&i| ctx.index.entries[i].key.to_string())
            .collect();
        let revoke = Fix {
            etcd: vec![EtcdOp::Revoke {
                lease: l.id,
                keys: key_names.clone(),
            }],
            ..Fix::default()
        };
        let mut mine = Vec::new();
        let mut push = |check: &'static str, evidence: String, fix: Fix| {
            let mut f = finding(check, None, evidence, fix);
            f.lease = Some(l.id);
            mine.push(f);
        };
        let r1 = l.remaining_ttl;
        let r2 = later.get(&l.id).and_then(|l2| l2.remaining_ttl);
        // Over the ≥ 1 s between polls an untouched lease loses at least a second.
        let kept_alive =
            matches!((r1, r2), (Some(a), Some(b)) if a > 0 && b >= a && poll_interval >= 1);
        if kept_alive {
            push(
                "lease-kept-alive",
                format!(
                    "remaining TTL {}s, then {}s {poll_interval}s later: a client keeps it alive (in use, not leaked)",
                    r1.unwrap_or(0),
                    r2.unwrap_or(0)
                ),
                Fix::default(),
            );
        }
        if let (Some(a), Some(b)) = (r1, r2)
            && a <= 0
            && b <= 0
        {
            push(
                "lease-expired-not-revoked",
                format!("remaining TTL {b}s in two polls: expired but not revoked (etcd#10686)"),
                revoke.clone(),
            );
        }
        let remaining = r2.or(r1);
        if attached.is_empty() && l.ttl > REUSE && !kept_alive {
            push(
                "lease-without-keys",
                format!("TTL {}s ({}), no live key attached", l.ttl, class.label()),
                revoke.clone(),
            );
        }
        let stale_events = attached
            .iter()
            .filter(|&&i| {
                matches!(ctx.index.entries[i].facts.kind,
                    KindFacts::Event { newest: Some(t) } if t < ctx.now - 2 * ctx.event_ttl)
            })
            .count();
        if stale_events > 0 {
            push(
                "lease-immortal",
                format!(
                    "{stale_events} of its {} Events are far older than --event-ttl={}s: the lease was renewed (leader elections) instead of expiring",
                    attached.len(),
                    ctx.event_ttl
                ),
                revoke.clone(),
            );
        }
        if attached.len() > MAX_OBJECTS {
            push(
                "lease-oversized",
                format!(
                    "{} keys (kube-apiserver puts at most {MAX_OBJECTS} on one lease)",
                    attached.len()
                ),
                Fix {
                    note: Some("revoke drains the keys in batches first".into()),
                    ..Fix::default()
                },
            );
        }
        let unexpected_ttl = match class {
            LeaseClass::KubernetesEvents => !event_ttl_range(ctx).contains(&l.ttl),
            LeaseClass::Masterleases | LeaseClass::Peerserverleases => l.ttl != ENDPOINT_TTL,
            LeaseClass::Foreign => true,
        };
        if unexpected_ttl {
            let outside = prefixes.get(revkeeper_formats::k8s::resources::OTHER_KEYS);
            let outside = outside.copied().unwrap_or(0);
            push(
                "lease-unexpected",
                format!(
                    "TTL {}s, {} keys ({outside} outside {}): not a lease kube-apiserver grants; never act on it automatically",
                    l.ttl,
                    attached.len(),
                    ctx.index.prefix
                ),
                Fix {
                    note: Some("find the client that owns it".into()),
                    ..Fix::default()
                },
            );
        }
        infos.push(LeaseInfo {
            id: l.id,
            ttl: l.ttl,
            remaining_ttl: remaining,
            class,
            key_count: attached.len(),
            prefixes,
            keys: key_names,
            findings: mine.iter().map(|f| f.check).collect(),
        });
        findings.extend(mine);
    }
    (infos, findings)
}
