//! A backup directory's snapshots, their verification, and diffs between sources.

use std::cmp::Ordering;

use ratatui::layout::Constraint;

use super::human_bytes;
use crate::backend::{DiffRow, SnapshotRow};
use crate::list::{Rows, contains};

pub struct SnapshotRows<'a> {
    pub rows: &'a [SnapshotRow],
    pub marked: Option<&'a str>,
}

impl Rows for SnapshotRows<'_> {
    fn headers(&self) -> &'static [&'static str] {
        &[
            "SNAPSHOT",
            "TAKEN (UTC)",
            "REVISION",
            "DB SIZE",
            "FILE SIZE",
            "MEMBER",
            "STATUS",
            "MARK",
        ]
    }
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn matches(&self, i: usize, f: &str) -> bool {
        contains(&self.rows[i].file, f) || contains(&self.rows[i].member, f)
    }
    fn sortable(&self) -> &'static [usize] {
        &[1, 2, 3]
    }
    fn compare(&self, a: usize, b: usize, col: usize) -> Ordering {
        let (a, b) = (&self.rows[a], &self.rows[b]);
        match col {
            2 => b.revision.cmp(&a.revision),
            3 => b.db_size.cmp(&a.db_size),
            _ => b.taken.cmp(&a.taken),
        }
    }
    fn cells(&self, i: usize) -> Vec<String> {
        let r = &self.rows[i];
        vec![
            r.file.clone(),
            r.taken.clone(),
            r.revision.to_string(),
            human_bytes(r.db_size),
            human_bytes(r.file_size),
            r.member.clone(),
            r.status.clone(),
            if self.marked == Some(r.path.as_str()) {
                "*"
            } else {
                ""
            }
            .into(),
        ]
    }
    fn widths(&self) -> Vec<Constraint> {
        vec![
            Constraint::Min(30),
            Constraint::Length(21),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(12),
            Constraint::Length(13),
            Constraint::Length(4),
        ]
    }
}

pub struct DiffRows<'a>(pub &'a [DiffRow]);

impl Rows for DiffRows<'_> {
    fn headers(&self) -> &'static [&'static str] {
        &["RESOURCE", "ADDED", "REMOVED", "CHANGED"]
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn matches(&self, i: usize, f: &str) -> bool {
        contains(&self.0[i].resource, f)
    }
    fn sortable(&self) -> &'static [usize] {
        &[1, 2, 3, 0]
    }
    fn compare(&self, a: usize, b: usize, col: usize) -> Ordering {
        let (a, b) = (&self.0[a], &self.0[b]);
        match col {
            1 => b.added.cmp(&a.added),
            2 => b.removed.cmp(&a.removed),
            3 => b.changed.cmp(&a.changed),
            _ => a.resource.cmp(&b.resource),
        }
    }
    fn cells(&self, i: usize) -> Vec<String> {
        let r = &self.0[i];
        vec![
            r.resource.clone(),
            r.added.to_string(),
            r.removed.to_string(),
            r.changed.to_string(),
        ]
    }
}
