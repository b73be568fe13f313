//! One level of a tree under construction: the elements not yet written to a page, and bbolt's
//! rule for where a node is split into pages (`node.splitTwo`/`splitIndex`, fill percent 1.0).

use crate::bbolt::page::{
    BRANCH_ELEMENT_SIZE, FLAG_BRANCH, FLAG_LEAF, LEAF_ELEMENT_SIZE, PAGE_HEADER_SIZE, PageHeader,
    Pgid,
};

/// bbolt's `MinKeysPerPage`: a split leaves at least this many elements on each side.
const MIN_KEYS_PER_PAGE: usize = 2;

/// A leaf entry (`flags`, key, value) or a branch entry (key, `child`); the bytes live in
/// [`Node::data`].
#[derive(Clone, Copy, Debug)]
pub(super) struct Element {
    pub flags: u32,
    pub key_len: u32,
    pub value_len: u32,
    pub child: Pgid,
}

impl Element {
    fn data_len(&self) -> usize {
        self.key_len as usize + self.value_len as usize
    }
}

/// The pending elements of one tree level, in key order.
pub(super) struct Node {
    pub is_leaf: bool,
    pub elements: Vec<Element>,
    /// key‖value of each element, packed in element order: exactly a page's data area.
    pub data: Vec<u8>,
    /// bbolt's `node.size()`: page header plus, per element, element header, key and value.
    pub size: usize,
    /// Index of the first element (the third or later) that overflows a full page: where bbolt's
    /// `splitIndex` stops once enough elements follow it.
    split_at: Option<usize>,
    /// Pages this level has written so far.
    pub pages_written: u64,
}

impl Node {
    pub fn new(is_leaf: bool) -> Node {
        Node {
            is_leaf,
            elements: Vec::new(),
            data: Vec::new(),
            size: PAGE_HEADER_SIZE,
            split_at: None,
            pages_written: 0,
        }
    }

    fn element_size(&self) -> usize {
        if self.is_leaf {
            LEAF_ELEMENT_SIZE
        } else {
            BRANCH_ELEMENT_SIZE
        }
    }

    pub fn push(&mut self, element: Element, key: &[u8], value: &[u8], page_size: usize) {
        debug_assert_eq!(element.key_len as usize, key.len());
        debug_assert_eq!(element.value_len as usize, value.len());
        self.data.extend_from_slice(key);
        self.data.extend_from_slice(value);
        self.elements.push(element);
        self.size += self.element_size() + element.data_len();
        let index = self.elements.len() - 1;
        if self.split_at.is_none() && index >= MIN_KEYS_PER_PAGE && self.size > page_size {
            self.split_at = Some(index);
        }
    }

    /// How many leading elements go to the next page, if that is decided already.
    ///
    /// Before the end of the input (`at_end == false`) a cut is taken only when later elements
    /// cannot change it. At the end this is bbolt's whole rule: no split for ≤ 4 elements or a
    /// node smaller than a page; else split at `split_at`, but leave at least 3 elements behind
    /// (where `splitIndex`'s loop ends when it never stops early).
    pub fn next_cut(&self, page_size: usize, at_end: bool) -> Option<usize> {
        let len = self.elements.len();
        let last_allowed = len.checked_sub(MIN_KEYS_PER_PAGE + 1)?;
        if at_end {
            if len <= 2 * MIN_KEYS_PER_PAGE || self.size < page_size {
                return None;
            }
            Some(self.split_at.unwrap_or(last_allowed).min(last_allowed))
        } else {
            self.split_at.filter(|&at| at <= last_allowed)
        }
    }

    /// Bytes of the data area used by the first `count` elements.
    pub fn data_len_of_first(&self, count: usize) -> usize {
        self.elements[..count].iter().map(Element::data_len).sum()
    }

    /// The key of the first pending element.
    pub fn first_key(&self) -> &[u8] {
        &self.data[..self.elements[0].key_len as usize]
    }

    /// Forgets the first `count` elements (now written to a page). Few elements remain, so
    /// recomputing the size and split point from scratch is cheap.
    pub fn remove_first(&mut self, count: usize, page_size: usize) {
        let bytes = self.data_len_of_first(count);
        self.data.drain(..bytes);
        self.elements.drain(..count);
        self.size = PAGE_HEADER_SIZE;
        self.split_at = None;
        for index in 0..self.elements.len() {
            self.size += self.element_size() + self.elements[index].data_len();
            if self.split_at.is_none() && index >= MIN_KEYS_PER_PAGE && self.size > page_size {
                self.split_at = Some(index);
            }
        }
    }
}

/// Appends the page header and element array of a node holding `elements` (their data area
/// follows them on the page, unchanged). `pos` is relative to each element's own offset.
pub(super) fn encode_head(
    out: &mut Vec<u8>,
    id: Pgid,
    is_leaf: bool,
    overflow: u32,
    elements: &[Element],
) {
    let header = PageHeader {
        id,
        flags: if is_leaf { FLAG_LEAF } else { FLAG_BRANCH },
        count: elements.len() as u16,
        overflow,
    };
    out.extend_from_slice(&header.encode());
    let element_size = if is_leaf {
        LEAF_ELEMENT_SIZE
    } else {
        BRANCH_ELEMENT_SIZE
    };
    let mut data_offset = PAGE_HEADER_SIZE + element_size * elements.len();
    for (i, e) in elements.iter().enumerate() {
        let pos = (data_offset - (PAGE_HEADER_SIZE + element_size * i)) as u32;
        if is_leaf {
            out.extend_from_slice(&e.flags.to_le_bytes());
            out.extend_from_slice(&pos.to_le_bytes());
            out.extend_from_slice(&e.key_len.to_le_bytes());
            out.extend_from_slice(&e.value_len.to_le_bytes());
        } else {
            out.extend_from_slice(&pos.to_le_bytes());
            out.extend_from_slice(&e.key_len.to_le_bytes());
            out.extend_from_slice(&e.child.to_le_bytes());
        }
        data_offset += e.data_len();
    }
}
