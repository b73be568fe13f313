//! The one table renderer: rows under headers, aligned (etcdctl's table look, without borders
//! so it stays easy to grep and cut).

/// Renders rows under headers as an aligned text table.
pub fn render_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(headers.to_vec());
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

/// Renders a table as kubectl does (Go's `tabwriter`, minimum width 6, padding 3): every cell
/// but the last of a line is padded to its column's width; a cell is cut at its first newline
/// (marked `...`). `headers` is `None` for `--no-headers`.
pub fn render_kubectl(headers: Option<&[String]>, rows: &[Vec<String>]) -> String {
    const MIN_WIDTH: usize = 6;
    const PADDING: usize = 3;
    let cut = |cell: &str| -> String {
        match cell.split_once('\n') {
            Some((first, _)) => format!("{first}..."),
            None => cell.to_string(),
        }
    };
    let lines: Vec<Vec<String>> = headers
        .map(|h| h.to_vec())
        .into_iter()
        .chain(rows.iter().map(|r| r.iter().map(|c| cut(c)).collect()))
        .collect();
    let columns = lines.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![MIN_WIDTH; columns.saturating_sub(1)];
    for line in &lines {
        for (i, cell) in line.iter().enumerate().take(columns.saturating_sub(1)) {
            widths[i] = widths[i].max(cell.chars().count() + PADDING);
        }
    }
    let mut out = String::new();
    for line in &lines {
        for (i, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if let Some(w) = widths.get(i) {
                if i + 1 < line.len() {
                    let pad = w - cell.chars().count();
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_tables_pad_like_tabwriter() {
        let h: Vec<String> = ["NAME", "READY", "STATUS", "AGE"]
            .map(String::from)
            .to_vec();
        let rows = vec![
            ["web-1", "1/1", "Running", "5m"].map(String::from).to_vec(),
            ["a", "0/1", "", "10d"].map(String::from).to_vec(),
            ["b", "0/1", "multi\nline", "1s"].map(String::from).to_vec(),
        ];
        let want = [
            "NAME    READY   STATUS     AGE",
            "web-1   1/1     Running    5m",
            "a       0/1                10d",
            "b       0/1     multi...   1s",
        ];
        assert_eq!(render_kubectl(Some(&h), &rows), want.join("\n") + "\n");
        // Without headers the widths come from the rows alone (at least 6 with padding).
        assert_eq!(
            render_kubectl(None, &rows[..1]),
            "web-1   1/1   Running   5m\n"
        );
    }

    #[test]
    fn table_aligns_columns() {
        let t = render_table(
            &["NAME", "REV"],
            &[
                vec!["a".into(), "1".into()],
                vec!["long-name".into(), "22".into()],
            ],
        );
        assert_eq!(t, "NAME       REV\na          1\nlong-name  22\n");
    }
}
