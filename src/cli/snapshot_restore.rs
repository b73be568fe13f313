//! `revkeeper snapshot restore FILE`: etcdutl's flags and defaults, done natively.

use std::path::PathBuf;

use super::location_args::ReadArgs;
use crate::backup::chain::Point;
use crate::output::{OutputArgs, OutputFormat, TABLE_JSON, print_json, print_table};
use crate::restore::{RestoreRequest, restore};
use crate::{Result, log};

/// Restore a snapshot into a new member's data dir, optionally moving time forward.
///
/// With `--bump-revision N --mark-compacted` the new cluster starts N revisions after the
/// snapshot and answers "compacted" for every older revision, so Kubernetes informers and the
/// apiserver watch cache relist (410 Gone) instead of missing changes. Bump by more than the
/// number of writes the lost cluster made after the snapshot: 1000000000 covers a week at
/// 1500 writes/s. Restore every member of a cluster from the same file with the same flags.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// Snapshot: a file (`.db`, `.db.zst`, `.age`), an object URL (s3://BUCKET/PREFIX/FILE,
    /// gs://, az://), or a directory or bucket URL with --latest
    #[arg(value_name = "SNAPSHOT")]
    pub file: String,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Restore the state at this revision, from the full snapshots and delta segments of the
    /// location (`backup run`); SNAPSHOT is then the directory or bucket
    #[arg(long, value_name = "N", conflicts_with_all = ["to_time", "latest"])]
    pub to_revision: Option<i64>,
    /// Restore the state at this time (RFC 3339): the last revision received at or before it
    #[arg(long, value_name = "RFC3339", value_parser = parse_time, conflicts_with = "latest")]
    pub to_time: Option<time::OffsetDateTime>,
    /// Data dir to create (must be absent or empty) [default: <name>.etcd]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Separate WAL dir (must be absent or empty) [default: <data-dir>/member/wal]
    #[arg(long)]
    pub wal_dir: Option<PathBuf>,
    /// Name of the member being restored
    #[arg(long, default_value = "default")]
    pub name: String,
    /// The new cluster: name=peerURL,…
    #[arg(long, default_value = "default=http://localhost:2380")]
    pub initial_cluster: String,
    /// Token of the new cluster (members restored with other tokens will not join)
    #[arg(long, default_value = "etcd-cluster")]
    pub initial_cluster_token: String,
    /// This member's peer URLs, comma-separated
    #[arg(long, default_value = "http://localhost:2380")]
    pub initial_advertise_peer_urls: String,
    /// Restore a file without (or with a wrong) sha256 trailer, e.g. a copied member/snap/db
    #[arg(long)]
    pub skip_hash_check: bool,
    /// Move the revision this far forward (requires --mark-compacted)
    #[arg(long, default_value_t = 0)]
    pub bump_revision: u64,
    /// Mark every revision up to the bumped one as compacted (requires --bump-revision)
    #[arg(long)]
    pub mark_compacted: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn parse_time(text: &str) -> std::result::Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{text:?} is not an RFC 3339 time (e.g. 2026-12-04T03:15:00Z): {e}"))
}

pub fn run(args: RestoreArgs) -> Result<()> {
    let format = args.output.format(TABLE_JSON)?;
    let req = RestoreRequest {
        snapshot: args.file,
        open: args.read.options(),
        point: match (args.to_revision, args.to_time) {
            (Some(r), _) => Some(Point::Revision(r)),
            (None, Some(t)) => Some(Point::Time(t)),
            _ => None,
        },
        data_dir: args.data_dir,
        wal_dir: args.wal_dir,
        initial_cluster: args.initial_cluster,
        name: args.name,
        initial_cluster_token: args.initial_cluster_token,
        initial_advertise_peer_urls: args.initial_advertise_peer_urls,
        skip_hash_check: args.skip_hash_check,
        bump_revision: args.bump_revision,
        mark_compacted: args.mark_compacted,
    };
    let s = restore(&req)?;
    log::info(
        "restored",
        &[
            ("data_dir", s.data_dir.display().to_string().into()),
            ("member", s.member_id.clone().into()),
            ("revision", s.revision.into()),
        ],
    );
    match format {
        OutputFormat::Json => print_json(&s),
        _ => {
            let row = vec![
                s.name.clone(),
                s.member_id.clone(),
                s.cluster_id.clone(),
                s.snapshot_revision.to_string(),
                s.revision.to_string(),
                s.compact_revision.to_string(),
                s.keys.to_string(),
                s.data_dir.display().to_string(),
            ];
            print_table(
                &[
                    "NAME",
                    "MEMBER ID",
                    "CLUSTER ID",
                    "SNAPSHOT REV",
                    "REVISION",
                    "COMPACTED",
                    "KEYS",
                    "DATA DIR",
                ],
                &[row],
            )
        }
    }
}
