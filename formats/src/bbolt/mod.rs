//! The bbolt file format (see `../shared/specs/etcd-restore.md` §2). Byte order is little-endian,
//! as on every platform etcd runs on in practice.
//!
//! Reading: [`Db`] opens a file (mmap) and finds its winning meta, [`Bucket`] and [`Iter`] walk the
//! B+trees zero-copy, [`check::check`] is `bbolt check`; [`writer`] bulk-writes a compact file. Malformed input gives an [`Error`] naming
//! the page, never a panic.

pub mod check;
pub mod cursor;
pub mod db;
pub mod error;
pub mod freelist;
pub mod meta;
pub mod page;
pub mod writer;

pub use check::{Problem, check};
pub use cursor::{Bucket, Entry, Iter};
pub use db::Db;
pub use error::{Error, Result};
