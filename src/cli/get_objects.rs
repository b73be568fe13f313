//! `get RESOURCE [NAME]` (and `get --key/--prefix --decode`): decoded objects as kubectl
//! prints them — a table with kube-apiserver's columns (`crate::printers`; `-o wide` adds
//! columns), `-o name`, `-o custom-columns`, `-o jsonpath` (run on the object, or on a `List`
//! of several), or the objects (json, yaml, jsonl; `--for-apply` strips them for `kubectl
//! apply`); `--history` lists every kept revision of one object.

use std::io::Write;

use revkeeper_formats::k8s::{Decoded, resources};
use serde_json::Value;

use super::get::Keep;
use crate::decode::jsonl::{BeforeOutput, ObjectFilter, write_json_lines};
use crate::decode::{Failures, NewerFields, decode_kv, note_not_an_object, set_resource_version};
use crate::output::objects::{
    ListWriter, ObjectFormat, hide_managed_fields, list_of, write_object,
};
use crate::output::table::render_kubectl;
use crate::output::{OutputFormat, Stdout, render_table};
use crate::printers::custom_columns::CustomColumns;
use crate::printers::fields::FieldSelector;
use crate::printers::for_apply::ForApply;
use crate::printers::jsonpath::template::Template;
use crate::printers::labels::Selector;
use crate::printers::table::{SortKey, Stored};
use crate::printers::{Ctx, Printer, Table, TableOptions};
use crate::source::{KeyRange, KeyView, RangeQuery, Source};
use crate::{Error, Result};

/// How `get` prints what it reads.
pub(super) struct View<'a> {
    pub format: OutputFormat,
    pub printer: Printer,
    pub table: TableOptions,
    /// The reference time of AGE and the other times in tables.
    pub now: time::OffsetDateTime,
    pub selector: Option<Selector>,
    pub fields: Option<FieldSelector>,
    pub show_managed_fields: bool,
    /// `-o custom-columns|jsonpath`: the user's columns or template.
    pub user_format: Option<UserFormat>,
    /// `--for-apply`: objects stripped for `kubectl apply`.
    pub for_apply: Option<ForApply>,
    /// A check whose warning must come before the output (`-o jsonl` runs it while it decodes).
    pub before_output: Option<BeforeOutput<'a>>,
}

/// The formats whose shape the user writes.
pub(super) enum UserFormat {
    Columns(CustomColumns),
    JsonPath(Template),
}

impl View<'_> {
    fn object_format(&self) -> Option<ObjectFormat> {
        self.format.objects()
    }

    /// Whether the output leaves out `metadata.managedFields`, as kubectl does unless
    /// `--show-managed-fields` (`-o jsonl` keeps the stored object whole).
    fn hides_managed_fields(&self) -> bool {
        !self.show_managed_fields
            && matches!(
                self.format,
                OutputFormat::Json
                    | OutputFormat::Yaml
                    | OutputFormat::CustomColumns
                    | OutputFormat::JsonPath
            )
    }

    /// The object as this view prints it: without managed fields, stripped for apply.
    fn prepare(&self, object: &mut Value) {
        if self.hides_managed_fields() {
            hide_managed_fields(object);
        }
        if let Some(f) = self.for_apply {
            f.strip(object);
        }
    }

    /// The key of `object` under `--sort-by` (none: every key equal, the source's order).
    fn sort_key(&self, object: &Value) -> SortKey {
        self.table.sort_by.as_ref().map_or(SortKey::Unsorted, |p| {
            SortKey::of(p.find(object).first().copied())
        })
    }

    /// Custom columns' rows under their headers (unless `--no-headers`), as kubectl aligns them.
    fn columns_table(&self, columns: &CustomColumns, rows: &[Vec<String>]) -> String {
        let headers = (!self.table.no_headers).then(|| columns.headers());
        render_kubectl(headers.as_deref(), rows)
    }

    /// Objects printed together at the end: a JSONPath template run on their `List`, custom
    /// columns, a `List`, or `-o name` lines.
    fn write_objects(&self, o: &mut dyn Write, objects: Vec<Value>) -> std::io::Result<()> {
        match (&self.user_format, self.object_format()) {
            (Some(UserFormat::JsonPath(t)), _) => {
                o.write_all(t.render(&list_of(objects)).as_bytes())
            }
            (Some(UserFormat::Columns(c)), _) => {
                let rows: Vec<Vec<String>> = objects.iter().map(|x| c.row(x)).collect();
                o.write_all(self.columns_table(c, &rows).as_bytes())
            }
            (None, Some(f)) => {
                let mut w = ListWriter::begin(o, f)?;
                for object in &objects {
                    w.item(o, object)?;
                }
                w.end(o)
            }
            (None, None) => objects
                .iter()
                .try_for_each(|object| o.write_all(name_line(object).as_bytes())),
        }
    }

    /// A table for the rows of this view (the printer moves into it).
    fn into_table(self) -> Table {
        Table::new(self.printer, self.table, Ctx { now: self.now })
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
        view.prepare(object);
        match (&view.user_format, view.object_format()) {
            (Some(UserFormat::JsonPath(t)), _) => {
                out.run(|o| o.write_all(t.render(object).as_bytes()))?
            }
            (Some(UserFormat::Columns(c)), _) => {
                let text = view.columns_table(c, &[c.row(object)]);
                out.run(|o| o.write_all(text.as_bytes()))?
            }
            (None, Some(f)) => out.run(|o| write_object(o, f, object))?,
            (None, None) if view.format == OutputFormat::Name => {
                out.run(|o| o.write_all(name_line(object).as_bytes()))?
            }
            (None, None) => {
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
    /// Objects kept until the end: for `--sort-by`, or for a JSONPath template run on their
    /// `List` ([`View::write_objects`]).
    Kept(Vec<(SortKey, Value)>),
    Names,
    Table(Table),
    /// `-o custom-columns` rows.
    Rows(Vec<(SortKey, Vec<String>)>),
}

pub(super) fn many(
    source: &dyn Source,
    query: &RangeQuery,
    keep: &Keep,
    prefix: &str,
    keys: &revkeeper_formats::k8s::Keyring,
    mut view: View,
    empty_note: &str,
) -> Result<()> {
    if view.format == OutputFormat::Jsonl && view.table.sort_by.is_none() {
        return json_lines(source, query, keep, prefix, keys, &view);
    }
    if let Some(warning) = view.before_output.and_then(|c| c()) {
        crate::log::warn(&warning, &[]);
    }
    let mut failures = Failures::default();
    let mut out = Stdout::new();
    let mut found = 0u64;
    let sorted = view.table.sort_by.is_some();
    let mut listing = match (&view.user_format, view.object_format()) {
        (Some(UserFormat::Columns(_)), _) => Listing::Rows(Vec::new()),
        (Some(UserFormat::JsonPath(_)), _) => Listing::Kept(Vec::new()),
        (None, _)
            if sorted && (view.object_format().is_some() || view.format == OutputFormat::Name) =>
        {
            Listing::Kept(Vec::new())
        }
        (None, Some(f)) => {
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
        (None, None) if view.format == OutputFormat::Name => Listing::Names,
        (None, None) => {
            // The table owns the printer; the view keeps a placeholder it never uses.
            let printer = std::mem::replace(&mut view.printer, Printer::Mixed);
            Listing::Table(Table::new(
                printer,
                view.table.clone(),
                Ctx { now: view.now },
            ))
        }
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
        if !view.selector.as_ref().is_none_or(|s| s.matches(object))
            || !view.fields.as_ref().is_none_or(|f| f.matches(object))
        {
            return Ok(());
        }
        found += 1;
        match &mut listing {
            // Tables read the stored object whole (and sort by what was stored).
            Listing::Table(t) => t.add(object, Some(&facts)),
            Listing::Names => out.run(|o| o.write_all(name_line(object).as_bytes()))?,
            Listing::Objects(w) => {
                view.prepare(object);
                out.run(|o| w.item(o, object))?
            }
            Listing::Kept(kept) => {
                let key = view.sort_key(object);
                view.prepare(object);
                kept.push((key, std::mem::take(object)));
            }
            Listing::Rows(rows) => {
                let key = view.sort_key(object);
                view.prepare(object);
                if let Some(UserFormat::Columns(c)) = &view.user_format {
                    rows.push((key, c.row(object)));
                }
            }
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
        Listing::Kept(mut kept) => {
            // A stable sort: equal keys keep the source's (key) order, as kubectl's does.
            kept.sort_by(|a, b| a.0.cmp(&b.0));
            let objects = kept.into_iter().map(|(_, o)| o).collect();
            out.run(|o| view.write_objects(o, objects))?;
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
        Listing::Rows(mut rows) => {
            if found == 0 {
                crate::log::info(empty_note, &[]);
            } else if let Some(UserFormat::Columns(c)) = &view.user_format {
                rows.sort_by(|a, b| a.0.cmp(&b.0));
                let rows: Vec<Vec<String>> = rows.into_iter().map(|(_, r)| r).collect();
                let text = view.columns_table(c, &rows);
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
    let (_, failures) = write_json_lines(
        source,
        query,
        &keep,
        keys,
        filter,
        view.before_output,
        &mut out,
    )?;
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
        Some(_) => print_revisions(&mut out, &view, &changes, decoded)?,
        None if view.user_format.is_some() => print_revisions(&mut out, &view, &changes, decoded)?,
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

/// The kept revisions as objects (their `resourceVersion` the revision): a `List`, custom
/// columns or a JSONPath template over them.
fn print_revisions(
    out: &mut Stdout,
    view: &View,
    changes: &[crate::source::KeyChange],
    decoded: Vec<Option<Decoded>>,
) -> Result<()> {
    let objects: Vec<Value> = changes
        .iter()
        .zip(decoded)
        .filter_map(|(c, d)| {
            let mut object = d?.object?;
            set_resource_version(&mut object, c.revision);
            view.prepare(&mut object);
            Some(object)
        })
        .collect();
    out.run(|o| view.write_objects(o, objects))
}

/// The `-o name` line: `kind.group/name`, as kubectl prints it.
fn name_line(object: &Value) -> String {
    format!(
        "{}/{}\n",
        resources::name_prefix(object),
        object["metadata"]["name"].as_str().unwrap_or("")
    )
}
