//! The connection layer every live command shares (`snapshot save`, and later `get`, `leases`,
//! the TUI): etcdctl's flags and `ETCDCTL_*` variables, endpoints tried in turn (the first
//! healthy member wins and every failure is reported), TLS through rustls, user/password auth,
//! and timeouts.
//!
//! How a command gets a client:
//!
//! ```ignore
//! #[derive(Debug, clap::Args)]
//! pub struct GetArgs {
//!     #[command(flatten)]
//!     pub connect: revkeeper::connect::ConnectArgs,
//!     // …
//! }
//! let config = args.connect.resolve()?;            // exit 3: bad flags, TLS files, credentials
//! let mut conn = config.connect().await?;          // exit 2: names every endpoint tried and why
//! let resp = config
//!     .unary("get", &conn.endpoint, conn.client.get("/registry/pods", None))
//!     .await?;                                     // --command-timeout, errors mapped to exit codes
//! ```

mod duration;
mod prompt;
mod tls;
mod transport;

use std::future::Future;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use etcd_client::{Client, ConnectOptions};
use serde_json::json;

pub use duration::{format_duration, parse_duration};
pub use prompt::is_tty;
pub use tls::TlsFiles;

use crate::error::{Error, ErrorKind, Result};
use crate::log;

/// Per-request limit when `--command-timeout` is not given (etcdctl's default).
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// HTTP/2 pings on open streams, so a member that vanishes (power loss, partition) fails a long
/// transfer instead of hanging it. etcd refuses pings more often than every 5s.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// A credential from the command line or environment; never printed.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> std::result::Result<Secret, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

fn duration_arg(s: &str) -> std::result::Result<Duration, String> {
    parse_duration(s)
}

/// etcdctl's connection flags, each also read from its `ETCDCTL_*` variable.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Connection (etcdctl flags; ETCDCTL_* variables work too)")]
pub struct ConnectArgs {
    /// etcd client URLs, comma-separated; tried in order until a healthy member answers
    #[arg(
        long,
        env = "ETCDCTL_ENDPOINTS",
        value_delimiter = ',',
        default_value = "127.0.0.1:2379",
        value_name = "URLS"
    )]
    pub endpoints: Vec<String>,

    /// CA certificate(s) that signed the etcd server certificates (PEM)
    #[arg(long, env = "ETCDCTL_CACERT", value_name = "FILE")]
    pub cacert: Option<PathBuf>,

    /// Client certificate (PEM)
    #[arg(long, env = "ETCDCTL_CERT", value_name = "FILE")]
    pub cert: Option<PathBuf>,

    /// Client private key (PEM: PKCS#8, RSA or EC)
    #[arg(long, env = "ETCDCTL_KEY", value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// Accept any server certificate: still encrypted, but the server is NOT authenticated
    #[arg(long, env = "ETCDCTL_INSECURE_SKIP_TLS_VERIFY")]
    pub insecure_skip_tls_verify: bool,

    /// User name, or USER:PASSWORD (the password is asked for on a terminal when missing)
    #[arg(
        long,
        env = "ETCDCTL_USER",
        hide_env_values = true,
        value_name = "USER[:PASSWORD]"
    )]
    pub user: Option<Secret>,

    /// Password for --user (prefer ETCDCTL_PASSWORD: flags are visible in `ps`)
    #[arg(long, env = "ETCDCTL_PASSWORD", hide_env_values = true)]
    pub password: Option<Secret>,

    /// Time allowed to connect to one endpoint (0: no limit)
    #[arg(
        long,
        env = "ETCDCTL_DIAL_TIMEOUT",
        value_parser = duration_arg,
        default_value = "2s",
        value_name = "DURATION"
    )]
    pub dial_timeout: Duration,

    /// Time allowed per request [default: 5s]; for `snapshot save`, only when given, a deadline
    /// for the whole transfer (like etcdctl)
    #[arg(
        long,
        env = "ETCDCTL_COMMAND_TIMEOUT",
        value_parser = duration_arg,
        value_name = "DURATION"
    )]
    pub command_timeout: Option<Duration>,
}

/// One endpoint, normalised: `scheme://host:port`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// As printed in logs and manifests: `https://10.0.0.1:2379`.
    pub url: String,
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    /// Parses `http://h:p`, `https://h:p` or `h:p` (TLS when `tls_default`, as etcdctl does when
    /// certificates are given). A missing port means 2379.
    pub fn parse(raw: &str, tls_default: bool) -> Result<Endpoint> {
        let raw = raw.trim();
        let (tls, rest) = if let Some(r) = raw.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = raw.strip_prefix("http://") {
            (false, r)
        } else if raw.contains("://") {
            return Err(Error::invalid(format!(
                "endpoint {raw:?}: only http:// and https:// are supported"
            )));
        } else {
            (tls_default, raw)
        };
        let hostport = rest.trim_end_matches('/');
        if hostport.is_empty() || hostport.contains('/') || hostport.contains('@') {
            return Err(Error::invalid(format!(
                "endpoint {raw:?} is not a client URL like https://10.0.0.1:2379"
            )));
        }
        let (host, port) = if let Some(stripped) = hostport.strip_prefix('[') {
            // [v6]:port
            let (h, after) = stripped.split_once(']').ok_or_else(|| {
                Error::invalid(format!("endpoint {raw:?}: unclosed [ in IPv6 address"))
            })?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => {
                    return Err(Error::invalid(format!("endpoint {raw:?}: bad port")));
                }
            };
            (format!("[{h}]"), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| Error::invalid(format!("endpoint {raw:?}: bad port {p:?}")))?,
            None => 2379,
        };
        if host.is_empty() {
            return Err(Error::invalid(format!("endpoint {raw:?} has no host")));
        }
        let scheme = if tls { "https" } else { "http" };
        Ok(Endpoint {
            url: format!("{scheme}://{host}:{port}"),
            tls,
            host,
            port,
        })
    }

    fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// The flags checked and resolved: what a command needs to reach the cluster.
#[derive(Clone)]
pub struct ConnectConfig {
    pub endpoints: Vec<Endpoint>,
    tls: Option<Arc<rustls::ClientConfig>>,
    credentials: Option<(String, Secret)>,
    /// Per-endpoint connect limit (`None`: no limit).
    pub dial_timeout: Option<Duration>,
    /// Per-request limit (`--command-timeout`, default 5s; `None`: no limit).
    pub command_timeout: Option<Duration>,
    /// `--command-timeout` as given explicitly: the whole-transfer deadline of `snapshot save`.
    pub transfer_deadline: Option<Duration>,
}

impl std::fmt::Debug for ConnectConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectConfig")
            .field("endpoints", &self.endpoints)
            .field("tls", &self.tls.is_some())
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .field("dial_timeout", &self.dial_timeout)
            .field("command_timeout", &self.command_timeout)
            .finish()
    }
}

fn nonzero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

impl ConnectArgs {
    /// Checks every flag and file (exit 3 on anything wrong) without touching the network.
    pub fn resolve(&self) -> Result<ConnectConfig> {
        let files = TlsFiles {
            cacert: self.cacert.clone(),
            cert: self.cert.clone(),
            key: self.key.clone(),
            insecure_skip_verify: self.insecure_skip_tls_verify,
        };
        let raw: Vec<&str> = self
            .endpoints
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .collect();
        if raw.is_empty() {
            return Err(Error::invalid("--endpoints is empty"));
        }
        let endpoints = raw
            .iter()
            .map(|e| Endpoint::parse(e, files.any()))
            .collect::<Result<Vec<_>>>()?;
        let any_tls = endpoints.iter().any(|e| e.tls);
        let tls = if any_tls || files.any() {
            Some(tls::client_config(&files)?)
        } else {
            None
        };
        if files.any() && !any_tls {
            log::warn(
                "TLS flags are ignored: every endpoint is plain http://",
                &[("endpoints", json!(urls(&endpoints)))],
            );
        }
        if files.insecure_skip_verify && any_tls {
            log::warn(
                "--insecure-skip-tls-verify: the server certificate is NOT verified",
                &[],
            );
        }
        let credentials = self.credentials()?;
        let command_timeout = match self.command_timeout {
            Some(d) => nonzero(d),
            None => Some(DEFAULT_COMMAND_TIMEOUT),
        };
        Ok(ConnectConfig {
            endpoints,
            tls,
            credentials,
            dial_timeout: nonzero(self.dial_timeout),
            command_timeout,
            transfer_deadline: self.command_timeout.and_then(nonzero),
        })
    }

    /// `--user`/`--password` as etcdctl reads them: `USER:PASSWORD` in `--user` unless
    /// `--password` is given; a prompt only on a terminal.
    fn credentials(&self) -> Result<Option<(String, Secret)>> {
        let Some(user) = &self.user else {
            if self.password.is_some() {
                return Err(Error::invalid(
                    "--password (or ETCDCTL_PASSWORD) needs --user",
                ));
            }
            return Ok(None);
        };
        let (name, password) = match &self.password {
            Some(p) => (user.expose().to_string(), p.clone()),
            None => match user.expose().split_once(':') {
                Some((n, p)) => (n.to_string(), Secret(p.to_string())),
                None => {
                    let name = user.expose().to_string();
                    match prompt::read_password(&format!("Password for {name}: ")) {
                        Some(p) => (name, Secret(p)),
                        None => {
                            return Err(Error::invalid(format!(
                                "--user {name} has no password and stdin is not a terminal: \
                                 set ETCDCTL_PASSWORD, --password, or --user {name}:PASSWORD"
                            )));
                        }
                    }
                }
            },
        };
        if name.is_empty() {
            return Err(Error::invalid("--user has an empty user name"));
        }
        Ok(Some((name, password)))
    }
}

fn urls(eps: &[Endpoint]) -> Vec<String> {
    eps.iter().map(|e| e.url.clone()).collect()
}

/// What a member said about itself (`Maintenance.Status` and the member list).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct MemberStatus {
    pub cluster_id: u64,
    pub member_id: u64,
    /// From the member list; empty when it could not be read.
    pub name: String,
    pub version: String,
    pub storage_version: String,
    pub db_size: i64,
    pub revision: i64,
    pub raft_index: u64,
    pub raft_term: u64,
    /// Member id of the leader this member follows; 0 when it has none.
    pub leader: u64,
    pub is_learner: bool,
    /// Alarms and "no leader", as the server reports them.
    pub errors: Vec<String>,
}

/// A client bound to one member.
pub struct Connected {
    pub client: Client,
    pub endpoint: String,
    /// `None` when the user may not call `Status` (it needs the root role).
    pub status: Option<MemberStatus>,
}

impl Connected {
    /// A voting member that follows a leader: preferred over learners and leaderless members.
    pub fn is_preferred(&self) -> bool {
        self.status
            .as_ref()
            .is_none_or(|s| s.leader != 0 && !s.is_learner)
    }

    /// Fields for log lines.
    pub fn log_fields(&self) -> Vec<(&'static str, serde_json::Value)> {
        let mut f = vec![("endpoint", json!(self.endpoint))];
        if let Some(s) = &self.status {
            f.push(("member", json!(s.name)));
            f.push(("member_id", json!(format!("{:x}", s.member_id))));
            f.push(("version", json!(s.version)));
        }
        f
    }
}

/// Why one endpoint could not be used.
#[derive(Clone, Debug)]
pub struct Failure {
    pub endpoint: String,
    pub reason: String,
    pub kind: ErrorKind,
}

impl ConnectConfig {
    /// Connects to the first healthy endpoint (in `--endpoints` order). Fails with exit 2 naming
    /// every endpoint tried and why, or exit 3 when the server rejects the credentials.
    pub async fn connect(&self) -> Result<Connected> {
        let mut walk = self.members();
        match walk.next().await? {
            Some(c) => Ok(c),
            None => Err(walk.error()),
        }
    }

    /// Walks the endpoints in order, yielding healthy members one by one (for commands that
    /// fall over to the next member when one fails mid-way).
    pub fn members(&self) -> MemberWalk<'_> {
        MemberWalk {
            config: self,
            next: 0,
            deferred: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// Runs one request under `--command-timeout`, mapping errors to exit codes.
    pub async fn unary<T>(
        &self,
        action: &str,
        endpoint: &str,
        fut: impl Future<Output = std::result::Result<T, etcd_client::Error>>,
    ) -> Result<T> {
        let res = match self.command_timeout {
            Some(d) => tokio::time::timeout(d, fut).await.map_err(|_| {
                Error::connect(format!(
                    "{action} on {endpoint}: no answer within {} (--command-timeout)",
                    format_duration(d)
                ))
            })?,
            None => fut.await,
        };
        res.map_err(|e| rpc_error(action, endpoint, &e))
    }

    async fn dial(&self, ep: &Endpoint) -> std::result::Result<tonic::transport::Channel, String> {
        let mut builder =
            tonic::transport::Endpoint::from_shared(format!("http://{}", ep.authority()))
                .map_err(|e| error_chain(&e))?
                .tcp_nodelay(true)
                .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
                .keep_alive_timeout(KEEPALIVE_TIMEOUT)
                .keep_alive_while_idle(false);
        if let Some(d) = self.dial_timeout {
            builder = builder.connect_timeout(d);
        }
        let tls = if ep.tls {
            let config = self
                .tls
                .clone()
                .ok_or("internal error: TLS endpoint without TLS configuration")?;
            let origin: http::Uri = format!("https://{}", ep.authority())
                .parse()
                .map_err(|e: http::uri::InvalidUri| e.to_string())?;
            builder = builder.origin(origin);
            let name = tls::server_name(&ep.host).map_err(|e| e.message)?;
            Some((config, name))
        } else {
            None
        };
        let res = builder
            .connect_with_connector(transport::Connector {
                addr: ep.authority(),
                tls,
            })
            .await;
        res.map_err(|e| {
            let text = error_chain(&e);
            if text.contains("timed out") || text.contains("deadline has elapsed") {
                match self.dial_timeout {
                    Some(d) => format!(
                        "no connection within {} (--dial-timeout)",
                        format_duration(d)
                    ),
                    None => text,
                }
            } else {
                text
            }
        })
    }

    /// Connects to one endpoint, authenticates, and asks the member for its status.
    pub async fn probe(&self, ep: &Endpoint) -> std::result::Result<Connected, Failure> {
        let fail = |kind, reason: String| Failure {
            endpoint: ep.url.clone(),
            reason,
            kind,
        };
        let channel = self
            .dial(ep)
            .await
            .map_err(|r| fail(ErrorKind::Connect, r))?;
        let mut options = ConnectOptions::new();
        if let Some((user, password)) = &self.credentials {
            options = options.with_user(user.clone(), password.expose().to_string());
        }
        let mut client = self
            .unary(
                "authenticate",
                &ep.url,
                Client::from_channel(etcd_client::Channel::Tonic(channel), Some(options)),
            )
            .await
            .map_err(|e| fail(e.kind, strip_action(&e.message)))?;
        let status = match self.unary("status", &ep.url, client.status()).await {
            Ok(s) => {
                let header = s.header();
                Some(MemberStatus {
                    cluster_id: header.map(|h| h.cluster_id()).unwrap_or(0),
                    member_id: header.map(|h| h.member_id()).unwrap_or(0),
                    name: String::new(),
                    version: s.version().to_string(),
                    storage_version: s.storage_version().to_string(),
                    db_size: s.db_size(),
                    revision: header.map(|h| h.revision()).unwrap_or(0),
                    raft_index: s.raft_index(),
                    raft_term: s.raft_term(),
                    leader: s.leader(),
                    is_learner: s.is_learner(),
                    errors: s.errors().to_vec(),
                })
            }
            // Status needs the root role; other commands can still work without it.
            Err(e)
                if e.kind == ErrorKind::InvalidInput && e.message.contains("permission denied") =>
            {
                None
            }
            Err(e) => return Err(fail(e.kind, strip_action(&e.message))),
        };
        let mut connected = Connected {
            client,
            endpoint: ep.url.clone(),
            status,
        };
        if let Some(s) = connected.status.as_mut()
            && let Ok(list) = self
                .unary("member list", &ep.url, connected.client.member_list())
                .await
            && let Some(m) = list.members().iter().find(|m| m.id() == s.member_id)
        {
            s.name = m.name().to_string();
        }
        Ok(connected)
    }
}

/// `rpc_error` messages start with "ACTION on ENDPOINT: "; failures already carry the endpoint.
fn strip_action(message: &str) -> String {
    match message.split_once(": ") {
        Some((head, tail)) if head.contains(" on ") => tail.to_string(),
        _ => message.to_string(),
    }
}

/// Endpoints tried in order; see [`ConnectConfig::members`].
pub struct MemberWalk<'a> {
    config: &'a ConnectConfig,
    next: usize,
    deferred: Vec<Connected>,
    failures: Vec<Failure>,
}

impl MemberWalk<'_> {
    /// The next usable member: healthy voting members with a leader first, in `--endpoints`
    /// order; members without a leader (or learners) only when no other answers, with a warning
    /// (a lone survivor of a lost quorum is still worth a backup). `Err` when the server rejected
    /// the credentials (no point trying the others).
    pub async fn next(&mut self) -> Result<Option<Connected>> {
        while self.next < self.config.endpoints.len() {
            let ep = self.config.endpoints[self.next].clone();
            self.next += 1;
            match self.config.probe(&ep).await {
                Ok(c) if c.is_preferred() => return Ok(Some(c)),
                Ok(c) => {
                    let why = match &c.status {
                        Some(s) if s.is_learner => "member is a learner",
                        _ => "member has no leader",
                    };
                    log::warn(
                        &format!("{why}; trying the other endpoints first"),
                        &c.log_fields(),
                    );
                    self.deferred.push(c);
                }
                Err(f) => {
                    log::warn(
                        "endpoint unusable",
                        &[("endpoint", json!(f.endpoint)), ("error", json!(f.reason))],
                    );
                    let fatal = f.kind == ErrorKind::InvalidInput;
                    self.failures.push(f);
                    if fatal {
                        return Err(self.error());
                    }
                }
            }
        }
        if self.deferred.is_empty() {
            return Ok(None);
        }
        let c = self.deferred.remove(0);
        log::warn(
            "no member with a leader answered; using one without (its data may be behind)",
            &c.log_fields(),
        );
        Ok(Some(c))
    }

    /// Records that a member yielded by [`MemberWalk::next`] failed later (e.g. mid-transfer).
    pub fn record(&mut self, failure: Failure) {
        self.failures.push(failure);
    }

    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// One line naming every endpoint tried and why it failed. The exit code is that of the
    /// "furthest" failure: a broken transfer (5) over a server error (4) over bad credentials (3)
    /// over unreachable (2).
    pub fn error(&self) -> Error {
        let rank = |k: ErrorKind| match k {
            ErrorKind::Interrupted => 5,
            ErrorKind::General => 4,
            ErrorKind::Server => 3,
            ErrorKind::InvalidInput => 2,
            ErrorKind::Connect => 1,
        };
        let kind = self
            .failures
            .iter()
            .map(|f| f.kind)
            .max_by_key(|k| rank(*k))
            .unwrap_or(ErrorKind::Connect);
        let detail = self
            .failures
            .iter()
            .map(|f| format!("{}: {}", f.endpoint, f.reason))
            .collect::<Vec<_>>()
            .join("; ");
        let tried = self.config.endpoints.len();
        let head = match kind {
            ErrorKind::Connect => format!(
                "cannot connect to any endpoint ({tried} tried; check --endpoints, TLS flags and \
                 that etcd is up)"
            ),
            ErrorKind::InvalidInput => "the server refused the request".to_string(),
            _ => format!("failed on every usable endpoint ({tried} tried)"),
        };
        Error::new(kind, format!("{head}: {detail}"))
    }
}

/// Maps an etcd-client error to revkeeper's exit codes, with a one-line message.
pub fn rpc_error(action: &str, endpoint: &str, e: &etcd_client::Error) -> Error {
    let (kind, text) = classify(e);
    Error::new(kind, format!("{action} on {endpoint}: {text}"))
}

/// The exit-code kind of an etcd-client error and a one-line description (with a hint for
/// the usual auth mistakes).
pub fn classify(e: &etcd_client::Error) -> (ErrorKind, String) {
    use tonic::Code;
    let (kind, text) = match e {
        etcd_client::Error::GRpcStatus(s) => {
            let mut msg = if s.message().is_empty() {
                format!("{:?}", s.code())
            } else {
                s.message().replace('\n', " ")
            };
            if let Some(src) = std::error::Error::source(s) {
                msg = tidy([msg, error_chain(src)]);
            }
            // etcd's auth errors come with several codes; recognise them by their text too.
            let auth = [
                "permission denied",
                "authentication failed",
                "user name not found",
                "user name is empty",
                "invalid auth token",
                "auth: revision in header is old",
            ]
            .iter()
            .any(|t| msg.contains(t));
            let kind = match s.code() {
                _ if auth => ErrorKind::InvalidInput,
                Code::Unavailable | Code::DeadlineExceeded => ErrorKind::Connect,
                Code::Unauthenticated | Code::PermissionDenied | Code::InvalidArgument => {
                    ErrorKind::InvalidInput
                }
                Code::Cancelled => ErrorKind::Interrupted,
                _ => ErrorKind::Server,
            };
            (kind, msg)
        }
        etcd_client::Error::TransportError(t) => (ErrorKind::Connect, error_chain(t)),
        etcd_client::Error::IoError(io) => (ErrorKind::Connect, io.to_string()),
        etcd_client::Error::InvalidArgs(_) | etcd_client::Error::InvalidUri(_) => {
            (ErrorKind::InvalidInput, e.to_string())
        }
        other => (ErrorKind::General, other.to_string()),
    };
    let hint = if text.contains("permission denied") {
        " (this needs a user with the root role)"
    } else if text.contains("authentication failed") {
        " (check --user/--password or ETCDCTL_USER/ETCDCTL_PASSWORD)"
    } else if text.contains("user name not found") {
        " (neither --user nor the client certificate's CN is an etcd user)"
    } else if text.contains("user name is empty") || text.contains("invalid auth token") {
        " (auth is enabled on the server: pass --user)"
    } else {
        ""
    };
    (kind, format!("{text}{hint}"))
}

/// Wrapper messages that say nothing a cause does not say better.
const VAGUE: &[&str] = &[
    "transport error",
    "error trying to connect",
    "client error (Connect)",
];

/// An error and its causes on one line, without repeating wrapped messages.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        parts.push(err.to_string());
        cur = err.source();
    }
    tidy(parts)
}

/// Joins messages with ": ", dropping repeated segments and vague wrappers.
fn tidy(parts: impl IntoIterator<Item = String>) -> String {
    let mut segs: Vec<String> = Vec::new();
    for part in parts {
        for seg in part.split(": ") {
            let seg = seg.trim();
            if !seg.is_empty() && !segs.iter().any(|s| s == seg) {
                segs.push(seg.to_string());
            }
        }
    }
    if segs.len() > 1 {
        segs.retain(|s| !VAGUE.contains(&s.as_str()));
    }
    segs.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct T {
        #[command(flatten)]
        c: ConnectArgs,
    }

    #[test]
    fn endpoints_normalise_like_etcdctl() {
        let e = Endpoint::parse("127.0.0.1:2379", false).unwrap();
        assert_eq!(e.url, "http://127.0.0.1:2379");
        let e = Endpoint::parse("10.0.0.1:2379", true).unwrap();
        assert_eq!(e.url, "https://10.0.0.1:2379");
        let e = Endpoint::parse("https://etcd-a/", false).unwrap();
        assert_eq!((e.url.as_str(), e.tls), ("https://etcd-a:2379", true));
        let e = Endpoint::parse("http://[::1]:12379", true).unwrap();
        assert_eq!((e.host.as_str(), e.port, e.tls), ("[::1]", 12379, false));
        for bad in ["unix:///x", "http://", "h:0", "h:99999", "http://h:1/path"] {
            let err = Endpoint::parse(bad, false).unwrap_err();
            assert_eq!(err.exit_code(), 3, "{bad}");
        }
    }

    #[test]
    fn user_colon_password_and_secrets_stay_hidden() {
        let t =
            T::try_parse_from(["t", "--user", "root:s3cret", "--endpoints", "a:1,b:2"]).unwrap();
        assert_eq!(t.c.endpoints, vec!["a:1", "b:2"]);
        let debug = format!("{t:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        let cfg = t.c.resolve().unwrap();
        let (u, p) = cfg.credentials.as_ref().unwrap();
        assert_eq!((u.as_str(), p.expose()), ("root", "s3cret"));
        assert!(!format!("{cfg:?}").contains("s3cret"));

        let t = T::try_parse_from(["t", "--user", "a:b", "--password", "pw"]).unwrap();
        let cfg = t.c.resolve().unwrap();
        let (u, p) = cfg.credentials.as_ref().unwrap();
        assert_eq!((u.as_str(), p.expose()), ("a:b", "pw"));

        let t = T::try_parse_from(["t", "--password", "pw"]).unwrap();
        assert_eq!(t.c.resolve().unwrap_err().exit_code(), 3);
    }

    #[test]
    fn timeouts() {
        let t = T::try_parse_from(["t", "--dial-timeout", "500ms"]).unwrap();
        let cfg = t.c.resolve().unwrap();
        assert_eq!(cfg.dial_timeout, Some(Duration::from_millis(500)));
        assert_eq!(cfg.command_timeout, Some(DEFAULT_COMMAND_TIMEOUT));
        assert_eq!(cfg.transfer_deadline, None);
        let t = T::try_parse_from(["t", "--command-timeout", "1m"]).unwrap();
        let cfg = t.c.resolve().unwrap();
        assert_eq!(cfg.transfer_deadline, Some(Duration::from_secs(60)));
        assert!(T::try_parse_from(["t", "--dial-timeout", "5"]).is_err());
    }

    #[test]
    fn error_chain_skips_vague_wrappers() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("transport error")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused",
        ));
        assert_eq!(error_chain(&e), "Connection refused");
    }
}
