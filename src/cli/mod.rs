//! The command line: etcdctl/etcdutl-style groups, one file per verb. Every verb returns a
//! [`crate::Result`]; [`main`] turns errors into one line on stderr and etcdctl's exit codes.

mod get;
mod snapshot_restore;
mod snapshot_status;
mod snapshot_verify;
mod source_args;

use clap::{Parser, Subcommand};

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
    /// Read keys from a live cluster or a snapshot file
    Get(get::GetArgs),
}

#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    Status(snapshot_status::StatusArgs),
    Verify(snapshot_verify::VerifyArgs),
    Restore(snapshot_restore::RestoreArgs),
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
    match run(cli) {
        Ok(()) => 0,
        Err(e) => {
            log::error(&e.to_string(), &[]);
            e.exit_code()
        }
    }
}

fn run(cli: Cli) -> crate::Result<()> {
    match cli.command {
        Command::Snapshot(cmd) => match cmd {
            SnapshotCommand::Status(a) => snapshot_status::run(a),
            SnapshotCommand::Verify(a) => snapshot_verify::run(a),
            SnapshotCommand::Restore(a) => snapshot_restore::run(a),
        },
        Command::Get(a) => get::run(a),
    }
}
