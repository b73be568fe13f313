//! `backup run --metrics-addr`: `/metrics` (Prometheus text) and `/healthz` over plain HTTP/1,
//! served by one small thread from the follower's [`Stats`].

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::{Error, Result};

/// What the follower has done so far.
#[derive(Debug, Default)]
pub struct Stats {
    pub last_full_revision: Option<i64>,
    pub last_full_unix: Option<f64>,
    /// The last revision written in a segment, and when its last event was received.
    pub last_delta_revision: Option<i64>,
    pub last_delta_unix: Option<f64>,
    /// The last revision received from the watch, and the store's revision it reported.
    pub received_revision: i64,
    pub head_revision: i64,
    pub segments: u64,
    pub bytes: u64,
    pub errors: BTreeMap<&'static str, u64>,
}

fn now() -> f64 {
    OffsetDateTime::now_utc().unix_timestamp_nanos() as f64 / 1e9
}

impl Stats {
    pub fn full_done(&mut self, revision: i64) {
        self.last_full_revision = Some(revision);
        self.last_full_unix = Some(now());
    }
    pub fn received(&mut self, revision: i64, head: i64) {
        self.received_revision = self.received_revision.max(revision);
        self.head_revision = self.head_revision.max(head).max(revision);
    }
    pub fn segment_done(&mut self, revision: i64, last_event_unix_ms: i64, bytes: u64) {
        self.last_delta_revision = Some(revision);
        self.last_delta_unix = Some(last_event_unix_ms as f64 / 1000.0);
        self.segments += 1;
        self.bytes += bytes;
    }
    pub fn error(&mut self, kind: &'static str) {
        *self.errors.entry(kind).or_default() += 1;
    }

    /// The Prometheus exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut gauge = |name: &str, help: &str, value: Option<f64>| {
            if let Some(v) = value {
                out.push_str(&format!(
                    "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}\n"
                ));
            }
        };
        gauge(
            "revkeeper_backup_last_full_revision",
            "Revision of the last full snapshot written.",
            self.last_full_revision.map(|r| r as f64),
        );
        gauge(
            "revkeeper_backup_last_full_timestamp_seconds",
            "Unix time the last full snapshot was written.",
            self.last_full_unix,
        );
        gauge(
            "revkeeper_backup_last_delta_revision",
            "Last revision written in a delta segment.",
            self.last_delta_revision.map(|r| r as f64),
        );
        gauge(
            "revkeeper_backup_last_delta_timestamp_seconds",
            "Unix time the last event of the last delta segment was received.",
            self.last_delta_unix,
        );
        let written = self.last_delta_revision.or(self.last_full_revision);
        gauge(
            "revkeeper_backup_lag_revisions",
            "Revisions etcd has that no segment holds yet.",
            written.map(|w| (self.head_revision - w).max(0) as f64),
        );
        let lag_seconds = match (written, self.last_delta_unix.or(self.last_full_unix)) {
            (Some(w), Some(t)) if self.head_revision > w => Some((now() - t).max(0.0)),
            (Some(_), Some(_)) => Some(0.0),
            _ => None,
        };
        gauge(
            "revkeeper_backup_lag_seconds",
            "Seconds since the last written change, while etcd has newer ones.",
            lag_seconds,
        );
        out.push_str(
            "# HELP revkeeper_backup_segments_total Delta segments written.\n# TYPE revkeeper_backup_segments_total counter\n",
        );
        out.push_str(&format!(
            "revkeeper_backup_segments_total {}\n",
            self.segments
        ));
        out.push_str(
            "# HELP revkeeper_backup_segment_bytes_total Bytes of delta segments written (per destination).\n# TYPE revkeeper_backup_segment_bytes_total counter\n",
        );
        out.push_str(&format!(
            "revkeeper_backup_segment_bytes_total {}\n",
            self.bytes
        ));
        out.push_str(
            "# HELP revkeeper_backup_errors_total Errors by kind.\n# TYPE revkeeper_backup_errors_total counter\n",
        );
        for kind in ["watch", "compacted", "full_snapshot", "segment"] {
            let n = self.errors.get(kind).copied().unwrap_or(0);
            out.push_str(&format!(
                "revkeeper_backup_errors_total{{kind=\"{kind}\"}} {n}\n"
            ));
        }
        out
    }
}

/// Listens on `addr` and serves until the process ends.
pub fn serve(addr: SocketAddr, stats: Arc<Mutex<Stats>>) -> Result<()> {
    let listener = TcpListener::bind(addr)
        .map_err(|e| Error::invalid(format!("cannot listen on --metrics-addr {addr}: {e}")))?;
    std::thread::Builder::new()
        .name("revkeeper-metrics".into())
        .spawn(move || {
            for conn in listener.incoming().flatten() {
                let _ = answer(conn, &stats);
            }
        })
        .map_err(|e| Error::general(format!("cannot start the metrics thread: {e}")))?;
    Ok(())
}

fn answer(mut conn: TcpStream, stats: &Mutex<Stats>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut line = String::new();
    BufReader::new(&conn).read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = match path {
        "/metrics" => (
            "200 OK",
            stats.lock().map(|s| s.render()).unwrap_or_default(),
        ),
        "/healthz" => ("200 OK", "ok\n".to_string()),
        _ => (
            "404 Not Found",
            "not found: try /metrics or /healthz\n".to_string(),
        ),
    };
    write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}
