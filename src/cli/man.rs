//! `revkeeper man`: manual pages in roff, generated from the clap definitions.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_mangen::Man;

use crate::output::with_stdout;
use crate::{Error, Result};

/// Print the revkeeper(1) manual page, or write one page per command with --dir
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write revkeeper.1 and a page per subcommand (revkeeper-snapshot-save.1, …) into DIR
    /// (created if missing), as packagers install them into man1/
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run(args: ManArgs) -> Result<()> {
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    cmd.build();
    match args.dir {
        None => {
            let page = render(&Man::new(cmd))?;
            with_stdout(|o| o.write_all(&page))
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
            write_pages(&cmd, &dir)
        }
    }
}

/// Writes the page of `cmd`, then those of its subcommands, recursively (subcommands arrive
/// named `revkeeper-snapshot-save` from `build`).
fn write_pages(cmd: &clap::Command, dir: &Path) -> Result<()> {
    let man = Man::new(cmd.clone());
    let path = dir.join(man.get_filename());
    let page = render(&man)?;
    std::fs::write(&path, page).map_err(|e| Error::io("write", &path, e))?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir)?;
    }
    Ok(())
}

fn render(man: &Man) -> Result<Vec<u8>> {
    let mut page = Vec::new();
    man.render(&mut page)
        .map_err(|e| Error::general(format!("cannot render the manual page: {e}")))?;
    Ok(page)
}
