//! Pages written at sequential page ids, and B+trees bulk-loaded onto them bottom-up.

use std::io::{self, Write};

use super::node::{Element, Node, encode_head};
use crate::bbolt::page::{
    BRANCH_ELEMENT_SIZE, BUCKET_HEADER_SIZE, LEAF_ELEMENT_SIZE, PAGE_HEADER_SIZE, Pgid,
};

/// bbolt panics on a page with this many elements or more (`count` is a u16).
const MAX_ELEMENTS_PER_PAGE: usize = 0xFFFF;

/// Writes pages one after the other, allocating page ids as it goes.
pub(super) struct PageSink<W: Write> {
    out: W,
    page_size: usize,
    next_pgid: Pgid,
    /// Scratch buffer for a page header and its element array.
    head: Vec<u8>,
    zeros: Vec<u8>,
}

impl<W: Write> PageSink<W> {
    pub fn new(out: W, page_size: usize) -> Self {
        PageSink {
            out,
            page_size,
            next_pgid: 0,
            head: Vec::new(),
            zeros: vec![0; page_size],
        }
    }

    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// The high-water mark: the number of pages written so far.
    pub fn next_pgid(&self) -> Pgid {
        self.next_pgid
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    /// Writes one page given as bytes (at most a page; the rest is zero-filled).
    pub fn write_raw_page(&mut self, bytes: &[u8]) -> io::Result<Pgid> {
        debug_assert!(bytes.len() <= self.page_size);
        self.out.write_all(bytes)?;
        self.pad(self.page_size - bytes.len())?;
        self.next_pgid += 1;
        Ok(self.next_pgid - 1)
    }

    /// Writes a node as one page, or as contiguous pages with `overflow` set when it is bigger.
    pub fn write_node(
        &mut self,
        is_leaf: bool,
        elements: &[Element],
        data: &[u8],
    ) -> io::Result<Pgid> {
        if elements.len() >= MAX_ELEMENTS_PER_PAGE {
            return Err(io::Error::other(format!(
                "bbolt writer: {} elements do not fit one page",
                elements.len()
            )));
        }
        let element_size = if is_leaf {
            LEAF_ELEMENT_SIZE
        } else {
            BRANCH_ELEMENT_SIZE
        };
        let size = PAGE_HEADER_SIZE + element_size * elements.len() + data.len();
        let pages = size.div_ceil(self.page_size).max(1);
        let overflow = u32::try_from(pages - 1)
            .map_err(|_| io::Error::other("bbolt writer: node spans too many pages"))?;
        let id = self.next_pgid;
        self.head.clear();
        encode_head(&mut self.head, id, is_leaf, overflow, elements);
        self.out.write_all(&self.head)?;
        self.out.write_all(data)?;
        self.pad(pages * self.page_size - size)?;
        self.next_pgid += pages as Pgid;
        Ok(id)
    }

    fn pad(&mut self, mut len: usize) -> io::Result<()> {
        while len > 0 {
            let n = len.min(self.zeros.len());
            self.out.write_all(&self.zeros[..n])?;
            len -= n;
        }
        Ok(())
    }
}

/// One B+tree (a bucket, or the root bucket) fed with entries in key order. A page is written as
/// soon as bbolt's split rule decides its content; each level keeps only what is still pending,
/// and a branch level holds one `(first key, pgid)` entry per child page written.
pub(super) struct TreeBuilder {
    /// `levels[0]` holds leaf entries, `levels[1]` the first branch level, and so on.
    levels: Vec<Node>,
}

impl TreeBuilder {
    pub fn new() -> Self {
        TreeBuilder {
            levels: vec![Node::new(true)],
        }
    }

    /// Adds a leaf entry; the caller guarantees ascending, non-empty keys.
    pub fn put<W: Write>(
        &mut self,
        sink: &mut PageSink<W>,
        flags: u32,
        key: &[u8],
        value: &[u8],
    ) -> io::Result<()> {
        let element = Element {
            flags,
            key_len: key.len() as u32,
            value_len: value.len() as u32,
            child: 0,
        };
        self.push(sink, 0, element, key, value)
    }

    fn push<W: Write>(
        &mut self,
        sink: &mut PageSink<W>,
        depth: usize,
        element: Element,
        key: &[u8],
        value: &[u8],
    ) -> io::Result<()> {
        if depth == self.levels.len() {
            self.levels.push(Node::new(false));
        }
        let page_size = sink.page_size();
        let node = &mut self.levels[depth];
        node.push(element, key, value, page_size);
        if let Some(count) = node.next_cut(page_size, false) {
            self.write_page(sink, depth, count)?;
        }
        Ok(())
    }

    /// Writes the first `count` pending elements of a level as a page and hands
    /// `(its first key, its pgid)` to the level above.
    fn write_page<W: Write>(
        &mut self,
        sink: &mut PageSink<W>,
        depth: usize,
        count: usize,
    ) -> io::Result<()> {
        let node = &mut self.levels[depth];
        let bytes = node.data_len_of_first(count);
        let pgid = sink.write_node(node.is_leaf, &node.elements[..count], &node.data[..bytes])?;
        node.pages_written += 1;
        let first_key = node.first_key().to_vec();
        node.remove_first(count, sink.page_size());
        let entry = Element {
            flags: 0,
            key_len: first_key.len() as u32,
            value_len: 0,
            child: pgid,
        };
        self.push(sink, depth + 1, entry, &first_key, &[])
    }

    /// The value bbolt stores for this tree as an inline bucket (bucket header with root 0, then
    /// a leaf page image), or `None` when it is too big (bbolt's `inlineable`: one leaf whose
    /// node size is at most a quarter page). Nothing has been written to a page in that case.
    pub fn inline_value(&self, page_size: usize) -> Option<Vec<u8>> {
        let leaves = &self.levels[0];
        if self.levels.len() > 1 || leaves.pages_written > 0 || leaves.size > page_size / 4 {
            return None;
        }
        let mut value = Vec::with_capacity(BUCKET_HEADER_SIZE + leaves.size);
        value.extend_from_slice(&[0; BUCKET_HEADER_SIZE]);
        encode_head(&mut value, 0, true, 0, &leaves.elements);
        value.extend_from_slice(&leaves.data);
        Some(value)
    }

    /// Writes everything still pending, level by level, and returns the root page id. An empty
    /// tree becomes one empty leaf page.
    pub fn finish<W: Write>(mut self, sink: &mut PageSink<W>) -> io::Result<Pgid> {
        let page_size = sink.page_size();
        let mut depth = 0;
        loop {
            while let Some(count) = self.levels[depth].next_cut(page_size, true) {
                self.write_page(sink, depth, count)?;
            }
            let node = &self.levels[depth];
            if node.pages_written == 0 {
                // The only page of the top level: the root.
                return sink.write_node(node.is_leaf, &node.elements, &node.data);
            }
            debug_assert!(!node.elements.is_empty(), "a split leaves elements behind");
            let count = node.elements.len();
            self.write_page(sink, depth, count)?;
            depth += 1;
        }
    }

    /// Number of levels so far (1 = the root is a leaf).
    #[cfg(test)]
    pub fn depth(&self) -> usize {
        self.levels.len()
    }

    /// Key and value bytes held in memory, for the streaming test.
    #[cfg(test)]
    pub fn buffered_bytes(&self) -> usize {
        self.levels.iter().map(|l| l.data.len()).sum()
    }
}
