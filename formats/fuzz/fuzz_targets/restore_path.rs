//! The restore path: arbitrary bytes through the bbolt reader and, when the reader and `check`
//! accept them, every top-level bucket copied in order through `DbWriter`, the writer
//! `revkeeper snapshot restore` uses (`src/restore/db.rs`), into memory. The writer may refuse
//! (an `Err`), but never panic; when it succeeds, its output must open, `check` clean, and hold
//! exactly the same buckets, keys and values.
//!
//! Out of scope: plain keys in the root and buckets nested in buckets are left out of the copy and
//! of the comparison. etcd writes neither, and the restore copies top-level buckets as flat lists.
//!
//! Input: byte 0 is a mode, the rest is the file (`bbolt_input.rs`). Mode bit 0 recomputes both
//! meta checksums first; bit 1 writes the output without a freelist page, as etcd does on Linux.

#![no_main]

mod bbolt_input;

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use revkeeper_formats::bbolt::writer::{DbWriter, WriterOptions};
use revkeeper_formats::bbolt::{Bucket, Db, check};

type Buckets = Vec<(Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>)>;

fuzz_target!(|input: &[u8]| {
    let Some((mode, file)) = bbolt_input::split(input) else {
        return;
    };
    let Ok(db) = Db::from_bytes(file) else {
        return;
    };
    if !check(&db).is_empty() {
        return;
    }
    let source = read_buckets(&db).expect("check is clean but the buckets do not read");

    let opts = WriterOptions {
        page_size: db.page_size() as u32,
        freelist_page: mode & 2 == 0,
        txid: 2,
    };
    let Ok(written) = write(&source, opts) else {
        return;
    };
    let out = Db::from_bytes(written).expect("the writer's output does not open");
    let problems = check(&out);
    assert!(
        problems.is_empty(),
        "the writer's output fails check: {problems:?}"
    );
    let copied = read_buckets(&out).expect("the writer's output does not read");
    assert!(
        copied == source,
        "the writer's output differs from its input"
    );
});

/// Writes `buckets` as the restore does: each bucket begun in order, its keys put in order.
fn write(buckets: &Buckets, opts: WriterOptions) -> std::io::Result<Vec<u8>> {
    let mut w = DbWriter::new(Cursor::new(Vec::new()), opts)?;
    for (name, entries) in buckets {
        w.begin_bucket(name)?;
        for (k, v) in entries {
            w.put(k, v)?;
        }
    }
    Ok(w.finish()?.into_inner())
}

/// Every top-level bucket with its plain key-values.
fn read_buckets(db: &Db) -> Result<Buckets, String> {
    let mut buckets = Vec::new();
    for e in db.root().iter() {
        let e = e.map_err(|e| e.to_string())?;
        if !e.is_bucket {
            continue;
        }
        let bucket: Bucket<'_> = db
            .bucket(e.key)
            .map_err(|e| e.to_string())?
            .ok_or("a bucket entry does not open as a bucket")?;
        let mut entries = Vec::new();
        for kv in bucket.iter() {
            let kv = kv.map_err(|e| e.to_string())?;
            if kv.is_bucket {
                continue;
            }
            entries.push((kv.key.to_vec(), kv.value.to_vec()));
        }
        buckets.push((e.key.to_vec(), entries));
    }
    Ok(buckets)
}
