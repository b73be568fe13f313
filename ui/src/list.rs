//! A scrollable, filterable, sortable list: the cursor and filter of one screen, and the
//! [`Rows`] a screen shows in it. The filtered and sorted order is computed once per change of
//! data, filter or sort (not per frame), so a list of a million objects stays responsive.

use std::cmp::Ordering;

use ratatui::layout::Constraint;

/// The rows of one list screen, borrowed from the loaded data.
pub trait Rows {
    fn headers(&self) -> &'static [&'static str];
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Whether row `i` matches `filter` (already lowercased).
    fn matches(&self, i: usize, filter: &str) -> bool;
    /// Orders rows `a` and `b` by column `col` (an index into `headers`).
    fn compare(&self, a: usize, b: usize, col: usize) -> Ordering;
    /// Which columns `s` cycles through (default: none, the data's own order).
    fn sortable(&self) -> &'static [usize] {
        &[]
    }
    fn cells(&self, i: usize) -> Vec<String>;
    /// Column widths; by default the first column takes what the others leave.
    fn widths(&self) -> Vec<Constraint> {
        let n = self.headers().len();
        let mut w = vec![Constraint::Min(24)];
        w.extend(std::iter::repeat_n(
            Constraint::Length(14),
            n.saturating_sub(1),
        ));
        w
    }
}

#[derive(Clone, Debug, Default)]
pub struct ListState {
    /// Position in the filtered view.
    pub selected: usize,
    pub offset: usize,
    pub filter: String,
    /// Index into the rows' `sortable()` list; `None`: the data's order.
    pub sort: Option<usize>,
    pub reverse: bool,
    /// Row indices in display order, and what they were computed from.
    view: Vec<usize>,
    stamp: Option<(u64, String, Option<usize>, bool)>,
}

impl ListState {
    /// Recomputes the view if data (`generation`), filter or sort changed.
    pub fn refresh(&mut self, rows: &dyn Rows, generation: u64) {
        let stamp = (generation, self.filter.clone(), self.sort, self.reverse);
        if self.stamp.as_ref() == Some(&stamp) && self.view.len() <= rows.len() {
            return;
        }
        let filter = self.filter.to_lowercase();
        let mut view: Vec<usize> = (0..rows.len())
            .filter(|&i| filter.is_empty() || rows.matches(i, &filter))
            .collect();
        if let Some(col) = self.sort.and_then(|s| rows.sortable().get(s).copied()) {
            view.sort_by(|&a, &b| rows.compare(a, b, col));
        }
        if self.reverse {
            view.reverse();
        }
        self.view = view;
        self.stamp = Some(stamp);
        self.clamp();
    }

    /// For a text screen: `n` lines, the cursor being the first line shown.
    pub fn refresh_lines(&mut self, n: usize) {
        if self.view.len() != n {
            self.view = (0..n).collect();
            self.stamp = None;
            self.clamp();
        }
    }

    pub fn view(&self) -> &[usize] {
        &self.view
    }

    /// The selected row's index in the data.
    pub fn current(&self) -> Option<usize> {
        self.view.get(self.selected).copied()
    }

    pub fn len(&self) -> usize {
        self.view.len()
    }

    pub fn is_empty(&self) -> bool {
        self.view.is_empty()
    }

    pub fn move_by(&mut self, delta: isize) {
        let max = self.view.len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, max.max(0)) as usize;
    }

    pub fn top(&mut self) {
        self.selected = 0;
    }

    pub fn bottom(&mut self) {
        self.selected = self.view.len().saturating_sub(1);
    }

    pub fn set_filter(&mut self, filter: String) {
        self.filter = filter;
        self.selected = 0;
        self.offset = 0;
    }

    fn clamp(&mut self) {
        self.selected = self.selected.min(self.view.len().saturating_sub(1));
    }

    /// Keeps the cursor within `height` visible rows; returns the first visible row.
    pub fn scroll_to_fit(&mut self, height: usize) -> usize {
        self.offset = self.fitted_offset(height);
        self.offset
    }

    /// The first visible row that keeps the cursor within `height` rows.
    pub fn fitted_offset(&self, height: usize) -> usize {
        let height = height.max(1);
        let offset = if self.selected < self.offset {
            self.selected
        } else if self.selected >= self.offset + height {
            self.selected + 1 - height
        } else {
            self.offset
        };
        offset.min(self.view.len().saturating_sub(1))
    }
}

/// Case-insensitive substring match of an already lowercased needle.
pub fn contains(hay: &str, needle_lower: &str) -> bool {
    if hay.is_ascii() {
        hay.as_bytes()
            .windows(needle_lower.len().max(1))
            .any(|w| w.eq_ignore_ascii_case(needle_lower.as_bytes()))
            || needle_lower.is_empty()
    } else {
        hay.to_lowercase().contains(needle_lower)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Names(Vec<&'static str>);
    impl Rows for Names {
        fn headers(&self) -> &'static [&'static str] {
            &["NAME"]
        }
        fn len(&self) -> usize {
            self.0.len()
        }
        fn matches(&self, i: usize, f: &str) -> bool {
            contains(self.0[i], f)
        }
        fn compare(&self, a: usize, b: usize, _: usize) -> Ordering {
            self.0[a].cmp(self.0[b])
        }
        fn sortable(&self) -> &'static [usize] {
            &[0]
        }
        fn cells(&self, i: usize) -> Vec<String> {
            vec![self.0[i].to_string()]
        }
    }

    #[test]
    fn filters_sorts_and_keeps_the_cursor_inside() {
        let rows = Names(vec!["web-2", "db", "Web-1"]);
        let mut l = ListState::default();
        l.refresh(&rows, 1);
        assert_eq!(l.view(), [0, 1, 2]);
        l.bottom();
        l.set_filter("WEB".into());
        l.refresh(&rows, 1);
        assert_eq!(l.view(), [0, 2]);
        l.sort = Some(0);
        l.refresh(&rows, 1);
        assert_eq!(l.view(), [2, 0], "Web-1 sorts before web-2 (bytewise)");
        l.move_by(10);
        assert_eq!(l.current(), Some(0));
        l.move_by(-10);
        assert_eq!(l.current(), Some(2));
    }

    #[test]
    fn scrolls_to_keep_the_cursor_visible() {
        let rows = Names((0..100).map(|_| "x").collect());
        let mut l = ListState::default();
        l.refresh(&rows, 1);
        l.move_by(30);
        assert_eq!(l.scroll_to_fit(10), 21);
        l.top();
        assert_eq!(l.scroll_to_fit(10), 0);
    }

    #[test]
    fn substring_match_ignores_case() {
        assert!(contains("Kube-System", "system"));
        assert!(!contains("default", "system"));
        assert!(contains("any", ""));
    }
}
