//! The blocking half of `snapshot save`: a thread that takes db chunks from a bounded channel,
//! hashes them (sha256, checked against the server's trailer), follows the bbolt pages for the
//! revision, and writes them plain or through zstd's multi-threaded encoder, then age when
//! asked, to every destination at once. The gRPC receive
//! loop only forwards chunks, so compression stays off the network's critical path.

use std::io::{self, BufWriter, Write};

use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc::Receiver;

use super::manifest::Compression;
use crate::error::Error;
use crate::location::{EncryptingWriter, Encryptor, Upload};
use crate::log;
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

/// Counts (and optionally hashes) what reaches the destinations.
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

type Base = Counting<BufWriter<Fanout>>;

/// Encrypted or not, below the compressor.
enum Sealed {
    Clear(Base),
    Age(EncryptingWriter<Base>),
}

impl Write for Sealed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sealed::Clear(w) => w.write(buf),
            Sealed::Age(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sealed::Clear(w) => w.flush(),
            Sealed::Age(w) => w.flush(),
        }
    }
}

impl Sealed {
    fn finish(self) -> io::Result<Base> {
        match self {
            Sealed::Clear(w) => Ok(w),
            Sealed::Age(w) => w.finish(),
        }
    }
}

enum Sink {
    Plain(Sealed),
    Zstd(zstd::stream::write::Encoder<'static, Sealed>),
}

impl Sink {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(buf),
            Sink::Zstd(w) => w.write_all(buf),
        }
    }
}

/// Runs until `End` (returns the outcome and the destinations, still to be finished) or until
/// the channel closes (`Aborted`; dropping the destinations removes or aborts them).
pub fn run(
    out: Fanout,
    encryptor: Option<&Encryptor>,
    config: WriterConfig,
    mut rx: Receiver<Chunk>,
) -> Result<(WriterOutcome, Fanout), WriterError> {
    let shown = out.describe();
    let io_err = |e: io::Error| {
        let err = crate::location::error_from_io(e, &shown);
        WriterError::Io(Error::new(
            err.kind,
            format!("cannot write: {}", err.message),
        ))
    };
    let zstd_err = |e: io::Error| {
        WriterError::Io(Error::general(format!(
            "zstd compression failed for {shown}: {e}"
        )))
    };
    let base = Counting {
        inner: BufWriter::with_capacity(WRITE_BUFFER, out),
        count: 0,
        // A plain clear file is the db and its trailer: its hash continues the db's.
        hash: (config.compression == Compression::Zstd || encryptor.is_some()).then(Sha256::new),
    };
    let sealed = match encryptor {
        Some(e) => Sealed::Age(e.wrap(base).map_err(WriterError::Io)?),
        None => Sealed::Clear(base),
    };
    let mut sink = None;
    let mut sealed = Some(sealed);
    let mut db_hash = Sha256::new();
    let mut scanner = RevisionScanner::new();
    let mut db_size = 0u64;
    let trailer = loop {
        let Some(chunk) = rx.blocking_recv() else {
            return Err(WriterError::Aborted);
        };
        match chunk {
            Chunk::Start { db_size: announced } => {
                let w = sealed.take().expect("one Start");
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
    let sealed = match sink.ok_or(WriterError::Aborted)? {
        Sink::Plain(w) => w,
        Sink::Zstd(enc) => enc.finish().map_err(io_err)?,
    };
    let Counting {
        inner, count, hash, ..
    } = sealed.finish().map_err(io_err)?;
    let fanout = inner.into_inner().map_err(|e| io_err(e.into_error()))?;
    let db_sha256: [u8; 32] = db_hash.clone().finalize().into();
    let file_sha256: [u8; 32] = match hash {
        Some(h) => h.finalize().into(),
        None => {
            let mut h = db_hash;
            h.update(trailer);
            h.finalize().into()
        }
    };
    Ok((
        WriterOutcome {
            db_size,
            db_sha256,
            trailer,
            file_size: count,
            file_sha256,
            revision: scanner.finish(),
        },
        fanout,
    ))
}

/// One output of the save: a destination's upload, until it fails.
pub struct Slot {
    /// The destination as messages name it (its location).
    pub shown: String,
    pub upload: Option<Upload>,
    pub error: Option<Error>,
}

/// Writes every byte to every destination still healthy. A destination that fails is aborted
/// and recorded; the stream goes on for the others, and fails only when none is left.
pub struct Fanout {
    pub slots: Vec<Slot>,
}

impl Fanout {
    fn describe(&self) -> String {
        let names: Vec<&str> = self.slots.iter().map(|s| s.shown.as_str()).collect();
        names.join(", ")
    }
}

impl Write for Fanout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut first_error = None;
        for slot in &mut self.slots {
            let Some(upload) = slot.upload.as_mut() else {
                continue;
            };
            if let Err(e) = upload.write_all(buf) {
                let err = crate::location::error_from_io(e, upload.target());
                log::warn(
                    "a destination failed; the others go on",
                    &[
                        ("location", json!(slot.shown)),
                        ("error", json!(err.message)),
                    ],
                );
                first_error.get_or_insert_with(|| Error::new(err.kind, err.message.clone()));
                slot.error = Some(err);
                // Dropping the upload removes its `.part` file or aborts its multipart upload.
                slot.upload = None;
            }
        }
        if self.slots.iter().all(|s| s.upload.is_none()) {
            let err = first_error.unwrap_or_else(|| Error::general("no destination left"));
            return Err(crate::location::into_io(err));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
