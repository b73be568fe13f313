//! The keyspace index the TUI browses: every key grouped by resource and namespace (with sizes,
//! revisions and leases) for the keyspace's counts, filled by the first load's scan and kept
//! current by the changes a live source's watch brings (`super::tracker`).

use std::collections::BTreeMap;

use revkeeper_formats::k8s::key::ObjectKey;
use revkeeper_formats::k8s::resources::{self, OTHER_KEYS};
use revkeeper_ui::{Keyspace, NamespaceGroup, ResourceGroup};

use crate::source::KeyView;

/// One key, compactly (a million of them stay around 100 MiB).
#[derive(Clone)]
pub struct KeyEntry {
    pub key: Box<str>,
    pub bytes: u32,
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    pub lease: i64,
}

impl KeyEntry {
    pub fn new(kv: &KeyView<'_>) -> KeyEntry {
        KeyEntry {
            key: String::from_utf8_lossy(kv.key).into(),
            bytes: kv.value.len().min(u32::MAX as usize) as u32,
            create_revision: kv.create_revision,
            mod_revision: kv.mod_revision,
            version: kv.version,
            lease: kv.lease,
        }
    }
}

pub struct KeyspaceIndex {
    /// kube-apiserver's `--etcd-prefix`, without a trailing `/`.
    prefix: String,
    /// resource → namespace (`None`: cluster-scoped) → keys, sorted by key.
    pub groups: BTreeMap<String, BTreeMap<Option<String>, Vec<KeyEntry>>>,
    pub total_keys: u64,
    pub total_bytes: u64,
    /// The (resource, namespace) of the last key added.
    last_group: Option<(String, Option<String>)>,
}

impl KeyspaceIndex {
    pub fn new(prefix: &str) -> KeyspaceIndex {
        KeyspaceIndex {
            prefix: prefix.trim_end_matches('/').to_string(),
            groups: BTreeMap::new(),
            total_keys: 0,
            total_bytes: 0,
            last_group: None,
        }
    }

    /// Adds a key of a scan (keys come in sorted order).
    pub fn add(&mut self, entry: KeyEntry) {
        self.total_keys += 1;
        self.total_bytes += entry.bytes as u64;
        let list = self.list_of(entry.key.as_bytes());
        list.push(entry);
    }

    /// A key written after the scan: added, or replacing what it held.
    pub fn put(&mut self, kv: KeyView<'_>) {
        let entry = KeyEntry::new(&kv);
        let list = self.list_of(kv.key);
        let (added_keys, old_bytes) = match list.binary_search_by(|e| (*e.key).cmp(&entry.key)) {
            Ok(i) => (0, std::mem::replace(&mut list[i], entry).bytes),
            Err(i) => {
                list.insert(i, entry);
                (1, 0)
            }
        };
        self.total_keys += added_keys;
        self.total_bytes = self.total_bytes - old_bytes as u64 + kv.value.len() as u64;
    }

    /// A key deleted after the scan (a key it does not hold is ignored).
    pub fn remove(&mut self, key: &[u8]) {
        let (resource, namespace) = self.group_of(key);
        let Some(by_ns) = self.groups.get_mut(resource) else {
            return;
        };
        let namespace = namespace.map(str::to_string);
        let Some(list) = by_ns.get_mut(&namespace) else {
            return;
        };
        let key = String::from_utf8_lossy(key);
        if let Ok(i) = list.binary_search_by(|e| (*e.key).cmp(&key)) {
            let gone = list.remove(i);
            self.total_keys -= 1;
            self.total_bytes -= gone.bytes as u64;
        }
        if list.is_empty() {
            by_ns.remove(&namespace);
            self.last_group = None;
        }
        if by_ns.is_empty() {
            self.groups.remove(resource);
        }
    }

    /// The etcd resource and namespace `key` is counted under.
    fn group_of<'k>(&self, key: &'k [u8]) -> (&'k str, Option<&'k str>) {
        match ObjectKey::parse(key, &self.prefix) {
            Some(k) => (k.resource, k.namespace),
            None => (OTHER_KEYS, None),
        }
    }

    /// The list `key` belongs in, made when it is the first of its group.
    fn list_of(&mut self, key: &[u8]) -> &mut Vec<KeyEntry> {
        let (resource, namespace) = self.group_of(key);
        // Keys of a scan come group after group: the last group's names are looked up as they
        // are, without making new ones for every key.
        let same = (self.last_group.as_ref())
            .is_some_and(|(r, ns)| r == resource && ns.as_deref() == namespace);
        if !same {
            let (resource, namespace) = (resource.to_string(), namespace.map(str::to_string));
            let by_ns = self.groups.entry(resource.clone()).or_default();
            by_ns.entry(namespace.clone()).or_default();
            self.last_group = Some((resource, namespace));
        }
        let (resource, namespace) = self.last_group.as_ref().expect("set above");
        (self.groups.get_mut(resource))
            .and_then(|by_ns| by_ns.get_mut(namespace))
            .expect("the last group's list is made when it is set and forgotten when it is removed")
    }

    /// Whether the index holds `key`.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.entry(key).is_some()
    }

    /// `key`'s entry.
    pub fn entry(&self, key: &[u8]) -> Option<&KeyEntry> {
        let (resource, namespace) = self.group_of(key);
        let key = String::from_utf8_lossy(key);
        let list = self
            .groups
            .get(resource)?
            .get(&namespace.map(str::to_string))?;
        let at = list.binary_search_by(|e| (*e.key).cmp(&key)).ok()?;
        Some(&list[at])
    }

    /// A copy holding only these resources' keys (totals left at zero).
    pub fn only(&self, resources: &[&str]) -> KeyspaceIndex {
        let mut part = KeyspaceIndex::new(&self.prefix);
        for resource in resources {
            if let Some(by_ns) = self.groups.get(*resource) {
                part.groups.insert(resource.to_string(), by_ns.clone());
            }
        }
        part
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
        for (key, lease) in [
            (&b"/registry/pods/default/a"[..], 0),
            (b"/registry/pods/demo/b", 7),
            (b"/registry/minions/n1", 0),
            (b"compact_rev_key", 0),
        ] {
            index.add(KeyEntry::new(&kv(key, lease)));
        }
        let ks = index.keyspace(1);
        let names: Vec<_> = ks.resources.iter().map(|r| r.display.as_str()).collect();
        assert_eq!(names, ["(other keys)", "nodes", "pods"]);
        let pods = &ks.resources[2];
        assert_eq!((pods.count, pods.bytes, pods.namespaced), (2, 4, true));
        assert_eq!(pods.namespaces.len(), 2);
        let demo = &index.groups["pods"][&Some("demo".to_string())];
        assert_eq!((&*demo[0].key, demo[0].lease), ("/registry/pods/demo/b", 7));
    }

    #[test]
    fn puts_and_deletes_keep_counts_and_order() {
        let mut index = KeyspaceIndex::new("/registry");
        let kv = |key: &'static [u8], value: &'static [u8]| KeyView {
            key,
            create_revision: 1,
            mod_revision: 2,
            version: 1,
            value,
            lease: 0,
        };
        index.add(KeyEntry::new(&kv(b"/registry/pods/demo/b", b"12")));
        index.put(kv(b"/registry/pods/demo/a", b"1"));
        index.put(kv(b"/registry/pods/demo/b", b"1234"));
        index.put(kv(b"/registry/minions/n1", b"1"));
        let demo = &index.groups["pods"][&Some("demo".to_string())];
        let keys: Vec<_> = demo.iter().map(|e| &*e.key).collect();
        assert_eq!(keys, ["/registry/pods/demo/a", "/registry/pods/demo/b"]);
        assert_eq!((index.total_keys, index.total_bytes), (3, 6));
        index.remove(b"/registry/minions/n1");
        index.remove(b"/registry/minions/never-there");
        index.remove(b"/registry/pods/demo/a");
        assert!(!index.groups.contains_key("minions"), "empty groups go");
        assert!(index.contains(b"/registry/pods/demo/b"));
        assert!(!index.contains(b"/registry/pods/demo/a"));
        assert_eq!((index.total_keys, index.total_bytes), (1, 4));
    }
}
