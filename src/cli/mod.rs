//! The command line: etcdctl/etcdutl-style groups, one file per verb. Every verb returns a
//! [`crate::Result`]; [`main`] turns errors into one line on stderr and etcdctl's exit codes.

use clap::{Parser, Subcommand};

mod analyze;
mod backup_compact;
mod backup_run;
mod completions;
mod decode;
mod dump;
mod get;
mod get_objects;
mod get_raw;
mod inspect;
pub mod leases;
pub mod location_args;
mod man;
mod snapshot_diff;
pub mod snapshot_list;
pub mod snapshot_prune;
mod snapshot_restore;
pub mod snapshot_save;
mod snapshot_status;
mod snapshot_verify;
mod source_args;
pub mod stale;
mod tui;

use crate::log::{self, LogFormat};

#[derive(Debug, Parser)]
#[command(
    name = "revkeeper",
    version,
    about = "Backup, forward-in-time restore, decoding and inspection of etcd under Kubernetes"
)]
pub struct Cli {
    /// Log format on stderr: text, or json (one object per line)
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t,
        env = "REVKEEPER_LOG_FORMAT"
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Save, inspect, verify and manage snapshots
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// Continuous backups: full snapshots and watch-based delta segments
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Read Kubernetes objects (kubectl-style) or raw keys from a live cluster or a snapshot file
    Get(get::GetArgs),
    /// Decode one stored value (from a file or stdin) to the Kubernetes object
    Decode(decode::DecodeArgs),
    /// Write every Kubernetes object as a YAML file under a directory
    Dump(dump::DumpArgs),
    /// Per-resource counts, sizes, kept revisions and encodings
    Analyze(analyze::AnalyzeArgs),
    /// etcd leases with their keys, owner class and leak findings; `leases revoke ID…`
    Leases(leases::LeasesArgs),
    /// Stale Kubernetes resources and leaked leases, with evidence and fixes; `stale fix`
    Stale(stale::StaleArgs),
    /// `stale` and `leases` in one pass: the findings, then every lease with its keys
    Inspect(inspect::InspectCommandArgs),
    /// Browse a live cluster or a snapshot in the terminal (no source: the bundled sample)
    Tui(tui::TuiArgs),
    /// Print a shell completion script (bash, zsh, fish)
    Completions(completions::CompletionsArgs),
    /// Print the manual page in roff, or write one page per command with --dir
    Man(man::ManArgs),
}

#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Stream a snapshot from the first healthy member: verified, compressed, with a manifest
    Save(snapshot_save::SnapshotSaveArgs),
    /// List the snapshots of a directory (from their manifests)
    List(snapshot_list::SnapshotListArgs),
    /// Delete old snapshots by retention rules (restic-style --keep-*)
    Prune(snapshot_prune::SnapshotPruneArgs),
    /// Show a snapshot's hash, revision, keys, size and version, as etcdutl does
    Status(snapshot_status::StatusArgs),
    /// Check a snapshot's sha256, bbolt structure and etcd data
    Verify(snapshot_verify::VerifyArgs),
    /// Objects added, removed and changed between two snapshots, or a snapshot and a live cluster
    Diff(snapshot_diff::SnapshotDiffArgs),
    /// Restore a snapshot into a new member's data dir, optionally moving time forward
    Restore(snapshot_restore::RestoreArgs),
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Follow a live etcd: a full snapshot, then delta segments, until SIGTERM
    Run(Box<backup_run::BackupRunArgs>),
    /// Fold a full snapshot and its delta segments into a new full snapshot
    Compact(Box<backup_compact::BackupCompactArgs>),
}

/// Parses arguments, runs the command, and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                crate::ErrorKind::InvalidInput.exit_code()
            } else {
                0
            };
        }
    };
    log::init(cli.log_format);
    if stops_by_signal(&cli.command)
        && let Err(e) = crate::interrupt::install()
    {
        log::error(&e.to_string(), &[]);
        return e.exit_code();
    }
    match run(cli) {
        Ok(()) => 0,
        Err(e) => {
            log::error(&e.to_string(), &[]);
            e.exit_code()
        }
    }
}

/// Every command but those that stop their own work on a signal: `snapshot save` aborts its
/// stream and removes its partial file, `backup run` writes its open segment, `tui` restores
/// the terminal.
fn stops_by_signal(command: &Command) -> bool {
    !matches!(
        command,
        Command::Snapshot(SnapshotCommand::Save(_))
            | Command::Backup(BackupCommand::Run(_))
            | Command::Tui(_)
    )
}

fn run(cli: Cli) -> crate::Result<()> {
    let Cli {
        log_format,
        command,
    } = cli;
    match command {
        Command::Snapshot(cmd) => match cmd {
            SnapshotCommand::Save(args) => snapshot_save::run(args, log_format),
            SnapshotCommand::List(args) => snapshot_list::run(args),
            SnapshotCommand::Prune(args) => snapshot_prune::run(args),
            SnapshotCommand::Status(args) => snapshot_status::run(args),
            SnapshotCommand::Verify(args) => snapshot_verify::run(args),
            SnapshotCommand::Diff(args) => snapshot_diff::run(args),
            SnapshotCommand::Restore(args) => snapshot_restore::run(args),
        },
        Command::Backup(BackupCommand::Run(args)) => backup_run::run(*args),
        Command::Backup(BackupCommand::Compact(args)) => backup_compact::compact(*args),
        Command::Get(args) => {
            crate::connect::set_key_flag("--key-file");
            get::run(args)
        }
        Command::Decode(args) => decode::run(args),
        Command::Dump(args) => dump::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Leases(args) => leases::run(args),
        Command::Stale(args) => stale::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Tui(args) => tui::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    }
}
