//! Decoding a key range on every core, with the results back in key order: the one pipeline
//! behind `get --decode -o jsonl`, `get RESOURCE -o jsonl` and `dump`.
//!
//! One thread scans the source into batches of the kept keys (views into a snapshot's memory
//! map, or copies of a live source's pages), one worker per core turns each batch into a result,
//! and the calling thread takes the results in scan order. Memory stays bounded: a few batches
//! in flight per worker, and results wait only for an earlier batch still being worked on.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use crate::source::{KeyRecord, KeyView, RangeQuery, Source};
use crate::{Error, Result};

/// A batch is sent once it holds this many keys…
const BATCH_KEYS: usize = 256;
/// …or this many value bytes (large objects: a few MiB in flight per worker at most).
const BATCH_BYTES: usize = 1 << 20;

/// One decoding worker per core (at least one, at most 16).
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 16))
}

/// Scans `query` on its own thread, keeps the keys `keep` accepts, runs `work` on batches of
/// them on `workers` threads, and hands every batch's result to `take`, on this thread, in key
/// order. An error from `take` stops the scan and the workers and is returned; so is an error
/// of the scan (after the results of the batches scanned before it are taken).
pub fn for_each_in_order<'s, T: Send>(
    source: &'s dyn Source,
    query: &RangeQuery,
    workers: usize,
    keep: &(dyn Fn(&KeyView<'_>) -> bool + Sync),
    work: &(dyn Fn(&[KeyView<'_>]) -> T + Sync),
    take: &mut dyn FnMut(T) -> Result<()>,
) -> Result<()> {
    let workers = workers.max(1);
    std::thread::scope(|s| {
        let (job_tx, job_rx) = sync_channel::<(u64, Batch<'s>)>(workers * 2);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (done_tx, done_rx) = sync_channel::<(u64, T)>(workers * 2);
        for _ in 0..workers {
            let (job_rx, done_tx) = (Arc::clone(&job_rx), done_tx.clone());
            s.spawn(move || {
                while let Some((seq, batch)) = next_job(&job_rx) {
                    let result = match batch {
                        Batch::Lent(views) => work(&views),
                        Batch::Copied(records) => {
                            work(&records.iter().map(KeyRecord::view).collect::<Vec<_>>())
                        }
                    };
                    if done_tx.send((seq, result)).is_err() {
                        break;
                    }
                }
            });
        }
        // Only the workers hold these now: when they all stop, the scan's sends fail instead of
        // blocking, and the results end when the last worker ends.
        drop(job_rx);
        drop(done_tx);
        let scanner = s.spawn(move || scan_into_batches(source, query, keep, &job_tx));
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        let mut taken = Ok(());
        for (seq, result) in done_rx.iter() {
            pending.insert(seq, result);
            while let Some(result) = pending.remove(&next) {
                next += 1;
                taken = take(result);
                if taken.is_err() {
                    break;
                }
            }
            if taken.is_err() {
                break;
            }
        }
        // Dropping the receiver stops the workers, which stops the scan.
        drop(done_rx);
        let scanned = scanner
            .join()
            .unwrap_or_else(|_| Err(Error::general("the key scan panicked")));
        taken?;
        if scanned? != next {
            return Err(Error::general(
                "a decoding worker stopped before its batch was done",
            ));
        }
        Ok(())
    })
}

/// Keys for one worker: views the source lends for its lifetime, or copies when it cannot.
enum Batch<'s> {
    Lent(Vec<KeyView<'s>>),
    Copied(Vec<KeyRecord>),
}

/// Scans `query` into batches sent on `jobs`; returns how many were sent.
fn scan_into_batches<'s>(
    source: &'s dyn Source,
    query: &RangeQuery,
    keep: &(dyn Fn(&KeyView<'_>) -> bool + Sync),
    jobs: &SyncSender<(u64, Batch<'s>)>,
) -> Result<u64> {
    let mut lent = Batcher::new(jobs, Batch::Lent);
    let scanned = source.scan_lent(query, &mut |kv| match keep(&kv) {
        true => lent.push(kv, kv),
        false => Ok(()),
    });
    if let Some(scanned) = scanned {
        return lent.finish(scanned);
    }
    let mut copied = Batcher::new(jobs, Batch::Copied);
    let scanned = source.scan(query, &mut |kv| match keep(&kv) {
        true => copied.push(kv.to_record(), kv),
        false => Ok(()),
    });
    copied.finish(scanned)
}

/// Gathers items into batches of [`BATCH_KEYS`] keys or [`BATCH_BYTES`] bytes and sends them
/// numbered in scan order.
struct Batcher<'j, 's, I> {
    jobs: &'j SyncSender<(u64, Batch<'s>)>,
    wrap: fn(Vec<I>) -> Batch<'s>,
    items: Vec<I>,
    bytes: usize,
    sent: u64,
}

impl<'j, 's, I> Batcher<'j, 's, I> {
    fn new(jobs: &'j SyncSender<(u64, Batch<'s>)>, wrap: fn(Vec<I>) -> Batch<'s>) -> Self {
        Batcher {
            jobs,
            wrap,
            items: Vec::with_capacity(BATCH_KEYS),
            bytes: 0,
            sent: 0,
        }
    }

    fn push(&mut self, item: I, kv: KeyView<'_>) -> Result<()> {
        self.bytes += kv.key.len() + kv.value.len();
        self.items.push(item);
        if self.items.len() >= BATCH_KEYS || self.bytes >= BATCH_BYTES {
            self.send()?;
        }
        Ok(())
    }

    fn send(&mut self) -> Result<()> {
        self.bytes = 0;
        let full = std::mem::replace(&mut self.items, Vec::with_capacity(BATCH_KEYS));
        self.jobs
            .send((self.sent, (self.wrap)(full)))
            .map_err(|_| Error::general("the decoding workers stopped"))?;
        self.sent += 1;
        Ok(())
    }

    /// Sends the last batch of a scan that ended with `scanned`; returns the batches sent.
    fn finish(mut self, scanned: Result<()>) -> Result<u64> {
        scanned?;
        if !self.items.is_empty() {
            self.send()?;
        }
        Ok(self.sent)
    }
}

fn next_job<'s>(jobs: &Mutex<Receiver<(u64, Batch<'s>)>>) -> Option<(u64, Batch<'s>)> {
    jobs.lock().ok()?.recv().ok()
}
