//! `revkeeper get`: Kubernetes objects kubectl-style (`get RESOURCE [NAME]`), or raw keys
//! etcdctl-style (`get --key KEY | --prefix PREFIX`), from a live cluster or a snapshot.
//!
//! Output: for RESOURCE, `-o table` (default) | `wide` | `name` | `json` | `yaml` | `jsonl`,
//! decoded. For `--key/--prefix`, `-w table` (default) and `-w json` print etcd's records as
//! etcdctl does (values raw / base64); `--decode`, or `-o yaml|jsonl|wide|name`, prints the
//! decoded objects instead (`--decode -o json` for JSON).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use revkeeper_formats::k8s::key::{ObjectKey, key_prefix, object_key};
use revkeeper_formats::k8s::resources::{self, Target};
use serde_json::{Value, json};

use super::source_args::{SourceArgs, parse_rev, requested_rev};
use crate::decode::output::{ListWriter, ObjectFormat, Stdout, write_object};
use crate::decode::{
    DecodeOptions, Failures, NewerFields, decode_kv, note_not_an_object, set_resource_version,
    table,
};
use crate::output::{print_json, print_table, with_stdout};
use crate::source::{KeyRange, KeyRecord, KeyView, RangeQuery, Source};
use crate::{Error, Result};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum GetFormat {
    #[default]
    Table,
    Json,
    Yaml,
    /// One JSON object per line
    Jsonl,
    Wide,
    Name,
}

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
    /// Print keys only, not values (--key/--prefix; -o table or json)
    #[arg(long, conflicts_with_all = ["resource", "decode"])]
    pub keys_only: bool,
    /// With --key/--prefix: print the decoded objects instead of etcd's records
    #[arg(long)]
    pub decode: bool,
    /// Read at this revision instead of the latest (must not be compacted; 0: the latest)
    #[arg(long, value_name = "REV", allow_negative_numbers = true, value_parser = parse_rev)]
    pub rev: Option<i64>,
    /// Every revision the source keeps of one object (RESOURCE NAME, or --key)
    #[arg(long, conflicts_with_all = ["rev", "prefix", "keys_only"])]
    pub history: bool,
    /// Output: table, wide, name, json, yaml, jsonl [aliases: -w, --write-out]
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "write-out",
        visible_short_alias = 'w',
        value_enum,
        default_value_t
    )]
    pub output: GetFormat,
    #[command(flatten)]
    pub decoding: DecodeOptions,
    #[command(flatten)]
    pub source: SourceArgs,
}

pub fn run(mut args: GetArgs) -> Result<()> {
    args.rev = requested_rev(args.rev);
    if args.keys_only && !matches!(args.output, GetFormat::Table | GetFormat::Json) {
        return Err(Error::invalid(format!(
            "--keys-only cannot be used with -o {}: it prints keys, not objects (use -o table \
             or -o json, etcdctl's formats)",
            format!("{:?}", args.output).to_lowercase()
        )));
    }
    let raw = args.resource.is_none()
        && !args.decode
        && !args.history
        && matches!(args.output, GetFormat::Table | GetFormat::Json);
    if raw || args.keys_only {
        return run_raw(args);
    }
    let source = args.source.open()?;
    let keys = args.decoding.keyring()?;
    let prefix = args.decoding.prefix().to_string();
    let namespace = args.namespace.clone().unwrap_or_else(|| "default".into());
    // What to read: one key (or the candidates for it), or a prefix and which keys to keep.
    let plan = match (&args.resource, &args.key, &args.prefix) {
        (Some(r), _, _) => {
            let target = resources::resolve(r).map_err(|e| Error::invalid(e.to_string()))?;
            plan_for(
                &target,
                args.name.as_deref(),
                &namespace,
                args.all_namespaces,
                &prefix,
            )
        }
        (None, Some(k), _) => Plan::One {
            keys: vec![k.clone()],
            shown: k.clone(),
        },
        (None, None, p) => Plan::Many {
            prefix: p.clone().unwrap_or_default(),
            keep: Keep::All,
        },
    };
    let view = View {
        format: args.output,
        all_namespaces: args.all_namespaces,
        now: time::OffsetDateTime::now_utc(),
    };
    match plan {
        Plan::One {
            keys: candidates,
            shown,
        } if args.history => history(source.as_ref(), &candidates, &shown, &keys, &view),
        Plan::One {
            keys: candidates,
            shown,
        } => one(source.as_ref(), &candidates, &shown, args.rev, &keys, &view),
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
            many(
                source.as_ref(),
                &query,
                &keep,
                &prefix,
                &keys,
                &view,
                &empty_note,
            )
        }
    }
}

enum Plan {
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
enum Keep {
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
    fn keeps(&self, key: &[u8], prefix: &str) -> bool {
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

struct View {
    format: GetFormat,
    all_namespaces: bool,
    now: time::OffsetDateTime,
}

impl View {
    fn object_format(&self) -> Option<ObjectFormat> {
        match self.format {
            GetFormat::Json => Some(ObjectFormat::Json),
            GetFormat::Yaml => Some(ObjectFormat::Yaml),
            GetFormat::Jsonl => Some(ObjectFormat::JsonLines),
            _ => None,
        }
    }
}

fn one(
    source: &dyn Source,
    candidates: &[String],
    shown: &str,
    rev: Option<i64>,
    keys: &revkeeper_formats::k8s::Keyring,
    view: &View,
) -> Result<()> {
    for key in candidates {
        let query = RangeQuery {
            range: KeyRange::key(key.as_bytes()),
            revision: rev,
            keys_only: false,
        };
        let Some(record) = source.range(&query)?.into_iter().next() else {
            continue;
        };
        let kv = record.view();
        let d = decode_kv(&kv, keys).map_err(|e| Error::general(format!("{key}: {e}")))?;
        let mut newer = NewerFields::default();
        newer.note(kv.key, &d);
        newer.warn();
        let Some(object) = &d.object else {
            return Err(Error::general(format!(
                "{key}: not a Kubernetes object ({}, {} bytes)",
                d.encoding.label(),
                kv.value.len()
            )));
        };
        let mut out = Stdout::new();
        match view.object_format() {
            Some(f) => out.run(|o| write_object(o, f, object))?,
            None if view.format == GetFormat::Name => {
                let line = format!(
                    "{}/{}\n",
                    resources::name_prefix(object),
                    object["metadata"]["name"].as_str().unwrap_or("")
                );
                out.run(|o| o.write_all(line.as_bytes()))?
            }
            None => {
                let wide = view.format == GetFormat::Wide;
                let rows = vec![table::row(
                    &d,
                    object,
                    kv.value.len(),
                    kv.mod_revision,
                    view.now,
                    view.all_namespaces,
                    wide,
                )];
                let text =
                    crate::output::render_table(&table::headers(view.all_namespaces, wide), &rows);
                out.run(|o| o.write_all(text.as_bytes()))?
            }
        }
        return out.finish();
    }
    Err(Error::general(format!("{shown} not found")))
}

fn many(
    source: &dyn Source,
    query: &RangeQuery,
    keep: &Keep,
    prefix: &str,
    keys: &revkeeper_formats::k8s::Keyring,
    view: &View,
    empty_note: &str,
) -> Result<()> {
    let mut failures = Failures::default();
    let mut out = Stdout::new();
    let mut rows = Vec::new();
    let mut found = 0u64;
    let mut list = match view.object_format() {
        Some(f) => {
            let mut w = None;
            out.run(|o| {
                w = Some(ListWriter::begin(o, f)?);
                Ok(())
            })?;
            w
        }
        None => None,
    };
    let wide = view.format == GetFormat::Wide;
    let scanned = source.scan(query, &mut |kv: KeyView<'_>| {
        if !keep.keeps(kv.key, prefix) {
            return Ok(());
        }
        let d = match decode_kv(&kv, keys) {
            Ok(d) => d,
            Err(e) => {
                failures.fail(kv.key, e);
                return Ok(());
            }
        };
        failures.decoded(kv.key, &d);
        let Some(object) = &d.object else {
            note_not_an_object(kv.key, &d, kv.value.len());
            return Ok(());
        };
        found += 1;
        match (&mut list, view.format) {
            (Some(w), _) => out.run(|o| w.item(o, object))?,
            (None, GetFormat::Name) => {
                let line = format!(
                    "{}/{}\n",
                    resources::name_prefix(object),
                    object["metadata"]["name"].as_str().unwrap_or("")
                );
                out.run(|o| o.write_all(line.as_bytes()))?
            }
            (None, _) => rows.push(table::row(
                &d,
                object,
                kv.value.len(),
                kv.mod_revision,
                view.now,
                view.all_namespaces,
                wide,
            )),
        }
        if out.closed() {
            return Err(Error::general("output closed"));
        }
        Ok(())
    });
    if !out.closed() {
        scanned?;
    }
    if let Some(w) = list {
        out.run(|o| w.end(o))?;
    } else if view.format != GetFormat::Name {
        if found == 0 {
            crate::log::info(empty_note, &[]);
        } else {
            let text =
                crate::output::render_table(&table::headers(view.all_namespaces, wide), &rows);
            out.run(|o| o.write_all(text.as_bytes()))?;
        }
    }
    out.finish()?;
    failures.finish()
}

/// Every kept revision of one object: a table of changes, or the objects as a List.
fn history(
    source: &dyn Source,
    candidates: &[String],
    shown: &str,
    keys: &revkeeper_formats::k8s::Keyring,
    view: &View,
) -> Result<()> {
    let mut changes = Vec::new();
    for key in candidates {
        changes = source.history(key.as_bytes())?;
        if !changes.is_empty() {
            break;
        }
    }
    if changes.is_empty() {
        return Err(Error::general(format!("{shown}: no history kept")));
    }
    let mut failures = Failures::default();
    let mut decoded = Vec::new();
    for c in &changes {
        if c.deleted {
            failures.ok();
            decoded.push(None);
            continue;
        }
        match decode_kv(&c.record.view(), keys) {
            Ok(d) => {
                failures.decoded(&c.record.key, &d);
                decoded.push(Some(d));
            }
            Err(e) => {
                failures.fail(&c.record.key, format!("revision {}: {e}", c.revision));
                decoded.push(None);
            }
        }
    }
    let mut out = Stdout::new();
    match view.object_format() {
        Some(f) => {
            out.run(|o| {
                let mut w = ListWriter::begin(o, f)?;
                for (c, d) in changes.iter().zip(&decoded) {
                    if let Some(mut object) = d.as_ref().and_then(|d| d.object.clone()) {
                        set_resource_version(&mut object, c.revision);
                        w.item(o, &object)?;
                    }
                }
                w.end(o)
            })?;
        }
        None => {
            let rows: Vec<Vec<String>> = changes
                .iter()
                .zip(&decoded)
                .map(|(c, d)| {
                    vec![
                        c.revision.to_string(),
                        if c.deleted { "DELETE" } else { "PUT" }.to_string(),
                        c.record.version.to_string(),
                        c.record.value.len().to_string(),
                        d.as_ref().map_or_else(
                            || {
                                if c.deleted {
                                    "-".into()
                                } else {
                                    "error".into()
                                }
                            },
                            |d| d.encoding.label(),
                        ),
                        d.as_ref()
                            .and_then(|d| d.object.as_ref())
                            .and_then(|o| o["metadata"]["generation"].as_i64())
                            .map_or("-".into(), |g| g.to_string()),
                    ]
                })
                .collect();
            let text = crate::output::render_table(
                &[
                    "REVISION",
                    "EVENT",
                    "VERSION",
                    "SIZE",
                    "ENCODING",
                    "GENERATION",
                ],
                &rows,
            );
            out.run(|o| o.write_all(text.as_bytes()))?;
        }
    }
    out.finish()?;
    failures.finish()
}

/// `--key/--prefix` as etcdctl prints them: a table, or etcdctl's JSON.
fn run_raw(args: GetArgs) -> Result<()> {
    let source = args.source.open()?;
    let range = match (&args.key, &args.prefix) {
        (Some(k), _) => KeyRange::key(k.as_bytes()),
        (None, p) => KeyRange::prefix(p.as_deref().unwrap_or_default().as_bytes()),
    };
    let query = RangeQuery {
        range,
        revision: args.rev,
        keys_only: args.keys_only,
    };
    let records = source.range(&query)?;
    match args.output {
        GetFormat::Json => {
            let revision = match args.rev {
                Some(r) => r,
                None => source.overview()?.revision,
            };
            print_json(&etcdctl_json(revision, &records))
        }
        _ if args.keys_only => with_stdout(|out| {
            for r in &records {
                out.write_all(&r.key)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        }),
        _ => {
            let rows: Vec<Vec<String>> = records
                .iter()
                .map(|r| {
                    vec![
                        String::from_utf8_lossy(&r.key).into_owned(),
                        r.create_revision.to_string(),
                        r.mod_revision.to_string(),
                        r.version.to_string(),
                        lease_hex(r.lease),
                        preview(&r.value),
                    ]
                })
                .collect();
            print_table(
                &["KEY", "CREATE", "MOD", "VERSION", "LEASE", "VALUE"],
                &rows,
            )
        }
    }
}

/// The shape of `etcdctl get -w json`: keys and values in base64.
fn etcdctl_json(revision: i64, records: &[KeyRecord]) -> Value {
    let kvs: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "key": B64.encode(&r.key),
                "create_revision": r.create_revision,
                "mod_revision": r.mod_revision,
                "version": r.version,
                "value": B64.encode(&r.value),
                "lease": r.lease,
            })
        })
        .collect();
    json!({"header": {"revision": revision}, "kvs": kvs, "count": records.len()})
}

pub fn lease_hex(lease: i64) -> String {
    if lease == 0 {
        "-".into()
    } else {
        revkeeper_formats::etcd::lease::id_hex(lease)
    }
}

/// Printable text as is (shortened), anything else as a labelled hex preview.
pub fn preview(value: &[u8]) -> String {
    const MAX: usize = 60;
    match std::str::from_utf8(value) {
        Ok(s) if s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t') => {
            let one_line = s.replace(['\n', '\t'], " ");
            if one_line.chars().count() > MAX {
                format!("{}…", one_line.chars().take(MAX).collect::<String>())
            } else {
                one_line
            }
        }
        _ => {
            let shown = &value[..value.len().min(16)];
            format!("<binary {} bytes> {}…", value.len(), hex::encode(shown))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_text_and_binary() {
        assert_eq!(preview(b"hello\nworld"), "hello world");
        assert_eq!(preview(b"k8s\0\x0a\x02"), "<binary 6 bytes> 6b3873000a02…");
        let long = "x".repeat(100);
        assert_eq!(preview(long.as_bytes()).chars().count(), 61);
    }

    #[test]
    fn json_is_etcdctl_shaped() {
        let r = KeyRecord {
            key: b"a".to_vec(),
            create_revision: 2,
            mod_revision: 3,
            version: 2,
            value: b"v".to_vec(),
            lease: 0,
        };
        let v = etcdctl_json(3, &[r]);
        assert_eq!(v["kvs"][0]["key"], "YQ==");
        assert_eq!(v["kvs"][0]["value"], "dg==");
        assert_eq!(v["count"], 1);
        assert_eq!(v["header"]["revision"], 3);
    }
}
