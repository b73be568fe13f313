//! `revkeeper backup compact LOCATION`: thin glue over [`crate::backup::compact`].

use super::snapshot_save::print_saved;
use crate::Result;
use crate::output::{OutputArgs, TABLE_JSON};

/// Fold a full snapshot and its delta segments into a new full snapshot
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Writes the new full snapshot (and its manifest) into LOCATION, named and encrypted as \
`snapshot save --dir` would (to the base snapshot's recipients unless --encrypt-to is given); \
nothing is deleted: `snapshot prune` removes what is no longer needed. Restores to revisions \
after it then apply fewer segments.")]
pub struct BackupCompactArgs {
    /// The directory or bucket that `backup run` writes to
    #[arg(value_name = "LOCATION")]
    pub location: String,
    /// The revision of the new full snapshot [default: the last one backed up]
    #[arg(long, value_name = "N")]
    pub to_revision: Option<i64>,
    /// File name prefix of the new snapshot
    #[arg(long, default_value = "etcd", value_name = "PREFIX")]
    pub prefix: String,
    /// Encrypt the new snapshot to this recipient (repeatable)
    #[arg(long, value_name = "RECIPIENT")]
    pub encrypt_to: Vec<String>,
    /// Encrypt to every recipient in FILE (repeatable)
    #[arg(long, value_name = "FILE")]
    pub recipients_file: Vec<std::path::PathBuf>,
    /// zstd compression level
    #[arg(long, default_value_t = crate::backup::manifest::DEFAULT_ZSTD_LEVEL,
          value_parser = clap::value_parser!(i32).range(1..=19))]
    pub zstd_level: i32,
    #[command(flatten)]
    pub read: super::location_args::ReadArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn compact(args: BackupCompactArgs) -> Result<()> {
    use crate::backup::chain::Point;
    use crate::backup::compact::{self, CompactOptions};
    let format = args.output.format(TABLE_JSON)?;
    let encryptor = crate::location::Encryptor::from_args(&args.encrypt_to, &args.recipients_file)?
        .map(std::sync::Arc::new);
    let saved = compact::compact(&CompactOptions {
        location: args.location,
        to: args.to_revision.map_or(Point::Latest, Point::Revision),
        open: args.read.options(),
        encryptor,
        prefix: args.prefix,
        zstd_level: args.zstd_level,
        store_options: args.read.store.options(),
    })?;
    crate::backup::save::log_saved(&saved);
    print_saved(&saved, format)
}
