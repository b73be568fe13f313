//! Everything revkeeper prints on stdout goes through here: the one `-o/--output` format enum
//! (kubectl's names, with etcdctl's `-w/--write-out` alias), the one stdout writer that ends
//! quietly on a closed pipe, JSON, tables ([`table`]), kubectl-style objects ([`objects`],
//! [`yaml`]) and the differences between two sources ([`diff`]). Logs and progress go to stderr
//! (see `crate::log`).

pub mod diff;
pub mod objects;
pub mod table;
pub mod yaml;

use std::io::Write;

pub use table::render_table;

use crate::error::{Error, Result};

/// Every output format of every verb; each verb accepts a subset (see [`OutputArgs::format`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Wide,
    Name,
    Json,
    Yaml,
    /// One JSON object per line
    Jsonl,
}

impl OutputFormat {
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Table => "table",
            OutputFormat::Wide => "wide",
            OutputFormat::Name => "name",
            OutputFormat::Json => "json",
            OutputFormat::Yaml => "yaml",
            OutputFormat::Jsonl => "jsonl",
        }
    }

    /// The object format of a format that prints whole objects.
    pub fn objects(self) -> Option<objects::ObjectFormat> {
        match self {
            OutputFormat::Json => Some(objects::ObjectFormat::Json),
            OutputFormat::Yaml => Some(objects::ObjectFormat::Yaml),
            OutputFormat::Jsonl => Some(objects::ObjectFormat::JsonLines),
            _ => None,
        }
    }
}

/// `-o/--output` (kubectl) with `-w/--write-out` (etcdctl), flattened into every verb that prints.
#[derive(Clone, Copy, Debug, Default, clap::Args)]
pub struct OutputArgs {
    /// Output format (each command accepts some of these) [aliases: -w, --write-out]
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "write-out",
        visible_short_alias = 'w',
        value_enum
    )]
    pub output: Option<OutputFormat>,
}

/// The formats of verbs that print a report: `table` (the default) and `json`.
pub const TABLE_JSON: &[OutputFormat] = &[OutputFormat::Table, OutputFormat::Json];

impl OutputArgs {
    /// The chosen format if the verb accepts it (`accepted[0]` when none was given); otherwise
    /// one line naming the accepted values (exit 3).
    pub fn format(&self, accepted: &[OutputFormat]) -> Result<OutputFormat> {
        let Some(chosen) = self.output else {
            return Ok(accepted[0]);
        };
        if accepted.contains(&chosen) {
            return Ok(chosen);
        }
        let names: Vec<&str> = accepted.iter().map(|f| f.name()).collect();
        Err(Error::invalid(format!(
            "-o {}: not an output format of this command (use one of: {})",
            chosen.name(),
            names.join(", ")
        )))
    }
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

/// Writes once to stdout through [`Stdout`] (a closed pipe ends the output quietly).
pub fn with_stdout(f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let mut out = Stdout::new();
    out.run(f)?;
    out.finish()
}

/// A buffered stdout for streaming output. A closed pipe (`| head`) ends the output quietly:
/// writes after it are dropped and [`Stdout::closed`] tells the producer to stop.
pub struct Stdout {
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    closed: bool,
}

impl Stdout {
    pub fn new() -> Stdout {
        Stdout {
            out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
            closed: false,
        }
    }

    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Runs a write; a closed pipe marks the output closed, any other error is returned.
    pub fn run(&mut self, f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        match f(&mut self.out) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(Error::general(format!("cannot write the output: {e}"))),
            Ok(()) => Ok(()),
        }
    }

    pub fn finish(mut self) -> Result<()> {
        self.run(|o| o.flush())
    }
}

impl Default for Stdout {
    fn default() -> Self {
        Stdout::new()
    }
}
