//! Cron-driven backups: `snapshot save` (stream, verify, compress, commit atomically), the JSON
//! manifest written beside every snapshot, `snapshot list`, `snapshot prune` (restic-style
//! retention) and the Prometheus textfile metrics.
