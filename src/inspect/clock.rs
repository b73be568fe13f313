//! "Now" for a snapshot, estimated from the data, and the `clock-skew` finding: timestamps
//! written by a clock running ahead are reported, never taken as the snapshot's time.

use std::cmp::Reverse;
use std::collections::HashSet;

use super::detect::{finding, rfc3339};
use super::index::{InspectIndex, ObjectEntry};
use super::{Finding, Fix, Now};

/// How far a timestamp may run ahead before it counts as clock skew (seconds).
pub const SKEW: i64 = 300;
/// How many of the newest writes the estimate looks at.
const WINDOW: usize = 64;

/// A timestamp that records when an object was written, with the revision of that write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp<'a> {
    pub revision: i64,
    pub time: i64,
    pub key: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Estimate<'a> {
    pub now: i64,
    /// The stamp `now` was taken from (the latest kept one).
    pub source: Stamp<'a>,
    /// How many stamps were looked at, and their lowest and highest revision.
    pub window: usize,
    pub revisions: (i64, i64),
    /// Stamps of the window ignored as clock skew, by revision.
    pub ignored: Vec<Stamp<'a>>,
}

/// Estimates when a snapshot was taken from the stamps of its newest writes.
///
/// The rule: take the [`WINDOW`] stamps written at the highest revisions (the objects changed
/// last). Revision order says they were written at about the same time, so a stamp more than
/// [`SKEW`] later than their median comes from a clock running ahead and is ignored; "now" is
/// the latest of the others. Up to half the window may be skewed. Older writes do not take part:
/// their stamps are earlier, or skewed (then [`skew_findings`] reports them). `None` without
/// stamps.
pub fn estimate(mut stamps: Vec<Stamp<'_>>) -> Option<Estimate<'_>> {
    if stamps.len() > WINDOW {
        stamps.select_nth_unstable_by_key(WINDOW - 1, |s| Reverse(s.revision));
        stamps.truncate(WINDOW);
    }
    stamps.sort_unstable_by_key(|s| (s.revision, s.key));
    let mut times: Vec<i64> = stamps.iter().map(|s| s.time).collect();
    times.sort_unstable();
    let median = *times.get(times.len().checked_sub(1)? / 2)?;
    let limit = median.saturating_add(SKEW);
    let (kept, ignored): (Vec<Stamp>, Vec<Stamp>) = stamps.iter().partition(|s| s.time <= limit);
    let source = *kept.iter().max_by_key(|s| (s.time, s.revision))?;
    Some(Estimate {
        now: source.time,
        source,
        window: stamps.len(),
        revisions: (stamps[0].revision, stamps[stamps.len() - 1].revision),
        ignored,
    })
}

/// The objects an estimate is made among, when not all of the index's.
pub struct Among<'a> {
    /// What they are, for the basis (`"leases and nodes"`).
    pub label: &'a str,
    pub keep: &'a dyn Fn(&ObjectEntry) -> bool,
}

/// Which timestamp of an entry is its stamp.
type StampOf = fn(&ObjectEntry) -> Option<i64>;

/// "Now" as decided for a report.
pub struct Clock {
    pub now: i64,
    pub estimated: bool,
    /// How `now` was decided, for the output.
    pub basis: String,
    /// Keys whose stamps the estimate ignored as clock skew.
    ignored: HashSet<Box<str>>,
    /// False when the user gave the time: then nothing is judged as skew against it.
    judges_skew: bool,
}

/// Decides "now": the given time, the system clock for a live cluster (`Now::Auto`), otherwise
/// the [`estimate`] from heartbeats (Lease renewTime, Node and Event heartbeats), or from
/// creationTimestamps when there are none. `among` takes only some of the index's objects
/// (`"leases and nodes"`), named in the basis.
pub fn decide(index: &InspectIndex, live: bool, now: Now, among: Option<&Among<'_>>) -> Clock {
    let clock = time::OffsetDateTime::now_utc().unix_timestamp();
    let plain = |now, estimated, basis: &str, judges_skew| Clock {
        now,
        estimated,
        basis: basis.into(),
        ignored: HashSet::new(),
        judges_skew,
    };
    match now {
        Now::At(t) => return plain(t, false, "given", false),
        Now::Auto if live => return plain(clock, false, "system clock", true),
        _ => {}
    }
    let sources: [(bool, StampOf); 2] =
        [(true, |e| e.facts.heartbeat), (false, |e| e.facts.created)];
    for (heartbeat, stamp) in sources {
        let stamps = index
            .entries
            .iter()
            .filter(|e| among.is_none_or(|a| (a.keep)(e)))
            .filter_map(|e| {
                stamp(e).map(|time| Stamp {
                    revision: e.mod_revision,
                    time,
                    key: &e.key,
                })
            })
            .collect();
        if let Some(est) = estimate(stamps) {
            return Clock {
                now: est.now,
                estimated: true,
                basis: basis(index, heartbeat, &est, among.map(|a| a.label)),
                ignored: est.ignored.iter().map(|s| s.key.into()).collect(),
                judges_skew: true,
            };
        }
    }
    plain(clock, true, "no timestamps in the data: system clock", true)
}

/// Names the timestamp `now` came from and the writes it was chosen among, e.g. "renewTime of
/// /registry/leases/kube-node-lease/n3, the latest of the 64 newest writes with a heartbeat,
/// revisions 3473-3688".
fn basis(index: &InspectIndex, heartbeat: bool, est: &Estimate, among: Option<&str>) -> String {
    let (low, high) = est.revisions;
    let (field, what) = match heartbeat {
        true => (stamp_field(index, est.source.key), "a heartbeat"),
        false => ("creationTimestamp", "a creationTimestamp"),
    };
    let among = among.map(|a| format!(" among {a}")).unwrap_or_default();
    let mut out = format!(
        "{field} of {}, the latest of the {} newest writes with {what}{among}, revisions {low}-{high}",
        est.source.key, est.window
    );
    if let Some(first) = est.ignored.first() {
        let n = est.ignored.len();
        out.push_str(&format!("; {n} ignored as clock skew: {}", first.key));
        if n > 1 {
            out.push_str(&format!(" and {} more", n - 1));
        }
    }
    out
}

/// One `clock-skew` finding per object with a heartbeat or creationTimestamp more than
/// [`SKEW`] after "now", or whose heartbeat the estimate ignored.
pub fn skew_findings(index: &InspectIndex, clock: &Clock) -> Vec<Finding> {
    if !clock.judges_skew {
        return Vec::new();
    }
    let limit = clock.now.saturating_add(SKEW);
    let how = if clock.estimated {
        "the estimated now"
    } else {
        "now"
    };
    let mut out = Vec::new();
    for e in &index.entries {
        let ahead = [(e.facts.heartbeat, true), (e.facts.created, false)]
            .into_iter()
            .filter_map(|(t, heartbeat)| Some((t?, heartbeat)))
            .max();
        let Some((t, heartbeat)) = ahead.filter(|(t, _)| *t > clock.now) else {
            continue;
        };
        if t <= limit && !clock.ignored.contains(&e.key) {
            continue;
        }
        let field = if heartbeat {
            heartbeat_field(index, e)
        } else {
            "creationTimestamp"
        };
        out.push(finding(
            "clock-skew",
            Some(&e.key),
            format!(
                "{field} {} is {} after {how} ({}): written by a clock running ahead",
                rfc3339(t),
                crate::printers::time::human_duration(t - clock.now),
                rfc3339(clock.now)
            ),
            Fix {
                note: Some(
                    "fix the writer's clock (NTP); ages taken from this timestamp are wrong until it is rewritten"
                        .into(),
                ),
                ..Fix::default()
            },
        ));
    }
    out
}

fn heartbeat_field(index: &InspectIndex, e: &ObjectEntry) -> &'static str {
    stamp_field(index, &e.key)
}

/// The field a heartbeat is read from, by the key's resource.
fn stamp_field(index: &InspectIndex, key: &str) -> &'static str {
    match revkeeper_formats::k8s::key::ObjectKey::parse(key.as_bytes(), &index.prefix)
        .map(|k| k.resource)
    {
        Some("leases") => "renewTime",
        Some("minions") => "lastHeartbeatTime",
        Some("events") => "lastTimestamp",
        _ => "heartbeat",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_790_000_000;

    fn stamps(times: &[i64]) -> Vec<Stamp<'static>> {
        times
            .iter()
            .enumerate()
            .map(|(i, &time)| Stamp {
                revision: 100 + i as i64,
                time,
                key: KEYS[i % KEYS.len()],
            })
            .collect()
    }

    const KEYS: &[&str] = &[
        "/k/0", "/k/1", "/k/2", "/k/3", "/k/4", "/k/5", "/k/6", "/k/7",
    ];

    #[test]
    fn several_skewed_stamps_are_ignored_and_named() {
        // Writes a few seconds apart in revision order; three clocks days ahead among them.
        let day = 86_400;
        let times = [
            T,
            T + 1,
            T + 4 * day,
            T + 2,
            T + 3,
            T + 3 * day,
            T + 5,
            T + 90 * day,
        ];
        let est = estimate(stamps(&times)).unwrap();
        assert_eq!(est.now, T + 5);
        assert_eq!(est.source.key, "/k/6");
        assert_eq!(est.window, 8);
        assert_eq!(est.revisions, (100, 107));
        let ignored: Vec<&str> = est.ignored.iter().map(|s| s.key).collect();
        assert_eq!(ignored, ["/k/2", "/k/5", "/k/7"]);
    }

    #[test]
    fn only_the_newest_writes_count_and_old_stamps_do_not_pull_now_back() {
        // 200 writes; a skewed clock at an old revision, stale stamps at the newest ones.
        let mut times: Vec<i64> = (0..200).map(|i| T + i).collect();
        times[10] = T + 30 * 86_400;
        times[199] = T - 86_400;
        let est = estimate(stamps(&times)).unwrap();
        assert_eq!(est.now, T + 198);
        assert_eq!(est.window, WINDOW);
        assert_eq!(est.revisions, (100 + 200 - WINDOW as i64, 299));
        assert!(est.ignored.is_empty());
    }

    #[test]
    fn no_stamps_no_estimate() {
        assert_eq!(estimate(Vec::new()), None);
    }

    fn index(objects: &[(&str, serde_json::Value)]) -> InspectIndex {
        let mut index = InspectIndex::new("/registry");
        for (i, (key, object)) in objects.iter().enumerate() {
            index.add_decoded(
                key,
                100,
                0,
                10 + i as i64,
                super::super::facts::ValueState::Object,
                Some(object),
            );
        }
        index.finish();
        index
    }

    #[test]
    fn an_empty_cluster_and_one_without_timestamps_fall_back_to_the_system_clock() {
        let before = time::OffsetDateTime::now_utc().unix_timestamp();
        let no_times = index(&[(
            "/registry/configmaps/default/a",
            serde_json::json!({"metadata": {"name": "a", "namespace": "default"}}),
        )]);
        for index in [InspectIndex::new("/registry"), no_times] {
            let clock = decide(&index, false, Now::Auto, None);
            assert!(clock.now >= before);
            assert!(clock.estimated);
            assert_eq!(clock.basis, "no timestamps in the data: system clock");
            assert!(skew_findings(&index, &clock).is_empty());
        }
    }

    #[test]
    fn a_skewed_lease_is_a_finding_not_now() {
        let lease = |name: &str, renew: &str| {
            (
                format!("/registry/leases/kube-node-lease/{name}"),
                serde_json::json!({"metadata": {"name": name, "namespace": "kube-node-lease"},
                    "spec": {"holderIdentity": name, "renewTime": renew}}),
            )
        };
        let objects = [
            lease("a", "2026-11-20T23:31:50Z"),
            lease("b", "2026-11-24T16:00:00Z"),
            lease("c", "2026-11-20T23:31:52Z"),
        ];
        let objects: Vec<(&str, serde_json::Value)> = objects
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        let index = index(&objects);
        let clock = decide(&index, false, Now::Auto, None);
        assert_eq!(rfc3339(clock.now), "2026-11-20T23:31:52Z");
        assert_eq!(
            clock.basis,
            "renewTime of /registry/leases/kube-node-lease/c, the latest of the 3 newest writes with a heartbeat, revisions 10-12; 1 ignored as clock skew: /registry/leases/kube-node-lease/b"
        );
        let found = skew_findings(&index, &clock);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].key.as_deref(),
            Some("/registry/leases/kube-node-lease/b")
        );
        assert!(
            found[0]
                .evidence
                .starts_with("renewTime 2026-11-24T16:00:00Z is 3d16h after the estimated now")
        );
        assert!(skew_findings(&index, &decide(&index, false, Now::At(clock.now), None)).is_empty());
    }
}
