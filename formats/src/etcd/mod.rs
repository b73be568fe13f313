//! etcd's data inside bbolt and beside it (see `../shared/specs/etcd-restore.md` §3–4).

pub mod kv_ref;
