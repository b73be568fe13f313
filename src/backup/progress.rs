//! A one-line progress display on stderr, shown only when stderr is a terminal (and logs are
//! text): cron mail and log shippers never see carriage returns.

use std::io::Write;
use std::time::{Duration, Instant};

use super::human_bytes;

const EVERY: Duration = Duration::from_millis(200);

pub struct Progress {
    enabled: bool,
    started: Instant,
    last: Option<Instant>,
}

impl Progress {
    pub fn new(enabled: bool) -> Progress {
        Progress {
            enabled,
            started: Instant::now(),
            last: None,
        }
    }

    /// Redraws at most every 200 ms.
    pub fn update(&mut self, done: u64, total: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) < EVERY) {
            return;
        }
        self.last = Some(now);
        let secs = now.duration_since(self.started).as_secs_f64().max(1e-3);
        let pct = if total > 0 {
            done as f64 * 100.0 / total as f64
        } else {
            0.0
        };
        let rate = human_bytes((done as f64 / secs) as u64);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[Ksnapshot: {} / {} ({pct:.0}%), {rate}/s",
            human_bytes(done),
            human_bytes(total)
        );
        let _ = err.flush();
    }

    /// Clears the line.
    pub fn finish(&mut self) {
        if self.enabled && self.last.is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.last = None;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
