//! Backups: `snapshot save` (stream, verify, compress, commit atomically), the JSON manifest
//! written beside every snapshot, `snapshot list`, `snapshot prune` (restic-style retention),
//! the Prometheus textfile metrics, and continuous backups (`backup run`: [`follow`] writes
//! delta segments; [`chain`] finds what a point-in-time restore needs).

pub mod chain;
pub mod compact;
pub mod destinations;
pub mod follow;
pub mod fsutil;
pub mod lease_table;
pub mod list;
pub mod manifest;
pub mod metrics;
pub mod metrics_http;
pub mod progress;
pub mod prune;
pub mod save;
pub mod segment_writer;
pub mod writer;

pub use revkeeper_formats::units::human_bytes;
