//! With `REVKEEPER_TUI_TIMINGS=FILE` (the file the UI writes its first frame and key latencies
//! to), the first load's phases are appended as `phase NAME MS CPU-S` lines: milliseconds since
//! the backend was made, the process's CPU seconds so far and the calling thread's, for
//! `scripts/bench-tui.sh`.

use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

struct Recorder {
    started: Instant,
    file: Mutex<std::fs::File>,
}

static RECORDER: OnceLock<Option<Recorder>> = OnceLock::new();

/// Starts the clock (once per process; later calls do nothing).
pub fn start() {
    RECORDER.get_or_init(|| {
        let path = std::env::var_os("REVKEEPER_TUI_TIMINGS")?;
        let file = (std::fs::OpenOptions::new().create(true).append(true))
            .open(path)
            .ok()?;
        Some(Recorder {
            started: Instant::now(),
            file: Mutex::new(file),
        })
    });
}

/// Records that `name` happened now (nothing without the variable).
pub fn mark(name: &str) {
    let Some(Some(r)) = RECORDER.get() else {
        return;
    };
    let ms = r.started.elapsed().as_secs_f64() * 1000.0;
    let mut file = r.file.lock().unwrap_or_else(|p| p.into_inner());
    let (process, thread) = (
        cpu_seconds(libc::RUSAGE_SELF),
        cpu_seconds(libc::RUSAGE_THREAD),
    );
    let _ = writeln!(file, "phase {name} {ms:.0} {process:.2} {thread:.2}");
}

/// User and system CPU seconds of the whole process (`RUSAGE_SELF`) or the calling thread.
fn cpu_seconds(who: libc::c_int) -> f64 {
    // SAFETY: getrusage fills the struct it is given; it is zeroed first.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut u);
        u
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}
