//! `backup run`'s writer thread: each delta segment encoded, compressed, encrypted and written
//! to every destination, in order, with retries.

use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;

use super::chain::SegmentName;
use super::metrics_http::Stats;
use super::save::Destinations;
use crate::location::{Encryptor, Store};
use crate::{Error, Result, log};
use revkeeper_formats::delta::Segment;

/// Attempts to write one segment to one destination before the run stops.
const WRITE_ATTEMPTS: u32 = 4;

/// How segments are written: where, and in which form.
pub struct SegmentWriter {
    pub destinations: Arc<Destinations>,
    pub prefix: String,
    pub zstd_level: i32,
    pub encryptor: Option<Arc<Encryptor>>,
    pub stats: Arc<Mutex<Stats>>,
}

impl SegmentWriter {
    /// Starts the writer thread. A segment that cannot be written (after retries) ends the
    /// thread with the error, which stops the run.
    pub fn spawn(self, rx: Receiver<Segment>) -> Result<std::thread::JoinHandle<Result<()>>> {
        std::thread::Builder::new()
            .name("revkeeper-segments".into())
            .spawn(move || {
                while let Ok(segment) = rx.recv() {
                    self.write(&segment)?;
                }
                Ok(())
            })
            .map_err(|e| Error::general(format!("cannot start the segment writer: {e}")))
    }

    fn write(&self, segment: &Segment) -> Result<()> {
        let last_time = segment
            .events
            .last()
            .map(|e| e.received_unix_ms)
            .unwrap_or_default();
        let name = SegmentName {
            prefix: self.prefix.clone(),
            cluster_id: format!("{:x}", segment.cluster_id),
            first: segment.first_revision,
            last: segment.last_revision,
            last_time: OffsetDateTime::from_unix_timestamp_nanos(i128::from(last_time) * 1_000_000)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            encrypted: self.encryptor.is_some(),
        }
        .to_name();
        let bytes = encode(segment, self.zstd_level, self.encryptor.as_deref())?;
        for store in self.destinations.stores() {
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
        if let Ok(mut s) = self.stats.lock() {
            s.segment_done(segment.last_revision, last_time, bytes.len() as u64);
        }
        Ok(())
    }
}

fn encode(segment: &Segment, level: i32, encryptor: Option<&Encryptor>) -> Result<Vec<u8>> {
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
        // In memory already: one request to a bucket (a streamed upload costs a listing and
        // three multipart requests), a 0600 file renamed into place in a directory.
        match store.put_small(name, bytes) {
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
