//! SIGINT, SIGTERM and SIGHUP for every command that does not stop its own work on a signal
//! (`snapshot save` stops its stream, `tui` restores the terminal): whatever partial output was
//! registered with [`remove_on_signal`] is removed, and the process exits 5 with one line naming
//! the signal.
//!
//! Temp files and dirs carry the process id in their names ([`temp_prefix`]), so a later run can
//! remove what a SIGKILLed one left ([`remove_stale`]).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::{Error, ErrorKind, Result, log};

struct Registered {
    next_id: u64,
    paths: Vec<(u64, PathBuf)>,
}

static REGISTERED: Mutex<Registered> = Mutex::new(Registered {
    next_id: 0,
    paths: Vec::new(),
});

/// Starts the signal thread. Call once, before any partial output exists.
pub fn install() -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .map_err(|e| Error::general(format!("cannot install signal handlers: {e}")))?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let name = match sig {
                    SIGINT => "SIGINT",
                    SIGTERM => "SIGTERM",
                    _ => "SIGHUP",
                };
                exit_interrupted(name);
            }
        })
        .map_err(|e| Error::general(format!("cannot start the signal thread: {e}")))?;
    Ok(())
}

/// SIGINT, SIGTERM and SIGHUP for a long-running command (`backup run`), caught from the start
/// and never lost: a signal that arrives while no one waits (during a blocking step) is kept
/// until [`StopSignal::wait`] or [`StopSignal::received`] asks.
pub struct StopSignal {
    name: Mutex<Option<&'static str>>,
    notify: tokio::sync::Notify,
}

impl StopSignal {
    pub fn install() -> Result<std::sync::Arc<StopSignal>> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let stop = std::sync::Arc::new(StopSignal {
            name: Mutex::new(None),
            notify: tokio::sync::Notify::new(),
        });
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            .map_err(|e| Error::general(format!("cannot install signal handlers: {e}")))?;
        let shared = stop.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for sig in signals.forever() {
                    let name = match sig {
                        SIGINT => "SIGINT",
                        SIGTERM => "SIGTERM",
                        _ => "SIGHUP",
                    };
                    if let Ok(mut n) = shared.name.lock() {
                        n.get_or_insert(name);
                    }
                    shared.notify.notify_one();
                }
            })
            .map_err(|e| Error::general(format!("cannot start the signal thread: {e}")))?;
        Ok(stop)
    }

    /// The signal received so far, if any.
    pub fn received(&self) -> Option<&'static str> {
        self.name.lock().ok().and_then(|n| *n)
    }

    /// Waits for a signal (returns at once if one came already) and returns its name.
    pub async fn wait(&self) -> &'static str {
        loop {
            if let Some(name) = self.received() {
                return name;
            }
            self.notify.notified().await;
        }
    }
}

/// For `snapshot save`, which stops its stream on a signal: waits for SIGINT, SIGTERM or
/// SIGHUP and returns its name.
pub async fn signalled() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
        _ = hup.recv() => "SIGHUP",
    }
}

fn exit_interrupted(signal: &str) -> ! {
    // Holding the lock until exit also waits out a `critical` section in progress.
    let registered = REGISTERED.lock().unwrap_or_else(|p| p.into_inner());
    for (_, path) in &registered.paths {
        // Other threads keep running until the exit and may still be creating files in it.
        for _ in 0..100 {
            remove_path(path);
            if std::fs::symlink_metadata(path).is_err() {
                break;
            }
        }
    }
    let removed = if registered.paths.is_empty() {
        String::new()
    } else {
        "; partial output removed".to_string()
    };
    log::error(&format!("interrupted by {signal}{removed}"), &[]);
    std::process::exit(ErrorKind::Interrupted.exit_code());
}

/// Removes `path` (a file or a whole dir) if the process is stopped by a signal while the
/// returned guard lives. Dropping the guard forgets the path (it is complete, or already gone).
/// Work still running while the signal is handled must not re-create a removed dir: create
/// what is inside it with `create_dir`, not `create_dir_all`.
#[must_use = "the path is forgotten when the guard is dropped"]
pub fn remove_on_signal(path: &Path) -> RemoveOnSignal {
    let mut r = REGISTERED.lock().unwrap_or_else(|p| p.into_inner());
    let id = r.next_id;
    r.next_id += 1;
    r.paths.push((id, path.to_path_buf()));
    RemoveOnSignal { id }
}

pub struct RemoveOnSignal {
    id: u64,
}

impl Drop for RemoveOnSignal {
    fn drop(&mut self) {
        // Inside `critical` this thread already holds the lock: the id is forgotten when the
        // section ends, before a waiting signal could remove the committed output.
        let deferred = IN_CRITICAL.with_borrow_mut(|ids| ids.as_mut().map(|ids| ids.push(self.id)));
        if deferred.is_none() {
            let mut r = REGISTERED.lock().unwrap_or_else(|p| p.into_inner());
            r.paths.retain(|(id, _)| *id != self.id);
        }
    }
}

thread_local! {
    /// `Some` while this thread runs a `critical` section: the guards dropped in it.
    static IN_CRITICAL: RefCell<Option<Vec<u64>>> = const { RefCell::new(None) };
}

/// Runs `f` (a commit: renames into place) with signals held off until it returns, so a signal
/// never tears it. Guards dropped inside `f` are forgotten before signals resume.
pub fn critical<T>(f: impl FnOnce() -> T) -> T {
    struct Section(std::sync::MutexGuard<'static, Registered>);
    impl Drop for Section {
        fn drop(&mut self) {
            let dropped = IN_CRITICAL.take().unwrap_or_default();
            self.0.paths.retain(|(id, _)| !dropped.contains(id));
        }
    }
    let _section = Section(REGISTERED.lock().unwrap_or_else(|p| p.into_inner()));
    IN_CRITICAL.set(Some(Vec::new()));
    f()
}

/// `"{prefix}{pid}-"`: the start of a temp name that [`remove_stale`] can attribute to a process.
pub fn temp_prefix(prefix: &str) -> String {
    format!("{prefix}{}-", std::process::id())
}

/// Removes the entries of `dir` named `{prefix}{pid}-…` whose process no longer runs: what a
/// SIGKILL or a power loss left behind. Returns how many were removed; errors are ignored (a
/// stale temp file is never a reason to fail the command that found it).
pub fn remove_stale(dir: &Path, prefix: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<i32>().ok())
        else {
            continue;
        };
        if pid > 0 && !process_alive(pid) {
            remove_path(&entry.path());
            removed += 1;
        }
    }
    removed
}

fn process_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks whether the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

fn remove_path(path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_entries_of_dead_processes_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        // A pid that cannot exist (above the kernel's pid_max limit of 2^22).
        let dead = dir.path().join("revkeeper-snapshot-9999999-abc.db");
        let ours = dir
            .path()
            .join(format!("{}x.db", temp_prefix("revkeeper-snapshot-")));
        let other = dir.path().join("unrelated-9999999-x");
        for p in [&dead, &ours, &other] {
            std::fs::write(p, b"x").unwrap();
        }
        let stale_dir = dir.path().join(".revkeeper-restore-9999999-q");
        std::fs::create_dir_all(stale_dir.join("member")).unwrap();

        assert_eq!(remove_stale(dir.path(), "revkeeper-snapshot-"), 1);
        assert_eq!(remove_stale(dir.path(), ".revkeeper-restore-"), 1);
        assert!(!dead.exists() && !stale_dir.exists());
        assert!(ours.exists() && other.exists());
    }

    fn registered(path: &Path) -> bool {
        let r = REGISTERED.lock().unwrap();
        r.paths.iter().any(|(_, p)| p == path)
    }

    #[test]
    fn a_guard_forgets_its_path_when_dropped() {
        let path = PathBuf::from("/nonexistent/revkeeper-guard-test");
        let guard = remove_on_signal(&path);
        let has = || registered(&path);
        assert!(has());
        drop(guard);
        assert!(!has());
    }

    #[test]
    fn a_guard_dropped_inside_critical_is_forgotten_when_the_section_ends() {
        let path = PathBuf::from("/nonexistent/revkeeper-critical-test");
        let has = || registered(&path);
        let guard = remove_on_signal(&path);
        critical(|| drop(guard));
        assert!(!has());
        let kept = remove_on_signal(&path);
        critical(|| ());
        assert!(has());
        drop(kept);
    }
}
