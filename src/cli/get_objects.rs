//! `get RESOURCE [NAME]` (and `get --key/--prefix --decode`): decoded objects as kubectl
//! prints them — a table (`-o wide` adds columns), `-o name`, or the objects (json, yaml, jsonl);
//! `--history` lists every kept revision of one object.

use revkeeper_formats::k8s::{Decoded, resources};
use serde_json::Value;

use super::get::Keep;
use crate::decode::{
    Failures, NewerFields, decode_kv, note_not_an_object, set_resource_version, table,
};
use crate::output::objects::{ListWriter, ObjectFormat, write_object};
use crate::output::{OutputFormat, Stdout, render_table};
use crate::source::{KeyRange, KeyView, RangeQuery, Source};
use crate::{Error, Result};

pub(super) struct View {
    pub format: OutputFormat,
    pub all_namespaces: bool,
    pub now: time::OffsetDateTime,
}

impl View {
    fn object_format(&self) -> Option<ObjectFormat> {
        self.format.objects()
    }

    /// One table row (kubectl's columns; `-o wide` adds the stored ones).
    fn row(&self, d: &Decoded, object: &Value, kv: &KeyView<'_>) -> Vec<String> {
        let wide = self.format == OutputFormat::Wide;
        table::row(
            d,
            object,
            kv.value.len(),
            kv.mod_revision,
            self.now,
            self.all_namespaces,
            wide,
        )
    }
}

pub(super) fn one(
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
            None if view.format == OutputFormat::Name => {
                out.run(|o| o.write_all(name_line(object).as_bytes()))?
            }
            None => {
                let wide = view.format == OutputFormat::Wide;
                let rows = vec![view.row(&d, object, &kv)];
                let text = render_table(&table::headers(view.all_namespaces, wide), &rows);
                out.run(|o| o.write_all(text.as_bytes()))?
            }
        }
        return out.finish();
    }
    Err(Error::general(format!("{shown} not found")))
}

pub(super) fn many(
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
    let wide = view.format == OutputFormat::Wide;
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
            (None, OutputFormat::Name) => out.run(|o| o.write_all(name_line(object).as_bytes()))?,
            (None, _) => rows.push(view.row(&d, object, &kv)),
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
    } else if view.format != OutputFormat::Name {
        if found == 0 {
            crate::log::info(empty_note, &[]);
        } else {
            let text = render_table(&table::headers(view.all_namespaces, wide), &rows);
            out.run(|o| o.write_all(text.as_bytes()))?;
        }
    }
    out.finish()?;
    failures.finish()
}

/// Every kept revision of one object: a table of changes, or the objects as a List.
pub(super) fn history(
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
            let text = render_table(
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

/// The `-o name` line: `kind.group/name`, as kubectl prints it.
fn name_line(object: &Value) -> String {
    format!(
        "{}/{}\n",
        resources::name_prefix(object),
        object["metadata"]["name"].as_str().unwrap_or("")
    )
}
