//! etcd leases (not Kubernetes `Lease` objects): classes, attached keys, findings.

use std::cmp::Ordering;

use ratatui::layout::Constraint;

use super::keyspace::lease_hex;
use crate::backend::LeaseRow;
use crate::list::{Rows, contains};

pub struct LeaseRows<'a>(pub &'a [LeaseRow]);

impl Rows for LeaseRows<'_> {
    fn headers(&self) -> &'static [&'static str] {
        &["LEASE", "CLASS", "TTL", "REMAINING", "KEYS", "FINDINGS"]
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn matches(&self, i: usize, f: &str) -> bool {
        let l = &self.0[i];
        contains(&lease_hex(l.id), f)
            || contains(&l.class, f)
            || l.findings.iter().any(|c| contains(c, f))
    }
    fn sortable(&self) -> &'static [usize] {
        &[4, 2, 0]
    }
    fn compare(&self, a: usize, b: usize, col: usize) -> Ordering {
        let (a, b) = (&self.0[a], &self.0[b]);
        match col {
            4 => b.keys.len().cmp(&a.keys.len()),
            2 => b.ttl.cmp(&a.ttl),
            _ => a.id.cmp(&b.id),
        }
    }
    fn cells(&self, i: usize) -> Vec<String> {
        let l = &self.0[i];
        vec![
            lease_hex(l.id),
            l.class.clone(),
            format!("{}s", l.ttl),
            l.remaining_ttl
                .map(|r| format!("{r}s"))
                .unwrap_or_else(|| "-".into()),
            l.keys.len().to_string(),
            l.findings.join(","),
        ]
    }
    fn widths(&self) -> Vec<Constraint> {
        vec![
            Constraint::Length(18),
            Constraint::Length(16),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(7),
            Constraint::Fill(1),
        ]
    }
}

/// The keys attached to one lease.
pub struct KeyRows<'a>(pub &'a [String]);

impl Rows for KeyRows<'_> {
    fn headers(&self) -> &'static [&'static str] {
        &["KEY"]
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn matches(&self, i: usize, f: &str) -> bool {
        contains(&self.0[i], f)
    }
    fn compare(&self, a: usize, b: usize, _: usize) -> Ordering {
        self.0[a].cmp(&self.0[b])
    }
    fn cells(&self, i: usize) -> Vec<String> {
        vec![self.0[i].clone()]
    }
    fn widths(&self) -> Vec<Constraint> {
        vec![Constraint::Fill(1)]
    }
}
