//! Backup locations: a local directory or a bucket prefix (`s3://`, `gs://`, `az://`), behind
//! one synchronous API for the snapshot verbs, and age encryption before anything leaves the
//! process. See `docs/locations.md`.
//!
//! - [`Location::parse`] turns what the user typed into a location; its `Display` never holds
//!   credentials (URLs with userinfo or a query are refused, and shown redacted).
//! - [`Location::open`] gives a [`Store`]: `list`, `get_to_temp`, `open_read`, `put_stream`,
//!   `put_small`, `delete`. Cloud stores come from `object_store`'s `from_env` builders, so
//!   credentials are found the way each cloud's own tools find them.
//! - [`Encryptor`] and [`Decryptor`] wrap any `Write`/`Read` in age.
//!
//! The API is blocking; each cloud store runs its own tokio runtime, so do not call it from
//! inside an async task (use `spawn_blocking` or a plain thread).

mod cloud;
mod crypt;
mod errors;
mod parse;
mod store;
mod temp;
mod upload;

use std::time::Duration;

pub use crypt::{
    AGE_HEADER, DecryptingReader, Decryptor, EncryptingWriter, Encryptor, IDENTITY_ENV, is_age,
    is_age_file,
};
pub use errors::{error_from_io, into_io};
pub use parse::{Location, redact};
pub use store::{Entry, Store};
pub use temp::{Fetched, TempFile};
pub use upload::Upload;

/// What the CLI fills from its flags; everything else comes from the environment.
#[derive(Clone, Debug)]
pub struct LocationOptions {
    /// `--s3-endpoint`: an S3-compatible server (MinIO, Ceph RGW, R2, …); overrides
    /// `AWS_ENDPOINT_URL`.
    pub s3_endpoint: Option<String>,
    /// `--s3-region`; overrides `AWS_REGION`.
    pub s3_region: Option<String>,
    /// Where cloud settings and credentials are read from.
    pub env: CloudEnv,
    /// Retries of one request (connection errors, 5xx) before it fails.
    pub max_retries: usize,
    /// The longest time one request may spend retrying.
    pub retry_timeout: Duration,
}

impl Default for LocationOptions {
    fn default() -> LocationOptions {
        LocationOptions {
            s3_endpoint: None,
            s3_region: None,
            env: CloudEnv::Process,
            max_retries: 5,
            retry_timeout: Duration::from_secs(120),
        }
    }
}

/// The source of `AWS_*`, `GOOGLE_*` and `AZURE_*` settings.
#[derive(Clone, Debug, Default)]
pub enum CloudEnv {
    /// The process environment, through `object_store`'s `from_env` builders.
    #[default]
    Process,
    /// The given variables instead, read with the same rules (tests, which must not change
    /// the environment of a multi-threaded process).
    Vars(Vec<(String, String)>),
}
