//! `revkeeper snapshot list [LOCATION]`: the snapshots of a directory or bucket, from their
//! manifests.

use super::location_args::StoreArgs;
use crate::backup::{chain, list};
use crate::error::Result;
use crate::output::{OutputArgs, OutputFormat, TABLE_JSON, print_json, print_table, with_stdout};
use crate::timefmt;

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
    let contents = chain::scan(&args.store.open(&args.dir)?)?;
    let entries = &contents.snapshots;
    match format {
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = entries.iter().map(list::row).collect();
            print_table(&list::HEADERS, &rows)?;
            for w in contents.windows().iter().filter(|w| w.segments > 0) {
                with_stdout(|o| {
                    writeln!(
                        o,
                        "restorable (cluster {}): rev {}–{}, {}–{} ({} delta segments after the newest full snapshot)",
                        w.cluster_id,
                        w.first,
                        w.last,
                        timefmt::rfc3339(w.first_time),
                        timefmt::rfc3339(w.last_time),
                        w.segments
                    )
                })?;
            }
        }
        _ => {
            let items: Vec<list::Listed> = entries.iter().map(list::listed).collect();
            print_json(&items)?;
        }
    }
    Ok(())
}
