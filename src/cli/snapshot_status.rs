//! `revkeeper snapshot status FILE`: etcdutl's fields with identical values.

use super::location_args::ReadArgs;
use crate::output::{OutputArgs, OutputFormat, TABLE_JSON, print_json, print_table};
use crate::snapshot::status::{humanize_bytes, status};
use crate::{Error, Result};

/// Show hash, revision, total keys, total size and storage version of a snapshot.
///
/// The values equal `etcdutl snapshot status` for the same file. TOTAL KEYS follows etcd 3.6:
/// the number of live user keys (3.5 counted every entry of every bucket); after a restore
/// with --bump-revision it includes the bump marker, as etcdutl 3.6 does. Accepts `.db` and
/// `.db.zst` files.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Snapshot: a file (`.db`, `.db.zst`, `.age`), an object URL (s3://BUCKET/PREFIX/FILE,
    /// gs://, az://), or a directory or bucket URL with --latest
    #[arg(value_name = "SNAPSHOT")]
    pub file: String,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: StatusArgs) -> Result<()> {
    let format = args.output.format(TABLE_JSON)?;
    let source = args.read.open(&args.file)?;
    let st = status(source.db()).map_err(|e| {
        Error::invalid(format!(
            "snapshot {} failed its integrity check: {e}; run `revkeeper snapshot verify` for details",
            source.path().display()
        ))
    })?;
    match format {
        OutputFormat::Json => print_json(&st),
        _ => {
            let row = vec![
                format!("{:x}", st.hash),
                st.revision.to_string(),
                st.total_key.to_string(),
                humanize_bytes(st.total_size),
                st.version.clone(),
            ];
            print_table(
                &["HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE", "VERSION"],
                &[row],
            )
        }
    }
}
