//! The time AGE, LAST SEEN and "(5m ago)" are measured from: the system clock for a live
//! cluster; for a snapshot, the inspector's estimate of when it was taken
//! ([`crate::inspect::clock`]), made from the heartbeats of leases and nodes only — a few keys
//! read, so a listing costs no second pass over the snapshot.

use revkeeper_formats::k8s::Keyring;
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
            range: KeyRange::prefix(format!("{prefix}/{resource}/").into_bytes()),
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
    let decided = clock::decide(&index, false, Now::Auto, Some("leases and nodes"));
    let now = OffsetDateTime::from_unix_timestamp(decided.now)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    Ok(ReferenceTime {
        now,
        estimated: Some(format!(
            "ages are relative to the snapshot's estimated time {} ({})",
            crate::timefmt::rfc3339(now),
            decided.basis
        )),
    })
}
