//! `backup run`: a full snapshot, then the whole keyspace watched from its revision + 1 and
//! written as delta segments (`docs/format-delta.md`) to every destination, a new one every
//! `--delta-interval` or `--delta-max-bytes`; a new full snapshot every `--full-interval`, in
//! a thread of its own while the watch goes on.
//!
//! The watch is [`Source::watch`], the one the TUI follows a cluster with. It ends at each
//! segment (it hands over whole revisions, so the next one starts exactly after), because the
//! lease table is read between two watches: a source's requests cannot run inside its watch.
//!
//! Never a silent gap: a run resumes from the end of what every destination holds; a segment
//! that cannot be written (after retries) stops the run with an error, so its supervisor
//! restarts it and it resumes there; a start revision etcd has compacted is said in a warning
//! and starts a new chain from a new full snapshot.

use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use time::OffsetDateTime;

use super::chain;
use super::lease_table::LeaseTable;
use super::metrics_http::{self, Stats};
use super::save::{self, Destinations, SaveOptions, Target};
use super::segment_writer::SegmentWriter;
use crate::connect::{self, ConnectConfig};
use crate::interrupt::StopSignal;
use crate::source::{ChangeView, KeyRange, LiveSource, Source, WatchEnd};
use crate::{Error, Result, log};
use revkeeper_formats::delta::{Event, EventKind, LeaseRecord, Segment};

pub struct FollowOptions {
    /// Destinations, prefix, compression and encryption, as for `snapshot save --dir`.
    pub save: SaveOptions,
    pub full_interval: Duration,
    pub delta_interval: Duration,
    pub delta_max_bytes: usize,
    pub metrics_addr: Option<std::net::SocketAddr>,
}

/// Segments waiting for the writer thread; the watch waits (etcd keeps the history) when full.
const QUEUE: usize = 4;

pub fn run(config: &ConnectConfig, opts: FollowOptions) -> Result<()> {
    let Target::Locations { prefix, .. } = &opts.save.target else {
        return Err(Error::invalid(
            "backup run writes into --dir locations only",
        ));
    };
    let prefix = prefix.clone();
    let destinations = Arc::new(save::check_target(&opts.save)?);
    let stats = Arc::new(Mutex::new(Stats::default()));
    if let Some(addr) = opts.metrics_addr {
        metrics_http::serve(addr, stats.clone())?;
    }
    let stop = StopSignal::install()?;
    let rt = Arc::new(connect::runtime()?);
    let cluster_id = rt
        .block_on(config.connect())?
        .status
        .map_or(0, |s| s.cluster_id);
    let (mut next, mut full_due_in) = resume_point(&destinations, cluster_id, &opts)?;
    loop {
        let from = match next {
            Some(from) => from,
            None => match full_snapshot(&rt, config, &opts, &destinations, &stats, &stop)? {
                Some(from) => {
                    full_due_in = opts.full_interval;
                    from
                }
                None => return Ok(()),
            },
        };
        let (tx, rx) = std::sync::mpsc::sync_channel::<Segment>(QUEUE);
        let writer = SegmentWriter {
            destinations: destinations.clone(),
            prefix: prefix.clone(),
            zstd_level: opts.save.zstd_level,
            encryptor: opts.save.encryptor.clone(),
            stats: stats.clone(),
        }
        .spawn(rx)?;
        let session = Following {
            config,
            opts: &opts,
            destinations: &destinations,
            stats: &stats,
            stop: &stop,
            runtime: &rt,
            cluster_id,
            full_due_in,
        };
        let outcome = session.follow(from, &tx);
        drop(tx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(Error::general("the segment writer thread failed")));
        destinations.wait_writers();
        written?;
        match outcome? {
            Outcome::Stopped(signal) => {
                log::info(
                    &format!("stopped by {signal}; the open segment was written"),
                    &[],
                );
                return Ok(());
            }
            Outcome::Compacted { wanted, compacted } => {
                log::warn(
                    "etcd compacted revisions that were not backed up yet: starting a new chain from a new full snapshot (the old chain stays restorable up to its end)",
                    &[
                        ("from_revision", json!(wanted)),
                        ("compacted_to", json!(compacted)),
                    ],
                );
                stats.lock().map(|mut s| s.error("compacted")).ok();
                next = None;
            }
        }
    }
}

/// Where to continue: after the chain that every destination holds from its newest full
/// snapshot, `None` when a destination has no full snapshot of this cluster.
/// Also returns when the next full snapshot is due: `--full-interval` after the oldest of the
/// destinations' newest full snapshots (now, if that is already past).
fn resume_point(
    destinations: &Destinations,
    cluster_id: u64,
    opts: &FollowOptions,
) -> Result<(Option<i64>, Duration)> {
    let cluster = format!("{cluster_id:x}");
    let mut resume: Option<i64> = None;
    let mut full_due_in = opts.full_interval;
    for store in destinations.stores() {
        let contents = chain::scan(store)?;
        let newest = contents
            .usable()
            .filter(|e| e.manifest.cluster_id == cluster)
            .max_by_key(|e| e.manifest.revision);
        let Some(newest) = newest else {
            return Ok((None, opts.full_interval));
        };
        let end = chain::chain_end(
            newest.manifest.revision,
            contents
                .segments
                .iter()
                .filter(|s| s.parsed.cluster_id == cluster),
        );
        let age = (OffsetDateTime::now_utc() - newest.started).unsigned_abs();
        full_due_in = full_due_in.min(opts.full_interval.saturating_sub(age));
        resume = Some(resume.map_or(end + 1, |r: i64| r.min(end + 1)));
    }
    if let Some(from) = resume {
        log::info("continuing the chain", &[("from_revision", json!(from))]);
        if full_due_in.is_zero() {
            log::info(
                "the newest full snapshot is older than --full-interval; a new one starts now",
                &[],
            );
        }
    }
    Ok((resume, full_due_in))
}

/// A full snapshot into every destination; returns the revision after it, or `None` when a
/// signal stopped it (its partial files removed, its uploads aborted).
fn full_snapshot(
    rt: &tokio::runtime::Runtime,
    config: &ConnectConfig,
    opts: &FollowOptions,
    destinations: &Arc<Destinations>,
    stats: &Arc<Mutex<Stats>>,
    stop: &StopSignal,
) -> Result<Option<i64>> {
    let fetched = rt.block_on(async {
        tokio::select! {
            r = save::fetch(config, &opts.save, destinations) => r.map(Some),
            sig = stop.wait() => {
                log::info(&format!("stopped by {sig} during the full snapshot; nothing partial is left"), &[]);
                Ok(None)
            }
        }
    });
    destinations.wait_writers();
    let Some(fetched) = fetched? else {
        return Ok(None);
    };
    let saved = save::commit(fetched, &opts.save, destinations)?;
    if let Some(e) = saved.failure() {
        return Err(e);
    }
    save::log_saved(&saved);
    if let Ok(mut s) = stats.lock() {
        s.full_done(saved.manifest.revision);
    }
    Ok(Some(saved.manifest.revision + 1))
}

/// What one following session needs: from a revision until a signal, a compaction past it, or
/// no member left to follow.
struct Following<'a> {
    config: &'a ConnectConfig,
    opts: &'a FollowOptions,
    destinations: &'a Arc<Destinations>,
    stats: &'a Arc<Mutex<Stats>>,
    stop: &'a StopSignal,
    runtime: &'a Arc<tokio::runtime::Runtime>,
    cluster_id: u64,
    /// When the next full snapshot starts, from the start of this session.
    full_due_in: Duration,
}

enum Outcome {
    Stopped(&'static str),
    Compacted { wanted: i64, compacted: i64 },
}

/// What the watch has gathered for the next segment.
struct Open {
    first: i64,
    /// The revision after the last event received: where the watch resumes.
    next: i64,
    events: Vec<Event>,
    bytes: usize,
    /// When its first event came: it is written `--delta-interval` after.
    since: Option<Instant>,
}

impl Open {
    fn new(first: i64) -> Open {
        Open {
            first,
            next: first,
            events: Vec::new(),
            bytes: 0,
            since: None,
        }
    }

    fn push(&mut self, changes: &[ChangeView<'_>], received_unix_ms: i64) {
        for c in changes {
            let event = Event {
                kind: if c.deleted {
                    EventKind::Delete
                } else {
                    EventKind::Put
                },
                key: c.kv.key.to_vec(),
                value: c.kv.value.to_vec(),
                create_revision: c.kv.create_revision,
                mod_revision: c.revision,
                version: c.kv.version,
                lease: c.kv.lease,
                received_unix_ms,
            };
            self.next = self.next.max(c.revision + 1);
            self.bytes += event.key.len() + event.value.len() + 64;
            self.events.push(event);
            self.since.get_or_insert_with(Instant::now);
        }
    }

    /// Whether to write it now: `max_bytes` of events, or its first event `interval` ago.
    fn due(&self, max_bytes: usize, interval: Duration) -> bool {
        self.bytes >= max_bytes || self.since.is_some_and(|t| t.elapsed() >= interval)
    }

    /// The segment of what was gathered, and a new open one after it.
    fn seal(&mut self, cluster_id: u64, leases: Vec<LeaseRecord>) -> Segment {
        let segment = Segment {
            cluster_id,
            first_revision: self.first,
            last_revision: self.next - 1,
            events: std::mem::take(&mut self.events),
            leases,
        };
        *self = Open::new(self.next);
        segment
    }
}

/// The periodic full snapshot, taken on a thread of its own while the watch goes on.
struct FullSnapshots {
    due: Instant,
    running: Option<std::sync::mpsc::Receiver<Result<i64>>>,
}

impl FullSnapshots {
    /// Starts one when due; takes in the result of one that ended. Never waits.
    fn poll(&mut self, s: &Following<'_>) {
        if let Some(rx) = &self.running {
            let done = match rx.try_recv() {
                Ok(done) => done,
                Err(std::sync::mpsc::TryRecvError::Empty) => return,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => Err(Error::general(
                    "the full snapshot thread ended without a result",
                )),
            };
            self.running = None;
            self.due = Instant::now() + s.opts.full_interval;
            match done {
                Ok(rev) => {
                    if let Ok(mut st) = s.stats.lock() {
                        st.full_done(rev - 1);
                    }
                }
                Err(e) => {
                    log::error(
                        "the periodic full snapshot failed; the chain goes on, next try after --full-interval",
                        &[("error", json!(e.message))],
                    );
                    if let Ok(mut st) = s.stats.lock() {
                        st.error("full_snapshot");
                    }
                }
            }
        } else if Instant::now() >= self.due {
            self.running = Some(start_full(s.config, s.opts, s.destinations));
        }
    }

    /// Waits for the one in progress, if any.
    fn wait(&mut self) {
        if let Some(rx) = self.running.take() {
            log::info("waiting for the full snapshot in progress", &[]);
            let _ = rx.recv();
        }
    }
}

impl Following<'_> {
    /// Follows every member in turn (the next when one is lost), through one watch per segment:
    /// the watch ends when a segment is due, the lease table is read, the segment goes to the
    /// writer, and the next watch starts at the next revision.
    fn follow(&self, from: i64, tx: &SyncSender<Segment>) -> Result<Outcome> {
        let mut open = Open::new(from);
        let mut leases = LeaseTable::default();
        let mut full = FullSnapshots {
            due: Instant::now() + self.full_due_in,
            running: None,
        };
        let timeout = self
            .config
            .command_timeout
            .unwrap_or(connect::DEFAULT_COMMAND_TIMEOUT);
        let mut walk = self.config.members();
        while let Some(conn) = self.runtime.block_on(walk.next())? {
            log::info("following this member", &conn.log_fields());
            let endpoint = conn.endpoint.clone();
            let source = LiveSource::on_runtime(
                self.runtime.clone(),
                conn.client,
                endpoint.clone(),
                timeout,
            );
            let lost = loop {
                let watched = source.watch(
                    &KeyRange::prefix(Vec::new()),
                    open.next,
                    &mut |changes, at| {
                        open.push(changes, chain::unix_ms(OffsetDateTime::now_utc()));
                        if at > 0
                            && let Ok(mut s) = self.stats.lock()
                        {
                            s.received(open.next - 1, at);
                        }
                        if self.stop.received().is_some() {
                            return Ok(false); // and no new full snapshot
                        }
                        full.poll(self);
                        Ok(!open.due(self.opts.delta_max_bytes, self.opts.delta_interval))
                    },
                );
                let end = match watched {
                    Ok(end) => end,
                    Err(e) => break e,
                };
                if !open.events.is_empty() {
                    let table = match leases.read(&source) {
                        Ok(table) => table,
                        Err(e) => break e, // the events wait for the next member
                    };
                    send(tx, open.seal(self.cluster_id, table))?;
                }
                match end {
                    WatchEnd::Stopped => {
                        if let Some(signal) = self.stop.received() {
                            full.wait();
                            return Ok(Outcome::Stopped(signal));
                        }
                    }
                    WatchEnd::Compacted { compact_revision } => {
                        full.wait();
                        return Ok(Outcome::Compacted {
                            wanted: open.next,
                            compacted: compact_revision,
                        });
                    }
                }
            };
            walk.record(connect::Failure {
                endpoint: endpoint.clone(),
                reason: lost.message.clone(),
                kind: crate::ErrorKind::Interrupted,
            });
            log::warn(
                "lost the member; continuing from the next one without a gap",
                &[
                    ("endpoint", json!(endpoint)),
                    ("from_revision", json!(open.next)),
                    ("error", json!(lost.message)),
                ],
            );
            if let Ok(mut s) = self.stats.lock() {
                s.error("watch");
            }
        }
        // Keep what was received, with the lease table read last (no member answers): the next
        // run starts after it. Without a table read in this run nothing is kept: an empty table
        // would drop every lease from a restore to it; the next run receives the events again.
        if !open.events.is_empty()
            && let Some(table) = leases.last()
        {
            let _ = send(tx, open.seal(self.cluster_id, table));
        }
        full.wait();
        Err(walk.error())
    }
}

/// Starts a full snapshot on a thread of its own (its own runtime and connection).
fn start_full(
    config: &ConnectConfig,
    opts: &FollowOptions,
    destinations: &Arc<Destinations>,
) -> std::sync::mpsc::Receiver<Result<i64>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let (config, save_opts, destinations) =
        (config.clone(), opts.save.clone(), destinations.clone());
    std::thread::spawn(move || {
        let result = connect::runtime().and_then(|rt| {
            save::save_with_destinations(&rt, &config, &save_opts, &destinations)
                .map(|s| s.manifest.revision + 1)
        });
        let _ = tx.send(result);
    });
    rx
}

fn send(tx: &SyncSender<Segment>, segment: Segment) -> Result<()> {
    tx.send(segment)
        .map_err(|_| Error::general("the segment writer stopped"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::KeyView;

    fn change(revision: i64, key: &'static [u8], value: &'static [u8]) -> ChangeView<'static> {
        ChangeView {
            revision,
            deleted: value.is_empty(),
            kv: KeyView {
                key,
                create_revision: 2,
                mod_revision: revision,
                version: 1,
                value,
                lease: 0,
            },
        }
    }

    #[test]
    fn a_segment_ends_at_the_last_revision_received_and_the_next_starts_after_it() {
        let mut open = Open::new(10);
        assert!(!open.due(1, Duration::ZERO), "nothing to write yet");
        open.push(&[change(12, b"a", b"1"), change(12, b"b", b"")], 7);
        open.push(&[change(15, b"a", b"2")], 8);
        assert_eq!(open.next, 16);
        assert!(open.due(1 << 20, Duration::ZERO), "the interval");
        assert!(open.due(100, Duration::from_secs(60)), "the size");
        assert!(!open.due(1 << 20, Duration::from_secs(60)));
        let segment = open.seal(0xab, Vec::new());
        assert_eq!((segment.first_revision, segment.last_revision), (10, 15));
        assert_eq!(segment.events.len(), 3);
        assert_eq!(segment.events[1].kind, EventKind::Delete);
        assert_eq!(segment.events[2].received_unix_ms, 8);
        assert_eq!((open.first, open.next, open.events.len()), (16, 16, 0));
        assert!(open.since.is_none());
    }
}
