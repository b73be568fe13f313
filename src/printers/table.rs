//! What kubectl adds to the apiserver's table on its side: NAMESPACE first with `-A`, a column
//! per `-L` label and LABELS last (`--show-labels`), `--sort-by`, `--no-headers`; revkeeper
//! adds etcd's view of each object (`--show-etcd`). Rows are kept until the end, as kubectl
//! aligns columns over all of them.

use std::cmp::Ordering;

use serde_json::Value;

use super::jsonpath::JsonPath;
use super::labels::format_labels;
use super::{Ctx, Printer};

/// How a table is laid out.
#[derive(Clone, Debug, Default)]
pub struct TableOptions {
    /// `-o wide`: the columns with priority > 0 too.
    pub wide: bool,
    /// A NAMESPACE column first (`-A` on a namespaced resource).
    pub with_namespace: bool,
    /// `-L`: one column per label key, headed by the last segment of the key in capitals.
    pub label_columns: Vec<String>,
    /// `--show-labels`: a LABELS column, always last.
    pub show_labels: bool,
    /// `--show-etcd`: ENCODING, SIZE and REVISION of each stored value.
    pub show_etcd: bool,
    pub no_headers: bool,
    /// `--sort-by`: rows ordered by this JSONPath's value (kubectl's natural order).
    pub sort_by: Option<JsonPath>,
}

/// How one object is stored, for `--show-etcd`.
pub struct Stored {
    pub encoding: String,
    pub size: usize,
    pub revision: i64,
}

/// Rows of one resource, rendered at the end.
pub struct Table {
    printer: Printer,
    opts: TableOptions,
    ctx: Ctx,
    /// Which of the printer's cells are shown.
    shown: Vec<bool>,
    rows: Vec<(SortKey, Vec<String>)>,
}

impl Table {
    pub fn new(printer: Printer, opts: TableOptions, ctx: Ctx) -> Table {
        let shown = printer
            .columns()
            .iter()
            .map(|c| opts.wide || !c.wide)
            .collect();
        Table {
            printer,
            opts,
            ctx,
            shown,
            rows: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn headers(&self) -> Vec<String> {
        let mut h = Vec::new();
        if self.opts.with_namespace {
            h.push("NAMESPACE".to_string());
        }
        let columns = self.printer.columns();
        for (c, shown) in columns.iter().zip(&self.shown) {
            if *shown {
                h.push(c.name.to_uppercase());
            }
        }
        if self.opts.show_etcd {
            h.extend(["ENCODING", "SIZE", "REVISION"].map(String::from));
        }
        for key in &self.opts.label_columns {
            h.push(key.rsplit('/').next().unwrap_or(key).to_uppercase());
        }
        if self.opts.show_labels {
            h.push("LABELS".into());
        }
        h
    }

    /// Adds one object's row.
    pub fn add(&mut self, object: &Value, stored: Option<&Stored>) {
        let meta = &object["metadata"];
        let mut row = Vec::with_capacity(self.shown.len() + 4);
        if self.opts.with_namespace {
            row.push(meta["namespace"].as_str().unwrap_or("").to_string());
        }
        let cells = self.printer.cells(object, &self.ctx);
        row.extend(
            cells
                .into_iter()
                .zip(&self.shown)
                .filter(|(_, shown)| **shown)
                .map(|(c, _)| c),
        );
        if self.opts.show_etcd {
            match stored {
                Some(s) => row.extend([
                    s.encoding.clone(),
                    s.size.to_string(),
                    s.revision.to_string(),
                ]),
                None => row.extend(std::iter::repeat_n(String::new(), 3)),
            }
        }
        for key in &self.opts.label_columns {
            row.push(meta["labels"][key].as_str().unwrap_or("").to_string());
        }
        if self.opts.show_labels {
            row.push(format_labels(&meta["labels"]));
        }
        let key = match &self.opts.sort_by {
            Some(path) => SortKey::of(path.find(object).first().copied()),
            None => self.printer.list_order(object),
        };
        self.rows.push((key, row));
    }

    /// The table as kubectl lays it out.
    pub fn render(mut self) -> String {
        // A stable sort: equal keys keep the source's (key) order, as kubectl's does.
        self.rows.sort_by(|a, b| a.0.cmp(&b.0));
        let headers = (!self.opts.no_headers).then(|| self.headers());
        let rows: Vec<Vec<String>> = self.rows.into_iter().map(|(_, r)| r).collect();
        crate::output::table::render_kubectl(headers.as_deref(), &rows)
    }
}

/// What rows are ordered by: nothing (source order), or one value per row. Rows without the
/// value come first; numbers before strings; strings in natural order (`a2` < `a10`).
#[derive(Clone, Debug, PartialEq)]
pub enum SortKey {
    Unsorted,
    Missing,
    Bool(bool),
    Number(f64),
    Text(String),
    /// A number, then a text (e.g. FlowSchemas: precedence, then name).
    Pair(i64, String),
}

impl SortKey {
    /// The key of a value `--sort-by` found (`None`: the object lacks it).
    pub fn of(v: Option<&Value>) -> SortKey {
        match v {
            None | Some(Value::Null) => SortKey::Missing,
            Some(Value::Bool(b)) => SortKey::Bool(*b),
            Some(Value::Number(n)) => SortKey::Number(n.as_f64().unwrap_or(0.0)),
            Some(Value::String(s)) => SortKey::Text(s.clone()),
            Some(other) => SortKey::Text(other.to_string()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            SortKey::Unsorted => 0,
            SortKey::Missing => 1,
            SortKey::Bool(_) => 2,
            SortKey::Number(_) | SortKey::Pair(..) => 3,
            SortKey::Text(_) => 4,
        }
    }
}

impl Eq for SortKey {}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (SortKey::Bool(a), SortKey::Bool(b)) => a.cmp(b),
            (SortKey::Number(a), SortKey::Number(b)) => a.total_cmp(b),
            (SortKey::Text(a), SortKey::Text(b)) => natural_cmp(a, b),
            (SortKey::Pair(a, x), SortKey::Pair(b, y)) => a.cmp(b).then_with(|| x.cmp(y)),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

pub use revkeeper_formats::units::natural_cmp;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn natural_order() {
        let mut v = vec!["a10", "a2", "b", "a02", "a", "A"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["A", "a", "a2", "a02", "a10", "b"]);
    }

    #[test]
    fn decorations_wrap_the_printers_columns() {
        let opts = TableOptions {
            with_namespace: true,
            label_columns: vec!["app.kubernetes.io/name".into(), "tier".into()],
            show_labels: true,
            show_etcd: true,
            sort_by: Some(JsonPath::parse("{.data.n}").unwrap()),
            ..TableOptions::default()
        };
        let ctx = Ctx {
            now: time::macros::datetime!(2026-01-02 00:00:00 UTC),
        };
        let mut t = Table::new(Printer::for_resource("", "configmaps"), opts, ctx);
        for (name, n) in [("b", 10), ("a", 9)] {
            let cm = json!({"metadata": {"name": name, "namespace": "ns",
                "creationTimestamp": "2026-01-01T00:00:00Z",
                "labels": {"tier": "web", "app.kubernetes.io/name": name}}, "data": {"n": n}});
            let stored = Stored {
                encoding: "protobuf".into(),
                size: 100,
                revision: 7,
            };
            t.add(&cm, Some(&stored));
        }
        assert_eq!(
            t.headers(),
            [
                "NAMESPACE",
                "NAME",
                "DATA",
                "AGE",
                "ENCODING",
                "SIZE",
                "REVISION",
                "NAME",
                "TIER",
                "LABELS"
            ]
        );
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[1],
            "ns          a      1      24h   protobuf   100    7          a      web    app.kubernetes.io/name=a,tier=web"
        );
        assert!(lines[2].starts_with("ns          b "), "{text}");
    }
}
