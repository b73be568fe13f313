//! Unit tests; [`walk`] reads and checks what the writer wrote.

use std::io::Cursor;

use super::test_walker::{Entries, PageInfo, Walked, walk};
use super::*;
use crate::bbolt::page::{FLAG_META, PAGE_HEADER_SIZE, u32_at, u64_at};

/// Writes `buckets` into memory with `opts`.
fn write(opts: WriterOptions, buckets: &[(&[u8], Entries)]) -> Vec<u8> {
    let mut w = DbWriter::new(Cursor::new(Vec::new()), opts).unwrap();
    for (name, entries) in buckets {
        w.begin_bucket(name).unwrap();
        for (k, v) in entries {
            w.put(k, v).unwrap();
        }
    }
    let out = w.finish().unwrap();
    assert_eq!(out.position() as usize, out.get_ref().len());
    out.into_inner()
}

/// Writes, walks, and checks that what comes back is what went in.
fn round_trip(opts: WriterOptions, buckets: &[(&[u8], Entries)]) -> Walked {
    let file = write(opts, buckets);
    let walked = walk(&file);
    assert_eq!(walked.meta.page_size, opts.page_size);
    assert_eq!(walked.buckets.len(), buckets.len());
    for (got, (name, entries)) in walked.buckets.iter().zip(buckets) {
        assert_eq!(&got.name, name);
        assert!(got.entries == *entries, "entries of bucket {}", show(name));
    }
    walked
}

/// bbolt's own split of one node (`node.split` with fill percent 1.0), written plainly over
/// element sizes: the element counts of the pages it makes.
fn reference_split(sizes: &[usize], page_size: usize) -> Vec<usize> {
    let mut counts = Vec::new();
    let mut rest = sizes;
    loop {
        let size = PAGE_HEADER_SIZE + rest.iter().sum::<usize>();
        if rest.len() <= 4 || size < page_size {
            counts.push(rest.len());
            return counts;
        }
        let (mut index, mut filled) = (0, PAGE_HEADER_SIZE);
        for (i, &s) in rest.iter().enumerate().take(rest.len() - 2) {
            index = i;
            if i >= 2 && filled + s > page_size {
                break;
            }
            filled += s;
        }
        counts.push(index);
        rest = &rest[index..];
    }
}

/// Page counts per level (leaves first) that bbolt would make for these sorted entries.
fn reference_levels(entries: &Entries, page_size: usize) -> Vec<Vec<usize>> {
    let mut sizes: Vec<usize> = entries
        .iter()
        .map(|(k, v)| 16 + k.len() + v.len())
        .collect();
    let mut first_key_lens: Vec<usize> = entries.iter().map(|(k, _)| k.len()).collect();
    let mut levels = Vec::new();
    loop {
        let counts = reference_split(&sizes, page_size);
        // Each page becomes a branch element keyed by its first key.
        let mut first_of_page = Vec::new();
        let mut at = 0;
        for c in &counts {
            first_of_page.push(first_key_lens[at]);
            at += c;
        }
        let single_page = counts.len() == 1;
        levels.push(counts);
        if single_page {
            return levels;
        }
        sizes = first_of_page.iter().map(|k| 16 + k).collect();
        first_key_lens = first_of_page;
    }
}

fn page_counts_leaves_first(levels: &[Vec<PageInfo>]) -> Vec<Vec<usize>> {
    levels
        .iter()
        .rev()
        .map(|l| l.iter().map(|p| p.count).collect())
        .collect()
}

/// Deterministic pseudo-random numbers (xorshift64).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn revision_key(i: u64) -> Vec<u8> {
    let mut k = (i + 1).to_be_bytes().to_vec();
    k.push(b'_');
    k.extend_from_slice(&0u64.to_be_bytes());
    k
}

fn filled(len: usize, seed: u64) -> Vec<u8> {
    (0..len).map(|i| (i as u64 * 31 + seed) as u8).collect()
}

fn kv(k: &str, v: &str) -> (Vec<u8>, Vec<u8>) {
    (k.as_bytes().to_vec(), v.as_bytes().to_vec())
}

#[test]
fn tiny_file_has_the_exact_layout_of_section_2() {
    let file = write(
        WriterOptions::default(),
        &[(b"b", vec![kv("k1", "v1"), kv("k2", "v22")])],
    );
    let ps = 4096;
    assert_eq!(file.len(), 4 * ps, "metas, freelist, root leaf");

    // Meta 0 holds txid 2, meta 1 txid 1: root 3, freelist 2, pgid 4.
    for (id, txid) in [(0u64, 2u64), (1, 1)] {
        let page = &file[id as usize * ps..];
        assert_eq!(
            &page[..16],
            &PageHeader {
                id,
                flags: FLAG_META,
                count: 0,
                overflow: 0
            }
            .encode()
        );
        assert_eq!(&page[16..20], b"\xed\xda\x0c\xed");
        assert_eq!(u32_at(page, 20), 2, "version");
        assert_eq!(u32_at(page, 24), 4096, "page size");
        assert_eq!(u32_at(page, 28), 0, "flags");
        assert_eq!(u64_at(page, 32), 3, "root");
        assert_eq!(u64_at(page, 40), 0, "sequence");
        assert_eq!(u64_at(page, 48), 2, "freelist");
        assert_eq!(u64_at(page, 56), 4, "pgid");
        assert_eq!(u64_at(page, 64), txid, "txid");
        assert_eq!(u64_at(page, 72), crate::bbolt::meta::fnv1a64(&page[16..72]));
        assert!(page[80..ps].iter().all(|&b| b == 0));
    }

    // Page 2: an empty freelist.
    let freelist = &file[2 * ps..3 * ps];
    assert_eq!(&freelist[..16], b"\x02\0\0\0\0\0\0\0\x10\0\0\0\0\0\0\0");
    assert!(freelist[16..].iter().all(|&b| b == 0));

    // Page 3: the root bucket's leaf, one bucket element whose value is inline.
    let root = &file[3 * ps..4 * ps];
    assert_eq!(&root[..16], b"\x03\0\0\0\0\0\0\0\x02\0\x01\0\0\0\0\0");
    let inline_len = 16 + 16 + 2 * 16 + (2 + 2) + (2 + 3);
    assert_eq!(u32_at(root, 16), 1, "bucket flag");
    assert_eq!(
        u32_at(root, 20),
        16,
        "pos: data right after the single element"
    );
    assert_eq!(u32_at(root, 24), 1, "ksize");
    assert_eq!(u32_at(root, 28), inline_len as u32, "vsize");
    assert_eq!(root[32], b'b');
    let value = &root[33..33 + inline_len];
    assert_eq!(&value[..16], &[0; 16], "bucket header: root 0, sequence 0");
    assert_eq!(&value[16..32], b"\0\0\0\0\0\0\0\0\x02\0\x02\0\0\0\0\0");
    // Element 0 at inline offset 16: data at 16+32 = 48, so pos 32. Element 1 at 32: data at 52.
    assert_eq!(&value[32..48], b"\0\0\0\0\x20\0\0\0\x02\0\0\0\x02\0\0\0");
    assert_eq!(&value[48..64], b"\0\0\0\0\x14\0\0\0\x02\0\0\0\x03\0\0\0");
    assert_eq!(&value[64..], b"k1v1k2v22");
    assert!(root[33 + inline_len..].iter().all(|&b| b == 0));

    walk(&file);
}

#[test]
fn no_freelist_variant_and_odd_txid() {
    let opts = WriterOptions {
        page_size: 4096,
        freelist_page: false,
        txid: 7,
    };
    let walked = round_trip(opts, &[(b"meta", vec![kv("term", "x")])]);
    assert_eq!(walked.meta.freelist, PGID_NO_FREELIST);
    assert_eq!(
        (walked.meta.root, walked.meta.pgid, walked.meta.txid),
        (2, 3, 7)
    );
    let file = write(opts, &[(b"meta", vec![kv("term", "x")])]);
    assert_eq!(
        Meta::read_valid(&file[4096..]).unwrap().txid,
        7,
        "7 % 2 = page 1"
    );
    assert_eq!(Meta::read_valid(&file).unwrap().txid, 6);
}

#[test]
fn empty_bucket_is_a_32_byte_inline_value() {
    let walked = round_trip(WriterOptions::default(), &[(b"alarm", vec![])]);
    let mut expected = vec![0u8; 16];
    expected.extend_from_slice(b"\0\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0");
    assert_eq!(walked.buckets[0].value, expected);
}

#[test]
fn no_buckets_gives_an_empty_root_leaf() {
    let walked = round_trip(WriterOptions::default(), &[]);
    assert_eq!(walked.meta.pgid, 4);
    assert_eq!(
        walked.root_levels,
        vec![vec![PageInfo {
            pgid: 3,
            count: 0,
            overflow: 0
        }]]
    );
}

#[test]
fn buckets_up_to_a_quarter_page_are_inline() {
    // Node size 16 + (16 + 8 + v): 1024 at v = 984 stays inline, one byte more does not.
    for (page_size, at_limit) in [(4096usize, 984usize), (16384, 4056)] {
        let opts = WriterOptions {
            page_size: page_size as u32,
            ..WriterOptions::default()
        };
        let fits = vec![(b"12345678".to_vec(), vec![7; at_limit])];
        let over = vec![(b"12345678".to_vec(), vec![7; at_limit + 1])];
        let walked = round_trip(opts, &[(b"a", fits), (b"b", over)]);
        assert!(walked.buckets[0].levels.is_empty(), "inline");
        assert_eq!(walked.buckets[0].value.len(), 16 + page_size / 4);
        assert_eq!(walked.buckets[1].levels.len(), 1, "one leaf page");
        assert_eq!(walked.buckets[1].value.len(), 16);
    }
}

#[test]
fn leaves_split_across_pages_as_bbolt_splits_them() {
    let entries: Entries = (0..200)
        .map(|i| (revision_key(i), filled(100, i)))
        .collect();
    let walked = round_trip(WriterOptions::default(), &[(b"key", entries.clone())]);
    let levels = page_counts_leaves_first(&walked.buckets[0].levels);
    // Elements of 16 + 17 + 100 = 133 bytes: 30 fit in 4096 - 16.
    assert_eq!(levels[0][..6], [30, 30, 30, 30, 30, 30]);
    assert_eq!(levels, reference_levels(&entries, 4096));
    assert_eq!(
        walked.buckets[0].value[..8],
        walked.buckets[0].levels[0][0].pgid.to_le_bytes()
    );
}

#[test]
fn random_sizes_match_bbolts_split_rule_on_every_level() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (page_size, n) in [(1024usize, 3000u64), (4096, 3000), (16384, 2000)] {
        let entries: Entries = (0..n)
            .map(|i| {
                let key_len = 17 + rng.below(200) as usize;
                let mut key = revision_key(i);
                key.resize(key_len, b'k');
                let value_len = match rng.below(20) {
                    0 => rng.below(3 * page_size as u64) as usize,
                    1 => 0,
                    _ => rng.below(300) as usize,
                };
                (key, filled(value_len, i))
            })
            .collect();
        let opts = WriterOptions {
            page_size: page_size as u32,
            ..WriterOptions::default()
        };
        let walked = round_trip(opts, &[(b"key", entries.clone())]);
        let got = page_counts_leaves_first(&walked.buckets[0].levels);
        assert_eq!(
            got,
            reference_levels(&entries, page_size),
            "page size {page_size}"
        );
        assert!(got.len() >= 2);
    }
}

#[test]
fn three_level_tree() {
    // 233-byte leaf elements: 17 per leaf; 33-byte branch elements: 123 per branch page.
    let entries: Entries = (0..5000)
        .map(|i| (revision_key(i), filled(200, i)))
        .collect();
    let walked = round_trip(WriterOptions::default(), &[(b"key", entries.clone())]);
    let levels = &walked.buckets[0].levels;
    assert_eq!(levels.len(), 3);
    assert_eq!(levels[0].len(), 1, "one root");
    assert_eq!(levels[1].len(), 3);
    assert_eq!(levels[2].len(), 5000usize.div_ceil(17));
    assert_eq!(
        page_counts_leaves_first(levels),
        reference_levels(&entries, 4096)
    );
}

#[test]
fn large_values_get_overflow_pages() {
    let big = 1536 * 1024;
    let entries: Entries = vec![
        (revision_key(1), filled(6000, 1)),
        (revision_key(2), filled(big, 2)),
    ];
    let walked = round_trip(
        WriterOptions::default(),
        &[(b"a", entries[..1].to_vec()), (b"b", entries[1..].to_vec())],
    );
    let six_k = walked.buckets[0].levels[0][0];
    assert_eq!(
        (six_k.count, six_k.overflow),
        (1, 1),
        "16+16+17+6000 bytes: 2 pages"
    );
    let huge = walked.buckets[1].levels[0][0];
    let pages = (16 + 16 + 17 + big).div_ceil(4096) as u32;
    assert_eq!((huge.count, huge.overflow), (1, pages - 1));

    // Mixed with small values: bbolt keeps at least two elements per page, so big values share.
    let mut mixed: Entries = (0..40).map(|i| (revision_key(i), filled(50, i))).collect();
    mixed[10].1 = filled(6000, 10);
    mixed[11].1 = filled(7000, 11);
    mixed[30].1 = filled(big, 30);
    let walked = round_trip(WriterOptions::default(), &[(b"key", mixed.clone())]);
    let leaves = walked.buckets[0].levels.last().unwrap();
    assert!(leaves.iter().any(|p| p.overflow > 0 && p.count >= 2));
    assert_eq!(
        page_counts_leaves_first(&walked.buckets[0].levels),
        reference_levels(&mixed, 4096)
    );
}

#[test]
fn many_buckets_split_the_root_bucket() {
    let names: Vec<Vec<u8>> = (0..300)
        .map(|i| format!("bucket-{i:04}-{}", "n".repeat(60)).into_bytes())
        .collect();
    let buckets: Vec<(&[u8], Entries)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            (
                n.as_slice(),
                (0..i % 3).map(|j| kv(&format!("k{j}"), "v")).collect(),
            )
        })
        .collect();
    let walked = round_trip(WriterOptions::default(), &buckets);
    assert!(walked.root_levels.len() >= 2, "root bucket is a tree");
}

#[test]
fn bad_input_is_rejected_and_the_writer_stays_usable() {
    let mut w = DbWriter::new(Cursor::new(Vec::new()), WriterOptions::default()).unwrap();
    let kind = |r: io::Result<()>| r.unwrap_err().kind();
    assert_eq!(
        kind(w.put(b"k", b"v")),
        io::ErrorKind::InvalidInput,
        "put before bucket"
    );
    assert_eq!(kind(w.begin_bucket(b"")), io::ErrorKind::InvalidInput);
    assert_eq!(
        kind(w.begin_bucket(&[b'x'; MAX_KEY_SIZE + 1])),
        io::ErrorKind::InvalidInput
    );
    w.begin_bucket(b"b").unwrap();
    assert_eq!(
        kind(w.put(b"", b"v")),
        io::ErrorKind::InvalidInput,
        "empty key"
    );
    assert_eq!(
        kind(w.put(&[b'x'; MAX_KEY_SIZE + 1], b"v")),
        io::ErrorKind::InvalidInput
    );
    w.put(&[b'k'; MAX_KEY_SIZE], b"largest key").unwrap();
    assert_eq!(
        kind(w.put(&[b'k'; MAX_KEY_SIZE], b"v")),
        io::ErrorKind::InvalidInput,
        "repeat"
    );
    assert_eq!(
        kind(w.put(b"a", b"v")),
        io::ErrorKind::InvalidInput,
        "descending"
    );
    let err = w.begin_bucket(b"a").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("strictly ascending"), "{err}");
    assert_eq!(
        kind(w.begin_bucket(b"b")),
        io::ErrorKind::InvalidInput,
        "same bucket twice"
    );
    w.begin_bucket(b"c").unwrap();
    w.put(b"z", b"").unwrap();
    let walked = walk(&w.finish().unwrap().into_inner());
    assert_eq!(walked.buckets.len(), 2);
    assert_eq!(
        walked.buckets[0].entries,
        vec![(vec![b'k'; MAX_KEY_SIZE], b"largest key".to_vec())]
    );
    assert_eq!(walked.buckets[1].entries, vec![kv("z", "")]);

    for opts in [
        WriterOptions {
            page_size: 4000,
            ..WriterOptions::default()
        },
        WriterOptions {
            page_size: 512,
            ..WriterOptions::default()
        },
        WriterOptions {
            txid: 0,
            ..WriterOptions::default()
        },
    ] {
        let err = DbWriter::new(Cursor::new(Vec::new()), opts).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{opts:?}");
    }
}

/// A `Write + Seek` that only counts bytes, for the memory test.
#[derive(Default)]
struct CountingSink {
    len: u64,
}

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.len += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for CountingSink {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match pos {
            SeekFrom::Start(p) => Ok(p),
            _ => Ok(self.len),
        }
    }
}

#[test]
fn memory_stays_bounded_while_streaming() {
    let mut w = DbWriter::new(CountingSink::default(), WriterOptions::default()).unwrap();
    w.begin_bucket(b"key").unwrap();
    let mut most = 0;
    for i in 0..100_000 {
        w.put(&revision_key(i), &filled(100 + (i % 50) as usize, i))
            .unwrap();
        most = most.max(w.bucket.as_ref().unwrap().tree.buffered_bytes());
    }
    let tree = &w.bucket.as_ref().unwrap().tree;
    assert_eq!(tree.depth(), 3);
    // One page of leaf data plus two elements, and the same for each branch level.
    assert!(most < 3 * (4096 + 2 * 170), "buffered up to {most} bytes");
    let out = w.finish().unwrap();
    assert!(out.len > 100_000 * 133);
}

#[test]
fn write_db_file_writes_a_valid_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let buckets = vec![
        (
            b"key".to_vec(),
            (0..500)
                .map(|i| (revision_key(i), filled(90, i)))
                .collect::<Entries>(),
        ),
        (
            b"meta".to_vec(),
            vec![kv("consistent_index", "\0\0\0\0\0\0\0\x05")],
        ),
    ];
    write_db_file(&path, WriterOptions::default(), buckets.clone()).unwrap();
    let walked = walk(&std::fs::read(&path).unwrap());
    assert_eq!(walked.buckets[0].entries, buckets[0].1);
    assert_eq!(walked.buckets[1].entries, buckets[1].1);

    let err = write_db_file(
        &dir.path().join("no/such/dir"),
        WriterOptions::default(),
        [],
    )
    .unwrap_err();
    assert!(err.to_string().contains("no/such/dir"), "{err}");
}

#[test]
fn a_node_of_exactly_one_page_is_split_as_bbolt_does() {
    // bbolt splits a node unless it is *smaller* than a page; with 5 elements filling exactly
    // 4096 bytes, `splitIndex` never stops early and leaves 3 elements for the second page.
    let exact: Entries = (0..5).map(|i| (revision_key(i), filled(783, i))).collect();
    let walked = round_trip(WriterOptions::default(), &[(b"key", exact.clone())]);
    assert_eq!(
        page_counts_leaves_first(&walked.buckets[0].levels),
        vec![vec![2, 3], vec![2]]
    );
    let mut one_less = exact;
    one_less[4].1.pop();
    let walked = round_trip(WriterOptions::default(), &[(b"key", one_less)]);
    assert_eq!(
        page_counts_leaves_first(&walked.buckets[0].levels),
        vec![vec![5]]
    );
}
