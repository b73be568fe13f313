//! Buckets and in-order iteration over their B+trees, zero-copy.
//!
//! An [`Iter`] keeps a small stack of (page, next element) positions and hands out slices of the
//! file. It also checks, for every key it passes, what `bbolt check` checks for that key: strictly
//! ascending within a page, not below the parent's key, below the parent's next key. Besides
//! catching corruption, this makes iteration linear in the file size even when a corrupt file
//! references pages many times (a subtree can only match one key range of its parent).

use super::db::Db;
use super::error::{Error, Result};
use super::node::{LeafElem, Node};
use super::page::{BUCKET_HEADER_SIZE, PAGE_HEADER_SIZE, Pgid, u64_at};

/// Deepest B+tree accepted. Real trees are a handful of levels deep; a deeper one has a cycle.
pub(crate) const MAX_DEPTH: usize = 64;

/// Where a bucket's tree starts.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Root<'a> {
    /// A page of the file.
    Page(Pgid),
    /// An inline bucket: a leaf page image inside the bucket's value, which lives in page `holder`.
    Inline { holder: Pgid, page: &'a [u8] },
}

/// A bucket: the root bucket, a top-level bucket or a nested one.
#[derive(Clone, Copy, Debug)]
pub struct Bucket<'a> {
    db: &'a Db,
    root: Root<'a>,
}

/// One entry of a bucket. For a sub-bucket `is_bucket` is true and `value` is empty, as bbolt's
/// cursor returns a nil value for it; open it with [`Bucket::bucket`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    pub key: &'a [u8],
    pub value: &'a [u8],
    pub is_bucket: bool,
}

impl<'a> Bucket<'a> {
    pub(crate) fn new(db: &'a Db, root: Root<'a>) -> Bucket<'a> {
        Bucket { db, root }
    }

    /// Opens the bucket described by a bucket entry's value (found in page `holder`).
    pub(crate) fn from_value(db: &'a Db, value: &'a [u8], holder: Pgid) -> Result<Bucket<'a>> {
        Ok(Bucket::new(db, parse_bucket_value(value, holder)?))
    }

    /// The bucket's root page, or `None` for an inline bucket.
    pub fn root_pgid(&self) -> Option<Pgid> {
        match self.root {
            Root::Page(id) => Some(id),
            Root::Inline { .. } => None,
        }
    }

    fn root_node(&self) -> Result<Node<'a>> {
        match self.root {
            Root::Page(id) => self.db.node(id),
            Root::Inline { holder, page } => Node::new(holder, true, page),
        }
    }

    /// The value of `key`; `None` if absent or if `key` names a sub-bucket (as in bbolt).
    pub fn get(&self, key: &[u8]) -> Result<Option<&'a [u8]>> {
        Ok(self
            .find(key)?
            .and_then(|(_, e)| (!e.is_bucket).then_some(e.value)))
    }

    /// The sub-bucket `name`; `None` if absent or if `name` is a plain key.
    pub fn bucket(&self, name: &[u8]) -> Result<Option<Bucket<'a>>> {
        match self.find(name)? {
            Some((node, e)) if e.is_bucket => {
                Ok(Some(Bucket::from_value(self.db, e.value, node.pgid)?))
            }
            _ => Ok(None),
        }
    }

    /// All entries in key order.
    pub fn iter(&self) -> Iter<'a> {
        Iter::seek(self, None)
    }

    /// The entries with key `>= start`, in key order.
    pub fn iter_from(&self, start: &[u8]) -> Iter<'a> {
        Iter::seek(self, Some(start))
    }

    /// The entry with the greatest key, without walking the others (etcd's newest revision).
    pub fn last(&self) -> Result<Option<Entry<'a>>> {
        let mut node = self.root_node()?;
        for _ in 0..MAX_DEPTH {
            let Some(i) = node.count.checked_sub(1) else {
                return Ok(None);
            };
            if node.leaf {
                let e = node.leaf_elem(i)?;
                return Ok(Some(Entry {
                    key: e.key,
                    value: if e.is_bucket { &e.value[..0] } else { e.value },
                    is_bucket: e.is_bucket,
                }));
            }
            node = self.db.node(node.branch_elem(i)?.1)?;
        }
        Err(too_deep(node.pgid))
    }

    /// The leaf element with exactly `key`, and the node it is in.
    fn find(&self, key: &[u8]) -> Result<Option<(Node<'a>, LeafElem<'a>)>> {
        let mut node = self.root_node()?;
        for _ in 0..MAX_DEPTH {
            if node.leaf {
                let i = lower_bound(&node, key)?;
                if i < node.count {
                    let e = node.leaf_elem(i)?;
                    if e.key == key {
                        return Ok(Some((node, e)));
                    }
                }
                return Ok(None);
            }
            let (_, child) = node.branch_elem(branch_index(&node, key)?)?;
            node = self.db.node(child)?;
        }
        Err(too_deep(node.pgid))
    }
}

/// Parses a bucket value: a 16-byte header (`root`, `sequence`), then for an inline bucket
/// (`root == 0`) the page image.
pub(crate) fn parse_bucket_value(value: &[u8], holder: Pgid) -> Result<Root<'_>> {
    if value.len() < BUCKET_HEADER_SIZE {
        return Err(Error::page(
            holder,
            format!(
                "bucket value is {} bytes, shorter than a bucket header",
                value.len()
            ),
        ));
    }
    match u64_at(value, 0) {
        0 => {
            let page = &value[BUCKET_HEADER_SIZE..];
            if page.len() < PAGE_HEADER_SIZE {
                return Err(Error::page(
                    holder,
                    format!(
                        "inline bucket value is {} bytes, too short for a page",
                        value.len()
                    ),
                ));
            }
            Ok(Root::Inline { holder, page })
        }
        id => Ok(Root::Page(id)),
    }
}

fn too_deep(pgid: Pgid) -> Error {
    Error::page(
        pgid,
        format!("tree is deeper than {MAX_DEPTH} levels (a page cycle?)"),
    )
}

/// Index of the first element whose key is `>= key` (`count` if none).
fn lower_bound(node: &Node<'_>, key: &[u8]) -> Result<usize> {
    let (mut lo, mut hi) = (0, node.count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if node.key(mid)? < key {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

/// The child of a branch to descend into for `key` (bbolt's `searchPage`): the element equal to
/// `key`, else the last one below it, else the first.
fn branch_index(node: &Node<'_>, key: &[u8]) -> Result<usize> {
    let i = lower_bound(node, key)?;
    if i < node.count && node.key(i)? == key {
        Ok(i)
    } else {
        Ok(i.saturating_sub(1))
    }
}

/// A position in one page of the path from the root to the current leaf.
struct Frame<'a> {
    node: Node<'a>,
    /// Next element to visit.
    next: usize,
    /// Keys in this page must be `>= lo` (the parent's key) and `< hi` (the parent's next key).
    lo: Option<&'a [u8]>,
    hi: Option<&'a [u8]>,
    /// The last key visited in this page.
    prev: Option<&'a [u8]>,
}

impl<'a> Frame<'a> {
    fn new(node: Node<'a>, lo: Option<&'a [u8]>, hi: Option<&'a [u8]>) -> Frame<'a> {
        Frame {
            node,
            next: 0,
            lo,
            hi,
            prev: None,
        }
    }

    /// Checks the order of key `i` against the previous key and the parent's range.
    fn visit(&mut self, i: usize, key: &'a [u8]) -> Result<()> {
        match (self.prev, self.lo) {
            (Some(p), _) if key <= p => {
                return Err(self.node.err(format!(
                    "element {i}: key is not greater than the previous key"
                )));
            }
            (None, Some(lo)) if key < lo => {
                return Err(self.node.err(format!(
                    "element {i}: key sorts before the parent's key for this page"
                )));
            }
            _ => {}
        }
        if let Some(hi) = self.hi {
            if key >= hi {
                return Err(self.node.err(format!(
                    "element {i}: key is not below the parent's next key"
                )));
            }
        }
        self.prev = Some(key);
        Ok(())
    }

    /// Upper bound for the subtree of branch element `i`: the next element's key, or ours.
    fn child_hi(&self, i: usize) -> Result<Option<&'a [u8]>> {
        if i + 1 < self.node.count {
            Ok(Some(self.node.key(i + 1)?))
        } else {
            Ok(self.hi)
        }
    }
}

/// In-order iterator over a bucket's entries. After yielding an error it yields `None`.
pub struct Iter<'a> {
    db: &'a Db,
    stack: Vec<Frame<'a>>,
    pending: Option<Error>,
    done: bool,
}

impl<'a> Iter<'a> {
    fn seek(bucket: &Bucket<'a>, start: Option<&[u8]>) -> Iter<'a> {
        let mut it = Iter {
            db: bucket.db,
            stack: Vec::with_capacity(8),
            pending: None,
            done: false,
        };
        if let Err(e) = it.descend(bucket, start) {
            it.pending = Some(e);
        }
        it
    }

    /// Pushes the path from the root to the leaf position of `start` (or of the first key).
    fn descend(&mut self, bucket: &Bucket<'a>, start: Option<&[u8]>) -> Result<()> {
        let mut node = bucket.root_node()?;
        let (mut lo, mut hi) = (None, None);
        loop {
            if self.stack.len() >= MAX_DEPTH {
                return Err(too_deep(node.pgid));
            }
            let mut frame = Frame::new(node, lo, hi);
            if node.leaf {
                frame.next = match start {
                    Some(k) => lower_bound(&node, k)?,
                    None => 0,
                };
                self.stack.push(frame);
                return Ok(());
            }
            let i = match start {
                Some(k) => branch_index(&node, k)?,
                None => 0,
            };
            let (key, child) = node.branch_elem(i)?;
            frame.visit(i, key)?;
            frame.next = i + 1;
            hi = frame.child_hi(i)?;
            lo = Some(key);
            self.stack.push(frame);
            node = self.db.node(child)?;
        }
    }

    fn advance(&mut self) -> Result<Option<Entry<'a>>> {
        loop {
            let depth = self.stack.len();
            let Some(top) = self.stack.last_mut() else {
                return Ok(None);
            };
            let i = top.next;
            if i >= top.node.count {
                self.stack.pop();
                continue;
            }
            top.next += 1;
            if top.node.leaf {
                let e = top.node.leaf_elem(i)?;
                top.visit(i, e.key)?;
                return Ok(Some(Entry {
                    key: e.key,
                    // Empty for a bucket, but still a slice of the file.
                    value: if e.is_bucket { &e.value[..0] } else { e.value },
                    is_bucket: e.is_bucket,
                }));
            }
            let (key, child) = top.node.branch_elem(i)?;
            top.visit(i, key)?;
            let hi = top.child_hi(i)?;
            if depth >= MAX_DEPTH {
                return Err(too_deep(child));
            }
            let node = self.db.node(child)?;
            self.stack.push(Frame::new(node, Some(key), hi));
        }
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = Result<Entry<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = match self.pending.take() {
            Some(e) => Err(e),
            None => match self.advance() {
                Ok(Some(entry)) => return Some(Ok(entry)),
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => Err(e),
            },
        };
        self.done = true;
        self.stack.clear();
        Some(item)
    }
}

impl std::iter::FusedIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::page::PGID_NO_FREELIST;
    use super::super::testfile::{Builder, bucket_ref, inline_bucket};
    use super::*;

    const PS: usize = 1024;

    /// A db whose root bucket holds one bucket `b` with its tree at `tree` (built by `f`).
    fn with_bucket(f: impl FnOnce(&mut Builder) -> Pgid) -> Vec<u8> {
        let mut b = Builder::new(PS);
        let tree = f(&mut b);
        let root = b.leaf(&[(true, b"b", &bucket_ref(tree))]);
        b.finish(root, PGID_NO_FREELIST, 2)
    }

    fn entries(bucket: &Bucket<'_>, from: Option<&[u8]>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let it = match from {
            Some(k) => bucket.iter_from(k),
            None => bucket.iter(),
        };
        it.map(|e| e.map(|e| (e.key.to_vec(), e.value.to_vec())))
            .collect()
    }

    fn iter_err(db: &Db) -> Error {
        let b = db.bucket(b"b").unwrap().unwrap();
        let mut it = b.iter();
        let err = it.find_map(|e| e.err()).expect("an error");
        assert!(it.next().is_none(), "fused after an error");
        err
    }

    #[test]
    fn reads_a_single_leaf() {
        let file = with_bucket(|b| {
            b.leaf(&[(false, b"a", b"1"), (false, b"c", b""), (false, b"e", b"5")])
        });
        let db = Db::from_bytes(file).unwrap();
        let b = db.bucket(b"b").unwrap().unwrap();
        assert_eq!(b.root_pgid(), Some(2));
        assert_eq!(b.get(b"a").unwrap(), Some(&b"1"[..]));
        assert_eq!(b.get(b"c").unwrap(), Some(&b""[..]), "empty value is Some");
        assert_eq!(b.get(b"b").unwrap(), None);
        assert_eq!(b.get(b"").unwrap(), None);
        assert_eq!(b.get(b"z").unwrap(), None);
        let keys = |from| -> Vec<Vec<u8>> {
            entries(&b, from)
                .unwrap()
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        };
        assert_eq!(keys(None), [b"a", b"c", b"e"]);
        assert_eq!(keys(Some(b"b")), [b"c", b"e"]);
        assert_eq!(keys(Some(b"c")), [b"c", b"e"]);
        assert_eq!(keys(Some(b"")), [b"a", b"c", b"e"]);
        assert!(keys(Some(b"f")).is_empty());
        let root: Vec<_> = db.root().iter().map(|e| e.unwrap()).collect();
        assert_eq!(
            root,
            [Entry {
                key: b"b",
                value: b"",
                is_bucket: true
            }]
        );
    }

    #[test]
    fn an_empty_bucket_has_no_entries() {
        let db = Db::from_bytes(with_bucket(|b| b.leaf(&[]))).unwrap();
        let b = db.bucket(b"b").unwrap().unwrap();
        assert!(b.iter().next().is_none());
        assert!(b.iter_from(b"x").next().is_none());
        assert_eq!(b.get(b"x").unwrap(), None);
    }

    /// Three levels: 1000 keys in leaves of 10, branches of 10, one root branch; every lookup
    /// and seek agrees with a `BTreeMap`.
    #[test]
    fn walks_branches_like_a_btreemap() {
        let model: BTreeMap<Vec<u8>, Vec<u8>> = (0..1000u32)
            .map(|i| {
                (
                    format!("k{:05}", i * 3).into_bytes(),
                    i.to_be_bytes().to_vec(),
                )
            })
            .collect();
        let file = with_bucket(|b| {
            let items: Vec<_> = model.iter().collect();
            let mut level: Vec<(Vec<u8>, Pgid)> = items
                .chunks(10)
                .map(|c| {
                    let leaf: Vec<_> = c.iter().map(|(k, v)| (false, &k[..], &v[..])).collect();
                    (c[0].0.clone(), b.leaf(&leaf))
                })
                .collect();
            while level.len() > 1 {
                level = level
                    .chunks(10)
                    .map(|c| {
                        let br: Vec<_> = c.iter().map(|(k, id)| (&k[..], *id)).collect();
                        (c[0].0.clone(), b.branch(&br))
                    })
                    .collect();
            }
            level[0].1
        });
        let db = Db::from_bytes(file).unwrap();
        let b = db.bucket(b"b").unwrap().unwrap();
        let all: Vec<_> = model.clone().into_iter().collect();
        assert_eq!(entries(&b, None).unwrap(), all);
        for i in 0..3001u32 {
            let probe = format!("k{i:05}").into_bytes();
            assert_eq!(b.get(&probe).unwrap(), model.get(&probe).map(|v| &v[..]));
            let want: Vec<_> = model
                .range(probe.clone()..)
                .take(12)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let got: Vec<_> = b
                .iter_from(&probe)
                .take(12)
                .map(|e| e.map(|e| (e.key.to_vec(), e.value.to_vec())))
                .collect::<Result<_>>()
                .unwrap();
            assert_eq!(got, want, "seek {i}");
        }
        assert_eq!(entries(&b, Some(b"a")).unwrap(), all);
        assert!(entries(&b, Some(b"l")).unwrap().is_empty());
    }

    #[test]
    fn reads_values_spanning_overflow_pages() {
        let big: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let file = with_bucket(|b| b.leaf(&[(false, b"big", &big), (false, b"small", b"s")]));
        let db = Db::from_bytes(file).unwrap();
        assert_eq!(db.page(2).unwrap().0.overflow, 4);
        let b = db.bucket(b"b").unwrap().unwrap();
        assert_eq!(b.get(b"big").unwrap(), Some(&big[..]));
        assert_eq!(
            entries(&b, None).unwrap()[1],
            (b"small".to_vec(), b"s".to_vec())
        );
    }

    #[test]
    fn opens_inline_and_nested_buckets() {
        let mut b = Builder::new(PS);
        let deep = b.leaf(&[(false, b"w", b"4")]);
        let paged = b.leaf(&[(true, b"deep", &bucket_ref(deep)), (false, b"z", b"3")]);
        let nested = inline_bucket(&[(false, b"y", b"2")]);
        let inline = inline_bucket(&[(true, b"sub", &nested), (false, b"x", b"1")]);
        let root = b.leaf(&[(true, b"a", &inline), (true, b"p", &bucket_ref(paged))]);
        let db = Db::from_bytes(b.finish(root, PGID_NO_FREELIST, 2)).unwrap();

        let a = db.bucket(b"a").unwrap().unwrap();
        assert_eq!(a.root_pgid(), None, "inline");
        assert_eq!(a.get(b"x").unwrap(), Some(&b"1"[..]));
        assert_eq!(a.get(b"sub").unwrap(), None, "a bucket is not a value");
        let sub = a.bucket(b"sub").unwrap().unwrap();
        assert_eq!(sub.get(b"y").unwrap(), Some(&b"2"[..]));
        assert!(a.bucket(b"x").unwrap().is_none(), "a value is not a bucket");
        let a_entries: Vec<_> = a.iter().map(|e| e.unwrap()).collect();
        assert_eq!(a_entries.len(), 2);
        assert!(a_entries[0].is_bucket && a_entries[0].value.is_empty());
        assert_eq!(a_entries[1].value, b"1");

        let p = db.bucket(b"p").unwrap().unwrap();
        assert_eq!(p.root_pgid(), Some(paged));
        let deep = p.bucket(b"deep").unwrap().unwrap();
        assert_eq!(
            entries(&deep, None).unwrap(),
            [(b"w".to_vec(), b"4".to_vec())]
        );
        assert_eq!(
            entries(&p, Some(b"e")).unwrap(),
            [(b"z".to_vec(), b"3".to_vec())]
        );
    }

    #[test]
    fn rejects_keys_out_of_order() {
        let db = Db::from_bytes(with_bucket(|b| {
            b.leaf(&[(false, b"b", b""), (false, b"a", b"")])
        }))
        .unwrap();
        let e = iter_err(&db);
        assert_eq!(e.pgid, Some(2));
        assert!(
            e.message.contains("not greater than the previous key"),
            "{e}"
        );

        // A child holding a key at or past its parent's next key.
        let db = Db::from_bytes(with_bucket(|b| {
            let l1 = b.leaf(&[(false, b"a", b""), (false, b"d", b"")]);
            let l2 = b.leaf(&[(false, b"c", b"")]);
            b.branch(&[(b"a", l1), (b"c", l2)])
        }))
        .unwrap();
        let e = iter_err(&db);
        assert!(e.message.contains("not below the parent's next key"), "{e}");
        // A child whose first key sorts before its branch key.
        let db = Db::from_bytes(with_bucket(|b| {
            let l1 = b.leaf(&[(false, b"a", b"")]);
            b.branch(&[(b"b", l1)])
        }))
        .unwrap();
        assert!(iter_err(&db).message.contains("before the parent's key"));
    }

    #[test]
    fn cycles_and_shared_subtrees_end_in_an_error() {
        // Branch page 2 whose only child is itself.
        let db = Db::from_bytes(with_bucket(|b| b.branch(&[(b"a", 2)]))).unwrap();
        let e = iter_err(&db);
        assert!(e.message.contains("deeper than 64 levels"), "{e}");
        let b = db.bucket(b"b").unwrap().unwrap();
        assert!(b.get(b"a").unwrap_err().message.contains("deeper"));
        assert!(b.iter_from(b"a").next().unwrap().is_err());

        // 200 branch elements sharing one leaf, three levels deep: 8M leaf visits if walked
        // naively; the key-range rule stops it at the second visit.
        let db = Db::from_bytes(with_bucket(|b| {
            let leaf = b.leaf(&[(false, b"k000", b"")]);
            let keys: Vec<Vec<u8>> = (0..200).map(|i| format!("k{i:03}").into_bytes()).collect();
            let mut child = leaf;
            for _ in 0..3 {
                let items: Vec<_> = keys.iter().map(|k| (&k[..], child)).collect();
                child = b.branch(&items);
            }
            child
        }))
        .unwrap();
        let e = iter_err(&db);
        assert_eq!(e.pgid, Some(3), "the lowest branch, on its first revisit");
        assert!(
            e.message
                .contains("element 1: key is not below the parent's next key"),
            "{e}"
        );
    }

    #[test]
    fn rejects_bad_elements_and_bucket_values() {
        let file = with_bucket(|b| b.leaf(&[(false, b"a", b"1"), (false, b"b", b"2")]));
        let elem1 = 2 * PS + 16 + 16; // leaf element 1 of page 2

        let mut bad = file.clone();
        bad[elem1 + 12..elem1 + 16].copy_from_slice(&5000u32.to_le_bytes()); // vsize
        let db = Db::from_bytes(bad).unwrap();
        let e = iter_err(&db);
        assert_eq!(e.pgid, Some(2));
        assert!(e.message.contains("element 1: data at"), "{e}");
        assert!(e.message.contains("outside the page (1024 bytes)"), "{e}");

        let mut bad = file.clone();
        bad[elem1] = 4; // unknown element flag
        let e = iter_err(&Db::from_bytes(bad).unwrap());
        assert!(e.message.contains("unknown leaf element flags 0x4"), "{e}");

        let mut bad = file.clone();
        bad[2 * PS + 10..2 * PS + 12].copy_from_slice(&100u16.to_le_bytes()); // count
        let e = iter_err(&Db::from_bytes(bad).unwrap());
        assert!(e.message.contains("100 elements need 1616 bytes"), "{e}");

        // Bucket values: too short, an inline page that is a branch, a root on a meta page.
        let mut b = Builder::new(PS);
        let mut branchy = inline_bucket(&[(false, b"x", b"1")]);
        branchy[16 + 8] = 1;
        let root = b.leaf(&[
            (true, b"branchy", &branchy),
            (true, b"meta", &bucket_ref(1)),
            (true, b"short", b"12345"),
        ]);
        let db = Db::from_bytes(b.finish(root, PGID_NO_FREELIST, 2)).unwrap();
        let e = db.bucket(b"short").unwrap_err();
        assert!(e.message.contains("shorter than a bucket header"), "{e}");
        let e = db
            .bucket(b"branchy")
            .unwrap()
            .unwrap()
            .get(b"x")
            .unwrap_err();
        assert_eq!(e.pgid, Some(root));
        assert!(e.message.starts_with("inline bucket: invalid type"), "{e}");
        let e = db
            .bucket(b"meta")
            .unwrap()
            .unwrap()
            .iter()
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "page 1: invalid type: expected a branch or leaf page, found flags 0x0004 (meta)"
        );
    }
}
