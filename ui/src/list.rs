//! A scrollable, filterable, sortable list: the cursor and filter of one screen, and the
//! [`Rows`] a screen shows in it. The filtered and sorted order is computed once per change of
//! data, filter or sort (not per frame), so a list of a million objects stays responsive.

use std::cmp::Ordering;

use ratatui::layout::Constraint;
use revkeeper_formats::units::{natural_cmp, parse_human_duration};

/// The rows of one list screen, borrowed from the loaded data.
pub trait Rows {
    /// Fixed column names; a list whose columns come with its data overrides [`Rows::header_row`].
    fn headers(&self) -> &'static [&'static str];
    fn header_row(&self) -> Vec<String> {
        self.headers().iter().map(|h| h.to_string()).collect()
    }
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Whether row `i` matches `filter` (already lowercased).
    fn matches(&self, i: usize, filter: &str) -> bool;
    /// Orders rows `a` and `b` by column `col` (an index into `headers`), for the default
    /// [`Rows::sort`].
    fn compare(&self, _a: usize, _b: usize, _col: usize) -> Ordering {
        Ordering::Equal
    }
    /// Which columns `s` cycles through (default: none, the data's own order).
    fn sortable(&self) -> &'static [usize] {
        &[]
    }
    /// [`Rows::sortable`], for lists whose columns come with their data.
    fn sort_columns(&self) -> Vec<usize> {
        self.sortable().to_vec()
    }
    /// Orders `rows` (indices) by column `col`, stably; by default with [`Rows::compare`].
    fn sort(&self, rows: &mut [usize], col: usize) {
        rows.sort_by(|&a, &b| self.compare(a, b, col));
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

/// Cells a filter looks at per refresh (per frame): a million-row list is filtered over several
/// frames, showing matches as they come, instead of blocking keys for one long pass. A list of
/// one column filters 200 000 rows a frame, kubectl's six pod columns a sixth of that.
const CELLS_PER_SLICE: usize = 200_000;

#[derive(Clone, Debug, Default)]
pub struct ListState {
    /// Position in the filtered view.
    pub selected: usize,
    pub offset: usize,
    pub filter: String,
    /// Index into the rows' `sortable()` list; `None`: the data's order.
    pub sort: Option<usize>,
    pub reverse: bool,
    /// Every row in sort order, and the (generation, sort, reverse) it was made for.
    ordered: Vec<usize>,
    ordered_stamp: Option<(u64, Option<usize>, bool)>,
    /// Row indices in display order, and the (generation, filter, sort, reverse) they are for.
    view: Vec<usize>,
    stamp: Option<(u64, String, Option<usize>, bool)>,
    /// A filter pass still going: the candidates (`None`: `ordered`), how far, the needle.
    scan: Option<(Option<Vec<usize>>, usize, String)>,
}

impl ListState {
    /// Brings the view up to date with the data (`generation`), filter and sort, filtering at
    /// most [`CELLS_PER_SLICE`] cells per call (see [`ListState::is_pending`]).
    pub fn refresh(&mut self, rows: &dyn Rows, generation: u64) {
        let order = (generation, self.sort, self.reverse);
        if self.ordered_stamp != Some(order) || self.ordered.len() != rows.len() {
            let mut ordered: Vec<usize> = (0..rows.len()).collect();
            if let Some(col) = self.sort.and_then(|s| rows.sort_columns().get(s).copied()) {
                rows.sort(&mut ordered, col);
            }
            if self.reverse {
                ordered.reverse();
            }
            self.ordered = ordered;
            self.ordered_stamp = Some(order);
            self.stamp = None;
            self.scan = None;
        }
        let stamp = (generation, self.filter.clone(), self.sort, self.reverse);
        if self.stamp.as_ref() != Some(&stamp) {
            let needle = self.filter.to_lowercase();
            // Typing one more character only narrows the last view: search that, not every row.
            let narrowing = self.scan.is_none()
                && self.stamp.as_ref().is_some_and(|(g, f, s, r)| {
                    (*g, *s, *r) == order && !f.is_empty() && needle.starts_with(&f.to_lowercase())
                });
            self.scan = None;
            if needle.is_empty() {
                self.view = self.ordered.clone();
            } else {
                let candidates = narrowing.then(|| std::mem::take(&mut self.view));
                self.view = Vec::new();
                self.scan = Some((candidates, 0, needle));
            }
            self.stamp = Some(stamp);
        }
        if let Some((candidates, pos, needle)) = &mut self.scan {
            let source = candidates.as_deref().unwrap_or(&self.ordered);
            let per_slice = CELLS_PER_SLICE / rows.header_row().len().max(1);
            let end = (*pos + per_slice).min(source.len());
            self.view.extend(
                source[*pos..end]
                    .iter()
                    .copied()
                    .filter(|&i| rows.matches(i, needle)),
            );
            *pos = end;
            if end == source.len() {
                self.scan = None;
            }
        }
        self.clamp();
    }

    /// Whether a filter pass is still going (call [`ListState::refresh`] again).
    pub fn is_pending(&self) -> bool {
        self.scan.is_some()
    }

    /// For a text screen: `n` lines, the cursor being the first line shown.
    pub fn refresh_lines(&mut self, n: usize) {
        if self.view.len() != n {
            self.view = (0..n).collect();
            self.stamp = None;
            self.ordered_stamp = None;
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

/// Orders `rows` (indices, stably) by a column of texts as a person reads it: a column of
/// durations (`45s`, `3d4h`: AGE, LAST SEEN) by length of time, of numbers by value, any
/// other in natural order (`web-2` before `web-10`, `2/3` before `10/10`). Placeholders
/// (empty, `-`, `<none>`, `<unknown>`) come first.
pub fn sort_by_text<'a>(rows: &mut [usize], cell: impl Fn(usize) -> &'a str) {
    fn placeholder(t: &str) -> bool {
        t.is_empty() || t == "-" || (t.starts_with('<') && t.ends_with('>'))
    }
    fn number(t: &str) -> Option<f64> {
        let numeric = t.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.');
        numeric.then(|| t.parse().ok()).flatten()
    }
    let kind_of_all = |parse: &dyn Fn(&str) -> bool| {
        let mut any = false;
        let all = rows.iter().all(|&i| {
            let t = cell(i);
            let value = !placeholder(t);
            any |= value;
            !value || parse(t)
        });
        all && any
    };
    if kind_of_all(&|t| parse_human_duration(t).is_some()) {
        rows.sort_by_key(|&i| parse_human_duration(cell(i)));
    } else if kind_of_all(&|t| number(t).is_some()) {
        let key = |i: usize| number(cell(i)).unwrap_or(f64::NEG_INFINITY);
        rows.sort_by(|&a, &b| key(a).total_cmp(&key(b)));
    } else {
        rows.sort_by(|&a, &b| natural_cmp(cell(a), cell(b)));
    }
}

/// Case-insensitive substring match of an already lowercased needle.
pub fn contains(hay: &str, needle_lower: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle_lower.as_bytes());
    let Some((&first, rest)) = n.split_first() else {
        return true;
    };
    if !hay.is_ascii() || !needle_lower.is_ascii() {
        return hay.to_lowercase().contains(needle_lower);
    }
    if h.len() < n.len() {
        return false;
    }
    (0..=h.len() - n.len()).any(|i| {
        h[i].to_ascii_lowercase() == first && h[i + 1..i + n.len()].eq_ignore_ascii_case(rest)
    })
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
        let rows = Names(vec!["x"; 100]);
        let mut l = ListState::default();
        l.refresh(&rows, 1);
        l.move_by(30);
        assert_eq!(l.scroll_to_fit(10), 21);
        l.top();
        assert_eq!(l.scroll_to_fit(10), 0);
    }

    #[test]
    fn a_big_list_is_filtered_over_several_refreshes() {
        let names: Vec<&'static str> = (0..250_000)
            .map(|i| if i % 2 == 0 { "even" } else { "odd" })
            .collect();
        let rows = Names(names);
        let mut l = ListState::default();
        l.refresh(&rows, 1);
        assert!(!l.is_pending());
        let settle = |l: &mut ListState| {
            let mut passes = 1;
            l.refresh(&rows, 1);
            while l.is_pending() {
                l.refresh(&rows, 1);
                passes += 1;
            }
            passes
        };
        l.set_filter("ODD".into());
        assert_eq!(settle(&mut l), 2, "250 000 rows, 200 000 per pass");
        assert_eq!(l.len(), 125_000);
        assert_eq!(l.current(), Some(1));
        // one more character searches only the 125 000 matches
        l.set_filter("ODD?".into());
        assert_eq!(settle(&mut l), 1);
        assert_eq!(l.len(), 0);
        // a shorter filter starts over from every row
        l.set_filter("D".into());
        assert_eq!(settle(&mut l), 2);
        assert_eq!(l.len(), 125_000);
    }

    #[test]
    fn columns_sort_as_durations_numbers_or_natural_text() {
        let sorted = |cells: &[&'static str]| {
            let mut rows: Vec<usize> = (0..cells.len()).collect();
            sort_by_text(&mut rows, |i| cells[i]);
            rows.iter().map(|&i| cells[i]).collect::<Vec<_>>()
        };
        assert_eq!(
            sorted(&["2d", "45s", "<unknown>", "3h5m", "10m"]),
            ["<unknown>", "45s", "10m", "3h5m", "2d"]
        );
        assert_eq!(
            sorted(&["10", "9", "<none>", "1.5"]),
            ["<none>", "1.5", "9", "10"]
        );
        assert_eq!(
            sorted(&["3 (5m ago)", "12 (1h ago)", "0", "10/10", "9/10"]),
            ["0", "3 (5m ago)", "9/10", "10/10", "12 (1h ago)"]
        );
        assert_eq!(
            sorted(&["web-10", "web-2", "5m", "db"]),
            ["5m", "db", "web-2", "web-10"],
            "a column not all durations sorts as text"
        );
    }

    #[test]
    fn substring_match_ignores_case() {
        assert!(contains("Kube-System", "system"));
        assert!(!contains("default", "system"));
        assert!(contains("any", ""));
    }
}
