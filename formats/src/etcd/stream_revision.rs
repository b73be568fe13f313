//! Finds the revision of a snapshot while its bytes stream by, without storing the db (used by
//! `snapshot save`, which cannot memory-map a stream; files are read with [`crate::bbolt::Db`]).
//!
//! The revision of a snapshot is the main revision of the last key of etcd's `key` bucket (what
//! `etcdutl snapshot status` reports). The server's own headers cannot give it: the snapshot is
//! taken at a moment of its own, and writes may land between a `Status` call and that moment.
//!
//! bbolt pages arrive in page-id order, but a B+tree's pages can be anywhere, so the scan keeps a
//! small summary of every page (layout: `docs/format-bbolt.md`):
//! - for each branch page, its last child (the walk only ever goes right-most);
//! - for each leaf page whose last key looks like a revision (`main(8) '_' sub(8) ['t']`), that
//!   revision — found even when the key lies in the leaf's overflow pages;
//! - the whole page of the root bucket (`meta.root`), to find the `key` bucket.
//!
//! At the end it walks root bucket → `key` bucket root → right-most branch children → leaf. Only
//! pages reachable from the meta are ever looked up, so stale (freed) pages and overflow data
//! that happens to look like a page header cannot mislead it. Memory: 16 bytes per leaf page
//! (about 4 MiB per GiB of db).

use super::revision::RevisionKey;
use crate::bbolt::meta::Meta;
use crate::bbolt::page::{
    BUCKET_LEAF_FLAG, FLAG_BRANCH, FLAG_LEAF, LEAF_ELEMENT_SIZE, PAGE_HEADER_SIZE, PageHeader,
    u32_at, u64_at,
};

/// Bytes needed before the page size is known: page header + meta record.
const META_PREFIX: usize = PAGE_HEADER_SIZE + 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// The element header of a leaf's last element (16 bytes).
    LeafElement { pgid: u64, elem_abs: u64 },
    /// The last key of a leaf.
    LeafKey { pgid: u64 },
    /// The full span of the root bucket's page.
    RootPage,
}

/// Bytes wanted at an absolute offset that have not all streamed by yet.
struct Pending {
    want: Want,
    start: u64,
    len: usize,
    buf: Vec<u8>,
}

#[derive(Default)]
pub struct RevisionScanner {
    /// Absolute offset of the first byte of `carry`.
    page_start: u64,
    carry: Vec<u8>,
    page_size: usize,
    meta: Option<Meta>,
    root_page: Option<Vec<u8>>,
    branch_last: Vec<(u64, u64)>,
    leaf_last: Vec<(u64, u64)>,
    pending: Vec<Pending>,
    broken: Option<String>,
}

impl RevisionScanner {
    pub fn new() -> RevisionScanner {
        RevisionScanner::default()
    }

    /// Feeds the next db bytes (never the 32-byte sha256 trailer).
    pub fn feed(&mut self, data: &[u8]) {
        if self.broken.is_some() || data.is_empty() {
            return;
        }
        if self.page_size == 0 {
            self.carry.extend_from_slice(data);
            if self.carry.len() < META_PREFIX {
                return;
            }
            let ps = Meta::parse(&self.carry)
                .map(|m| m.page_size as usize)
                .unwrap_or(0);
            if !(512..=1 << 20).contains(&ps) || !ps.is_power_of_two() {
                self.broken = Some(format!("page 0 is not a bbolt meta page (page size {ps})"));
                return;
            }
            self.page_size = ps;
            let buffered = std::mem::take(&mut self.carry);
            self.feed_pages(&buffered);
        } else {
            self.feed_pages(data);
        }
    }

    fn feed_pages(&mut self, mut data: &[u8]) {
        let ps = self.page_size;
        if !self.carry.is_empty() {
            let take = (ps - self.carry.len()).min(data.len());
            self.carry.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.carry.len() < ps {
                return;
            }
            let page = std::mem::take(&mut self.carry);
            self.page(&page);
            self.carry = page;
            self.carry.clear();
        }
        while data.len() >= ps && self.broken.is_none() {
            self.page(&data[..ps]);
            data = &data[ps..];
        }
        self.carry.extend_from_slice(data);
    }

    /// One whole page at `self.page_start`.
    fn page(&mut self, page: &[u8]) {
        let start = self.page_start;
        let pgid = start / self.page_size as u64;
        self.page_start += page.len() as u64;
        self.fill_pending(start, page);
        if pgid < 2 {
            if let Ok(m) = Meta::read_valid(page)
                && self.meta.is_none_or(|old| m.txid > old.txid)
            {
                self.meta = Some(m);
            }
            return;
        }
        let Some(h) = PageHeader::parse(page) else {
            return;
        };
        if h.id != pgid {
            // Overflow data, or a page never written: never reachable as a page of its own.
            return;
        }
        let ps = self.page_size as u64;
        if self.meta.is_some_and(|m| m.root == pgid) {
            let len = (1 + h.overflow as u64) * ps;
            self.want(Want::RootPage, start, len as usize, start, page);
        }
        let count = h.count as usize;
        if count == 0 {
            return;
        }
        let last = PAGE_HEADER_SIZE + LEAF_ELEMENT_SIZE * (count - 1);
        match h.flags {
            FLAG_BRANCH if last + 16 <= page.len() => {
                self.branch_last.push((pgid, u64_at(page, last + 8)));
            }
            FLAG_LEAF => {
                let elem_abs = start + last as u64;
                self.want(
                    Want::LeafElement { pgid, elem_abs },
                    elem_abs,
                    LEAF_ELEMENT_SIZE,
                    start,
                    page,
                );
            }
            _ => {}
        }
    }

    /// Registers wanted bytes and takes what the current page already holds.
    fn want(&mut self, want: Want, abs: u64, len: usize, page_start: u64, page: &[u8]) {
        if len > 64 << 20 {
            return;
        }
        self.pending.push(Pending {
            want,
            start: abs,
            len,
            buf: Vec::with_capacity(len.min(1 << 16)),
        });
        self.fill_pending(page_start, page);
    }

    fn fill_pending(&mut self, page_start: u64, page: &[u8]) {
        let page_end = page_start + page.len() as u64;
        let mut done = Vec::new();
        for (i, p) in self.pending.iter_mut().enumerate() {
            let have = p.start + p.buf.len() as u64;
            let want_end = p.start + p.len as u64;
            if have >= page_end || have < page_start {
                continue;
            }
            let from = (have - page_start) as usize;
            let to = (want_end.min(page_end) - page_start) as usize;
            p.buf.extend_from_slice(&page[from..to]);
            if p.buf.len() == p.len {
                done.push(i);
            }
        }
        for i in done.into_iter().rev() {
            let p = self.pending.swap_remove(i);
            self.complete(p, page_start, page);
        }
    }

    fn complete(&mut self, p: Pending, page_start: u64, page: &[u8]) {
        match p.want {
            Want::RootPage => self.root_page = Some(p.buf),
            Want::LeafElement { pgid, elem_abs } => {
                let flags = u32_at(&p.buf, 0);
                let pos = u32_at(&p.buf, 4) as u64;
                let ksize = u32_at(&p.buf, 8) as usize;
                if flags & BUCKET_LEAF_FLAG == 0 && (17..=18).contains(&ksize) {
                    self.want(
                        Want::LeafKey { pgid },
                        elem_abs + pos,
                        ksize,
                        page_start,
                        page,
                    );
                }
            }
            Want::LeafKey { pgid } => {
                if let Some(rev) = revision_of_key(&p.buf) {
                    self.leaf_last.push((pgid, rev));
                }
            }
        }
    }

    /// The snapshot's revision: `Ok(None)` when the `key` bucket is empty, `Err` with the reason
    /// when the db could not be followed (the caller then falls back to the server's header).
    pub fn finish(mut self) -> Result<Option<u64>, String> {
        if let Some(b) = self.broken {
            return Err(b);
        }
        if !self.carry.is_empty() {
            return Err("db is not a whole number of pages".into());
        }
        let meta = self.meta.ok_or("no valid meta page")?;
        let root = self
            .root_page
            .ok_or("root bucket page missing from the stream")?;
        let (_, value) = leaf_elements(&root)
            .ok_or("root bucket is not a single leaf page")?
            .into_iter()
            .find(|(k, _)| *k == b"key")
            .ok_or("no `key` bucket")?;
        if value.len() < 16 {
            return Err("`key` bucket header is truncated".into());
        }
        let bucket_root = u64_at(value, 0);
        if bucket_root == 0 {
            // Inline bucket: a leaf page image follows the 16-byte header.
            let elems = leaf_elements(&value[16..]).ok_or("inline `key` bucket is malformed")?;
            return Ok(elems.last().and_then(|(k, _)| revision_of_key(k)));
        }
        if bucket_root >= meta.pgid {
            return Err(format!("`key` bucket root {bucket_root} is beyond the db"));
        }
        self.leaf_last.sort_unstable();
        let mut cur = bucket_root;
        for _ in 0..64 {
            if let Ok(i) = self.branch_last.binary_search_by_key(&cur, |&(p, _)| p) {
                cur = self.branch_last[i].1;
                continue;
            }
            if let Ok(i) = self.leaf_last.binary_search_by_key(&cur, |&(p, _)| p) {
                return Ok(Some(self.leaf_last[i].1));
            }
            return Err(format!("`key` bucket page {cur} could not be read"));
        }
        Err("`key` bucket is deeper than 64 levels".into())
    }
}

/// `main(8, big-endian) '_' sub(8) ['t']` → main.
fn revision_of_key(k: &[u8]) -> Option<u64> {
    RevisionKey::parse(k).ok().map(|r| r.rev.main as u64)
}

/// Keys and values of a leaf page held entirely in `page` (with its overflow).
fn leaf_elements(page: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let h = PageHeader::parse(page)?;
    if h.flags != FLAG_LEAF {
        return None;
    }
    let mut out = Vec::with_capacity(h.count as usize);
    for i in 0..h.count as usize {
        let e = PAGE_HEADER_SIZE + LEAF_ELEMENT_SIZE * i;
        if e + LEAF_ELEMENT_SIZE > page.len() {
            return None;
        }
        let pos = u32_at(page, e + 4) as usize;
        let ksize = u32_at(page, e + 8) as usize;
        let vsize = u32_at(page, e + 12) as usize;
        let k = e.checked_add(pos)?;
        let v = k.checked_add(ksize)?;
        let end = v.checked_add(vsize)?;
        if end > page.len() {
            return None;
        }
        out.push((&page[k..v], &page[v..end]));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(db: &[u8], chunk: usize) -> Result<Option<u64>, String> {
        let mut s = RevisionScanner::new();
        for c in db.chunks(chunk) {
            s.feed(c);
        }
        s.finish()
    }

    /// The shared fixture: a real etcd 3.5 snapshot whose revision etcdutl reports as 3704.
    #[test]
    fn finds_the_revision_of_a_real_snapshot_in_any_chunking() {
        let Some(path) = revkeeper_harness::require_fixture("cluster-dev/cluster.db") else {
            return;
        };
        let file = std::fs::read(&path).unwrap();
        let db = &file[..file.len() - 32];
        for chunk in [32 * 1024, 4096, 1000, 7, 1 << 20] {
            assert_eq!(scan(db, chunk), Ok(Some(3704)), "chunk {chunk}");
        }
    }

    #[test]
    fn garbage_is_reported_not_guessed() {
        assert!(scan(&[0u8; 8192], 100).is_err());
        assert!(scan(b"short", 100).is_err());
    }
}
