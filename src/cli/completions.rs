//! `revkeeper completions SHELL`: the shell completion script, generated from the clap
//! definitions, on stdout.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::Result;
use crate::output::with_stdout;

/// Print a completion script for bash, zsh or fish (see the README for where it goes)
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_parser = ["bash", "zsh", "fish"])]
    pub shell: String,
}

pub fn run(args: CompletionsArgs) -> Result<()> {
    let shell: Shell = args
        .shell
        .parse()
        .map_err(|_| crate::Error::invalid(format!("unknown shell {}", args.shell)))?;
    let mut cmd = super::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "revkeeper", &mut script);
    with_stdout(|o| o.write_all(&script))
}
