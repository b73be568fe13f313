//! etcd-client errors mapped to revkeeper's exit codes, on one line.

use crate::error::{Error, ErrorKind};

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
