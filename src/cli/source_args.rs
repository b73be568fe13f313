//! `--snapshot FILE` or the connection flags: how every reading command picks its source.

use std::path::PathBuf;

use crate::connect::{ConnectArgs, DEFAULT_COMMAND_TIMEOUT};
use crate::source::{LiveSource, SnapshotSource, Source};
use crate::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct SourceArgs {
    /// Read a snapshot file (`.db` or `.db.zst`) instead of a live cluster
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl SourceArgs {
    pub fn open(&self) -> Result<Box<dyn Source>> {
        if let Some(path) = &self.snapshot {
            return Ok(Box::new(SnapshotSource::open_for_reading(path)?));
        }
        let config = self.connect.resolve()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::general(format!("cannot start the async runtime: {e}")))?;
        let conn = runtime.block_on(config.connect())?;
        let timeout = config.command_timeout.unwrap_or(DEFAULT_COMMAND_TIMEOUT);
        Ok(Box::new(LiveSource::new(
            runtime,
            conn.client,
            conn.endpoint,
            timeout,
        )))
    }
}
