//! The keyspace index the TUI browses: one scan of the source groups every key by resource and
//! namespace (with sizes, revisions and leases) for the keyspace's counts.

use std::collections::BTreeMap;

use revkeeper_formats::k8s::key::ObjectKey;
use revkeeper_formats::k8s::resources::{self, OTHER_KEYS};
use revkeeper_ui::{Keyspace, NamespaceGroup, ResourceGroup};

use crate::Result;
use crate::source::{KeyRange, KeyView, RangeQuery, Source};

/// Calls the progress callback every this many keys.
const PROGRESS_EVERY: u64 = 50_000;

/// One key, compactly (a million of them stay around 100 MiB).
pub struct KeyEntry {
    pub key: Box<str>,
    pub bytes: u32,
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    pub lease: i64,
}

pub struct KeyspaceIndex {
    /// kube-apiserver's `--etcd-prefix`, without a trailing `/`.
    prefix: String,
    /// resource → namespace (`None`: cluster-scoped) → keys, sorted by key.
    pub groups: BTreeMap<String, BTreeMap<Option<String>, Vec<KeyEntry>>>,
    pub total_keys: u64,
    pub total_bytes: u64,
}

impl KeyspaceIndex {
    pub fn new(prefix: &str) -> KeyspaceIndex {
        KeyspaceIndex {
            prefix: prefix.trim_end_matches('/').to_string(),
            groups: BTreeMap::new(),
            total_keys: 0,
            total_bytes: 0,
        }
    }

    /// Scans every key of `source` at its latest revision; objects are keys below `prefix`.
    pub fn build(
        source: &dyn Source,
        prefix: &str,
        progress: &dyn Fn(u64),
    ) -> Result<KeyspaceIndex> {
        let mut index = KeyspaceIndex::new(prefix);
        let query = RangeQuery::latest(KeyRange::prefix(Vec::new()));
        source.scan(&query, &mut |kv| {
            index.add(kv);
            if index.total_keys % PROGRESS_EVERY == 0 {
                progress(index.total_keys);
            }
            Ok(())
        })?;
        progress(index.total_keys);
        Ok(index)
    }

    fn add(&mut self, kv: KeyView<'_>) {
        self.total_keys += 1;
        self.total_bytes += kv.value.len() as u64;
        let key = String::from_utf8_lossy(kv.key);
        let (resource, namespace) = match ObjectKey::parse(kv.key, &self.prefix) {
            Some(k) => (k.resource, k.namespace),
            None => (OTHER_KEYS, None),
        };
        let by_ns = match self.groups.get_mut(resource) {
            Some(g) => g,
            None => self.groups.entry(resource.to_string()).or_default(),
        };
        let list = match by_ns.get_mut(&namespace.map(str::to_string)) {
            Some(l) => l,
            None => by_ns.entry(namespace.map(str::to_string)).or_default(),
        };
        list.push(KeyEntry {
            key: key.into(),
            bytes: kv.value.len().min(u32::MAX as usize) as u32,
            create_revision: kv.create_revision,
            mod_revision: kv.mod_revision,
            version: kv.version,
            lease: kv.lease,
        });
    }

    /// Counts for the keyspace view.
    pub fn keyspace(&self, leases: u64) -> Keyspace {
        let mut resources: Vec<ResourceGroup> = self
            .groups
            .iter()
            .map(|(resource, by_ns)| {
                let namespaced = by_ns.keys().any(Option::is_some);
                let sum = |l: &Vec<KeyEntry>| l.iter().map(|e| e.bytes as u64).sum::<u64>();
                ResourceGroup {
                    resource: resource.clone(),
                    display: resources::display_name(resource),
                    namespaced,
                    count: by_ns.values().map(|l| l.len() as u64).sum(),
                    bytes: by_ns.values().map(sum).sum(),
                    namespaces: by_ns
                        .iter()
                        .filter_map(|(ns, l)| {
                            Some(NamespaceGroup {
                                namespace: ns.clone()?,
                                count: l.len() as u64,
                                bytes: sum(l),
                            })
                        })
                        .collect(),
                }
            })
            .collect();
        resources.sort_by(|a, b| a.display.cmp(&b.display));
        Keyspace {
            total_keys: self.total_keys,
            total_bytes: self.total_bytes,
            leases,
            resources,
        }
    }
}

/// A name the user typed (`po`, `deploy`, `foos.example.com`, `example.com/foos`) → the etcd
/// resource; an etcd resource itself (`minions`) is taken as is.
pub fn resolve(name: &str) -> Option<String> {
    match resources::resolve(name) {
        Ok(target) => Some(target.etcd_resource),
        Err(_) => resources::by_etcd_resource(name).map(|r| r.etcd_resource.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resources_as_kubectl_does() {
        assert_eq!(resolve("po").as_deref(), Some("pods"));
        assert_eq!(resolve("svc").as_deref(), Some("services/specs"));
        assert_eq!(resolve("nodes").as_deref(), Some("minions"));
        assert_eq!(resolve("minions").as_deref(), Some("minions"));
        assert_eq!(
            resolve("foos.example.com").as_deref(),
            Some("example.com/foos")
        );
        assert_eq!(
            resolve("cert-manager.io/certificates").as_deref(),
            Some("cert-manager.io/certificates"),
            "was io/certificates/cert-manager"
        );
        assert_eq!(resolve("nosuch"), None);
    }

    #[test]
    fn groups_keys_by_resource_and_namespace() {
        let mut index = KeyspaceIndex::new("/registry/");
        let kv = |key: &'static [u8], lease| KeyView {
            key,
            create_revision: 1,
            mod_revision: 2,
            version: 1,
            value: b"{}",
            lease,
        };
        index.add(kv(b"/registry/pods/default/a", 0));
        index.add(kv(b"/registry/pods/demo/b", 7));
        index.add(kv(b"/registry/minions/n1", 0));
        index.add(kv(b"compact_rev_key", 0));
        let ks = index.keyspace(1);
        let names: Vec<_> = ks.resources.iter().map(|r| r.display.as_str()).collect();
        assert_eq!(names, ["(other keys)", "nodes", "pods"]);
        let pods = &ks.resources[2];
        assert_eq!((pods.count, pods.bytes, pods.namespaced), (2, 4, true));
        assert_eq!(pods.namespaces.len(), 2);
        let demo = &index.groups["pods"][&Some("demo".to_string())];
        assert_eq!((&*demo[0].key, demo[0].lease), ("/registry/pods/demo/b", 7));
    }
}
