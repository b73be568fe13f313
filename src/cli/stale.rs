//! `revkeeper stale [--check ID…] [--older-than DUR]`: stale Kubernetes resources and leaked
//! leases with evidence and a fix; `revkeeper stale fix`: dry run, or `--apply` on a live cluster.

use std::time::Duration;

use super::leases::{InspectArgs, RemediateArgs, check_apply_target, execute};
use crate::connect::parse_duration;
use crate::inspect::{self, Finding};
use crate::output::inspect::{json_header, print_findings, print_header};
use crate::output::{OutputArgs, OutputFormat, TABLE_JSON, print_json};
use crate::remediate;
use crate::{Error, Result};

/// Find stale resources and leaked leases (every check, or those named by --check)
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct StaleArgs {
    #[command(subcommand)]
    pub command: Option<StaleCommand>,
    #[command(flatten)]
    pub filter: Filter,
    #[command(flatten)]
    pub inspect: InspectArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, clap::Args)]
pub struct Filter {
    /// Only these checks (ids as printed in CHECK; `--check list` prints them all)
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub check: Vec<String>,
    /// Only findings at least this old (findings without an age are kept)
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub older_than: Option<Duration>,
}

impl Filter {
    fn validate(&self) -> Result<()> {
        for c in &self.check {
            if !inspect::CHECKS.iter().any(|k| k.0 == c) {
                return Err(Error::invalid(format!(
                    "--check {c}: no such check (`revkeeper stale --check list` prints them)"
                )));
            }
        }
        Ok(())
    }

    fn keeps(&self, f: &Finding) -> bool {
        let checked = self.check.is_empty() || self.check.iter().any(|c| c == f.check);
        let old = match (self.older_than, f.age_seconds) {
            (Some(min), Some(age)) => age >= min.as_secs() as i64,
            _ => true,
        };
        checked && old
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum StaleCommand {
    /// Remove what the findings name (guarded etcd deletes / lease revokes): dry run unless --apply
    Fix(FixArgs),
}

#[derive(Debug, clap::Args)]
pub struct FixArgs {
    #[command(flatten)]
    pub filter: Filter,
    #[command(flatten)]
    pub remediate: RemediateArgs,
}

fn print_checks() -> Result<()> {
    let rows: Vec<Vec<String>> = inspect::CHECKS
        .iter()
        .map(|(id, sev, what)| {
            vec![
                id.to_string(),
                format!("{sev:?}").to_lowercase(),
                what.to_string(),
            ]
        })
        .collect();
    crate::output::print_table(&["CHECK", "SEVERITY", "DEFINITION"], &rows)
}

pub fn run(args: StaleArgs) -> Result<()> {
    if let Some(StaleCommand::Fix(f)) = args.command {
        return fix(f);
    }
    if args.filter.check.iter().any(|c| c == "list") {
        return print_checks();
    }
    let format = args.output.format(TABLE_JSON)?;
    args.filter.validate()?;
    let report = args.inspect.inspect()?;
    let findings: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| args.filter.keeps(f))
        .collect();
    match format {
        OutputFormat::Json => {
            let mut doc = json_header(&report);
            doc.insert("values".into(), serde_json::json!(report.values));
            doc.insert("findings".into(), serde_json::json!(findings));
            print_json(&doc)
        }
        _ => {
            print_header(&report)?;
            print_findings(&findings)
        }
    }
}

fn fix(args: FixArgs) -> Result<()> {
    let r = &args.remediate;
    let format = r.output.format(TABLE_JSON)?;
    args.filter.validate()?;
    if r.apply.apply && args.filter.check.is_empty() {
        return Err(Error::invalid(
            "--apply needs --check ID…: name the checks to fix (the dry run without --apply shows every operation)",
        ));
    }
    check_apply_target(&r.apply, &r.inspect)?;
    let mut report = r.inspect.inspect()?;
    report.findings.retain(|f| args.filter.keeps(f));
    let plan = remediate::plan_fix(&report, &args.filter.check);
    execute(&plan, &r.apply, &r.inspect, format)
}
