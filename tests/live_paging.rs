//! The live source pages big ranges by bytes: pages grow over small values, shrink when a page
//! would be larger than the client accepts (72 MiB of 1 MiB values ahead of thousands of small
//! ones), stay pinned to the first page's revision, and return exactly what a snapshot of that
//! revision holds, in key order.

mod common;

use revkeeper::source::{KeyRange, RangeQuery, SnapshotSource, Source};
use revkeeper_harness::Member;

const SMALL: usize = 3000;
const BIG_MIB: usize = 72;

fn digest(source: &dyn Source, query: &RangeQuery) -> Vec<(Vec<u8>, String, i64)> {
    let mut out = Vec::new();
    source
        .scan(query, &mut |kv| {
            out.push((
                kv.key.to_vec(),
                common::sha256_hex(kv.value),
                kv.mod_revision,
            ));
            Ok(())
        })
        .expect("scan");
    out
}

#[test]
fn big_live_scans_are_paged_by_bytes_at_one_revision() {
    let member = Member::start_single();
    common::fill_random_mib(&member.endpoint(), BIG_MIB);
    let revision = common::fill_small(&member.endpoint(), SMALL);
    let rt = common::rt();
    let mut c = common::member_client(&rt, &member);
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap.db");
    common::save_snapshot(&rt, &mut c, &snap);

    let live = common::live_source(&member);
    let all = RangeQuery {
        range: KeyRange::prefix(""),
        revision: None,
        keys_only: false,
    };
    // Writes while the scan runs are not seen: every page reads the first page's revision.
    let mut seen = Vec::new();
    let mut wrote = false;
    live.scan(&all, &mut |kv| {
        if !wrote {
            wrote = true;
            rt.block_on(c.put("/zzz/written-during-scan", "x", None))
                .unwrap();
        }
        assert!(
            kv.mod_revision <= revision,
            "{}",
            String::from_utf8_lossy(kv.key)
        );
        seen.push((
            kv.key.to_vec(),
            common::sha256_hex(kv.value),
            kv.mod_revision,
        ));
        Ok(())
    })
    .expect("live scan");

    let file = SnapshotSource::open(&snap).expect("open snapshot");
    let expected = digest(&file, &all);
    assert_eq!(expected.len(), BIG_MIB + SMALL + 1);
    assert_eq!(seen.len(), expected.len());
    assert!(seen == expected, "the live scan differs from the snapshot");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "keys in order");

    // The same with keys only, and at an explicit revision after the extra write.
    let keys_only = RangeQuery {
        keys_only: true,
        revision: Some(revision),
        ..all
    };
    let mut keys = Vec::new();
    live.scan(&keys_only, &mut |kv| {
        keys.push(kv.key.to_vec());
        Ok(())
    })
    .expect("keys-only scan");
    let expected_keys: Vec<Vec<u8>> = expected.into_iter().map(|(k, _, _)| k).collect();
    assert_eq!(keys, expected_keys);
}
