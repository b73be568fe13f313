//! `revkeeper analyze`: per resource, what the Kubernetes data in etcd holds and costs.

use super::source_args::SourceArgs;
use crate::Result;
use crate::decode::DecodeOptions;
use crate::decode::analyze::{Report, analyze};
use crate::output::{OutputArgs, OutputFormat, TABLE_JSON, print_json, render_table, with_stdout};

/// Objects, bytes, kept revisions and encodings per resource; the biggest keys and the keys with the most history
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// How many keys the biggest / most-history lists show
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    #[command(flatten)]
    pub decoding: DecodeOptions,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: AnalyzeArgs) -> Result<()> {
    let format = args.output.format(TABLE_JSON)?;
    let source = args.source.open()?;
    let report = analyze(source.as_ref(), args.decoding.prefix(), args.top)?;
    match format {
        OutputFormat::Json => print_json(&report),
        _ => {
            let text = render(&report);
            with_stdout(|o| o.write_all(text.as_bytes()))
        }
    }
}

fn render(r: &Report) -> String {
    let rows: Vec<Vec<String>> = r
        .resources
        .iter()
        .map(|s| {
            let encodings: Vec<String> = s
                .encodings
                .iter()
                .map(|(e, n)| format!("{e}={n}"))
                .collect();
            vec![
                s.resource.clone(),
                s.objects.to_string(),
                s.bytes.to_string(),
                s.largest_bytes.to_string(),
                s.revisions.to_string(),
                encodings.join(","),
            ]
        })
        .collect();
    let mut out = render_table(
        &[
            "RESOURCE",
            "OBJECTS",
            "BYTES",
            "LARGEST",
            "REVISIONS",
            "ENCODINGS",
        ],
        &rows,
    );
    let others = match r.keys - r.objects {
        0 => String::new(),
        1 => " and 1 other key".to_string(),
        n => format!(" and {n} other keys"),
    };
    out.push_str(&format!(
        "\n{} objects{others}, {} bytes, {} revisions kept\n\n",
        r.objects, r.bytes, r.revisions
    ));
    let biggest: Vec<Vec<String>> = r
        .biggest
        .iter()
        .map(|k| vec![k.bytes.to_string(), k.key.clone()])
        .collect();
    out.push_str(&render_table(&["BYTES", "BIGGEST OBJECTS"], &biggest));
    out.push('\n');
    let most: Vec<Vec<String>> = r
        .most_history
        .iter()
        .map(|k| vec![k.revisions.to_string(), k.key.clone()])
        .collect();
    out.push_str(&render_table(&["REVISIONS", "MOST HISTORY"], &most));
    out
}
