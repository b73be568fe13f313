//! `etcdutl snapshot status`, computed natively with identical values
//! (`docs/format-etcd.md#snapshot-status`):
//! hash = CRC-32C over every bucket name, key and value in byte order; revision = main of the
//! last `key` entry; totalKey = live user keys (3.6 semantics); totalSize = pgid × pageSize.

use std::collections::HashSet;

use foldhash::fast::RandomState;

use revkeeper_formats::bbolt::{Db, check};
use revkeeper_formats::etcd::bucket as buckets;
use revkeeper_formats::etcd::kv_ref::KeyValueRef;
use revkeeper_formats::etcd::meta::MetaInfo;
use revkeeper_formats::etcd::revision::RevisionKey;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub hash: u32,
    pub revision: i64,
    pub total_key: usize,
    pub total_size: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub version: String,
}

/// Computes the status. Like etcdutl it first checks the file's integrity (`bbolt check`):
/// that check runs on a second thread while this one walks the buckets once, hashing every
/// entry and counting the live keys.
pub fn status(db: &Db) -> Result<Status, String> {
    std::thread::scope(|scope| {
        let checked = scope.spawn(|| check(db));
        let walked = hash_and_count(db);
        let problems = checked
            .join()
            .map_err(|_| "the integrity check stopped unexpectedly".to_string())?;
        if let Some(first) = problems.first() {
            return Err(format!(
                "integrity check failed: {} problem(s), the first: {first}",
                problems.len()
            ));
        }
        let walked = walked?;
        Ok(Status {
            hash: walked.hash,
            revision: revision(db)?,
            total_key: walked.live_keys,
            total_size: db.size(),
            version: walked.version,
        })
    })
}

struct Walked {
    hash: u32,
    version: String,
    live_keys: usize,
}

/// CRC-32C over every bucket name, key and value in byte order; the storage version; and
/// etcd 3.6's count of live keys: user keys put and not deleted since, in revision order.
fn hash_and_count(db: &Db) -> Result<Walked, String> {
    let mut hash = 0u32;
    let mut version = String::new();
    let mut live = Generations::new(db);
    for bucket in db.root().iter() {
        let bucket = bucket.map_err(|e| e.to_string())?;
        hash = crc32c::crc32c_append(hash, bucket.key);
        let b = open(db, bucket.key)?;
        let is_meta = bucket.key == buckets::META;
        let is_key = bucket.key == buckets::KEY;
        for e in b.iter() {
            let e = e.map_err(|e| e.to_string())?;
            hash = crc32c::crc32c_append(hash, e.key);
            hash = crc32c::crc32c_append(hash, e.value);
            if is_meta && e.key == b"storageVersion" {
                version = parse_semver(e.value).unwrap_or_default();
            }
            if is_key {
                let (rk, kv) = parse_key_entry(e.key, e.value)?;
                live.note(rk, kv);
            }
        }
    }
    let live_keys = match live.count() {
        Some(n) => n,
        None => live_keys_with_a_set(db)?,
    };
    Ok(Walked {
        hash,
        version,
        live_keys,
    })
}

fn parse_key_entry<'a>(
    key: &[u8],
    value: &'a [u8],
) -> Result<(RevisionKey, KeyValueRef<'a>), String> {
    let rk = RevisionKey::parse(key)
        .map_err(|err| format!("key bucket entry {}: {err}", hex::encode(key)))?;
    let kv = KeyValueRef::parse(value).map_err(|err| format!("revision {}: {err}", rk.rev.main))?;
    Ok((rk, kv))
}

/// The live user keys counted without a set of them (`docs/format-etcd.md#snapshot-status`):
/// every generation of a key opens with a put at version 1 and closes with its tombstone, so
/// the live keys are the generations opened minus those closed. After a finished compaction at
/// revision C, a key's only entry at or below C opens what is left of its generation (the
/// earlier ones and every tombstone at or below C are gone). Exact on what etcd writes; when
/// the file is not like that (a compaction scheduled but not finished, a put of a user key
/// that neither opens a generation nor follows one), [`Generations::count`] gives up.
struct Generations {
    /// `None`: a compaction is not known to have finished.
    compacted: Option<i64>,
    opened: i64,
    closed: i64,
    /// The empty key is a restore's revision-bump marker (an empty `KeyValue`, version 0):
    /// it counts while its newest entry is a put.
    empty_key: bool,
    consistent: bool,
}

impl Generations {
    fn new(db: &Db) -> Generations {
        let meta = db.bucket(buckets::META).ok().flatten().and_then(|b| {
            let entries: Result<Vec<_>, _> =
                b.iter().map(|e| e.map(|e| (e.key, e.value))).collect();
            MetaInfo::from_entries(entries.ok()?).ok()
        });
        let compacted =
            meta.and_then(
                |m| match (m.scheduled_compact_rev, m.finished_compact_rev) {
                    (None, None) => Some(0),
                    (scheduled, Some(finished)) if scheduled.is_none_or(|s| s == finished) => {
                        Some(finished)
                    }
                    _ => None,
                },
            );
        Generations {
            compacted,
            opened: 0,
            closed: 0,
            empty_key: false,
            consistent: true,
        }
    }

    fn note(&mut self, rk: RevisionKey, kv: KeyValueRef<'_>) {
        if kv.key.is_empty() {
            self.empty_key = !rk.tombstone;
        } else if rk.tombstone {
            self.closed += 1;
        } else if kv.version == 1 || self.compacted.is_some_and(|c| rk.rev.main <= c) {
            self.opened += 1;
        } else if kv.version < 1 {
            self.consistent = false;
        }
    }

    /// The count, or `None` when this file needs the set.
    fn count(&self) -> Option<usize> {
        if !self.consistent || self.compacted.is_none() {
            return None;
        }
        let live = self.opened.checked_sub(self.closed)?;
        usize::try_from(live)
            .ok()
            .map(|n| n + usize::from(self.empty_key))
    }
}

/// The live user keys by a set of them, in revision order: a put adds, a tombstone removes.
fn live_keys_with_a_set(db: &Db) -> Result<usize, String> {
    let Some(keys) = db.bucket(buckets::KEY).map_err(|e| e.to_string())? else {
        return Ok(0);
    };
    let mut live: HashSet<&[u8], RandomState> = HashSet::default();
    for e in keys.iter() {
        let e = e.map_err(|e| e.to_string())?;
        let (rk, kv) = parse_key_entry(e.key, e.value)?;
        if rk.tombstone {
            live.remove(kv.key);
        } else {
            live.insert(kv.key);
        }
    }
    Ok(live.len())
}

/// The main revision of the last `key` entry (tombstones included), as etcdutl reports it.
fn revision(db: &Db) -> Result<i64, String> {
    let Some(keys) = db.bucket(buckets::KEY).map_err(|e| e.to_string())? else {
        return Ok(0);
    };
    match keys.last().map_err(|e| e.to_string())? {
        None => Ok(0),
        Some(e) => Ok(RevisionKey::parse(e.key)
            .map_err(|e| e.to_string())?
            .rev
            .main),
    }
}

fn open<'a>(db: &'a Db, name: &[u8]) -> Result<revkeeper_formats::bbolt::Bucket<'a>, String> {
    db.bucket(name)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("bucket {} vanished", String::from_utf8_lossy(name)))
}

/// etcd reads `storageVersion` as semver and prints it in full (`3.6.0`); junk gives "".
fn parse_semver(raw: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(raw).ok()?;
    let parts: Vec<&str> = s.split('.').collect();
    (parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
    .then(|| s.to_string())
}

/// go-humanize's `Bytes` (SI units), which etcdutl uses for the size column.
pub fn humanize_bytes(s: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    if s < 10 {
        return format!("{s} B");
    }
    let e = ((s as f64).ln() / 1000f64.ln()).floor() as usize;
    let e = e.min(UNITS.len() - 1);
    let val = ((s as f64) / 1000f64.powi(e as i32) * 10.0 + 0.5).floor() / 10.0;
    if val < 10.0 {
        format!("{val:.1} {}", UNITS[e])
    } else {
        format!("{val:.0} {}", UNITS[e])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanizes_like_go_humanize() {
        assert_eq!(humanize_bytes(5), "5 B");
        assert_eq!(humanize_bytes(32768), "33 kB");
        assert_eq!(humanize_bytes(7659520), "7.7 MB");
        assert_eq!(humanize_bytes(1_000), "1.0 kB");
        assert_eq!(humanize_bytes(999), "999 B");
    }

    fn entry(main: i64, tombstone: bool) -> RevisionKey {
        RevisionKey {
            rev: revkeeper_formats::etcd::revision::Revision { main, sub: 0 },
            tombstone,
        }
    }

    fn count(compacted: Option<i64>, history: &[(i64, &str, i64, bool)]) -> Option<usize> {
        let mut g = Generations {
            compacted,
            opened: 0,
            closed: 0,
            empty_key: false,
            consistent: true,
        };
        for &(main, key, version, tombstone) in history {
            let kv = KeyValueRef {
                key: key.as_bytes(),
                version,
                ..KeyValueRef::default()
            };
            g.note(entry(main, tombstone), kv);
        }
        g.count()
    }

    #[test]
    fn live_keys_are_generations_opened_minus_closed() {
        // Compacted at 10: `a` keeps its newest put at or below 10 (version 3), `b` lives and
        // dies after it, `c` dies and comes back.
        let history = [
            (5, "a", 3, false),
            (7, "c", 2, false),
            (11, "b", 1, false),
            (12, "a", 4, false),
            (13, "b", 0, true),
            (14, "c", 0, true),
            (15, "c", 1, false),
        ];
        assert_eq!(count(Some(10), &history), Some(2));
        // Not compacted: every generation opens at version 1.
        let whole = [
            (1, "a", 1, false),
            (2, "a", 2, false),
            (3, "a", 0, true),
            (4, "b", 1, false),
        ];
        assert_eq!(count(Some(0), &whole), Some(1));
        // A restore's bump marker (the empty key, version 0) counts while it stands.
        assert_eq!(
            count(Some(0), &[(1, "a", 1, false), (9, "", 0, false)]),
            Some(2)
        );
    }

    #[test]
    fn live_keys_need_the_set_when_generations_cannot_tell() {
        // A compaction scheduled but not finished.
        assert_eq!(count(None, &[(1, "a", 1, false)]), None);
        // A user key put at version 0, or more tombstones than puts.
        assert_eq!(count(Some(0), &[(1, "a", 0, false)]), None);
        assert_eq!(count(Some(0), &[(1, "a", 0, true)]), None);
    }

    #[test]
    fn semver_is_strict() {
        assert_eq!(parse_semver(b"3.6.0").as_deref(), Some("3.6.0"));
        assert_eq!(parse_semver(b"3.6"), None);
        assert_eq!(parse_semver(b"x.y.z"), None);
    }
}
