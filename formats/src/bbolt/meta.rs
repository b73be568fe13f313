//! The meta page (pages 0 and 1): a 64-byte record at page offset 16, FNV-1a-64 checksummed.

use super::page::{FLAG_META, PAGE_HEADER_SIZE, PageHeader, Pgid, u32_at, u64_at};

pub const MAGIC: u32 = 0xED0C_DAED;
pub const VERSION: u32 = 2;
/// Bytes of the meta record, checksum included.
pub const META_SIZE: usize = 64;
/// The checksum covers the record up to (not including) the checksum field.
const CHECKSUMMED: usize = 56;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    pub magic: u32,
    pub version: u32,
    pub page_size: u32,
    pub flags: u32,
    /// Root page of the root bucket.
    pub root: Pgid,
    pub sequence: u64,
    /// Freelist page, or [`super::page::PGID_NO_FREELIST`].
    pub freelist: Pgid,
    /// High-water mark: number of pages in use.
    pub pgid: Pgid,
    pub txid: u64,
    pub checksum: u64,
}

/// Why a meta record is not valid, in bbolt's order of checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaError {
    Truncated,
    BadMagic(u32),
    BadVersion(u32),
    BadChecksum { stored: u64, computed: u64 },
}

impl std::fmt::Display for MetaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetaError::Truncated => write!(f, "meta page is truncated"),
            MetaError::BadMagic(m) => write!(f, "bad magic {m:#010x} (not a bbolt file)"),
            MetaError::BadVersion(v) => write!(f, "unsupported bbolt version {v}"),
            MetaError::BadChecksum { stored, computed } => {
                write!(f, "checksum {stored:#018x} != computed {computed:#018x}")
            }
        }
    }
}

impl Meta {
    /// Parses the meta record of a meta page (`page` starts at the page header). Does not validate.
    pub fn parse(page: &[u8]) -> Result<Meta, MetaError> {
        let b = page
            .get(PAGE_HEADER_SIZE..PAGE_HEADER_SIZE + META_SIZE)
            .ok_or(MetaError::Truncated)?;
        Ok(Meta {
            magic: u32_at(b, 0),
            version: u32_at(b, 4),
            page_size: u32_at(b, 8),
            flags: u32_at(b, 12),
            root: u64_at(b, 16),
            sequence: u64_at(b, 24),
            freelist: u64_at(b, 32),
            pgid: u64_at(b, 40),
            txid: u64_at(b, 48),
            checksum: u64_at(b, 56),
        })
    }

    /// bbolt's `Validate`: magic, then version, then checksum.
    pub fn validate(&self) -> Result<(), MetaError> {
        if self.magic != MAGIC {
            return Err(MetaError::BadMagic(self.magic));
        }
        if self.version != VERSION {
            return Err(MetaError::BadVersion(self.version));
        }
        let computed = fnv1a64(&self.record()[..CHECKSUMMED]);
        if computed != self.checksum {
            return Err(MetaError::BadChecksum {
                stored: self.checksum,
                computed,
            });
        }
        Ok(())
    }

    /// Parses and validates in one step.
    pub fn read_valid(page: &[u8]) -> Result<Meta, MetaError> {
        let m = Meta::parse(page)?;
        m.validate()?;
        Ok(m)
    }

    /// The 64-byte record with the stored checksum.
    pub fn record(&self) -> [u8; META_SIZE] {
        let mut b = [0u8; META_SIZE];
        b[0..4].copy_from_slice(&self.magic.to_le_bytes());
        b[4..8].copy_from_slice(&self.version.to_le_bytes());
        b[8..12].copy_from_slice(&self.page_size.to_le_bytes());
        b[12..16].copy_from_slice(&self.flags.to_le_bytes());
        b[16..24].copy_from_slice(&self.root.to_le_bytes());
        b[24..32].copy_from_slice(&self.sequence.to_le_bytes());
        b[32..40].copy_from_slice(&self.freelist.to_le_bytes());
        b[40..48].copy_from_slice(&self.pgid.to_le_bytes());
        b[48..56].copy_from_slice(&self.txid.to_le_bytes());
        b[56..64].copy_from_slice(&self.checksum.to_le_bytes());
        b
    }

    /// Sets the checksum from the other fields.
    pub fn seal(&mut self) {
        self.checksum = fnv1a64(&self.record()[..CHECKSUMMED]);
    }

    /// A full meta page of `page_size` bytes with page id `id` (0 or 1), checksum recomputed.
    pub fn encode_page(&self, id: Pgid) -> Vec<u8> {
        let mut m = *self;
        m.seal();
        let mut page = vec![0u8; m.page_size as usize];
        let header = PageHeader {
            id,
            flags: FLAG_META,
            count: 0,
            overflow: 0,
        };
        page[..PAGE_HEADER_SIZE].copy_from_slice(&header.encode());
        page[PAGE_HEADER_SIZE..PAGE_HEADER_SIZE + META_SIZE].copy_from_slice(&m.record());
        page
    }
}

/// FNV-1a, 64 bit, as bbolt checksums its metas.
pub fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Meta page 0 of `snap35.db` (`docs/format-bbolt.md#worked-example`), byte for byte.
    const SNAP35_META0: &str = "00000000000000000400000000000000edda0ced0200000000100000000000\
        0002000000000000000000000000000000ffffffffffffffff08000000000000000d00000000000000a4327569fdf46aaf";

    fn hex(s: &str) -> Vec<u8> {
        ::hex::decode(s.split_whitespace().collect::<String>()).expect("hex test vector")
    }

    #[test]
    fn parses_and_validates_the_spec_vector() {
        let page = hex(SNAP35_META0);
        let m = Meta::read_valid(&page).expect("valid meta");
        assert_eq!(m.page_size, 4096);
        assert_eq!(m.root, 2);
        assert_eq!(m.freelist, u64::MAX);
        assert_eq!(m.pgid, 8);
        assert_eq!(m.txid, 13);
        assert_eq!(m.checksum, 0xaf6af4fd697532a4);
        let again = m.encode_page(0);
        assert_eq!(&again[..80], &page[..80]);
    }

    #[test]
    fn detects_each_kind_of_bad_meta() {
        let page = hex(SNAP35_META0);
        let mut flipped = page.clone();
        flipped[40] ^= 1;
        assert!(matches!(
            Meta::read_valid(&flipped),
            Err(MetaError::BadChecksum { .. })
        ));
        let mut magic = page.clone();
        magic[16] = 0;
        assert!(matches!(
            Meta::read_valid(&magic),
            Err(MetaError::BadMagic(_))
        ));
        assert_eq!(Meta::read_valid(&page[..70]), Err(MetaError::Truncated));
    }
}
