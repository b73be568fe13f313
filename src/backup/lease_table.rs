//! The lease table `backup run` records in each delta segment (`docs/format-delta.md#leases`),
//! read at little cost to etcd: the list of lease ids (one request) at every segment, and a
//! lease's TimeToLive only when its id is new. A granted TTL never changes for a lease id, and
//! the id set is all a point-in-time restore takes from a table besides it. Every
//! `RECHECK_EVERY` every lease is read again (its remaining TTL, and an id a client revoked and
//! granted again with another TTL).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use revkeeper_formats::delta::LeaseRecord;

use crate::Result;
use crate::source::LiveSource;

const RECHECK_EVERY: Duration = Duration::from_secs(600);

pub struct LeaseTable {
    /// The table read last, by id (`None` until a read succeeds: empty is a table too).
    known: Option<BTreeMap<i64, LeaseRecord>>,
    checked: Instant,
}

impl Default for LeaseTable {
    fn default() -> LeaseTable {
        LeaseTable {
            known: None,
            checked: Instant::now(),
        }
    }
}

impl LeaseTable {
    /// Every lease etcd holds now, with its granted TTL and its remaining TTL as of the last
    /// time it was read. An error leaves the last table as it was.
    pub fn read(&mut self, source: &LiveSource) -> Result<Vec<LeaseRecord>> {
        let ids = source.lease_ids()?;
        let recheck = self.checked.elapsed() >= RECHECK_EVERY;
        let mut table = BTreeMap::new();
        for id in ids {
            let record = match self.known.as_ref().and_then(|k| k.get(&id)) {
                Some(known) if !recheck => Some(*known),
                _ => source.lease(id)?.map(|l| LeaseRecord {
                    id,
                    granted_ttl: l.ttl,
                    remaining_ttl: l.remaining_ttl.unwrap_or(0),
                }),
            };
            table.extend(record.map(|r| (id, r)));
        }
        if recheck {
            self.checked = Instant::now();
        }
        let read = table.values().copied().collect();
        self.known = Some(table);
        Ok(read)
    }

    /// The table read last (for a segment sealed when no member answers any more); `None`
    /// when none was read in this run.
    pub fn last(&self) -> Option<Vec<LeaseRecord>> {
        Some(self.known.as_ref()?.values().copied().collect())
    }
}
