//! A snapshot's sha256 trailer, checked on its own thread from the moment the TUI opens it
//! (seconds on a big file, beside the first load): the CLI readers print the same warning
//! before their output, so the TUI must not show an unproven file as if it were intact. The
//! hash runs at the lowest priority: it takes what the first load leaves of the cores, so
//! findings are not later for it; the keyspace counts wait for its verdict.

use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use crate::source::SnapshotSource;

pub struct TrailerCheck {
    running: Mutex<Option<JoinHandle<Option<String>>>>,
    verdict: OnceLock<Option<String>>,
}

/// What is known of the file's bytes so far.
pub enum Verdict {
    Checking,
    Intact,
    Unproven(String),
}

impl TrailerCheck {
    pub fn start(snapshot: Arc<SnapshotSource>) -> TrailerCheck {
        let handle = std::thread::Builder::new()
            .name("trailer-check".into())
            .spawn(move || {
                lowest_priority();
                snapshot.unproven_warning()
            });
        let check = TrailerCheck {
            running: Mutex::new(None),
            verdict: OnceLock::new(),
        };
        match handle {
            Ok(h) => *check.running.lock().unwrap_or_else(|p| p.into_inner()) = Some(h),
            Err(e) => {
                let _ = check.verdict.set(Some(format!(
                    "the snapshot's sha256 trailer was not checked: {e}"
                )));
            }
        }
        check
    }

    /// The verdict; with `wait`, waits for a check still running instead of saying so.
    pub fn verdict(&self, wait: bool) -> Verdict {
        if self.verdict.get().is_none() {
            let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
            if running.as_ref().is_some_and(|h| !wait && !h.is_finished()) {
                return Verdict::Checking;
            }
            if let Some(h) = running.take() {
                let found = h.join().unwrap_or_else(|_| {
                    Some("the snapshot's sha256 trailer check failed; run `revkeeper snapshot verify`".into())
                });
                let _ = self.verdict.set(found);
            }
        }
        match self.verdict.get() {
            Some(Some(w)) => Verdict::Unproven(w.clone()),
            Some(None) => Verdict::Intact,
            None => Verdict::Checking,
        }
    }
}

/// Nice 19 for the calling thread (Linux gives each thread its own nice value); best effort.
fn lowest_priority() {
    // SAFETY: plain syscalls on the calling thread's id; no memory is shared.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 19);
    }
}
