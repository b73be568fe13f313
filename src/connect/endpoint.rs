//! One etcd client URL, normalised the way etcdctl reads `--endpoints`.

use crate::error::{Error, Result};

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

    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
