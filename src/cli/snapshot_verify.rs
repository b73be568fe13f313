//! `revkeeper snapshot verify FILE`: exit 0 only when the file is clean.

use super::location_args::ReadArgs;
use crate::decode::DecodeOptions;
use crate::output::{OutputArgs, OutputFormat, TABLE_JSON, print_json, with_stdout};
use crate::snapshot::verify::{Trailer, ValueCheck, verify_with};
use crate::{Error, Result};

/// Check a snapshot: its length and sha256 trailer, its bbolt structure (like `bbolt check`)
/// and etcd's data in it (revision keys, values, meta, leases, members), decoding every
/// Kubernetes value as `get --decode` would. Prints every problem with its location; exits 0
/// only when there is none. Encrypted values are decrypted with --encryption-config; without
/// it only their envelope is checked, and the report says so.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Snapshot: a file (`.db`, `.db.zst`, `.age`), an object URL (s3://BUCKET/PREFIX/FILE,
    /// gs://, az://), or a directory or bucket URL with --latest
    #[arg(value_name = "SNAPSHOT")]
    pub file: String,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub decoding: DecodeOptions,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: VerifyArgs) -> Result<()> {
    let format = args.output.format(TABLE_JSON)?;
    let values = ValueCheck {
        prefix: args.decoding.prefix().to_string(),
        keys: args.decoding.keyring()?,
    };
    let source = args.read.open(&args.file)?;
    let report = verify_with(source.db(), &values);
    match format {
        OutputFormat::Json => print_json(&report)?,
        _ => {
            let trailer = match report.trailer {
                Trailer::Ok => "ok",
                Trailer::Mismatch => "MISMATCH",
                Trailer::Absent => "absent (a raw db file; its bytes cannot be proven intact)",
                Trailer::Truncated => "TRUNCATED",
            };
            with_stdout(|out| {
                writeln!(out, "sha256 trailer: {trailer}")?;
                for p in &report.problems {
                    writeln!(out, "{}: {}", p.location, p.message)?;
                }
                if report.undecrypted > 0 {
                    writeln!(
                        out,
                        "note: {} encrypted value(s) were not decrypted, only their envelope was checked (pass --encryption-config FILE to check them too)",
                        report.undecrypted
                    )?;
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
            source.path().display(),
            report.problems.len().max(1)
        )))
    }
}
