//! What revkeeper knows about snapshot files themselves: etcdutl-compatible status and a
//! structural plus etcd-level verification.

pub mod status;
pub mod verify;
