//! Cron-driven backups: `snapshot save` (stream, verify, compress, commit atomically), the JSON
//! manifest written beside every snapshot, `snapshot list`, `snapshot prune` (restic-style
//! retention) and the Prometheus textfile metrics.

pub mod fsutil;
pub mod list;
pub mod manifest;
pub mod metrics;
pub mod progress;
pub mod prune;
pub mod save;
pub mod writer;

pub use revkeeper_formats::units::human_bytes;
