//! `--snapshot FILE` or the connection flags: how every reading command picks its source. Also
//! `--rev`, read the same way for both sources.

use clap::parser::ValueSource;

use super::location_args::ReadArgs;
use crate::Result;
use crate::connect::ConnectArgs;
use crate::source::{LiveSource, Source};

#[derive(Debug)]
pub struct SourceArgs {
    pub snapshot: Option<String>,
    pub read: ReadArgs,
    pub connect: ConnectArgs,
}

/// The flags as clap sees them; [`SourceArgs`] adds the check clap's `conflicts_with` cannot
/// make: it counts `ETCDCTL_*` variables as given, and those may stay set beside `--snapshot`.
#[derive(clap::Args)]
#[group(id = "SourceArgs")]
struct Flags {
    /// Read a snapshot instead of a live cluster: a file (`.db`, `.db.zst`, `.age`), an object
    /// URL (s3://BUCKET/PREFIX/FILE, gs://, az://), or a directory/bucket with --latest
    #[arg(long, value_name = "FILE|URL")]
    snapshot: Option<String>,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    connect: ConnectArgs,
}

impl clap::Args for SourceArgs {
    fn group_id() -> Option<clap::Id> {
        Flags::group_id()
    }
    fn augment_args(cmd: clap::Command) -> clap::Command {
        Flags::augment_args(cmd)
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Flags::augment_args_for_update(cmd)
    }
}

impl clap::FromArgMatches for SourceArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> std::result::Result<Self, clap::Error> {
        snapshot_alone(matches)?;
        let Flags {
            snapshot,
            read,
            connect,
        } = Flags::from_arg_matches(matches)?;
        Ok(SourceArgs {
            snapshot,
            read,
            connect,
        })
    }
    fn update_from_arg_matches(
        &mut self,
        matches: &clap::ArgMatches,
    ) -> std::result::Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

/// `--snapshot` with a connection flag on the command line: one of them would be ignored.
fn snapshot_alone(matches: &clap::ArgMatches) -> std::result::Result<(), clap::Error> {
    offline_alone(
        matches,
        "snapshot",
        "--snapshot cannot be used with",
        "a snapshot is read offline (give one source; ETCDCTL_* variables may stay set)",
    )
}

/// An offline source (argument `id`) with a connection flag on the command line: one of them
/// would be ignored. The error reads "{what} --FLAG: {why}".
pub(super) fn offline_alone(
    matches: &clap::ArgMatches,
    id: &str,
    what: &str,
    why: &str,
) -> std::result::Result<(), clap::Error> {
    let on_command_line = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    if !on_command_line(id) {
        return Ok(());
    }
    let flags = <ConnectArgs as clap::Args>::augment_args(clap::Command::new("connect"));
    let Some(given) = flags
        .get_arguments()
        .find(|a| on_command_line(a.get_id().as_str()))
    else {
        return Ok(());
    };
    // `get` renames the TLS `--key` to `--key-file` (its `--key` is the etcd key).
    let name = match given.get_long().unwrap_or_default() {
        "key" => "key/--key-file",
        long => long,
    };
    Err(clap::Error::raw(
        clap::error::ErrorKind::ArgumentConflict,
        format!("{what} --{name}: {why}"),
    ))
}

/// `--rev N` as etcdctl reads it: 0 means the latest revision; a negative one is refused.
pub fn parse_rev(s: &str) -> std::result::Result<i64, String> {
    match s.parse::<i64>() {
        Ok(r) if r >= 0 => Ok(r),
        _ => Err("a revision is a positive number, or 0 for the latest (as in etcdctl)".into()),
    }
}

/// The revision `--rev` asks for: `None` (the latest) when absent or 0.
pub fn requested_rev(rev: Option<i64>) -> Option<i64> {
    rev.filter(|r| *r != 0)
}

impl SourceArgs {
    pub fn open(&self) -> Result<Box<dyn Source>> {
        if let Some(text) = &self.snapshot {
            return Ok(Box::new(self.read.open_for_reading(text)?));
        }
        let config = self.connect.resolve()?;
        Ok(Box::new(LiveSource::connect(&config)?))
    }
}
