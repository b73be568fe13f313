//! Kubernetes objects as kube-apiserver stores them in etcd (see `docs/format-k8s.md`).
//!
//! A value's first bytes say what it is, never its key: [`decode_value`] checks, in order,
//! `k8s:enc:` ([`encryption`]), `k8s\0` ([`proto`]), `d9 d9 f7` ([`cbor`]), JSON, and labels
//! anything else as text or binary. [`key`] splits and builds etcd keys (resource, namespace,
//! name); [`resources`] maps the user's resource names to etcd's and back.

pub mod cbor;
pub mod encryption;
pub mod fields;
pub mod key;
pub mod proto;
pub mod resources;
mod value;

pub use encryption::Keyring;
pub use value::SCHEMA_VERSION;
pub use value::{
    Decoded, Encoding, PrintedValue, ValueError, WrittenValue, decode_value, set_resource_version,
    split_printed_value, storage_label, validate_value, write_value_json,
};
