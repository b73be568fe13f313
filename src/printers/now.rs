//! The time AGE, LAST SEEN and "(5m ago)" are measured from: the system clock for a live
//! cluster; for a snapshot, the inspector's estimate of when it was taken
//! ([`crate::inspect::clock`]), made from the heartbeats of leases and nodes only — a few keys
//! read, or (the TUI) the facts its one load already holds.

use revkeeper_formats::k8s::Keyring;
use revkeeper_formats::k8s::key::key_prefix;
use time::OffsetDateTime;

use crate::Result;
use crate::inspect::Now;
use crate::inspect::clock;
use crate::inspect::index::{InspectIndex, ObjectEntry};
use crate::source::{KeyRange, RangeQuery, Source};

/// The reference time, and for a snapshot how it was decided (stated once on stderr).
pub struct ReferenceTime {
    pub now: OffsetDateTime,
    pub estimated: Option<String>,
}

/// Where the heartbeats live below the etcd prefix.
const HEARTBEATS: [&str; 2] = ["leases", "minions"];

pub fn reference_time(
    source: &dyn Source,
    live: bool,
    revision: Option<i64>,
    prefix: &str,
    keyring: &Keyring,
) -> Result<ReferenceTime> {
    if live {
        return Ok(ReferenceTime {
            now: OffsetDateTime::now_utc(),
            estimated: None,
        });
    }
    let mut index = InspectIndex::new(prefix);
    for resource in HEARTBEATS {
        let query = RangeQuery {
            range: KeyRange::prefix(key_prefix(prefix, resource, None).into_bytes()),
            revision,
            keys_only: false,
        };
        source.scan(&query, &mut |kv| {
            let entry =
                ObjectEntry::decode(prefix, kv.key, kv.value, kv.lease, kv.mod_revision, keyring);
            index.push_decoded(entry);
            Ok(())
        })?;
    }
    index.finish();
    Ok(estimated(&index))
}

/// A snapshot's reference time from facts already read (the TUI's one load): the same estimate
/// as [`reference_time`], made among the same keys (leases and nodes) of `facts`.
pub fn estimated(facts: &InspectIndex) -> ReferenceTime {
    let prefixes = HEARTBEATS.map(|r| key_prefix(&facts.prefix, r, None));
    let keep = |e: &ObjectEntry| prefixes.iter().any(|p| e.key.starts_with(p.as_str()));
    let among = clock::Among {
        label: "leases and nodes",
        keep: &keep,
    };
    let decided = clock::decide(facts, false, Now::Auto, Some(&among));
    let now = OffsetDateTime::from_unix_timestamp(decided.now)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    ReferenceTime {
        now,
        estimated: Some(format!(
            "ages are relative to the snapshot's estimated time {} ({})",
            crate::timefmt::rfc3339(now),
            decided.basis
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TUI's estimate from the facts of every key equals `get`'s from the heartbeats it
    /// scans for, basis included.
    #[test]
    fn the_estimate_from_loaded_facts_is_the_one_get_makes() {
        let Some(db) = revkeeper_harness::require_fixture("cluster-dev/cluster.db") else {
            return;
        };
        let keyring = Keyring::load(&db.with_file_name("encryption-config.yaml")).unwrap();
        let snapshot = crate::source::SnapshotSource::open(&db).unwrap();
        let prefix = "/registry";
        let mut all = InspectIndex::new(prefix);
        let everything = RangeQuery::latest(KeyRange::prefix(Vec::new()));
        (snapshot.scan(&everything, &mut |kv| {
            all.add(kv.key, kv.value, kv.lease, kv.mod_revision, &keyring);
            Ok(())
        }))
        .unwrap();
        all.finish();
        let scanned = reference_time(&snapshot, false, None, prefix, &keyring).unwrap();
        let loaded = estimated(&all);
        assert_eq!(loaded.now, scanned.now);
        assert_eq!(loaded.estimated, scanned.estimated);
        let basis = scanned.estimated.unwrap();
        assert!(basis.contains("among leases and nodes"), "{basis}");
    }
}
