//! The TUI's object lists: one resource's objects as `revkeeper get RESOURCE` (`-A` across
//! namespaces) prints them — the same printers (`crate::printers`), the same reference time
//! of ages — with each key's etcd facts beside them. On a live cluster, one prefix range of the
//! source; on a snapshot, whose `key` bucket is ordered by revision (a prefix is a scan of the
//! whole bucket), each key the keyspace index lists is read at its mod_revision with one seek,
//! and decoded on every core: the cost follows the resource, not the snapshot.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use revkeeper_formats::k8s::key::{ObjectKey, key_prefix};
use revkeeper_formats::k8s::resources::OTHER_KEYS;
use revkeeper_formats::k8s::{Encoding, Keyring};
use revkeeper_ui::{ObjectRow, ObjectTable, TableColumn};

use super::index::{KeyEntry, KeyspaceIndex};
use crate::decode::{batches, decode_kv};
use crate::printers::{Column, Ctx, Printer, discovery};
use crate::source::{
    ChangeView, KeyRange, KeyView, LeaseRecord, Overview, RangeQuery, SnapshotSource, Source,
};
use crate::{Error, Result};

/// Calls the progress callback every this many objects (a scan).
const PROGRESS_EVERY: u64 = 5_000;
/// Keys read and decoded together by one worker (a snapshot); progress is reported per chunk.
const CHUNK_KEYS: usize = 1024;

/// What an object list is read with.
pub struct ListContext<'a> {
    pub source: &'a dyn Source,
    /// kube-apiserver's `--etcd-prefix`, without a trailing `/`.
    pub prefix: &'a str,
    pub keyring: &'a Keyring,
    /// A snapshot and its keyspace index: lists read the keys the index names, by revision.
    pub indexed: Option<(&'a SnapshotSource, &'a KeyspaceIndex)>,
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
        // A custom resource's columns come from its CRD: on a snapshot, the CRDs the index
        // lists are read by revision instead of a scan of the whole bucket.
        let r = match cx.indexed {
            Some((snapshot, index)) => {
                let crds = Indexed { snapshot, index };
                discovery::for_etcd_resource(&crds, resource, cx.prefix, cx.keyring)?
            }
            None => discovery::for_etcd_resource(cx.source, resource, cx.prefix, cx.keyring)?,
        };
        let notes = (r.unsupported.iter())
            .map(|(column, why)| format!("the CRD's column {column} is left empty: {why}"))
            .collect();
        (r.printer, r.target.namespaced, notes)
    };
    let mut builder = Builder {
        rows: RowMaker {
            columns: printer.columns(),
            printer,
            whole_key_names: resource == OTHER_KEYS,
            ctx: Ctx { now: cx.now },
            with_namespace: namespace.is_none() && namespaced != Some(false),
        },
        made: Vec::new(),
        failed: 0,
        first_failure: None,
    };
    match cx.indexed {
        Some((snapshot, index)) => {
            let listed = listed_keys(index, resource, namespace);
            read_listed(snapshot, &listed, cx.keyring, &mut builder, progress)?;
        }
        None => scan_prefix(cx, resource, namespace, &mut builder, progress)?,
    }
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

/// One key of a list: its index entry and namespace.
type Listed<'a> = (&'a KeyEntry, Option<&'a str>);

/// The keys of `resource` (in `namespace`, or all) the index holds, sorted by key.
fn listed_keys<'a>(
    index: &'a KeyspaceIndex,
    resource: &str,
    namespace: Option<&str>,
) -> Vec<Listed<'a>> {
    let Some(by_ns) = index.groups.get(resource) else {
        return Vec::new();
    };
    let mut listed: Vec<Listed<'a>> = by_ns
        .iter()
        .filter(|(ns, _)| namespace.is_none() || ns.as_deref() == namespace)
        .flat_map(|(ns, keys)| keys.iter().map(move |k| (k, ns.as_deref())))
        .collect();
    // Namespaces are grouped in string order; keys sort `a-b/` before `a/`.
    if !listed.is_sorted_by(|a, b| a.0.key <= b.0.key) {
        listed.sort_unstable_by(|a, b| a.0.key.cmp(&b.0.key));
    }
    listed
}

/// Reads each listed key at its mod_revision and makes its row, on every core, in order.
fn read_listed(
    snapshot: &SnapshotSource,
    listed: &[Listed<'_>],
    keyring: &Keyring,
    builder: &mut Builder,
    progress: &dyn Fn(u64),
) -> Result<()> {
    let chunks: Vec<&[Listed<'_>]> = listed.chunks(CHUNK_KEYS).collect();
    let mut done: Vec<Option<Vec<Made>>> = (0..chunks.len()).map(|_| None).collect();
    let next = AtomicUsize::new(0);
    let rows = &builder.rows;
    std::thread::scope(|s| -> Result<()> {
        let (tx, rx) = mpsc::channel();
        for _ in 0..batches::default_workers().min(chunks.len()) {
            let (tx, next, chunks) = (tx.clone(), &next, &chunks);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(chunk) = chunks.get(i) else {
                        break;
                    };
                    let made = chunk
                        .iter()
                        .map(|(entry, ns)| {
                            let kv = read(snapshot, entry)?;
                            Ok(rows.make(&kv, *ns, keyring))
                        })
                        .collect::<Result<Vec<Made>>>();
                    let failed = made.is_err();
                    if tx.send((i, made)).is_err() || failed {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut seen = 0u64;
        for (i, made) in rx {
            let made = made?;
            seen += made.len() as u64;
            progress(seen);
            done[i] = Some(made);
        }
        Ok(())
    })?;
    for made in done.into_iter().flatten() {
        builder.push(made);
    }
    Ok(())
}

/// The listed key's value at the revision the index saw.
fn read<'s>(snapshot: &'s SnapshotSource, entry: &KeyEntry) -> Result<KeyView<'s>> {
    snapshot
        .written_at(entry.key.as_bytes(), entry.mod_revision)?
        .ok_or_else(|| {
            Error::general(format!(
                "snapshot {}: {} is not at revision {} where the keyspace index found it; reopen the snapshot",
                snapshot.path().display(),
                entry.key,
                entry.mod_revision
            ))
        })
}

/// A snapshot whose scans of the latest revision read the keys its keyspace index lists, each
/// with one seek, instead of scanning the revision-ordered bucket (the index must hold every
/// resource the scans ask for).
struct Indexed<'a> {
    snapshot: &'a SnapshotSource,
    index: &'a KeyspaceIndex,
}

impl Source for Indexed<'_> {
    fn overview(&self) -> Result<Overview> {
        self.snapshot.overview()
    }

    fn scan(&self, query: &RangeQuery, f: &mut dyn FnMut(KeyView<'_>) -> Result<()>) -> Result<()> {
        if query.revision.is_some() {
            return self.snapshot.scan(query, f);
        }
        let mut listed: Vec<&KeyEntry> = (self.index.groups.values())
            .flat_map(|by_ns| by_ns.values().flatten())
            .filter(|e| query.range.contains(e.key.as_bytes()))
            .collect();
        listed.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        for entry in listed {
            let kv = read(self.snapshot, entry)?;
            f(if query.keys_only {
                KeyView { value: &[], ..kv }
            } else {
                kv
            })?;
        }
        Ok(())
    }

    fn scan_changes(
        &self,
        range: &KeyRange,
        f: &mut dyn FnMut(ChangeView<'_>) -> Result<()>,
    ) -> Result<()> {
        self.snapshot.scan_changes(range, f)
    }

    fn leases(&self) -> Result<Vec<LeaseRecord>> {
        self.snapshot.leases()
    }
}

/// The keys below `resource`'s prefix, found by a range of the source.
fn scan_prefix(
    cx: &ListContext<'_>,
    resource: &str,
    namespace: Option<&str>,
    builder: &mut Builder,
    progress: &dyn Fn(u64),
) -> Result<()> {
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
                let made =
                    builder
                        .rows
                        .make(&kv, parsed.as_ref().and_then(|k| k.namespace), cx.keyring);
                builder.push(vec![made]);
                seen += 1;
                if seen % PROGRESS_EVERY == 0 {
                    progress(seen);
                }
            }
            Ok(())
        })
}

/// A row, and why its value did not decode.
type Made = (ObjectRow, Option<String>);

/// How a key becomes a row: the same for every key of a list, shared by the workers.
struct RowMaker {
    printer: Printer,
    columns: Vec<Column>,
    /// Keys outside the Kubernetes layout are named by their whole key.
    whole_key_names: bool,
    ctx: Ctx,
    with_namespace: bool,
}

struct Builder {
    rows: RowMaker,
    made: Vec<ObjectRow>,
    failed: u64,
    first_failure: Option<String>,
}

impl RowMaker {
    fn make(&self, kv: &KeyView<'_>, namespace: Option<&str>, keyring: &Keyring) -> Made {
        let key = String::from_utf8_lossy(kv.key).into_owned();
        let name = match self.whole_key_names {
            true => key.clone(),
            false => key.rsplit('/').next().unwrap_or(&key).to_string(),
        };
        let sparse = self.printer.fields_from_proto(kv.value);
        let (encoding, object, failure) = match sparse {
            Some(o) => (Encoding::Protobuf.label(), Some(o), None),
            None => match decode_kv(kv, keyring) {
                Ok(d) => (d.encoding.label(), d.object, None),
                Err(e) => (
                    "undecodable".to_string(),
                    None,
                    Some(format!("first: {key}: {e}")),
                ),
            },
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
        let row = ObjectRow {
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
        };
        (row, failure)
    }
}

impl Builder {
    fn push(&mut self, made: Vec<Made>) {
        for (row, failure) in made {
            if let Some(f) = failure {
                self.failed += 1;
                self.first_failure.get_or_insert(f);
            }
            self.made.push(row);
        }
    }

    fn finish(mut self, note: Option<String>) -> ObjectTable {
        let mut columns = Vec::new();
        // A custom resource without a CRD may be either scope: NAMESPACE only if keys say so.
        if self.rows.with_namespace && self.made.iter().all(|r| r.namespace.is_none()) {
            self.rows.with_namespace = false;
            for r in &mut self.made {
                r.cells.remove(0);
            }
        }
        if self.rows.with_namespace {
            columns.push(TableColumn {
                name: "NAMESPACE".into(),
                wide: false,
            });
        }
        columns.extend(self.rows.columns.into_iter().map(|c| TableColumn {
            name: c.name.to_uppercase(),
            wide: c.wide,
        }));
        ObjectTable {
            columns,
            rows: self.made,
            note,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui_backend::document;

    /// On cluster-dev's snapshot, lists and documents read by revision through the index are
    /// those the prefix scan finds, for every resource (and namespace) of the keyspace.
    #[test]
    fn lists_and_documents_read_by_revision_equal_the_scans() {
        let Some(db) = revkeeper_harness::require_fixture("cluster-dev/cluster.db") else {
            return;
        };
        let config = db.with_file_name("encryption-config.yaml");
        let keyring = Keyring::load(&config).unwrap();
        let snapshot = SnapshotSource::open(&db).unwrap();
        let prefix = "/registry";
        let mut index = KeyspaceIndex::new(prefix);
        let everything = RangeQuery::latest(KeyRange::prefix(Vec::new()));
        (snapshot.scan(&everything, &mut |kv| {
            index.add(KeyEntry::new(&kv));
            Ok(())
        }))
        .unwrap();
        let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let cx = |indexed| ListContext {
            source: &snapshot,
            prefix,
            keyring: &keyring,
            indexed,
            now,
            now_note: None,
        };
        let (mut lists, mut rows) = (0, 0);
        for (resource, by_ns) in &index.groups {
            let namespaces = std::iter::once(None).chain(by_ns.keys().flatten().take(2).map(Some));
            for ns in namespaces {
                let ns = ns.map(String::as_str);
                let scanned = object_table(&cx(None), resource, ns, &|_| {}).unwrap();
                let read = object_table(&cx(Some((&snapshot, &index))), resource, ns, &|_| {});
                assert_eq!(read.unwrap(), scanned, "{resource} {ns:?}");
                lists += 1;
                rows += scanned.rows.len();
                for row in scanned.rows.iter().take(3) {
                    let latest = index.entry(row.key.as_bytes()).map(|e| e.mod_revision);
                    let open = |indexed, revision| {
                        document::read(&snapshot, indexed, &row.key, revision, &keyring)
                            .map_err(|e| e.to_string())
                    };
                    for revision in [None, Some(row.mod_revision), Some(row.create_revision)] {
                        assert_eq!(
                            open(Some((&snapshot, latest)), revision),
                            open(None, revision),
                            "{} at {revision:?}",
                            row.key
                        );
                    }
                }
            }
        }
        assert!(lists > 40 && rows > 500, "{lists} lists, {rows} rows");
    }
}
