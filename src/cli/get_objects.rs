//! `get RESOURCE [NAME]` (and `get --key/--prefix --decode`): decoded objects as kubectl
//! prints them — a table with kube-apiserver's columns (`crate::printers`; `-o wide` adds
//! columns), `-o name`, or the objects (json, yaml, jsonl); `--history` lists every kept
//! revision of one object.

use revkeeper_formats::k8s::{Decoded, resources};
use serde_json::Value;

use super::get::Keep;
use crate::decode::jsonl::{ObjectFilter, write_json_lines};
use crate::decode::{Failures, NewerFields, decode_kv, note_not_an_object, set_resource_version};
use crate::output::objects::{ListWriter, ObjectFormat, write_object};
use crate::output::{OutputFormat, Stdout, render_table};
use crate::printers::fields::FieldSelector;
use crate::printers::labels::Selector;
use crate::printers::table::{SortKey, Stored};
use crate::printers::{Ctx, Printer, Table, TableOptions};
use crate::source::{KeyRange, KeyView, RangeQuery, Source};
use crate::{Error, Result};

/// How `get` prints what it reads.
pub(super) struct View {
    pub format: OutputFormat,
    pub printer: Printer,
    pub table: TableOptions,
    /// The reference time of AGE and the other times in tables.
    pub now: time::OffsetDateTime,
    pub selector: Option<Selector>,
    pub fields: Option<FieldSelector>,
    pub show_managed_fields: bool,
}

impl View {
    fn object_format(&self) -> Option<ObjectFormat> {
        self.format.objects()
    }

    /// Whether `-o json|yaml` leaves out `metadata.managedFields`, as kubectl does unless
    /// `--show-managed-fields` (`-o jsonl` keeps the stored object whole).
    fn hides_managed_fields(&self) -> bool {
        !self.show_managed_fields && matches!(self.format, OutputFormat::Json | OutputFormat::Yaml)
    }

    /// A table for the rows of this view (the printer moves into it).
    fn into_table(self) -> Table {
        Table::new(self.printer, self.table, Ctx { now: self.now })
    }
}

fn hide_managed_fields(object: &mut Value) {
    if let Some(meta) = object["metadata"].as_object_mut() {
        meta.shift_remove("managedFields");
    }
}

fn stored(d: &Decoded, kv: &KeyView<'_>) -> Stored {
    Stored {
        encoding: d.encoding.label(),
        size: kv.value.len(),
        revision: kv.mod_revision,
    }
}

pub(super) fn one(
    source: &dyn Source,
    candidates: &[String],
    shown: &str,
    rev: Option<i64>,
    keys: &revkeeper_formats::k8s::Keyring,
    view: View,
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
        let mut d = decode_kv(&kv, keys).map_err(|e| Error::general(format!("{key}: {e}")))?;
        let mut newer = NewerFields::default();
        newer.note(kv.key, &d);
        newer.warn();
        let facts = stored(&d, &kv);
        let Some(object) = &mut d.object else {
            return Err(Error::general(format!(
                "{key}: not a Kubernetes object ({}, {} bytes)",
                d.encoding.label(),
                kv.value.len()
            )));
        };
        let mut out = Stdout::new();
        match view.object_format() {
            Some(f) => {
                if view.hides_managed_fields() {
                    hide_managed_fields(object);
                }
                out.run(|o| write_object(o, f, object))?
            }
            None if view.format == OutputFormat::Name => {
                out.run(|o| o.write_all(name_line(object).as_bytes()))?
            }
            None => {
                let mut table = view.into_table();
                table.add(object, Some(&facts));
                let text = table.render();
                out.run(|o| o.write_all(text.as_bytes()))?
            }
        }
        return out.finish();
    }
    Err(Error::general(format!("{shown} not found")))
}

/// What a listing prints as it goes, or keeps until the end.
enum Listing {
    /// Objects streamed one at a time into a `List` (or JSON lines).
    Objects(ListWriter),
    /// Objects kept for `--sort-by`, written at the end (`None`: as `-o name`).
    Sorted(Option<ObjectFormat>, Vec<(SortKey, Value)>),
    Names,
    Table(Table),
}

pub(super) fn many(
    source: &dyn Source,
    query: &RangeQuery,
    keep: &Keep,
    prefix: &str,
    keys: &revkeeper_formats::k8s::Keyring,
    view: View,
    empty_note: &str,
) -> Result<()> {
    if view.format == OutputFormat::Jsonl && view.table.sort_by.is_none() {
        return json_lines(source, query, keep, prefix, keys, &view);
    }
    let mut failures = Failures::default();
    let mut out = Stdout::new();
    let mut found = 0u64;
    let hide = view.hides_managed_fields();
    let object_format = view.object_format();
    let View {
        format,
        printer,
        table: opts,
        now,
        selector,
        fields,
        ..
    } = view;
    let sort_by = opts.sort_by.clone();
    let names = format == OutputFormat::Name;
    let mut listing = match (object_format, &sort_by) {
        (None, Some(_)) if names => Listing::Sorted(None, Vec::new()),
        (Some(f), Some(_)) => Listing::Sorted(Some(f), Vec::new()),
        (Some(f), None) => {
            let mut w = None;
            out.run(|o| {
                w = Some(ListWriter::begin(o, f)?);
                Ok(())
            })?;
            match w {
                Some(w) => Listing::Objects(w),
                // The pipe closed before the first byte: nothing more to print.
                None => return out.finish(),
            }
        }
        (None, _) if names => Listing::Names,
        (None, _) => Listing::Table(Table::new(printer, opts, Ctx { now })),
    };
    let scanned = source.scan(query, &mut |kv: KeyView<'_>| {
        if !keep.keeps(kv.key, prefix) {
            return Ok(());
        }
        let mut d = match decode_kv(&kv, keys) {
            Ok(d) => d,
            Err(e) => {
                failures.fail(kv.key, e);
                return Ok(());
            }
        };
        failures.decoded(kv.key, &d);
        let facts = stored(&d, &kv);
        let Some(object) = &mut d.object else {
            note_not_an_object(kv.key, &d.encoding, kv.value.len());
            return Ok(());
        };
        if !selector.as_ref().is_none_or(|s| s.matches(object))
            || !fields.as_ref().is_none_or(|f| f.matches(object))
        {
            return Ok(());
        }
        found += 1;
        if hide {
            hide_managed_fields(object);
        }
        match &mut listing {
            Listing::Objects(w) => out.run(|o| w.item(o, object))?,
            Listing::Sorted(_, kept) => {
                let path = sort_by.as_ref().expect("sorted listings have --sort-by");
                let key = SortKey::of(path.find(object).first().copied());
                kept.push((key, std::mem::take(object)));
            }
            Listing::Names => out.run(|o| o.write_all(name_line(object).as_bytes()))?,
            Listing::Table(t) => t.add(object, Some(&facts)),
        }
        if out.closed() {
            return Err(Error::general("output closed"));
        }
        Ok(())
    });
    if !out.closed() {
        scanned?;
    }
    match listing {
        Listing::Objects(w) => out.run(|o| w.end(o))?,
        Listing::Sorted(f, mut kept) => {
            kept.sort_by(|a, b| a.0.cmp(&b.0));
            out.run(|o| match f {
                Some(f) => {
                    let mut w = ListWriter::begin(o, f)?;
                    for (_, object) in &kept {
                        w.item(o, object)?;
                    }
                    w.end(o)
                }
                None => kept
                    .iter()
                    .try_for_each(|(_, object)| o.write_all(name_line(object).as_bytes())),
            })?;
        }
        Listing::Names => {}
        Listing::Table(t) => {
            if found == 0 {
                crate::log::info(empty_note, &[]);
            } else {
                let text = t.render();
                out.run(|o| o.write_all(text.as_bytes()))?;
            }
        }
    }
    out.finish()?;
    failures.finish()
}

/// `-o jsonl` in key order: decoded on every core, straight to the text.
fn json_lines(
    source: &dyn Source,
    query: &RangeQuery,
    keep: &Keep,
    prefix: &str,
    keys: &revkeeper_formats::k8s::Keyring,
    view: &View,
) -> Result<()> {
    let (selector, fields) = (view.selector.as_ref(), view.fields.as_ref());
    let matches =
        |o: &Value| selector.is_none_or(|s| s.matches(o)) && fields.is_none_or(|f| f.matches(o));
    let filter: Option<ObjectFilter<'_>> =
        (selector.is_some() || fields.is_some()).then_some(&matches);
    let mut out = Stdout::new();
    let keep = |key: &[u8]| keep.keeps(key, prefix);
    let (_, failures) = write_json_lines(source, query, &keep, keys, filter, &mut out)?;
    out.finish()?;
    failures.finish()
}

/// Every kept revision of one object: a table of changes, or the objects as a List.
pub(super) fn history(
    source: &dyn Source,
    candidates: &[String],
    shown: &str,
    keys: &revkeeper_formats::k8s::Keyring,
    view: View,
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
                        if view.hides_managed_fields() {
                            hide_managed_fields(&mut object);
                        }
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
