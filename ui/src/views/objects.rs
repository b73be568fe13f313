//! An object list as `revkeeper get RESOURCE` (`-A` across namespaces) prints it: kubectl's
//! columns; `w` adds `-o wide`'s columns and how etcd stores each object. `/` matches any
//! shown column, `s` sorts by any.

use ratatui::layout::Constraint;

use super::human_bytes;
use super::keyspace::lease_hex;
use crate::backend::{ObjectRow, ObjectTable};
use crate::list::{Rows, contains, sort_by_text};

/// etcd's facts about each object, after kubectl's columns in the wide view.
const FACTS: [&str; 5] = ["ENCODING", "SIZE", "REVISION", "VERSION", "LEASE"];
const FACT_WIDTHS: [u16; 5] = [10, 10, 9, 8, 16];

/// Cells wider than this are cut on screen (an event's MESSAGE); the filter still sees them.
const MAX_WIDTH: usize = 60;

/// A loaded object list, with the width each column needs (measured once, off the drawing
/// thread).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectList {
    pub table: ObjectTable,
    pub widths: Vec<u16>,
    pub encoding_width: u16,
}

impl ObjectList {
    pub fn new(table: ObjectTable) -> ObjectList {
        let fit = |n: usize| n.min(MAX_WIDTH) as u16;
        let mut widths: Vec<u16> = table.columns.iter().map(|c| fit(c.name.len())).collect();
        let mut encoding_width = FACT_WIDTHS[0];
        for r in &table.rows {
            for (w, cell) in widths.iter_mut().zip(&r.cells) {
                *w = (*w).max(fit(cell.chars().count()));
            }
            encoding_width = encoding_width.max(fit(r.encoding.len()));
        }
        ObjectList {
            table,
            widths,
            encoding_width,
        }
    }
}

pub struct ObjectRows<'a> {
    list: &'a ObjectList,
    wide: bool,
    /// The table's columns on screen, by index.
    shown: Vec<usize>,
}

impl<'a> ObjectRows<'a> {
    pub fn new(list: &'a ObjectList, wide: bool) -> ObjectRows<'a> {
        let shown = (list.table.columns.iter().enumerate())
            .filter(|(_, c)| wide || !c.wide)
            .map(|(i, _)| i)
            .collect();
        ObjectRows { list, wide, shown }
    }

    pub fn row(&self, i: usize) -> &'a ObjectRow {
        &self.list.table.rows[i]
    }

    fn cell(&self, i: usize, shown: usize) -> &'a str {
        let row = self.row(i);
        let column = self.shown[shown];
        match row.cells.get(column) {
            Some(c) => c,
            // A value that did not decode still shows where it is.
            None => match self.list.table.columns[column].name.as_str() {
                "NAME" => &row.name,
                "NAMESPACE" => row.namespace.as_deref().unwrap_or(""),
                _ => "",
            },
        }
    }

    fn fact(&self, i: usize, fact: usize) -> String {
        let r = self.row(i);
        match fact {
            0 => r.encoding.clone(),
            1 => human_bytes(r.bytes),
            2 => r.mod_revision.to_string(),
            3 => r.version.to_string(),
            _ => lease_hex(r.lease),
        }
    }

    fn columns(&self) -> usize {
        self.shown.len() + if self.wide { FACTS.len() } else { 0 }
    }
}

impl Rows for ObjectRows<'_> {
    fn headers(&self) -> &'static [&'static str] {
        &[]
    }
    fn header_row(&self) -> Vec<String> {
        let mut h: Vec<String> = (self.shown.iter())
            .map(|&c| self.list.table.columns[c].name.clone())
            .collect();
        if self.wide {
            h.extend(FACTS.map(String::from));
        }
        h
    }
    fn len(&self) -> usize {
        self.list.table.rows.len()
    }
    fn matches(&self, i: usize, f: &str) -> bool {
        (0..self.shown.len()).any(|c| contains(self.cell(i, c), f))
            || (self.wide && contains(&self.row(i).encoding, f))
    }
    fn sort_columns(&self) -> Vec<usize> {
        (0..self.columns()).collect()
    }
    fn sort(&self, rows: &mut [usize], col: usize) {
        let r = |i: usize| self.row(i);
        match col.checked_sub(self.shown.len()) {
            None => sort_by_text(rows, |i| self.cell(i, col)),
            Some(0) => sort_by_text(rows, |i| &r(i).encoding),
            Some(1) => rows.sort_by_key(|&i| r(i).bytes),
            Some(2) => rows.sort_by_key(|&i| r(i).mod_revision),
            Some(3) => rows.sort_by_key(|&i| r(i).version),
            Some(_) => rows.sort_by_key(|&i| r(i).lease),
        }
    }
    fn cells(&self, i: usize) -> Vec<String> {
        let mut cells: Vec<String> = (0..self.shown.len())
            .map(|c| self.cell(i, c).to_string())
            .collect();
        if self.wide {
            cells.extend((0..FACTS.len()).map(|f| self.fact(i, f)));
        }
        cells
    }
    fn widths(&self) -> Vec<Constraint> {
        let mut w: Vec<Constraint> = (self.shown.iter())
            .map(|&c| Constraint::Length(self.list.widths[c]))
            .collect();
        if self.wide {
            let mut facts = FACT_WIDTHS;
            facts[0] = self.list.encoding_width;
            w.extend(facts.map(Constraint::Length));
        }
        w
    }
}
