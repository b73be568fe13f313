//! Pure on-disk and wire formats of etcd and Kubernetes: no network, no terminal.
//!
//! - [`bbolt`]: the bbolt B+tree file etcd keeps its state in (reader, checker, writer).
//! - [`etcd`]: etcd's schema inside bbolt (mvcc revisions, key values, meta, leases, members…)
//!   and its WAL and `.snap` files.
//! - [`k8s`]: Kubernetes objects in etcd values (protobuf, CBOR, JSON, encryption at rest) and keys.

pub mod bbolt;
pub mod delta;
pub mod etcd;
pub mod k8s;
pub mod units;
