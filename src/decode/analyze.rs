//! `revkeeper analyze`: what the Kubernetes data in etcd costs, per resource.
//!
//! Two passes: a scan of the live keys (counts, sizes, encodings from the first bytes, so no
//! key material is needed), then [`Source::scan_changes`] over everything the source keeps
//! (revisions per key). The second pass reads each kept revision once; it holds one counter
//! per distinct key (a few dozen bytes each), so a million keys need some tens of MB.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

use revkeeper_formats::k8s::key::{ObjectKey, below_prefix};
use revkeeper_formats::k8s::resources::OTHER_KEYS;
use revkeeper_formats::k8s::storage_label;
use serde::Serialize;

use crate::Result;
use crate::source::{KeyRange, RangeQuery, Source};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ResourceStats {
    pub resource: String,
    /// Live keys holding a Kubernetes object (protobuf, CBOR, JSON or encrypted).
    pub objects: u64,
    /// Every live key of the row, objects or not (`compact_rev_key` is a key, not an object).
    pub keys: u64,
    pub bytes: u64,
    pub largest_bytes: u64,
    pub largest_key: String,
    /// Kept revisions (puts and deletes) of this resource's keys, deleted keys included.
    pub revisions: u64,
    pub encodings: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeySize {
    pub key: String,
    pub bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyHistory {
    pub key: String,
    pub revisions: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub objects: u64,
    pub keys: u64,
    pub bytes: u64,
    pub revisions: u64,
    pub resources: Vec<ResourceStats>,
    pub biggest: Vec<KeySize>,
    pub most_history: Vec<KeyHistory>,
}

/// Whether a value labelled by [`storage_label`] is a Kubernetes object, as `get` and `dump`
/// decide it: anything but text or binary (`compact_rev_key`'s decimal revision is text).
fn is_object(label: &str) -> bool {
    !matches!(label, "text" | "binary")
}

/// The resource a key belongs to: its etcd resource (`pods`, `services/specs`,
/// `example.com/widgets`), the first segment for other keys under the prefix, or
/// [`OTHER_KEYS`] for keys outside it (e.g. `compact_rev_key`).
pub fn resource_of(key: &[u8], prefix: &str) -> String {
    if let Some(k) = ObjectKey::parse(key, prefix) {
        return k.resource.to_string();
    }
    match below_prefix(key, prefix) {
        Some(rest) => rest.split('/').next().unwrap_or(rest).to_string(),
        None => OTHER_KEYS.to_string(),
    }
}

/// Keeps the `n` largest items seen.
struct Top<T: Ord> {
    n: usize,
    heap: BinaryHeap<Reverse<T>>,
}

impl<T: Ord> Top<T> {
    fn new(n: usize) -> Top<T> {
        Top {
            n,
            heap: BinaryHeap::new(),
        }
    }
    fn push(&mut self, item: T) {
        if self.heap.len() < self.n {
            self.heap.push(Reverse(item));
        } else if self.heap.peek().is_some_and(|Reverse(min)| item > *min) {
            self.heap.pop();
            self.heap.push(Reverse(item));
        }
    }
    fn into_sorted(self) -> Vec<T> {
        let mut v: Vec<T> = self.heap.into_iter().map(|Reverse(t)| t).collect();
        v.sort_by(|a, b| b.cmp(a));
        v
    }
}

/// Analyzes every key of the source (live keys for sizes, every kept revision for history).
pub fn analyze(source: &dyn Source, prefix: &str, top: usize) -> Result<Report> {
    let mut by_resource: BTreeMap<String, ResourceStats> = BTreeMap::new();
    let mut biggest = Top::new(top);
    let mut report = Report::default();
    // Live keys that hold no object: listed under OTHER_KEYS, their history too.
    let mut not_objects: HashSet<Vec<u8>> = HashSet::new();
    source.scan(
        &RangeQuery::latest(KeyRange::prefix(Vec::new())),
        &mut |kv| {
            let label = storage_label(kv.value);
            let object = is_object(&label);
            let resource = if object {
                resource_of(kv.key, prefix)
            } else {
                not_objects.insert(kv.key.to_vec());
                OTHER_KEYS.to_string()
            };
            let s = by_resource
                .entry(resource.clone())
                .or_insert_with(|| ResourceStats {
                    resource,
                    ..ResourceStats::default()
                });
            let len = kv.value.len() as u64;
            s.keys += 1;
            s.objects += u64::from(object);
            s.bytes += len;
            if len > s.largest_bytes || s.largest_key.is_empty() {
                s.largest_bytes = len;
                s.largest_key = String::from_utf8_lossy(kv.key).into_owned();
            }
            *s.encodings.entry(label).or_default() += 1;
            report.keys += 1;
            report.objects += u64::from(object);
            report.bytes += len;
            biggest.push((len, String::from_utf8_lossy(kv.key).into_owned()));
            Ok(())
        },
    )?;

    let mut per_key: HashMap<Vec<u8>, u64> = HashMap::new();
    source.scan_changes(&KeyRange::prefix(Vec::new()), &mut |c| {
        if c.kv.key.is_empty() {
            return Ok(());
        }
        match per_key.get_mut(c.kv.key) {
            Some(n) => *n += 1,
            None => {
                per_key.insert(c.kv.key.to_vec(), 1);
            }
        }
        Ok(())
    })?;
    let mut most = Top::new(top);
    for (key, n) in per_key {
        let resource = if not_objects.contains(&key) {
            OTHER_KEYS.to_string()
        } else {
            resource_of(&key, prefix)
        };
        let s = by_resource
            .entry(resource.clone())
            .or_insert_with(|| ResourceStats {
                resource,
                ..ResourceStats::default()
            });
        s.revisions += n;
        report.revisions += n;
        most.push((n, String::from_utf8_lossy(&key).into_owned()));
    }
    report.resources = by_resource.into_values().collect();
    report.biggest = biggest
        .into_sorted()
        .into_iter()
        .map(|(bytes, key)| KeySize { key, bytes })
        .collect();
    report.most_history = most
        .into_sorted()
        .into_iter()
        .map(|(revisions, key)| KeyHistory { key, revisions })
        .collect();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_group_by_resource() {
        let p = "/registry";
        assert_eq!(resource_of(b"/registry/pods/ns/a", p), "pods");
        assert_eq!(
            resource_of(b"/registry/services/specs/ns/a", p),
            "services/specs"
        );
        assert_eq!(
            resource_of(b"/registry/example.com/widgets/a", p),
            "example.com/widgets"
        );
        assert_eq!(resource_of(b"/registry/health", p), "health");
        assert_eq!(resource_of(b"compact_rev_key", p), "(other keys)");
    }

    #[test]
    fn only_stored_objects_count_as_objects() {
        assert!(!is_object(&storage_label(b"48213077"))); // compact_rev_key
        assert!(!is_object(&storage_label(&[0xff, 0x00, 0x13])));
        assert!(is_object(&storage_label(b"k8s\x00\x0a\x09")));
        assert!(is_object(&storage_label(b"{\"kind\":\"Widget\"}\n")));
        assert!(is_object(&storage_label(b"k8s:enc:aescbc:v1:key1:xxxx")));
    }

    #[test]
    fn top_keeps_the_largest() {
        let mut t = Top::new(2);
        for i in [5, 1, 9, 3, 7] {
            t.push(i);
        }
        assert_eq!(t.into_sorted(), vec![9, 7]);
    }
}
