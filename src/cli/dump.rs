//! `revkeeper dump DIR`: every Kubernetes object as a YAML file.

use std::path::PathBuf;

use super::source_args::{SourceArgs, parse_rev, requested_rev};
use crate::decode::DecodeOptions;
use crate::decode::dump::{dump, prefix_query};
use crate::{Error, Result, log};

/// Write every object as DIR/<resource>/[<namespace>/]<name>.yaml (files 0600: Secrets are decrypted)
#[derive(Debug, clap::Args)]
pub struct DumpArgs {
    /// A new or empty directory
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Read at this revision instead of the latest (must not be compacted; 0: the latest)
    #[arg(long, value_name = "REV", allow_negative_numbers = true, value_parser = parse_rev)]
    pub rev: Option<i64>,
    /// Decoding threads [default: the number of cores]
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub decoding: DecodeOptions,
    #[command(flatten)]
    pub source: SourceArgs,
}

pub fn run(args: DumpArgs) -> Result<()> {
    let keys = args.decoding.keyring()?;
    let source = args.source.open()?;
    let mut query = prefix_query(args.decoding.prefix());
    query.revision = requested_rev(args.rev);
    let workers = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let summary = dump(
        source.as_ref(),
        &query,
        args.decoding.prefix(),
        &keys,
        &args.dir,
        workers,
    )?;
    log::info(
        &format!(
            "dumped {} objects to {} ({} keys skipped, {} failed)",
            summary.written,
            args.dir.display(),
            summary.skipped,
            summary.failures.failed + summary.unwritten
        ),
        &[],
    );
    let decoded = summary.failures.finish();
    if summary.unwritten == 0 {
        return decoded;
    }
    let unwritten = format!(
        "{} of {} objects could not be written (path too long for the filesystem)",
        summary.unwritten,
        summary.failures.total + summary.unwritten
    );
    Err(Error::general(match decoded {
        Ok(()) => unwritten,
        Err(e) => format!("{e}; {unwritten}"),
    }))
}
