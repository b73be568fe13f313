//! `object_store` errors → one line naming the location and what to do. Messages are built from
//! the error's kind, the HTTP status and the S3/Azure/GCS error code only: never from request
//! URLs or headers, which may carry tokens.

use std::error::Error as StdError;

use object_store::client::{HttpError, HttpErrorKind};

use super::Location;
use crate::{Error, ErrorKind};

/// Error codes of S3, Azure and GCS that mean the credentials are wrong or lack a right (list
/// requests come back as generic errors, so the variant alone does not tell).
const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "AuthenticationFailed",
    "AuthorizationFailure",
    "AuthorizationPermissionMismatch",
    "forbidden",
    "unauthorized",
];

/// Which credentials to check, per cloud.
fn credential_hint(location: &Location) -> &'static str {
    match location {
        Location::S3 { .. } => {
            "check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN (or the role) and AWS_REGION"
        }
        Location::Gcs { .. } => {
            "check GOOGLE_APPLICATION_CREDENTIALS (or the workload identity) and the bucket's IAM"
        }
        Location::Azure { .. } => {
            "check AZURE_STORAGE_ACCOUNT_NAME/AZURE_STORAGE_ACCOUNT_KEY (or AZURE_STORAGE_SAS_KEY / a managed identity)"
        }
        Location::Local(_) => "check the permissions",
    }
}

fn endpoint_hint(location: &Location) -> &'static str {
    match location {
        Location::S3 { .. } => "check --s3-endpoint/AWS_ENDPOINT_URL and the network",
        Location::Gcs { .. } => "check the network (and GOOGLE_SERVICE_ACCOUNT / proxy settings)",
        Location::Azure { .. } => "check AZURE_STORAGE_ENDPOINT/the account name and the network",
        Location::Local(_) => "check the path",
    }
}

/// `action` is what was being done (`list`, `upload`, …); `target` names the location or object.
pub(crate) fn map_store_error(
    e: object_store::Error,
    location: &Location,
    action: &str,
    target: &str,
) -> Error {
    if let Some(kind) = http_kind(&e) {
        let why = match kind {
            HttpErrorKind::Connect => "cannot connect",
            HttpErrorKind::Timeout => "timed out",
            _ => "connection broken",
        };
        return Error::connect(format!(
            "cannot {action} {target}: {why} ({}); {}",
            root_cause(&e),
            endpoint_hint(location)
        ));
    }
    let code = error_code(&e);
    let code_part = code
        .as_deref()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    let missing_container = matches!(
        code.as_deref(),
        Some("NoSuchBucket" | "ContainerNotFound" | "BucketNotFound")
    );
    if missing_container {
        let (bucket, _) = location.bucket_and_prefix().unwrap_or(("", ""));
        let what = if matches!(location, Location::Azure { .. }) {
            "container"
        } else {
            "bucket"
        };
        return Error::invalid(format!(
            "cannot {action} {target}: {what} {bucket:?} does not exist{code_part}; create it or fix the URL"
        ));
    }
    let text = full_text(&e);
    let denied = matches!(
        e,
        object_store::Error::Unauthenticated { .. } | object_store::Error::PermissionDenied { .. }
    ) || text.contains(" 403 Forbidden")
        || text.contains(" 401 Unauthorized")
        || code.as_deref().is_some_and(|c| DENIED_CODES.contains(&c));
    match e {
        _ if denied => Error::server(format!(
            "cannot {action} {target}: access denied{code_part}; {}",
            credential_hint(location)
        )),
        object_store::Error::NotFound { .. } => Error::invalid(format!(
            "cannot {action} {target}: no such object{code_part}"
        )),
        object_store::Error::AlreadyExists { .. } => Error::invalid(format!(
            "cannot {action} {target}: it already exists; pass --force to replace it"
        )),
        object_store::Error::Generic { .. } if code.is_some() => Error::server(format!(
            "cannot {action} {target}: the server refused{code_part}"
        )),
        other => {
            // Configuration problems (no credentials found, bad endpoint URL) come back here
            // from the builders; their text names keys, never their values.
            let hint = if action == "open" {
                format!("; {}", credential_hint(location))
            } else {
                String::new()
            };
            Error::new(
                ErrorKind::General,
                format!(
                    "cannot {action} {target}: {}{hint}",
                    scrub(&root_cause(&other))
                ),
            )
        }
    }
}

fn http_kind(e: &(dyn StdError + 'static)) -> Option<HttpErrorKind> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(h) = err.downcast_ref::<HttpError>() {
            return match h.kind() {
                k @ (HttpErrorKind::Connect
                | HttpErrorKind::Timeout
                | HttpErrorKind::Interrupted) => Some(k),
                _ => None,
            };
        }
        cur = err.source();
    }
    None
}

/// The innermost cause (`Connection refused (os error 111)`), which is short and names no URL.
fn root_cause(e: &(dyn StdError + 'static)) -> String {
    let mut cur: &(dyn StdError + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// `<Code>NoSuchBucket</Code>` (S3, Azure XML) or `"reason": "notFound"` (GCS JSON) from the
/// error text, if any.
fn error_code(e: &object_store::Error) -> Option<String> {
    let text = full_text(e);
    let xml = text
        .split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map(|(code, _)| code.to_string());
    xml.or_else(|| {
        let (_, rest) = text.split_once("\"reason\": \"")?;
        rest.split_once('"').map(|(code, _)| code.to_string())
    })
    .filter(|c| !c.is_empty() && c.len() < 64 && c.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn full_text(e: &(dyn StdError + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(err) = cur {
        out.push_str(": ");
        out.push_str(&err.to_string());
        cur = err.source();
    }
    out
}

/// Drops URL queries (`?X-Amz-Signature=…`, `?sig=…`) and userinfo from a message.
fn scrub(text: &str) -> String {
    text.split_whitespace()
        .map(|word| {
            if word.contains("://") {
                super::redact(word)
            } else {
                word.split('?').next().unwrap_or("").to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The [`Error`] behind an `io::Error` from an [`super::Upload`], a [`super::DecryptingReader`]
/// or a reader of a store (which carry one, with its exit code); any other `io::Error` becomes
/// a general error about `target`.
pub fn error_from_io(e: std::io::Error, target: &str) -> Error {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<Error>()) {
        return Error::new(inner.kind, inner.message.clone());
    }
    Error::general(format!("{target}: {e}"))
}

/// An `io::Error` carrying `e`, so [`error_from_io`] gets it back through `Write`/`Read` layers.
pub fn into_io(e: Error) -> std::io::Error {
    std::io::Error::other(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3() -> Location {
        Location::parse("s3://b/p").unwrap()
    }

    #[test]
    fn io_errors_carry_the_exit_code_through_layers() {
        let e = into_io(Error::connect("cannot upload s3://b/p/x: cannot connect"));
        let back = error_from_io(e, "s3://b/p/x");
        assert_eq!(back.exit_code(), 2);
        let plain = error_from_io(std::io::Error::other("disk full"), "out.db");
        assert_eq!(plain.to_string(), "out.db: disk full");
        assert_eq!(plain.exit_code(), 1);
    }

    #[test]
    fn access_denied_names_the_variables_to_check() {
        let e = object_store::Error::PermissionDenied {
            path: "p/x".into(),
            source: "Server returned non-2xx status code: 403 Forbidden: <Error><Code>InvalidAccessKeyId</Code></Error>".into(),
        };
        let msg = map_store_error(e, &s3(), "list", "s3://b/p").to_string();
        assert_eq!(
            msg,
            "cannot list s3://b/p: access denied (InvalidAccessKeyId); check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN (or the role) and AWS_REGION"
        );
        let az = Location::parse("az://c/p").unwrap();
        let e = object_store::Error::Unauthenticated {
            path: "p".into(),
            source: "401".into(),
        };
        let msg = map_store_error(e, &az, "list", "az://c/p").to_string();
        assert!(msg.contains("AZURE_STORAGE_ACCOUNT_KEY"), "{msg}");
        let gs = Location::parse("gs://g/p").unwrap();
        let e = object_store::Error::PermissionDenied {
            path: "p".into(),
            source: "403".into(),
        };
        let msg = map_store_error(e, &gs, "list", "gs://g/p").to_string();
        assert!(msg.contains("GOOGLE_APPLICATION_CREDENTIALS"), "{msg}");
    }

    #[test]
    fn missing_containers_are_named() {
        let az = Location::parse("az://snaps/p").unwrap();
        let e = object_store::Error::NotFound {
            path: "p".into(),
            source: "<?xml?><Error><Code>ContainerNotFound</Code></Error>".into(),
        };
        let err = map_store_error(e, &az, "list", "az://snaps/p");
        assert_eq!(err.exit_code(), 3);
        assert!(
            err.to_string()
                .contains("container \"snaps\" does not exist (ContainerNotFound)"),
            "{err}"
        );
    }

    #[test]
    fn other_messages_lose_queries_and_userinfo() {
        let e = object_store::Error::Generic {
            store: "S3",
            source: "Error performing PUT http://u:pw@h/b/x?uploadId=1&X-Amz-Signature=abc failed"
                .into(),
        };
        let msg = map_store_error(e, &s3(), "upload", "s3://b/p/x").to_string();
        assert!(!msg.contains("abc") && !msg.contains("pw"), "{msg}");
        assert!(msg.contains("http://***@h/b/x"), "{msg}");
    }
}
