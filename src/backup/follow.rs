//! `backup run`: a full snapshot, then the whole keyspace watched from its revision + 1 and
//! written as delta segments (`docs/format-delta.md`) to every destination, a new one every
//! `--delta-interval` or `--delta-max-bytes`; a new full snapshot every `--full-interval`, in
//! a thread of its own while the watch goes on.
//!
//! Never a silent gap: a run resumes from the end of what every destination holds; a segment
//! that cannot be written (after retries) stops the run with an error, so its supervisor
//! restarts it and it resumes there; a start revision etcd has compacted is said in a warning
//! and starts a new chain from a new full snapshot.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use etcd_client::{EventType, WatchOptions};
use serde_json::json;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::chain::{self, SegmentName};
use super::metrics_http::{self, Stats};
use super::save::{self, Destinations, SaveOptions, Target};
use crate::connect::{self, ConnectConfig};
use crate::interrupt::StopSignal;
use crate::location::Store;
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
/// Attempts to write one segment to one destination before the run stops.
const WRITE_ATTEMPTS: u32 = 4;

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
    let rt = connect::runtime()?;
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
        let (tx, rx) = mpsc::channel::<Segment>(QUEUE);
        let writer = spawn_writer(
            destinations.clone(),
            prefix.clone(),
            &opts,
            stats.clone(),
            rx,
        )?;
        let session = Following {
            config,
            opts: &opts,
            destinations: &destinations,
            stats: &stats,
            stop: &stop,
            cluster_id,
            full_due_in,
        };
        let outcome = rt.block_on(session.follow(from, tx));
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

/// What one watch session needs.
struct Following<'a> {
    config: &'a ConnectConfig,
    opts: &'a FollowOptions,
    destinations: &'a Arc<Destinations>,
    stats: &'a Arc<Mutex<Stats>>,
    stop: &'a StopSignal,
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
    events: Vec<Event>,
    bytes: usize,
    started: Instant,
}

impl Open {
    fn new(first: i64) -> Open {
        Open {
            first,
            events: Vec::new(),
            bytes: 0,
            started: Instant::now(),
        }
    }
}

impl Following<'_> {
    async fn follow(&self, from: i64, tx: mpsc::Sender<Segment>) -> Result<Outcome> {
        let Following {
            config,
            opts,
            destinations,
            stats,
            stop,
            cluster_id,
            full_due_in,
        } = *self;
        let mut open = Open::new(from);
        let mut next = from;
        let mut tick = tokio::time::interval(opts.delta_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut full_due = tokio::time::Instant::now() + full_due_in;
        let mut full_running: Option<tokio::sync::oneshot::Receiver<Result<i64>>> = None;
        let mut walk = config.members();
        while let Some(conn) = walk.next().await? {
            let mut client = conn.client.clone();
            log::info("following this member", &conn.log_fields());
            let watch_opts = WatchOptions::new()
                .with_from_key()
                .with_start_revision(next);
            let mut stream = match client.watch(vec![0u8], Some(watch_opts)).await {
                Ok(s) => s,
                Err(e) => {
                    walk.record(failure(&conn.endpoint, &e));
                    continue;
                }
            };
            loop {
                tokio::select! {
                    msg = stream.message() => {
                        let resp = match msg {
                            Ok(Some(r)) => r,
                            Ok(None) => {
                                walk.record(failure(&conn.endpoint, &"the watch stream ended"));
                                break;
                            }
                            Err(e) => {
                                walk.record(failure(&conn.endpoint, &e));
                                break;
                            }
                        };
                        if resp.canceled() {
                            if resp.compact_revision() > 0 {
                                flush(&mut open, next, cluster_id, &mut client, &tx).await?;
                                return Ok(Outcome::Compacted { wanted: next, compacted: resp.compact_revision() });
                            }
                            return Err(Error::server(format!(
                                "etcd cancelled the watch: {}", resp.cancel_reason()
                            )));
                        }
                        let head = resp.header().map(|h| h.revision()).unwrap_or(0);
                        let received = chain::unix_ms(OffsetDateTime::now_utc());
                        for ev in resp.events() {
                            let Some(kv) = ev.kv() else { continue };
                            let event = Event {
                                kind: match ev.event_type() {
                                    EventType::Put => EventKind::Put,
                                    EventType::Delete => EventKind::Delete,
                                },
                                key: kv.key().to_vec(),
                                value: kv.value().to_vec(),
                                create_revision: kv.create_revision(),
                                mod_revision: kv.mod_revision(),
                                version: kv.version(),
                                lease: kv.lease(),
                                received_unix_ms: received,
                            };
                            next = next.max(event.mod_revision + 1);
                            open.bytes += event.key.len() + event.value.len() + 64;
                            open.events.push(event);
                        }
                        if let Ok(mut s) = stats.lock() {
                            s.received(next - 1, head);
                        }
                        if open.bytes >= opts.delta_max_bytes {
                            flush(&mut open, next, cluster_id, &mut client, &tx).await?;
                        }
                    }
                    _ = tick.tick() => {
                        let _ = stream.request_progress().await;
                        if !open.events.is_empty() && open.started.elapsed() >= opts.delta_interval / 2 {
                            flush(&mut open, next, cluster_id, &mut client, &tx).await?;
                        }
                        if full_running.is_none() && tokio::time::Instant::now() >= full_due {
                            full_running = Some(start_full(config, opts, destinations));
                        }
                    }
                    done = async { full_running.as_mut().expect("guarded").await }, if full_running.is_some() => {
                        full_running = None;
                        full_due = tokio::time::Instant::now() + opts.full_interval;
                        match done {
                            Ok(Ok(rev)) => {
                                if let Ok(mut s) = stats.lock() { s.full_done(rev - 1); }
                            }
                            Ok(Err(e)) => {
                                log::error("the periodic full snapshot failed; the chain goes on, next try after --full-interval", &[("error", json!(e.message))]);
                                if let Ok(mut s) = stats.lock() { s.error("full_snapshot"); }
                            }
                            Err(_) => {}
                        }
                    }
                    sig = stop.wait() => {
                        flush(&mut open, next, cluster_id, &mut client, &tx).await?;
                        if let Some(rx) = full_running.take() {
                            log::info("waiting for the full snapshot in progress", &[]);
                            let _ = rx.await;
                        }
                        return Ok(Outcome::Stopped(sig));
                    }
                }
            }
            log::warn(
                "lost the member; continuing from the next one without a gap",
                &[
                    ("endpoint", json!(conn.endpoint)),
                    ("from_revision", json!(next)),
                ],
            );
            if let Ok(mut s) = stats.lock() {
                s.error("watch");
            }
        }
        // Keep what was received (without a lease table: no member answers): the next run starts
        // after it.
        if !open.events.is_empty() {
            let segment = seal(&mut open, next, cluster_id, Vec::new());
            let _ = tx.send(segment).await;
        }
        Err(walk.error())
    }
}

fn failure(endpoint: &str, e: &dyn std::fmt::Display) -> connect::Failure {
    connect::Failure {
        endpoint: endpoint.to_string(),
        reason: e.to_string(),
        kind: crate::ErrorKind::Interrupted,
    }
}

/// Starts a full snapshot on a thread of its own (its own runtime and connection).
fn start_full(
    config: &ConnectConfig,
    opts: &FollowOptions,
    destinations: &Arc<Destinations>,
) -> tokio::sync::oneshot::Receiver<Result<i64>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
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

/// Sends the open segment (if it holds events) with the lease table, and opens the next.
async fn flush(
    open: &mut Open,
    next: i64,
    cluster_id: u64,
    client: &mut etcd_client::Client,
    tx: &mpsc::Sender<Segment>,
) -> Result<()> {
    if open.events.is_empty() {
        return Ok(());
    }
    let leases = lease_table(client).await;
    let segment = seal(open, next, cluster_id, leases);
    tx.send(segment)
        .await
        .map_err(|_| Error::general("the segment writer stopped"))
}

fn seal(open: &mut Open, next: i64, cluster_id: u64, leases: Vec<LeaseRecord>) -> Segment {
    let events = std::mem::take(&mut open.events);
    let segment = Segment {
        cluster_id,
        first_revision: open.first,
        last_revision: next - 1,
        events,
        leases,
    };
    *open = Open::new(next);
    segment
}

/// Every lease with its granted and remaining TTL (a lease gone meanwhile is left out).
async fn lease_table(client: &mut etcd_client::Client) -> Vec<LeaseRecord> {
    let Ok(list) = client.leases().await else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(list.leases().len());
    for l in list.leases() {
        if let Ok(ttl) = client.lease_time_to_live(l.id(), None).await
            && ttl.ttl() > 0
        {
            out.push(LeaseRecord {
                id: l.id(),
                granted_ttl: ttl.granted_ttl(),
                remaining_ttl: ttl.ttl(),
            });
        }
    }
    out
}

/// The writer thread: encodes, compresses, encrypts and writes each segment to every
/// destination, in order. A segment that cannot be written (after retries) ends the thread
/// with the error, which stops the run.
fn spawn_writer(
    destinations: Arc<Destinations>,
    prefix: String,
    opts: &FollowOptions,
    stats: Arc<Mutex<Stats>>,
    mut rx: mpsc::Receiver<Segment>,
) -> Result<std::thread::JoinHandle<Result<()>>> {
    let encryptor = opts.save.encryptor.clone();
    let level = opts.save.zstd_level;
    std::thread::Builder::new()
        .name("revkeeper-segments".into())
        .spawn(move || {
            while let Some(segment) = rx.blocking_recv() {
                let last_time = segment
                    .events
                    .last()
                    .map(|e| e.received_unix_ms)
                    .unwrap_or_default();
                let name = SegmentName {
                    prefix: prefix.clone(),
                    cluster_id: format!("{:x}", segment.cluster_id),
                    first: segment.first_revision,
                    last: segment.last_revision,
                    last_time: OffsetDateTime::from_unix_timestamp_nanos(
                        i128::from(last_time) * 1_000_000,
                    )
                    .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                    encrypted: encryptor.is_some(),
                }
                .to_name();
                let bytes = encode(&segment, level, encryptor.as_deref())?;
                for store in destinations.stores() {
                    write_with_retries(store, &name, &bytes)?;
                }
                log::info(
                    "delta segment written",
                    &[
                        ("segment", json!(name)),
                        ("events", json!(segment.events.len())),
                        ("bytes", json!(bytes.len())),
                    ],
                );
                if let Ok(mut s) = stats.lock() {
                    s.segment_done(segment.last_revision, last_time, bytes.len() as u64);
                }
            }
            Ok(())
        })
        .map_err(|e| Error::general(format!("cannot start the segment writer: {e}")))
}

fn encode(
    segment: &Segment,
    level: i32,
    encryptor: Option<&crate::location::Encryptor>,
) -> Result<Vec<u8>> {
    let compressed = zstd::encode_all(&segment.encode()[..], level)
        .map_err(|e| Error::general(format!("zstd compression failed: {e}")))?;
    let Some(enc) = encryptor else {
        return Ok(compressed);
    };
    use std::io::Write;
    let mut w = enc.wrap(Vec::with_capacity(compressed.len() + 512))?;
    w.write_all(&compressed)
        .and_then(|_| w.finish())
        .map_err(|e| Error::general(format!("age encryption failed: {e}")))
}

fn write_with_retries(store: &Store, name: &str, bytes: &[u8]) -> Result<()> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = (|| {
            use std::io::Write;
            let mut up = store.put_stream(name, true)?;
            up.write_all(bytes)
                .map_err(|e| crate::location::error_from_io(e, up.target()))?;
            up.finish().map(|_| ())
        })();
        match result {
            Ok(()) => return Ok(()),
            Err(e) if attempt >= WRITE_ATTEMPTS => {
                return Err(Error::new(
                    e.kind,
                    format!(
                        "{} (delta segment {name} not written after {attempt} attempts; the run stops so that a restart resumes without a gap)",
                        e.message
                    ),
                ));
            }
            Err(e) => {
                log::warn(
                    "cannot write a delta segment; retrying",
                    &[("segment", json!(name)), ("error", json!(e.message))],
                );
                std::thread::sleep(Duration::from_millis(500 << attempt));
            }
        }
    }
}
