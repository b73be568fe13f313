//! What differs between two sources — two snapshots, or a snapshot and a live cluster — object
//! by object: added, removed or changed, per resource. One walk of both sources in key order (a
//! merge-join: the second is read on a thread and handed over in small batches, see
//! [`incoming`]), so memory stays bounded whatever their size. `snapshot diff` prints it; the
//! TUI's snapshot diff counts it.
//!
//! "Changed" means the decoded objects differ: equal bytes are equal (the fast path, nothing is
//! decoded), and different bytes are decoded and compared, so a re-encryption or a change of
//! encoding (JSON → protobuf) with the same content is not a change. Keys that are not objects
//! of a resource revkeeper knows (`compact_rev_key`, the range allocators under
//! `<prefix>/ranges/`) are compared byte for byte under [`OTHER_KEYS`].

mod incoming;

use std::borrow::Cow;
use std::collections::BTreeMap;

use revkeeper_formats::k8s::key::{ObjectKey, key_prefix};
use revkeeper_formats::k8s::resources::{self, OTHER_KEYS, Target};
use revkeeper_formats::k8s::{Keyring, decode_value};
use serde::Serialize;
use serde_json::Value;

use crate::Result;
use crate::decode::NewerFields;
use crate::source::{KeyRange, KeyView, RangeQuery, Source};

/// Which keys are compared.
#[derive(Clone, Debug)]
pub struct Scope {
    /// The etcd prefix of Kubernetes objects, without its trailing `/`.
    pub prefix: String,
    /// Where both sources are read.
    pub range: KeyRange,
    /// Only objects in this namespace (other keys and cluster-scoped objects are left out).
    pub namespace: Option<String>,
}

impl Scope {
    /// Every key of both sources.
    pub fn everything(prefix: &str) -> Scope {
        Scope {
            prefix: prefix.trim_end_matches('/').to_string(),
            range: KeyRange::prefix(Vec::new()),
            namespace: None,
        }
    }

    /// The objects of one resource, in `namespace` if it is namespaced (kubectl ignores `-n`
    /// for cluster-scoped resources, and so does this).
    pub fn resource(prefix: &str, target: &Target, namespace: Option<&str>) -> Scope {
        let namespace = namespace.filter(|_| target.namespaced != Some(false));
        Scope {
            prefix: prefix.trim_end_matches('/').to_string(),
            range: KeyRange::prefix(key_prefix(prefix, &target.etcd_resource, namespace)),
            namespace: namespace.map(str::to_string),
        }
    }

    /// Only objects in `namespace`.
    pub fn in_namespace(mut self, namespace: Option<&str>) -> Scope {
        self.namespace = namespace.map(str::to_string);
        self
    }

    /// The object `key` names, or `None` for other keys.
    fn object<'k>(&self, key: &'k [u8]) -> Option<ObjectKey<'k>> {
        ObjectKey::parse(key, &self.prefix).filter(|k| known_resource(k.resource))
    }

    fn wants(&self, key: &[u8]) -> bool {
        match &self.namespace {
            None => true,
            Some(ns) => self
                .object(key)
                .is_some_and(|k| k.namespace == Some(ns.as_str())),
        }
    }
}

/// A built-in resource, or a custom one (`<group>/<plural>`; only a group has a dot).
fn known_resource(etcd_resource: &str) -> bool {
    resources::by_etcd_resource(etcd_resource).is_some() || etcd_resource.contains('.')
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

/// One key's side of a difference: its mod_revision and, when decoded, the object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Side {
    pub revision: i64,
    /// `None` when not asked for (added and removed objects, see [`DiffOptions::whole_objects`]),
    /// for other keys, for values that are not objects, and when decoding failed.
    pub object: Option<Value>,
}

/// One difference.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry<'a> {
    pub change: Change,
    pub key: &'a [u8],
    /// The etcd resource (`pods`, `minions`, `example.com/widgets`), or [`OTHER_KEYS`].
    pub etcd_resource: &'a str,
    pub namespace: Option<&'a str>,
    /// The object's name; for other keys the whole key.
    pub name: Cow<'a, str>,
    /// In the first source (`None` when added).
    pub from: Option<Side>,
    /// In the second source (`None` when removed).
    pub to: Option<Side>,
    /// Why a value could not be decoded; a changed key then counts as changed (its bytes
    /// differ). The caller reports it: the core never logs (the TUI owns the terminal).
    pub undecodable: Option<String>,
    /// Both decoded objects are equal but carry fields newer than the schema, which were
    /// skipped: they may differ only there. Counted as changed, since equality is unproven.
    pub newer_fields_only: bool,
}

impl Entry<'_> {
    /// kubectl's name of the resource (`nodes`, `widgets.example.com`), or [`OTHER_KEYS`].
    pub fn resource(&self) -> String {
        resource_name(self.etcd_resource)
    }

    pub fn is_object(&self) -> bool {
        self.etcd_resource != OTHER_KEYS
    }
}

fn resource_name(etcd_resource: &str) -> String {
    match etcd_resource {
        OTHER_KEYS => OTHER_KEYS.to_string(),
        r => resources::display_name(r),
    }
}

/// The differences of one resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ResourceCounts {
    /// kubectl's name (`pods`, `deployments`, `widgets.example.com`) or `(other keys)`.
    pub resource: String,
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
}

/// What a comparison found, besides the entries it reported.
#[derive(Debug, Default)]
pub struct Summary {
    /// Resources with at least one difference, by name.
    pub resources: Vec<ResourceCounts>,
    /// Values decoded (those whose bytes differed, and added/removed ones when asked for).
    pub decoded: u64,
    /// Values that could not be decoded (each reported in its [`Entry`]).
    pub undecodable: u64,
    /// Decoded objects with fields newer than the schema.
    pub newer: NewerFields,
}

impl Summary {
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }
}

pub struct DiffOptions<'a> {
    pub scope: Scope,
    pub keyring: &'a Keyring,
    /// Decode added and removed objects too (to show them whole); changed ones always are.
    pub whole_objects: bool,
}

/// Compares `from` with `to` within `opts.scope`, calling `f` with each difference in key order.
/// An error from either source or from `f` stops the walk and is returned.
pub fn compare(
    from: &dyn Source,
    to: &dyn Source,
    opts: &DiffOptions<'_>,
    f: &mut dyn FnMut(&Entry<'_>) -> Result<()>,
) -> Result<Summary> {
    let query = RangeQuery::latest(opts.scope.range.clone());
    let mut walk = Walk {
        opts,
        counts: BTreeMap::new(),
        summary: Summary::default(),
        f,
    };
    incoming::merge(
        from,
        to,
        &query,
        &|key| opts.scope.wants(key),
        &mut |pair| walk.pair(pair),
    )?;
    let Walk {
        counts,
        mut summary,
        ..
    } = walk;
    summary.resources = counts.into_values().collect();
    Ok(summary)
}

/// The same key in either source or both.
pub(crate) enum Pair<'a> {
    Removed(KeyView<'a>),
    Added(KeyView<'a>),
    Both(KeyView<'a>, KeyView<'a>),
}

struct Walk<'o, 'f> {
    opts: &'o DiffOptions<'o>,
    /// By resource name, so the rows come out sorted as the user reads them.
    counts: BTreeMap<String, ResourceCounts>,
    summary: Summary,
    f: &'f mut dyn FnMut(&Entry<'_>) -> Result<()>,
}

impl Walk<'_, '_> {
    fn pair(&mut self, pair: Pair<'_>) -> Result<()> {
        let (key, from, to) = match &pair {
            Pair::Removed(a) => (a.key, Some(a), None),
            Pair::Added(b) => (b.key, None, Some(b)),
            Pair::Both(a, b) => {
                if a.value == b.value {
                    return Ok(());
                }
                (a.key, Some(a), Some(b))
            }
        };
        let object = self.opts.scope.object(key);
        let mut entry = Entry {
            change: match (from, to) {
                (Some(_), Some(_)) => Change::Changed,
                (Some(_), None) => Change::Removed,
                _ => Change::Added,
            },
            key,
            etcd_resource: object.map_or(OTHER_KEYS, |k| k.resource),
            namespace: object.and_then(|k| k.namespace),
            name: match object {
                Some(k) => Cow::Borrowed(k.name),
                None => String::from_utf8_lossy(key),
            },
            from: from.map(|kv| self.side(kv)),
            to: to.map(|kv| self.side(kv)),
            undecodable: None,
            newer_fields_only: false,
        };
        let decode =
            object.is_some() && (entry.change == Change::Changed || self.opts.whole_objects);
        if decode {
            let from = from.map(|kv| self.decode(kv)).transpose();
            let to = to.map(|kv| self.decode(kv)).transpose();
            match (from, to) {
                (Ok(a), Ok(b)) => {
                    if let (Some((a_newer, Some(x))), Some((b_newer, Some(y)))) = (&a, &b)
                        && x == y
                    {
                        if !a_newer && !b_newer {
                            return Ok(());
                        }
                        entry.newer_fields_only = true;
                    }
                    if let (Some(side), Some((_, object))) = (entry.from.as_mut(), a) {
                        side.object = object;
                    }
                    if let (Some(side), Some((_, object))) = (entry.to.as_mut(), b) {
                        side.object = object;
                    }
                }
                (Err(e), _) | (_, Err(e)) => entry.undecodable = Some(e),
            }
        }
        let counts = self
            .counts
            .entry(entry.resource())
            .or_insert_with(|| ResourceCounts {
                resource: entry.resource(),
                ..ResourceCounts::default()
            });
        match entry.change {
            Change::Added => counts.added += 1,
            Change::Removed => counts.removed += 1,
            Change::Changed => counts.changed += 1,
        }
        (self.f)(&entry)
    }

    fn side(&self, kv: &KeyView<'_>) -> Side {
        Side {
            revision: kv.mod_revision,
            object: None,
        }
    }

    /// The object as stored (no `resourceVersion`: etcd's mod_revision is in [`Side`]), and
    /// whether it had fields newer than the schema.
    fn decode(&mut self, kv: &KeyView<'_>) -> std::result::Result<(bool, Option<Value>), String> {
        match decode_value(kv.key, kv.value, self.opts.keyring) {
            Ok(d) => {
                self.summary.decoded += 1;
                self.summary.newer.note(kv.key, &d);
                Ok((d.unknown_fields > 0, d.object))
            }
            Err(e) => {
                self.summary.undecodable += 1;
                Err(e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_of_known_resources_only() {
        let scope = Scope::everything("/registry/");
        let object = |k: &'static str| scope.object(k.as_bytes()).map(|o| o.resource);
        assert_eq!(object("/registry/pods/default/web"), Some("pods"));
        assert_eq!(object("/registry/minions/n1"), Some("minions"));
        assert_eq!(
            object("/registry/services/specs/default/kubernetes"),
            Some("services/specs")
        );
        assert_eq!(
            object("/registry/example.com/widgets/ns/w"),
            Some("example.com/widgets")
        );
        assert_eq!(object("/registry/ranges/serviceips"), None);
        assert_eq!(object("/registry/masterleases/10.0.0.1"), None);
        assert_eq!(object("compact_rev_key"), None);
    }

    #[test]
    fn a_namespace_keeps_only_its_objects() {
        let scope = Scope::everything("/registry").in_namespace(Some("prod"));
        assert!(scope.wants(b"/registry/pods/prod/web"));
        assert!(!scope.wants(b"/registry/pods/dev/web"));
        assert!(!scope.wants(b"/registry/minions/prod"));
        assert!(!scope.wants(b"compact_rev_key"));
        let nodes = Target {
            etcd_resource: "minions".into(),
            namespaced: Some(false),
        };
        let scope = Scope::resource("/registry", &nodes, Some("prod"));
        assert_eq!(scope.range, KeyRange::prefix("/registry/minions/"));
        assert!(scope.wants(b"/registry/minions/n1"));
        let pods = Target {
            etcd_resource: "pods".into(),
            namespaced: Some(true),
        };
        let scope = Scope::resource("/registry", &pods, Some("prod"));
        assert_eq!(scope.range, KeyRange::prefix("/registry/pods/prod/"));
    }
}
