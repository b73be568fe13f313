//! A branch or leaf page (or an inline bucket's page) and its elements: bbolt's `branchPageElement`
//! and `leafPageElement`, every offset checked against the page before a slice is taken.

use super::error::{Error, Result};
use super::page::{
    BRANCH_ELEMENT_SIZE, BUCKET_LEAF_FLAG, FLAG_BRANCH, FLAG_LEAF, LEAF_ELEMENT_SIZE,
    PAGE_HEADER_SIZE, PageHeader, Pgid, u32_at, u64_at,
};

/// A branch or leaf page (or an inline bucket's page) whose element array is known to fit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node<'a> {
    /// The page id, or for an inline page the id of the page holding its bucket value.
    pub(crate) pgid: Pgid,
    pub(crate) inline: bool,
    pub(crate) leaf: bool,
    pub(crate) count: usize,
    /// From the page header to the end of the page's last overflow page (or of the inline value).
    bytes: &'a [u8],
}

/// One leaf element: a key and its value, or a key and its bucket header (`flags` has bit 0x01).
#[derive(Clone, Copy, Debug)]
pub(crate) struct LeafElem<'a> {
    pub(crate) is_bucket: bool,
    pub(crate) key: &'a [u8],
    pub(crate) value: &'a [u8],
}

impl<'a> Node<'a> {
    /// Checks the page type and that `count` elements fit in `bytes`.
    pub(crate) fn new(pgid: Pgid, inline: bool, bytes: &'a [u8]) -> Result<Node<'a>> {
        let err = |msg: String| Error::page(pgid, prefix(inline, msg));
        let h = PageHeader::parse(bytes).ok_or_else(|| {
            err(format!(
                "page is {} bytes, shorter than its header",
                bytes.len()
            ))
        })?;
        let leaf = match h.flags {
            FLAG_LEAF => true,
            FLAG_BRANCH if !inline => false,
            _ => {
                return Err(err(format!(
                    "invalid type: expected a {}page, found flags {:#06x} ({})",
                    if inline { "leaf " } else { "branch or leaf " },
                    h.flags,
                    h.kind()
                )));
            }
        };
        let count = usize::from(h.count);
        if !leaf && count == 0 {
            return Err(err("branch page has no elements".into()));
        }
        let need = PAGE_HEADER_SIZE + count * LEAF_ELEMENT_SIZE;
        if need > bytes.len() {
            return Err(err(format!(
                "{count} elements need {need} bytes but the page has {}",
                bytes.len()
            )));
        }
        Ok(Node {
            pgid,
            inline,
            leaf,
            count,
            bytes,
        })
    }

    pub(crate) fn err(&self, msg: String) -> Error {
        Error::page(self.pgid, prefix(self.inline, msg))
    }

    /// Offset of element `i` and the (start, end) of its key and value data, bounds-checked.
    fn element(&self, i: usize, extra: u64) -> Result<(usize, usize, usize)> {
        if i >= self.count {
            return Err(self.err(format!(
                "element {i} is past the element count {}",
                self.count
            )));
        }
        let off = PAGE_HEADER_SIZE + i * BRANCH_ELEMENT_SIZE;
        let (pos, ksize) = if self.leaf {
            (u32_at(self.bytes, off + 4), u32_at(self.bytes, off + 8))
        } else {
            (u32_at(self.bytes, off), u32_at(self.bytes, off + 4))
        };
        let start = off as u64 + u64::from(pos);
        let key_end = start + u64::from(ksize);
        let end = key_end + extra;
        if end > self.bytes.len() as u64 {
            return Err(self.err(format!(
                "element {i}: data at {start}..{end} is outside the page ({} bytes)",
                self.bytes.len()
            )));
        }
        Ok((off, start as usize, key_end as usize))
    }

    /// Leaf element `i`.
    pub(crate) fn leaf_elem(&self, i: usize) -> Result<LeafElem<'a>> {
        debug_assert!(self.leaf);
        let off = PAGE_HEADER_SIZE + i * LEAF_ELEMENT_SIZE;
        let vsize = if i < self.count {
            u32_at(self.bytes, off + 12)
        } else {
            0
        };
        let (off, start, key_end) = self.element(i, u64::from(vsize))?;
        let flags = u32_at(self.bytes, off);
        if flags & !BUCKET_LEAF_FLAG != 0 {
            return Err(self.err(format!(
                "element {i}: unknown leaf element flags {flags:#x}"
            )));
        }
        Ok(LeafElem {
            is_bucket: flags & BUCKET_LEAF_FLAG != 0,
            key: &self.bytes[start..key_end],
            value: &self.bytes[key_end..key_end + vsize as usize],
        })
    }

    /// Branch element `i`: the first key of the child's subtree and the child's page id.
    pub(crate) fn branch_elem(&self, i: usize) -> Result<(&'a [u8], Pgid)> {
        debug_assert!(!self.leaf);
        let (off, start, key_end) = self.element(i, 0)?;
        Ok((&self.bytes[start..key_end], u64_at(self.bytes, off + 8)))
    }

    /// The key of element `i`, leaf or branch.
    pub(crate) fn key(&self, i: usize) -> Result<&'a [u8]> {
        if self.leaf {
            Ok(self.leaf_elem(i)?.key)
        } else {
            Ok(self.branch_elem(i)?.0)
        }
    }
}

fn prefix(inline: bool, msg: String) -> String {
    if inline {
        format!("inline bucket: {msg}")
    } else {
        msg
    }
}
