//! Hand-built bbolt files for the unit tests of this module tree (compiled for tests only).

use super::meta::{MAGIC, Meta, VERSION};
use super::page::*;

/// `(is_bucket, key, value)`.
pub(crate) type Item<'k> = (bool, &'k [u8], &'k [u8]);

/// A file under construction: pages 0 and 1 are reserved for the metas.
pub(crate) struct Builder {
    pub(crate) ps: usize,
    pub(crate) file: Vec<u8>,
}

impl Builder {
    pub(crate) fn new(ps: usize) -> Builder {
        Builder {
            ps,
            file: vec![0; 2 * ps],
        }
    }

    pub(crate) fn next_id(&self) -> Pgid {
        (self.file.len() / self.ps) as Pgid
    }

    /// Appends a page image (header first), padded to whole pages; sets its id and overflow.
    pub(crate) fn put(&mut self, mut image: Vec<u8>) -> Pgid {
        let id = self.next_id();
        let pages = image.len().div_ceil(self.ps).max(1);
        image[0..8].copy_from_slice(&id.to_le_bytes());
        image[12..16].copy_from_slice(&(pages as u32 - 1).to_le_bytes());
        image.resize(pages * self.ps, 0);
        self.file.extend_from_slice(&image);
        id
    }

    pub(crate) fn leaf(&mut self, items: &[Item<'_>]) -> Pgid {
        self.put(leaf_image(items))
    }

    pub(crate) fn branch(&mut self, items: &[(&[u8], Pgid)]) -> Pgid {
        let mut elems = Vec::new();
        let mut data = Vec::new();
        let base = PAGE_HEADER_SIZE + items.len() * BRANCH_ELEMENT_SIZE;
        for (i, (key, pgid)) in items.iter().enumerate() {
            let pos = base + data.len() - (PAGE_HEADER_SIZE + i * BRANCH_ELEMENT_SIZE);
            elems.extend_from_slice(&(pos as u32).to_le_bytes());
            elems.extend_from_slice(&(key.len() as u32).to_le_bytes());
            elems.extend_from_slice(&pgid.to_le_bytes());
            data.extend_from_slice(key);
        }
        self.put(image(FLAG_BRANCH, items.len(), elems, data))
    }

    /// A freelist page; uses the 0xFFFF count overflow when `ids.len() >= 0xFFFF` or `force`.
    pub(crate) fn freelist(&mut self, ids: &[Pgid], force_overflow: bool) -> Pgid {
        let overflow = force_overflow || ids.len() >= usize::from(FREELIST_COUNT_OVERFLOW);
        let mut data = Vec::new();
        if overflow {
            data.extend_from_slice(&(ids.len() as u64).to_le_bytes());
        }
        for id in ids {
            data.extend_from_slice(&id.to_le_bytes());
        }
        let count = if overflow {
            usize::from(FREELIST_COUNT_OVERFLOW)
        } else {
            ids.len()
        };
        self.put(image(FLAG_FREELIST, count, Vec::new(), data))
    }

    pub(crate) fn meta(&self, root: Pgid, freelist: Pgid, txid: u64) -> Meta {
        let mut m = Meta {
            magic: MAGIC,
            version: VERSION,
            page_size: self.ps as u32,
            flags: 0,
            root,
            sequence: 0,
            freelist,
            pgid: self.next_id(),
            txid,
            checksum: 0,
        };
        m.seal();
        m
    }

    /// Writes meta 0 with `txid` and meta 1 with `txid - 1`, as `Tx.WriteTo` does.
    pub(crate) fn finish(mut self, root: Pgid, freelist: Pgid, txid: u64) -> Vec<u8> {
        let m0 = self.meta(root, freelist, txid);
        let m1 = Meta {
            txid: txid - 1,
            ..m0
        };
        let ps = self.ps;
        self.file[..ps].copy_from_slice(&m0.encode_page(0));
        self.file[ps..2 * ps].copy_from_slice(&m1.encode_page(1));
        self.file
    }
}

fn image(flags: u16, count: usize, elems: Vec<u8>, data: Vec<u8>) -> Vec<u8> {
    let header = PageHeader {
        id: 0,
        flags,
        count: count as u16,
        overflow: 0,
    };
    let mut out = header.encode().to_vec();
    out.extend(elems);
    out.extend(data);
    out
}

/// A leaf page image with id 0 (also the page part of an inline bucket value).
pub(crate) fn leaf_image(items: &[Item<'_>]) -> Vec<u8> {
    let mut elems = Vec::new();
    let mut data = Vec::new();
    let base = PAGE_HEADER_SIZE + items.len() * LEAF_ELEMENT_SIZE;
    for (i, (bucket, key, value)) in items.iter().enumerate() {
        let pos = base + data.len() - (PAGE_HEADER_SIZE + i * LEAF_ELEMENT_SIZE);
        let flags = if *bucket { BUCKET_LEAF_FLAG } else { 0 };
        for v in [flags, pos as u32, key.len() as u32, value.len() as u32] {
            elems.extend_from_slice(&v.to_le_bytes());
        }
        data.extend_from_slice(key);
        data.extend_from_slice(value);
    }
    image(FLAG_LEAF, items.len(), elems, data)
}

/// The value of an inline bucket entry holding `items`.
pub(crate) fn inline_bucket(items: &[Item<'_>]) -> Vec<u8> {
    let mut v = vec![0u8; BUCKET_HEADER_SIZE];
    v.extend(leaf_image(items));
    v
}

/// The value of a bucket entry whose tree starts at page `root`.
pub(crate) fn bucket_ref(root: Pgid) -> Vec<u8> {
    let mut v = root.to_le_bytes().to_vec();
    v.extend_from_slice(&0u64.to_le_bytes());
    v
}

/// Root leaf (page 2) with one inline bucket `b` = {k: v}; metas txid 5 and 4.
pub(crate) fn small(ps: usize) -> Vec<u8> {
    let mut b = Builder::new(ps);
    let root = b.leaf(&[(true, b"b", &inline_bucket(&[(false, b"k", b"v")]))]);
    b.finish(root, PGID_NO_FREELIST, 5)
}
