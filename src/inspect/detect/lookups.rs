//! Lookups the detectors repeat from object to object, remembered by each detector thread: each
//! saved one is a binary search over every key.

use std::collections::HashMap;

use crate::inspect::index::{InspectIndex, ObjectEntry};

/// An object asked for by etcd resource, namespace and name.
type Asked<'a> = (&'a str, Option<&'a str>, &'a str);

#[derive(Default)]
pub(super) struct Lookups<'a> {
    /// The last owner asked for and what was found: the Pods of one ReplicaSet are neighbours
    /// in key order, so most owner lookups repeat the one before.
    last_owner: Option<(Asked<'a>, Option<&'a ObjectEntry>)>,
    namespaces: HashMap<&'a str, bool>,
    nodes: HashMap<&'a str, bool>,
}

impl<'a> Lookups<'a> {
    /// The object an ownerReference names (see [`InspectIndex::object`]).
    pub fn owner(
        &mut self,
        index: &'a InspectIndex,
        resource: &'a str,
        ns: Option<&'a str>,
        name: &'a str,
    ) -> Option<&'a ObjectEntry> {
        let asked = (resource, ns, name);
        match self.last_owner {
            Some((last, found)) if last == asked => found,
            _ => {
                let found = index.object(resource, ns, name);
                self.last_owner = Some((asked, found));
                found
            }
        }
    }

    pub fn namespace_exists(&mut self, index: &InspectIndex, name: &'a str) -> bool {
        *(self.namespaces.entry(name))
            .or_insert_with(|| index.object("namespaces", None, name).is_some())
    }

    /// Whether Node `name` exists (`minions` in etcd).
    pub fn node_exists(&mut self, index: &InspectIndex, name: &'a str) -> bool {
        *(self.nodes.entry(name)).or_insert_with(|| index.object("minions", None, name).is_some())
    }
}
