//! The bbolt file format (see `docs/format-bbolt.md`). Byte order is little-endian, as on every
//! platform etcd runs on in practice.
//!
//! Reading: [`Db`] opens a file (mmap) and finds its winning meta, `node` reads the elements of a
//! branch or leaf page, [`Bucket`] and [`Iter`] walk the B+trees zero-copy, [`check::check`] is
//! `bbolt check`; [`writer`] bulk-writes a compact file. Malformed input gives an [`Error`] naming
//! the page, never a panic. `testfile` (hand-built files) and `fuzz_seeds` exist only in tests.

pub mod check;
pub mod cursor;
pub mod db;
pub mod error;
pub mod freelist;
#[cfg(test)]
mod fuzz_seeds;
pub mod meta;
mod node;
pub mod page;
#[cfg(test)]
pub(crate) mod testfile;
pub mod writer;

pub use check::{Problem, check};
pub use cursor::{Bucket, Entry, Iter};
pub use db::Db;
pub use error::{Error, Result};
