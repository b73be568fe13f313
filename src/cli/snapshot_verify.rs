//! `revkeeper snapshot verify FILE`: exit 0 only when the file is clean.

use std::path::PathBuf;

use crate::output::{OutputArgs, OutputFormat, print_json, with_stdout};
use crate::snapshot::verify::verify;
use crate::source::SnapshotSource;
use crate::{Error, Result};

/// Check a snapshot: its sha256 trailer, its bbolt structure (like `bbolt check`) and etcd's
/// data in it (revision keys, values, meta, leases, members). Prints every problem with its
/// location; exits 0 only when there is none.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Snapshot file (`.db` or `.db.zst`)
    pub file: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: VerifyArgs) -> Result<()> {
    let source = SnapshotSource::open(&args.file)?;
    let report = verify(source.db());
    match args.output.output {
        OutputFormat::Json => print_json(&report)?,
        OutputFormat::Table => {
            let trailer = match report.sha256_ok {
                Some(true) => "ok",
                Some(false) => "MISMATCH",
                None => "absent (a raw db file; its bytes cannot be proven intact)",
            };
            with_stdout(|out| {
                writeln!(out, "sha256 trailer: {trailer}")?;
                for p in &report.problems {
                    writeln!(out, "{}: {}", p.location, p.message)?;
                }
                if report.is_clean() {
                    writeln!(out, "OK")?;
                }
                Ok(())
            })?
        }
    }
    if report.is_clean() {
        Ok(())
    } else {
        Err(Error::general(format!(
            "snapshot {} has {} problem(s); do not restore from it",
            args.file.display(),
            report.problems.len().max(1)
        )))
    }
}
