//! Everything revkeeper prints on stdout goes through here: the one `-o/--output` format enum
//! (kubectl's names, with etcdctl's `-w/--write-out` alias), the one stdout writer that ends
//! quietly on a closed pipe, JSON, tables ([`table`]), kubectl-style objects ([`objects`],
//! [`yaml`]) and the differences between two sources ([`diff`]). Logs and progress go to stderr
//! (see `crate::log`).

pub mod diff;
pub mod inspect;
pub mod kv_json;
pub mod objects;
pub mod table;
pub mod yaml;

use std::io::Write;

pub use table::render_table;

use crate::error::{Error, Result};

/// Every output format of every verb; each verb accepts a subset (see [`OutputArgs::format`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Wide,
    Name,
    Json,
    Yaml,
    /// One JSON object per line
    Jsonl,
    /// etcdctl's default for keys: a key line, then a value line (raw bytes)
    Simple,
    /// kubectl's `custom-columns=HEADER:JSONPATH,…` (or `custom-columns-file=FILE`)
    CustomColumns,
    /// kubectl's `jsonpath=TEMPLATE` (or `jsonpath-file=FILE`)
    JsonPath,
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
            OutputFormat::Simple => "simple",
            OutputFormat::CustomColumns => "custom-columns",
            OutputFormat::JsonPath => "jsonpath",
        }
    }

    /// Whether the format takes an argument after `=` (`jsonpath=TEMPLATE`).
    fn takes_template(self) -> bool {
        matches!(self, OutputFormat::CustomColumns | OutputFormat::JsonPath)
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

const ALL_FORMATS: [OutputFormat; 9] = [
    OutputFormat::Table,
    OutputFormat::Wide,
    OutputFormat::Name,
    OutputFormat::Json,
    OutputFormat::Yaml,
    OutputFormat::Jsonl,
    OutputFormat::Simple,
    OutputFormat::CustomColumns,
    OutputFormat::JsonPath,
];

/// The values `-o` takes, for help and completions (a template follows the `=`).
const VALUE_NAMES: &[&str] = &[
    "table",
    "wide",
    "name",
    "json",
    "yaml",
    "jsonl",
    "simple",
    "custom-columns=",
    "custom-columns-file=",
    "jsonpath=",
    "jsonpath-file=",
];

/// What `-o` was given: a format, and for `custom-columns`/`jsonpath` its template (inline,
/// or a file read when the command runs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputChoice {
    pub format: OutputFormat,
    template: Option<TemplateText>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum TemplateText {
    Inline(String),
    File(std::path::PathBuf),
}

/// Parses `-o` values: a format name, `custom-columns=…`, `custom-columns-file=FILE`,
/// `jsonpath=…`, `jsonpath-file=FILE` (kubectl's spellings).
#[derive(Clone, Copy, Debug)]
struct OutputParser;

impl clap::builder::TypedValueParser for OutputParser {
    type Value = OutputChoice;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<OutputChoice, clap::Error> {
        let invalid = |why: String| {
            let mut e = clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd);
            if let Some(a) = arg {
                e.insert(
                    clap::error::ContextKind::InvalidArg,
                    clap::error::ContextValue::String(a.to_string()),
                );
            }
            e.insert(
                clap::error::ContextKind::InvalidValue,
                clap::error::ContextValue::String(why),
            );
            let valid = self.possible_values().into_iter().flatten();
            e.insert(
                clap::error::ContextKind::ValidValue,
                clap::error::ContextValue::Strings(
                    valid.map(|v| v.get_name().to_string()).collect(),
                ),
            );
            e
        };
        let text = value
            .to_str()
            .ok_or_else(|| invalid(value.to_string_lossy().into_owned()))?;
        let (name, template) = match text.split_once('=') {
            Some((name, t)) => (name, Some(t)),
            None => (text, None),
        };
        let (base, from_file) = match name.strip_suffix("-file") {
            Some(base) => (base, true),
            None => (name, false),
        };
        let format = ALL_FORMATS
            .into_iter()
            .find(|f| f.name() == base && (f.takes_template() || !from_file))
            .ok_or_else(|| invalid(text.to_string()))?;
        let template = match (format.takes_template(), template) {
            (false, None) => None,
            (true, Some(t)) if from_file => Some(TemplateText::File(t.into())),
            (true, Some(t)) => Some(TemplateText::Inline(t.to_string())),
            // `-o jsonpath` without `=…`, or `-o json=x`: not a value of this flag.
            _ => return Err(invalid(text.to_string())),
        };
        Ok(OutputChoice { format, template })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            VALUE_NAMES
                .iter()
                .map(|n| clap::builder::PossibleValue::new(*n)),
        ))
    }
}

/// `-o/--output` (kubectl) with `-w/--write-out` (etcdctl), flattened into every verb that prints.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct OutputArgs {
    /// Output format (each command accepts some of these) [aliases: -w, --write-out]
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "write-out",
        visible_short_alias = 'w',
        value_name = "FORMAT",
        value_parser = OutputParser
    )]
    pub output: Option<OutputChoice>,
}

/// The formats of verbs that print a report: `table` (the default) and `json`.
pub const TABLE_JSON: &[OutputFormat] = &[OutputFormat::Table, OutputFormat::Json];

impl OutputArgs {
    /// The format given, whether or not the verb accepts it.
    pub fn chosen(&self) -> Option<OutputFormat> {
        self.output.as_ref().map(|o| o.format)
    }

    /// The chosen format if the verb accepts it (`accepted[0]` when none was given); otherwise
    /// one line naming the accepted values (exit 3).
    pub fn format(&self, accepted: &[OutputFormat]) -> Result<OutputFormat> {
        let Some(chosen) = self.chosen() else {
            return Ok(accepted[0]);
        };
        if accepted.contains(&chosen) {
            return Ok(chosen);
        }
        let names: Vec<String> = accepted
            .iter()
            .map(|f| match f.takes_template() {
                true => format!("{}=…", f.name()),
                false => f.name().to_string(),
            })
            .collect();
        Err(Error::invalid(format!(
            "-o {}: not an output format of this command (use one of: {})",
            chosen.name(),
            names.join(", ")
        )))
    }

    /// The text after `custom-columns=`/`jsonpath=`, or of the `…-file=FILE` (read now, and
    /// named in the answer).
    pub fn template(&self) -> Result<Option<TemplateArg>> {
        match self.output.as_ref().and_then(|o| o.template.as_ref()) {
            None => Ok(None),
            Some(TemplateText::Inline(t)) => Ok(Some(TemplateArg {
                text: t.clone(),
                file: None,
            })),
            Some(TemplateText::File(path)) => std::fs::read_to_string(path)
                .map(|text| {
                    Some(TemplateArg {
                        text,
                        file: Some(path.clone()),
                    })
                })
                .map_err(|e| Error::io("cannot read the -o template file", path, e)),
        }
    }
}

/// A `custom-columns`/`jsonpath` template, and the file it was read from.
pub struct TemplateArg {
    pub text: String,
    pub file: Option<std::path::PathBuf>,
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
