//! The connection layer every live command shares (`snapshot save`, and later `get`, `leases`,
//! the TUI): etcdctl's flags and `ETCDCTL_*` variables, endpoints tried in turn (the first
//! healthy member wins and every failure is reported), TLS through rustls, user/password auth,
//! and timeouts. Synchronous callers use [`runtime`] / [`ConnectConfig::connect_blocking`] (and
//! `LiveSource::connect` for reading); writes go through `crate::remediate::apply_live`.
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

mod args;
mod duration;
mod endpoint;
mod errors;
mod prompt;
mod tls;
mod transport;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use etcd_client::{Client, ConnectOptions};
use serde_json::json;

pub use args::{ConnectArgs, Secret};
pub use duration::{format_duration, parse_duration};
pub use endpoint::Endpoint;
pub use errors::{classify, error_chain, rpc_error};
pub use prompt::is_tty;
pub use tls::{TlsFiles, set_key_flag};

use crate::error::{Error, ErrorKind, Result};
use crate::log;

/// Per-request limit when `--command-timeout` is not given (etcdctl's default).
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// HTTP/2 pings on open streams, so a member that vanishes (power loss, partition) fails a long
/// transfer instead of hanging it. etcd refuses pings more often than every 5s.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

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

/// The small single-threaded runtime a synchronous command blocks on (every verb uses this one).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::general(format!("cannot start the async runtime: {e}")))
}

impl ConnectConfig {
    /// [`connect`](Self::connect) for synchronous callers: a fresh [`runtime`] and the first
    /// healthy member, connected on it.
    pub fn connect_blocking(&self) -> Result<(tokio::runtime::Runtime, Connected)> {
        let runtime = runtime()?;
        let conn = runtime.block_on(self.connect())?;
        Ok((runtime, conn))
    }

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
                        "cannot use this endpoint",
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
