//! The bbolt reader and checker against a real etcd 3.5.30 snapshot and its ground truth
//! (`../shared/fixtures/cluster-dev`, outside the repository).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use revkeeper_formats::bbolt::{Db, check};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn fixture_dir() -> Option<PathBuf> {
    revkeeper_harness::require_fixture("cluster-dev")
}

fn truth(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("truth.json")).expect("read truth.json");
    serde_json::from_str(&text).expect("parse truth.json")
}

/// One line of `revisions.jsonl`.
struct Revision {
    main: u64,
    sub: u64,
    tombstone: bool,
    key: String,
    create_revision: i64,
    mod_revision: i64,
    version: i64,
    lease: i64,
    value_len: usize,
    value_sha256: String,
}

fn revisions(dir: &Path) -> Vec<Revision> {
    let text = std::fs::read_to_string(dir.join("revisions.jsonl")).expect("read revisions.jsonl");
    text.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("parse a revisions.jsonl line");
            Revision {
                main: v["main"].as_u64().expect("main"),
                sub: v["sub"].as_u64().expect("sub"),
                tombstone: v["tombstone"].as_bool().expect("tombstone"),
                key: v["key"].as_str().expect("key").to_string(),
                create_revision: v["create_revision"].as_i64().expect("create_revision"),
                mod_revision: v["mod_revision"].as_i64().expect("mod_revision"),
                version: v["version"].as_i64().expect("version"),
                lease: v["lease"].as_i64().expect("lease"),
                value_len: v["value_len"].as_u64().expect("value_len") as usize,
                value_sha256: v["value_sha256"]
                    .as_str()
                    .expect("value_sha256")
                    .to_string(),
            }
        })
        .collect()
}

/// The fields of an `mvccpb.KeyValue` (proto3): key, create, mod, version, value, lease.
#[derive(Debug, Default, PartialEq)]
struct KeyValue<'a> {
    key: &'a [u8],
    create_revision: i64,
    mod_revision: i64,
    version: i64,
    value: &'a [u8],
    lease: i64,
}

/// A minimal protobuf decoder for `KeyValue`, enough to compare with the ground truth.
fn decode_key_value(mut b: &[u8]) -> KeyValue<'_> {
    fn varint(b: &mut &[u8]) -> u64 {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (x, rest) = b.split_first().expect("varint");
            *b = rest;
            v |= u64::from(x & 0x7f) << shift;
            if x & 0x80 == 0 {
                return v;
            }
        }
        panic!("varint too long")
    }
    let mut kv = KeyValue::default();
    while !b.is_empty() {
        let tag = varint(&mut b);
        match (tag >> 3, tag & 7) {
            (field @ (1 | 5), 2) => {
                let n = varint(&mut b) as usize;
                let (bytes, rest) = b.split_at(n);
                b = rest;
                if field == 1 {
                    kv.key = bytes;
                } else {
                    kv.value = bytes;
                }
            }
            (2, 0) => kv.create_revision = varint(&mut b) as i64,
            (3, 0) => kv.mod_revision = varint(&mut b) as i64,
            (4, 0) => kv.version = varint(&mut b) as i64,
            (6, 0) => kv.lease = varint(&mut b) as i64,
            other => panic!("unexpected KeyValue field {other:?}"),
        }
    }
    kv
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn reads_the_real_snapshot_like_etcd() {
    let Some(dir) = fixture_dir() else { return };
    let truth = truth(&dir);
    let snap = &truth["snapshot"];
    let path = dir.join("cluster.db");
    let file = std::fs::read(&path).expect("read cluster.db");
    assert_eq!(file.len() as u64, snap["size"].as_u64().unwrap());
    assert_eq!(
        hex(&Sha256::digest(&file)),
        snap["sha256"].as_str().unwrap()
    );

    let db = Db::open(&path).expect("open the fixture");
    assert_eq!(db.page_size(), 4096);
    assert_eq!(db.data().len(), file.len() - 32);
    assert_eq!(db.sha256_trailer().unwrap()[..], file[file.len() - 32..]);
    assert_eq!(db.verify_sha256(), Some(true));
    assert_eq!(
        db.size(),
        truth["etcdutl_status"]["totalSize"].as_u64().unwrap()
    );
    assert_eq!(db.size(), 7_659_520);
    // A Linux snapshot: freelist not synced, so free pages are rebuilt from reachability.
    assert_eq!(db.meta().freelist, u64::MAX);

    // `bbolt check` said OK.
    assert_eq!(truth["bbolt_check"].as_str().unwrap().trim(), "OK");
    let problems = check(&db);
    assert!(problems.is_empty(), "check found problems: {problems:?}");

    // Top-level buckets and their entry counts; the status hash over everything
    // (`docs/format-etcd.md#snapshot-status`).
    let want: BTreeMap<String, u64> = snap["bucket_entries"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    let mut got = BTreeMap::new();
    let mut names = Vec::new();
    let mut crc = 0u32;
    for entry in db.root().iter() {
        let entry = entry.expect("root entry");
        assert!(
            entry.is_bucket,
            "top-level entry {:?} is not a bucket",
            entry.key
        );
        assert!(entry.value.is_empty());
        names.push(entry.key.to_vec());
        crc = crc32c::crc32c_append(crc, entry.key);
        let bucket = db.bucket(entry.key).unwrap().expect("bucket opens");
        let mut n = 0u64;
        for kv in bucket.iter() {
            let kv = kv.expect("bucket entry");
            assert!(!kv.is_bucket, "etcd has no nested buckets");
            crc = crc32c::crc32c_append(crc, kv.key);
            crc = crc32c::crc32c_append(crc, kv.value);
            n += 1;
        }
        got.insert(String::from_utf8(entry.key.to_vec()).unwrap(), n);
    }
    assert_eq!(got, want);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "top-level buckets come in byte order");
    assert_eq!(
        u64::from(crc),
        truth["etcdutl_status"]["hash"].as_u64().unwrap(),
        "etcdutl snapshot status hash"
    );

    // Free pages: everything not reachable; the in-use size follows.
    let free = db.free_pages().unwrap();
    assert!(free.windows(2).all(|w| w[0] < w[1]));
    assert!(free.iter().all(|&id| (2..db.meta().pgid).contains(&id)));
    assert_eq!(
        db.in_use_size().unwrap(),
        (db.meta().pgid - free.len() as u64) * 4096
    );
    assert!(db.in_use_size().unwrap() <= db.size());
}

#[test]
fn key_bucket_equals_revisions_jsonl() {
    let Some(dir) = fixture_dir() else { return };
    let revs = revisions(&dir);
    let db = Db::open(&dir.join("cluster.db")).unwrap();
    let key = db.bucket(b"key").unwrap().expect("key bucket");
    let entries: Vec<_> = key.iter().collect::<Result<_, _>>().expect("iterate key");
    assert_eq!(entries.len(), revs.len());
    for (i, (e, r)) in entries.iter().zip(&revs).enumerate() {
        assert!(
            e.key.len() == 17 || e.key.len() == 18,
            "entry {i}: key length {}",
            e.key.len()
        );
        assert_eq!(e.key[8], b'_', "entry {i}");
        let main = u64::from_be_bytes(e.key[..8].try_into().unwrap());
        let sub = u64::from_be_bytes(e.key[9..17].try_into().unwrap());
        let tombstone = e.key.len() == 18;
        if tombstone {
            assert_eq!(e.key[17], b't', "entry {i}");
        }
        assert_eq!(
            (main, sub, tombstone),
            (r.main, r.sub, r.tombstone),
            "entry {i}"
        );
        let kv = decode_key_value(e.value);
        assert_eq!(kv.key, r.key.as_bytes(), "entry {i}");
        assert_eq!(
            (kv.create_revision, kv.mod_revision, kv.version, kv.lease),
            (r.create_revision, r.mod_revision, r.version, r.lease),
            "entry {i}"
        );
        assert_eq!(kv.value.len(), r.value_len, "entry {i} value length");
        assert_eq!(
            hex(&Sha256::digest(kv.value)),
            r.value_sha256,
            "entry {i} value"
        );
    }
    let last = &revs[revs.len() - 1];
    assert_eq!(last.main, 3704, "status revision");
}

#[test]
fn get_and_iter_from_agree_with_full_iteration() {
    let Some(dir) = fixture_dir() else { return };
    let db = Db::open(&dir.join("cluster.db")).unwrap();
    for name in db.root().iter().map(|e| e.unwrap().key) {
        let bucket = db.bucket(name).unwrap().unwrap();
        let all: Vec<_> = bucket.iter().map(|e| e.unwrap()).collect();
        assert_eq!(
            bucket
                .iter_from(b"")
                .map(|e| e.unwrap())
                .collect::<Vec<_>>(),
            all
        );
        for (i, e) in all.iter().enumerate() {
            assert_eq!(bucket.get(e.key).unwrap(), Some(e.value), "get {:?}", e.key);
            // Seeking to a key starts there; seeking just past it starts at the next one.
            let from: Vec<_> = bucket
                .iter_from(e.key)
                .take(3)
                .map(|e| e.unwrap())
                .collect();
            assert_eq!(from[..], all[i..all.len().min(i + 3)]);
            let mut after = e.key.to_vec();
            after.push(0);
            let next = bucket.iter_from(&after).next().map(|e| e.unwrap());
            assert_eq!(next.as_ref(), all.get(i + 1));
            // A key that is absent between two present ones is not found.
            if all.get(i + 1).is_none_or(|n| n.key != &after[..]) {
                assert_eq!(bucket.get(&after).unwrap(), None);
            }
        }
        assert_eq!(
            bucket.last().unwrap(),
            all.last().copied(),
            "last of {name:?}"
        );
        // Past the last key: nothing.
        let mut past = all.last().map_or(vec![], |e| e.key.to_vec());
        past.push(0xFF);
        assert!(bucket.iter_from(&past).next().is_none());
        assert!(
            db.root().get(name).unwrap().is_none(),
            "get of a bucket name is None"
        );
    }
    assert!(db.bucket(b"no-such-bucket").unwrap().is_none());
    // The full `key` bucket equals its iteration from the middle, joined.
    let key = db.bucket(b"key").unwrap().unwrap();
    let all: Vec<_> = key.iter().map(|e| e.unwrap()).collect();
    let mid = all[all.len() / 2].key;
    let tail: Vec<_> = key.iter_from(mid).map(|e| e.unwrap()).collect();
    assert_eq!(tail[..], all[all.len() / 2..]);
}

/// Release-mode speed measurement: `cargo test --release -p revkeeper-formats --test
/// bbolt_fixture -- --ignored --nocapture`.
#[test]
#[ignore]
fn iteration_speed() {
    let Some(dir) = fixture_dir() else { return };
    let db = Db::open(&dir.join("cluster.db")).unwrap();
    let buckets: Vec<_> = db.root().iter().map(|e| e.unwrap().key).collect();
    let start = std::time::Instant::now();
    let (mut entries, mut bytes) = (0u64, 0u64);
    let rounds = 300;
    for _ in 0..rounds {
        for name in &buckets {
            for e in db.bucket(name).unwrap().unwrap().iter() {
                let e = e.unwrap();
                entries += 1;
                bytes += (e.key.len() + e.value.len()) as u64;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "iterated {entries} entries ({} MB of keys+values) in {secs:.3} s: {:.1} M entries/s",
        bytes / 1_000_000,
        entries as f64 / secs / 1e6
    );
    let start = std::time::Instant::now();
    for _ in 0..20 {
        assert!(check(&db).is_empty());
    }
    println!(
        "check: {:.2} ms per run",
        start.elapsed().as_secs_f64() * 1000.0 / 20.0
    );
}
