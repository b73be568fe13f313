//! The inspector's findings: detectors with counts and severities, then each detector's
//! objects with their evidence.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use ratatui::layout::Constraint;

use super::keyspace::lease_hex;
use crate::backend::{Finding, Severity};
use crate::list::{Rows, contains};

/// One detector: its name, how many findings, the worst severity.
#[derive(Clone, Debug, PartialEq)]
pub struct Detector {
    pub check: String,
    pub count: usize,
    pub worst: Severity,
}

/// Findings grouped by detector, worst first, then by name.
pub fn detectors(items: &[Finding]) -> Vec<Detector> {
    let mut by: BTreeMap<&str, Detector> = BTreeMap::new();
    for f in items {
        let d = by.entry(&f.check).or_insert_with(|| Detector {
            check: f.check.clone(),
            count: 0,
            worst: f.severity,
        });
        d.count += 1;
        d.worst = d.worst.max(f.severity);
    }
    let mut out: Vec<Detector> = by.into_values().collect();
    out.sort_by(|a, b| b.worst.cmp(&a.worst).then(a.check.cmp(&b.check)));
    out
}

pub struct DetectorRows(pub Vec<Detector>);

impl Rows for DetectorRows {
    fn headers(&self) -> &'static [&'static str] {
        &["DETECTOR", "SEVERITY", "FINDINGS"]
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn matches(&self, i: usize, f: &str) -> bool {
        contains(&self.0[i].check, f)
    }
    fn sortable(&self) -> &'static [usize] {
        &[2, 0]
    }
    fn compare(&self, a: usize, b: usize, col: usize) -> Ordering {
        let (a, b) = (&self.0[a], &self.0[b]);
        match col {
            2 => b.count.cmp(&a.count),
            _ => a.check.cmp(&b.check),
        }
    }
    fn cells(&self, i: usize) -> Vec<String> {
        let d = &self.0[i];
        vec![d.check.clone(), d.worst.label().into(), d.count.to_string()]
    }
    fn widths(&self) -> Vec<Constraint> {
        vec![
            Constraint::Min(30),
            Constraint::Length(10),
            Constraint::Length(10),
        ]
    }
}

pub struct FindingRows<'a>(pub Vec<&'a Finding>);

impl Rows for FindingRows<'_> {
    fn headers(&self) -> &'static [&'static str] {
        &["OBJECT", "SEVERITY", "LEASE", "EVIDENCE"]
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn matches(&self, i: usize, f: &str) -> bool {
        let x = self.0[i];
        contains(&x.key, f) || contains(&x.evidence, f) || contains(&lease_hex(x.lease), f)
    }
    fn sortable(&self) -> &'static [usize] {
        &[1, 0]
    }
    fn compare(&self, a: usize, b: usize, col: usize) -> Ordering {
        let (a, b) = (self.0[a], self.0[b]);
        match col {
            1 => b.severity.cmp(&a.severity),
            _ => a.key.cmp(&b.key),
        }
    }
    fn cells(&self, i: usize) -> Vec<String> {
        let x = self.0[i];
        vec![
            if x.key.is_empty() {
                "-".into()
            } else {
                x.key.clone()
            },
            x.severity.label().into(),
            lease_hex(x.lease),
            x.evidence.lines().next().unwrap_or("").to_string(),
        ]
    }
    fn widths(&self) -> Vec<Constraint> {
        vec![
            Constraint::Percentage(40),
            Constraint::Length(9),
            Constraint::Length(17),
            Constraint::Fill(1),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_detector_worst_first() {
        let f = |check: &str, severity| Finding {
            check: check.into(),
            severity,
            ..Finding::default()
        };
        let d = detectors(&[
            f("a", Severity::Info),
            f("b", Severity::Warning),
            f("a", Severity::Critical),
        ]);
        assert_eq!(d[0].check, "a");
        assert_eq!((d[0].count, d[0].worst), (2, Severity::Critical));
        assert_eq!((d[1].check.as_str(), d[1].count), ("b", 1));
    }
}
