//! `revkeeper snapshot prune LOCATION --keep-…`: retention over a directory or bucket of
//! snapshots.

use serde::Serialize;
use serde_json::json;

use super::location_args::StoreArgs;
use crate::backup::chain;
use crate::backup::prune::{self, Action, Policy};
use crate::error::Result;
use crate::log;
use crate::output::{OutputArgs, OutputFormat, TABLE_JSON, print_json, print_table};

const AFTER_HELP: &str = "\
A dry run unless --apply: prints every decision with its reason and deletes nothing.
Rules are OR-combined (restic semantics, UTC buckets): a snapshot kept by any rule is kept, and
the newest snapshot and the highest revision of each cluster are always kept. Only files
described by a revkeeper manifest, and delta segments of `backup run`, are ever deleted;
anything else in LOCATION is left alone. A delta segment is kept when it comes after a kept
full snapshot of its chain, so every kept segment can still be restored.
Exit codes: 0 ok, 1 error, 2 bucket unreachable, 3 invalid input (no keep rule, missing DIR or
bucket), 4 access denied.";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct SnapshotPruneArgs {
    /// Directory or bucket URL (s3://, gs://, az://, file://) holding the snapshots
    #[arg(value_name = "LOCATION")]
    pub dir: String,

    /// Keep the N newest snapshots
    #[arg(long, value_name = "N")]
    pub keep_last: Option<u32>,
    /// Keep the newest snapshot of each of the N newest hours that have one
    #[arg(long, value_name = "N")]
    pub keep_hourly: Option<u32>,
    /// Keep the newest snapshot of each of the N newest days that have one
    #[arg(long, value_name = "N")]
    pub keep_daily: Option<u32>,
    /// Keep the newest snapshot of each of the N newest ISO weeks that have one
    #[arg(long, value_name = "N")]
    pub keep_weekly: Option<u32>,
    /// Keep the newest snapshot of each of the N newest months that have one
    #[arg(long, value_name = "N")]
    pub keep_monthly: Option<u32>,
    /// Keep the newest snapshot of each of the N newest years that have one
    #[arg(long, value_name = "N")]
    pub keep_yearly: Option<u32>,

    /// Only consider snapshots whose file name starts with PREFIX-
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,

    /// Delete what the rules do not keep. Without it: print the plan and delete nothing
    #[arg(long)]
    pub apply: bool,

    /// Print what would be removed; delete nothing (the default; kept for scripts)
    #[arg(long, conflicts_with = "apply")]
    pub dry_run: bool,

    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    action: &'static str,
    file: &'a str,
    path: String,
    started_at: &'a str,
    revision: i64,
    cluster_id: &'a str,
    reasons: &'a [String],
}

fn segment_action(keep: bool, dry_run: bool) -> &'static str {
    match (keep, dry_run) {
        (true, _) => "keep",
        (false, true) => "would-remove",
        (false, false) => "remove",
    }
}

fn action_name(a: Action, dry_run: bool) -> &'static str {
    match (a, dry_run) {
        (Action::Keep, _) => "keep",
        (Action::Remove, false) => "remove",
        (Action::Remove, true) => "would-remove",
        (Action::RemoveManifest, false) => "remove-manifest",
        (Action::RemoveManifest, true) => "would-remove-manifest",
    }
}

pub fn run(args: SnapshotPruneArgs) -> Result<()> {
    let format = args.output.format(TABLE_JSON)?;
    let policy = Policy {
        last: args.keep_last.unwrap_or(0),
        hourly: args.keep_hourly.unwrap_or(0),
        daily: args.keep_daily.unwrap_or(0),
        weekly: args.keep_weekly.unwrap_or(0),
        monthly: args.keep_monthly.unwrap_or(0),
        yearly: args.keep_yearly.unwrap_or(0),
    };
    let dry_run = !args.apply;
    let store = args.store.open(&args.dir)?;
    let (items, skipped) = prune::plan_location(&store, &policy, args.prefix.as_deref())?;
    for (path, why) in &skipped {
        log::warn(
            "ignoring manifest (its files will not be touched)",
            &[("file", json!(path)), ("reason", json!(why))],
        );
    }
    for item in &items {
        let msg = match action_name(item.action, dry_run) {
            "keep" => "keep",
            "remove" | "remove-manifest" => "remove",
            _ => "would remove",
        };
        log::info(
            msg,
            &[
                ("file", json!(item.entry.manifest.file)),
                ("reason", json!(item.reasons.join("; "))),
            ],
        );
    }
    let kept: Vec<(String, i64)> = items
        .iter()
        .filter(|i| i.action == Action::Keep)
        .map(|i| {
            (
                i.entry.manifest.cluster_id.clone(),
                i.entry.manifest.revision,
            )
        })
        .collect();
    let segments = chain::plan_segments(&store, &kept, args.prefix.as_deref())?;
    for s in &segments {
        log::info(
            match (s.keep, dry_run) {
                (true, _) => "keep",
                (false, true) => "would remove",
                (false, false) => "remove",
            },
            &[("file", json!(s.segment.name)), ("reason", json!(s.reason))],
        );
    }
    let removed = if dry_run {
        0
    } else {
        // Snapshots first: a segment is removed only once no kept snapshot could need it.
        let removed = prune::execute(&store, &items)?;
        for s in segments.iter().filter(|s| !s.keep) {
            store.delete(&s.segment.name)?;
        }
        removed
    };
    let kept = items.iter().filter(|i| i.action == Action::Keep).count();
    let to_remove = items.iter().filter(|i| i.action == Action::Remove).count();
    log::info(
        if dry_run {
            "prune dry run: nothing deleted (add --apply to delete)"
        } else {
            "prune done"
        },
        &[
            ("location", json!(store.location().to_string())),
            ("policy", json!(policy.describe())),
            ("kept", json!(kept)),
            ("removed", json!(removed)),
            ("would_remove", json!(if dry_run { to_remove } else { 0 })),
        ],
    );
    match format {
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|i| {
                    vec![
                        action_name(i.action, dry_run).to_string(),
                        i.entry.manifest.file.clone(),
                        crate::timefmt::rfc3339(i.entry.started),
                        i.entry.manifest.revision.to_string(),
                        i.reasons.join("; "),
                    ]
                })
                .collect();
            let mut rows = rows;
            rows.extend(segments.iter().map(|s| {
                vec![
                    segment_action(s.keep, dry_run).to_string(),
                    s.segment.name.clone(),
                    crate::timefmt::rfc3339(s.segment.parsed.last_time),
                    format!("{}–{}", s.segment.parsed.first, s.segment.parsed.last),
                    s.reason.clone(),
                ]
            }));
            print_table(
                &["ACTION", "SNAPSHOT", "TAKEN (UTC)", "REVISION", "WHY"],
                &rows,
            )?;
        }
        _ => {
            let list: Vec<JsonItem> = items
                .iter()
                .map(|i| JsonItem {
                    action: action_name(i.action, dry_run),
                    file: &i.entry.manifest.file,
                    path: i.entry.path.clone(),
                    started_at: &i.entry.manifest.started_at,
                    revision: i.entry.manifest.revision,
                    cluster_id: &i.entry.manifest.cluster_id,
                    reasons: &i.reasons,
                })
                .collect();
            let segs: Vec<serde_json::Value> = segments
                .iter()
                .map(|s| {
                    json!({
                        "action": segment_action(s.keep, dry_run),
                        "file": s.segment.name,
                        "first_revision": s.segment.parsed.first,
                        "last_revision": s.segment.parsed.last,
                        "reasons": [s.reason],
                    })
                })
                .collect();
            print_json(&json!({ "dry_run": dry_run, "snapshots": list, "segments": segs }))?;
        }
    }
    Ok(())
}
