//! `revkeeper snapshot save FILE | --dir LOCATION…`: thin glue over [`crate::backup::save`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use super::location_args::DestinationArgs;
use crate::backup::manifest::Compression;
use crate::backup::metrics::{self, DestinationRun, SaveRun, SnapshotFacts};
use crate::backup::save::{self, SaveOptions, Saved, Target};
use crate::connect::{ConnectArgs, is_tty};
use crate::error::{Error, Result};
use crate::log::{self, LogFormat};
use crate::output::{OutputArgs, OutputFormat, TABLE_JSON, print_json, with_stdout};

const AFTER_HELP: &str = "\
--dir takes a directory or a bucket URL (s3://BUCKET/PREFIX, gs://, az://, file://), and may be
given more than once: one stream from etcd feeds every destination, and the run fails if any
destination fails (the metrics say which). Cloud credentials come from the environment
(AWS_ACCESS_KEY_ID…, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_ACCOUNT_NAME…; see
docs/locations.md). --encrypt-to encrypts with age before anything is written.
Exit codes: 0 saved; 1 error (I/O, disk full, sha256 mismatch); 2 no endpoint reachable;
3 invalid input (flags, TLS files, existing file without --force, missing bucket);
4 server error or access denied; 5 transfer interrupted (stream broke, --command-timeout,
SIGINT/SIGTERM). On any failure partial files are removed and uploads aborted. stdout gets the
snapshot path(s) (or the manifest with -o json); logs go to stderr.";

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

    #[command(flatten)]
    pub dest: DestinationArgs,

    /// A job label for metrics and logs, so several jobs can share a textfile directory
    #[arg(long, value_name = "NAME")]
    pub job: Option<String>,

    /// zstd (the default with --dir or a .zst FILE) or none (plain .db, etcdutl-ready)
    #[arg(long, value_enum, value_name = "zstd|none")]
    pub compress: Option<Compression>,

    /// zstd compression level
    #[arg(long, default_value_t = crate::backup::manifest::DEFAULT_ZSTD_LEVEL,
          value_parser = clap::value_parser!(i32).range(1..=19))]
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

/// `x.db.zst.age` → `x.db.zst`.
fn without_age(p: &Path) -> PathBuf {
    match p.extension() {
        Some(e) if e == "age" => p.with_extension(""),
        _ => p.to_path_buf(),
    }
}

fn options(args: &SnapshotSaveArgs, log_format: LogFormat) -> Result<SaveOptions> {
    let target = match (&args.file, args.dest.dir.is_empty()) {
        (Some(f), true) => Target::File(f.clone()),
        (None, false) => args.dest.target()?,
        _ => return Err(Error::invalid("give either FILE or --dir DIR")),
    };
    let compression = match (&target, args.compress) {
        (Target::File(f), Some(c)) => {
            if (c == Compression::Zstd) != is_zst(&without_age(f)) {
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
        (Target::File(f), None) if is_zst(&without_age(f)) => Compression::Zstd,
        // A plain name is the etcdctl-compatible path: a plain snapshot, without a word.
        (Target::File(_), None) => Compression::None,
        (Target::Locations { .. }, c) => c.unwrap_or(Compression::Zstd),
    };
    let encryptor = args.dest.encryptor()?;
    if let (Some(_), Target::File(f)) = (&encryptor, &target)
        && f.extension().is_none_or(|e| e != "age")
    {
        return Err(Error::invalid(format!(
            "{}: an encrypted snapshot's name ends in .age (as `age` names its files)",
            f.display()
        )));
    }
    Ok(SaveOptions {
        target,
        compression,
        zstd_level: args.zstd_level,
        encryptor,
        store_options: args.dest.store.options(),
        force: args.force,
        progress: log_format == LogFormat::Text && is_tty(2),
    })
}

fn save(args: &SnapshotSaveArgs, log_format: LogFormat) -> Result<Saved> {
    let opts = options(args, log_format)?;
    let destinations = Arc::new(save::check_target(&opts)?);
    let config = args.connect.resolve()?;
    let rt = crate::connect::runtime()?;
    let fetched = rt.block_on(async {
        tokio::select! {
            r = save::fetch(&config, &opts, &destinations) => r,
            sig = crate::interrupt::signalled() => Err(Error::interrupted(format!(
                "interrupted by {sig}; no snapshot written, partial files removed, uploads aborted"
            ))),
        }
    });
    // A writer thread still aborting its uploads (after a signal) finishes first.
    destinations.wait_writers();
    // Signals no longer stop anything: the commit below is short and must not be torn.
    let saved = fetched.and_then(|f| save::commit(f, &opts, &destinations));
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    saved
}

pub fn run(args: SnapshotSaveArgs, log_format: LogFormat) -> Result<()> {
    let format = args.output.format(TABLE_JSON)?;
    if let Some(job) = &args.job {
        log::set_job(job);
    }
    let clock = Instant::now();
    let result = save(&args, log_format);
    let failure = result.as_ref().ok().and_then(Saved::failure);
    if let Some(path) = &args.metrics_file {
        let finished = time::OffsetDateTime::now_utc();
        let destinations = match &result {
            Ok(saved) => saved
                .written
                .iter()
                .map(|w| DestinationRun {
                    location: w.location.clone(),
                    success: w.result.is_ok(),
                    bytes: w.bytes,
                    seconds: w.seconds,
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        let run = SaveRun {
            success: result.is_ok() && failure.is_none(),
            job: args.job.clone(),
            destinations,
            finished_unix: finished.unix_timestamp_nanos() as f64 / 1e9,
            duration_seconds: clock.elapsed().as_secs_f64(),
            snapshot: result.as_ref().ok().map(|s| SnapshotFacts {
                db_size: s.manifest.db_size,
                file_size: s.manifest.file_size,
                revision: s.manifest.revision,
            }),
        };
        if let Err(e) = metrics::write(path, &run) {
            if result.is_ok() && failure.is_none() {
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
    print_saved(&saved, format)?;
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// What a new snapshot prints: its paths (one per destination written), or with `-o json` the
/// manifest of each, as `snapshot list -o json` prints them (`snapshot save`, `backup compact`).
pub(super) fn print_saved(saved: &Saved, format: OutputFormat) -> Result<()> {
    let paths: Vec<&String> = saved
        .written
        .iter()
        .filter_map(|w| w.result.as_ref().ok())
        .collect();
    match format {
        OutputFormat::Table => with_stdout(|o| {
            for p in &paths {
                writeln!(o, "{p}")?;
            }
            Ok(())
        }),
        _ => {
            let items: Vec<crate::backup::list::Listed> = paths
                .iter()
                .map(|p| crate::backup::list::Listed {
                    path: p.to_string(),
                    status: "ok",
                    manifest: saved.manifest.clone(),
                })
                .collect();
            match items.as_slice() {
                [one] => print_json(one),
                _ => print_json(&items),
            }
        }
    }
}
