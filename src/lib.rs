//! revkeeper's core: sources (a live etcd or a snapshot file) behind one interface, backup,
//! restore, decode and inspect. The CLI in `cli` is thin glue over these modules.

pub mod backup;
pub mod cli;
pub mod connect;
pub mod decode;
pub mod diff;
pub mod error;
pub mod inspect;
pub mod interrupt;
pub mod location;
pub mod log;
pub mod output;
pub mod printers;
pub mod remediate;
pub mod restore;
pub mod snapshot;
pub mod source;
pub mod timefmt;
pub mod tui_backend;

pub use error::{Error, ErrorKind, Result};
