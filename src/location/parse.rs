//! What the user typed → a [`Location`]: a local directory or a bucket (container) and a prefix.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Where backups live. `Display` gives the canonical form (`s3://bucket/prefix`, a local path),
/// which never holds credentials: URLs carrying userinfo or a query are refused by
/// [`Location::parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    S3 { bucket: String, prefix: String },
    Gcs { bucket: String, prefix: String },
    Azure { container: String, prefix: String },
}

impl Location {
    /// `s3://BUCKET/PREFIX`, `gs://BUCKET/PREFIX`, `az://CONTAINER/PREFIX` (or `azure://`),
    /// `file:///PATH`, or a plain path. The prefix may be empty; slashes around it are dropped.
    pub fn parse(text: &str) -> Result<Location> {
        let Some((scheme, rest)) = text.split_once("://") else {
            if text.is_empty() {
                return Err(Error::invalid("empty location: give a directory or a URL"));
            }
            return Ok(Location::Local(PathBuf::from(text)));
        };
        let bad = |why: &str| Error::invalid(format!("bad location {}: {why}", redact(text)));
        if rest.contains('?') || rest.contains('#') {
            return Err(bad(
                "query strings and fragments are not supported (credentials belong in the environment)",
            ));
        }
        let scheme = scheme.to_ascii_lowercase();
        if scheme == "file" {
            return file_url(text).map(Location::Local).map_err(|why| bad(&why));
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.contains('@') {
            return Err(bad(
                "credentials in the URL are not used; set them in the environment (see docs/locations.md)",
            ));
        }
        let what = if matches!(scheme.as_str(), "az" | "azure") {
            "container"
        } else {
            "bucket"
        };
        if authority.is_empty() {
            return Err(bad(&format!("no {what} name")));
        }
        if !authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(bad(&format!(
                "{what} name {authority:?} may hold only letters, digits, '-', '_' and '.'"
            )));
        }
        let prefix = normalize_prefix(path).map_err(|why| bad(&why))?;
        let name = authority.to_string();
        match scheme.as_str() {
            "s3" => Ok(Location::S3 {
                bucket: name,
                prefix,
            }),
            "gs" => Ok(Location::Gcs {
                bucket: name,
                prefix,
            }),
            "az" | "azure" => Ok(Location::Azure {
                container: name,
                prefix,
            }),
            _ => Err(bad(
                "unsupported scheme; use s3://, gs://, az://, file:// or a plain path",
            )),
        }
    }

    /// The local directory, for a local location.
    pub fn local_path(&self) -> Option<&Path> {
        match self {
            Location::Local(p) => Some(p),
            _ => None,
        }
    }

    pub fn is_local(&self) -> bool {
        self.local_path().is_some()
    }

    /// The bucket (container) and prefix of a cloud location.
    pub(crate) fn bucket_and_prefix(&self) -> Option<(&str, &str)> {
        match self {
            Location::Local(_) => None,
            Location::S3 { bucket, prefix } | Location::Gcs { bucket, prefix } => {
                Some((bucket, prefix))
            }
            Location::Azure { container, prefix } => Some((container, prefix)),
        }
    }

    /// A cloud URL naming one object (`s3://b/p/NAME`) → its location and `NAME`; `None` for a
    /// local path or a URL without an object name.
    pub fn split_object(&self) -> Option<(Location, String)> {
        let (_, prefix) = self.bucket_and_prefix()?;
        let (rest, name) = match prefix.rsplit_once('/') {
            Some((rest, name)) => (rest.to_string(), name.to_string()),
            None if !prefix.is_empty() => (String::new(), prefix.to_string()),
            None => return None,
        };
        let parent = match self.clone() {
            Location::S3 { bucket, .. } => Location::S3 {
                bucket,
                prefix: rest,
            },
            Location::Gcs { bucket, .. } => Location::Gcs {
                bucket,
                prefix: rest,
            },
            Location::Azure { container, .. } => Location::Azure {
                container,
                prefix: rest,
            },
            Location::Local(_) => return None,
        };
        Some((parent, name))
    }

    /// How an object of this location is named in messages: `s3://b/p/NAME`, `DIR/NAME`.
    pub fn describe(&self, name: &str) -> String {
        match self {
            Location::Local(dir) => dir.join(name).display().to_string(),
            _ => {
                let base = self.to_string();
                let sep = if base.ends_with('/') { "" } else { "/" };
                format!("{base}{sep}{name}")
            }
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scheme, name, prefix) = match self {
            Location::Local(p) => return write!(f, "{}", p.display()),
            Location::S3 { bucket, prefix } => ("s3", bucket, prefix),
            Location::Gcs { bucket, prefix } => ("gs", bucket, prefix),
            Location::Azure { container, prefix } => ("az", container, prefix),
        };
        if prefix.is_empty() {
            write!(f, "{scheme}://{name}")
        } else {
            write!(f, "{scheme}://{name}/{prefix}")
        }
    }
}

/// `text` fit for a message: the userinfo of a URL becomes `***` and its query and fragment are
/// dropped (they may hold a password, a key or a SAS token).
pub fn redact(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => authority.to_string(),
    };
    format!("{scheme}://{authority}{path}")
}

fn file_url(text: &str) -> std::result::Result<PathBuf, String> {
    let url = url::Url::parse(text).map_err(|e| e.to_string())?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("a file URL has no userinfo".into());
    }
    match url.host_str() {
        None | Some("") | Some("localhost") => {}
        Some(_) => return Err("a file URL must name a local path (file:///PATH)".into()),
    }
    url.to_file_path()
        .map_err(|_| "not a local path (use file:///PATH)".to_string())
}

/// `/a/b/` → `a/b`; empty segments, `.` and `..` are refused (they would name a different
/// object on different servers).
fn normalize_prefix(path: &str) -> std::result::Result<String, String> {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    for segment in trimmed.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(format!(
                "prefix {trimmed:?} has an empty, '.' or '..' segment"
            ));
        }
        if segment.chars().any(|c| c.is_control()) {
            return Err("prefix has control characters".into());
        }
    }
    Ok(trimmed.to_string())
}

/// Refuses object names that are not one plain path segment, so a name can never step out of
/// its location (`../x`, `a/b`) or name the location itself.
pub(crate) fn check_name(location: &Location, name: &str) -> Result<()> {
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.contains('/')
        || name.chars().any(|c| c.is_control())
    {
        return Err(Error::invalid(format!(
            "bad object name {name:?} in {location}: give a plain file name"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Location {
        Location::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn cloud_urls_parse_to_bucket_and_prefix() {
        assert_eq!(
            parse("s3://backups/etcd/prod/"),
            Location::S3 {
                bucket: "backups".into(),
                prefix: "etcd/prod".into()
            }
        );
        assert_eq!(
            parse("S3://b"),
            Location::S3 {
                bucket: "b".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            parse("gs://my_bucket.eu/x"),
            Location::Gcs {
                bucket: "my_bucket.eu".into(),
                prefix: "x".into()
            }
        );
        let az = Location::Azure {
            container: "snaps".into(),
            prefix: "c1".into(),
        };
        assert_eq!(parse("az://snaps/c1"), az);
        assert_eq!(parse("azure://snaps/c1"), az);
    }

    #[test]
    fn display_is_canonical() {
        assert_eq!(parse("azure://snaps//").to_string(), "az://snaps");
        assert_eq!(parse("s3://b/p/q/").to_string(), "s3://b/p/q");
        assert_eq!(parse("s3://b/p").describe("x.db"), "s3://b/p/x.db");
        assert_eq!(parse("s3://b").describe("x.db"), "s3://b/x.db");
        assert_eq!(parse("/var/backups").describe("x.db"), "/var/backups/x.db");
    }

    #[test]
    fn local_paths_and_file_urls() {
        assert_eq!(parse("backups"), Location::Local("backups".into()));
        assert_eq!(parse("/a b/c"), Location::Local("/a b/c".into()));
        assert_eq!(parse("file:///a%20b/c"), Location::Local("/a b/c".into()));
        assert_eq!(parse("file://localhost/x"), Location::Local("/x".into()));
        assert!(parse("./x").is_local());
        let e = Location::parse("file://otherhost/x").unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("file:///PATH"), "{e}");
    }

    #[test]
    fn credentials_in_urls_are_refused_and_never_shown() {
        for url in [
            "s3://AKIAEXAMPLE:s3cr3tValue@bucket/p",
            "s3://bucket/p?X-Amz-Signature=s3cr3tValue",
            "az://container/p?sig=s3cr3tValue&sv=1",
            "file://user:s3cr3tValue@localhost/x",
        ] {
            let e = Location::parse(url).unwrap_err();
            let msg = e.to_string();
            assert_eq!(e.exit_code(), 3, "{url}");
            assert!(!msg.contains("s3cr3tValue"), "{msg}");
            assert!(!msg.contains("AKIAEXAMPLE"), "{msg}");
            assert_eq!(msg.lines().count(), 1);
        }
        assert_eq!(
            redact("https://user:pw@host:9000/path?token=x"),
            "https://***@host:9000/path"
        );
        assert_eq!(redact("/plain/path"), "/plain/path");
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        for (url, needle) in [
            ("s3:///prefix", "no bucket name"),
            ("az:///p", "no container name"),
            ("s3://b/a//c", "empty, '.' or '..'"),
            ("s3://b/../c", "empty, '.' or '..'"),
            ("s3://bu cket/p", "may hold only"),
            ("ftp://host/p", "unsupported scheme"),
            ("", "empty location"),
        ] {
            let e = Location::parse(url).unwrap_err();
            assert!(e.to_string().contains(needle), "{url}: {e}");
            assert_eq!(e.exit_code(), 3);
        }
    }

    #[test]
    fn object_names_stay_inside_their_location() {
        let loc = parse("s3://b/p");
        for bad in ["", ".", "..", "../x", "a/b", "x\n"] {
            assert!(check_name(&loc, bad).is_err(), "{bad:?}");
        }
        check_name(&loc, "etcd-x-rev12.db.zst.age").unwrap();
    }
}
