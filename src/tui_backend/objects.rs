//! The TUI's object lists: one resource's objects as `revkeeper get RESOURCE` (`-A` across
//! namespaces) prints them — the same printers (`crate::printers`), the same reference time
//! of ages — with each key's etcd facts beside them. One prefix range of the source, decoded
//! on the worker thread that asked for it.

use revkeeper_formats::k8s::Keyring;
use revkeeper_formats::k8s::key::{ObjectKey, key_prefix};
use revkeeper_formats::k8s::resources::OTHER_KEYS;
use revkeeper_ui::{ObjectRow, ObjectTable, TableColumn};

use crate::Result;
use crate::decode::decode_kv;
use crate::printers::{Column, Ctx, Printer, discovery};
use crate::source::{KeyRange, KeyView, RangeQuery, Source};

/// Calls the progress callback every this many objects.
const PROGRESS_EVERY: u64 = 5_000;

/// What an object list is read with.
pub struct ListContext<'a> {
    pub source: &'a dyn Source,
    /// kube-apiserver's `--etcd-prefix`, without a trailing `/`.
    pub prefix: &'a str,
    pub keyring: &'a Keyring,
    /// The reference time of ages, and what it is when not the clock (a snapshot's estimate).
    pub now: time::OffsetDateTime,
    pub now_note: Option<&'a str>,
}

/// The objects of `resource` in `namespace` (every namespace when `None`), sorted by key.
pub fn object_table(
    cx: &ListContext<'_>,
    resource: &str,
    namespace: Option<&str>,
    progress: &dyn Fn(u64),
) -> Result<ObjectTable> {
    let (printer, namespaced, mut notes) = if resource == OTHER_KEYS {
        (Printer::Mixed, Some(false), Vec::new())
    } else {
        let r = discovery::for_etcd_resource(cx.source, resource, cx.prefix, cx.keyring)?;
        let notes = (r.unsupported.iter())
            .map(|(column, why)| format!("the CRD's column {column} is left empty: {why}"))
            .collect();
        (r.printer, r.target.namespaced, notes)
    };
    let mut builder = Builder {
        columns: printer.columns(),
        printer,
        whole_key_names: resource == OTHER_KEYS,
        ctx: Ctx { now: cx.now },
        with_namespace: namespace.is_none() && namespaced != Some(false),
        rows: Vec::new(),
        failed: 0,
        first_failure: None,
    };
    let start = match resource {
        OTHER_KEYS => Vec::new(),
        _ => key_prefix(cx.prefix, resource, namespace).into_bytes(),
    };
    let mut seen = 0u64;
    cx.source
        .scan(&RangeQuery::latest(KeyRange::prefix(start)), &mut |kv| {
            let parsed = ObjectKey::parse(kv.key, cx.prefix);
            let ours = match &parsed {
                Some(k) => k.resource == resource,
                None => resource == OTHER_KEYS,
            };
            if ours {
                builder.add(&kv, parsed.as_ref().and_then(|k| k.namespace), cx.keyring);
                seen += 1;
                if seen % PROGRESS_EVERY == 0 {
                    progress(seen);
                }
            }
            Ok(())
        })?;
    if builder.failed > 0 {
        let first = builder.first_failure.take().unwrap_or_default();
        let n = builder.failed;
        let values = if n == 1 { "value" } else { "values" };
        notes.insert(0, format!("{n} {values} did not decode ({first})"));
    }
    if let Some(n) = cx.now_note {
        notes.push(n.to_string());
    }
    Ok(builder.finish((!notes.is_empty()).then(|| notes.join("; "))))
}

struct Builder {
    printer: Printer,
    columns: Vec<Column>,
    /// Keys outside the Kubernetes layout are named by their whole key.
    whole_key_names: bool,
    ctx: Ctx,
    with_namespace: bool,
    rows: Vec<ObjectRow>,
    failed: u64,
    first_failure: Option<String>,
}

impl Builder {
    fn add(&mut self, kv: &KeyView<'_>, namespace: Option<&str>, keyring: &Keyring) {
        let key = String::from_utf8_lossy(kv.key).into_owned();
        let name = match self.whole_key_names {
            true => key.clone(),
            false => key.rsplit('/').next().unwrap_or(&key).to_string(),
        };
        let (encoding, object) = match decode_kv(kv, keyring) {
            Ok(d) => (d.encoding.label(), d.object),
            Err(e) => {
                self.failed += 1;
                self.first_failure
                    .get_or_insert_with(|| format!("first: {key}: {e}"));
                ("undecodable".to_string(), None)
            }
        };
        let mut cells = Vec::with_capacity(self.columns.len() + 1);
        if self.with_namespace {
            let from_object = object
                .as_ref()
                .and_then(|o| o["metadata"]["namespace"].as_str());
            cells.push(from_object.or(namespace).unwrap_or("").to_string());
        }
        match &object {
            Some(o) => cells.extend(self.printer.cells(o, &self.ctx)),
            // Not an object (text, binary, or not decoded): where it is, and nothing else.
            None => cells.extend(self.columns.iter().map(|c| {
                if c.name == "Name" {
                    name.clone()
                } else {
                    String::new()
                }
            })),
        }
        self.rows.push(ObjectRow {
            namespace: namespace.map(str::to_string),
            name,
            key,
            cells,
            encoding,
            bytes: kv.value.len() as u64,
            create_revision: kv.create_revision,
            mod_revision: kv.mod_revision,
            version: kv.version,
            lease: kv.lease,
        });
    }

    fn finish(mut self, note: Option<String>) -> ObjectTable {
        let mut columns = Vec::new();
        // A custom resource without a CRD may be either scope: NAMESPACE only if keys say so.
        if self.with_namespace && self.rows.iter().all(|r| r.namespace.is_none()) {
            self.with_namespace = false;
            for r in &mut self.rows {
                r.cells.remove(0);
            }
        }
        if self.with_namespace {
            columns.push(TableColumn {
                name: "NAMESPACE".into(),
                wide: false,
            });
        }
        columns.extend(self.columns.into_iter().map(|c| TableColumn {
            name: c.name.to_uppercase(),
            wide: c.wide,
        }));
        ObjectTable {
            columns,
            rows: self.rows,
            note,
        }
    }
}
