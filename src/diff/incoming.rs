//! The merge-join of two sources in key order. [`Source::scan`] hands out keys through a
//! callback, so two scans cannot be stepped side by side on one thread: the second source is
//! scanned on its own thread and its keys come over a bounded channel in small batches, while
//! the first is scanned here. At most [`BATCHES_IN_FLIGHT`] batches of the second source sit in
//! memory, whatever the size of either.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::Pair;
use crate::source::{KeyRecord, RangeQuery, Source};
use crate::{Error, Result};

/// Keys per batch, and the value bytes at which a batch is sent early (values reach 1.5 MiB).
const BATCH_KEYS: usize = 256;
const BATCH_BYTES: usize = 4 << 20;
const BATCHES_IN_FLIGHT: usize = 4;

enum Message {
    Keys(Vec<KeyRecord>),
    /// The scan of the second source failed: the walk must stop, not treat the rest as removed.
    Failed(Error),
    End,
}

/// Calls `f` with every key of `query` that `wants` keeps, in key order: present in `from`
/// only, in `to` only, or in both.
pub(super) fn merge(
    from: &dyn Source,
    to: &dyn Source,
    query: &RangeQuery,
    wants: &(dyn Fn(&[u8]) -> bool + Sync),
    f: &mut dyn FnMut(Pair<'_>) -> Result<()>,
) -> Result<()> {
    std::thread::scope(|s| {
        let (tx, rx) = sync_channel(BATCHES_IN_FLIGHT);
        let reader = s.spawn(move || send_keys(to, query, wants, &tx));
        let walked = walk(from, query, wants, Incoming::new(rx), f);
        // `walk` has dropped the receiver, so a reader still scanning stops at its next send.
        if let Err(panic) = reader.join() {
            std::panic::resume_unwind(panic);
        }
        walked
    })
}

fn send_keys(
    to: &dyn Source,
    query: &RangeQuery,
    wants: &(dyn Fn(&[u8]) -> bool + Sync),
    tx: &SyncSender<Message>,
) {
    let mut batch = Vec::with_capacity(BATCH_KEYS);
    let mut bytes = 0;
    let scanned = to.scan(query, &mut |kv| {
        if !wants(kv.key) {
            return Ok(());
        }
        bytes += kv.value.len();
        batch.push(kv.to_record());
        if batch.len() >= BATCH_KEYS || bytes >= BATCH_BYTES {
            bytes = 0;
            tx.send(Message::Keys(std::mem::take(&mut batch)))
                .map_err(|_| Error::general("the comparison stopped"))?;
        }
        Ok(())
    });
    let last = match scanned {
        Ok(()) => {
            if !batch.is_empty() && tx.send(Message::Keys(batch)).is_err() {
                return;
            }
            Message::End
        }
        Err(e) => Message::Failed(e),
    };
    // A closed channel means the walk already stopped with its own error.
    let _ = tx.send(last);
}

fn walk(
    from: &dyn Source,
    query: &RangeQuery,
    wants: &(dyn Fn(&[u8]) -> bool + Sync),
    mut incoming: Incoming,
    f: &mut dyn FnMut(Pair<'_>) -> Result<()>,
) -> Result<()> {
    from.scan(query, &mut |a| {
        if !wants(a.key) {
            return Ok(());
        }
        loop {
            match incoming.peek()? {
                Some(b) if b.key.as_slice() < a.key => {
                    let b = incoming.take();
                    f(Pair::Added(b.view()))?;
                }
                Some(b) if b.key.as_slice() == a.key => {
                    let b = incoming.take();
                    return f(Pair::Both(a, b.view()));
                }
                _ => return f(Pair::Removed(a)),
            }
        }
    })?;
    while incoming.peek()?.is_some() {
        let b = incoming.take();
        f(Pair::Added(b.view()))?;
    }
    Ok(())
}

/// The second source's keys as they arrive.
struct Incoming {
    rx: Receiver<Message>,
    batch: VecDeque<KeyRecord>,
    ended: bool,
}

impl Incoming {
    fn new(rx: Receiver<Message>) -> Incoming {
        Incoming {
            rx,
            batch: VecDeque::new(),
            ended: false,
        }
    }

    /// The next key, waiting for the reader if needed; `None` at the end.
    fn peek(&mut self) -> Result<Option<&KeyRecord>> {
        while self.batch.is_empty() && !self.ended {
            match self.rx.recv() {
                Ok(Message::Keys(keys)) => self.batch = keys.into(),
                Ok(Message::End) => self.ended = true,
                Ok(Message::Failed(e)) => return Err(e),
                // The reader ended without a word: it panicked, and the join says so.
                Err(_) => return Err(Error::general("the second source's reader stopped")),
            }
        }
        Ok(self.batch.front())
    }

    /// The key [`Incoming::peek`] returned.
    fn take(&mut self) -> KeyRecord {
        self.batch.pop_front().expect("peek returned a key")
    }
}
