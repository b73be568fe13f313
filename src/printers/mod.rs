//! kubectl's tables for Kubernetes objects, written from kube-apiserver's table printers
//! (`pkg/printers/internalversion`, the aggregator's APIService printer, apiextensions'
//! printer columns for custom resources): the same columns, the same values, `-o wide`'s
//! extra columns, and AGE measured from a reference time (now for a live cluster, the
//! estimated time of a snapshot, see [`now`]).
//!
//! One file per group of kinds; each lists its [`Kind`]s, and [`Printer::for_resource`] finds
//! the one for a resource. Kinds kube-apiserver prints with its default table get NAME and
//! CREATED AT ([`Printer::CreatedAt`]); custom resources get their CRD's columns
//! ([`custom`]). [`table`] adds what kubectl adds on its side: NAMESPACE with `-A`, label
//! columns, sorting, and the layout. kubectl's other views of objects live here too:
//! `-o custom-columns` ([`custom_columns`]), `-o jsonpath` ([`jsonpath::template`]) and
//! `--for-apply` ([`for_apply`]).

mod cells;
mod cluster;
mod core;
pub mod custom;
pub mod custom_columns;
pub mod discovery;
pub mod fields;
pub mod for_apply;
pub mod jsonpath;
pub mod labels;
mod network;
pub mod now;
mod pods;
pub mod pods_proto;
mod storage;
pub mod table;
pub mod time;
mod workloads;

use serde_json::Value;

pub use table::{Table, TableOptions};

/// What a row is computed against. There is no `wide`: kube-apiserver runs every printer
/// with `Wide: true` and kubectl drops the wide columns, so the cells never depend on it.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    /// The reference time of AGE, LAST SEEN, "(5m ago)".
    pub now: ::time::OffsetDateTime,
}

/// A column as the printers define it: its name (printed in capitals) and whether only
/// `-o wide` shows it (priority > 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Col {
    pub name: &'static str,
    pub wide: bool,
}

pub(crate) const fn col(name: &'static str) -> Col {
    Col { name, wide: false }
}

pub(crate) const fn wide(name: &'static str) -> Col {
    Col { name, wide: true }
}

/// One resource's table printer: its columns and the cells of one object (one per column,
/// wide ones included).
pub struct Kind {
    pub group: &'static str,
    pub plural: &'static str,
    pub columns: &'static [Col],
    pub row: fn(&Value, &Ctx) -> Vec<String>,
}

/// Every built-in printer.
fn kinds() -> impl Iterator<Item = &'static Kind> {
    [
        pods::KINDS,
        core::KINDS,
        workloads::KINDS,
        network::KINDS,
        storage::KINDS,
        cluster::KINDS,
    ]
    .into_iter()
    .flatten()
}

/// A column of a printer, built-in or from a CRD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub wide: bool,
}

/// How the objects of one resource are printed.
pub enum Printer {
    Kind(&'static Kind),
    /// A custom resource: its CRD's printer columns after NAME.
    Custom(custom::Columns),
    /// kube-apiserver's default table (roles, cluster roles, limit ranges, CRDs, …).
    CreatedAt,
    /// Objects of any kinds together (`get --prefix --decode`): NAME and AGE, kubectl's
    /// columns for an object without a printer; `-o wide` adds the stored apiVersion and kind.
    Mixed,
}

impl Printer {
    /// The printer of a built-in resource (`group` is `""` for core).
    pub fn for_resource(group: &str, plural: &str) -> Printer {
        kinds()
            .find(|k| k.group == group && k.plural == plural)
            .map_or(Printer::CreatedAt, Printer::Kind)
    }

    pub fn columns(&self) -> Vec<Column> {
        let fixed = |cols: &[Col]| {
            cols.iter()
                .map(|c| Column {
                    name: c.name.to_string(),
                    wide: c.wide,
                })
                .collect()
        };
        match self {
            Printer::Kind(k) => fixed(k.columns),
            Printer::Custom(c) => c.columns(),
            Printer::CreatedAt => fixed(&[col("Name"), col("Created At")]),
            Printer::Mixed => fixed(&[col("Name"), col("Age"), wide("APIVersion"), wide("Kind")]),
        }
    }

    /// What [`Printer::cells`] reads of a plain protobuf value, read straight from it, for the
    /// kinds with such a reader (Pods: lists of many); `None`: decode the whole value.
    pub fn fields_from_proto(&self, value: &[u8]) -> Option<Value> {
        match self {
            Printer::Kind(k) if (k.group, k.plural) == ("", "pods") => {
                pods_proto::pod_columns(value)
            }
            _ => None,
        }
    }

    /// One cell per column of [`Printer::columns`].
    pub fn cells(&self, object: &Value, ctx: &Ctx) -> Vec<String> {
        let name = || cells::s(&object["metadata"]["name"]).to_string();
        match self {
            Printer::Kind(k) => (k.row)(object, ctx),
            Printer::Custom(c) => c.cells(object, ctx),
            Printer::CreatedAt => {
                let created = object["metadata"]["creationTimestamp"]
                    .as_str()
                    .and_then(time::parse)
                    .map_or("0001-01-01T00:00:00Z".into(), crate::timefmt::rfc3339);
                vec![name(), created]
            }
            Printer::Mixed => vec![
                name(),
                time::age(object, ctx.now),
                cells::s(&object["apiVersion"]).to_string(),
                cells::s(&object["kind"]).to_string(),
            ],
        }
    }
}

impl Printer {
    /// The order the apiserver lists objects in when it is not the key order.
    fn list_order(&self, object: &Value) -> table::SortKey {
        match self {
            Printer::Kind(k) if k.plural == "flowschemas" => {
                let (precedence, name) = cluster::flowschema_order(object);
                table::SortKey::Pair(precedence, name)
            }
            _ => table::SortKey::Unsorted,
        }
    }
}

/// The name and AGE of an object, the start of most rows.
fn name_and_age(object: &Value, ctx: &Ctx) -> [String; 2] {
    [
        cells::s(&object["metadata"]["name"]).to_string(),
        time::age(object, ctx.now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_printer_fills_every_column() {
        let ctx = Ctx {
            now: ::time::OffsetDateTime::UNIX_EPOCH,
        };
        let empty = serde_json::json!({});
        for k in kinds() {
            assert_eq!((k.row)(&empty, &ctx).len(), k.columns.len(), "{}", k.plural);
            let name_first = k.columns[0].name == "Name";
            assert_eq!(name_first, k.plural != "events", "{}", k.plural);
            let found = kinds()
                .filter(|o| o.group == k.group && o.plural == k.plural)
                .count();
            assert_eq!(found, 1, "{} has one printer", k.plural);
        }
    }

    #[test]
    fn every_builtin_resource_has_a_printer_or_the_default_table() {
        let default_table = [
            "roles",
            "clusterroles",
            "limitranges",
            "customresourcedefinitions",
            "csistoragecapacities",
        ];
        for r in revkeeper_formats::k8s::resources::BUILTIN {
            let printer = Printer::for_resource(r.group, r.plural);
            let is_default = matches!(printer, Printer::CreatedAt);
            assert_eq!(
                is_default,
                default_table.contains(&r.plural),
                "{}",
                r.plural
            );
        }
    }
}
