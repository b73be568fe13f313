//! etcd's peer URL lists and `--initial-cluster` (`docs/format-restore.md#flags-and-checks`):
//! parsing as `types.NewURLs` / `types.NewURLsMap` do, and the bootstrap checks of
//! `VerifyBootstrap`. URLs are returned in Go's canonical `url.String()` form, which is what etcd
//! sorts, hashes and stores.

use std::collections::{BTreeMap, BTreeSet};

use super::error::SchemaError;
use super::goneturl;

/// Parses one URL as an element of `types.NewURLs`: trimmed, scheme http, https, unix or
/// unixs, http(s) as `host:port` without a path. Returns Go's canonical string for it.
pub fn parse_url(input: &str) -> Result<String, SchemaError> {
    let input = input.trim();
    let url =
        goneturl::parse(input).map_err(|e| SchemaError::Url(format!("parse {input:?}: {e}")))?;
    match url.scheme.as_str() {
        "http" | "https" => {
            if !goneturl::is_host_port(url.host) {
                return Err(SchemaError::Url(format!(
                    "URL address does not have the form \"host:port\": {input}"
                )));
            }
            if !url.path.is_empty() {
                return Err(SchemaError::Url(format!(
                    "URL must not contain a path: {input}"
                )));
            }
        }
        "unix" | "unixs" => {}
        _ => {
            return Err(SchemaError::Url(format!(
                "URL scheme must be http, https, unix, or unixs: {input}"
            )));
        }
    }
    Ok(url.to_go_string())
}

/// Parses a URL list as `types.NewURLs`: each as [`parse_url`], sorted by string. An empty
/// list is an error.
pub fn parse_urls(inputs: &[impl AsRef<str>]) -> Result<Vec<String>, SchemaError> {
    if inputs.is_empty() {
        return Err(SchemaError::Url("no valid URLs given".into()));
    }
    let mut urls = inputs
        .iter()
        .map(|s| parse_url(s.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    urls.sort();
    Ok(urls)
}

/// A parsed `--initial-cluster`: member name → its sorted peer URLs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InitialCluster {
    pub members: BTreeMap<String, Vec<String>>,
}

impl InitialCluster {
    /// Parses `name=url,name=url,…` as `types.NewURLsMap`: pairs split on `,` (empty pairs
    /// skipped), name and URL on the first `=`, repeated names collect URLs. An empty string
    /// is an empty cluster (rejected later by [`InitialCluster::verify_bootstrap`]).
    pub fn parse(spec: &str) -> Result<InitialCluster, SchemaError> {
        let mut raw: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for pair in spec.split(',').filter(|p| !p.is_empty()) {
            let (name, url) = pair.split_once('=').unwrap_or((pair, ""));
            raw.entry(name.to_string()).or_default().push(url);
        }
        let members = raw
            .into_iter()
            .map(|(name, urls)| Ok((name, parse_urls(&urls)?)))
            .collect::<Result<_, SchemaError>>()?;
        Ok(InitialCluster { members })
    }

    /// The peer URLs of `name`, if it is a member.
    pub fn urls(&self, name: &str) -> Option<&[String]> {
        self.members.get(name).map(Vec::as_slice)
    }

    /// The checks etcdutl's restore runs before writing anything (`VerifyBootstrap`):
    /// `name` is a member, `advertise_peer_urls` equal its URLs, no URL is used twice, the
    /// cluster is not empty. URLs are compared as strings (etcd would also resolve host names).
    pub fn verify_bootstrap(
        &self,
        name: &str,
        advertise_peer_urls: &[String],
    ) -> Result<(), SchemaError> {
        let fail = |msg: String| Err(SchemaError::Membership(msg));
        let Some(own) = self.urls(name) else {
            return fail(format!(
                "couldn't find local name {name:?} in the initial cluster configuration"
            ));
        };
        let own_set: BTreeSet<&String> = own.iter().collect();
        let advertised: BTreeSet<&String> = advertise_peer_urls.iter().collect();
        let advertised_list = advertise_peer_urls.join(",");
        let missing: Vec<String> = own_set
            .difference(&advertised)
            .map(|u| format!("{name}={u}"))
            .collect();
        if !missing.is_empty() {
            return fail(format!(
                "--initial-cluster has {} but missing from --initial-advertise-peer-urls={advertised_list}",
                missing.join(",")
            ));
        }
        // etcd names the advertised URLs as the `--initial-cluster` value in these messages.
        let mut advertised_pairs: Vec<String> = advertise_peer_urls
            .iter()
            .map(|u| format!("{name}={u}"))
            .collect();
        advertised_pairs.sort();
        let extra: Vec<&str> = advertised
            .difference(&own_set)
            .map(|u| u.as_str())
            .collect();
        if !extra.is_empty() {
            return fail(format!(
                "--initial-advertise-peer-urls has {} but missing from --initial-cluster={}",
                extra.join(","),
                advertised_pairs.join(",")
            ));
        }
        if own.len() != advertise_peer_urls.len() {
            return fail(format!(
                "failed to resolve {advertised_list} to match --initial-cluster={}",
                advertised_pairs.join(",")
            ));
        }
        let mut seen = BTreeSet::new();
        if self.members.values().flatten().any(|u| !seen.insert(u)) {
            return fail(format!("initial cluster {self} has duplicate url"));
        }
        if self.members.values().all(Vec::is_empty) {
            return fail("initial cluster unset and no discovery URL found".into());
        }
        Ok(())
    }
}

/// Go's `URLsMap.String()`: every `name=url` pair, sorted, joined by `,`.
impl std::fmt::Display for InitialCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut pairs: Vec<String> = self
            .members
            .iter()
            .flat_map(|(name, urls)| urls.iter().map(move |u| format!("{name}={u}")))
            .collect();
        pairs.sort();
        f.write_str(&pairs.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn urls_are_trimmed_canonical_and_sorted() {
        let urls = parse_urls(&[
            "  http://127.0.0.2:2379 ",
            "HTTPS://127.0.0.1:2379",
            "unix:///s",
        ])
        .unwrap();
        assert_eq!(
            urls,
            s(&[
                "http://127.0.0.2:2379",
                "https://127.0.0.1:2379",
                "unix:///s"
            ])
        );
    }

    #[test]
    fn bad_urls_have_etcd_messages() {
        let empty: [&str; 0] = [];
        assert_eq!(
            parse_urls(&empty).unwrap_err().to_string(),
            "no valid URLs given"
        );
        let cases = [
            (
                "://127.0.0.1:2379",
                "parse \"://127.0.0.1:2379\": missing protocol scheme",
            ),
            (
                "mailto://127.0.0.1:2379",
                "URL scheme must be http, https, unix, or unixs: mailto://127.0.0.1:2379",
            ),
            (
                "http://127.0.0.1",
                "URL address does not have the form \"host:port\": http://127.0.0.1",
            ),
            (
                "http://127.0.0.1:2379/path",
                "URL must not contain a path: http://127.0.0.1:2379/path",
            ),
            (
                "http://localhost:2380/",
                "URL must not contain a path: http://localhost:2380/",
            ),
            ("", "URL scheme must be http, https, unix, or unixs: "),
            (
                "127.0.0.1:2380",
                "parse \"127.0.0.1:2380\": first path segment in URL cannot contain colon",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse_url(input).unwrap_err().to_string(), want, "{input}");
        }
    }

    #[test]
    fn initial_cluster_collects_and_sorts() {
        let c = InitialCluster::parse(
            "mem1=http://10.0.0.1:2379,mem1=http://128.193.4.20:2379,mem2=http://10.0.0.2:2379,default=http://127.0.0.1:2379",
        )
        .unwrap();
        assert_eq!(c.members.len(), 3);
        assert_eq!(
            c.urls("mem1").unwrap(),
            s(&["http://10.0.0.1:2379", "http://128.193.4.20:2379"])
        );
        assert_eq!(c.urls("default").unwrap(), s(&["http://127.0.0.1:2379"]));
        let ordered = InitialCluster::parse("m=http://b:2,m=http://a:1,,").unwrap();
        assert_eq!(ordered.urls("m").unwrap(), s(&["http://a:1", "http://b:2"]));
        assert_eq!(ordered.to_string(), "m=http://a:1,m=http://b:2");
        assert!(InitialCluster::parse("").unwrap().members.is_empty());
    }

    #[test]
    fn bad_initial_clusters() {
        for bad in [
            "%^",
            "mem1=,mem2=http://128.193.4.20:2379",
            "mem1,mem2=http://128.193.4.20:2379",
            "default=http://localhost/",
        ] {
            assert!(InitialCluster::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn verify_bootstrap_like_etcd() {
        let c = InitialCluster::parse("a=http://h:1,a=http://h:2,b=http://h:3").unwrap();
        assert!(
            c.verify_bootstrap("a", &s(&["http://h:1", "http://h:2"]))
                .is_ok()
        );
        let err =
            |name: &str, urls: &[&str]| c.verify_bootstrap(name, &s(urls)).unwrap_err().to_string();
        assert_eq!(
            err("x", &["http://h:1"]),
            "couldn't find local name \"x\" in the initial cluster configuration"
        );
        assert_eq!(
            err("a", &["http://h:1"]),
            "--initial-cluster has a=http://h:2 but missing from --initial-advertise-peer-urls=http://h:1"
        );
        assert_eq!(
            err("b", &["http://h:3", "http://h:9"]),
            "--initial-advertise-peer-urls has http://h:9 but missing from --initial-cluster=b=http://h:3,b=http://h:9"
        );
        let twice = InitialCluster::parse("a=http://h:1,a=http://h:1").unwrap();
        assert_eq!(
            twice
                .verify_bootstrap("a", &s(&["http://h:1"]))
                .unwrap_err()
                .to_string(),
            "failed to resolve http://h:1 to match --initial-cluster=a=http://h:1"
        );
        let dup = InitialCluster::parse("a=http://h:1,b=http://h:1").unwrap();
        assert_eq!(
            dup.verify_bootstrap("a", &s(&["http://h:1"]))
                .unwrap_err()
                .to_string(),
            "initial cluster a=http://h:1,b=http://h:1 has duplicate url"
        );
    }
}
