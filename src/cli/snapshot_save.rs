//! `revkeeper snapshot save FILE | --dir DIR`: thin glue over [`crate::backup::save`].

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;

use crate::backup::manifest::Compression;
use crate::backup::metrics::{self, SaveRun, SnapshotFacts};
use crate::backup::save::{self, SaveOptions, Saved, Target};
use crate::connect::{ConnectArgs, is_tty};
use crate::error::{Error, Result};
use crate::log::{self, LogFormat};
use crate::output::{OutputArgs, OutputFormat, TABLE_JSON, print_json, with_stdout};

const AFTER_HELP: &str = "\
Exit codes: 0 saved; 1 error (I/O, disk full, sha256 mismatch); 2 no endpoint reachable;
3 invalid input (flags, TLS files, credentials, existing file without --force);
4 server error; 5 transfer interrupted (stream broke, --command-timeout, SIGINT/SIGTERM).
On any failure the partial file is removed. stdout gets the snapshot path (or its manifest
with -o json); logs go to stderr.";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct SnapshotSaveArgs {
    /// Snapshot file to write. A name ending in .zst is zstd-compressed; any other name gets a
    /// plain snapshot that `etcdutl snapshot restore` reads as is
    #[arg(
        value_name = "FILE",
        required_unless_present = "dir",
        conflicts_with = "dir"
    )]
    pub file: Option<PathBuf>,

    /// Write into DIR as <prefix>-<UTC yyyymmddThhmmssZ>-rev<revision>.db.zst (or .db)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// File name prefix with --dir
    #[arg(long, default_value = "etcd", value_name = "PREFIX")]
    pub prefix: String,

    /// zstd (the default with --dir or a .zst FILE) or none (plain .db, etcdutl-ready)
    #[arg(long, value_enum, value_name = "zstd|none")]
    pub compress: Option<Compression>,

    /// zstd compression level
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=19))]
    pub zstd_level: i32,

    /// Replace an existing snapshot (and its manifest)
    #[arg(long)]
    pub force: bool,

    /// Write Prometheus textfile metrics here (atomically), after success and after failure
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

fn is_zst(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "zst")
}

fn options(args: &SnapshotSaveArgs, log_format: LogFormat) -> Result<SaveOptions> {
    let target = match (&args.file, &args.dir) {
        (Some(f), None) => Target::File(f.clone()),
        (None, Some(d)) => {
            let p = &args.prefix;
            let ok = p.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if !ok {
                return Err(Error::invalid(format!(
                    "--prefix {p:?}: use letters, digits, '.', '_' and '-' (starting with a letter or digit)"
                )));
            }
            Target::Dir {
                dir: d.clone(),
                prefix: p.clone(),
            }
        }
        _ => return Err(Error::invalid("give either FILE or --dir DIR")),
    };
    let compression = match (&target, args.compress) {
        (Target::File(f), Some(c)) => {
            if (c == Compression::Zstd) != is_zst(f) {
                log::warn(
                    "the file name does not match the compression",
                    &[
                        ("file", json!(f.display().to_string())),
                        ("compression", json!(c.as_str())),
                    ],
                );
            }
            c
        }
        (Target::File(f), None) if is_zst(f) => Compression::Zstd,
        (Target::File(f), None) => {
            log::info(
                "writing a plain snapshot: FILE does not end in .zst (pass --compress zstd to compress)",
                &[("file", json!(f.display().to_string()))],
            );
            Compression::None
        }
        (Target::Dir { .. }, c) => c.unwrap_or(Compression::Zstd),
    };
    Ok(SaveOptions {
        target,
        compression,
        zstd_level: args.zstd_level,
        force: args.force,
        progress: log_format == LogFormat::Text && is_tty(2),
    })
}

/// Waits for SIGINT, SIGTERM or SIGHUP; returns its name.
async fn signalled() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
        _ = hup.recv() => "SIGHUP",
    }
}

fn save(args: &SnapshotSaveArgs, log_format: LogFormat) -> Result<Saved> {
    let opts = options(args, log_format)?;
    save::check_target(&opts)?;
    let config = args.connect.resolve()?;
    let rt = crate::connect::runtime()?;
    let fetched = rt.block_on(async {
        tokio::select! {
            r = save::fetch(&config, &opts) => r,
            sig = signalled() => Err(Error::interrupted(format!(
                "interrupted by {sig}; no snapshot written, partial file removed"
            ))),
        }
    });
    // Signals no longer stop anything: the commit below is short and must not be torn.
    let saved = fetched.and_then(|f| save::commit(f, &opts));
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    saved
}

pub fn run(args: SnapshotSaveArgs, log_format: LogFormat) -> Result<()> {
    let format = args.output.format(TABLE_JSON)?;
    let clock = Instant::now();
    let result = save(&args, log_format);
    if let Some(path) = &args.metrics_file {
        let finished = time::OffsetDateTime::now_utc();
        let run = SaveRun {
            success: result.is_ok(),
            finished_unix: finished.unix_timestamp_nanos() as f64 / 1e9,
            duration_seconds: clock.elapsed().as_secs_f64(),
            snapshot: result.as_ref().ok().map(|s| SnapshotFacts {
                db_size: s.manifest.db_size,
                file_size: s.manifest.file_size,
                revision: s.manifest.revision,
            }),
        };
        if let Err(e) = metrics::write(path, &run) {
            if result.is_ok() {
                return Err(Error::new(
                    e.kind,
                    format!(
                        "snapshot saved, but the metrics file was not written: {}",
                        e.message
                    ),
                ));
            }
            log::warn(
                "cannot write the metrics file",
                &[("error", json!(e.message))],
            );
        }
    }
    let saved = result?;
    save::log_saved(&saved);
    match format {
        OutputFormat::Table => with_stdout(|o| writeln!(o, "{}", saved.path.display()))?,
        _ => print_json(&crate::backup::list::Listed {
            path: saved.path.display().to_string(),
            status: "ok",
            manifest: saved.manifest.clone(),
        })?,
    }
    Ok(())
}
