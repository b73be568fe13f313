//! A server process the harness runs (etcd, s3s-fs): its output in a log file, killed with the
//! test process and on drop, and a wait until it answers.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A started server. SIGKILLed and reaped on drop, so a struct holding one should declare it
/// before anything the server uses (its temp dir) to stop it first.
pub(crate) struct ServerProcess {
    child: Option<Child>,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `cmd` with stdin closed and stdout and stderr in a new file `log`; the server gets
    /// SIGKILL if the test process dies without running destructors.
    pub(crate) fn spawn(mut cmd: Command, log: PathBuf) -> ServerProcess {
        let what = cmd.get_program().to_owned();
        let log_file = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("create log {}: {e}", log.display()));
        cmd.stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("dup log"))
            .stderr(log_file);
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", Path::new(&what).display()));
        ServerProcess {
            child: Some(child),
            log,
        }
    }

    /// Polls `ready` every 50 ms until it says yes. Panics with the log when the server exits
    /// first ("`name` exited with STATUS`exited`:") or `timeout` passes ("`name` `not_ready` after
    /// TIMEOUT:").
    pub(crate) fn wait_until(
        &mut self,
        ready: impl Fn() -> bool,
        timeout: Duration,
        name: &str,
        exited: &str,
        not_ready: &str,
    ) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("{name} exited with {status}{exited}:\n{}", self.log_text());
            }
            if ready() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{name} {not_ready} after {timeout:?}:\n{}", self.log_text());
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// The server's own log, for assertion messages.
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL now, and reap.
    pub(crate) fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait up to 20 s (then SIGKILL), so the server closes its files cleanly.
    pub(crate) fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe {
                libc::kill(c.id() as i32, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Connects to `127.0.0.1:port` (1 s timeout).
pub(crate) fn connect_local(port: u16) -> Option<TcpStream> {
    let addr = format!("127.0.0.1:{port}");
    TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(1)).ok()
}

/// Sends `request` on `s` with a 2 s read timeout for the answer; false when it cannot be sent.
pub(crate) fn send_request(s: &mut TcpStream, request: &str) -> bool {
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    s.write_all(request.as_bytes()).is_ok()
}

/// The server gets SIGKILL if the test process dies without running destructors.
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}
