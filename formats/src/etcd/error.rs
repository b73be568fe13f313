//! The one error type of the etcd schema, WAL and `.snap` decoders.

use thiserror::Error;

/// Why bytes (or a flag value) could not be read as the etcd structure they claim to be.
/// Every message names what was being read, so it can be shown to a user as is.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SchemaError {
    /// A value has the wrong length, a bad marker byte, an out-of-range number…
    #[error("invalid {what}: {reason}")]
    Invalid { what: String, reason: String },
    /// A protobuf message did not decode.
    #[error("cannot decode {what} protobuf: {reason}")]
    Protobuf { what: &'static str, reason: String },
    /// A JSON value did not decode.
    #[error("cannot decode {what} JSON: {reason}")]
    Json { what: String, reason: String },
    /// A URL or `--initial-cluster` value etcd would reject; the message is etcd's.
    #[error("{0}")]
    Url(String),
    /// Membership that etcd would refuse to bootstrap (duplicate or zero IDs, missing member…).
    #[error("{0}")]
    Membership(String),
    /// A WAL segment that is truncated, mis-framed or fails its CRC chain.
    #[error("WAL record at offset {offset}: {reason}")]
    Wal { offset: usize, reason: String },
    /// A `.snap` file whose CRC or content does not check out.
    #[error("snap file: {0}")]
    Snap(String),
}

impl SchemaError {
    pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> SchemaError {
        SchemaError::Invalid {
            what: what.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn protobuf(what: &'static str, err: impl std::fmt::Display) -> SchemaError {
        SchemaError::Protobuf {
            what,
            reason: err.to_string(),
        }
    }

    pub(crate) fn json(what: impl Into<String>, err: impl std::fmt::Display) -> SchemaError {
        SchemaError::Json {
            what: what.into(),
            reason: err.to_string(),
        }
    }
}
