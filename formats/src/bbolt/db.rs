//! Opening a bbolt file read-only: the sha256 trailer, page-size discovery, the winning meta, and
//! bounds-checked access to pages. Nothing here copies the file; a page's elements are read by
//! `Node` (`node.rs`).

use std::path::Path;

use super::cursor::{Bucket, Root};
use super::error::{Error, Result};
use super::meta::{META_SIZE, Meta, MetaError};
use super::node::Node;
use super::page::{FLAG_META, PAGE_HEADER_SIZE, PGID_NO_FREELIST, PageHeader, Pgid};

/// Length of the SHA-256 trailer `etcdctl snapshot save` appends
/// (`docs/format-bbolt.md#snapshot-file`).
const TRAILER_LEN: usize = 32;
/// Smallest page size accepted: a page must hold a header, a meta record and a few elements.
pub(crate) const MIN_PAGE_SIZE: usize = 256;
const _: () = assert!(PAGE_HEADER_SIZE + META_SIZE <= MIN_PAGE_SIZE);
/// Largest page size accepted (bbolt probes for metas up to 16 MiB).
pub(crate) const MAX_PAGE_SIZE: usize = 1 << 28;
/// bbolt reads this many bytes to find meta 0 (`getPageSizeFromFirstMeta`).
const FIRST_META_READ: usize = 0x1000;

enum Storage {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Storage {
    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Mapped(m) => m,
            Storage::Owned(v) => v,
        }
    }
}

/// A bbolt file opened read-only. Pages are read straight from the mapping (or the owned buffer);
/// every offset, count and page id found in the file is checked before it is used.
pub struct Db {
    storage: Storage,
    /// Length of the db bytes: the file without its sha256 trailer.
    data_len: usize,
    trailer: Option<[u8; TRAILER_LEN]>,
    page_size: usize,
    meta: Meta,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("data_len", &self.data_len)
            .field("has_trailer", &self.trailer.is_some())
            .field("page_size", &self.page_size)
            .field("meta", &self.meta)
            .finish()
    }
}

impl Db {
    /// Maps `path` read-only. I/O errors name the path.
    pub fn open(path: &Path) -> Result<Db> {
        let file = std::fs::File::open(path)
            .map_err(|e| Error::new(format!("cannot open {}: {e}", path.display())))?;
        Db::open_file(&file, path)
    }

    /// Maps an open file read-only (e.g. an unlinked temp file); errors name it `shown_as`.
    /// The mapping stays valid after `file` is closed.
    pub fn open_file(file: &std::fs::File, shown_as: &Path) -> Result<Db> {
        let path = shown_as;
        let io =
            |what: &str, e: std::io::Error| Error::new(format!("{what} {}: {e}", path.display()));
        let len = file.metadata().map_err(|e| io("cannot stat", e))?.len();
        if len == 0 {
            return Err(Error::new(format!("{}: file is empty", path.display())));
        }
        // SAFETY: the file is opened read-only and the mapping is never written through. As with
        // every mmap reader (bbolt included), another process truncating or rewriting the file
        // while it is mapped is outside what we can guard against.
        let map = unsafe { memmap2::Mmap::map(file) }.map_err(|e| io("cannot map", e))?;
        Db::new(Storage::Mapped(map)).map_err(|e| Error {
            pgid: e.pgid,
            message: format!("{}: {}", path.display(), e.message),
        })
    }

    /// Reads a db from memory (tests, fuzzing, data already in memory).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Db> {
        Db::new(Storage::Owned(bytes))
    }

    fn new(storage: Storage) -> Result<Db> {
        let all = storage.bytes();
        let (data_len, trailer) = split_trailer(all);
        let data = &all[..data_len];
        let page_size = discover_page_size(data)?;
        let meta = choose_meta(data, page_size)?;
        let need = meta.pgid * page_size as u64; // no overflow: checked in `meta_at`
        if (data_len as u64) < need {
            let present = data_len as u64 / page_size as u64;
            return Err(Error::new(format!(
                "file is truncated: the meta says {} pages of {page_size} bytes ({need} bytes) but \
                 only {data_len} bytes are present; pages {present}..{} are missing or incomplete",
                meta.pgid,
                meta.pgid - 1
            )));
        }
        Ok(Db {
            storage,
            data_len,
            trailer,
            page_size,
            meta,
        })
    }

    /// The winning meta (valid, highest txid).
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// `meta.pgid * page_size`: the size etcdutl reports as `totalSize`.
    pub fn size(&self) -> u64 {
        self.meta.pgid * self.page_size as u64
    }

    /// The file's bytes without the sha256 trailer.
    pub fn data(&self) -> &[u8] {
        &self.storage.bytes()[..self.data_len]
    }

    /// The trailer, present when the file length is `32 mod 512`
    /// (`docs/format-bbolt.md#snapshot-file`).
    pub fn sha256_trailer(&self) -> Option<[u8; 32]> {
        self.trailer
    }

    /// Bytes past the last whole page when the file is neither whole pages nor whole pages plus
    /// the 32-byte trailer: a snapshot cut short (1–31 bytes of a trailer), or with junk appended.
    pub fn stray_tail(&self) -> Option<usize> {
        let len = self.storage.bytes().len();
        match len % self.page_size {
            0 => None,
            TRAILER_LEN if self.trailer.is_some() => None,
            n => Some(n),
        }
    }

    /// Whether the trailer equals the SHA-256 of [`Db::data`]; `None` when there is no trailer.
    /// Hashed with ring (linked already for TLS), a little faster than `sha2` on SHA-NI here:
    /// hashing the whole file is the longest single job of a restore or a verified decode.
    pub fn verify_sha256(&self) -> Option<bool> {
        let want = self.trailer?;
        let got = ring::digest::digest(&ring::digest::SHA256, self.data());
        Some(got.as_ref() == want)
    }

    /// The root bucket, whose entries are the top-level buckets.
    pub fn root(&self) -> Bucket<'_> {
        Bucket::new(self, Root::Page(self.meta.root))
    }

    /// A top-level bucket by name.
    pub fn bucket(&self, name: &[u8]) -> Result<Option<Bucket<'_>>> {
        self.root().bucket(name)
    }

    /// Free pages, sorted: the synced freelist page, or rebuilt from reachability when the freelist
    /// was not synced (`meta.freelist == u64::MAX`, etcd on Linux).
    pub fn free_pages(&self) -> Result<Vec<Pgid>> {
        super::freelist::free_pages(self)
    }

    /// `(pgid - free pages) * page_size`, like etcd's `dbSizeInUse`.
    pub fn in_use_size(&self) -> Result<u64> {
        let free = self.free_pages()?.len() as u64;
        Ok(self.meta.pgid.saturating_sub(free) * self.page_size as u64)
    }

    /// The meta record of meta page `index` (0 or 1) if it is valid for this file, or why not.
    pub(crate) fn meta_at(&self, index: u64) -> std::result::Result<Meta, String> {
        meta_at(self.data(), index, self.page_size)
    }

    /// Header and bytes (the page and its overflow pages) of page `pgid`, bounds-checked.
    pub(crate) fn page(&self, pgid: Pgid) -> Result<(PageHeader, &[u8])> {
        let high = self.meta.pgid;
        if pgid >= high {
            return Err(Error::page(
                pgid,
                format!("page id is beyond the high-water mark {high}"),
            ));
        }
        let ps = self.page_size as u64;
        let start = (pgid * ps) as usize; // < pgid*ps <= data_len, checked at open
        let header = PageHeader::parse(&self.data()[start..])
            .ok_or_else(|| Error::page(pgid, "page header is truncated"))?;
        if header.id != pgid {
            return Err(Error::page(
                pgid,
                format!(
                    "page header has id {} (a misplaced or corrupt page)",
                    header.id
                ),
            ));
        }
        let end = pgid + 1 + u64::from(header.overflow);
        if end > high {
            return Err(Error::page(
                pgid,
                format!(
                    "{} overflow pages run past the high-water mark {high}",
                    header.overflow
                ),
            ));
        }
        Ok((header, &self.data()[start..(end * ps) as usize]))
    }

    /// Page `pgid` as a branch or leaf node.
    pub(crate) fn node(&self, pgid: Pgid) -> Result<Node<'_>> {
        let (_, bytes) = self.page(pgid)?;
        Node::new(pgid, false, bytes)
    }
}

/// Splits off the sha256 trailer when `len % 512 == 32`.
fn split_trailer(all: &[u8]) -> (usize, Option<[u8; TRAILER_LEN]>) {
    if all.len() % 512 == TRAILER_LEN {
        let data_len = all.len() - TRAILER_LEN;
        let mut t = [0u8; TRAILER_LEN];
        t.copy_from_slice(&all[data_len..]);
        (data_len, Some(t))
    } else {
        (all.len(), None)
    }
}

/// bbolt's `getPageSize`: meta 0's page size if it is valid, else the page size of a valid meta
/// found at 1 KiB, 2 KiB, … 16 MiB (meta 1 of a file with that page size).
fn discover_page_size(data: &[u8]) -> Result<usize> {
    let first = &data[..data.len().min(FIRST_META_READ)];
    let why0 = match Meta::read_valid(first) {
        Ok(m) if page_size_ok(m.page_size) => return Ok(m.page_size as usize),
        Ok(m) => format!("unsupported page size {}", m.page_size),
        Err(e) => e.to_string(),
    };
    for i in 0..=14 {
        let pos = 1024usize << i;
        if pos + 1024 >= data.len() {
            break;
        }
        if let Ok(m) = Meta::read_valid(&data[pos..]) {
            if m.page_size as usize == pos {
                return Ok(pos);
            }
        }
    }
    Err(Error::new(format!(
        "not a valid bbolt file: meta page 0 is invalid ({why0}) and no valid meta page 1 was \
         found at any page size from 1 KiB to 16 MiB"
    )))
}

fn page_size_ok(ps: u32) -> bool {
    (MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&(ps as usize))
}

/// Meta page `index`, validated as bbolt does (magic, version, checksum) and also checked for use
/// with this file: page size, page header, and root/freelist below the high-water mark.
fn meta_at(data: &[u8], index: u64, page_size: usize) -> std::result::Result<Meta, String> {
    let start = index as usize * page_size;
    let page = data.get(start..).unwrap_or(&[]);
    let page = &page[..page.len().min(page_size)];
    let m = Meta::read_valid(page).map_err(|e: MetaError| e.to_string())?;
    if m.page_size as usize != page_size {
        return Err(format!(
            "meta says page size {} but the file's page size is {page_size}",
            m.page_size
        ));
    }
    let header = PageHeader::parse(page).ok_or("meta page is truncated")?;
    if header.flags != FLAG_META || header.id != index {
        return Err(format!(
            "meta page header has id {} and flags {:#06x}, expected id {index} and flags {FLAG_META:#06x}",
            header.id, header.flags
        ));
    }
    if m.pgid < 3 || m.pgid.checked_mul(page_size as u64).is_none() {
        return Err(format!("meta high-water mark {} is impossible", m.pgid));
    }
    if m.root < 2 || m.root >= m.pgid {
        return Err(format!(
            "meta root page {} is outside 2..{}",
            m.root, m.pgid
        ));
    }
    if m.freelist != PGID_NO_FREELIST && (m.freelist < 2 || m.freelist >= m.pgid) {
        return Err(format!(
            "meta freelist page {} is outside 2..{}",
            m.freelist, m.pgid
        ));
    }
    Ok(m)
}

/// bbolt's `(*DB).meta`: the meta with the higher txid if it is valid, else the other one.
fn choose_meta(data: &[u8], page_size: usize) -> Result<Meta> {
    let m0 = meta_at(data, 0, page_size);
    let m1 = meta_at(data, 1, page_size);
    match (m0, m1) {
        (Ok(a), Ok(b)) => Ok(if b.txid > a.txid { b } else { a }),
        (Ok(a), Err(_)) => Ok(a),
        (Err(_), Ok(b)) => Ok(b),
        (Err(e0), Err(e1)) => Err(Error::new(format!(
            "both meta pages are invalid: page 0: {e0}; page 1: {e1}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testfile::{Builder, small};
    use super::*;
    use sha2::{Digest, Sha256};

    fn reseal(file: &mut [u8], ps: usize, index: usize, edit: impl FnOnce(&mut Meta)) {
        let page = &mut file[index * ps..(index + 1) * ps];
        let mut m = Meta::parse(page).unwrap();
        edit(&mut m);
        page.copy_from_slice(&m.encode_page(index as u64));
    }

    #[test]
    fn opens_a_small_file() {
        let db = Db::from_bytes(small(1024)).unwrap();
        assert_eq!(db.page_size(), 1024);
        assert_eq!(db.meta().txid, 5);
        assert_eq!(db.meta().pgid, 3);
        assert_eq!(db.size(), 3072);
        assert_eq!(db.data().len(), 3072);
        assert_eq!(db.sha256_trailer(), None);
        assert_eq!(db.verify_sha256(), None);
        let b = db.bucket(b"b").unwrap().unwrap();
        assert_eq!(b.get(b"k").unwrap(), Some(&b"v"[..]));
        assert!(db.bucket(b"nope").unwrap().is_none());
    }

    #[test]
    fn strips_and_verifies_the_sha256_trailer() {
        let mut file = small(1024);
        let sum: [u8; 32] = Sha256::digest(&file).into();
        file.extend_from_slice(&sum);
        assert_eq!(file.len() % 512, 32);
        let db = Db::from_bytes(file.clone()).unwrap();
        assert_eq!(db.data().len(), 3072);
        assert_eq!(db.sha256_trailer(), Some(sum));
        assert_eq!(db.verify_sha256(), Some(true));
        *file.last_mut().unwrap() ^= 1;
        assert_eq!(
            Db::from_bytes(file.clone()).unwrap().verify_sha256(),
            Some(false)
        );
        assert_eq!(Db::from_bytes(file.clone()).unwrap().stray_tail(), None);
        file.truncate(file.len() - 5);
        let cut = Db::from_bytes(file).unwrap();
        assert_eq!((cut.sha256_trailer(), cut.stray_tail()), (None, Some(27)));
    }

    #[test]
    fn discovers_the_page_size_from_meta1_when_meta0_is_bad() {
        for ps in [1024, 4096, 16384, 65536] {
            let mut file = small(ps);
            assert_eq!(Db::from_bytes(file.clone()).unwrap().page_size(), ps);
            file[16] ^= 0xFF; // meta 0 magic
            let db = Db::from_bytes(file).unwrap();
            assert_eq!(db.page_size(), ps, "page size {ps}");
            assert_eq!(db.meta().txid, 4, "meta 1 wins");
        }
    }

    #[test]
    fn the_valid_meta_with_the_higher_txid_wins() {
        let ps = 1024;
        // meta 1 with a higher txid wins when valid…
        let mut file = small(ps);
        reseal(&mut file, ps, 1, |m| m.txid = 9);
        assert_eq!(Db::from_bytes(file.clone()).unwrap().meta().txid, 9);
        // …and loses to meta 0 when its checksum is wrong.
        file[ps + 40] ^= 1;
        assert_eq!(Db::from_bytes(file).unwrap().meta().txid, 5);
        // Meta 0 (txid 5) corrupt: meta 1 (txid 4) wins.
        let mut file = small(ps);
        file[72] ^= 1;
        assert_eq!(Db::from_bytes(file).unwrap().meta().txid, 4);
        // A checksum-valid meta whose root is past the high-water mark is not used either.
        let mut file = small(ps);
        reseal(&mut file, ps, 0, |m| m.root = 7);
        assert_eq!(Db::from_bytes(file).unwrap().meta().txid, 4);
    }

    #[test]
    fn both_metas_invalid_is_an_error() {
        let mut file = small(1024);
        file[72] ^= 1;
        file[1024 + 72] ^= 1;
        let e = Db::from_bytes(file).unwrap_err().to_string();
        assert!(e.contains("not a valid bbolt file"), "{e}");
        let mut file = small(1024);
        reseal(&mut file, 1024, 0, |m| m.pgid = 2);
        reseal(&mut file, 1024, 1, |m| m.freelist = 40);
        let e = Db::from_bytes(file).unwrap_err().to_string();
        assert!(e.contains("both meta pages are invalid"), "{e}");
        assert!(e.contains("high-water mark 2"), "{e}");
        assert!(e.contains("freelist page 40"), "{e}");
    }

    #[test]
    fn a_truncated_file_names_the_missing_pages() {
        let mut b = Builder::new(1024);
        let root = b.leaf(&[]);
        b.leaf(&[]);
        b.leaf(&[]);
        let mut file = b.finish(root, PGID_NO_FREELIST, 2);
        file.truncate(3 * 1024 + 100);
        let e = Db::from_bytes(file).unwrap_err().to_string();
        assert!(e.contains("file is truncated"), "{e}");
        assert!(e.contains("5 pages of 1024 bytes"), "{e}");
        assert!(e.contains("pages 3..4 are missing"), "{e}");
        for tiny in [vec![], vec![0u8; 100], vec![0u8; 4096], vec![0xFF; 70000]] {
            assert!(Db::from_bytes(tiny).is_err());
        }
    }

    #[test]
    fn page_access_checks_ids_headers_and_overflow() {
        let mut b = Builder::new(1024);
        let root = b.leaf(&[]);
        let other = b.leaf(&[]);
        let file = b.finish(root, PGID_NO_FREELIST, 2);
        let db = Db::from_bytes(file.clone()).unwrap();
        assert!(db.node(other).unwrap().leaf);
        let e = db.page(4).unwrap_err();
        assert_eq!(e.pgid, Some(4));
        assert!(e.message.contains("beyond the high-water mark 4"), "{e}");
        assert!(db.node(0).unwrap_err().message.contains("invalid type"));

        let mut bad = file.clone();
        bad[3 * 1024] = 7; // page 3 claims to be page 7
        let e = Db::from_bytes(bad)
            .unwrap()
            .node(3)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "page 3: page header has id 7 (a misplaced or corrupt page)"
        );

        let mut bad = file;
        bad[3 * 1024 + 12] = 1; // page 3 claims one overflow page: past the end
        let e = Db::from_bytes(bad)
            .unwrap()
            .node(3)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("1 overflow pages run past the high-water mark 4"),
            "{e}"
        );
    }

    #[test]
    fn open_maps_a_file_and_names_it_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        std::fs::write(&path, small(1024)).unwrap();
        let db = Db::open(&path).unwrap();
        assert_eq!(db.data(), &small(1024)[..]);
        assert_eq!(
            db.bucket(b"b").unwrap().unwrap().get(b"k").unwrap(),
            Some(&b"v"[..])
        );

        let missing = dir.path().join("missing");
        let e = Db::open(&missing).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("cannot open {}: ", missing.display())),
            "{e}"
        );
        std::fs::write(&path, b"").unwrap();
        assert_eq!(
            Db::open(&path).unwrap_err().to_string(),
            format!("{}: file is empty", path.display())
        );
        std::fs::write(&path, vec![7u8; 8192]).unwrap();
        let e = Db::open(&path).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: not a valid bbolt file", path.display())),
            "{e}"
        );
    }

    #[test]
    fn open_file_maps_an_unlinked_file_and_names_it_as_shown() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let mut file = tempfile::tempfile_in(dir.path()).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let shown = Path::new("backup.db.zst");
        let e = Db::open_file(&file, shown).unwrap_err().to_string();
        assert_eq!(e, "backup.db.zst: file is empty");
        file.write_all(&small(1024)).unwrap();
        let db = Db::open_file(&file, shown).unwrap();
        drop(file);
        assert_eq!(
            db.bucket(b"b").unwrap().unwrap().get(b"k").unwrap(),
            Some(&b"v"[..])
        );
    }
}
