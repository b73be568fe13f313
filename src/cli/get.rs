//! `revkeeper get`: Kubernetes objects kubectl-style (`get RESOURCE [NAME]`), or raw keys
//! etcdctl-style (`get --key KEY | --prefix PREFIX`), from a live cluster or a snapshot.
//!
//! Output: for RESOURCE, `-o table` (default) | `wide` | `name` | `json` | `yaml` | `jsonl` |
//! `custom-columns=…` | `jsonpath=…`, decoded; tables have kube-apiserver's columns
//! (`crate::printers`) and kubectl's `-l`, `--sort-by`, `-L`, `--show-labels`, `--no-headers`;
//! `--for-apply -o yaml|json` prints objects for `kubectl apply`. For `--key/--prefix`, `-w
//! simple` (default: key and value lines, raw bytes), `-w table` and `-w json` print etcd's
//! records as etcdctl does (`--print-value-only`, `--keys-only`); `--decode`, or any object
//! format, prints the decoded objects instead.

use revkeeper_formats::k8s::key::{ObjectKey, key_prefix, object_key};
use revkeeper_formats::k8s::resources::Target;

use super::get_objects::{UserFormat, View, history, many, one};
use super::get_raw;
use super::source_args::{SourceArgs, parse_rev, requested_rev};
use crate::decode::DecodeOptions;
use crate::decode::jsonl::BeforeOutput;
use crate::output::{OutputArgs, OutputFormat};
use crate::printers::custom_columns::CustomColumns;
use crate::printers::fields::FieldSelector;
use crate::printers::for_apply::ForApply;
use crate::printers::jsonpath::JsonPath;
use crate::printers::jsonpath::template::Template;
use crate::printers::labels::Selector;
use crate::printers::{Printer, TableOptions, discovery, now};
use crate::source::{KeyRange, RangeQuery, SnapshotSource, Source};
use crate::{Error, Result};

/// The formats of decoded objects; table when none is given.
const FORMATS: &[OutputFormat] = &[
    OutputFormat::Table,
    OutputFormat::Wide,
    OutputFormat::Name,
    OutputFormat::Json,
    OutputFormat::Yaml,
    OutputFormat::Jsonl,
    OutputFormat::CustomColumns,
    OutputFormat::JsonPath,
];

/// etcdctl's formats of raw keys (`--key/--prefix` without `--decode`); simple when none is
/// given, as etcdctl's default.
pub(super) const RAW_FORMATS: &[OutputFormat] = &[
    OutputFormat::Simple,
    OutputFormat::Table,
    OutputFormat::Json,
];

/// The formats of `--for-apply`; yaml when none is given.
const APPLY_FORMATS: &[OutputFormat] = &[OutputFormat::Yaml, OutputFormat::Json];

/// Read Kubernetes objects (`get pods -n NS`, `get deploy web -o yaml`) or raw keys
/// (`get --key KEY`, `get --prefix PREFIX`, like etcdctl) from a live cluster or a snapshot.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["resource", "etcd-key", "prefix"])))]
// `--key` names the etcd key here, so the TLS client key is `--key-file` (or ETCDCTL_KEY).
#[command(mut_arg("key", |a| a.long("key-file")))]
pub struct GetArgs {
    /// A resource as kubectl names it: pods, svc, deploy, nodes, certificates.cert-manager.io, cert-manager.io/certificates
    #[arg(value_name = "RESOURCE")]
    pub resource: Option<String>,
    /// One object of RESOURCE
    #[arg(value_name = "NAME", requires = "resource")]
    pub name: Option<String>,
    /// Namespace of namespaced resources [default: default]
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Every namespace
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub all_namespaces: bool,
    /// One key (raw, as etcdctl; see --decode)
    #[arg(long = "key", id = "etcd-key", value_name = "KEY")]
    pub key: Option<String>,
    /// Every key under this prefix ("" for all keys; raw, as etcdctl; see --decode)
    #[arg(long)]
    pub prefix: Option<String>,
    /// Print keys only, not values (--key/--prefix; -w simple, table or json)
    #[arg(long, conflicts_with_all = ["resource", "decode"])]
    pub keys_only: bool,
    /// Print values only, as raw bytes, one per line (--key/--prefix, -w simple), as
    /// etcdctl's: `get --key K --print-value-only | revkeeper decode`
    #[arg(long, conflicts_with_all = ["resource", "decode", "keys_only", "history"])]
    pub print_value_only: bool,
    /// With --key/--prefix: print the decoded objects instead of etcd's records
    #[arg(long)]
    pub decode: bool,
    /// Read at this revision instead of the latest (must not be compacted; 0: the latest)
    #[arg(long, value_name = "REV", allow_negative_numbers = true, value_parser = parse_rev)]
    pub rev: Option<i64>,
    /// Every revision the source keeps of one object (RESOURCE NAME, or --key)
    #[arg(long, conflicts_with_all = ["rev", "prefix", "keys_only"])]
    pub history: bool,
    /// Only objects whose labels match, as kubectl's -l: `app=web`, `tier!=db`,
    /// `env in (prod,qa)`, `env notin (dev)`, `canary`, `!canary` (comma: and)
    #[arg(short = 'l', long, value_name = "SELECTOR", conflicts_with_all = ["name", "history"])]
    pub selector: Option<String>,
    /// Only objects whose fields match, as kubectl's --field-selector: `metadata.name`,
    /// `metadata.namespace`, `status.phase` with `=`, `==`, `!=` (comma: and)
    #[arg(long, value_name = "SELECTOR", conflicts_with_all = ["name", "history"])]
    pub field_selector: Option<String>,
    /// Order the rows (or the items of -o json|yaml|jsonl) by a JSONPath, as kubectl's:
    /// `.metadata.creationTimestamp`, `{.status.phase}`
    #[arg(long, value_name = "JSONPATH", conflicts_with = "history")]
    pub sort_by: Option<String>,
    /// Print tables without their header line
    #[arg(long)]
    pub no_headers: bool,
    /// Add a LABELS column with every label of the object (the last column)
    #[arg(long, conflicts_with = "history")]
    pub show_labels: bool,
    /// Add a column for each of these label keys, headed by the key's last segment (repeat
    /// or separate with commas)
    #[arg(
        short = 'L',
        long = "label-columns",
        value_name = "KEY",
        value_delimiter = ',',
        conflicts_with = "history"
    )]
    pub label_columns: Vec<String>,
    /// Keep metadata.managedFields in -o json|yaml|custom-columns|jsonpath (hidden by
    /// default, as kubectl does)
    #[arg(long)]
    pub show_managed_fields: bool,
    /// Print objects ready for `kubectl apply -f -` (-o yaml, the default, or json): what the
    /// API server and controllers set is removed (rules: docs/for-apply.md)
    #[arg(long, conflicts_with_all = ["history", "show_managed_fields", "keys_only"])]
    pub for_apply: bool,
    /// With --for-apply: keep metadata.ownerReferences (the owners exist with the same uids)
    #[arg(long, requires = "for_apply")]
    pub keep_owners: bool,
    /// With --for-apply: keep PVCs' spec.volumeName and PVs' spec.claimRef (by name)
    #[arg(long, requires = "for_apply")]
    pub keep_bindings: bool,
    /// Add how etcd stores each object: ENCODING (protobuf, json, cbor, encrypted:PROVIDER:KEY+…),
    /// SIZE of the stored value, REVISION it was last written at
    #[arg(long, conflicts_with = "history")]
    pub show_etcd: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub decoding: DecodeOptions,
    #[command(flatten)]
    pub source: SourceArgs,
}

pub fn run(mut args: GetArgs) -> Result<()> {
    args.rev = requested_rev(args.rev);
    let chosen = args.output.chosen();
    let raw = args.resource.is_none()
        && !args.decode
        && !args.history
        && !args.for_apply
        && chosen.is_none_or(|f| RAW_FORMATS.contains(&f));
    let raw_flag = match (args.keys_only, args.print_value_only) {
        (true, _) => Some("--keys-only"),
        (_, true) => Some("--print-value-only"),
        _ => None,
    };
    if let (Some(flag), false) = (raw_flag, raw) {
        let why = match (args.for_apply, chosen) {
            (true, _) => "--for-apply".to_string(),
            (_, Some(f)) => format!("-o {}", f.name()),
            (_, None) => "decoded objects".to_string(),
        };
        return Err(Error::invalid(format!(
            "{flag} cannot be used with {why}: it prints etcd's records, not objects (use -w \
             simple, table or json, etcdctl's formats)"
        )));
    }
    let object_flags = args.selector.is_some()
        || args.field_selector.is_some()
        || args.sort_by.is_some()
        || args.no_headers
        || args.show_labels
        || !args.label_columns.is_empty()
        || args.show_etcd;
    if raw && object_flags {
        return Err(Error::invalid(
            "-l, --field-selector, --sort-by, --no-headers, --show-labels, -L and --show-etcd work on decoded \
             objects: name a RESOURCE, or add --decode to --key/--prefix",
        ));
    }
    if raw {
        let format = args.output.format(RAW_FORMATS)?;
        return get_raw::run(args, format);
    }
    let format = if args.for_apply {
        args.output.format(APPLY_FORMATS).map_err(|_| {
            Error::invalid(format!(
                "--for-apply cannot be used with -o {}: it prints objects for kubectl apply \
                 (use -o yaml, the default, or -o json)",
                chosen.map_or("", OutputFormat::name)
            ))
        })?
    } else {
        args.output.format(FORMATS)?
    };
    let user_format = user_format(&args, format)?;
    let selector = args
        .selector
        .as_deref()
        .map(Selector::parse)
        .transpose()
        .map_err(Error::invalid)?;
    let fields = args
        .field_selector
        .as_deref()
        .map(FieldSelector::parse)
        .transpose()
        .map_err(Error::invalid)?;
    let sort_by = args
        .sort_by
        .as_deref()
        .map(JsonPath::parse)
        .transpose()
        .map_err(|e| Error::invalid(format!("--sort-by: {e}")))?;
    // `-o jsonl` over a snapshot streams: the file's trailer is checked while it decodes, and
    // the verdict printed before the first line (`decode::jsonl`); every other output checks it
    // first.
    let streamed = format == OutputFormat::Jsonl && args.sort_by.is_none() && !args.history;
    let (snapshot, live);
    let (source, unchecked): (&dyn Source, Option<&SnapshotSource>) = match &args.source.snapshot {
        Some(text) if streamed => {
            snapshot = args.source.read.open(text)?;
            (&snapshot, Some(&snapshot))
        }
        _ => {
            live = args.source.open()?;
            (live.as_ref(), None)
        }
    };
    let keys = args.decoding.keyring()?;
    let prefix = args.decoding.prefix().to_string();
    let namespace = args.namespace.clone().unwrap_or_else(|| "default".into());
    let resolved = match &args.resource {
        Some(r) => {
            let resolved = discovery::resolve(source, r, &prefix, &keys, args.rev)?;
            for (column, why) in &resolved.unsupported {
                crate::log::warn(
                    &format!("{r}: the CRD's column {column} is left empty: {why}"),
                    &[],
                );
            }
            Some(resolved)
        }
        None => None,
    };
    // What to read: one key (or the candidates for it), or a prefix and which keys to keep.
    let plan = match (&resolved, &args.key, &args.prefix) {
        (Some(r), _, _) => plan_for(
            &r.target,
            args.name.as_deref(),
            &namespace,
            args.all_namespaces,
            &prefix,
        ),
        (None, Some(k), _) => Plan::One {
            keys: vec![k.clone()],
            shown: k.clone(),
        },
        (None, None, p) => Plan::Many {
            prefix: p.clone().unwrap_or_default(),
            keep: Keep::All,
        },
    };
    let tabular = matches!(format, OutputFormat::Table | OutputFormat::Wide) && !args.history;
    let reference = if tabular {
        let live = args.source.snapshot.is_none();
        let reference = now::reference_time(source, live, args.rev, &prefix, &keys)?;
        if let Some(note) = &reference.estimated {
            crate::log::info(note, &[]);
        }
        reference.now
    } else {
        time::OffsetDateTime::now_utc()
    };
    let wide = format == OutputFormat::Wide;
    let (printer, with_namespace, show_etcd) = match resolved {
        Some(r) => (
            r.printer,
            args.all_namespaces && r.target.namespaced != Some(false),
            args.show_etcd,
        ),
        // Objects of any kind (--key/--prefix --decode): -o wide shows how they are stored.
        None => (Printer::Mixed, args.all_namespaces, args.show_etcd || wide),
    };
    let check = unchecked.map(|s| move || s.unproven_warning());
    let view = View {
        before_output: check.as_ref().map(|c| c as BeforeOutput<'_>),
        format,
        printer,
        table: TableOptions {
            wide,
            with_namespace,
            label_columns: args.label_columns.clone(),
            show_labels: args.show_labels,
            show_etcd,
            no_headers: args.no_headers,
            sort_by,
        },
        now: reference,
        selector,
        fields,
        show_managed_fields: args.show_managed_fields,
        user_format,
        for_apply: args.for_apply.then_some(ForApply {
            keep_owners: args.keep_owners,
            keep_bindings: args.keep_bindings,
        }),
    };
    match plan {
        Plan::One {
            keys: candidates,
            shown,
        } if args.history => history(source, &candidates, &shown, &keys, view),
        Plan::One {
            keys: candidates,
            shown,
        } => {
            unchecked.inspect(|s| s.warn_if_unproven());
            one(source, &candidates, &shown, args.rev, &keys, view)
        }
        Plan::Many { .. } if args.history => Err(Error::invalid(
            "--history shows one object: give RESOURCE NAME or --key KEY",
        )),
        Plan::Many { prefix: p, keep } => {
            let empty_note = match (&args.resource, args.all_namespaces) {
                (Some(_), false) => format!("No resources found in {namespace} namespace."),
                _ => "No resources found".into(),
            };
            let query = RangeQuery {
                range: KeyRange::prefix(p.into_bytes()),
                revision: args.rev,
                keys_only: false,
            };
            many(source, &query, &keep, &prefix, &keys, view, &empty_note)
        }
    }
}

/// The columns or template of `-o custom-columns|jsonpath`, parsed (one line naming it when
/// malformed, exit 3).
fn user_format(args: &GetArgs, format: OutputFormat) -> Result<Option<UserFormat>> {
    let Some(template) = args.output.template()? else {
        return Ok(None);
    };
    if args.show_labels || !args.label_columns.is_empty() || args.show_etcd {
        return Err(Error::invalid(format!(
            "--show-labels, -L and --show-etcd add table columns: not with -o {} (name the \
             fields in it instead)",
            format.name()
        )));
    }
    let named = |e: String| match &template.file {
        Some(f) => Error::invalid(format!("-o {}-file={}: {e}", format.name(), f.display())),
        None => Error::invalid(e),
    };
    Ok(Some(match format {
        OutputFormat::CustomColumns => UserFormat::Columns(
            match &template.file {
                Some(_) => CustomColumns::from_file_text(&template.text),
                None => CustomColumns::parse(&template.text),
            }
            .map_err(named)?,
        ),
        _ => UserFormat::JsonPath(Template::parse(&template.text).map_err(named)?),
    }))
}

pub(super) enum Plan {
    /// The first of `keys` that exists (a custom resource may be namespaced or not).
    One {
        keys: Vec<String>,
        shown: String,
    },
    Many {
        prefix: String,
        keep: Keep,
    },
}

/// Which keys under a prefix belong to the listing.
pub(super) enum Keep {
    All,
    /// Keys of this etcd resource in this namespace, or cluster-scoped ones (custom resources,
    /// whose scope is unknown).
    NamespaceOrCluster {
        resource: String,
        namespace: String,
    },
    /// Keys of this etcd resource only (the prefix of `services` also holds deeper keys).
    Resource(String),
}

fn plan_for(t: &Target, name: Option<&str>, ns: &str, all: bool, prefix: &str) -> Plan {
    let key = |namespace, name| object_key(prefix, &t.etcd_resource, namespace, name);
    match (name, t.namespaced) {
        (Some(n), Some(true)) => Plan::One {
            keys: vec![key(Some(ns), n)],
            shown: format!("{} {n:?} in namespace {ns}", t.etcd_resource),
        },
        (Some(n), Some(false)) => Plan::One {
            keys: vec![key(None, n)],
            shown: format!("{} {n:?}", t.etcd_resource),
        },
        (Some(n), None) => Plan::One {
            keys: vec![key(Some(ns), n), key(None, n)],
            shown: format!(
                "{} {n:?} in namespace {ns} (or cluster-scoped)",
                t.etcd_resource
            ),
        },
        (None, Some(true)) if !all => Plan::Many {
            prefix: key_prefix(prefix, &t.etcd_resource, Some(ns)),
            keep: Keep::Resource(t.etcd_resource.clone()),
        },
        (None, None) if !all => Plan::Many {
            prefix: key_prefix(prefix, &t.etcd_resource, None),
            keep: Keep::NamespaceOrCluster {
                resource: t.etcd_resource.clone(),
                namespace: ns.to_string(),
            },
        },
        (None, _) => Plan::Many {
            prefix: key_prefix(prefix, &t.etcd_resource, None),
            keep: Keep::Resource(t.etcd_resource.clone()),
        },
    }
}

impl Keep {
    pub(super) fn keeps(&self, key: &[u8], prefix: &str) -> bool {
        match self {
            Keep::All => true,
            Keep::Resource(r) => ObjectKey::parse(key, prefix).is_some_and(|k| k.resource == r),
            Keep::NamespaceOrCluster {
                resource,
                namespace,
            } => ObjectKey::parse(key, prefix).is_some_and(|k| {
                k.resource == resource && k.namespace.is_none_or(|n| n == namespace)
            }),
        }
    }
}
