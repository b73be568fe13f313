//! `revkeeper snapshot diff A [B]`: the objects added, removed and changed from snapshot A to
//! snapshot B, or to the live cluster the connection flags name when B is left out. The work
//! is [`crate::diff::compare`]; the printing is [`crate::output::diff`].

use super::location_args::ReadArgs;
use super::source_args::offline_alone;
use crate::connect::ConnectArgs;
use crate::decode::{DecodeOptions, Failures};
use crate::diff::{DiffOptions, Scope, compare};
use crate::output::diff::{DiffPrinter, DiffView};
use crate::output::{OutputArgs, OutputFormat, Stdout, TABLE_JSON};
use crate::printers::discovery;
use crate::source::{LiveSource, Source};
use crate::{Error, Result, log};

/// Objects added, removed and changed between two snapshots, or a snapshot and a live cluster.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Objects are compared decoded: a value re-encrypted, or re-encoded (JSON -> protobuf), with the
same content is not a change. Keys that are not objects of a known resource (compact_rev_key,
<prefix>/ranges/...) are compared byte for byte as \"(other keys)\". Both sources are read once,
side by side in key order.

Exit code 0 whether or not they differ (read -o json in scripts); 1 when a changed value could
not be decoded (named on stderr, counted as changed); 2-5 as for every command when a source
cannot be read.

Examples:
  revkeeper snapshot diff etcd-0100.db.zst etcd-0200.db.zst
  revkeeper snapshot diff last-night.db.zst --endpoints https://10.0.0.5:2379 --cacert ca.pem
  revkeeper snapshot diff a.db b.db --resource deploy -n prod --show")]
pub struct SnapshotDiffArgs {
    /// The older snapshot: a file (`.db`, `.db.zst`, `.age`), an object URL
    /// (s3://BUCKET/PREFIX/FILE, gs://, az://), or a directory or bucket URL with --latest
    #[arg(value_name = "A")]
    pub from: String,
    /// Only this resource, named as `get` names it: pods, deploy, nodes,
    /// certificates.cert-manager.io (custom resources through either source's CRDs)
    #[arg(long, value_name = "RESOURCE")]
    pub resource: Option<String>,
    /// Only objects in this namespace [default: every namespace and the cluster-scoped objects]
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Print a unified diff of each changed object's YAML (added and removed objects whole)
    #[arg(long)]
    pub show: bool,
    /// With --show: print Secrets' data, stringData and last-applied annotation as stored
    /// (redacted by default, and "(redacted, changed)" where they differ)
    #[arg(long, requires = "show")]
    pub show_secrets: bool,
    /// With --show: keep metadata.managedFields (hidden by default, as kubectl diff does)
    #[arg(long, requires = "show")]
    pub show_managed_fields: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub decoding: DecodeOptions,
    #[command(flatten)]
    pub read: ReadArgs,
    /// B and the connection flags, last: their help heading applies to what follows them.
    #[command(flatten)]
    pub to: SecondSource,
}

/// B: a second snapshot, or the connection flags of a live cluster.
#[derive(Debug)]
pub struct SecondSource {
    pub snapshot: Option<String>,
    pub connect: ConnectArgs,
}

/// The flags as clap sees them; [`SecondSource`] adds the check clap's `conflicts_with`
/// cannot make: it counts `ETCDCTL_*` variables as given, and those may stay set beside B.
#[derive(clap::Args)]
#[group(id = "SecondSource")]
struct Flags {
    /// The newer snapshot, as A; left out: the live cluster the connection flags name
    #[arg(value_name = "B")]
    snapshot: Option<String>,
    #[command(flatten)]
    connect: ConnectArgs,
}

impl clap::Args for SecondSource {
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

impl clap::FromArgMatches for SecondSource {
    fn from_arg_matches(matches: &clap::ArgMatches) -> std::result::Result<Self, clap::Error> {
        offline_alone(
            matches,
            "snapshot",
            "a second snapshot B cannot be used with",
            "B is either a snapshot or the live cluster the connection flags name \
             (ETCDCTL_* variables may stay set)",
        )?;
        let Flags { snapshot, connect } = Flags::from_arg_matches(matches)?;
        Ok(SecondSource { snapshot, connect })
    }
    fn update_from_arg_matches(
        &mut self,
        matches: &clap::ArgMatches,
    ) -> std::result::Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

pub fn run(args: SnapshotDiffArgs) -> Result<()> {
    let format = args.output.format(TABLE_JSON)?;
    if args.read.latest && args.to.snapshot.is_some() {
        return Err(Error::invalid(
            "--latest reads the newest snapshot of a location, so A and B would be the same: \
             name the snapshots, or leave B out to compare the newest one with the live cluster",
        ));
    }
    let keyring = args.decoding.keyring()?;
    let prefix = args.decoding.prefix();
    let from = args.read.open_for_reading(&args.from)?;
    let to: Box<dyn Source> = match &args.to.snapshot {
        Some(b) => Box::new(args.read.open_for_reading(b)?),
        None => Box::new(LiveSource::connect(&args.to.connect.resolve()?)?),
    };
    let scope = match &args.resource {
        Some(name) => {
            // A custom resource may exist in one source only: its CRD is looked up in A, then B.
            let resolved =
                discovery::resolve(&from, name, prefix, &keyring, None).or_else(|e| {
                    discovery::resolve(to.as_ref(), name, prefix, &keyring, None).map_err(|_| e)
                })?;
            Scope::resource(prefix, &resolved.target, args.namespace.as_deref())
        }
        None => Scope::everything(prefix).in_namespace(args.namespace.as_deref()),
    };
    let view = DiffView {
        show: args.show,
        show_secrets: args.show_secrets,
        show_managed_fields: args.show_managed_fields,
    };
    let (from_name, to_name) = (
        from.description_and_revision()?.0,
        to.description_and_revision()?.0,
    );
    let opts = DiffOptions {
        scope,
        keyring: &keyring,
        whole_objects: args.show,
    };
    let mut out = Stdout::new();
    let json = format == OutputFormat::Json;
    let mut printer = DiffPrinter::begin(&mut out, json, view, &from_name, &to_name)?;
    let mut failures = Failures::default();
    let compared = compare(&from, to.as_ref(), &opts, &mut |entry| {
        if let Some(why) = &entry.undecodable {
            failures.fail(entry.key, why);
        }
        printer.entry(&mut out, entry)?;
        if out.closed() {
            return Err(Error::general("output closed"));
        }
        Ok(())
    });
    if out.closed() {
        return Ok(());
    }
    let summary = compared?;
    printer.end(&mut out, &summary)?;
    out.finish()?;
    if summary.is_empty() && !json {
        log::info(
            &format!("no differences between {from_name} and {to_name}"),
            &[],
        );
    }
    failures.total = summary.decoded + summary.undecodable;
    failures.newer = summary.newer;
    failures.finish()
}
