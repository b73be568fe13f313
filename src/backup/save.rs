//! `snapshot save`: stream `Maintenance.Snapshot` from the first healthy member to every
//! destination at once — hashed, scanned for the revision, compressed and (when asked)
//! age-encrypted on a writer thread — verify the server's sha256 trailer, then give each
//! destination its final name and its manifest.
//!
//! Two phases, so a signal can stop the first but never tear the second: [`fetch`]
//! (cancellable: dropping it removes `.part` files and aborts multipart uploads) and [`commit`]
//! (synchronous). A destination is a directory or a bucket prefix ([`crate::location`]): a
//! local `.part` file renamed into place, or a multipart upload to `NAME.part` copied to its
//! final name, since the name holds the revision, known only at the end.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use etcd_client::SnapshotStreaming;
use serde_json::json;
use time::OffsetDateTime;
use tokio::sync::mpsc;

pub use super::destinations::Destinations;
pub use super::destinations::{check_target, extension};
use super::human_bytes;
use super::manifest::{self, Compression, Encryption, MANIFEST_SUFFIX, Manifest};
use super::progress::Progress;
use super::writer::{self, Chunk, Fanout, WriterConfig, WriterError, WriterOutcome};
use crate::connect::{self, ConnectConfig, Connected, Failure, MemberStatus, format_duration};
use crate::error::{Error, ErrorKind, Result};
use crate::location::{Encryptor, Location, LocationOptions};
use crate::log;

/// Chunks (32 KiB each from etcd) buffered between the network and the writer: 8 MiB.
pub(crate) const CHANNEL_DEPTH: usize = 256;

/// Where `snapshot save` writes.
#[derive(Clone, Debug)]
pub enum Target {
    /// Exactly this file.
    File(PathBuf),
    /// Into each location (`--dir`, repeatable) as
    /// `<prefix>-<UTC yyyymmddThhmmssZ>-rev<revision>.db[.zst][.age]`.
    Locations {
        locations: Vec<Location>,
        prefix: String,
    },
}

#[derive(Clone)]
pub struct SaveOptions {
    pub target: Target,
    pub compression: Compression,
    pub zstd_level: i32,
    /// Encrypt to these age recipients.
    pub encryptor: Option<Arc<Encryptor>>,
    /// How to reach bucket locations.
    pub store_options: LocationOptions,
    /// Replace an existing snapshot.
    pub force: bool,
    /// Draw a progress line on stderr.
    pub progress: bool,
}

/// A snapshot received and verified, still pending in each destination (removed or aborted if
/// this is dropped).
pub struct Fetched {
    fanout: Fanout,
    outcome: WriterOutcome,
    member: MemberStatus,
    endpoint: String,
    storage_version: String,
    started: OffsetDateTime,
    clock: Instant,
}

/// What became of one destination.
#[derive(Debug)]
pub struct Written {
    /// The location as given (a directory or a bucket URL, redacted).
    pub location: String,
    /// The snapshot as messages name it, on success; else why it failed.
    pub result: std::result::Result<String, Error>,
    pub bytes: u64,
    pub seconds: f64,
}

impl Fetched {
    /// A snapshot written by other means than a stream from etcd (`backup compact`), described
    /// as if `member` had sent it at `started`.
    pub(crate) fn from_parts(
        fanout: Fanout,
        outcome: WriterOutcome,
        member: MemberStatus,
        endpoint: String,
        started: OffsetDateTime,
    ) -> Fetched {
        Fetched {
            fanout,
            outcome,
            storage_version: member.storage_version.clone(),
            member,
            endpoint,
            started,
            clock: Instant::now(),
        }
    }
}

/// A committed snapshot: its manifest and what each destination got.
#[derive(Debug)]
pub struct Saved {
    pub manifest: Manifest,
    pub written: Vec<Written>,
}

impl Saved {
    /// The first failure, if a destination failed (the others may hold the snapshot).
    pub fn failure(&self) -> Option<Error> {
        let failed: Vec<&Written> = self.written.iter().filter(|w| w.result.is_err()).collect();
        let first = failed.first()?;
        let err = first.result.as_ref().err()?;
        let ok: Vec<&str> = self
            .written
            .iter()
            .filter_map(|w| w.result.as_ref().ok().map(String::as_str))
            .collect();
        let message = if ok.is_empty() {
            err.message.clone()
        } else {
            format!(
                "{} (the snapshot was saved to {}; {} of {} destinations failed)",
                err.message,
                ok.join(", "),
                failed.len(),
                self.written.len()
            )
        };
        Some(Error::new(err.kind, message))
    }
}

/// zstd worker threads: one core is left for receiving and hashing (and, on a control-plane
/// node, for etcd itself, which is busy serving the snapshot); at least one, at most eight.
pub(crate) fn zstd_workers() -> u32 {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1);
    cores.saturating_sub(1).clamp(1, 8)
}

enum AttemptError {
    /// This member failed; the next one may do better.
    Member(Failure),
    /// Stop here (disk full, bad credentials…).
    Fatal(Error),
}

/// Takes the snapshot from the first healthy member, falling over to the next endpoint when a
/// transfer fails; returns it verified but not yet in place.
pub async fn fetch(
    config: &ConnectConfig,
    opts: &SaveOptions,
    destinations: &Arc<Destinations>,
) -> Result<Fetched> {
    let started = OffsetDateTime::now_utc();
    let clock = Instant::now();
    let mut walk = config.members();
    while let Some(mut conn) = walk.next().await? {
        let Some(member) = conn.status.clone() else {
            return Err(Error::invalid(format!(
                "status on {}: permission denied (snapshot save needs a user with the root role)",
                conn.endpoint
            )));
        };
        let mut fields = conn.log_fields();
        fields.push(("db_size", json!(member.db_size)));
        log::info("taking the snapshot from this member", &fields);
        let stems = destinations.stems(opts, started);
        match attempt(config, &mut conn, destinations, stems, opts).await {
            Ok((outcome, fanout, storage_version)) => {
                return Ok(Fetched {
                    fanout,
                    outcome,
                    member,
                    endpoint: conn.endpoint,
                    storage_version,
                    started,
                    clock,
                });
            }
            Err(AttemptError::Fatal(e)) => return Err(e),
            Err(AttemptError::Member(f)) => {
                log::warn(
                    "snapshot from this member failed; partial files removed, uploads aborted",
                    &[("endpoint", json!(f.endpoint)), ("error", json!(f.reason))],
                );
                walk.record(f);
            }
        }
    }
    Err(walk.error())
}

async fn attempt(
    config: &ConnectConfig,
    conn: &mut Connected,
    destinations: &Arc<Destinations>,
    stems: Vec<String>,
    opts: &SaveOptions,
) -> std::result::Result<(WriterOutcome, Fanout, String), AttemptError> {
    let endpoint = conn.endpoint.clone();
    let fail = |kind, reason: String| {
        AttemptError::Member(Failure {
            endpoint: endpoint.clone(),
            reason,
            kind,
        })
    };
    let mut stream = match config
        .unary("snapshot", &endpoint, conn.client.snapshot())
        .await
    {
        Ok(s) => s,
        Err(e) if e.kind == ErrorKind::InvalidInput => return Err(AttemptError::Fatal(e)),
        Err(e) => return Err(fail(ErrorKind::Interrupted, e.message)),
    };
    let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
    let wcfg = WriterConfig {
        compression: opts.compression,
        zstd_level: opts.zstd_level,
        workers: zstd_workers(),
    };
    let encryptor = opts.encryptor.clone();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let dest = destinations.clone();
    let force = opts.force;
    let handle = std::thread::Builder::new()
        .name("revkeeper-writer".into())
        .spawn(move || {
            let result = dest
                .start(&stems, force)
                .map_err(WriterError::Io)
                .and_then(|fanout| writer::run(fanout, encryptor.as_deref(), wcfg, rx));
            let _ = done_tx.send(result);
        })
        .map_err(|e| {
            AttemptError::Fatal(Error::general(format!(
                "cannot start the snapshot writer thread: {e}"
            )))
        })?;
    if let Ok(mut w) = destinations.writers.lock() {
        w.push(handle);
    }
    let mut progress = Progress::new(opts.progress);
    let received = receive(config, &mut stream, tx, &mut progress).await;
    progress.finish();
    let written = done_rx
        .await
        .map_err(|_| AttemptError::Fatal(Error::general("the snapshot writer thread failed")))?;
    match (received, written) {
        (_, Err(WriterError::Io(e))) => Err(AttemptError::Fatal(e)),
        (Err((ErrorKind::InvalidInput, reason)), _) => Err(AttemptError::Fatal(Error::invalid(
            format!("snapshot on {endpoint}: {reason}"),
        ))),
        (Err((kind, reason)), _) => Err(fail(kind, reason)),
        (Ok(_), Err(WriterError::Aborted)) => Err(AttemptError::Fatal(Error::general(
            "snapshot writer stopped before the end of the stream",
        ))),
        (Ok(version), Ok((out, fanout))) => {
            if out.db_sha256 != out.trailer {
                return Err(fail(
                    ErrorKind::General,
                    format!(
                        "sha256 mismatch: the server sent {} but the {} bytes received hash to {} \
                         (corrupt transfer)",
                        hex::encode(out.trailer),
                        out.db_size,
                        hex::encode(out.db_sha256)
                    ),
                ));
            }
            Ok((out, fanout, version))
        }
    }
}

/// Forwards the stream to the writer; returns the storage version the server reported (3.6+),
/// or why the transfer is incomplete (exit-code kind and reason). A refusal before any data
/// (auth) keeps its own kind; anything else is an interrupted transfer.
async fn receive(
    config: &ConnectConfig,
    stream: &mut SnapshotStreaming,
    tx: mpsc::Sender<Chunk>,
    progress: &mut Progress,
) -> std::result::Result<String, (ErrorKind, String)> {
    let broken = |why: String| (ErrorKind::Interrupted, why);
    let deadline = config
        .transfer_deadline
        .map(|d| (tokio::time::Instant::now() + d, d));
    let mut total: Option<u64> = None;
    let mut got = 0u64;
    let mut trailer: Vec<u8> = Vec::with_capacity(32);
    let mut version = String::new();
    let of = |got: u64, total: Option<u64>| match total {
        Some(t) => format!("after {} of {}", human_bytes(got), human_bytes(t)),
        None => "before any data".to_string(),
    };
    let gone = || broken("the snapshot writer stopped".to_string());
    loop {
        let next = stream.message();
        let msg = match deadline {
            Some((at, d)) => match tokio::time::timeout_at(at, next).await {
                Ok(m) => m,
                Err(_) => {
                    return Err(broken(format!(
                        "transfer not finished within {} (--command-timeout): stopped {}",
                        format_duration(d),
                        of(got, total)
                    )));
                }
            },
            None => next.await,
        };
        let mut resp = match msg {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                let (kind, why) = connect::classify(&e);
                let kind = match (kind, total) {
                    (ErrorKind::InvalidInput, None) => ErrorKind::InvalidInput,
                    _ => ErrorKind::Interrupted,
                };
                return Err((
                    kind,
                    format!("snapshot stream broke {}: {why}", of(got, total)),
                ));
            }
        };
        // Take the chunk out of the message instead of copying it.
        let mut blob = std::mem::take(&mut resp.0.blob);
        let t = match total {
            Some(t) => t,
            None => {
                let t = blob.len() as u64 + resp.remaining_bytes();
                total = Some(t);
                version = resp.version().to_string();
                tx.send(Chunk::Start { db_size: t })
                    .await
                    .map_err(|_| gone())?;
                t
            }
        };
        let db_part = ((t - got).min(blob.len() as u64)) as usize;
        let tail = blob.split_off(db_part);
        if db_part > 0 {
            tx.send(Chunk::Db(blob)).await.map_err(|_| gone())?;
            got += db_part as u64;
        }
        trailer.extend_from_slice(&tail);
        if trailer.len() > 32 {
            return Err(broken(
                "the server sent more bytes than it announced".into(),
            ));
        }
        progress.update(got, t);
    }
    let t = total.ok_or_else(|| {
        broken("the server closed the snapshot stream without sending data".into())
    })?;
    if got < t {
        return Err(broken(format!(
            "snapshot stream ended early, {}",
            of(got, total)
        )));
    }
    let trailer: [u8; 32] = trailer.try_into().map_err(|t: Vec<u8>| {
        broken(format!(
            "no sha256 trailer after the db ({} bytes instead of 32)",
            t.len()
        ))
    })?;
    tx.send(Chunk::End { trailer }).await.map_err(|_| gone())?;
    Ok(version)
}

/// Gives the fetched snapshot its final name in every destination (never over an existing one
/// without `--force`), then writes its manifest beside it. Not cancellable.
pub fn commit(fetched: Fetched, opts: &SaveOptions, destinations: &Destinations) -> Result<Saved> {
    let Fetched {
        fanout,
        outcome,
        member,
        endpoint,
        storage_version,
        started,
        clock,
    } = fetched;
    let (revision, source) = match &outcome.revision {
        Ok(Some(r)) => (*r as i64, "db"),
        Ok(None) => {
            log::warn(
                "the snapshot's key bucket is empty; recording the member's revision",
                &[("revision", json!(member.revision))],
            );
            (member.revision, "server-status")
        }
        Err(why) => {
            log::warn(
                "could not read the revision inside the snapshot; recording the member's \
                 revision from just before it (a lower bound)",
                &[("error", json!(why)), ("revision", json!(member.revision))],
            );
            (member.revision, "server-status")
        }
    };
    let name = match &opts.target {
        Target::File(p) => p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        Target::Locations { prefix, .. } => format!(
            "{prefix}-{}-rev{revision}.{}",
            crate::timefmt::compact(started),
            extension(opts)
        ),
    };
    let streamed = clock.elapsed().as_secs_f64();
    let mut manifest = Manifest {
        format: manifest::FORMAT.to_string(),
        file: name.clone(),
        file_size: outcome.file_size,
        file_sha256: hex::encode(outcome.file_sha256),
        compression: opts.compression,
        zstd_level: (opts.compression == Compression::Zstd).then_some(opts.zstd_level),
        db_size: outcome.db_size,
        db_sha256: hex::encode(outcome.db_sha256),
        revision,
        revision_source: source.to_string(),
        cluster_id: format!("{:x}", member.cluster_id),
        member_id: format!("{:x}", member.member_id),
        member_name: member.name.clone(),
        endpoint,
        etcd_version: member.version.clone(),
        storage_version: if storage_version.is_empty() {
            member.storage_version.clone()
        } else {
            storage_version
        },
        started_at: manifest::timestamp(started),
        finished_at: String::new(),
        duration_seconds: 0.0,
        revkeeper_version: env!("CARGO_PKG_VERSION").to_string(),
        encryption: opts.encryptor.as_ref().map(|e| Encryption {
            scheme: "age".to_string(),
            recipients: e.public_keys().to_vec(),
        }),
    };
    let mut written = Vec::with_capacity(fanout.slots.len());
    let mut finished = Vec::with_capacity(fanout.slots.len());
    for slot in fanout.slots {
        let since = Instant::now();
        let bytes = slot.upload.as_ref().map_or(0, |u| u.written());
        let result = match (slot.upload, slot.error) {
            (_, Some(e)) => Err(e),
            (Some(upload), None) => upload.finish_named(&name),
            (None, None) => Err(Error::general("destination dropped")),
        };
        finished.push(result.is_ok());
        written.push(Written {
            location: slot.shown,
            result: result.map(|_| String::new()),
            bytes,
            seconds: streamed + since.elapsed().as_secs_f64(),
        });
    }
    let now = OffsetDateTime::now_utc();
    manifest.finished_at = manifest::timestamp(now);
    manifest.duration_seconds = (clock.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    let bytes = manifest.to_bytes()?;
    for ((w, ok), (store, _)) in written.iter_mut().zip(finished).zip(&destinations.stores) {
        if !ok {
            continue;
        }
        let shown = store.location().describe(&name);
        w.result = match store.put_small(&format!("{name}{MANIFEST_SUFFIX}"), &bytes) {
            Ok(()) => Ok(shown),
            Err(e) => Err(Error::new(
                e.kind,
                format!(
                    "snapshot saved at {shown} but its manifest could not be written: {}",
                    e.message
                ),
            )),
        };
    }
    Ok(Saved { manifest, written })
}

/// The whole save, without signal handling: for a snapshot taken before a change.
pub fn save_with(
    runtime: &tokio::runtime::Runtime,
    config: &ConnectConfig,
    opts: &SaveOptions,
) -> Result<Saved> {
    let destinations = Arc::new(check_target(opts)?);
    save_with_destinations(runtime, config, opts, &destinations)
}

/// [`save_with`] into destinations already checked (`backup run` reuses them).
pub fn save_with_destinations(
    runtime: &tokio::runtime::Runtime,
    config: &ConnectConfig,
    opts: &SaveOptions,
    destinations: &Arc<Destinations>,
) -> Result<Saved> {
    let fetched = runtime.block_on(fetch(config, opts, destinations));
    destinations.wait_writers();
    let saved = commit(fetched?, opts, destinations)?;
    if let Some(e) = saved.failure() {
        return Err(e);
    }
    log_saved(&saved);
    Ok(saved)
}

/// The log line of a saved snapshot.
pub fn log_saved(saved: &Saved) {
    let m = &saved.manifest;
    let secs = m.duration_seconds.max(1e-3);
    let files: Vec<&str> = saved
        .written
        .iter()
        .filter_map(|w| w.result.as_ref().ok().map(String::as_str))
        .collect();
    let uploaded: u64 = saved.written.iter().map(|w| w.bytes).sum();
    let destinations: Vec<serde_json::Value> = saved
        .written
        .iter()
        .map(|w| {
            json!({
                "location": w.location,
                "ok": w.result.is_ok(),
                "bytes": w.bytes,
                "seconds": (w.seconds * 1000.0).round() / 1000.0,
            })
        })
        .collect();
    log::info(
        "snapshot saved",
        &[
            ("file", json!(files.join(", "))),
            ("bytes_written", json!(uploaded)),
            ("destinations", json!(destinations)),
            (
                "encryption",
                json!(m.encryption.as_ref().map_or("none", |e| e.scheme.as_str())),
            ),
            ("revision", json!(m.revision)),
            ("db_size", json!(m.db_size)),
            ("file_size", json!(m.file_size)),
            ("compression", json!(m.compression.as_str())),
            ("sha256", json!(m.db_sha256)),
            ("member", json!(m.member_name)),
            ("member_id", json!(m.member_id)),
            ("endpoint", json!(m.endpoint)),
            ("seconds", json!(m.duration_seconds)),
            (
                "throughput",
                json!(format!(
                    "{}/s",
                    human_bytes((m.db_size as f64 / secs) as u64)
                )),
            ),
        ],
    );
}
