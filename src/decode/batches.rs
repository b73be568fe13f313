//! Decoding a key range on every core, with the results back in key order: the one pipeline
//! behind `get --decode -o jsonl`, `get RESOURCE -o jsonl` and `dump`.
//!
//! One thread scans the source and copies the kept keys into batches, one worker per core turns
//! each batch into a result, and the calling thread takes the results in scan order. Memory stays
//! bounded: a few batches in flight per worker, and results wait only for an earlier batch still
//! being worked on.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, sync_channel};
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
pub fn for_each_in_order<T: Send>(
    source: &dyn Source,
    query: &RangeQuery,
    workers: usize,
    keep: &(dyn Fn(&KeyView<'_>) -> bool + Sync),
    work: &(dyn Fn(Vec<KeyRecord>) -> T + Sync),
    take: &mut dyn FnMut(T) -> Result<()>,
) -> Result<()> {
    let workers = workers.max(1);
    std::thread::scope(|s| {
        let (job_tx, job_rx) = sync_channel::<(u64, Vec<KeyRecord>)>(workers * 2);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (done_tx, done_rx) = sync_channel::<(u64, T)>(workers * 2);
        for _ in 0..workers {
            let (job_rx, done_tx) = (Arc::clone(&job_rx), done_tx.clone());
            s.spawn(move || {
                while let Some((seq, batch)) = next_job(&job_rx) {
                    if done_tx.send((seq, work(batch))).is_err() {
                        break;
                    }
                }
            });
        }
        // Only the workers hold these now: when they all stop, the scan's sends fail instead of
        // blocking, and the results end when the last worker ends.
        drop(job_rx);
        drop(done_tx);
        let scanner = s.spawn(move || {
            let mut batch = Vec::new();
            let mut bytes = 0;
            let mut seq = 0u64;
            let stopped = || Error::general("the decoding workers stopped");
            let scanned = source.scan(query, &mut |kv| {
                if !keep(&kv) {
                    return Ok(());
                }
                bytes += kv.key.len() + kv.value.len();
                batch.push(kv.to_record());
                if batch.len() >= BATCH_KEYS || bytes >= BATCH_BYTES {
                    bytes = 0;
                    let full = std::mem::take(&mut batch);
                    job_tx.send((seq, full)).map_err(|_| stopped())?;
                    seq += 1;
                }
                Ok(())
            });
            if scanned.is_ok() && !batch.is_empty() {
                job_tx.send((seq, batch)).map_err(|_| stopped())?;
                seq += 1;
            }
            scanned.map(|()| seq)
        });
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

fn next_job(jobs: &Mutex<Receiver<(u64, Vec<KeyRecord>)>>) -> Option<(u64, Vec<KeyRecord>)> {
    jobs.lock().ok()?.recv().ok()
}
