//! The keyspace: resources → namespaces → objects, with counts and bytes.

use std::cmp::Ordering;

use ratatui::layout::Constraint;

use super::human_bytes;
use crate::backend::{NamespaceGroup, ObjectRow, ResourceGroup};
use crate::list::{Rows, contains};

pub struct ResourceRows<'a>(pub &'a [ResourceGroup]);

impl Rows for ResourceRows<'_> {
    fn headers(&self) -> &'static [&'static str] {
        &["RESOURCE", "OBJECTS", "BYTES", "NAMESPACES", "ETCD PREFIX"]
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn matches(&self, i: usize, f: &str) -> bool {
        contains(&self.0[i].display, f) || contains(&self.0[i].resource, f)
    }
    fn sortable(&self) -> &'static [usize] {
        &[0, 1, 2]
    }
    fn compare(&self, a: usize, b: usize, col: usize) -> Ordering {
        let (a, b) = (&self.0[a], &self.0[b]);
        match col {
            1 => b.count.cmp(&a.count),
            2 => b.bytes.cmp(&a.bytes),
            _ => a.display.cmp(&b.display),
        }
    }
    fn cells(&self, i: usize) -> Vec<String> {
        let r = &self.0[i];
        vec![
            r.display.clone(),
            r.count.to_string(),
            human_bytes(r.bytes),
            if r.namespaced {
                r.namespaces.len().to_string()
            } else {
                "-".into()
            },
            r.resource.clone(),
        ]
    }
    fn widths(&self) -> Vec<Constraint> {
        vec![
            Constraint::Min(28),
            Constraint::Length(10),
            Constraint::Length(11),
            Constraint::Length(11),
            Constraint::Fill(1),
        ]
    }
}

/// A resource's namespaces, after an `(all)` row.
pub struct NamespaceRows<'a>(pub &'a ResourceGroup);

impl NamespaceRows<'_> {
    /// Row `i`: `None` for `(all)`.
    pub fn namespace(&self, i: usize) -> Option<&NamespaceGroup> {
        self.0.namespaces.get(i.checked_sub(1)?)
    }
}

impl Rows for NamespaceRows<'_> {
    fn headers(&self) -> &'static [&'static str] {
        &["NAMESPACE", "OBJECTS", "BYTES"]
    }
    fn len(&self) -> usize {
        self.0.namespaces.len() + 1
    }
    fn matches(&self, i: usize, f: &str) -> bool {
        self.namespace(i).is_none_or(|n| contains(&n.namespace, f))
    }
    fn sortable(&self) -> &'static [usize] {
        &[0, 1, 2]
    }
    fn compare(&self, a: usize, b: usize, col: usize) -> Ordering {
        match (self.namespace(a), self.namespace(b)) {
            (None, _) => Ordering::Less,
            (_, None) => Ordering::Greater,
            (Some(a), Some(b)) => match col {
                1 => b.count.cmp(&a.count),
                2 => b.bytes.cmp(&a.bytes),
                _ => a.namespace.cmp(&b.namespace),
            },
        }
    }
    fn cells(&self, i: usize) -> Vec<String> {
        match self.namespace(i) {
            None => vec![
                "(all)".into(),
                self.0.count.to_string(),
                human_bytes(self.0.bytes),
            ],
            Some(n) => vec![
                n.namespace.clone(),
                n.count.to_string(),
                human_bytes(n.bytes),
            ],
        }
    }
}

pub struct ObjectRows<'a> {
    pub rows: &'a [ObjectRow],
    /// Show the namespace column (a list across namespaces).
    pub show_namespace: bool,
}

impl Rows for ObjectRows<'_> {
    fn headers(&self) -> &'static [&'static str] {
        if self.show_namespace {
            &["NAMESPACE", "NAME", "BYTES", "MOD REV", "VERSION", "LEASE"]
        } else {
            &["NAME", "BYTES", "MOD REV", "VERSION", "LEASE"]
        }
    }
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn matches(&self, i: usize, f: &str) -> bool {
        let r = &self.rows[i];
        contains(&r.name, f)
            || (self.show_namespace && r.namespace.as_deref().is_some_and(|n| contains(n, f)))
    }
    fn sortable(&self) -> &'static [usize] {
        if self.show_namespace {
            &[1, 2, 3]
        } else {
            &[0, 1, 2]
        }
    }
    fn compare(&self, a: usize, b: usize, col: usize) -> Ordering {
        let (a, b) = (&self.rows[a], &self.rows[b]);
        let col = if self.show_namespace { col } else { col + 1 };
        match col {
            2 => b.bytes.cmp(&a.bytes),
            3 => b.mod_revision.cmp(&a.mod_revision),
            _ => a.name.cmp(&b.name).then(a.namespace.cmp(&b.namespace)),
        }
    }
    fn cells(&self, i: usize) -> Vec<String> {
        let r = &self.rows[i];
        let mut cells = Vec::with_capacity(6);
        if self.show_namespace {
            cells.push(r.namespace.clone().unwrap_or_else(|| "-".into()));
        }
        cells.extend([
            r.name.clone(),
            human_bytes(r.bytes),
            r.mod_revision.to_string(),
            r.version.to_string(),
            lease_hex(r.lease),
        ]);
        cells
    }
    fn widths(&self) -> Vec<Constraint> {
        let mut w = Vec::new();
        if self.show_namespace {
            w.push(Constraint::Length(20));
        }
        w.extend([
            Constraint::Min(30),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(8),
            Constraint::Length(17),
        ]);
        w
    }
}

/// A lease id as etcdctl prints it (`%016x`), `-` for none.
pub fn lease_hex(id: i64) -> String {
    if id == 0 {
        "-".into()
    } else {
        revkeeper_formats::etcd::lease::id_hex(id)
    }
}
