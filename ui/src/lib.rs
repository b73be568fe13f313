//! revkeeper's terminal UI. It renders what the core (`revkeeper`) gives it and never talks to
//! etcd or to files itself. The views arrive with the TUI issue; until then this crate is empty
//! on purpose so that the workspace layout is fixed from the start.
