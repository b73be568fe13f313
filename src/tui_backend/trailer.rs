//! A snapshot's sha256 trailer, checked on its own thread from the moment the TUI opens it
//! (seconds on a big file, beside the first load): the CLI readers print the same warning
//! before their output, so the TUI must not show an unproven file as if it were intact. The
//! hash runs at the lowest priority: it takes what the first load leaves of the cores, so
//! neither the keyspace counts nor the findings are later for it. Once the findings are made it
//! is given the normal priority back when the system allows it (root or `RLIMIT_NICE`): at the
//! lowest, other processes on a busy node could hold it back for long. Until its verdict the
//! header says so (`checking sha256`); the UI then asks for the settled overview, which waits
//! for it.

use std::sync::{Arc, Mutex, OnceLock, TryLockError};
use std::thread::JoinHandle;

use crate::source::SnapshotSource;

pub struct TrailerCheck {
    running: Mutex<Option<JoinHandle<Option<String>>>>,
    verdict: OnceLock<Option<String>>,
    /// The hashing thread's id, for its priority.
    thread: Arc<OnceLock<libc::id_t>>,
}

/// What is known of the file's bytes so far.
pub enum Verdict {
    Checking,
    Intact,
    Unproven(String),
}

impl TrailerCheck {
    pub fn start(snapshot: Arc<SnapshotSource>) -> TrailerCheck {
        let thread = Arc::new(OnceLock::new());
        let tid = thread.clone();
        let handle = std::thread::Builder::new()
            .name("trailer-check".into())
            .spawn(move || {
                let _ = tid.set(thread_id());
                set_priority(thread_id(), 19);
                let verdict = snapshot.unproven_warning();
                super::phases::mark("trailer-verdict");
                verdict
            });
        let check = TrailerCheck {
            running: Mutex::new(None),
            verdict: OnceLock::new(),
            thread,
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

    /// Gives a check still running the normal priority back (the first load and its findings
    /// are done); best effort: without the privilege to raise a priority, it stays at the lowest.
    pub fn hurry(&self) {
        if self.verdict.get().is_none()
            && let Some(&tid) = self.thread.get()
        {
            set_priority(tid, 0);
        }
    }

    /// The verdict; with `wait`, waits for a check still running instead of saying so.
    pub fn verdict(&self, wait: bool) -> Verdict {
        if self.verdict.get().is_none() {
            let mut running = match self.running.try_lock() {
                Ok(r) => r,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                // Another caller is waiting for the verdict.
                Err(TryLockError::WouldBlock) if !wait => return Verdict::Checking,
                Err(TryLockError::WouldBlock) => {
                    self.running.lock().unwrap_or_else(|p| p.into_inner())
                }
            };
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

fn thread_id() -> libc::id_t {
    // SAFETY: a plain syscall without arguments.
    unsafe { libc::syscall(libc::SYS_gettid) as libc::id_t }
}

/// The nice value of thread `tid` (Linux gives each thread its own); best effort.
fn set_priority(tid: libc::id_t, nice: libc::c_int) {
    // SAFETY: a plain syscall on a thread id; no memory is shared.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, tid, nice);
    }
}
