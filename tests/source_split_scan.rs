//! A snapshot scan walks its revisions in parts on several threads and merges them: whatever
//! the split, the answer equals one walk's (key order, newest per key, deletes, ranges, `--rev`,
//! keys only, errors).

mod common;

use etcd_client::{Txn, TxnOp};
use revkeeper::source::{KeyRange, KeyRecord, RangeQuery, SnapshotSource, Source};
use revkeeper_formats::etcd::revision::Revision;
use revkeeper_harness::Member;

fn split_scan(
    source: &SnapshotSource,
    query: &RangeQuery,
    starts: &[Revision],
) -> revkeeper::Result<Vec<KeyRecord>> {
    let mut out = Vec::new();
    source.scan_split_at(query, starts, &mut |kv| {
        out.push(kv.to_record());
        Ok(())
    })?;
    Ok(out)
}

/// Every query answers the same unsplit, split at each of `splits` (alone, and with the next
/// split as a third part), and through [`Source::range`].
fn same_for_every_split(source: &SnapshotSource, queries: &[RangeQuery], splits: &[Revision]) {
    for query in queries {
        let want = split_scan(source, query, &[]).map_err(|e| e.to_string());
        let plain = source.range(query).map_err(|e| e.to_string());
        assert_eq!(plain, want, "{query:?}");
        for (i, &at) in splits.iter().enumerate() {
            let got = split_scan(source, query, &[at]).map_err(|e| e.to_string());
            assert_eq!(got, want, "{query:?} split at {at}");
            if let Some(&next) = splits.get(i + 3) {
                let got = split_scan(source, query, &[at, next]).map_err(|e| e.to_string());
                assert_eq!(got, want, "{query:?} split at {at} and {next}");
            }
        }
    }
}

fn query(range: KeyRange, revision: Option<i64>, keys_only: bool) -> RangeQuery {
    RangeQuery {
        range,
        revision,
        keys_only,
    }
}

/// Every revision of `source`, as splits at its first change and at its second.
fn every_revision(source: &SnapshotSource) -> Vec<Revision> {
    let mut revs = Vec::new();
    source
        .scan_changes(&KeyRange::prefix(""), &mut |c| {
            revs.push(c.revision);
            Ok(())
        })
        .unwrap();
    revs.dedup();
    let (first, last) = (revs[0], *revs.last().unwrap());
    (first..=last + 1)
        .flat_map(|m| [Revision::new(m, 0), Revision::new(m, 1)])
        .collect()
}

#[test]
fn the_bundled_sample_scans_the_same_for_every_split() {
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sample.db");
    let source = SnapshotSource::open(&sample).unwrap();
    let overview = source.overview().unwrap();
    let all = KeyRange::prefix("");
    let latest = source.range(&RangeQuery::latest(all.clone())).unwrap();
    assert!(latest.len() > 100, "{} keys", latest.len());
    let mid = (overview.compact_revision + overview.revision) / 2;
    let queries = [
        query(all.clone(), None, false),
        query(all.clone(), None, true),
        query(KeyRange::prefix("/registry/pods/"), None, false),
        query(
            KeyRange::key(latest[latest.len() / 2].key.clone()),
            None,
            false,
        ),
        query(all.clone(), Some(mid), false),
        query(all.clone(), Some(overview.revision + 1), false),
    ];
    let splits = every_revision(&source);
    let step = (splits.len() / 60).max(1);
    let some: Vec<Revision> = splits.iter().step_by(step).copied().collect();
    assert!(some.len() >= 30, "{} splits", some.len());
    same_for_every_split(&source, &queries, &some);
}

/// Keys put, deleted and put again on both sides of every split, transactions with several
/// changes (a split inside one), a compaction, ranges, every `--rev` and keys only.
#[test]
fn a_generated_snapshot_scans_the_same_for_every_split_and_revision() {
    let member = Member::start_single();
    let rt = common::rt();
    let mut c = common::member_client(&rt, &member);
    rt.block_on(async {
        for i in 0..12 {
            c.put(format!("/registry/pods/ns/p{i:02}"), format!("v{i}"), None)
                .await
                .unwrap();
        }
        c.put(
            "/registry/configmaps/ns/early",
            "gone before compaction",
            None,
        )
        .await
        .unwrap();
        c.delete("/registry/configmaps/ns/early", None)
            .await
            .unwrap();
        let r = c.get("x", None).await.unwrap().header().unwrap().revision();
        c.compact(r - 2, None).await.unwrap();
        for round in 0..6 {
            let key = format!("/registry/pods/ns/p{:02}", round * 2);
            c.delete(key.clone(), None).await.unwrap();
            c.put(format!("/registry/configmaps/ns/c{round}"), "x", None)
                .await
                .unwrap();
            c.put(key, format!("again{round}"), None).await.unwrap();
            // One transaction: a put, a delete and a put of other keys (revision subs 0..3).
            let txn = Txn::new().and_then([
                TxnOp::put(format!("/registry/secrets/ns/s{round}"), "s", None),
                TxnOp::delete(format!("/registry/pods/ns/p{:02}", round * 2 + 1), None),
                TxnOp::put(format!("/registry/events/ns/e{round}"), "e", None),
            ]);
            c.txn(txn).await.unwrap();
        }
        c.delete("/registry/configmaps/ns/c5", None).await.unwrap();
        c.put("/registry/configmaps/ns/c0", "last", None)
            .await
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("s.db");
    common::save_snapshot(&rt, &mut c, &snap);
    let source = SnapshotSource::open(&snap).unwrap();
    let overview = source.overview().unwrap();
    assert!(overview.compact_revision > 0);

    let ranges = [
        KeyRange::prefix(""),
        KeyRange::prefix("/registry/pods/"),
        KeyRange::key("/registry/pods/ns/p04"),
        KeyRange::key("/registry/configmaps/ns/early"),
    ];
    let mut queries = Vec::new();
    for range in &ranges {
        queries.push(query(range.clone(), None, true));
        // Every revision, the compacted ones and the future one (refused) included.
        for rev in 1..=overview.revision + 1 {
            queries.push(query(range.clone(), Some(rev), false));
        }
    }
    let splits = every_revision(&source);
    assert!(splits.len() > 60, "{} splits", splits.len());
    same_for_every_split(&source, &queries, &splits);

    // What the scan answers, spelled out once.
    let latest = source
        .range(&RangeQuery::latest(KeyRange::prefix("")))
        .unwrap();
    let keys: Vec<String> = latest
        .iter()
        .map(|r| String::from_utf8(r.key.clone()).unwrap())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(
        !keys
            .iter()
            .any(|k| k.ends_with("/early") || k.ends_with("/c5"))
    );
    let value = |k: &str| &latest.iter().find(|r| r.key == k.as_bytes()).unwrap().value;
    assert_eq!(value("/registry/pods/ns/p04"), b"again2");
    assert_eq!(value("/registry/configmaps/ns/c0"), b"last");
    assert!(!keys.contains(&"/registry/pods/ns/p05".to_string()));
    assert_eq!(
        keys.len(),
        6 + 5 + 6 + 6,
        "pods, configmaps, secrets, events"
    );

    // A damaged entry is the same error (naming the snapshot) for every split: the key length
    // of p04's stored KeyValues made to run past their end. Every copy in the file is damaged:
    // the file also holds freed pages, and which copy is live differs from run to run.
    let mut bytes = std::fs::read(&snap).unwrap();
    let key = b"/registry/pods/ns/p04";
    let field: Vec<u8> = [&[0x0a, key.len() as u8][..], key].concat();
    let copies: Vec<usize> = (0..bytes.len() - field.len())
        .filter(|&at| bytes[at..].starts_with(&field))
        .collect();
    assert!(!copies.is_empty(), "a KeyValue's key field of p04");
    for at in copies {
        bytes[at + 1] = 0x7f;
    }
    let damaged = SnapshotSource::from_bytes(bytes, "damaged.db").unwrap();
    let all = query(KeyRange::prefix(""), None, false);
    let err = split_scan(&damaged, &all, &[]).unwrap_err().to_string();
    assert!(
        err.contains("damaged.db") && err.contains("is not a KeyValue"),
        "{err}"
    );
    same_for_every_split(&damaged, &[all], &splits);
}
