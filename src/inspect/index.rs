//! The index built by one pass over the keys: one compact [`ObjectEntry`] per key, sorted by key (the
//! scan order), so existence checks are binary searches and nothing else is copied.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use foldhash::fast::RandomState;

use revkeeper_formats::k8s::{self, Keyring, key::ObjectKey};

use super::facts::{self, ObjectFacts, ValueState};

pub struct ObjectEntry {
    pub key: Box<str>,
    pub lease: i64,
    pub mod_revision: i64,
    pub value_len: u32,
    pub state: ValueState,
    pub facts: ObjectFacts,
}

impl ObjectEntry {
    fn new(
        key: &str,
        value_len: usize,
        lease: i64,
        mod_revision: i64,
        state: ValueState,
        facts: ObjectFacts,
    ) -> ObjectEntry {
        ObjectEntry {
            key: key.into(),
            lease,
            mod_revision,
            value_len: value_len.min(u32::MAX as usize) as u32,
            state,
            facts,
        }
    }

    /// Decodes one key's value (with `keyring`) into its entry: the facts below `prefix`.
    /// `None` for a key that is not valid UTF-8. Pure, so scans can decode on worker threads.
    pub fn decode(
        prefix: &str,
        key: &[u8],
        value: &[u8],
        lease: i64,
        mod_revision: i64,
        keyring: &Keyring,
    ) -> Option<ObjectEntry> {
        let key_str = std::str::from_utf8(key).ok()?;
        let resource = ObjectKey::parse(key, prefix).map(|k| k.resource);
        // JSON (custom resources, CRDs, APIServices) and protobuf (built-ins, decrypted first)
        // are read straight into the facts; anything else, and any value those readers cannot
        // read, goes through the decoder (CBOR, damaged values, the errors it reports).
        let (state, facts) = if looks_like_json(value)
            && let Some(facts) = facts::extract_json(resource.unwrap_or(""), value)
        {
            (ValueState::Object, facts)
        } else if let Some(facts) = resource.and_then(|r| proto_facts(r, key, value, keyring)) {
            (ValueState::Object, facts)
        } else {
            let (state, object) = match k8s::decode_value(key, value, keyring) {
                Ok(d) => match d.object {
                    Some(o) => (ValueState::Object, Some(o)),
                    None => (ValueState::NotObject, None),
                },
                Err(k8s::ValueError::Encryption(e)) => (
                    ValueState::Encrypted {
                        label: encryption_label(value, &e.to_string()),
                    },
                    None,
                ),
                Err(e) => (
                    ValueState::Undecodable {
                        error: e.to_string(),
                    },
                    None,
                ),
            };
            (state, object_facts(prefix, key, object.as_ref()))
        };
        Some(ObjectEntry::new(
            key_str,
            value.len(),
            lease,
            mod_revision,
            state,
            facts,
        ))
    }

    /// The key split below `prefix`, or None for keys outside it or of another shape.
    pub fn object_key<'a>(&'a self, prefix: &str) -> Option<ObjectKey<'a>> {
        ObjectKey::parse(self.key.as_bytes(), prefix)
    }
}

/// A custom resource type declared by a CRD found in the data.
#[derive(Clone, Debug)]
pub struct CrdInfo {
    pub plural: Box<str>,
    /// Where its objects are stored: `<group>/<plural>`.
    pub etcd_resource: Box<str>,
    pub namespaced: bool,
}

pub struct InspectIndex {
    pub prefix: String,
    pub entries: Vec<ObjectEntry>,
    /// (group, kind) → the CRD's plural and scope.
    pub crds: HashMap<(Box<str>, Box<str>), CrdInfo>,
    /// Keys that were not valid UTF-8 (counted, not indexed).
    pub skipped_keys: u64,
    /// One copy of each string many entries repeat (owners, finalizers, node names).
    strings: HashSet<Arc<str>, RandomState>,
}

impl InspectIndex {
    pub fn new(prefix: &str) -> InspectIndex {
        InspectIndex {
            prefix: prefix.trim_end_matches('/').to_string(),
            entries: Vec::new(),
            crds: HashMap::new(),
            skipped_keys: 0,
            strings: HashSet::default(),
        }
    }

    /// Adds one key with its value (decoded here with `keyring`). Keys must come in sorted order.
    pub fn add(
        &mut self,
        key: &[u8],
        value: &[u8],
        lease: i64,
        mod_revision: i64,
        keyring: &Keyring,
    ) {
        match ObjectEntry::decode(&self.prefix, key, value, lease, mod_revision, keyring) {
            Some(e) => self.push(e),
            None => self.skipped_keys += 1,
        }
    }

    /// Adds one key whose value is already decoded (or known not to be an object).
    pub fn add_decoded(
        &mut self,
        key: &str,
        value_len: usize,
        lease: i64,
        mod_revision: i64,
        state: ValueState,
        object: Option<&serde_json::Value>,
    ) {
        let facts = object_facts(&self.prefix, key.as_bytes(), object);
        self.push(ObjectEntry::new(
            key,
            value_len,
            lease,
            mod_revision,
            state,
            facts,
        ));
    }

    /// Adds an entry made by [`ObjectEntry::decode`] (possibly on another thread), or counts a key
    /// that was not valid UTF-8 (`None`). Keys must come in sorted order.
    pub fn push_decoded(&mut self, entry: Option<ObjectEntry>) {
        match entry {
            Some(e) => self.push(e),
            None => self.skipped_keys += 1,
        }
    }

    fn push(&mut self, mut entry: ObjectEntry) {
        self.share_strings(&mut entry.facts);
        self.remember_crd(&entry.facts);
        self.entries.push(entry);
    }

    fn remember_crd(&mut self, facts: &ObjectFacts) {
        if let facts::KindFacts::Crd {
            group,
            kind,
            plural,
            namespaced,
        } = &facts.kind
        {
            self.crds.insert(
                (group.clone(), kind.clone()),
                CrdInfo {
                    plural: plural.clone(),
                    etcd_resource: k8s::resources::custom_etcd_resource(plural, group).into(),
                    namespaced: *namespaced,
                },
            );
        }
    }

    /// Replaces the strings objects repeat (a ReplicaSet's name and uid in each of its Pods'
    /// ownerReferences, node names, finalizers) by one shared copy: memory grows with the
    /// distinct values, not with the objects.
    fn share_strings(&mut self, facts: &mut ObjectFacts) {
        let mut share = |s: &mut Arc<str>| match self.strings.get(&**s) {
            Some(shared) => *s = shared.clone(),
            None => {
                self.strings.insert(s.clone());
            }
        };
        for o in &mut facts.owners {
            share(&mut o.api_version);
            share(&mut o.kind);
            share(&mut o.name);
            share(&mut o.uid);
        }
        facts.finalizers.iter_mut().for_each(&mut share);
        if let facts::KindFacts::Pod {
            node_name: Some(node),
            ..
        } = &mut facts.kind
        {
            share(node);
        }
    }

    /// Sorts the entries (a no-op after a scan, which is already sorted).
    pub fn finish(&mut self) {
        if !self.entries.is_sorted_by(|a, b| a.key <= b.key) {
            self.entries.sort_by(|a, b| a.key.cmp(&b.key));
        }
    }

    /// Applies changes seen after the scan in one merge: each key's new entry
    /// ([`ObjectEntry::decode`] of its new value), or `None` for a deleted key. The index stays
    /// sorted, and the CRDs are read again when a CRD changed.
    pub fn apply_changes(
        &mut self,
        changes: std::collections::BTreeMap<Box<str>, Option<ObjectEntry>>,
    ) {
        if changes.is_empty() {
            return;
        }
        let is_crd = |e: &ObjectEntry| matches!(e.facts.kind, facts::KindFacts::Crd { .. });
        let mut crd_changed = false;
        let old = std::mem::take(&mut self.entries);
        let mut merged = Vec::with_capacity(old.len() + changes.len());
        let mut old = old.into_iter().peekable();
        for (key, entry) in changes {
            while let Some(e) = old.next_if(|e| e.key < key) {
                merged.push(e);
            }
            if let Some(replaced) = old.next_if(|e| e.key == key) {
                crd_changed |= is_crd(&replaced);
            }
            if let Some(mut e) = entry {
                crd_changed |= is_crd(&e);
                self.share_strings(&mut e.facts);
                merged.push(e);
            }
        }
        merged.extend(old);
        self.entries = merged;
        if crd_changed {
            self.crds.clear();
            let entries = std::mem::take(&mut self.entries);
            entries.iter().for_each(|e| self.remember_crd(&e.facts));
            self.entries = entries;
        }
    }

    pub fn get(&self, key: &str) -> Option<&ObjectEntry> {
        self.entries
            .binary_search_by(|e| (*e.key).cmp(key))
            .ok()
            .map(|i| &self.entries[i])
    }

    /// The object of etcd resource `resource` named `ns/name` (or `name` when cluster-scoped).
    /// Detectors ask this for every owner reference and node name: the key is compared in
    /// parts, never built.
    pub fn object(&self, resource: &str, ns: Option<&str>, name: &str) -> Option<&ObjectEntry> {
        let parts = match ns {
            Some(ns) => [self.prefix.as_str(), "/", resource, "/", ns, "/", name],
            None => [self.prefix.as_str(), "/", resource, "/", "", "", name],
        };
        self.entries
            .binary_search_by(|e| cmp_joined(e.key.as_bytes(), &parts))
            .ok()
            .map(|i| &self.entries[i])
    }

    /// Where the owner named by `api_version`/`kind` lives: its etcd resource and whether it is
    /// namespaced (built-ins first, then the CRDs found in the data).
    pub fn resolve_kind(&self, api_version: &str, kind: &str) -> Option<(&str, bool)> {
        if let Some(r) = k8s::resources::by_kind(api_version, kind) {
            return Some((r.etcd_resource, r.namespaced));
        }
        let group = api_version.split_once('/').map(|(g, _)| g).unwrap_or("");
        self.crds
            .get(&(Box::from(group), Box::from(kind)))
            .map(|c| (&*c.etcd_resource, c.namespaced))
    }
}

/// `key` compared with the concatenation of `parts`.
fn cmp_joined(mut key: &[u8], parts: &[&str]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    for part in parts {
        let part = part.as_bytes();
        let n = key.len().min(part.len());
        match key[..n].cmp(&part[..n]) {
            Ordering::Equal if key.len() < part.len() => return Ordering::Less,
            Ordering::Equal => key = &key[n..],
            unequal => return unequal,
        }
    }
    if key.is_empty() {
        Ordering::Equal
    } else {
        Ordering::Greater
    }
}

fn object_facts(prefix: &str, key: &[u8], object: Option<&serde_json::Value>) -> ObjectFacts {
    match (ObjectKey::parse(key, prefix), object) {
        (Some(k), Some(o)) => facts::extract(k.resource, o),
        _ => ObjectFacts::default(),
    }
}

/// The facts of a protobuf value (decrypted with `keyring` when encrypted at rest), without
/// decoding it; `None` for anything else or anything the field reader cannot read.
fn proto_facts(resource: &str, key: &[u8], value: &[u8], keyring: &Keyring) -> Option<ObjectFacts> {
    if value.starts_with(k8s::proto::MAGIC) {
        return facts::extract_proto(resource, value);
    }
    if value.starts_with(k8s::encryption::PREFIX) {
        let (_, plaintext) = keyring.decrypt(key, value).ok()?;
        return facts::extract_proto(resource, &plaintext);
    }
    None
}

fn looks_like_json(value: &[u8]) -> bool {
    value
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

/// `provider:key` from a `k8s:enc:<provider>:v1:<key>:` header, for reports.
fn encryption_label(value: &[u8], error: &str) -> String {
    let mut parts = value.splitn(6, |b| *b == b':');
    let mut field = |n: usize| {
        parts
            .nth(n)
            .and_then(|p| std::str::from_utf8(p).ok())
            .filter(|p| !p.is_empty() && p.len() < 64)
    };
    match (field(2), field(1)) {
        (Some(provider), Some(key)) => format!("{provider}:{key}"),
        _ => format!("encrypted ({error})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_compare_with_their_parts_joined() {
        for (key, parts) in [
            ("/registry/pods/a/b", ["/registry", "/pods/", "a/b"]),
            ("/registry/pods/a", ["/registry", "/pods/", "a/b"]),
            ("/registry/pods/a/bc", ["/registry", "/pods/", "a/b"]),
            ("/registry/pods/a/c", ["/registry", "/pods/", "a/b"]),
            ("/registry/pod", ["/registry", "/pods/", "a/b"]),
            ("", ["", "", ""]),
        ] {
            assert_eq!(
                cmp_joined(key.as_bytes(), &parts),
                key.cmp(parts.concat().as_str()),
                "{key}"
            );
        }
    }

    #[test]
    fn changes_merge_in_key_order_and_crds_follow() {
        let keyring = Keyring::default();
        let crd = |plural: &str| {
            format!(
                r#"{{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{{"name":"{plural}.example.com"}},"spec":{{"group":"example.com","names":{{"kind":"Foo","plural":"{plural}"}},"scope":"Namespaced"}}}}"#
            )
        };
        let entry = |key: &str, value: &str| {
            ObjectEntry::decode(
                "/registry",
                key.as_bytes(),
                value.as_bytes(),
                0,
                2,
                &keyring,
            )
        };
        let mut index = InspectIndex::new("/registry");
        for key in ["/registry/configmaps/d/b", "/registry/configmaps/d/d"] {
            index.add(key.as_bytes(), b"{}", 0, 1, &keyring);
        }
        let crd_key = "/registry/apiextensions.k8s.io/customresourcedefinitions/foos.example.com";
        let mut changes = std::collections::BTreeMap::new();
        changes.insert(
            "/registry/configmaps/d/a".into(),
            entry("/registry/configmaps/d/a", "{}"),
        );
        changes.insert("/registry/configmaps/d/b".into(), None);
        changes.insert(
            "/registry/configmaps/d/e".into(),
            entry("/registry/configmaps/d/e", "{}"),
        );
        changes.insert(crd_key.into(), entry(crd_key, &crd("foos")));
        index.apply_changes(changes);
        let keys: Vec<&str> = index.entries.iter().map(|e| &*e.key).collect();
        assert_eq!(
            keys,
            [
                crd_key,
                "/registry/configmaps/d/a",
                "/registry/configmaps/d/d",
                "/registry/configmaps/d/e"
            ]
        );
        assert!(index.resolve_kind("example.com/v1", "Foo").is_some());
        let mut gone = std::collections::BTreeMap::new();
        gone.insert(crd_key.into(), None);
        index.apply_changes(gone);
        assert!(
            index.resolve_kind("example.com/v1", "Foo").is_none(),
            "the CRD went"
        );
        assert_eq!(index.entries.len(), 3);
    }

    #[test]
    fn encryption_label_names_provider_and_key() {
        assert_eq!(
            encryption_label(b"k8s:enc:aescbc:v1:key1:\x00\x01", "x"),
            "aescbc:key1"
        );
    }
}
