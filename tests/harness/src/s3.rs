//! A real S3-compatible server for tests: `s3s-fs` on a free 127.0.0.1 port, a temp root dir
//! (one sub-directory per bucket), SigV4 credentials of its own; killed on drop.
//!
//! The binary is `S3S_FS_BIN`, else `${REVKEEPER_CACHE:-$HOME/.cache/revkeeper}/bin/s3s-fs`
//! (where `scripts/test.sh` installs it), else `s3s-fs` on PATH.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{die_with_parent, free_port};

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The `s3s-fs` binary, if it is installed anywhere the harness looks.
pub fn s3s_fs_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("S3S_FS_BIN").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let cache = std::env::var_os("REVKEEPER_CACHE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/revkeeper")));
    let mut candidates: Vec<PathBuf> = cache.into_iter().map(|c| c.join("bin/s3s-fs")).collect();
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("s3s-fs")));
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// A running `s3s-fs`. Killed (SIGKILL) and reaped on drop.
pub struct S3Server {
    child: Option<Child>,
    port: u16,
    root: PathBuf,
    log: PathBuf,
    pub access_key: String,
    pub secret_key: String,
    _tmp: tempfile::TempDir,
}

impl S3Server {
    /// Starts a server on an empty root and waits until it answers HTTP. Panics (with its log)
    /// when it cannot start, or when no `s3s-fs` is installed: check [`s3s_fs_bin`] first.
    pub fn start() -> S3Server {
        let bin = s3s_fs_bin().expect("s3s-fs is not installed (scripts/test.sh installs it)");
        let tmp = tempfile::tempdir().expect("temp dir");
        let root = tmp.path().join("root");
        std::fs::create_dir(&root).expect("create s3 root");
        let log = tmp.path().join("s3s-fs.log");
        let port = free_port();
        let access_key = format!("revkeeper-test-{port}");
        let secret_key = random_hex(20);
        let log_file = std::fs::File::create(&log).expect("create s3s-fs log");
        let mut cmd = Command::new(&bin);
        cmd.arg("--host")
            .arg("127.0.0.1")
            .arg("--port")
            .arg(port.to_string())
            .arg("--access-key")
            .arg(&access_key)
            .arg("--secret-key")
            .arg(&secret_key)
            .arg(&root)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("dup log"))
            .stderr(log_file);
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let mut server = S3Server {
            child: Some(child),
            port,
            root,
            log,
            access_key,
            secret_key,
            _tmp: tmp,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("s3s-fs exited with {status}:\n{}", self.log_text());
            }
            if self.answers() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "s3s-fs not answering after {START_TIMEOUT:?}:\n{}",
            self.log_text()
        );
    }

    /// True when an HTTP request gets an HTTP answer (any status: this one is unsigned).
    fn answers(&self) -> bool {
        let addr = format!("127.0.0.1:{}", self.port);
        let Ok(mut s) = TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(1))
        else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let req = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        if s.write_all(req.as_bytes()).is_err() {
            return false;
        }
        let mut head = [0u8; 8];
        s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The directory the server keeps its buckets in (one sub-directory each).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Makes a bucket (s3s-fs serves every directory of its root as one).
    pub fn create_bucket(&self, name: &str) -> PathBuf {
        let dir = self.root.join(name);
        std::fs::create_dir_all(&dir).expect("create bucket dir");
        dir
    }

    /// The `AWS_*` variables a client needs for this server (plain http, path-style).
    pub fn aws_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ACCESS_KEY_ID", self.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_key.clone()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// The server's own log, for assertion messages.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL now (e.g. in the middle of an upload).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("read /dev/urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}
