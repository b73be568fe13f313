//! `snapshot verify`: the sha256 trailer, bbolt's structural check, and etcd-level checks of
//! what the buckets hold. Every problem names where it is.

use revkeeper_formats::bbolt::{Db, check};
use revkeeper_formats::etcd::bucket as buckets;
use revkeeper_formats::etcd::kv_ref::KeyValueRef;
use revkeeper_formats::etcd::lease::{Lease, lease_id_from_key};
use revkeeper_formats::etcd::members::{Member, id_hex};
use revkeeper_formats::etcd::meta::MetaInfo;
use revkeeper_formats::etcd::revision::{Revision, RevisionKey};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where: `sha256`, `page 12`, `key bucket, revision 42`, `meta/term`…
    pub location: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `None` when the file has no trailer (a raw `member/snap/db`).
    pub sha256_ok: Option<bool>,
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty() && self.sha256_ok != Some(false)
    }
}

pub fn verify(db: &Db) -> Report {
    let mut problems = Vec::new();
    let sha256_ok = db.verify_sha256();
    if sha256_ok == Some(false) {
        problems.push(problem("sha256", "the trailing sha256 does not match the database bytes (the file was changed or damaged after it was saved)"));
    }
    for p in check::check(db) {
        let location = p
            .pgid
            .map(|id| format!("page {id}"))
            .unwrap_or_else(|| "bbolt".into());
        problems.push(problem(&location, &p.message));
    }
    // Walking a structurally broken tree would only repeat the same problems.
    if problems.iter().all(|p| p.location == "sha256") {
        check_etcd(db, &mut problems);
    }
    Report {
        sha256_ok,
        problems,
    }
}

fn problem(location: &str, message: &str) -> Problem {
    Problem {
        location: location.to_string(),
        message: message.to_string(),
    }
}

fn check_etcd(db: &Db, problems: &mut Vec<Problem>) {
    let latest = check_key_bucket(db, problems);
    check_meta(db, latest, problems);
    check_leases(db, problems);
    check_members(db, problems);
}

/// Returns the highest revision seen.
fn check_key_bucket(db: &Db, problems: &mut Vec<Problem>) -> i64 {
    let bucket = match db.bucket(buckets::KEY) {
        Ok(Some(b)) => b,
        Ok(None) => {
            problems.push(problem(
                "key bucket",
                "missing: this is not an etcd v3 database",
            ));
            return 0;
        }
        Err(e) => {
            problems.push(problem("key bucket", &e.to_string()));
            return 0;
        }
    };
    let mut previous: Option<Revision> = None;
    for e in bucket.iter() {
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                problems.push(problem("key bucket", &err.to_string()));
                break;
            }
        };
        let rk = match RevisionKey::parse(e.key) {
            Ok(rk) => rk,
            Err(err) => {
                problems.push(problem(
                    &format!("key bucket, entry {}", hex::encode(e.key)),
                    &err.to_string(),
                ));
                continue;
            }
        };
        let here = format!("key bucket, revision {}/{}", rk.rev.main, rk.rev.sub);
        if previous.is_some_and(|p| p >= rk.rev) {
            problems.push(problem(&here, "revisions are not strictly ascending"));
        }
        previous = Some(rk.rev);
        if e.value.is_empty() {
            continue; // the revision-bump marker written by a restore
        }
        match KeyValueRef::parse(e.value) {
            Err(err) => problems.push(problem(&here, &format!("value is not a KeyValue: {err}"))),
            Ok(kv) if kv.key.is_empty() => {
                problems.push(problem(&here, "KeyValue has an empty key"))
            }
            Ok(kv) if !rk.tombstone && kv.mod_revision != rk.rev.main => problems.push(problem(
                &here,
                &format!(
                    "mod_revision {} differs from the revision key",
                    kv.mod_revision
                ),
            )),
            Ok(kv) if !rk.tombstone && (kv.create_revision > kv.mod_revision || kv.version < 1) => {
                problems.push(problem(
                    &here,
                    &format!(
                        "create_revision {} / version {} do not fit mod_revision {}",
                        kv.create_revision, kv.version, kv.mod_revision
                    ),
                ))
            }
            Ok(_) => {}
        }
    }
    previous.map(|r| r.main).unwrap_or(0)
}

fn check_meta(db: &Db, latest: i64, problems: &mut Vec<Problem>) {
    let Ok(Some(meta)) = db.bucket(buckets::META) else {
        problems.push(problem("meta bucket", "missing or unreadable"));
        return;
    };
    let entries: Vec<(&[u8], &[u8])> = meta
        .iter()
        .filter_map(|e| e.ok())
        .map(|e| (e.key, e.value))
        .collect();
    match MetaInfo::from_entries(entries) {
        Err(e) => problems.push(problem("meta bucket", &e.to_string())),
        Ok(m) => {
            if m.consistent_index.is_none() {
                problems.push(problem("meta/consistent_index", "missing"));
            }
            for (name, rev) in [
                ("meta/scheduledCompactRev", m.scheduled_compact_rev),
                ("meta/finishedCompactRev", m.finished_compact_rev),
            ] {
                if let Some(rev) = rev
                    && rev > latest
                {
                    problems.push(problem(
                        name,
                        &format!("revision {rev} is beyond the newest revision {latest}"),
                    ));
                }
            }
        }
    }
}

fn check_leases(db: &Db, problems: &mut Vec<Problem>) {
    let Ok(Some(bucket)) = db.bucket(buckets::LEASE) else {
        return;
    };
    for e in bucket.iter().filter_map(|e| e.ok()) {
        let here = format!("lease {}", hex::encode(e.key));
        match (lease_id_from_key(e.key), Lease::decode_value(e.value)) {
            (Ok(id), Ok(l)) if id != l.id => problems.push(problem(
                &here,
                &format!("key says lease {id:x} but the value says {:x}", l.id),
            )),
            (Err(err), _) => problems.push(problem(&here, &err.to_string())),
            (_, Err(err)) => problems.push(problem(&here, &err.to_string())),
            _ => {}
        }
    }
}

fn check_members(db: &Db, problems: &mut Vec<Problem>) {
    let Ok(Some(bucket)) = db.bucket(buckets::MEMBERS) else {
        return;
    };
    for e in bucket.iter().filter_map(|e| e.ok()) {
        let here = format!("member {}", String::from_utf8_lossy(e.key));
        match Member::from_json(e.value) {
            Ok(m) if id_hex(m.id).as_bytes() != e.key => problems.push(problem(
                &here,
                &format!("key does not match member id {}", id_hex(m.id)),
            )),
            Err(err) => problems.push(problem(&here, &err.to_string())),
            _ => {}
        }
    }
}
