//! etcdctl's connection flags and `ETCDCTL_*` variables, checked and resolved into a
//! [`ConnectConfig`] without touching the network.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde_json::json;

use super::{
    ConnectConfig, DEFAULT_COMMAND_TIMEOUT, Endpoint, TlsFiles, endpoint, parse_duration, prompt,
    tls,
};
use crate::error::{Error, Result};
use crate::log;

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
        for e in raw.iter().filter(|e| endpoint::has_userinfo(e)) {
            log::warn(
                "the user:password in an endpoint URL is not used (etcdctl ignores it too); \
                 pass --user (or ETCDCTL_USER) and --password",
                &[("endpoint", json!(endpoint::redact(e)))],
            );
        }
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
}
