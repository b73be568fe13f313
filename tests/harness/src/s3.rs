//! A real S3-compatible server for tests: `s3s-fs` on a free 127.0.0.1 port, a temp root dir
//! (one sub-directory per bucket), SigV4 credentials of its own; killed on drop.
//!
//! The binary is `S3S_FS_BIN`, else `${REVKEEPER_CACHE:-$HOME/.cache/revkeeper}/bin/s3s-fs`
//! (where `scripts/test.sh` installs it), else `s3s-fs` on PATH.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::free_port;
use crate::process::{ServerProcess, connect_local, send_request};

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
    // Declared first: the server stops before its temp root is removed.
    process: ServerProcess,
    port: u16,
    root: PathBuf,
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
            .env("RUST_LOG", "warn");
        let mut process = ServerProcess::spawn(cmd, log);
        process.wait_until(
            || answers(port),
            START_TIMEOUT,
            "s3s-fs",
            "",
            "not answering",
        );
        S3Server {
            process,
            port,
            root,
            access_key,
            secret_key,
            _tmp: tmp,
        }
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
        self.process.pid()
    }

    /// The server's own log, for assertion messages.
    pub fn log_text(&self) -> String {
        self.process.log_text()
    }

    /// SIGKILL now (e.g. in the middle of an upload).
    pub fn kill(&mut self) {
        self.process.kill();
    }
}

/// True when an HTTP request gets an HTTP answer (any status: this one is unsigned).
fn answers(port: u16) -> bool {
    let Some(mut s) = connect_local(port) else {
        return false;
    };
    let addr = format!("127.0.0.1:{port}");
    let req = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if !send_request(&mut s, &req) {
        return false;
    }
    let mut head = [0u8; 8];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("read /dev/urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}
