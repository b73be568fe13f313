//! `revkeeper snapshot list [LOCATION]`: the snapshots of a directory or bucket, from their
//! manifests.

use super::location_args::StoreArgs;
use crate::backup::list;
use crate::error::Result;
use crate::output::{OutputArgs, OutputFormat, TABLE_JSON, print_json, print_table};

#[derive(Debug, clap::Args)]
pub struct SnapshotListArgs {
    /// Directory or bucket URL (s3://, gs://, az://, file://) holding the snapshots and their
    /// .manifest.json files
    #[arg(default_value = ".", value_name = "LOCATION")]
    pub dir: String,

    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: SnapshotListArgs) -> Result<()> {
    let format = args.output.format(TABLE_JSON)?;
    let entries = list::list(&args.store.open(&args.dir)?)?;
    match format {
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = entries.iter().map(list::row).collect();
            print_table(&list::HEADERS, &rows)?;
        }
        _ => {
            let items: Vec<list::Listed> = entries.iter().map(list::listed).collect();
            print_json(&items)?;
        }
    }
    Ok(())
}
