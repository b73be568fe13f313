//! Real etcd servers for tests and scripts: single members and clusters on free 127.0.0.1 ports,
//! temp data dirs, health waits, and a kill on drop (also when a test panics).
//!
//! The binary is `ETCD_BIN` when set, else the official etcd 3.6 server vendored by the
//! `etcd-bin-vendored-linux-amd64` crate. `ETCDCTL_BIN`/`ETCDUTL_BIN` name the client tools when a
//! test compares with them (see [`tool`]). What tests need from outside the repository (shared
//! fixtures, client tools) is looked up, and skipped or failed for, in [`prereq`].
//!
//! [`S3Server`] runs a real S3-compatible server (`s3s-fs`) the same way, for the location tests.

mod age;
mod process;
mod s3;
pub use age::{age_keygen, have_age};
pub use s3::{S3Server, s3s_fs_bin};

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use process::{ServerProcess, connect_local, send_request};

pub mod prereq;
pub use prereq::{
    fixtures_dir, require, require_all, require_fixture, require_tool, shared_dir, tool,
};

/// How long a member may take to become healthy before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The etcd server binary the tests run.
pub fn etcd_bin() -> PathBuf {
    match std::env::var_os("ETCD_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => etcd_bin_vendored_linux_amd64::etcd_bin_path()
            .expect("vendored etcd path")
            .to_path_buf(),
    }
}

/// `major.minor` of the etcd server binary, e.g. `(3, 6)`.
pub fn etcd_version() -> (u32, u32) {
    let out = Command::new(etcd_bin())
        .arg("--version")
        .output()
        .expect("run etcd --version");
    let text = String::from_utf8_lossy(&out.stdout);
    let v = text
        .lines()
        .find_map(|l| l.strip_prefix("etcd Version: "))
        .expect("etcd --version prints 'etcd Version: x.y.z'");
    let mut it = v.trim().split('.').map(|s| s.parse::<u32>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// The workspace root (where `Cargo.lock` lives).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("harness lives at <root>/tests/harness")
        .to_path_buf()
}

/// A port on 127.0.0.1 that was free a moment ago, never the same twice in one process.
///
/// Ports come from below Linux's ephemeral range (32768 and up): a port the kernel hands out for
/// `bind(0)` can be taken by any test's outgoing connection before etcd binds it, which made
/// members fail with "address already in use". Each process starts at its own offset so test
/// binaries running side by side rarely meet.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const BASE: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(7919) % SPAN;
    for _ in 0..SPAN {
        let port = (BASE + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!(
        "no free port on 127.0.0.1 between {BASE} and {}",
        BASE + SPAN
    )
}

/// Client TLS material for a member started with TLS (all PEM files).
#[derive(Clone, Debug)]
pub struct ServerTls {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Require client certificates signed by `ca`.
    pub client_cert_auth: bool,
}

/// How to start one member.
#[derive(Clone, Debug)]
pub struct MemberSpec {
    pub name: String,
    pub data_dir: PathBuf,
    pub client_port: u16,
    pub peer_port: u16,
    /// `name=http://127.0.0.1:port,…`
    pub initial_cluster: String,
    pub cluster_token: String,
    /// `new` for a fresh cluster; `existing` is not needed for restored data dirs.
    pub cluster_state: &'static str,
    pub tls: Option<ServerTls>,
    pub extra_args: Vec<String>,
}

impl MemberSpec {
    pub fn client_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.client_port)
    }
    pub fn peer_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.peer_port)
    }
}

/// A running etcd member. Killed (SIGKILL) and reaped on drop.
pub struct Member {
    pub spec: MemberSpec,
    process: ServerProcess,
    // Keeps a temp data dir alive for as long as the member is (dropped after the process).
    _tmp: Option<tempfile::TempDir>,
}

impl Member {
    /// One fresh member on a temp data dir.
    pub fn start_single() -> Member {
        Self::start_single_with(None, Vec::new())
    }

    /// One fresh member with TLS and/or extra flags (e.g. `--auto-compaction-retention`).
    pub fn start_single_with(tls: Option<ServerTls>, extra_args: Vec<String>) -> Member {
        let tmp = tempfile::tempdir().expect("temp dir");
        let (client_port, peer_port) = (free_port(), free_port());
        let spec = MemberSpec {
            name: "m1".into(),
            data_dir: tmp.path().join("data"),
            client_port,
            peer_port,
            initial_cluster: format!("m1=http://127.0.0.1:{peer_port}"),
            cluster_token: format!("tok-{peer_port}"),
            cluster_state: "new",
            tls,
            extra_args,
        };
        let mut m = Self::spawn(spec, Some(tmp));
        m.wait_healthy();
        m
    }

    /// A member on a data dir that already exists (e.g. one made by a restore). Does not wait
    /// for health: call [`Member::wait_healthy`] (single member) or [`Cluster::wait_healthy`].
    pub fn spawn_on(spec: MemberSpec) -> Member {
        Self::spawn(spec, None)
    }

    fn spawn(spec: MemberSpec, tmp: Option<tempfile::TempDir>) -> Member {
        let log = spec
            .data_dir
            .parent()
            .unwrap_or(Path::new("/tmp"))
            .join(format!("{}-{}.log", spec.name, spec.client_port));
        let mut cmd = Command::new(etcd_bin());
        cmd.arg("--name")
            .arg(&spec.name)
            .arg("--data-dir")
            .arg(&spec.data_dir)
            .arg("--listen-client-urls")
            .arg(spec.client_url())
            .arg("--advertise-client-urls")
            .arg(spec.client_url())
            .arg("--listen-peer-urls")
            .arg(spec.peer_url())
            .arg("--initial-advertise-peer-urls")
            .arg(spec.peer_url())
            .arg("--initial-cluster")
            .arg(&spec.initial_cluster)
            .arg("--initial-cluster-token")
            .arg(&spec.cluster_token)
            .arg("--initial-cluster-state")
            .arg(spec.cluster_state)
            .arg("--log-level")
            .arg("warn");
        if let Some(tls) = &spec.tls {
            cmd.arg("--cert-file")
                .arg(&tls.cert)
                .arg("--key-file")
                .arg(&tls.key)
                .arg("--trusted-ca-file")
                .arg(&tls.ca);
            if tls.client_cert_auth {
                cmd.arg("--client-cert-auth");
            }
        }
        cmd.args(&spec.extra_args);
        Member {
            spec,
            process: ServerProcess::spawn(cmd, log),
            _tmp: tmp,
        }
    }

    pub fn endpoint(&self) -> String {
        self.spec.client_url()
    }

    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// The server's own log, for assertion messages.
    pub fn log_text(&self) -> String {
        self.process.log_text()
    }

    /// Blocks until `/health` answers `"health":"true"`; panics with the server log otherwise.
    pub fn wait_healthy(&mut self) {
        let spec = &self.spec;
        self.process.wait_until(
            || is_healthy(spec),
            START_TIMEOUT,
            &format!("etcd {}", spec.name),
            " before becoming healthy",
            "not healthy",
        );
    }

    /// True when `/health` says so. TLS members are probed by TCP connect only.
    pub fn is_healthy(&self) -> bool {
        is_healthy(&self.spec)
    }

    /// SIGKILL now (e.g. to break a stream in the middle).
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// SIGTERM and wait, so the data dir is closed cleanly and can be inspected.
    pub fn stop(&mut self) {
        self.process.stop();
    }
}

fn is_healthy(spec: &MemberSpec) -> bool {
    let Some(mut s) = connect_local(spec.client_port) else {
        return false;
    };
    if spec.tls.is_some() {
        return true;
    }
    let addr = format!("127.0.0.1:{}", spec.client_port);
    if !send_request(
        &mut s,
        &format!("GET /health HTTP/1.0\r\nHost: {addr}\r\n\r\n"),
    ) {
        return false;
    }
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    body.contains("\"health\":\"true\"")
}

/// A cluster of members started together (all fresh, or all on restored data dirs).
pub struct Cluster {
    pub members: Vec<Member>,
    _tmp: Option<tempfile::TempDir>,
}

impl Cluster {
    /// `n` fresh members forming one cluster.
    pub fn start(n: usize) -> Cluster {
        let tmp = tempfile::tempdir().expect("temp dir");
        let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
        let initial = initial_cluster(&ports);
        let specs = ports
            .iter()
            .enumerate()
            .map(|(i, &(client_port, peer_port))| MemberSpec {
                name: format!("m{}", i + 1),
                data_dir: tmp.path().join(format!("m{}", i + 1)),
                client_port,
                peer_port,
                initial_cluster: initial.clone(),
                cluster_token: format!("tok-{}", ports[0].1),
                cluster_state: "new",
                tls: None,
                extra_args: Vec::new(),
            })
            .collect();
        let mut c = Self::spawn_all(specs);
        c._tmp = Some(tmp);
        c.wait_healthy();
        c
    }

    /// Members on existing data dirs; does not wait (call [`Cluster::wait_healthy`]).
    pub fn spawn_all(specs: Vec<MemberSpec>) -> Cluster {
        let members = specs.into_iter().map(Member::spawn_on).collect();
        Cluster {
            members,
            _tmp: None,
        }
    }

    pub fn endpoints(&self) -> Vec<String> {
        self.members.iter().map(|m| m.endpoint()).collect()
    }

    pub fn wait_healthy(&mut self) {
        for m in &mut self.members {
            m.wait_healthy();
        }
    }
}

/// `m1=http://127.0.0.1:p1,m2=…` for members named m1..mn with the given (client, peer) ports.
pub fn initial_cluster(ports: &[(u16, u16)]) -> String {
    ports
        .iter()
        .enumerate()
        .map(|(i, (_, peer))| format!("m{}=http://127.0.0.1:{peer}", i + 1))
        .collect::<Vec<_>>()
        .join(",")
}

/// A throwaway PKI for TLS tests, as PEM files in one directory: a CA, a server certificate for
/// `127.0.0.1`/`localhost` and a client certificate (CN `revkeeper-client`), all signed by the CA.
#[derive(Clone, Debug)]
pub struct TestPki {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

impl TestPki {
    /// Generates fresh keys and certificates into `dir` (which must exist).
    pub fn generate(dir: &Path) -> TestPki {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
            KeyPair, KeyUsagePurpose,
        };
        let write = |name: &str, text: String| {
            let p = dir.join(name);
            std::fs::write(&p, text).expect("write PEM");
            p
        };
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "revkeeper test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA cert");
        let ca = write("ca.crt", ca_cert.pem());
        let issuer = Issuer::new(ca_params, ca_key);

        let leaf = |cn: &str, sans: Vec<String>, usage: Vec<ExtendedKeyUsagePurpose>| {
            let key = KeyPair::generate().expect("leaf key");
            let mut params = CertificateParams::new(sans).expect("leaf params");
            params.distinguished_name.push(DnType::CommonName, cn);
            params.extended_key_usages = usage;
            let cert = params.signed_by(&key, &issuer).expect("sign leaf");
            (cert.pem(), key.serialize_pem())
        };
        let (sc, sk) = leaf(
            "etcd-server",
            vec!["127.0.0.1".into(), "localhost".into()],
            vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
        );
        let (cc, ck) = leaf(
            "revkeeper-client",
            Vec::new(),
            vec![ExtendedKeyUsagePurpose::ClientAuth],
        );
        TestPki {
            ca,
            server_cert: write("server.crt", sc),
            server_key: write("server.key", sk),
            client_cert: write("client.crt", cc),
            client_key: write("client.key", ck),
        }
    }

    /// The server side of this PKI, for [`Member::start_single_with`].
    pub fn server_tls(&self, client_cert_auth: bool) -> ServerTls {
        ServerTls {
            ca: self.ca.clone(),
            cert: self.server_cert.clone(),
            key: self.server_key.clone(),
            client_cert_auth,
        }
    }
}
