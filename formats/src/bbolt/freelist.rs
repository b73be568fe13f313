//! The freelist (`docs/format-bbolt.md#freelist`): read from its page when synced (including the
//! 0xFFFF count overflow), or rebuilt from reachability when the db was written with
//! `NoFreelistSync` (etcd on Linux).

use super::check;
use super::db::Db;
use super::error::{Error, Result};
use super::page::{
    FLAG_FREELIST, FREELIST_COUNT_OVERFLOW, PAGE_HEADER_SIZE, PGID_NO_FREELIST, Pgid, u64_at,
};

/// The ids listed on freelist page `pgid`, in stored order and unvalidated, and the number of
/// pages the freelist occupies (1 + overflow).
pub(crate) fn read_page(db: &Db, pgid: Pgid) -> Result<(Vec<Pgid>, u64)> {
    let (header, bytes) = db.page(pgid)?;
    if header.flags != FLAG_FREELIST {
        return Err(Error::page(
            pgid,
            format!(
                "invalid type: expected a freelist page, found flags {:#06x} ({})",
                header.flags,
                header.kind()
            ),
        ));
    }
    let (count, start) = if header.count == FREELIST_COUNT_OVERFLOW {
        if bytes.len() < PAGE_HEADER_SIZE + 8 {
            return Err(Error::page(pgid, "freelist count overflow word is missing"));
        }
        (u64_at(bytes, PAGE_HEADER_SIZE), PAGE_HEADER_SIZE + 8)
    } else {
        (u64::from(header.count), PAGE_HEADER_SIZE)
    };
    let room = ((bytes.len() - start) / 8) as u64;
    if count > room {
        return Err(Error::page(
            pgid,
            format!(
                "freelist lists {count} ids but its {} page(s) hold at most {room}",
                1 + u64::from(header.overflow)
            ),
        ));
    }
    let ids = bytes[start..start + count as usize * 8]
        .chunks_exact(8)
        .map(|c| u64_at(c, 0))
        .collect();
    Ok((ids, 1 + u64::from(header.overflow)))
}

/// See [`Db::free_pages`].
pub(crate) fn free_pages(db: &Db) -> Result<Vec<Pgid>> {
    let meta = db.meta();
    if meta.freelist == PGID_NO_FREELIST {
        return rebuild(db);
    }
    let (mut ids, _) = read_page(db, meta.freelist)?;
    if let Some(bad) = ids.iter().find(|&&id| id < 2 || id >= meta.pgid) {
        return Err(Error::page(
            meta.freelist,
            format!("freelist lists page {bad}, outside 2..{}", meta.pgid),
        ));
    }
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::page(
            meta.freelist,
            format!("freelist lists page {} twice", w[0]),
        ));
    }
    Ok(ids)
}

/// bbolt's `freepages`: every page in `2..pgid` not reachable from the root bucket. Fails if the
/// tree walk finds a problem (bbolt panics there), since the answer would not be trustworthy.
fn rebuild(db: &Db) -> Result<Vec<Pgid>> {
    let reachable = check::reachable_pages(db)?;
    Ok((2..db.meta().pgid)
        .filter(|&id| !reachable.get(id))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::testfile::{Builder, bucket_ref};
    use super::*;

    const PS: usize = 1024;

    /// Root leaf (page 2) with bucket `p` at page 3; pages 4 and 5 are orphans; then the freelist
    /// page listing `ids` (or no freelist page when `ids` is `None`).
    fn file(ids: Option<&[Pgid]>, force_overflow: bool) -> Vec<u8> {
        let mut b = Builder::new(PS);
        let root = b.leaf(&[(true, b"p", &bucket_ref(3))]);
        b.leaf(&[(false, b"k", b"v")]);
        b.leaf(&[]);
        b.leaf(&[]);
        let freelist = match ids {
            Some(ids) => b.freelist(ids, force_overflow),
            None => PGID_NO_FREELIST,
        };
        b.finish(root, freelist, 7)
    }

    #[test]
    fn reads_a_synced_freelist() {
        let db = Db::from_bytes(file(Some(&[5, 4]), false)).unwrap();
        assert_eq!(db.meta().freelist, 6);
        assert_eq!(read_page(&db, 6).unwrap(), (vec![5, 4], 1));
        assert_eq!(db.free_pages().unwrap(), [4, 5]);
        assert_eq!(db.in_use_size().unwrap(), (7 - 2) * PS as u64);
        // The same list with the 0xFFFF count marker and the count in the first word.
        let db = Db::from_bytes(file(Some(&[5, 4]), true)).unwrap();
        assert_eq!(db.page(6).unwrap().0.count, 0xFFFF);
        assert_eq!(db.free_pages().unwrap(), [4, 5]);
    }

    #[test]
    fn reads_a_freelist_of_more_than_0xffff_ids() {
        let ps = 256;
        let n = 70_000u64;
        let mut b = Builder::new(ps);
        let root = b.leaf(&[]);
        b.file.resize(b.file.len() + n as usize * ps, 0); // pages 3..3+n, never written
        let ids: Vec<Pgid> = (3..3 + n).rev().collect();
        let freelist = b.freelist(&ids, false);
        let db = Db::from_bytes(b.finish(root, freelist, 9)).unwrap();
        let (header, _) = db.page(freelist).unwrap();
        assert_eq!(header.count, 0xFFFF);
        assert_eq!(
            u64::from(header.overflow),
            (16 + 8 * (n + 1)).div_ceil(256) - 1
        );
        let free = db.free_pages().unwrap();
        assert_eq!(free.len() as u64, n);
        assert_eq!((free[0], free[free.len() - 1]), (3, 2 + n));
        assert!(super::super::check(&db).is_empty());
        assert_eq!(db.in_use_size().unwrap(), (db.meta().pgid - n) * ps as u64);
    }

    #[test]
    fn rebuilds_an_unsynced_freelist_from_reachability() {
        let db = Db::from_bytes(file(None, false)).unwrap();
        assert_eq!(db.free_pages().unwrap(), [4, 5]);
        assert_eq!(db.in_use_size().unwrap(), 4 * PS as u64);

        // Overflow pages of a reachable page are in use.
        let mut b = Builder::new(PS);
        let big = vec![7u8; 3000];
        let root = b.leaf(&[(true, b"p", &bucket_ref(4))]);
        b.leaf(&[]); // page 3, orphan
        let p = b.leaf(&[(false, b"big", &big)]); // pages 4..=6
        b.leaf(&[]); // page 7, orphan
        assert_eq!(p, 4);
        let db = Db::from_bytes(b.finish(root, PGID_NO_FREELIST, 2)).unwrap();
        assert_eq!(db.free_pages().unwrap(), [3, 7]);

        // A broken tree cannot be trusted to say what is free.
        let mut b = Builder::new(PS);
        let root = b.leaf(&[(true, b"p", &bucket_ref(40))]);
        let db = Db::from_bytes(b.finish(root, PGID_NO_FREELIST, 2)).unwrap();
        let e = db.free_pages().unwrap_err();
        assert_eq!(
            e.to_string(),
            "page 40: out of bounds: high-water mark is 3"
        );
        assert!(db.in_use_size().is_err());
    }

    #[test]
    fn rejects_broken_freelist_pages() {
        let listed = |ids: &[Pgid]| Db::from_bytes(file(Some(ids), false)).unwrap();
        let e = listed(&[4, 5, 4]).free_pages().unwrap_err();
        assert_eq!(e.to_string(), "page 6: freelist lists page 4 twice");
        let e = listed(&[4, 9]).free_pages().unwrap_err();
        assert_eq!(e.to_string(), "page 6: freelist lists page 9, outside 2..7");
        let e = listed(&[1]).free_pages().unwrap_err();
        assert!(e.message.contains("lists page 1"), "{e}");

        let mut bad = file(Some(&[4, 5]), false);
        bad[6 * PS + 10..6 * PS + 12].copy_from_slice(&200u16.to_le_bytes());
        let e = Db::from_bytes(bad).unwrap().free_pages().unwrap_err();
        assert_eq!(
            e.to_string(),
            "page 6: freelist lists 200 ids but its 1 page(s) hold at most 126"
        );

        let mut bad = file(Some(&[4, 5]), true);
        bad[6 * PS + 16..6 * PS + 24].copy_from_slice(&u64::MAX.to_le_bytes());
        let e = Db::from_bytes(bad).unwrap().free_pages().unwrap_err();
        assert!(e.message.contains("lists 18446744073709551615 ids"), "{e}");

        let mut bad = file(Some(&[4, 5]), false);
        bad[6 * PS + 8] = 0x02; // a leaf, not a freelist
        let e = Db::from_bytes(bad).unwrap().free_pages().unwrap_err();
        assert!(
            e.message
                .contains("expected a freelist page, found flags 0x0002"),
            "{e}"
        );
    }
}
