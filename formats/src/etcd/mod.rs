//! etcd's data inside bbolt and beside it (see `docs/format-etcd.md`, `docs/format-restore.md`).
//!
//! - bucket contents: [`bucket`] names, [`revision`] keys and [`kv`] values (zero-copy: [`kv_ref`]) of `key`, [`meta`],
//!   [`lease`], [`alarm`], [`auth`], [`cluster`], [`members`];
//! - the files a restore writes beside the database: [`wal`], [`snap`] (with its [`v2store`]
//!   JSON), built from [`raftpb`] messages, all assembled by [`bootstrap`].

pub mod alarm;
pub mod auth;
pub mod bootstrap;
pub mod bucket;
pub mod cluster;
pub mod error;
mod gojson;
mod goneturl;
pub mod kv;
pub mod kv_ref;
pub mod lease;
pub mod members;
pub mod meta;
mod proto;
pub mod raftpb;
pub mod revision;
pub mod snap;
pub mod stream_revision;
pub mod urls;
pub mod v2store;
pub mod wal;

pub use error::SchemaError;
