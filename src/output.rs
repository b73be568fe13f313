//! `-o/--output` (kubectl) with `-w/--write-out` (etcdctl) on every command that prints data.
//! Machine output goes to stdout; logs and progress go to stderr.

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    #[default]
    Table,
    Json,
}

#[derive(Clone, Copy, Debug, Default, clap::Args)]
pub struct OutputArgs {
    /// Output format: table or json [aliases: -w, --write-out]
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "write-out",
        visible_short_alias = 'w',
        value_enum,
        default_value_t = OutputFormat::Table
    )]
    pub output: OutputFormat,
}

/// Prints `value` as one pretty JSON document on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::general(format!("cannot encode output as JSON: {e}")))?;
    with_stdout(|out| writeln!(out, "{text}"))
}

/// Prints rows under headers as an aligned table on stdout.
pub fn print_table(headers: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let table = render_table(headers, rows);
    with_stdout(|out| out.write_all(table.as_bytes()))
}

/// Writes to a buffered, locked stdout. A closed pipe (`revkeeper get … | head`) ends the
/// output quietly instead of failing, as Unix tools do.
pub fn with_stdout(f: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) -> Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match f(&mut out).and_then(|()| std::io::Write::flush(&mut out)) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::general(format!("cannot write the output: {e}")))
        }
        _ => Ok(()),
    }
}

/// Renders rows under headers as an aligned text table (etcdctl's table look, without borders
/// so it stays easy to grep and cut).
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

#[cfg(test)]
mod tests {
    use super::*;

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
