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

/// `scheme://user:password@host:port` as it may be printed: `scheme://***@host:port`. Every
/// message that shows an endpoint as the user wrote it goes through here; a parsed
/// [`Endpoint::url`] never carries the user info at all.
pub fn redact(raw: &str) -> String {
    match split_userinfo(raw) {
        Some((scheme, rest)) => format!("{scheme}***@{rest}"),
        None => raw.to_string(),
    }
}

/// Whether `raw` carries `user[:password]@` before its host.
pub fn has_userinfo(raw: &str) -> bool {
    split_userinfo(raw).is_some()
}

/// (`scheme://`, what follows the last `@`) when there is user info. An endpoint has no path,
/// so any `@` counts: a password with an unescaped `/` or `#` must not end up in a message.
fn split_userinfo(raw: &str) -> Option<(&str, &str)> {
    let start = raw.find("://").map_or(0, |i| i + 3);
    let at = start + raw[start..].rfind('@')?;
    Some((&raw[..start], &raw[at + 1..]))
}

impl Endpoint {
    /// Parses `http://h:p`, `https://h:p` or `h:p` (TLS when `tls_default`, as etcdctl does when
    /// certificates are given). A missing port means 2379. User info (`user:password@`) is
    /// dropped, as etcdctl ignores it too; errors show it as `***`.
    pub fn parse(raw: &str, tls_default: bool) -> Result<Endpoint> {
        let trimmed = raw.trim();
        let without_userinfo = match split_userinfo(trimmed) {
            Some((scheme, rest)) => format!("{scheme}{rest}"),
            None => trimmed.to_string(),
        };
        let shown = redact(trimmed);
        let raw = without_userinfo.as_str();
        let (tls, rest) = if let Some(r) = raw.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = raw.strip_prefix("http://") {
            (false, r)
        } else if raw.contains("://") {
            return Err(Error::invalid(format!(
                "endpoint {shown:?}: only http:// and https:// are supported"
            )));
        } else {
            (tls_default, raw)
        };
        let hostport = rest.trim_end_matches('/');
        if hostport.is_empty() || hostport.contains('/') || hostport.contains('@') {
            return Err(Error::invalid(format!(
                "endpoint {shown:?} is not a client URL like https://10.0.0.1:2379"
            )));
        }
        let (host, port) = if let Some(stripped) = hostport.strip_prefix('[') {
            // [v6]:port
            let (h, after) = stripped.split_once(']').ok_or_else(|| {
                Error::invalid(format!("endpoint {shown:?}: unclosed [ in IPv6 address"))
            })?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => {
                    return Err(Error::invalid(format!("endpoint {shown:?}: bad port")));
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
                .ok_or_else(|| Error::invalid(format!("endpoint {shown:?}: bad port {p:?}")))?,
            None => 2379,
        };
        if host.is_empty() {
            return Err(Error::invalid(format!("endpoint {shown:?} has no host")));
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
        let e = Endpoint::parse("http://alice:pw@etcd-a:2380", true).unwrap();
        assert_eq!((e.url.as_str(), e.tls), ("http://etcd-a:2380", false));
        let e = Endpoint::parse("http://[::1]:12379", true).unwrap();
        assert_eq!((e.host.as_str(), e.port, e.tls), ("[::1]", 12379, false));
        for bad in ["unix:///x", "http://", "h:0", "h:99999", "http://h:1/path"] {
            let err = Endpoint::parse(bad, false).unwrap_err();
            assert_eq!(err.exit_code(), 3, "{bad}");
        }
    }

    #[test]
    fn user_info_is_redacted_in_errors() {
        assert_eq!(redact("http://u:pw@h:1"), "http://***@h:1");
        assert_eq!(redact("u:p@w/x#y@h:1"), "***@h:1");
        assert_eq!(redact("https://h:1/"), "https://h:1/");
        for bad in [
            "unix://u:s3cr3t@x",
            "http://u:s3cr3t@h:99999",
            "http://u:s3cr3t@",
            "http://u:s3cr3t@[::1",
            "http://u:s3/cr3t@h:1/path",
        ] {
            let err = Endpoint::parse(bad, false).unwrap_err().to_string();
            assert!(err.contains("***@") && !err.contains("s3cr3t"), "{err}");
        }
    }
}
