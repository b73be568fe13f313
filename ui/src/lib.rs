//! revkeeper's terminal UI. It renders what the core gives it through the [`Backend`] trait and
//! never talks to etcd or to files itself; every backend call runs on a worker thread, so the
//! screen answers keys while a big snapshot is scanned or a cluster is slow.
//!
//! - `backend`: the trait and the view models the core fills;
//! - `app`: loaded data, the stack of screens, the input mode;
//! - `keys`: what each key does; `views`: drawing, one module per screen;
//! - `worker`: backend calls off the drawing thread; `terminal`: setup, the loop, restore.

mod actions;
pub mod app;
pub mod backend;
mod highlight;
pub mod keys;
pub mod list;
mod terminal;
#[cfg(feature = "testing")]
pub mod testing;
pub mod theme;
pub mod views;
pub mod worker;

pub use backend::*;
/// The ratatui this crate draws with (tests drive it with its TestBackend).
pub use ratatui;
pub use terminal::run;
pub use theme::Theme;

use std::time::Duration;

/// How to run the TUI.
pub struct Options {
    /// Polls a live source this often, backing off while it fails; `None` for snapshots.
    pub refresh: Option<Duration>,
    pub theme: Theme,
    /// Called with `("first-frame", time since start)` and `("key", time to handle and draw)`,
    /// for measurements (`REVKEEPER_TUI_TIMINGS`).
    pub timings: Option<Timings>,
}

/// Receives `(what, how long)` measurements.
pub type Timings = Box<dyn FnMut(&str, Duration)>;
