//! Cluster membership (`docs/format-etcd.md#members-bucket`,
//! `docs/format-restore.md#member-and-cluster-ids`): the `members` bucket's JSON, member and
//! cluster IDs derived as etcd derives them, and (re-exported from [`super::urls`]) etcd's URL and
//! `--initial-cluster` parsing.

use serde::Deserialize;
use sha1::{Digest, Sha1};

use super::error::SchemaError;
use super::gojson::{push_string, push_string_array};

pub use super::urls::{InitialCluster, parse_url, parse_urls};

/// One member, as `membership.Member` (JSON in the `members` bucket and in ConfChange contexts).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Member {
    pub id: u64,
    pub peer_urls: Vec<String>,
    pub is_learner: bool,
    pub name: String,
    pub client_urls: Vec<String>,
}

/// The wire shape of `membership.Member`; Go's `null` slices read as empty.
#[derive(Deserialize)]
struct MemberJson {
    #[serde(default)]
    id: u64,
    #[serde(rename = "peerURLs", default)]
    peer_urls: Option<Vec<String>>,
    #[serde(rename = "isLearner", default)]
    is_learner: bool,
    #[serde(default)]
    name: String,
    #[serde(rename = "clientURLs", default)]
    client_urls: Option<Vec<String>>,
}

impl Member {
    /// A new voting member as a restore creates it: ID derived from its sorted peer URLs and
    /// the cluster token, no client URLs. `peer_urls` are taken as given (already canonical
    /// and sorted, see [`parse_urls`]).
    pub fn new_for_bootstrap(name: &str, peer_urls: Vec<String>, token: &str) -> Member {
        Member {
            id: member_id(&peer_urls, token),
            peer_urls,
            is_learner: false,
            name: name.to_string(),
            client_urls: Vec::new(),
        }
    }

    /// Byte-identical to Go's `json.Marshal(membership.Member)`: `id, peerURLs, isLearner`
    /// (omitted when false), `name` (omitted when empty), `clientURLs` (omitted when empty).
    pub fn to_json(&self) -> String {
        let mut out = format!("{{\"id\":{},\"peerURLs\":", self.id);
        push_string_array(&mut out, &self.peer_urls);
        if self.is_learner {
            out.push_str(",\"isLearner\":true");
        }
        if !self.name.is_empty() {
            out.push_str(",\"name\":");
            push_string(&mut out, &self.name);
        }
        if !self.client_urls.is_empty() {
            out.push_str(",\"clientURLs\":");
            push_string_array(&mut out, &self.client_urls);
        }
        out.push('}');
        out
    }

    /// Go's `json.Marshal(membership.RaftAttributes)`: the v2-store `raftAttributes` value.
    pub fn raft_attributes_json(&self) -> String {
        let mut out = String::from("{\"peerURLs\":");
        push_string_array(&mut out, &self.peer_urls);
        if self.is_learner {
            out.push_str(",\"isLearner\":true");
        }
        out.push('}');
        out
    }

    /// Reads a `members` bucket value.
    pub fn from_json(bytes: &[u8]) -> Result<Member, SchemaError> {
        let bad = |e: serde_json::Error| SchemaError::json("member", e);
        // serde would also take a JSON array for a struct; Go only takes an object.
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(bad)?;
        if !value.is_object() {
            return Err(SchemaError::json("member", "not a JSON object"));
        }
        let m: MemberJson = serde_json::from_value(value).map_err(bad)?;
        Ok(Member {
            id: m.id,
            peer_urls: m.peer_urls.unwrap_or_default(),
            is_learner: m.is_learner,
            name: m.name,
            client_urls: m.client_urls.unwrap_or_default(),
        })
    }
}

/// etcd's member ID: the first 8 bytes (big-endian) of SHA-1 over the sorted peer URLs
/// concatenated without separator, followed by the cluster token.
pub fn member_id(peer_urls: &[impl AsRef<str>], token: &str) -> u64 {
    let mut sorted: Vec<&str> = peer_urls.iter().map(AsRef::as_ref).collect();
    sorted.sort_unstable();
    let mut hasher = Sha1::new();
    for url in sorted {
        hasher.update(url.as_bytes());
    }
    hasher.update(token.as_bytes());
    first_u64(&hasher.finalize())
}

/// etcd's cluster ID: the first 8 bytes (big-endian) of SHA-1 over the member IDs, sorted
/// ascending, each as 8 big-endian bytes.
pub fn cluster_id(member_ids: &[u64]) -> u64 {
    let mut sorted = member_ids.to_vec();
    sorted.sort_unstable();
    let mut hasher = Sha1::new();
    for id in sorted {
        hasher.update(id.to_be_bytes());
    }
    first_u64(&hasher.finalize())
}

fn first_u64(digest: &[u8]) -> u64 {
    u64::from_be_bytes(digest[..8].try_into().expect("SHA-1 has 20 bytes"))
}

/// An ID as etcd prints it and keys the `members` bucket: lowercase hex, no padding.
pub fn id_hex(id: u64) -> String {
    format!("{id:x}")
}

/// Reads a `members` / `members_removed` bucket key.
pub fn id_from_hex(key: &[u8]) -> Result<u64, SchemaError> {
    std::str::from_utf8(key)
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|s| u64::from_str_radix(s, 16).ok())
        .ok_or_else(|| {
            SchemaError::invalid(
                "member ID key",
                format!("{:?} is not a hex u64", String::from_utf8_lossy(key)),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_member_json_example() {
        let json =
            br#"{"id":11852540107930471282,"peerURLs":["http://127.0.0.1:24802"],"name":"m1"}"#;
        let m = Member::from_json(json).unwrap();
        assert_eq!(m.id, 11852540107930471282);
        assert_eq!(id_hex(m.id), "a47cae6e43440b72");
        assert_eq!(m.peer_urls, ["http://127.0.0.1:24802"]);
        assert_eq!(m.name, "m1");
        assert!(!m.is_learner && m.client_urls.is_empty());
        assert_eq!(m.to_json().as_bytes(), json);
    }

    #[test]
    fn all_fields_in_go_order_with_html_escaping() {
        let m = Member {
            id: 1,
            peer_urls: vec!["http://a:1".into(), "http://b:2".into()],
            is_learner: true,
            name: "x<&>".into(),
            client_urls: vec!["http://c:3?a=1&b=2".into()],
        };
        let json = m.to_json();
        assert_eq!(
            json,
            r#"{"id":1,"peerURLs":["http://a:1","http://b:2"],"isLearner":true,"name":"x\u003c\u0026\u003e","clientURLs":["http://c:3?a=1\u0026b=2"]}"#
        );
        assert_eq!(Member::from_json(json.as_bytes()).unwrap(), m);
        assert_eq!(
            m.raft_attributes_json(),
            r#"{"peerURLs":["http://a:1","http://b:2"],"isLearner":true}"#
        );
        let bare = Member::from_json(br#"{"id":5,"peerURLs":null}"#).unwrap();
        assert_eq!(bare.to_json(), r#"{"id":5,"peerURLs":null}"#);
    }

    #[test]
    fn verified_ids() {
        let id = member_id(&["http://127.0.0.1:24801"], "tok-src35");
        assert_eq!(id, 5598121844046460979);
        assert_eq!(cluster_id(&[id]), 2043834500597931507);
        let default = member_id(&["http://localhost:2380"], "etcd-cluster");
        assert_eq!(id_hex(default), "8e9e05c52164694d");
        assert_eq!(id_hex(cluster_id(&[default])), "cdf818194e3a8c32");
    }

    #[test]
    fn ids_do_not_depend_on_input_order() {
        assert_eq!(
            member_id(&["http://b:2", "http://a:1"], "t"),
            member_id(&["http://a:1", "http://b:2"], "t")
        );
        assert_eq!(cluster_id(&[3, 1, 2]), cluster_id(&[1, 2, 3]));
        let m = Member::new_for_bootstrap("n", vec!["http://a:1".into()], "t");
        assert_eq!(m.id, member_id(&["http://a:1"], "t"));
    }

    #[test]
    fn hex_ids() {
        assert_eq!(id_hex(0xab), "ab");
        assert_eq!(
            id_from_hex(b"a47cae6e43440b72").unwrap(),
            0xa47cae6e43440b72
        );
        for bad in [&b""[..], b"xyz", b"+1", b"11111111111111111", &[0xff]] {
            assert!(id_from_hex(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn malformed_json_is_an_error() {
        for bad in [
            &b""[..],
            b"{",
            b"{\"id\":-1}",
            b"[]",
            b"{\"id\":1,\"peerURLs\":[1]}",
        ] {
            assert!(
                Member::from_json(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
