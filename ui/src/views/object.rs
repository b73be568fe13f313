//! One object: decoded YAML or JSON with colours, the revisions the source keeps, and the
//! diff of two of them.

use std::cmp::Ordering;

use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};

use super::human_bytes;
use crate::backend::{ObjectDoc, RevisionRow};
use crate::highlight;
use crate::list::Rows;
use crate::theme::Theme;

/// The object's lines: a header of facts, the evidence that led here, then the document.
pub fn lines(doc: &ObjectDoc, json: bool, note: Option<&str>, theme: Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let mut facts = format!(
        "# {}  encoding: {}  mod_revision: {}",
        doc.key, doc.encoding, doc.mod_revision
    );
    if doc.lease != 0 {
        facts.push_str(&format!(
            "  lease: {}",
            revkeeper_formats::etcd::lease::id_hex(doc.lease)
        ));
    }
    out.push(Line::styled(facts, theme.dim()));
    if let Some(note) = note {
        for l in note.lines() {
            out.push(Line::styled(format!("# {l}"), theme.warn()));
        }
    }
    if let Some(n) = &doc.note {
        out.push(Line::styled(format!("# {n}"), theme.warn()));
    }
    let text = if json { &doc.json } else { &doc.yaml };
    out.extend(text.lines().map(|l| highlight::line(l, theme)));
    out
}

pub struct HistoryRows<'a> {
    pub rows: &'a [RevisionRow],
    pub marked: &'a [i64],
}

impl Rows for HistoryRows<'_> {
    fn headers(&self) -> &'static [&'static str] {
        &["REVISION", "CHANGE", "VERSION", "BYTES", "MARK"]
    }
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn matches(&self, i: usize, f: &str) -> bool {
        self.rows[i].revision.to_string().contains(f)
    }
    fn compare(&self, a: usize, b: usize, _: usize) -> Ordering {
        self.rows[a].revision.cmp(&self.rows[b].revision)
    }
    fn cells(&self, i: usize) -> Vec<String> {
        let r = &self.rows[i];
        vec![
            r.revision.to_string(),
            if r.deleted { "delete" } else { "put" }.into(),
            r.version.to_string(),
            human_bytes(r.bytes),
            if self.marked.contains(&r.revision) {
                "*"
            } else {
                ""
            }
            .into(),
        ]
    }
    fn widths(&self) -> Vec<Constraint> {
        vec![
            Constraint::Length(12),
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Length(11),
            Constraint::Fill(1),
        ]
    }
}

/// A line diff of two documents: `(sign, text)` with sign `+`, `-` or ` `.
pub fn diff(old: &str, new: &str) -> Vec<(char, String)> {
    similar::TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|c| {
            let sign = match c.tag() {
                similar::ChangeTag::Delete => '-',
                similar::ChangeTag::Insert => '+',
                similar::ChangeTag::Equal => ' ',
            };
            (sign, c.value().trim_end_matches('\n').to_string())
        })
        .collect()
}

pub fn diff_lines(d: &[(char, String)], theme: Theme) -> Vec<Line<'static>> {
    d.iter()
        .map(|(sign, text)| {
            let style = match sign {
                '+' => theme.added(),
                '-' => theme.removed(),
                _ => ratatui::style::Style::new(),
            };
            Line::from(vec![Span::styled(format!("{sign} {text}"), style)])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn diff_marks_changed_lines() {
        let d = super::diff("a: 1\nb: 2\n", "a: 1\nb: 3\n");
        assert_eq!(
            d,
            vec![
                (' ', "a: 1".to_string()),
                ('-', "b: 2".to_string()),
                ('+', "b: 3".to_string())
            ]
        );
    }
}
