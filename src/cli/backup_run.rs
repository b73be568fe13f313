//! `revkeeper backup run`: continuous backups — a full snapshot, then delta segments from a
//! watch, until SIGTERM. Thin glue over [`crate::backup::follow`].

use std::time::Duration;

use super::location_args::DestinationArgs;
use crate::Result;
use crate::backup::follow::{self, FollowOptions};
use crate::backup::manifest::Compression;
use crate::backup::save::SaveOptions;
use crate::connect::{ConnectArgs, parse_duration};
use crate::log;

const AFTER_HELP: &str = "\
Runs until SIGTERM/SIGINT (which write the open segment and exit 0); meant for a systemd unit,
a sidecar or a Deployment. Restarted, it continues the chain from the last revision every
--dir holds, without a gap. Restore any revision it covers with
`revkeeper snapshot restore LOCATION --to-revision N | --to-time RFC3339 | --latest`.
Exit codes: 1 a segment could not be written (after retries; restart to resume),
2 no endpoint reachable, 3 invalid input, 4 server error.";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct BackupRunArgs {
    #[command(flatten)]
    pub dest: DestinationArgs,

    /// A new full snapshot this often (the chain goes on meanwhile)
    #[arg(long, default_value = "1h", value_parser = parse_duration, value_name = "DURATION")]
    pub full_interval: Duration,

    /// A new delta segment this often (at most this much data is lost with the machine)
    #[arg(long, default_value = "20s", value_parser = parse_duration, value_name = "DURATION")]
    pub delta_interval: Duration,

    /// A new delta segment once this many bytes of events are waiting
    #[arg(long, default_value = "16MiB", value_parser = parse_size, value_name = "SIZE")]
    pub delta_max_bytes: usize,

    /// zstd compression level of snapshots and segments
    #[arg(long, default_value_t = crate::backup::manifest::DEFAULT_ZSTD_LEVEL,
          value_parser = clap::value_parser!(i32).range(1..=19))]
    pub zstd_level: i32,

    /// Serve /metrics (Prometheus) and /healthz here, e.g. 127.0.0.1:9479
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,

    /// A job label for log lines
    #[arg(long, value_name = "NAME")]
    pub job: Option<String>,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `16MiB`, `512KiB`, `1048576`.
fn parse_size(text: &str) -> std::result::Result<usize, String> {
    let t = text.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: usize = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 16MiB, 512KiB)"))?;
    let mult = match unit {
        "" | "B" => 1,
        "KiB" | "K" | "KB" => 1 << 10,
        "MiB" | "M" | "MB" => 1 << 20,
        "GiB" | "G" | "GB" => 1 << 30,
        _ => return Err(format!("{text:?}: unknown unit (use KiB, MiB or GiB)")),
    };
    match n.checked_mul(mult) {
        Some(v) if v > 0 => Ok(v),
        _ => Err(format!("{text:?} is not a positive size")),
    }
}

pub fn run(args: BackupRunArgs) -> Result<()> {
    if let Some(job) = &args.job {
        log::set_job(job);
    }
    if args.delta_interval.is_zero() || args.full_interval.is_zero() {
        return Err(crate::Error::invalid(
            "--delta-interval and --full-interval must be longer than 0",
        ));
    }
    let save = SaveOptions {
        target: args.dest.target()?,
        compression: Compression::Zstd,
        zstd_level: args.zstd_level,
        encryptor: args.dest.encryptor()?,
        store_options: args.dest.store.options(),
        force: false,
        progress: false,
    };
    let config = args.connect.resolve()?;
    follow::run(
        &config,
        FollowOptions {
            save,
            full_interval: args.full_interval,
            delta_interval: args.delta_interval,
            delta_max_bytes: args.delta_max_bytes,
            metrics_addr: args.metrics_addr,
        },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(super::parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(super::parse_size("100"), Ok(100));
        assert!(super::parse_size("0").is_err());
        assert!(super::parse_size("1TiB").is_err());
        assert!(super::parse_size("MiB").is_err());
    }
}
