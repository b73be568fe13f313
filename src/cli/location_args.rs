//! The flags of every verb that takes a backup location or a snapshot: `--s3-endpoint`,
//! `--s3-region`, and for readers `--identity` and `--latest`. Credentials come from the
//! environment only (docs/locations.md).

use std::path::PathBuf;
use std::sync::Arc;

use crate::backup::save::Target;
use crate::location::{Encryptor, Location, LocationOptions, Store};
use crate::source::open::OpenOptions;
use crate::source::{SnapshotSource, open};
use crate::{Error, Result};

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

/// Where and how backups are written: `snapshot save --dir` and `backup run`.
#[derive(Clone, Debug, clap::Args)]
pub struct DestinationArgs {
    /// Write into a directory or bucket URL (s3://BUCKET/PREFIX, gs://, az://, file://) as
    /// <prefix>-<UTC yyyymmddThhmmssZ>-rev<revision>.db.zst (or .db, + .age); repeatable
    #[arg(long, value_name = "LOCATION")]
    pub dir: Vec<String>,

    /// File name prefix with --dir
    #[arg(long, default_value = "etcd", value_name = "PREFIX")]
    pub prefix: String,

    /// Encrypt with age to this recipient (age1… or an ssh-ed25519/ssh-rsa public key);
    /// repeatable
    #[arg(long, value_name = "RECIPIENT")]
    pub encrypt_to: Vec<String>,

    /// Encrypt with age to every recipient in FILE (one a line, # comments); repeatable
    #[arg(long, value_name = "FILE")]
    pub recipients_file: Vec<PathBuf>,

    #[command(flatten)]
    pub store: StoreArgs,
}

impl DestinationArgs {
    /// The `--dir` locations (each once) with a checked `--prefix`.
    pub fn target(&self) -> Result<Target> {
        let p = &self.prefix;
        let ok = p.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !ok {
            return Err(Error::invalid(format!(
                "--prefix {p:?}: use letters, digits, '.', '_' and '-' (starting with a letter or digit)"
            )));
        }
        if self.dir.is_empty() {
            return Err(Error::invalid("give at least one --dir LOCATION"));
        }
        let mut locations = Vec::new();
        for d in &self.dir {
            let l = Location::parse(d)?;
            if locations.contains(&l) {
                return Err(Error::invalid(format!("--dir {l} is given twice")));
            }
            locations.push(l);
        }
        Ok(Target::Locations {
            locations,
            prefix: p.clone(),
        })
    }

    /// The age recipients of `--encrypt-to`/`--recipients-file`, if any.
    pub fn encryptor(&self) -> Result<Option<Arc<Encryptor>>> {
        Ok(Encryptor::from_args(&self.encrypt_to, &self.recipients_file)?.map(Arc::new))
    }
}
