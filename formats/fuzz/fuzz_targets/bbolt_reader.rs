//! Arbitrary bytes through the bbolt reader: open, check, free pages, and every bucket iterated,
//! looked up and seeked. Besides "no panic, no hang", it asserts that the reader and the checker
//! agree: a file `check` finds sound must iterate without error, and every key found by iteration
//! must be found again by `get` and `iter_from`.
//!
//! Input: byte 0 is a mode, the rest is the file (`bbolt_input.rs`): mode bit 0 recomputes both
//! meta checksums first, so the fuzzer can explore meta fields without forging FNV-1a.

#![no_main]

mod bbolt_input;

use libfuzzer_sys::fuzz_target;
use revkeeper_formats::bbolt::{Bucket, Db, check};

/// Buckets visited per input, to bound the harness itself on nested-bucket bombs.
const MAX_BUCKETS: usize = 256;

fuzz_target!(|input: &[u8]| {
    let Some((_, file)) = bbolt_input::split(input) else {
        return;
    };
    let Ok(db) = Db::from_bytes(file) else {
        return;
    };
    let sound = check(&db).is_empty();
    let free = db.free_pages();
    let in_use = db.in_use_size();
    if sound {
        assert!(
            free.is_ok() && in_use.is_ok(),
            "check is clean but free pages fail"
        );
    }
    let mut budget = MAX_BUCKETS;
    walk(db.root(), 0, sound, &mut budget);
});

/// Iterates `bucket` and checks lookups agree with the iteration; recurses into sub-buckets.
fn walk(bucket: Bucket<'_>, depth: usize, sound: bool, budget: &mut usize) {
    if *budget == 0 || depth > 8 {
        return;
    }
    *budget -= 1;
    let entries = match bucket.iter().collect::<Result<Vec<_>, _>>() {
        Ok(entries) => entries,
        Err(e) => {
            assert!(!sound, "check is clean but iteration failed: {e}");
            return;
        }
    };
    // The whole tree was read without error: every lookup must now succeed and agree.
    let mut subs = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            assert!(entries[i - 1].key < entry.key, "iteration out of order");
        }
        if entry.is_bucket {
            subs.push(entry.key);
        } else {
            assert_eq!(bucket.get(entry.key).unwrap(), Some(entry.value));
        }
        let first = bucket.iter_from(entry.key).next().unwrap().unwrap();
        assert_eq!(&first, entry);
    }
    for name in subs {
        match bucket.bucket(name) {
            Ok(Some(sub)) => walk(sub, depth + 1, sound, budget),
            Ok(None) => panic!("bucket entry is not found as a bucket"),
            Err(e) => assert!(!sound, "check is clean but a bucket does not open: {e}"),
        }
    }
}
