//! `snapshot save`: stream `Maintenance.Snapshot` from the first healthy member into a private
//! `.part` file — hashed, scanned for the revision and compressed on a writer thread — verify the
//! server's sha256 trailer, then rename into place and write the manifest.
//!
//! Two phases, so a signal can stop the first but never tear the second:
//! [`fetch`] (cancellable: dropping it removes the `.part` file) and [`commit`] (synchronous).

use std::path::PathBuf;
use std::time::Instant;

use etcd_client::SnapshotStreaming;
use serde_json::json;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::fsutil::{self, PartFile};
use super::human_bytes;
use super::manifest::{self, Compression, Manifest};
use super::progress::Progress;
use super::writer::{self, Chunk, WriterConfig, WriterError, WriterOutcome};
use crate::connect::{self, ConnectConfig, Connected, Failure, MemberStatus, format_duration};
use crate::error::{Error, ErrorKind, Result};
use crate::log;

/// Chunks (32 KiB each from etcd) buffered between the network and the writer: 8 MiB.
const CHANNEL_DEPTH: usize = 256;

#[derive(Clone, Debug)]
pub enum Target {
    /// Exactly this file.
    File(PathBuf),
    /// `<dir>/<prefix>-<UTC yyyymmddThhmmssZ>-rev<revision>.db[.zst]`.
    Dir { dir: PathBuf, prefix: String },
}

#[derive(Clone, Debug)]
pub struct SaveOptions {
    pub target: Target,
    pub compression: Compression,
    pub zstd_level: i32,
    /// Replace an existing snapshot.
    pub force: bool,
    /// Draw a progress line on stderr.
    pub progress: bool,
}

/// A snapshot received and verified, still in its `.part` file (removed if this is dropped).
pub struct Fetched {
    part: PartFile,
    outcome: WriterOutcome,
    member: MemberStatus,
    endpoint: String,
    storage_version: String,
    started: OffsetDateTime,
    clock: Instant,
}

/// A committed snapshot.
#[derive(Debug)]
pub struct Saved {
    pub path: PathBuf,
    pub manifest_path: PathBuf,
    pub manifest: Manifest,
}

/// Checks the destination before connecting: exit 3 if it exists (without `--force`) or its
/// directory does not.
pub fn check_target(opts: &SaveOptions) -> Result<()> {
    match &opts.target {
        Target::File(path) => {
            if path.is_dir() {
                return Err(Error::invalid(format!(
                    "{} is a directory; use --dir {0} for named snapshots",
                    path.display()
                )));
            }
            let dir = fsutil::parent_dir(path);
            if !dir.is_dir() {
                return Err(Error::invalid(format!(
                    "directory {} does not exist",
                    dir.display()
                )));
            }
            if !opts.force {
                for p in [path.clone(), manifest::manifest_path(path)] {
                    if p.symlink_metadata().is_ok() {
                        return Err(Error::invalid(format!(
                            "{} already exists; pass --force to replace it",
                            p.display()
                        )));
                    }
                }
            }
        }
        Target::Dir { dir, .. } => {
            if !dir.is_dir() {
                return Err(Error::invalid(format!(
                    "--dir {} is not an existing directory",
                    dir.display()
                )));
            }
        }
    }
    Ok(())
}

fn part_path(opts: &SaveOptions, started: OffsetDateTime) -> PathBuf {
    match &opts.target {
        Target::File(p) => fsutil::with_suffix(p, ".part"),
        Target::Dir { dir, prefix } => dir.join(format!(
            "{prefix}-{}.{}.part",
            crate::timefmt::compact(started),
            opts.compression.extension()
        )),
    }
}

/// zstd worker threads: one core is left for receiving and hashing (and, on a control-plane
/// node, for etcd itself, which is busy serving the snapshot); at least one, at most eight.
fn zstd_workers() -> u32 {
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
pub async fn fetch(config: &ConnectConfig, opts: &SaveOptions) -> Result<Fetched> {
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
        let (part, file) = PartFile::create(&part_path(opts, started))?;
        let path = part.path().to_path_buf();
        match attempt(config, &mut conn, file, path, opts).await {
            Ok((outcome, storage_version)) => {
                return Ok(Fetched {
                    part,
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
                drop(part);
                log::warn(
                    "snapshot from this member failed; partial file removed",
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
    file: std::fs::File,
    path: PathBuf,
    opts: &SaveOptions,
) -> std::result::Result<(WriterOutcome, String), AttemptError> {
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
    let writer = tokio::task::spawn_blocking(move || writer::run(file, path, wcfg, rx));
    let mut progress = Progress::new(opts.progress);
    let received = receive(config, &mut stream, tx, &mut progress).await;
    progress.finish();
    let written = writer.await.map_err(|e| {
        AttemptError::Fatal(Error::general(format!(
            "snapshot writer thread failed: {e}"
        )))
    })?;
    match (received, written) {
        (_, Err(WriterError::Io(e))) => Err(AttemptError::Fatal(e)),
        (Err((ErrorKind::InvalidInput, reason)), _) => Err(AttemptError::Fatal(Error::invalid(
            format!("snapshot on {endpoint}: {reason}"),
        ))),
        (Err((kind, reason)), _) => Err(fail(kind, reason)),
        (Ok(_), Err(WriterError::Aborted)) => Err(AttemptError::Fatal(Error::general(
            "snapshot writer stopped before the end of the stream",
        ))),
        (Ok(version), Ok(out)) => {
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
            Ok((out, version))
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

/// Puts a fetched snapshot in place (never over an existing file without `--force`), then
/// writes its manifest. Not cancellable.
pub fn commit(fetched: Fetched, opts: &SaveOptions) -> Result<Saved> {
    let Fetched {
        part,
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
    let dest = match &opts.target {
        Target::File(p) => p.clone(),
        Target::Dir { dir, prefix } => dir.join(format!(
            "{prefix}-{}-rev{revision}.{}",
            crate::timefmt::compact(started),
            opts.compression.extension()
        )),
    };
    part.commit(&dest, opts.force)?;
    let finished = OffsetDateTime::now_utc();
    let file_name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let manifest = Manifest {
        format: manifest::FORMAT.to_string(),
        file: file_name,
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
        finished_at: manifest::timestamp(finished),
        duration_seconds: (clock.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        revkeeper_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let manifest_path = manifest.write_beside(&dest).map_err(|e| {
        Error::new(
            e.kind,
            format!(
                "snapshot saved at {} but its manifest could not be written: {}",
                dest.display(),
                e.message
            ),
        )
    })?;
    Ok(Saved {
        path: dest,
        manifest_path,
        manifest,
    })
}

/// The log line of a saved snapshot.
pub fn log_saved(saved: &Saved) {
    let m = &saved.manifest;
    let secs = m.duration_seconds.max(1e-3);
    log::info(
        "snapshot saved",
        &[
            ("file", json!(saved.path.display().to_string())),
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
