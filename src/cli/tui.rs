//! `revkeeper tui`: browse a live cluster or a snapshot file in the terminal. With no source it
//! opens the sample snapshot bundled with the source tree, so it works on a fresh checkout.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use revkeeper_ui::{Options, Theme};

use super::source_args::SourceArgs;
use crate::decode::DecodeOptions;
use crate::source::{LiveSource, SnapshotSource};
use crate::tui_backend::{CoreBackend, Opened, Settings, Writer};
use crate::{Error, Result};

/// The sample snapshot, embedded in the binary so it works anywhere.
const SAMPLE: &[u8] = include_bytes!("../../testdata/sample.db");

/// Browse a live cluster (--endpoints …) or a snapshot (--snapshot FILE); with neither, the
/// bundled sample snapshot
#[derive(Debug, clap::Args)]
pub struct TuiArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub decode: DecodeOptions,
    /// Disable every write (a snapshot source is always read-only)
    #[arg(long)]
    pub readonly: bool,
    /// Backup directory or bucket URL for the Snapshots view (where `snapshot save --dir`
    /// writes)
    #[arg(long, value_name = "LOCATION")]
    pub backup_dir: Option<String>,
    /// Lets ctrl-d delete on a live cluster, recording every change (intent and result) in this
    /// JSON-lines file; without it the TUI never writes
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// How often to poll a live cluster, in seconds (backs off while it does not answer)
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    pub refresh: u64,
}

pub fn run(args: TuiArgs) -> Result<()> {
    let started = Instant::now();
    if !std::io::stdout().is_terminal() {
        return Err(Error::invalid(
            "revkeeper tui needs a terminal on stdout; for scripts use `get`, `snapshot status` or `snapshot list`",
        ));
    }
    let mut writer = None;
    let opened = match (&args.source.snapshot, endpoints_given()) {
        (Some(text), _) => Opened::Snapshot(args.source.read.open(text)?),
        (None, true) => {
            let config = args.source.connect.resolve()?;
            let live = LiveSource::connect(&config)?;
            if let (Some(log), false) = (&args.audit_log, args.readonly) {
                writer = Some(Writer {
                    config,
                    audit_log: log.clone(),
                });
            }
            Opened::Live(Box::new(live))
        }
        (None, false) => Opened::Snapshot(open_sample()?),
    };
    let live = matches!(opened, Opened::Live(_));
    let settings = Settings {
        readonly: args.readonly,
        backup_dir: args.backup_dir,
        open: crate::source::open::OpenOptions {
            latest: false,
            ..args.source.read.options()
        },
        prefix: args.decode.prefix().to_string(),
        keyring: args.decode.keyring()?,
        writer,
    };
    let backend = Arc::new(CoreBackend::new(opened, settings));
    let options = Options {
        refresh: live.then(|| Duration::from_secs(args.refresh.max(1))),
        theme: Theme::from_env(),
        timings: timings_recorder(started.elapsed()),
    };
    revkeeper_ui::run(backend, options).map_err(Error::general)
}

/// Opens the sample embedded in the binary.
fn open_sample() -> Result<SnapshotSource> {
    SnapshotSource::from_bytes(SAMPLE.to_vec(), "bundled sample")
}

/// Whether anything points at a cluster: a connection flag on the command line (`--endpoints`,
/// the TLS and auth flags, timeouts) or an `ETCDCTL_*` variable. Then the TUI connects (to
/// 127.0.0.1:2379 by default, as every other command does); only with none of them does it
/// open the bundled sample.
fn endpoints_given() -> bool {
    const FLAGS: &[&str] = &[
        "--endpoints",
        "--cacert",
        "--cert",
        "--key",
        "--insecure-skip-tls-verify",
        "--user",
        "--password",
        "--dial-timeout",
        "--command-timeout",
    ];
    std::env::vars_os().any(|(k, _)| k.to_string_lossy().starts_with("ETCDCTL_"))
        || std::env::args_os().any(|a| {
            let a = a.to_string_lossy();
            FLAGS
                .iter()
                .any(|f| a == *f || a.starts_with(&format!("{f}=")))
        })
}

/// With `REVKEEPER_TUI_TIMINGS=FILE`, appends `first-frame MS` (since the command started) and
/// `key MS` (a key handled and drawn) lines to FILE, for benchmarks.
fn timings_recorder(before_ui: Duration) -> Option<revkeeper_ui::Timings> {
    let path = std::env::var_os("REVKEEPER_TUI_TIMINGS")?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .ok()?;
    Some(Box::new(move |what, d| {
        let d = if what == "first-frame" {
            d + before_ui
        } else {
            d
        };
        let _ = writeln!(file, "{what} {:.3}", d.as_secs_f64() * 1000.0);
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_sample_opens() {
        let source = super::open_sample().expect("the bundled sample opens");
        assert_eq!(source.path().to_str(), Some("bundled sample"));
        assert!(source.db().page_size() > 0);
    }
}
