//! The bbolt file format (see `../shared/specs/etcd-restore.md` §2). Byte order is little-endian,
//! as on every platform etcd runs on in practice.

pub mod meta;
pub mod page;
pub mod writer;
