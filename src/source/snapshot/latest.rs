//! The latest state of the keys of a snapshot, in key order, on every core.
//!
//! etcd's `key` bucket is ordered by revision, not by key, so the latest state of a key is its
//! newest entry and every query walks every revision. The walk is split into revision ranges
//! (parts), each walked on its own thread into its newest entry per key (a hash map of indexes
//! into a list of entries, sized up front), then sorted by key; one linear merge in key order
//! lets the entry of the later part win (a later part's delete removes an earlier put).
//!
//! Sorting compares keys that lie scattered over the memory map; each entry carries its key's
//! first bytes after the prefix every key shares (`head`), so most compares stay in the sorted
//! list and only ties read the map.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use foldhash::fast::RandomState;
use revkeeper_formats::etcd::bucket as buckets;
use revkeeper_formats::etcd::kv_ref::KeyValueRef;
use revkeeper_formats::etcd::revision::{Revision, RevisionKey};

use super::SnapshotSource;
use super::{KeyRange, Result};

/// Below this file size one thread walks every revision: threads would cost more than they save.
const SPLIT_BYTES: u64 = 64 << 20;
/// Entries read to learn how many changes a revision holds (Kubernetes writes one per
/// revision, other writers whole transactions).
const SAMPLE_ENTRIES: usize = 4096;
/// At most this many parts (threads) for one scan.
const MAX_PARTS: usize = 8;

/// A key's newest entry within one part: 56 bytes, a million of them live until the merge ends.
#[derive(Clone, Copy)]
struct Newest<'a> {
    /// The first 16 bytes of the key after the prefix shared by every key of the scan, big
    /// endian, for compares that do not read the key (ties compare the keys).
    head: [u64; 2],
    key: &'a [u8],
    /// The stored `KeyValue`, parsed again when the merge hands it on (a parse is kept only
    /// for the few keys that survive, not for every one held while sorting).
    stored: &'a [u8],
    deleted: bool,
}

const _: () = assert!(std::mem::size_of::<Newest<'static>>() == 56);

impl Newest<'_> {
    fn cmp_key(&self, other: &Newest<'_>) -> Ordering {
        self.head
            .cmp(&other.head)
            .then_with(|| self.key.cmp(other.key))
    }
}

/// One part's newest entries, in first-seen order, and the longest prefix its keys share.
struct Walked<'a> {
    newest: Vec<Newest<'a>>,
    shared: Option<&'a [u8]>,
}

impl SnapshotSource {
    /// Calls `f` with the newest entry of every key of `range` (empty key skipped, deletes left
    /// out) among revisions up to `max_revision`, in key order, splitting the walk on the cores.
    pub(super) fn latest<'s>(
        &'s self,
        range: &KeyRange,
        max_revision: i64,
        f: impl FnMut(KeyValueRef<'s>) -> Result<()>,
    ) -> Result<()> {
        let starts = self.part_starts(max_revision, parts_wanted())?;
        self.latest_in_parts(range, max_revision, &starts, f)
    }

    /// [`SnapshotSource::latest`] with the walk split at `starts` (ascending; the first part
    /// starts at the bucket's first revision): the answer is the same for any split.
    pub(super) fn latest_in_parts<'s>(
        &'s self,
        range: &KeyRange,
        max_revision: i64,
        starts: &[Revision],
        mut f: impl FnMut(KeyValueRef<'s>) -> Result<()>,
    ) -> Result<()> {
        let bounds: Vec<(Option<Revision>, Option<Revision>)> = (0..=starts.len())
            .map(|i| {
                let from = i.checked_sub(1).map(|j| starts[j]);
                (from, starts.get(i).copied())
            })
            .collect();
        let hint = self.entries_hint(max_revision, bounds.len())?;
        let walk = |i: usize| {
            let (from, until) = bounds[i];
            // The first part's deletes have no earlier entry left to remove.
            self.walk_part(range, max_revision, from, until, hint, i > 0)
        };
        let mut walked = std::thread::scope(|s| {
            let others: Vec<_> = (1..bounds.len())
                .map(|i| s.spawn(move || walk(i)))
                .collect();
            let first = walk(0);
            // The first error in revision order is the one a single walk would have met.
            let mut walked = vec![first?];
            for other in others {
                walked.push(other.join().unwrap_or_else(|_| {
                    Err(crate::Error::general("a snapshot scan thread panicked"))
                })?);
            }
            Ok::<_, crate::Error>(walked)
        })?;
        let shared = shared_prefix(&walked);
        std::thread::scope(|s| {
            let mut rest = walked.iter_mut();
            let first = rest.next();
            for part in rest {
                s.spawn(move || sort(&mut part.newest, shared));
            }
            if let Some(part) = first {
                sort(&mut part.newest, shared);
            }
        });
        // Each was parsed in the walk already, so this cannot fail unless the map changed.
        merge(walked, &mut |stored| {
            f(KeyValueRef::parse(stored).map_err(|err| self.corrupt(err))?)
        })
    }

    /// Where the parts after the first start: the revision range up to `max_revision` cut into
    /// `parts` equal spans (none for a small file).
    fn part_starts(&self, max_revision: i64, parts: usize) -> Result<Vec<Revision>> {
        let Some((first, last)) = self.revision_span()? else {
            return Ok(Vec::new());
        };
        let last = last.min(max_revision);
        let span = last.saturating_sub(first);
        if parts < 2 || self.db.size() < SPLIT_BYTES || span < parts as i64 {
            return Ok(Vec::new());
        }
        let step = span / parts as i64;
        Ok((1..parts as i64)
            .map(|i| Revision::new(first + i * step, 0))
            .collect())
    }

    /// A guess of how many keys one part keeps, to size its map once (growing it rehashes every
    /// key): the part's share of the entries (revisions times the changes per revision in a
    /// sample from the middle), capped by what the file could hold. Too large a guess for a
    /// narrow range costs little: memory the map and list never write is never paged in.
    fn entries_hint(&self, max_revision: i64, parts: usize) -> Result<usize> {
        let (Some((first, last)), Some(keys)) = (self.revision_span()?, self.bucket(buckets::KEY)?)
        else {
            return Ok(0);
        };
        let last = last.min(max_revision);
        let middle = Revision::new(first + last.saturating_sub(first) / 2, 0);
        let (mut sampled, mut revisions, mut previous) = (0usize, 0usize, None);
        // Damage found here is reported by the walk itself.
        for e in keys.iter_from(&middle.to_bytes()).take(SAMPLE_ENTRIES) {
            let Some(rk) = e.ok().and_then(|e| RevisionKey::parse(e.key).ok()) else {
                break;
            };
            sampled += 1;
            revisions += usize::from(previous != Some(rk.rev.main));
            previous = Some(rk.rev.main);
        }
        let span = usize::try_from(last.saturating_sub(first).saturating_add(1)).unwrap_or(0);
        let entries = span.saturating_mul(sampled.max(1)) / revisions.max(1);
        let most = usize::try_from(self.db.size() / 64).unwrap_or(usize::MAX);
        Ok(entries.min(most) / parts.max(1) + 1)
    }

    /// Walks the revisions from `from` (inclusive) to `until` (exclusive) and `max_revision`
    /// (inclusive) into each key's newest entry; deletes are kept only if `keep_deletes`.
    fn walk_part<'s>(
        &'s self,
        range: &KeyRange,
        max_revision: i64,
        from: Option<Revision>,
        until: Option<Revision>,
        hint: usize,
        keep_deletes: bool,
    ) -> Result<Walked<'s>> {
        let mut at: HashMap<&[u8], usize, RandomState> =
            HashMap::with_capacity_and_hasher(hint, RandomState::default());
        let mut newest = Vec::with_capacity(hint);
        let mut shared: Option<&[u8]> = None;
        self.walk_revisions(from, until, max_revision, |rk, stored, kv| {
            if kv.key.is_empty() || !range.contains(kv.key) {
                return; // the empty key is a restore's revision-bump marker, not user data
            }
            let entry = Newest {
                head: [0; 2],
                key: kv.key,
                stored,
                deleted: rk.tombstone,
            };
            match at.entry(kv.key) {
                Entry::Occupied(o) => newest[*o.get()] = entry,
                Entry::Vacant(v) => {
                    v.insert(newest.len());
                    newest.push(entry);
                    // The key was just read, so this costs no extra trip to memory.
                    shared = Some(match shared {
                        None => kv.key,
                        Some(s) => &s[..common_len(s, kv.key)],
                    });
                }
            }
        })?;
        drop(at);
        if !keep_deletes {
            newest.retain(|n| !n.deleted);
        }
        Ok(Walked { newest, shared })
    }
}

/// How many parts to split a scan into: one per core.
fn parts_wanted() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_PARTS))
}

/// The longest prefix of every key kept by every part (empty when none shares one).
fn shared_prefix<'a>(walked: &[Walked<'a>]) -> &'a [u8] {
    let mut shared: Option<&'a [u8]> = None;
    for s in walked.iter().filter_map(|w| w.shared) {
        shared = Some(match shared {
            None => s,
            Some(t) => &t[..common_len(t, s)],
        });
    }
    shared.unwrap_or_default()
}

fn common_len(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Sorts one part's entries by key; every key starts with `shared`.
fn sort(newest: &mut [Newest<'_>], shared: &[u8]) {
    for n in newest.iter_mut() {
        let mut head = [0u8; 16];
        let rest = &n.key[shared.len()..];
        let len = rest.len().min(16);
        head[..len].copy_from_slice(&rest[..len]);
        let head = u128::from_be_bytes(head);
        n.head = [(head >> 64) as u64, head as u64];
    }
    newest.sort_unstable_by(Newest::cmp_key);
}

/// Merges the parts' sorted entries in key order, handing on their stored bytes: where parts hold the same key, the latest
/// part's entry is the key's newest; a delete there leaves the key out.
fn merge<'s>(walked: Vec<Walked<'s>>, f: &mut impl FnMut(&'s [u8]) -> Result<()>) -> Result<()> {
    let mut parts: Vec<std::iter::Peekable<std::vec::IntoIter<Newest<'s>>>> = walked
        .into_iter()
        .map(|w| w.newest.into_iter().peekable())
        .collect();
    if let [only] = parts.as_mut_slice() {
        return only.try_for_each(|n| f(n.stored));
    }
    loop {
        let mut winner: Option<(usize, Newest<'s>)> = None;
        for (i, part) in parts.iter_mut().enumerate() {
            let Some(&n) = part.peek() else { continue };
            match &winner {
                Some((_, w)) if n.cmp_key(w) == Ordering::Greater => {}
                _ => winner = Some((i, n)),
            }
        }
        let Some((last, newest)) = winner else {
            return Ok(());
        };
        for part in &mut parts[..last] {
            part.next_if(|n| n.cmp_key(&newest) == Ordering::Equal);
        }
        parts[last].next();
        if !newest.deleted {
            f(newest.stored)?;
        }
    }
}
