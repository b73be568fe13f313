//! Fuzz seeds for `formats/fuzz` (the `bbolt_reader` target), built with the test builder; an
//! ignored test that writes files, compiled for tests only.

use super::check;
use super::db::Db;
use super::meta::Meta;
use super::page::{PGID_NO_FREELIST, Pgid};
use super::testfile::{Builder, bucket_ref, inline_bucket, small};

/// Writes fuzz seeds (mode byte 0, then a file) into `$REVKEEPER_FUZZ_SEEDS`; see
/// `formats/fuzz/README.md`.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir = std::path::PathBuf::from(std::env::var("REVKEEPER_FUZZ_SEEDS").unwrap());
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    let mut named: Vec<(String, Vec<u8>)> = Vec::new();
    for ps in [256, 512, 1024, 4096] {
        seeds.push(small(ps));
        for synced in [false, true] {
            let mut b = Builder::new(ps);
            let keys: Vec<Vec<u8>> = (0..60).map(|i| format!("key{i:03}").into_bytes()).collect();
            let leaves: Vec<(Vec<u8>, Pgid)> = keys
                .chunks(6)
                .map(|c| {
                    let items: Vec<_> = c.iter().map(|k| (false, &k[..], &k[..])).collect();
                    (c[0].clone(), b.leaf(&items))
                })
                .collect();
            let items: Vec<_> = leaves.iter().map(|(k, id)| (&k[..], *id)).collect();
            let tree = b.branch(&items);
            let big = vec![0xAB; ps * 2];
            let nested = b.leaf(&[(false, b"big", &big), (false, b"z", b"")]);
            let orphan = b.leaf(&[]);
            let inline = inline_bucket(&[(true, b"in", &inline_bucket(&[(false, b"a", b"b")]))]);
            let root = b.leaf(&[
                (true, b"i", &inline),
                (true, b"n", &bucket_ref(nested)),
                (true, b"t", &bucket_ref(tree)),
            ]);
            let fl = if synced {
                b.freelist(&[orphan], ps == 256)
            } else {
                PGID_NO_FREELIST
            };
            let file = b.finish(root, fl, 3);
            let db = Db::from_bytes(file.clone()).unwrap();
            assert!(check(&db).is_empty());
            assert_eq!(db.bucket(b"t").unwrap().unwrap().iter().count(), 60);
            seeds.push(file);
        }
    }
    // The real fixture is an extra seed when it is there (this writes seeds; it tests nothing).
    let fixture = revkeeper_harness::fixtures_dir().join("cluster-dev/cluster.db");
    if let Ok(real) = std::fs::read(fixture) {
        // A 16-page prefix with metas saying 16 pages: a real root page, dangling children.
        let mut prefix = real[..16 * 4096].to_vec();
        for i in 0..2 {
            let page = &mut prefix[i * 4096..(i + 1) * 4096];
            let m = Meta {
                pgid: 16,
                ..Meta::parse(page).unwrap()
            };
            page.copy_from_slice(&m.encode_page(i as u64));
        }
        named.push(("fixture-prefix".into(), prefix));
        named.push(("fixture".into(), real));
    }
    let numbered = seeds.into_iter().enumerate();
    for (name, seed) in numbered
        .map(|(i, s)| (format!("seed-{i:02}"), s))
        .chain(named)
    {
        let mut bytes = vec![0u8];
        bytes.extend_from_slice(&seed);
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
