//! What the TUI has loaded of its source, and how it stays current at little cost to etcd.
//!
//! One scan feeds the keyspace index and the inspector's facts at once (a live first load is
//! paged by bytes, with a pause between pages). On a live cluster, one watch of the whole keyspace
//! then follows from that revision: every put and delete goes into both (the facts of a changed
//! key are derived again from its new value), and only a watch whose history etcd compacted away
//! lists everything again. What the reads cost is kept for the header.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use revkeeper_formats::k8s::Keyring;
use revkeeper_ui::ReadCost;

use super::index::{KeyEntry, KeyspaceIndex};
use crate::inspect;
use crate::inspect::index::{InspectIndex, ObjectEntry};
use crate::source::{
    ChangeView, KeyRange, KeyView, LeaseRecord, Overview, RangeQuery, Source, WatchEnd,
};
use crate::{Error, Result};

/// Rest between two pages of a live load (each about 16 MiB), so the member serves its other
/// clients in between; the decoding goes on meanwhile.
const PAGE_PAUSE: Duration = Duration::from_millis(25);
/// Changed keys whose facts wait for the next findings; more are merged at once.
const PENDING_MAX: usize = 20_000;
/// Calls the progress callback every this many keys.
const PROGRESS_EVERY: u64 = 50_000;
/// How often a caller waiting for another's list looks again (the findings wait for the
/// keyspace's list: they show this much after it at most).
const WAIT_POLL: Duration = Duration::from_millis(20);
/// A lost watch is tried again after 1 s, doubling up to this.
const RETRY_MAX: Duration = Duration::from_secs(30);

/// The data of one load, kept current by the watch.
pub struct Loaded {
    pub keyspace: KeyspaceIndex,
    facts: InspectIndex,
    /// Facts of keys changed since `facts` was last merged (`None`: deleted).
    pending: BTreeMap<Box<str>, Option<ObjectEntry>>,
    /// "cluster via ENDPOINT" or "snapshot FILE".
    pub description: String,
    /// The revision the data is at: the list's, then the watch's.
    pub revision: i64,
    /// Bumped by every change, so reports made from older data are known to be old.
    pub generation: u64,
    /// Leases attached to keys the watch brought (the lease table may not know them yet).
    pub leases_seen: HashSet<i64>,
}

impl Loaded {
    /// The inspector's facts, with every change seen so far.
    pub fn facts(&mut self) -> &InspectIndex {
        self.facts.apply_changes(std::mem::take(&mut self.pending));
        &self.facts
    }

    fn apply(&mut self, changes: &[ChangeView<'_>], prefix: &str, keyring: &Keyring) {
        for c in changes {
            let Ok(key) = std::str::from_utf8(c.kv.key) else {
                continue; // not indexed by the scan either
            };
            if c.deleted {
                self.keyspace.remove(c.kv.key);
                self.pending.insert(key.into(), None);
            } else {
                self.keyspace.put(c.kv);
                let kv = c.kv;
                let entry = ObjectEntry::decode(
                    prefix,
                    kv.key,
                    kv.value,
                    kv.lease,
                    kv.mod_revision,
                    keyring,
                );
                self.pending.insert(key.into(), entry);
                if kv.lease != 0 {
                    self.leases_seen.insert(kv.lease);
                }
            }
            self.revision = self.revision.max(c.revision);
        }
        if !changes.is_empty() {
            self.generation += 1;
        }
        if self.pending.len() >= PENDING_MAX {
            self.facts();
        }
    }
}

/// What the reads cost so far.
#[derive(Clone, Debug, Default)]
struct Cost {
    listed_at: i64,
    first_load_bytes: u64,
    first_load: Duration,
    relists: u64,
    relist_reason: Option<String>,
    watch_error: Option<String>,
}

/// The loaded data of one source and, for a live one, the watch that keeps it current.
pub struct Tracker {
    source: Arc<dyn Source>,
    prefix: String,
    keyring: Keyring,
    live: bool,
    loaded: Mutex<Option<Loaded>>,
    /// Held while a list runs, so a second caller waits for the first list.
    listing: Mutex<()>,
    /// Keys the running list has seen (for callers waiting on it).
    listed_keys: AtomicU64,
    cost: Mutex<Option<Cost>>,
    following: AtomicBool,
    stop: AtomicBool,
}

impl Tracker {
    pub fn new(source: Arc<dyn Source>, prefix: &str, keyring: Keyring, live: bool) -> Tracker {
        Tracker {
            source,
            prefix: prefix.trim_end_matches('/').to_string(),
            keyring,
            live,
            loaded: Mutex::new(None),
            listing: Mutex::new(()),
            listed_keys: AtomicU64::new(0),
            cost: Mutex::new(None),
            following: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        }
    }

    pub fn source(&self) -> &dyn Source {
        self.source.as_ref()
    }

    /// Runs `f` on the loaded data, loading it first if nothing is (`progress` gets the keys
    /// listed so far, also while waiting for a list another caller started).
    pub fn with_loaded<T>(
        self: &Arc<Self>,
        progress: &dyn Fn(u64),
        f: impl FnOnce(&mut Loaded) -> T,
    ) -> Result<T> {
        let listing = loop {
            match self.listing.try_lock() {
                Ok(g) => break g,
                Err(TryLockError::Poisoned(p)) => break p.into_inner(),
                Err(TryLockError::WouldBlock) => {
                    progress(self.listed_keys.load(Ordering::Relaxed));
                    std::thread::sleep(WAIT_POLL);
                }
            }
        };
        if self.lock().is_none() {
            let started = Instant::now();
            let (loaded, bytes) = self.list(progress)?;
            *self.cost.lock().unwrap_or_else(|p| p.into_inner()) = Some(Cost {
                listed_at: loaded.revision,
                first_load_bytes: bytes,
                first_load: started.elapsed(),
                ..Cost::default()
            });
            *self.lock() = Some(loaded);
        }
        drop(listing);
        let mut loaded = self.lock();
        Ok(f(loaded.as_mut().expect("loaded above")))
    }

    /// Starts following a live source on a thread of its own, once something is loaded (later
    /// calls do nothing).
    pub fn start_following(self: &Arc<Self>) -> Result<()> {
        if !self.live || self.lock().is_none() || self.following.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let me = Arc::clone(self);
        std::thread::Builder::new()
            .name("revkeeper-tui-watch".into())
            .spawn(move || me.follow())
            .map(|_| ())
            .map_err(|e| Error::general(format!("cannot start the watch thread: {e}")))
    }

    /// Runs `f` on the loaded data if a load has finished (`None` otherwise; nothing is read).
    pub fn if_loaded<T>(&self, f: impl FnOnce(&Loaded) -> T) -> Option<T> {
        self.lock().as_ref().map(f)
    }

    fn lock(&self) -> MutexGuard<'_, Option<Loaded>> {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lists every key once, into the keyspace index and the facts; returns the data and the
    /// bytes read (keys and values).
    pub fn list(&self, progress: &dyn Fn(u64)) -> Result<(Loaded, u64)> {
        let (description, revision) = self.source.description_and_revision()?;
        let query = RangeQuery {
            revision: self.live.then_some(revision),
            ..RangeQuery::latest(KeyRange::prefix(Vec::new()))
        };
        let mut keyspace = KeyspaceIndex::new(&self.prefix);
        let mut facts = InspectIndex::new(&self.prefix);
        let mut bytes = 0u64;
        self.listed_keys.store(0, Ordering::Relaxed);
        let paced = Paced {
            inner: self.source.as_ref(),
            pause: if self.live {
                PAGE_PAUSE
            } else {
                Duration::ZERO
            },
        };
        let key_entry = |kv: &KeyView<'_>| (KeyEntry::new(kv), kv.key.len() + kv.value.len());
        inspect::scan_facts(
            &paced,
            &query,
            &self.prefix,
            &self.keyring,
            &key_entry,
            &mut |object, (entry, size)| {
                if keyspace.total_keys == 0 {
                    super::phases::mark("first-key-taken");
                }
                keyspace.add(entry);
                facts.push_decoded(object);
                bytes += size as u64;
                let n = keyspace.total_keys;
                if n % PROGRESS_EVERY == 0 {
                    self.listed_keys.store(n, Ordering::Relaxed);
                    progress(n);
                }
                Ok(())
            },
        )?;
        super::phases::mark("last-key-taken");
        facts.finish();
        super::phases::mark("facts-finished");
        progress(keyspace.total_keys);
        let loaded = Loaded {
            keyspace,
            facts,
            pending: BTreeMap::new(),
            description,
            revision,
            generation: 0,
            leases_seen: HashSet::new(),
        };
        Ok((loaded, bytes))
    }

    /// Follows the source with one watch from the loaded revision until [`Tracker::stop`]:
    /// changes go into the loaded data; a lost watch resumes where it stopped; history compacted
    /// away is listed again (once per compaction).
    pub fn follow(&self) {
        let mut retry = Duration::from_secs(1);
        while !self.stopped() {
            let Some(from) = self.lock().as_ref().map(|l| l.revision + 1) else {
                return;
            };
            let watched =
                self.source
                    .watch(&KeyRange::prefix(Vec::new()), from, &mut |changes, _| {
                        if !changes.is_empty() {
                            let mut loaded = self.lock();
                            if let Some(l) = loaded.as_mut() {
                                l.apply(changes, &self.prefix, &self.keyring);
                            }
                        }
                        self.set_watch_error(None);
                        Ok(!self.stopped())
                    });
            match watched {
                Ok(WatchEnd::Stopped) => return,
                Ok(WatchEnd::Compacted { compact_revision }) => {
                    let why = format!(
                        "etcd compacted to rev {compact_revision}, past the watch's rev {from}"
                    );
                    if let Err(e) = self.relist(&why) {
                        self.set_watch_error(Some(format!("re-listing failed: {e}")));
                        self.pause(&mut retry);
                    }
                }
                Err(e) => {
                    self.set_watch_error(Some(e.to_string()));
                    self.pause(&mut retry);
                    continue;
                }
            }
            retry = Duration::from_secs(1);
        }
    }

    /// Lists every key again, replacing the loaded data (the watch could not continue).
    fn relist(&self, why: &str) -> Result<()> {
        let _listing = self.listing.lock().unwrap_or_else(|p| p.into_inner());
        let (mut loaded, _) = self.list(&|_| {})?;
        let generation = self.lock().as_ref().map_or(0, |l| l.generation);
        loaded.generation = generation + 1;
        let revision = loaded.revision;
        *self.lock() = Some(loaded);
        if let Some(c) = self.cost.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            c.relists += 1;
            c.listed_at = revision;
            c.relist_reason = Some(why.to_string());
            c.watch_error = None;
        }
        crate::log::warn(
            &format!("the TUI listed every key again: {why}"),
            &[("revision", serde_json::json!(revision))],
        );
        Ok(())
    }

    fn pause(&self, retry: &mut Duration) {
        let until = Instant::now() + *retry;
        while Instant::now() < until && !self.stopped() {
            std::thread::sleep(Duration::from_millis(100));
        }
        *retry = (*retry * 2).min(RETRY_MAX);
    }

    fn set_watch_error(&self, e: Option<String>) {
        if let Some(c) = self.cost.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            c.watch_error = e;
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Ends the watch (within about a second).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// What the reads cost so far, once something was loaded from a live source.
    pub fn cost(&self) -> Option<ReadCost> {
        if !self.live {
            return None;
        }
        let cost = self.cost.lock().unwrap_or_else(|p| p.into_inner());
        cost.as_ref().map(|c| ReadCost {
            listed_at: c.listed_at,
            first_load_bytes: c.first_load_bytes,
            first_load: c.first_load,
            relists: c.relists,
            relist_reason: c.relist_reason.clone(),
            watch_error: c.watch_error.clone(),
        })
    }

    /// Waits up to `limit` until `done` holds for the loaded data (a change made through
    /// another connection reaches it by the watch).
    pub fn wait_until(&self, limit: Duration, done: impl Fn(&Loaded) -> bool) -> bool {
        let until = Instant::now() + limit;
        loop {
            if self.lock().as_ref().is_some_and(&done) {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A source whose scans rest between pages ([`Source::scan_paced`]), for the batch pipeline.
struct Paced<'a> {
    inner: &'a dyn Source,
    pause: Duration,
}

impl Source for Paced<'_> {
    fn overview(&self) -> Result<Overview> {
        self.inner.overview()
    }

    fn scan(&self, query: &RangeQuery, f: &mut dyn FnMut(KeyView<'_>) -> Result<()>) -> Result<()> {
        self.inner.scan_paced(query, self.pause, f)
    }

    /// Lent views come from a source without pages to rest between (a snapshot).
    fn scan_lent<'s>(
        &'s self,
        query: &RangeQuery,
        f: &mut dyn FnMut(KeyView<'s>) -> Result<()>,
    ) -> Option<Result<()>> {
        if !self.pause.is_zero() {
            return None;
        }
        self.inner.scan_lent(query, &mut |kv| f(kv))
    }

    fn scan_changes(
        &self,
        range: &KeyRange,
        f: &mut dyn FnMut(ChangeView<'_>) -> Result<()>,
    ) -> Result<()> {
        self.inner.scan_changes(range, f)
    }

    fn leases(&self) -> Result<Vec<LeaseRecord>> {
        self.inner.leases()
    }
}
