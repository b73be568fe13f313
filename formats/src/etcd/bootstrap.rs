//! Everything a restore writes besides the copied database (`docs/format-restore.md`): the new
//! members and IDs, the WAL segment, the `.snap` file, and the `members`/`meta` bucket values.
//! Byte-identical to etcdutl 3.5's output.

use super::error::SchemaError;
use super::members::{InitialCluster, Member, cluster_id, id_hex, parse_urls};
use super::meta::{CONSISTENT_INDEX_KEY, TERM_KEY, u64_value};
use super::raftpb::{
    CONF_CHANGE_ADD_NODE, ConfChange, ConfState, ENTRY_CONF_CHANGE, Entry, HardState, Metadata,
    Snapshot, SnapshotMetadata, WalSnapshot,
};
use super::snap::{encode_snap_file, snap_file_name};
use super::v2store::membership_store_json;
use super::wal::encode_restore_segment;

/// The raft term a restore starts at.
pub const RESTORE_TERM: u64 = 1;

/// A new cluster as a restore bootstraps it: voting members sorted by ID, raft index 1..=N
/// holding one ConfChange per member, committed at term 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreBootstrap {
    members: Vec<Member>,
    cluster_id: u64,
}

impl RestoreBootstrap {
    /// Members as `(name, peer URLs)` — repeated names collect URLs, as in
    /// `--initial-cluster` — and the cluster token. URLs are validated and put in etcd's
    /// canonical sorted form first.
    pub fn new(
        members: Vec<(String, Vec<String>)>,
        token: &str,
    ) -> Result<RestoreBootstrap, SchemaError> {
        let mut raw: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (name, urls) in members {
            raw.entry(name).or_default().extend(urls);
        }
        let members = raw
            .into_iter()
            .map(|(name, urls)| Ok((name, parse_urls(&urls)?)))
            .collect::<Result<_, SchemaError>>()?;
        RestoreBootstrap::from_initial_cluster(&InitialCluster { members }, token)
    }

    /// The cluster of a parsed `--initial-cluster` (URLs already canonical and sorted).
    pub fn from_initial_cluster(
        cluster: &InitialCluster,
        token: &str,
    ) -> Result<RestoreBootstrap, SchemaError> {
        if cluster.members.is_empty() {
            return Err(SchemaError::Membership(
                "initial cluster unset and no discovery URL found".into(),
            ));
        }
        let mut members: Vec<Member> = cluster
            .members
            .iter()
            .map(|(name, urls)| Member::new_for_bootstrap(name, urls.clone(), token))
            .collect();
        members.sort_by_key(|m| m.id);
        if let Some(m) = members.iter().find(|m| m.id == 0) {
            return Err(SchemaError::Membership(format!(
                "member {:?}: cannot use 0 as member id",
                m.name
            )));
        }
        if let Some(pair) = members.windows(2).find(|p| p[0].id == p[1].id) {
            return Err(SchemaError::Membership(format!(
                "members {:?} and {:?} have the identical ID {}",
                pair[0].name,
                pair[1].name,
                id_hex(pair[0].id)
            )));
        }
        let ids: Vec<u64> = members.iter().map(|m| m.id).collect();
        Ok(RestoreBootstrap {
            cluster_id: cluster_id(&ids),
            members,
        })
    }

    /// The members, sorted by ID.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    pub fn cluster_id(&self) -> u64 {
        self.cluster_id
    }

    pub fn member_by_name(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }

    /// The raft index the restore commits, i.e. the member count; also `meta/consistent_index`.
    pub fn consistent_index(&self) -> u64 {
        self.members.len() as u64
    }

    /// The raft term of the restore point; also `meta/term`.
    pub fn term(&self) -> u64 {
        RESTORE_TERM
    }

    /// All members as voters.
    pub fn conf_state(&self) -> ConfState {
        ConfState {
            voters: self.members.iter().map(|m| m.id).collect(),
            ..ConfState::default()
        }
    }

    /// One `EntryConfChange` adding each member, at indexes 1..=N.
    pub fn entries(&self) -> Vec<Entry> {
        self.members
            .iter()
            .enumerate()
            .map(|(i, m)| Entry {
                entry_type: ENTRY_CONF_CHANGE,
                term: RESTORE_TERM,
                index: i as u64 + 1,
                data: Some(
                    ConfChange {
                        id: 0,
                        change_type: CONF_CHANGE_ADD_NODE,
                        node_id: m.id,
                        context: Some(m.to_json().into_bytes()),
                    }
                    .encode(),
                ),
            })
            .collect()
    }

    /// The WAL segment records for the member named `local_name` (without the zero tail;
    /// see [`super::wal::write_first_segment`]).
    pub fn wal_bytes(&self, local_name: &str) -> Result<Vec<u8>, SchemaError> {
        let local = self.member_by_name(local_name).ok_or_else(|| {
            SchemaError::Membership(format!(
                "couldn't find local name {local_name:?} in the initial cluster configuration"
            ))
        })?;
        let metadata = Metadata {
            node_id: local.id,
            cluster_id: self.cluster_id,
        };
        let hard_state = HardState {
            term: RESTORE_TERM,
            vote: self.members[0].id,
            commit: self.consistent_index(),
        };
        let snapshot = WalSnapshot {
            index: self.consistent_index(),
            term: RESTORE_TERM,
            conf_state: Some(self.conf_state()),
        };
        Ok(encode_restore_segment(
            &metadata,
            &self.entries(),
            &hard_state,
            &snapshot,
        ))
    }

    /// The raft snapshot of the restore point, holding the v2 store JSON.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            data: Some(membership_store_json(&self.members).into_bytes()),
            metadata: SnapshotMetadata {
                conf_state: self.conf_state(),
                index: self.consistent_index(),
                term: RESTORE_TERM,
            },
        }
    }

    /// The `.snap` file bytes.
    pub fn snap_bytes(&self) -> Vec<u8> {
        encode_snap_file(&self.snapshot())
    }

    /// `0000000000000001-<N as 16 hex digits>.snap`.
    pub fn snap_file_name(&self) -> String {
        snap_file_name(RESTORE_TERM, self.consistent_index())
    }

    /// The new `members` bucket (hex ID → member JSON), sorted by key bytes. A restore
    /// empties `members` and `members_removed` and puts exactly these.
    pub fn members_bucket_entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut entries: Vec<(Vec<u8>, Vec<u8>)> = self
            .members
            .iter()
            .map(|m| (id_hex(m.id).into_bytes(), m.to_json().into_bytes()))
            .collect();
        entries.sort();
        entries
    }

    /// The `meta` values a restore overwrites: `consistent_index` = N and `term` = 1.
    pub fn meta_entries(&self) -> [(&'static [u8], [u8; 8]); 2] {
        [
            (CONSISTENT_INDEX_KEY, u64_value(self.consistent_index())),
            (TERM_KEY, u64_value(RESTORE_TERM)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etcd::wal::read_segment;

    fn urls(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_give_the_verified_ids() {
        let b = RestoreBootstrap::new(
            vec![("default".into(), urls(&["http://localhost:2380"]))],
            "etcd-cluster",
        )
        .unwrap();
        assert_eq!(id_hex(b.members()[0].id), "8e9e05c52164694d");
        assert_eq!(id_hex(b.cluster_id()), "cdf818194e3a8c32");
        assert_eq!((b.consistent_index(), b.term()), (1, 1));
        assert_eq!(b.snap_file_name(), "0000000000000001-0000000000000001.snap");
        assert_eq!(b.members_bucket_entries()[0].0, b"8e9e05c52164694d");
        assert_eq!(
            b.meta_entries()[0],
            (CONSISTENT_INDEX_KEY, [0, 0, 0, 0, 0, 0, 0, 1])
        );
    }

    #[test]
    fn three_members_are_sorted_and_the_wal_reads_back() {
        let b = RestoreBootstrap::new(
            vec![
                ("m1".into(), urls(&["http://127.0.0.1:1"])),
                ("m2".into(), urls(&["http://127.0.0.1:3"])),
                ("m2".into(), urls(&["http://127.0.0.1:2"])),
                ("m3".into(), urls(&["http://127.0.0.1:4"])),
            ],
            "tok",
        )
        .unwrap();
        let ids: Vec<u64> = b.members().iter().map(|m| m.id).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            b.member_by_name("m2").unwrap().peer_urls,
            urls(&["http://127.0.0.1:2", "http://127.0.0.1:3"])
        );

        let wal = read_segment(&b.wal_bytes("m3").unwrap()).unwrap();
        let m3 = b.member_by_name("m3").unwrap().id;
        assert_eq!(
            wal.metadata,
            Some(Metadata {
                node_id: m3,
                cluster_id: b.cluster_id()
            })
        );
        assert_eq!(wal.entries.len(), 3);
        for (i, entry) in wal.entries.iter().enumerate() {
            assert_eq!((entry.index, entry.term), (i as u64 + 1, 1));
            let cc = ConfChange::decode(entry.data.as_deref().unwrap()).unwrap();
            assert_eq!(cc.node_id, ids[i]);
            let member = Member::from_json(cc.context.as_deref().unwrap()).unwrap();
            assert_eq!(&member, &b.members()[i]);
        }
        assert_eq!(
            wal.hard_state,
            Some(HardState {
                term: 1,
                vote: ids[0],
                commit: 3
            })
        );
        assert_eq!(wal.snapshots.len(), 2);
        assert_eq!(wal.snapshots[1].conf_state.as_ref().unwrap().voters, ids);

        let snap = crate::etcd::snap::decode_snap_file(&b.snap_bytes()).unwrap();
        assert_eq!(snap.metadata.index, 3);
        assert_eq!(b.snap_file_name(), "0000000000000001-0000000000000003.snap");
    }

    #[test]
    fn invalid_clusters_are_errors() {
        assert!(RestoreBootstrap::new(vec![], "t").is_err());
        assert!(RestoreBootstrap::new(vec![("a".into(), urls(&["http://h"]))], "t").is_err());
        let same = RestoreBootstrap::new(
            vec![
                ("a".into(), urls(&["http://h:1"])),
                ("b".into(), urls(&["http://h:1"])),
            ],
            "t",
        );
        assert!(same.unwrap_err().to_string().contains("identical ID"));
        let b = RestoreBootstrap::new(vec![("a".into(), urls(&["http://h:1"]))], "t").unwrap();
        assert!(b.wal_bytes("zz").is_err());
    }
}
