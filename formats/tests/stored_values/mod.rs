//! The protobuf values the decoder tests run over: every stored value of the shared fixtures,
//! damaged copies of them (truncated, bit-flipped) and hand-built extremes. Shared by
//! `k8s_proto_conformance` (decoding) and `k8s_proto_paths` (the walk's variants agree).

#![allow(dead_code)] // each test binary uses its own part

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use revkeeper_formats::bbolt::Db;
use revkeeper_formats::etcd::bucket;
use revkeeper_formats::etcd::kv_ref::KeyValueRef;
use revkeeper_formats::etcd::revision::RevisionKey;
use revkeeper_formats::k8s::proto;
use revkeeper_harness::require_fixture;

/// `dir/file` of a k8s-api fixture path.
pub fn label(p: &Path) -> String {
    let dir = p
        .parent()
        .and_then(|d| d.file_name())
        .unwrap_or_default()
        .to_string_lossy();
    format!("{dir}/{}", p.file_name().unwrap().to_string_lossy())
}

/// The latest live value of every key in `cluster.db` (tombstones delete).
pub fn live_values(db: &Db) -> HashMap<Vec<u8>, Vec<u8>> {
    let keys = db
        .bucket(bucket::KEY)
        .unwrap()
        .expect("snapshot has a key bucket");
    let mut latest: HashMap<Vec<u8>, Option<Vec<u8>>> = HashMap::new();
    for e in keys.iter() {
        let e = e.unwrap();
        let rk = RevisionKey::parse(e.key).unwrap();
        let kv = KeyValueRef::parse(e.value).unwrap();
        latest.insert(kv.key.to_vec(), (!rk.tombstone).then(|| kv.value.to_vec()));
    }
    latest
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect()
}

/// Every stored value of the fixtures: the k8s-api `.pb` files (also those without `.json`) and
/// the plaintext protobuf values of cluster.db, as (label, bytes); `None` when the fixtures are
/// missing and may be.
pub fn all_stored_values() -> Option<Vec<(String, Vec<u8>)>> {
    let api = require_fixture("k8s-api")?;
    let db = require_fixture("cluster-dev/cluster.db")?;
    let mut out = Vec::new();
    for dir in ["HEAD", "v1.33.0"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(api.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "pb"))
            .collect();
        files.sort();
        out.extend(files.iter().map(|p| (label(p), std::fs::read(p).unwrap())));
    }
    let mut values: Vec<_> = live_values(&Db::open(&db).unwrap())
        .into_iter()
        .filter(|(_, v)| v.starts_with(proto::MAGIC))
        .map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v))
        .collect();
    values.sort();
    out.extend(values);
    Some(out)
}

/// A small deterministic generator (xorshift), so failures replay.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Damaged copies of `values`: ~40 truncations and 30 copies with 1–4 flipped bits of each
/// (every fixture type once; cluster.db has thousands of similar values, so only every 10th).
pub fn damaged_values(values: &[(String, Vec<u8>)]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    values
        .iter()
        .enumerate()
        .filter(|(i, _)| *i < 400 || i % 10 == 0)
        .flat_map(move |(_, (_, pb))| {
            let step = (pb.len() / 40).max(1);
            let mut out: Vec<Vec<u8>> = (0..pb.len())
                .step_by(step)
                .map(|len| pb[..len].to_vec())
                .collect();
            for _ in 0..30 {
                let mut v = pb.clone();
                for _ in 0..=(rng.next() % 3) {
                    let bit = (rng.next() % (v.len() as u64 * 8)) as usize;
                    v[bit / 8] ^= 1 << (bit % 8);
                }
                out.push(v);
            }
            out
        })
}

/// A RawExtension holding an envelope holding ... `levels` deep (past the nesting bound, it
/// must end in an error).
pub fn deeply_nested(levels: usize) -> Vec<u8> {
    let mut nested = br#"{"a":1}"#.to_vec();
    for _ in 0..levels {
        let mut raw_extension = vec![0x0a];
        put_len(&mut raw_extension, &nested);
        nested = envelope("v1", "List", &carrier(&raw_extension));
    }
    nested
}

/// A Pod whose body's length prefix is far beyond the value.
pub const LENGTH_BEYOND_VALUE: &[u8] =
    b"k8s\0\x0a\x09\x0a\x02v1\x12\x03Pod\x12\xff\xff\xff\xff\x0f";

pub fn put_len(out: &mut Vec<u8>, data: &[u8]) {
    let mut n = data.len() as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend_from_slice(data);
}

/// A core/v1 List body whose `items` (field 2, RawExtension) is `raw_extension`.
pub fn carrier(raw_extension: &[u8]) -> Vec<u8> {
    let mut out = vec![0x12];
    put_len(&mut out, raw_extension);
    out
}

/// MAGIC + runtime.Unknown { typeMeta { apiVersion, kind }, raw: body }.
pub fn envelope(api_version: &str, kind: &str, body: &[u8]) -> Vec<u8> {
    let mut tm = vec![0x0a];
    put_len(&mut tm, api_version.as_bytes());
    tm.push(0x12);
    put_len(&mut tm, kind.as_bytes());
    let mut out = b"k8s\0".to_vec();
    out.push(0x0a);
    put_len(&mut out, &tm);
    out.push(0x12);
    put_len(&mut out, body);
    out
}
