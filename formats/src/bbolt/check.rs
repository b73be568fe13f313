//! `bbolt check` (`tx.Check()`, `docs/format-bbolt.md#check`): every page below the high-water mark
//! is reachable exactly once or free, reachable pages are not free, tree pages are branches or
//! leaves whose elements fit and whose keys are ordered, and both metas are valid.
//!
//! The walk visits each page at most once and caps the total number of elements it reads at what
//! the file can hold, so a corrupt file (cycles, shared subtrees, overlapping inline buckets) cannot
//! make it loop or blow up.

use super::cursor::{MAX_DEPTH, Root, parse_bucket_value};
use super::db::Db;
use super::error::{Error, write_one_line};
use super::freelist;
use super::node::Node;
use super::page::{LEAF_ELEMENT_SIZE, PGID_NO_FREELIST, Pgid};

/// At most this many problems are listed; the rest are counted in a last problem.
pub const MAX_PROBLEMS: usize = 1000;

/// One inconsistency found by [`check`]. Displayed like [`Error`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub pgid: Option<Pgid>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_one_line(f, self.pgid, &self.message)
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Problem {
        Problem {
            pgid: e.pgid,
            message: e.message,
        }
    }
}

impl From<Problem> for Error {
    fn from(p: Problem) -> Error {
        Error {
            pgid: p.pgid,
            message: p.message,
        }
    }
}

/// Checks the whole file like `bbolt check`; an empty list means OK.
pub fn check(db: &Db) -> Vec<Problem> {
    let meta = *db.meta();
    let mut w = Walker::new(db, true);
    for index in 0..2 {
        if let Err(why) = db.meta_at(index) {
            w.problem(Some(index), format!("invalid meta: {why}"));
        }
    }

    let synced = meta.freelist != PGID_NO_FREELIST;
    let mut freed = Bitset::new(meta.pgid);
    if synced {
        match freelist::read_page(db, meta.freelist) {
            Ok((ids, span)) => {
                for id in meta.freelist..meta.freelist + span {
                    w.reachable.set(id);
                }
                for id in ids {
                    if id < 2 || id >= meta.pgid {
                        w.problem(
                            Some(meta.freelist),
                            format!("freelist lists page {id}, outside 2..{}", meta.pgid),
                        );
                    } else if freed.get(id) {
                        w.problem(Some(id), "already freed".into());
                    } else {
                        freed.set(id);
                    }
                }
            }
            Err(e) => {
                w.reachable.set(meta.freelist);
                w.problems.push(e.into());
            }
        }
        w.freed = Some(freed);
    }

    w.walk(Root::Page(meta.root));

    if let Some(freed) = &w.freed {
        let unreachable: Vec<Pgid> = (0..meta.pgid)
            .filter(|&id| !w.reachable.get(id) && !freed.get(id))
            .collect();
        for id in unreachable {
            w.problem(Some(id), "unreachable unfreed".into());
        }
    }
    w.finish()
}

/// The pages reachable from the root bucket, plus the two metas. Fails on the first problem the
/// walk finds.
pub(crate) fn reachable_pages(db: &Db) -> Result<Bitset, Error> {
    let mut w = Walker::new(db, false);
    w.walk(Root::Page(db.meta().root));
    match w.problems.into_iter().next() {
        Some(p) => Err(p.into()),
        None => Ok(w.reachable),
    }
}

/// One bit per page id.
pub(crate) struct Bitset(Vec<u64>);

impl Bitset {
    fn new(len: u64) -> Bitset {
        Bitset(vec![0; len.div_ceil(64) as usize])
    }

    pub(crate) fn get(&self, id: u64) -> bool {
        self.0
            .get((id / 64) as usize)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    /// Sets bit `id` (ignored when out of range) and returns whether it was already set.
    fn set(&mut self, id: u64) -> bool {
        match self.0.get_mut((id / 64) as usize) {
            Some(w) => {
                let was = *w & (1 << (id % 64)) != 0;
                *w |= 1 << (id % 64);
                was
            }
            None => false,
        }
    }
}

struct Walker<'a> {
    db: &'a Db,
    reachable: Bitset,
    /// The synced freelist, for "reachable freed".
    freed: Option<Bitset>,
    problems: Vec<Problem>,
    /// Problems found beyond [`MAX_PROBLEMS`].
    dropped: usize,
    /// Keep walking after the first problem (check) or stop (freelist rebuild).
    keep_going: bool,
    /// Elements still allowed to be read. In a sound file every element has its own 16 bytes.
    budget: u64,
    /// Buckets found but not walked yet.
    buckets: Vec<Root<'a>>,
}

impl<'a> Walker<'a> {
    fn new(db: &'a Db, keep_going: bool) -> Walker<'a> {
        let mut reachable = Bitset::new(db.meta().pgid);
        reachable.set(0);
        reachable.set(1);
        Walker {
            db,
            reachable,
            freed: None,
            problems: Vec::new(),
            dropped: 0,
            keep_going,
            budget: (db.data().len() / LEAF_ELEMENT_SIZE) as u64,
            buckets: Vec::new(),
        }
    }

    fn problem(&mut self, pgid: Option<Pgid>, message: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem { pgid, message });
        } else {
            self.dropped += 1;
        }
    }

    fn stopped(&self) -> bool {
        self.budget == 0 || (!self.keep_going && !self.problems.is_empty())
    }

    fn finish(mut self) -> Vec<Problem> {
        if self.dropped > 0 {
            let n = self.dropped;
            self.problems.push(Problem {
                pgid: None,
                message: format!("{n} more problems not listed"),
            });
        }
        self.problems
    }

    /// Walks a bucket and every bucket nested in it (a work list, not recursion).
    fn walk(&mut self, root: Root<'a>) {
        self.buckets.push(root);
        while let Some(root) = self.buckets.pop() {
            if self.stopped() {
                return;
            }
            match root {
                Root::Page(id) => self.page(id, None, None, 0),
                Root::Inline { holder, page } => match Node::new(holder, true, page) {
                    Ok(node) => self.elements(node, None, None, 0),
                    Err(e) => self.problem(e.pgid, e.message),
                },
            }
        }
    }

    /// Marks page `pgid` (and its overflow pages) reachable and checks it, the first time only.
    fn page(&mut self, pgid: Pgid, lo: Option<&'a [u8]>, hi: Option<&'a [u8]>, depth: usize) {
        if self.stopped() {
            return;
        }
        let high = self.db.meta().pgid;
        if pgid >= high {
            self.problem(
                Some(pgid),
                format!("out of bounds: high-water mark is {high}"),
            );
            return;
        }
        if depth >= MAX_DEPTH {
            self.problem(
                Some(pgid),
                format!("tree is deeper than {MAX_DEPTH} levels (a page cycle?)"),
            );
            return;
        }
        let (span, bytes) = match self.db.page(pgid) {
            Ok((h, bytes)) => (1 + u64::from(h.overflow), Some(bytes)),
            Err(e) => {
                self.problem(e.pgid, e.message);
                (1, None)
            }
        };
        let mut first_visit = true;
        for id in pgid..pgid + span {
            if self.reachable.set(id) {
                self.problem(Some(id), "multiple references".into());
                first_visit &= id != pgid;
            }
            if self.freed.as_ref().is_some_and(|f| f.get(id)) {
                self.problem(Some(id), "reachable freed".into());
            }
        }
        let Some(bytes) = bytes.filter(|_| first_visit) else {
            return;
        };
        match Node::new(pgid, false, bytes) {
            Ok(node) => self.elements(node, lo, hi, depth),
            Err(e) => self.problem(e.pgid, e.message),
        }
    }

    /// Checks every element of `node`: bounds, flags, key order, and recurses into children.
    fn elements(
        &mut self,
        node: Node<'a>,
        lo: Option<&'a [u8]>,
        hi: Option<&'a [u8]>,
        depth: usize,
    ) {
        let count = node.count as u64;
        if count > self.budget {
            self.budget = 0;
            self.problem(
                Some(node.pgid),
                "the trees reference more elements than the file can hold (overlapping pages or \
                 inline buckets?); stopped checking"
                    .into(),
            );
            return;
        }
        self.budget -= count;
        let mut prev: Option<&'a [u8]> = None;
        for i in 0..node.count {
            if self.stopped() {
                return;
            }
            // The key, and what hangs below it: a sub-bucket's value or a child page.
            let read = if node.leaf {
                node.leaf_elem(i)
                    .map(|e| (e.key, e.is_bucket.then_some(e.value), None))
            } else {
                node.branch_elem(i)
                    .map(|(key, child)| (key, None, Some(child)))
            };
            let (key, bucket, child) = match read {
                Ok(x) => x,
                Err(e) => {
                    self.problem(e.pgid, e.message);
                    continue;
                }
            };
            self.order(&node, i, key, prev, lo, hi);
            prev = Some(key);
            if let Some(value) = bucket {
                match parse_bucket_value(value, node.pgid) {
                    Ok(root) => self.buckets.push(root),
                    Err(e) => self.problem(e.pgid, format!("element {i}: {}", e.message)),
                }
            }
            if let Some(child) = child {
                let child_hi = match node.key(i + 1) {
                    Ok(k) if i + 1 < node.count => Some(k),
                    _ => hi,
                };
                self.page(child, Some(key), child_hi, depth + 1);
            }
        }
    }

    /// bbolt's key-order rules for key `i` of `node` (`docs/format-bbolt.md#check`, item 3).
    fn order(
        &mut self,
        node: &Node<'a>,
        i: usize,
        key: &[u8],
        prev: Option<&[u8]>,
        lo: Option<&[u8]>,
        hi: Option<&[u8]>,
    ) {
        let what = if node.leaf { "leaf" } else { "branch" };
        let say = |this: &mut Self, m: String| {
            let e = node.err(m);
            this.problem(e.pgid, e.message);
        };
        match (prev, lo) {
            (Some(p), _) if key <= p => say(
                self,
                format!(
                    "{what} key[{i}] {} is not greater than the previous key {}",
                    hex(key),
                    hex(p)
                ),
            ),
            (None, Some(lo)) if key < lo => say(
                self,
                format!(
                    "{what} key[{i}] {} is below the parent's key {}",
                    hex(key),
                    hex(lo)
                ),
            ),
            _ => {}
        }
        if let Some(hi) = hi.filter(|hi| key >= *hi) {
            say(
                self,
                format!(
                    "{what} key[{i}] {} is not below the parent's next key {}",
                    hex(key),
                    hex(hi)
                ),
            );
        }
    }
}

/// Keys in messages: hex, cut at 64 bytes.
fn hex(b: &[u8]) -> String {
    let mut s: String = b.iter().take(64).map(|x| format!("{x:02x}")).collect();
    if b.len() > 64 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::meta::Meta;
    use super::super::testfile::{Builder, bucket_ref, inline_bucket};
    use super::*;

    const PS: usize = 1024;

    fn messages(db: &Db) -> Vec<String> {
        check(db).iter().map(|p| p.to_string()).collect()
    }

    /// Root leaf (page 2) with bucket `p` → page 3 and inline bucket `i`; page 4 is an orphan;
    /// page 5 the freelist listing `ids`.
    fn synced(ids: &[Pgid]) -> Db {
        let mut b = Builder::new(PS);
        let root = b.leaf(&[
            (true, b"i", &inline_bucket(&[(false, b"x", b"1")])),
            (true, b"p", &bucket_ref(3)),
        ]);
        b.leaf(&[(false, b"k", b"v")]);
        b.leaf(&[]);
        let fl = b.freelist(ids, false);
        Db::from_bytes(b.finish(root, fl, 4)).unwrap()
    }

    #[test]
    fn a_sound_file_is_ok() {
        assert!(check(&synced(&[4])).is_empty());
        let mut b = Builder::new(PS);
        let l1 = b.leaf(&[(false, b"a", b""), (false, b"b", b"")]);
        let l2 = b.leaf(&[(false, b"c", b""), (false, b"d", b"")]);
        let br = b.branch(&[(b"a", l1), (b"c", l2)]);
        let root = b.leaf(&[(true, b"t", &bucket_ref(br))]);
        b.leaf(&[]); // orphan: fine when the freelist is not synced
        let db = Db::from_bytes(b.finish(root, PGID_NO_FREELIST, 2)).unwrap();
        assert!(check(&db).is_empty());
    }

    #[test]
    fn finds_freelist_problems() {
        assert_eq!(messages(&synced(&[])), ["page 4: unreachable unfreed"]);
        assert_eq!(
            messages(&synced(&[4, 3])),
            ["page 3: reachable freed"],
            "page 3 is bucket p's root"
        );
        assert_eq!(messages(&synced(&[4, 4])), ["page 4: already freed"]);
        assert_eq!(
            messages(&synced(&[4, 77])),
            ["page 5: freelist lists page 77, outside 2..6"]
        );
    }

    #[test]
    fn finds_shared_pages_bad_types_and_bad_ids() {
        let mut b = Builder::new(PS);
        let shared = b.leaf(&[(false, b"k", b"v")]);
        let fl = b.freelist(&[], false);
        let root = b.leaf(&[
            (true, b"a", &bucket_ref(shared)),
            (true, b"b", &bucket_ref(shared)),
            (true, b"c", &bucket_ref(fl)),
            (true, b"d", &bucket_ref(99)),
        ]);
        let db = Db::from_bytes(b.finish(root, fl, 2)).unwrap();
        let mut got = messages(&db);
        got.sort();
        // Page 3 is the freelist page: already reachable as such, so bucket `c` is a second
        // reference to it.
        assert_eq!(
            got,
            [
                "page 2: multiple references",
                "page 3: multiple references",
                "page 99: out of bounds: high-water mark is 5",
            ]
        );
    }

    #[test]
    fn finds_key_order_and_element_problems() {
        let mut b = Builder::new(PS);
        let l1 = b.leaf(&[(false, b"b", b""), (false, b"a", b""), (false, b"a", b"")]);
        let l2 = b.leaf(&[(false, b"c", b""), (false, b"z", b"")]);
        let l3 = b.leaf(&[(false, b"y", b"")]);
        let br = b.branch(&[(b"b", l1), (b"c", l2), (b"y", l3)]);
        let root = b.leaf(&[(true, b"t", &bucket_ref(br))]);
        let mut file = b.finish(root, PGID_NO_FREELIST, 2);
        // Leaf page 4's only element: key size far past the page.
        file[4 * PS + 16 + 8..4 * PS + 16 + 12].copy_from_slice(&9999u32.to_le_bytes());
        let db = Db::from_bytes(file).unwrap();
        assert_eq!(
            messages(&db),
            [
                "page 2: leaf key[1] 61 is not greater than the previous key 62",
                "page 2: leaf key[2] 61 is not greater than the previous key 61",
                "page 3: leaf key[1] 7a is not below the parent's next key 79",
                "page 4: element 0: data at 32..10031 is outside the page (1024 bytes)",
            ]
        );
    }

    #[test]
    fn reports_an_invalid_meta_even_when_the_other_one_wins() {
        let mut b = Builder::new(PS);
        let root = b.leaf(&[]);
        let mut file = b.finish(root, PGID_NO_FREELIST, 2);
        file[PS + 72] ^= 0xFF; // meta 1's checksum
        let db = Db::from_bytes(file.clone()).unwrap();
        let got = messages(&db);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with("page 1: invalid meta: checksum"),
            "{got:?}"
        );
        assert_eq!(db.meta().txid, 2);
        // A meta page whose header is not a meta header: meta 1 wins, meta 0 is reported.
        file[PS + 72] ^= 0xFF;
        file[8] = 0x10;
        let db = Db::from_bytes(file).unwrap();
        assert_eq!(db.meta().txid, 1);
        assert_eq!(
            messages(&db),
            [
                "page 0: invalid meta: meta page header has id 0 and flags 0x0010, expected id 0 \
              and flags 0x0004"
            ]
        );
        assert!(Meta::parse(&db.data()[..PS]).unwrap().validate().is_ok());
    }

    #[test]
    fn cycles_terminate() {
        let mut b = Builder::new(PS);
        let br = b.branch(&[(b"a", 2), (b"b", 3)]); // page 2 → itself and page 3
        let loop3 = b.branch(&[(b"b", 2)]); // page 3 → page 2
        let root = b.leaf(&[
            (true, b"t", &bucket_ref(br)),
            (true, b"u", &bucket_ref(loop3)),
        ]);
        let db = Db::from_bytes(b.finish(root, PGID_NO_FREELIST, 2)).unwrap();
        let got = messages(&db);
        assert!(
            got.contains(&"page 2: multiple references".to_string()),
            "{got:?}"
        );
        assert!(
            got.contains(&"page 3: multiple references".to_string()),
            "{got:?}"
        );
        assert!(db.free_pages().is_err());
    }

    /// 40 levels of inline buckets, each holding two bucket entries that point at the same
    /// nested value: 2^40 buckets if walked naively. The element budget stops the walk.
    #[test]
    fn overlapping_inline_buckets_do_not_blow_up() {
        let mut value = inline_bucket(&[]);
        for _ in 0..40 {
            let mut v = vec![0u8; 16];
            v.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 0, 0, 0, 0, 0]);
            for pos in [32u32, 16] {
                for x in [1, pos, 1, value.len() as u32] {
                    v.extend_from_slice(&x.to_le_bytes());
                }
            }
            v.push(b'k');
            v.extend_from_slice(&value);
            value = v;
        }
        let mut b = Builder::new(4096);
        let root = b.leaf(&[(true, b"b", &value)]);
        let db = Db::from_bytes(b.finish(root, PGID_NO_FREELIST, 2)).unwrap();
        let started = std::time::Instant::now();
        let got = messages(&db);
        assert!(started.elapsed().as_secs() < 5);
        assert!(
            got.iter()
                .any(|m| m.contains("more elements than the file can hold")),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|m| m.contains("not greater than the previous key"))
        );
        assert!(db.free_pages().is_err());
    }

    #[test]
    fn caps_the_number_of_problems() {
        let mut b = Builder::new(256);
        let root = b.leaf(&[]);
        b.file.resize(b.file.len() + 3000 * 256, 0);
        let fl = b.freelist(&[], false);
        let got = check(&Db::from_bytes(b.finish(root, fl, 2)).unwrap());
        assert_eq!(got.len(), MAX_PROBLEMS + 1);
        assert_eq!(got[0].to_string(), "page 3: unreachable unfreed");
        assert_eq!(
            got[MAX_PROBLEMS].to_string(),
            "2000 more problems not listed"
        );
    }
}
