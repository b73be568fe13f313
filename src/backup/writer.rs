//! The blocking half of `snapshot save`: a thread that takes db chunks from a bounded channel,
//! hashes them (sha256, checked against the server's trailer), follows the bbolt pages for the
//! revision, and writes them plain or through zstd's multi-threaded encoder. The gRPC receive
//! loop only forwards chunks, so compression stays off the network's critical path.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc::Receiver;

use super::manifest::Compression;
use crate::error::Error;
use revkeeper_formats::etcd::stream_revision::RevisionScanner;

/// Writes smaller than this are gathered; etcd's 32 KiB chunks (and zstd's output blocks) go
/// straight to the file while they are still in the CPU cache from hashing.
const WRITE_BUFFER: usize = 32 << 10;

pub enum Chunk {
    /// First message: the db size the server announced.
    Start {
        db_size: u64,
    },
    Db(Vec<u8>),
    /// The 32-byte sha256 the server sent after the db; the stream is complete.
    End {
        trailer: [u8; 32],
    },
}

#[derive(Clone, Copy, Debug)]
pub struct WriterConfig {
    pub compression: Compression,
    pub zstd_level: i32,
    /// zstd worker threads.
    pub workers: u32,
}

#[derive(Debug)]
pub struct WriterOutcome {
    pub db_size: u64,
    /// sha256 of the db bytes received.
    pub db_sha256: [u8; 32],
    /// sha256 the server sent.
    pub trailer: [u8; 32],
    pub file_size: u64,
    pub file_sha256: [u8; 32],
    pub revision: Result<Option<u64>, String>,
}

#[derive(Debug)]
pub enum WriterError {
    /// The sender went away without `End` (stream failure, signal): nothing to report.
    Aborted,
    /// Writing failed (disk full, I/O error): fatal for the whole save.
    Io(Error),
}

/// Counts (and optionally hashes) what reaches the file.
struct Counting<W> {
    inner: W,
    count: u64,
    hash: Option<Sha256>,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        if let Some(h) = self.hash.as_mut() {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

enum Sink {
    Plain(Counting<BufWriter<File>>),
    Zstd(zstd::stream::write::Encoder<'static, Counting<BufWriter<File>>>),
}

impl Sink {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(buf),
            Sink::Zstd(w) => w.write_all(buf),
        }
    }
}

/// Runs until `End` (returns the outcome, file fsynced) or until the channel closes
/// (`Aborted`). `path` is only for messages.
pub fn run(
    file: File,
    path: PathBuf,
    config: WriterConfig,
    mut rx: Receiver<Chunk>,
) -> Result<WriterOutcome, WriterError> {
    let io_err = |e: io::Error| WriterError::Io(Error::io("cannot write", &path, e));
    let zstd_err = |e: io::Error| {
        WriterError::Io(Error::general(format!(
            "zstd compression failed for {}: {e}",
            path.display()
        )))
    };
    let out = Counting {
        inner: BufWriter::with_capacity(WRITE_BUFFER, file),
        count: 0,
        hash: (config.compression == Compression::Zstd).then(Sha256::new),
    };
    let mut sink = None;
    let mut out = Some(out);
    let mut db_hash = Sha256::new();
    let mut scanner = RevisionScanner::new();
    let mut db_size = 0u64;
    let trailer = loop {
        let Some(chunk) = rx.blocking_recv() else {
            return Err(WriterError::Aborted);
        };
        match chunk {
            Chunk::Start { db_size: announced } => {
                let w = out.take().expect("one Start");
                sink = Some(match config.compression {
                    Compression::None => Sink::Plain(w),
                    Compression::Zstd => {
                        let mut enc = zstd::stream::write::Encoder::new(w, config.zstd_level)
                            .map_err(zstd_err)?;
                        if config.workers > 0 {
                            enc.multithread(config.workers).map_err(zstd_err)?;
                        }
                        enc.include_checksum(true).map_err(zstd_err)?;
                        enc.set_pledged_src_size(Some(announced + 32))
                            .map_err(zstd_err)?;
                        Sink::Zstd(enc)
                    }
                });
            }
            Chunk::Db(buf) => {
                db_hash.update(&buf);
                scanner.feed(&buf);
                db_size += buf.len() as u64;
                sink.as_mut()
                    .ok_or(WriterError::Aborted)?
                    .write_all(&buf)
                    .map_err(io_err)?;
            }
            Chunk::End { trailer } => {
                sink.as_mut()
                    .ok_or(WriterError::Aborted)?
                    .write_all(&trailer)
                    .map_err(io_err)?;
                break trailer;
            }
        }
    };
    let counting = match sink.ok_or(WriterError::Aborted)? {
        Sink::Plain(w) => w,
        Sink::Zstd(enc) => enc.finish().map_err(io_err)?,
    };
    let Counting {
        inner, count, hash, ..
    } = counting;
    let file = inner.into_inner().map_err(|e| io_err(e.into_error()))?;
    file.sync_all().map_err(io_err)?;
    let db_sha256: [u8; 32] = db_hash.clone().finalize().into();
    let file_sha256: [u8; 32] = match hash {
        Some(h) => h.finalize().into(),
        // Plain file = db || trailer: continue the db hash instead of hashing twice.
        None => {
            let mut h = db_hash;
            h.update(trailer);
            h.finalize().into()
        }
    };
    Ok(WriterOutcome {
        db_size,
        db_sha256,
        trailer,
        file_size: count,
        file_sha256,
        revision: scanner.finish(),
    })
}
