//! `snapshot verify`: the sha256 trailer, bbolt's structural check, and etcd-level checks of
//! what the buckets hold, down to decoding every Kubernetes value. Every problem names where it
//! is.

use revkeeper_formats::bbolt::{Db, check};
use revkeeper_formats::etcd::bucket as buckets;
use revkeeper_formats::etcd::kv_ref::KeyValueRef;
use revkeeper_formats::etcd::lease::{Lease, lease_id_from_key};
use revkeeper_formats::etcd::members::{Member, id_hex};
use revkeeper_formats::etcd::meta::MetaInfo;
use revkeeper_formats::etcd::revision::{Revision, RevisionKey};
use revkeeper_formats::k8s::encryption::{EncryptionError, check_envelope};
use revkeeper_formats::k8s::key::{DEFAULT_PREFIX, ObjectKey};
use revkeeper_formats::k8s::{Keyring, ValueError, validate_value};
use serde::Serialize;

/// The location of every problem with the file's length or its sha256 trailer.
pub const SHA256: &str = "sha256";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where: `sha256`, `page 12`, `key bucket, revision 42`, `meta/term`…
    pub location: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `None` when the file has no trailer (a raw `member/snap/db`) or a truncated one.
    pub sha256_ok: Option<bool>,
    pub trailer: Trailer,
    pub problems: Vec<Problem>,
    /// Encrypted values whose envelope was checked but that could not be decrypted (no
    /// `--encryption-config`, or a key or KMS provider it does not have).
    pub undecrypted: u64,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty() && self.sha256_ok != Some(false)
    }
}

/// What the end of the file says about its integrity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trailer {
    /// The sha256 trailer matches the bytes before it.
    Ok,
    Mismatch,
    /// Whole pages without a trailer: a raw `member/snap/db`.
    Absent,
    /// Neither whole pages nor whole pages plus the 32-byte trailer.
    Truncated,
}

impl Trailer {
    pub fn of(db: &Db) -> Trailer {
        if db.stray_tail().is_some() {
            return Trailer::Truncated;
        }
        match db.verify_sha256() {
            Some(true) => Trailer::Ok,
            Some(false) => Trailer::Mismatch,
            None => Trailer::Absent,
        }
    }

    /// What is wrong with the file's end, for a problem or a warning; `None` when it is fine.
    pub fn problem(self, db: &Db) -> Option<String> {
        match self {
            Trailer::Ok => None,
            Trailer::Mismatch => Some(
                "the trailing sha256 does not match the database bytes (the file was changed or damaged after it was saved)"
                    .into(),
            ),
            Trailer::Absent => Some(
                "no sha256 trailer (a raw member/snap/db?): its bytes cannot be proven intact"
                    .into(),
            ),
            Trailer::Truncated => {
                let n = db.stray_tail().unwrap_or_default();
                Some(if n < 32 {
                    format!(
                        "the file is truncated: it ends {n} bytes into the 32-byte sha256 trailer"
                    )
                } else {
                    format!(
                        "the file is truncated or padded: {n} bytes past the last whole page, neither whole pages nor whole pages plus the 32-byte sha256 trailer"
                    )
                })
            }
        }
    }
}

/// How values under the Kubernetes prefix are decoded: as `get --decode` would.
#[derive(Clone, Debug)]
pub struct ValueCheck {
    /// kube-apiserver's `--etcd-prefix`, without its trailing `/`.
    pub prefix: String,
    pub keys: Keyring,
}

impl Default for ValueCheck {
    fn default() -> ValueCheck {
        ValueCheck {
            prefix: DEFAULT_PREFIX.into(),
            keys: Keyring::default(),
        }
    }
}

/// [`verify_with`] the default prefix and no encryption keys.
pub fn verify(db: &Db) -> Report {
    verify_with(db, &ValueCheck::default())
}

pub fn verify_with(db: &Db, values: &ValueCheck) -> Report {
    let mut problems = Vec::new();
    let trailer = Trailer::of(db);
    if trailer != Trailer::Absent
        && let Some(message) = trailer.problem(db)
    {
        problems.push(problem(SHA256, &message));
    }
    let undecrypted = check_contents(db, Some(values), &mut problems);
    Report {
        sha256_ok: match trailer {
            Trailer::Ok => Some(true),
            Trailer::Mismatch => Some(false),
            Trailer::Absent | Trailer::Truncated => None,
        },
        trailer,
        problems,
        undecrypted,
    }
}

/// Every check of [`verify_with`] but the sha256 trailer and the decoding of Kubernetes values:
/// bbolt's structure and etcd's buckets. A restore runs it beside [`verify_values`] and its copy.
pub fn verify_structure(db: &Db) -> Vec<Problem> {
    let mut problems = Vec::new();
    check_contents(db, None, &mut problems);
    problems
}

/// The decoding of every Kubernetes value (the rest of [`verify_with`] after
/// [`verify_structure`]); entries that are not a live `KeyValue` are left to that check.
pub fn verify_values(db: &Db, values: &ValueCheck) -> Vec<Problem> {
    verify_values_in(db, values, &Revisions::default())
}

/// Which entries of the `key` bucket [`verify_values_in`] decodes: those from `from` up to
/// (not including) `until`, and when `only` is given (ascending), only those revisions.
#[derive(Clone, Debug, Default)]
pub struct Revisions<'a> {
    pub from: Revision,
    pub until: Option<Revision>,
    pub only: Option<&'a [Revision]>,
}

/// [`verify_values`] over a part of the `key` bucket, so several threads can share the work
/// (a restore splits it this way) and a pre-compacted restore decodes only what it keeps.
pub fn verify_values_in(db: &Db, values: &ValueCheck, which: &Revisions<'_>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let Ok(Some(bucket)) = db.bucket(buckets::KEY) else {
        return problems;
    };
    let mut only = which.only.map(|o| o.iter().peekable());
    let entries = match which.from {
        Revision { main: 0, sub: 0 } => bucket.iter(),
        from => bucket.iter_from(&from.to_bytes()),
    };
    for e in entries.map_while(|e| e.ok()) {
        let Ok(rk) = RevisionKey::parse(e.key) else {
            continue;
        };
        if which.until.is_some_and(|u| rk.rev >= u) {
            break;
        }
        if let Some(only) = &mut only {
            while only.next_if(|&&r| r < rk.rev).is_some() {}
            match only.peek() {
                None => break,
                Some(&&r) if r != rk.rev => continue,
                Some(_) => {}
            }
        }
        if rk.tombstone || e.is_bucket || e.value.is_empty() {
            continue;
        }
        let Ok(kv) = KeyValueRef::parse(e.value) else {
            continue;
        };
        if let Err(why) = check_value(kv.key, kv.value, values) {
            problems.push(problem(
                &format!("key bucket, revision {}/{}", rk.rev.main, rk.rev.sub),
                &format!("{}: {why}", String::from_utf8_lossy(kv.key)),
            ));
        }
    }
    problems
}

/// The structural and etcd-level checks, and with `values` the Kubernetes value checks.
/// Returns how many encrypted values could not be decrypted.
fn check_contents(db: &Db, values: Option<&ValueCheck>, problems: &mut Vec<Problem>) -> u64 {
    // First, as it names the damaged revision: bbolt's check reports the same damage by the
    // nonsense page its value would point to as a sub-bucket.
    check_entry_kinds(db, problems);
    let structure = check::check(db);
    let sound = structure.is_empty();
    for p in structure {
        let location = p
            .pgid
            .map(|id| format!("page {id}"))
            .unwrap_or_else(|| "bbolt".into());
        problems.push(problem(&location, &p.message));
    }
    // Walking a structurally broken tree would only repeat the same problems.
    if sound {
        check_etcd(db, values, problems)
    } else {
        0
    }
}

fn problem(location: &str, message: &str) -> Problem {
    Problem {
        location: location.to_string(),
        message: message.to_string(),
    }
}

/// Entries flagged as sub-buckets inside etcd's buckets, and plain keys in the root: a damaged
/// element flag (etcd never nests buckets, and keeps every key in one), which would hide that
/// entry, or a whole bucket, from every reader.
fn check_entry_kinds(db: &Db, problems: &mut Vec<Problem>) {
    let mut names: Vec<&[u8]> = Vec::new();
    for e in db.root().iter().map_while(|e| e.ok()) {
        if e.is_bucket {
            names.push(e.key);
        } else {
            problems.push(problem(
                "root",
                &format!(
                    "a plain key {:?} where etcd keeps only buckets (a damaged element flag)",
                    String::from_utf8_lossy(e.key)
                ),
            ));
        }
    }
    for name in names {
        let Ok(Some(bucket)) = db.bucket(name) else {
            continue; // an unreadable bucket is reported by bbolt's check
        };
        // An error stops the walk; bbolt's check names it.
        for e in bucket.iter().map_while(|e| e.ok()).filter(|e| e.is_bucket) {
            let location = match RevisionKey::parse(e.key) {
                Ok(rk) if name == buckets::KEY => {
                    format!("key bucket, revision {}/{}", rk.rev.main, rk.rev.sub)
                }
                _ => format!(
                    "{} bucket, entry {}",
                    String::from_utf8_lossy(name),
                    hex::encode(e.key)
                ),
            };
            problems.push(problem(
                &location,
                "a sub-bucket where etcd keeps only plain entries (a damaged element flag)",
            ));
        }
    }
}

/// Returns how many encrypted values could not be decrypted.
fn check_etcd(db: &Db, values: Option<&ValueCheck>, problems: &mut Vec<Problem>) -> u64 {
    let mut undecrypted = 0;
    let latest = check_key_bucket(db, values, &mut undecrypted, problems);
    check_meta(db, latest, problems);
    check_leases(db, problems);
    check_members(db, problems);
    undecrypted
}

/// Returns the highest revision seen.
fn check_key_bucket(
    db: &Db,
    values: Option<&ValueCheck>,
    undecrypted: &mut u64,
    problems: &mut Vec<Problem>,
) -> i64 {
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
        // Formatted only for a problem: this runs once per revision.
        let here = || format!("key bucket, revision {}/{}", rk.rev.main, rk.rev.sub);
        if previous.is_some_and(|p| p >= rk.rev) {
            problems.push(problem(&here(), "revisions are not strictly ascending"));
        }
        previous = Some(rk.rev);
        if e.is_bucket {
            continue; // reported by check_entry_kinds
        }
        if e.value.is_empty() {
            continue; // the revision-bump marker written by a restore
        }
        match KeyValueRef::parse(e.value) {
            Err(err) => problems.push(problem(&here(), &format!("value is not a KeyValue: {err}"))),
            Ok(kv) if kv.key.is_empty() => {
                problems.push(problem(&here(), "KeyValue has an empty key"))
            }
            Ok(kv) if !rk.tombstone && kv.mod_revision != rk.rev.main => problems.push(problem(
                &here(),
                &format!(
                    "mod_revision {} differs from the revision key",
                    kv.mod_revision
                ),
            )),
            Ok(kv) if !rk.tombstone && (kv.create_revision > kv.mod_revision || kv.version < 1) => {
                problems.push(problem(
                    &here(),
                    &format!(
                        "create_revision {} / version {} do not fit mod_revision {}",
                        kv.create_revision, kv.version, kv.mod_revision
                    ),
                ))
            }
            Ok(kv) if !rk.tombstone => match values.map(|v| check_value(kv.key, kv.value, v)) {
                None | Some(Ok(Decryption::Done)) => {}
                Some(Ok(Decryption::NotPossible)) => *undecrypted += 1,
                Some(Err(why)) => problems.push(problem(
                    &here(),
                    &format!("{}: {why}", String::from_utf8_lossy(kv.key)),
                )),
            },
            Ok(_) => {}
        }
    }
    previous.map(|r| r.main).unwrap_or(0)
}

enum Decryption {
    /// Decoded in full (or not encrypted).
    Done,
    /// Encrypted with a key this run does not have; only the envelope was checked.
    NotPossible,
}

/// Decodes a value stored under a Kubernetes object key as `get --decode` would (text and
/// binary values are not objects, not damage); keys outside the prefix are not Kubernetes
/// values.
fn check_value(key: &[u8], value: &[u8], values: &ValueCheck) -> Result<Decryption, String> {
    if ObjectKey::parse(key, &values.prefix).is_none() {
        return Ok(Decryption::Done);
    }
    // The same verdicts and errors as `get --decode`, without writing the JSON text nobody
    // reads: that text was a third of a restore's value check.
    let decoded = validate_value(key, value, &values.keys);
    match decoded {
        Ok(_) => Ok(Decryption::Done),
        Err(ValueError::Encryption(
            EncryptionError::NoConfig { .. }
            | EncryptionError::UnknownKey { .. }
            | EncryptionError::Kms { .. },
        )) => match check_envelope(value) {
            Ok(_) => Ok(Decryption::NotPossible),
            Err(e) => Err(e.to_string()),
        },
        Err(e) => Err(format!("value does not decode: {e}")),
    }
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
            // etcd 3.4 saves it with the first write: a member that never had one has none.
            if m.consistent_index.is_none() && latest > 0 {
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
