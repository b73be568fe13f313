//! Page headers and element layouts shared by the reader and the writer.

/// Size of the header at the start of every page (and of every inline page).
pub const PAGE_HEADER_SIZE: usize = 16;
/// Size of one branch element: `pos u32, ksize u32, pgid u64`.
pub const BRANCH_ELEMENT_SIZE: usize = 16;
/// Size of one leaf element: `flags u32, pos u32, ksize u32, vsize u32`.
pub const LEAF_ELEMENT_SIZE: usize = 16;
/// Size of a bucket header (`root u64, sequence u64`) stored as a bucket's value.
pub const BUCKET_HEADER_SIZE: usize = 16;

pub const FLAG_BRANCH: u16 = 0x01;
pub const FLAG_LEAF: u16 = 0x02;
pub const FLAG_META: u16 = 0x04;
pub const FLAG_FREELIST: u16 = 0x10;

/// Leaf element flag marking a sub-bucket.
pub const BUCKET_LEAF_FLAG: u32 = 0x01;

/// `meta.freelist` value meaning "the freelist was not synced" (etcd on Linux).
pub const PGID_NO_FREELIST: u64 = u64::MAX;

/// Freelist page `count` value meaning "the real count is the first u64 after the header".
pub const FREELIST_COUNT_OVERFLOW: u16 = 0xFFFF;

/// Page id.
pub type Pgid = u64;

/// The 16-byte header at offset 0 of a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageHeader {
    pub id: Pgid,
    pub flags: u16,
    pub count: u16,
    /// Number of additional contiguous pages this page occupies.
    pub overflow: u32,
}

impl PageHeader {
    /// Parses the header from the first 16 bytes; `None` if `b` is shorter.
    pub fn parse(b: &[u8]) -> Option<PageHeader> {
        let b = b.get(..PAGE_HEADER_SIZE)?;
        Some(PageHeader {
            id: u64_at(b, 0),
            flags: u16::from_le_bytes([b[8], b[9]]),
            count: u16::from_le_bytes([b[10], b[11]]),
            overflow: u32_at(b, 12),
        })
    }

    pub fn encode(&self) -> [u8; PAGE_HEADER_SIZE] {
        let mut out = [0u8; PAGE_HEADER_SIZE];
        out[0..8].copy_from_slice(&self.id.to_le_bytes());
        out[8..10].copy_from_slice(&self.flags.to_le_bytes());
        out[10..12].copy_from_slice(&self.count.to_le_bytes());
        out[12..16].copy_from_slice(&self.overflow.to_le_bytes());
        out
    }

    /// Human name of the page type, for error messages.
    pub fn kind(&self) -> &'static str {
        match self.flags {
            FLAG_BRANCH => "branch",
            FLAG_LEAF => "leaf",
            FLAG_META => "meta",
            FLAG_FREELIST => "freelist",
            _ => "unknown",
        }
    }
}

/// Reads a little-endian u64 at `off`. Callers check bounds first.
pub fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().expect("8 bytes"))
}

/// Reads a little-endian u32 at `off`. Callers check bounds first.
pub fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().expect("4 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let h = PageHeader {
            id: 5,
            flags: FLAG_LEAF,
            count: 3,
            overflow: 1,
        };
        let bytes = h.encode();
        assert_eq!(&bytes, b"\x05\0\0\0\0\0\0\0\x02\0\x03\0\x01\0\0\0");
        assert_eq!(PageHeader::parse(&bytes), Some(h));
        assert_eq!(PageHeader::parse(&bytes[..15]), None);
        assert_eq!(h.kind(), "leaf");
    }
}
