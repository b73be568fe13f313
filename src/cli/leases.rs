//! `revkeeper leases [--class …]`: every etcd lease with its keys, class and findings;
//! `revkeeper leases revoke ID…`: dry run, or `--apply` on a live cluster.
//! Also the flags every inspecting command shares, and the apply path `stale fix` reuses.

use std::path::PathBuf;
use std::time::Duration;

use super::source_args::SourceArgs;
use crate::connect::parse_duration;
use crate::inspect::{self, Finding, Now, Options, Report};
use crate::output::inspect::{json_header, print_findings, print_header, print_leases};
use crate::output::{OutputArgs, OutputFormat, TABLE_JSON, print_json, with_stdout};
use crate::remediate::{self, ApplyOptions, Plan};
use crate::{Error, Result};

/// How to read and judge the data (shared by `leases` and `stale`).
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// --etcd-prefix and --encryption-config (without it encrypted values are judged from
    /// their keys)
    #[command(flatten)]
    pub decode: crate::decode::DecodeOptions,
    /// kube-apiserver --event-ttl
    #[arg(long, value_name = "DUR", default_value = "1h", value_parser = parse_duration)]
    pub event_ttl: Duration,
    /// "Now" for age rules: RFC 3339 time, or "estimate" (from the data's newest heartbeats).
    /// Default: the clock for a live cluster, the estimate for a snapshot
    #[arg(long, value_name = "TIME|estimate")]
    pub now: Option<String>,
}

impl InspectArgs {
    pub fn options(&self) -> Result<Options> {
        let now = match self.now.as_deref() {
            None => Now::Auto,
            Some("estimate") => Now::Estimate,
            Some(t) => Now::At(
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                    .map_err(|e| {
                        Error::invalid(format!("--now {t:?}: {e} (use RFC 3339 or \"estimate\")"))
                    })?
                    .unix_timestamp(),
            ),
        };
        Ok(Options {
            prefix: self.decode.prefix().to_string(),
            event_ttl: self.event_ttl.as_secs() as i64,
            now,
            ..Options::default()
        })
    }

    /// Scans the source and runs every detector. A snapshot's trailer is checked on its own
    /// thread while the scan runs (hashing a big file takes seconds); a file that cannot be
    /// proven intact is warned about before anything is printed, as every reader does.
    pub fn inspect(&self) -> Result<Report> {
        let keyring = self.decode.keyring()?;
        let opts = self.options()?;
        let Some(text) = &self.source.snapshot else {
            return inspect::inspect(self.source.open()?.as_ref(), &keyring, &opts);
        };
        let snapshot = self.source.read.open(text)?;
        std::thread::scope(|s| {
            let check = s.spawn(|| snapshot.unproven_warning());
            let report = inspect::inspect(&snapshot, &keyring, &opts);
            let warning = check
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            if let Some(w) = warning {
                crate::log::warn(&w, &[]);
            }
            report
        })
    }
}

/// What `--apply` needs (shared by `leases revoke` and `stale fix`).
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// Make the changes (live clusters only). Without it: print them and change nothing
    #[arg(long)]
    pub apply: bool,
    /// Append every change (intent and result) to this JSON-lines file
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// Save a snapshot into this directory before changing anything
    #[arg(long, value_name = "DIR")]
    pub snapshot_first: Option<PathBuf>,
    /// Refuse to revoke leases granted or renewed less than this long ago (kube-apiserver may
    /// still attach objects to them)
    #[arg(long, value_name = "DUR", default_value = "90s", value_parser = parse_duration)]
    pub min_age: Duration,
}

/// List the etcd leases with their keys, class and findings
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LeasesArgs {
    #[command(subcommand)]
    pub command: Option<LeasesCommand>,
    /// Only leases of these classes: kubernetes-events, masterleases, peerserverleases, foreign
    #[arg(long, value_delimiter = ',')]
    pub class: Vec<String>,
    #[command(flatten)]
    pub inspect: InspectArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum LeasesCommand {
    /// Revoke leases (hex ids as etcdctl prints them): dry run unless --apply
    Revoke(RevokeArgs),
}

#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    #[command(flatten)]
    pub remediate: RemediateArgs,
}

/// The flags of a command that changes the cluster (`leases revoke`, `stale fix`): how to apply,
/// what to inspect, how to print.
#[derive(Debug, clap::Args)]
pub struct RemediateArgs {
    #[command(flatten)]
    pub apply: ApplyArgs,
    #[command(flatten)]
    pub inspect: InspectArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Findings the `leases` view shows besides the lease findings: leases of keys (classes L5, L6 of
/// `docs/stale-and-leases.md#lease-leak-classes`) and Kubernetes Lease objects.
const KEY_LEASE_CHECKS: &[&str] = &[
    "key-with-missing-lease",
    "event-without-lease",
    "masterlease-without-lease",
    "peerserverlease-without-lease",
    "node-lease-without-node",
    "apiserver-identity-lease-expired",
    "leader-election-lease-stale",
];

pub fn run(args: LeasesArgs) -> Result<()> {
    if let Some(LeasesCommand::Revoke(r)) = args.command {
        return revoke(r);
    }
    let format = args.output.format(TABLE_JSON)?;
    const CLASSES: [&str; 4] = [
        "kubernetes-events",
        "masterleases",
        "peerserverleases",
        "foreign",
    ];
    if let Some(bad) = args.class.iter().find(|c| !CLASSES.contains(&c.as_str())) {
        return Err(Error::invalid(format!(
            "--class {bad}: not a lease class (use {})",
            CLASSES.join(", ")
        )));
    }
    let report = args.inspect.inspect()?;
    let classes = &args.class;
    let leases: Vec<_> = report
        .leases
        .iter()
        .filter(|l| classes.is_empty() || classes.iter().any(|c| c == l.class.label()))
        .collect();
    let listed: std::collections::HashSet<i64> = leases.iter().map(|l| l.id).collect();
    // With --class, only findings about the leases listed, or about keys of those classes.
    let of_classes = |check: &str| match check {
        "event-without-lease" => classes.iter().any(|c| c == "kubernetes-events"),
        "masterlease-without-lease" => classes.iter().any(|c| c == "masterleases"),
        "peerserverlease-without-lease" => classes.iter().any(|c| c == "peerserverleases"),
        _ => false,
    };
    let findings: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| match (classes.is_empty(), f.lease) {
            (true, Some(_)) => true,
            (true, None) => KEY_LEASE_CHECKS.contains(&f.check),
            (false, Some(id)) => listed.contains(&id),
            (false, None) => of_classes(f.check),
        })
        .collect();
    match format {
        OutputFormat::Json => {
            let mut doc = json_header(&report);
            doc.insert("leases".into(), serde_json::json!(leases));
            doc.insert("findings".into(), serde_json::json!(findings));
            print_json(&doc)
        }
        _ => {
            print_header(&report)?;
            print_leases(&leases)?;
            with_stdout(|out| writeln!(out))?;
            print_findings(&findings)
        }
    }
}

fn revoke(args: RevokeArgs) -> Result<()> {
    let r = &args.remediate;
    let format = r.output.format(TABLE_JSON)?;
    let ids = args
        .ids
        .iter()
        .map(|s| inspect::parse_lease_id(s))
        .collect::<Result<Vec<_>>>()?;
    check_apply_target(&r.apply, &r.inspect)?;
    let report = r.inspect.inspect()?;
    let plan = remediate::plan_revoke(&report, &ids)?;
    execute(&plan, &r.apply, &r.inspect, format)
}

pub fn check_apply_target(apply: &ApplyArgs, inspect: &InspectArgs) -> Result<()> {
    if apply.apply && inspect.source.snapshot.is_some() {
        return Err(Error::invalid(
            "--apply changes a live cluster; a snapshot file is never written (drop --snapshot, give --endpoints)",
        ));
    }
    Ok(())
}

/// Prints the plan; with `--apply`, runs it on the cluster and prints what happened. Fails
/// (exit 1) when any step was not carried out. `-o json` prints one document: the plan, and
/// with `--apply` the outcomes.
pub fn execute(
    plan: &Plan,
    apply: &ApplyArgs,
    inspect: &InspectArgs,
    format: OutputFormat,
) -> Result<()> {
    let json = format == OutputFormat::Json;
    if !json {
        print_plan(plan, apply.apply)?;
    }
    if !apply.apply || plan.steps.is_empty() {
        return if json {
            print_json(&plan_json(plan, apply.apply, None))
        } else {
            Ok(())
        };
    }
    let config = inspect.source.connect.resolve()?;
    let runtime = crate::connect::runtime()?;
    if let Some(dir) = &apply.snapshot_first {
        let opts = crate::backup::save::SaveOptions {
            target: crate::backup::save::Target::Locations {
                locations: vec![crate::location::Location::Local(dir.clone())],
                prefix: "before-fix".into(),
            },
            compression: crate::backup::manifest::Compression::Zstd,
            zstd_level: crate::backup::manifest::DEFAULT_ZSTD_LEVEL,
            encryptor: None,
            store_options: Default::default(),
            force: false,
            progress: false,
        };
        crate::backup::save::save_with(&runtime, &config, &opts)?;
    }
    let opts = ApplyOptions {
        audit_log: apply.audit_log.clone(),
        min_lease_age: apply.min_age,
        ..ApplyOptions::default()
    };
    let outcomes = remediate::apply_live(&runtime, &config, plan, opts)?;
    let failed = outcomes.iter().filter(|o| !o.ok()).count();
    if json {
        print_json(&plan_json(plan, true, Some(&outcomes)))?;
    } else {
        print_outcomes(&outcomes)?;
    }
    if failed > 0 {
        return Err(Error::general(format!(
            "{failed} of {} changes were not made (see above); nothing was retried",
            outcomes.len()
        )));
    }
    Ok(())
}

fn print_plan(plan: &Plan, applying: bool) -> Result<()> {
    let lines = remediate::describe(plan);
    let mode = if applying {
        "applying"
    } else {
        "dry run (add --apply to change the cluster)"
    };
    with_stdout(|out| {
        writeln!(out, "# {} operations, {mode}", lines.len())?;
        for l in &lines {
            writeln!(out, "{l}")?;
        }
        Ok(())
    })
}

fn print_outcomes(outcomes: &[remediate::Outcome]) -> Result<()> {
    with_stdout(|out| {
        for o in outcomes {
            let what = match &o.op {
                inspect::EtcdOp::Delete { key, .. } => key.clone(),
                inspect::EtcdOp::Revoke { lease, .. } => format!("lease {lease:016x}"),
            };
            writeln!(out, "{}\t{what}\t{}", o.result, o.message)?;
        }
        Ok(())
    })
}

/// The `-o json` document of a fix or revoke: each operation (as `-o json` findings show their
/// etcd ops), the checks that asked for it, why it is refused; the outcomes once applied.
fn plan_json(
    plan: &Plan,
    applying: bool,
    outcomes: Option<&[remediate::Outcome]>,
) -> serde_json::Value {
    let operations: Vec<serde_json::Value> = plan
        .steps
        .iter()
        .map(|s| {
            serde_json::json!({
                "operation": s.op,
                "checks": s.checks,
                "refused": s.refused,
            })
        })
        .collect();
    let mut doc = serde_json::json!({
        "mode": if applying { "apply" } else { "dry-run" },
        "operations": operations,
    });
    if let Some(outcomes) = outcomes {
        doc["outcomes"] = serde_json::json!(outcomes);
    }
    doc
}
