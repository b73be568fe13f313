//! `revkeeper inspect`: `stale` and `leases` from one pass over the keys — the findings (every
//! check, as `stale` prints them), then the leases (as `leases` lists them; their findings are
//! among those above). `-o json`: one document with `values`, `leases` and `findings`.

use super::leases::InspectArgs;
use crate::Result;
use crate::output::inspect::{json_header, print_findings, print_header, print_leases};
use crate::output::{OutputArgs, OutputFormat, TABLE_JSON, print_json, with_stdout};

/// Stale resources and leaked leases, then every lease with its keys: `stale` and `leases` in one
/// pass
#[derive(Debug, clap::Args)]
pub struct InspectCommandArgs {
    #[command(flatten)]
    pub inspect: InspectArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: InspectCommandArgs) -> Result<()> {
    let format = args.output.format(TABLE_JSON)?;
    let report = args.inspect.inspect()?;
    let findings: Vec<_> = report.findings.iter().collect();
    let leases: Vec<_> = report.leases.iter().collect();
    match format {
        OutputFormat::Json => {
            let mut doc = json_header(&report);
            doc.insert("values".into(), serde_json::json!(report.values));
            doc.insert("leases".into(), serde_json::json!(leases));
            doc.insert("findings".into(), serde_json::json!(findings));
            print_json(&doc)
        }
        _ => {
            print_header(&report)?;
            print_findings(&findings)?;
            with_stdout(|out| writeln!(out))?;
            print_leases(&leases)
        }
    }
}
