//! The keyspace: resources → namespaces (→ objects, in `objects`), with counts and bytes.

use std::cmp::Ordering;

use ratatui::layout::Constraint;

use super::human_bytes;
use crate::backend::{NamespaceGroup, ResourceGroup};
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

/// A lease id as etcdctl prints it (`%016x`), `-` for none.
pub fn lease_hex(id: i64) -> String {
    if id == 0 {
        "-".into()
    } else {
        revkeeper_formats::etcd::lease::id_hex(id)
    }
}
