//! A small bbolt reader for the writer's unit tests (the crate's real reader is written elsewhere):
//! it walks a written file, checks what `tx.Check()` checks (`docs/format-bbolt.md#check`) plus the
//! writer's own layout promises (metas, exact length, every page reachable once, branch keys equal
//! to their child's first key, no empty non-root page, `overflow` matching the node size), and
//! returns the buckets' contents and page shapes.

use std::collections::BTreeSet;

use crate::bbolt::meta::Meta;
use crate::bbolt::page::{
    BUCKET_HEADER_SIZE, BUCKET_LEAF_FLAG, FLAG_BRANCH, FLAG_FREELIST, FLAG_LEAF, FLAG_META,
    PAGE_HEADER_SIZE, PGID_NO_FREELIST, PageHeader, Pgid, u32_at, u64_at,
};

pub(super) type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// What the walker found in a file.
#[derive(Debug)]
pub(super) struct Walked {
    pub(super) meta: Meta,
    pub(super) buckets: Vec<WalkedBucket>,
    /// Pages of the root bucket's tree, by depth (0 = root).
    pub(super) root_levels: Vec<Vec<PageInfo>>,
}

#[derive(Debug)]
pub(super) struct WalkedBucket {
    pub(super) name: Vec<u8>,
    /// The raw bucket value stored in the root bucket.
    pub(super) value: Vec<u8>,
    pub(super) entries: Entries,
    /// Pages by depth (0 = root); empty for an inline bucket.
    pub(super) levels: Vec<Vec<PageInfo>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PageInfo {
    pub(super) pgid: Pgid,
    pub(super) count: usize,
    pub(super) overflow: u32,
}

/// Parses `file`, checks it the way `tx.Check()` does and more, and returns its contents.
pub(super) fn walk(file: &[u8]) -> Walked {
    let meta0 = Meta::read_valid(file).expect("meta 0 valid");
    let page_size = meta0.page_size as usize;
    let meta1 = Meta::read_valid(&file[page_size..]).expect("meta 1 valid");
    assert_eq!(PageHeader::parse(file).unwrap().flags, FLAG_META);
    assert_eq!(PageHeader::parse(&file[page_size..]).unwrap().id, 1);
    let (newer, older) = if meta0.txid > meta1.txid {
        (meta0, meta1)
    } else {
        (meta1, meta0)
    };
    assert_eq!(older.txid + 1, newer.txid);
    assert_eq!(
        Meta {
            txid: newer.txid,
            checksum: 0,
            ..older
        },
        Meta {
            checksum: 0,
            ..newer
        },
        "metas differ in more than txid"
    );
    let pgid_of_newer = if newer == meta0 { 0 } else { 1 };
    assert_eq!(newer.txid % 2, pgid_of_newer, "txid T lives in page T%2");
    assert_eq!(file.len(), newer.pgid as usize * page_size, "file length");

    let mut walker = Walker {
        file,
        page_size,
        high_water: newer.pgid,
        reachable: BTreeSet::from([0, 1]),
    };
    if newer.freelist != PGID_NO_FREELIST {
        assert_eq!(newer.freelist, 2);
        let header = walker.page_header(2);
        assert_eq!(
            (header.flags, header.count, header.overflow),
            (FLAG_FREELIST, 0, 0)
        );
        walker.reachable.insert(2);
    }
    let mut root_entries = Vec::new();
    let root_levels = walker.tree(newer.root, true, &mut root_entries);
    let mut buckets = Vec::new();
    for (flags, name, value) in root_entries {
        assert_eq!(flags, BUCKET_LEAF_FLAG, "root bucket entries are buckets");
        let root = u64_at(&value, 0);
        assert_eq!(u64_at(&value, 8), 0, "sequence");
        let mut entries = Vec::new();
        let levels = if root == 0 {
            let inline = &value[BUCKET_HEADER_SIZE..];
            let header = PageHeader::parse(inline).unwrap();
            assert_eq!(
                (header.id, header.flags, header.overflow),
                (0, FLAG_LEAF, 0)
            );
            assert!(value.len() <= BUCKET_HEADER_SIZE + page_size / 4);
            leaf_entries(inline, &mut entries);
            Vec::new()
        } else {
            assert_eq!(value.len(), BUCKET_HEADER_SIZE);
            let mut flagged = Vec::new();
            let levels = walker.tree(root, false, &mut flagged);
            assert!(flagged.iter().all(|(f, _, _)| *f == 0), "no nested buckets");
            entries = flagged.into_iter().map(|(_, k, v)| (k, v)).collect();
            levels
        };
        assert!(
            entries.windows(2).all(|w| w[0].0 < w[1].0),
            "keys ascending"
        );
        buckets.push(WalkedBucket {
            name,
            value,
            entries,
            levels,
        });
    }
    let all: Vec<Pgid> = (0..newer.pgid).collect();
    let reached: Vec<Pgid> = walker.reachable.iter().copied().collect();
    assert_eq!(
        reached, all,
        "every page is reachable, none twice (compact file)"
    );
    Walked {
        meta: newer,
        buckets,
        root_levels,
    }
}

struct Walker<'a> {
    file: &'a [u8],
    page_size: usize,
    high_water: Pgid,
    reachable: BTreeSet<Pgid>,
}

impl<'a> Walker<'a> {
    fn page_header(&self, pgid: Pgid) -> PageHeader {
        PageHeader::parse(&self.file[pgid as usize * self.page_size..]).unwrap()
    }

    /// The bytes of a page and its overflow pages, after marking them reachable.
    fn claim(&mut self, pgid: Pgid) -> (PageHeader, &'a [u8]) {
        let header = self.page_header(pgid);
        assert_eq!(header.id, pgid, "page id");
        let pages = header.overflow as u64 + 1;
        assert!(pgid + pages <= self.high_water, "page {pgid} out of bounds");
        for p in pgid..pgid + pages {
            assert!(self.reachable.insert(p), "page {p} referenced twice");
        }
        let start = pgid as usize * self.page_size;
        let bytes = &self.file[start..start + pages as usize * self.page_size];
        (header, bytes)
    }

    /// Walks a tree; appends `(flags, key, value)` of its leaves; returns its pages by depth.
    fn tree(
        &mut self,
        root: Pgid,
        may_be_empty: bool,
        out: &mut Vec<(u32, Vec<u8>, Vec<u8>)>,
    ) -> Vec<Vec<PageInfo>> {
        let mut levels = Vec::new();
        self.node(root, 0, None, may_be_empty, out, &mut levels);
        levels
    }

    fn node(
        &mut self,
        pgid: Pgid,
        depth: usize,
        parent_key: Option<&[u8]>,
        may_be_empty: bool,
        out: &mut Vec<(u32, Vec<u8>, Vec<u8>)>,
        levels: &mut Vec<Vec<PageInfo>>,
    ) {
        let (header, bytes) = self.claim(pgid);
        let count = header.count as usize;
        assert!(count > 0 || may_be_empty, "empty page {pgid}");
        assert_eq!(
            header.overflow as usize + 1,
            node_size(bytes, header).div_ceil(self.page_size).max(1),
            "overflow of page {pgid}"
        );
        if levels.len() == depth {
            levels.push(Vec::new());
        }
        levels[depth].push(PageInfo {
            pgid,
            count,
            overflow: header.overflow,
        });
        match header.flags {
            FLAG_LEAF => {
                let first = out.len();
                leaf_entries_flagged(bytes, out);
                if let (Some(parent_key), Some((_, key, _))) = (parent_key, out.get(first)) {
                    assert_eq!(parent_key, key.as_slice(), "branch key = child's first key");
                }
            }
            FLAG_BRANCH => {
                let children = branch_elements(bytes);
                if let Some(parent_key) = parent_key {
                    assert_eq!(parent_key, children[0].0.as_slice(), "branch key");
                }
                for (key, child) in children {
                    self.node(child, depth + 1, Some(&key), false, out, levels);
                }
            }
            other => panic!("page {pgid} has flags {other:#x}"),
        }
    }
}

/// bbolt's node size of a written page: header, elements, and the data they point at.
fn node_size(page: &[u8], header: PageHeader) -> usize {
    let count = header.count as usize;
    let mut size = PAGE_HEADER_SIZE + 16 * count;
    for i in 0..count {
        let e = PAGE_HEADER_SIZE + 16 * i;
        size += if header.flags == FLAG_LEAF {
            u32_at(page, e + 8) as usize + u32_at(page, e + 12) as usize
        } else {
            u32_at(page, e + 4) as usize
        };
    }
    size
}

fn leaf_entries_flagged(page: &[u8], out: &mut Vec<(u32, Vec<u8>, Vec<u8>)>) {
    let header = PageHeader::parse(page).unwrap();
    assert_eq!(header.flags, FLAG_LEAF);
    for i in 0..header.count as usize {
        let e = PAGE_HEADER_SIZE + 16 * i;
        let (flags, pos) = (u32_at(page, e), u32_at(page, e + 4) as usize);
        let (ksize, vsize) = (u32_at(page, e + 8) as usize, u32_at(page, e + 12) as usize);
        let key = &page[e + pos..e + pos + ksize];
        let value = &page[e + pos + ksize..e + pos + ksize + vsize];
        out.push((flags, key.to_vec(), value.to_vec()));
    }
}

fn leaf_entries(page: &[u8], out: &mut Entries) {
    let mut flagged = Vec::new();
    leaf_entries_flagged(page, &mut flagged);
    out.extend(flagged.into_iter().map(|(_, k, v)| (k, v)));
}

fn branch_elements(page: &[u8]) -> Vec<(Vec<u8>, Pgid)> {
    let header = PageHeader::parse(page).unwrap();
    (0..header.count as usize)
        .map(|i| {
            let e = PAGE_HEADER_SIZE + 16 * i;
            let (pos, ksize) = (u32_at(page, e) as usize, u32_at(page, e + 4) as usize);
            (page[e + pos..e + pos + ksize].to_vec(), u64_at(page, e + 8))
        })
        .collect()
}
