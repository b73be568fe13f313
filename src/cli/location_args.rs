//! The flags of every verb that takes a backup location or a snapshot: `--s3-endpoint`,
//! `--s3-region`, and for readers `--identity` and `--latest`. Credentials come from the
//! environment only (docs/locations.md).

use std::path::PathBuf;

use crate::Result;
use crate::location::{Location, LocationOptions, Store};
use crate::source::open::OpenOptions;
use crate::source::{SnapshotSource, open};

#[derive(Clone, Debug, Default, clap::Args)]
pub struct StoreArgs {
    /// S3-compatible server (MinIO, Ceph RGW, R2, …) for s3:// locations; overrides
    /// AWS_ENDPOINT_URL. Plain http needs AWS_ALLOW_HTTP=true
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// Region for s3:// locations; overrides AWS_REGION
    #[arg(long, value_name = "REGION")]
    pub s3_region: Option<String>,
}

impl StoreArgs {
    pub fn options(&self) -> LocationOptions {
        LocationOptions {
            s3_endpoint: self.s3_endpoint.clone(),
            s3_region: self.s3_region.clone(),
            ..LocationOptions::default()
        }
    }

    /// Parses and opens a location (a directory or a bucket URL).
    pub fn open(&self, text: &str) -> Result<Store> {
        Location::parse(text)?.open(&self.options())
    }
}

/// How a reading verb finds and unlocks its snapshot.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ReadArgs {
    /// age identity file to decrypt an encrypted snapshot (repeatable); default: the file named
    /// by REVKEEPER_AGE_IDENTITY
    #[arg(long, value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    /// The snapshot argument is a directory or bucket URL: read its newest snapshot (the
    /// highest revision, from the manifests)
    #[arg(long)]
    pub latest: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

impl ReadArgs {
    pub fn options(&self) -> OpenOptions {
        OpenOptions {
            location: self.store.options(),
            identities: self.identity.clone(),
            latest: self.latest,
        }
    }

    /// Opens a snapshot file, `file://`, object URL, or the newest of a location (`--latest`).
    pub fn open(&self, text: &str) -> Result<SnapshotSource> {
        open::open(text, &self.options())
    }

    /// [`ReadArgs::open`], warning once when the snapshot's bytes cannot be proven intact.
    pub fn open_for_reading(&self, text: &str) -> Result<SnapshotSource> {
        open::open_for_reading(text, &self.options())
    }
}
