//! Every etcd decoder must return an error, never panic, on arbitrary bytes: a few thousand
//! pseudo-random inputs (fixed-seed xorshift, so failures reproduce), plus mutations of valid
//! WAL and `.snap` bytes to reach past the first checks.

use revkeeper_formats::etcd::alarm::AlarmMember;
use revkeeper_formats::etcd::auth::{Role, User, auth_enabled, auth_revision};
use revkeeper_formats::etcd::bootstrap::RestoreBootstrap;
use revkeeper_formats::etcd::cluster::{DowngradeInfo, cluster_version};
use revkeeper_formats::etcd::kv::KeyValue;
use revkeeper_formats::etcd::lease::{Lease, lease_id_from_key};
use revkeeper_formats::etcd::members::{
    InitialCluster, Member, id_from_hex, parse_url, parse_urls,
};
use revkeeper_formats::etcd::meta::{self, MetaInfo};
use revkeeper_formats::etcd::raftpb::{
    ConfChange, ConfState, Entry, HardState, Metadata, Snapshot, SnapshotMetadata, WalRecord,
    WalSnapshot,
};
use revkeeper_formats::etcd::revision::RevisionKey;
use revkeeper_formats::etcd::snap::{decode_snap_file, parse_snap_file_name};
use revkeeper_formats::etcd::wal::{decode_records, read_segment};

const ROUNDS: usize = 4000;
const URL_ALPHABET: &[u8] = b"httpsunix:/[]@%25:.,=-_?#!~ 0123456789abcdefABCDEF";

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Mostly short inputs, sometimes up to 600 bytes.
    fn bytes(&mut self) -> Vec<u8> {
        let len = if self.below(8) == 0 {
            self.below(600)
        } else {
            self.below(40)
        };
        (0..len).map(|_| self.next() as u8).collect()
    }

    fn url_like(&mut self) -> String {
        let len = self.below(40);
        (0..len)
            .map(|_| URL_ALPHABET[self.below(URL_ALPHABET.len())] as char)
            .collect()
    }

    /// `valid` with a few bytes overwritten.
    fn mutate(&mut self, valid: &[u8]) -> Vec<u8> {
        let mut out = valid.to_vec();
        for _ in 0..=self.below(4) {
            let i = self.below(out.len());
            out[i] = self.next() as u8;
        }
        if self.below(4) == 0 {
            out.truncate(self.below(out.len() + 1));
        }
        out
    }
}

fn decode_everything(b: &[u8]) {
    let _ = RevisionKey::parse(b);
    let _ = KeyValue::decode_value(b);
    let _ = Lease::decode_value(b);
    let _ = lease_id_from_key(b);
    for key in [
        meta::CONSISTENT_INDEX_KEY,
        meta::TERM_KEY,
        meta::CONF_STATE_KEY,
        meta::SCHEDULED_COMPACT_KEY,
        meta::FINISHED_COMPACT_KEY,
        meta::STORAGE_VERSION_KEY,
        b"other",
    ] {
        let _ = MetaInfo::from_entries([(key, b)]);
    }
    let _ = Member::from_json(b);
    let _ = id_from_hex(b);
    let _ = AlarmMember::from_key(b);
    let _ = auth_enabled(b);
    let _ = auth_revision(b);
    let _ = User::decode_value(b);
    let _ = Role::decode_value(b);
    let _ = cluster_version(b);
    let _ = DowngradeInfo::from_json(b);
    let _ = Entry::decode(b);
    let _ = HardState::decode(b);
    let _ = ConfChange::decode(b);
    let _ = ConfState::decode(b);
    let _ = SnapshotMetadata::decode(b);
    let _ = Snapshot::decode(b);
    let _ = WalRecord::decode(b);
    let _ = WalSnapshot::decode(b);
    let _ = Metadata::decode(b);
    let _ = decode_records(b);
    let _ = read_segment(b);
    let _ = decode_snap_file(b);
    parse_text(&String::from_utf8_lossy(b));
}

fn parse_text(s: &str) {
    let _ = parse_url(s);
    let _ = parse_urls(&s.split(',').collect::<Vec<_>>());
    let _ = InitialCluster::parse(s);
    let _ = parse_snap_file_name(s);
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..ROUNDS {
        decode_everything(&rng.bytes());
        parse_text(&rng.url_like());
    }
}

#[test]
fn mutated_wal_and_snap_never_panic() {
    let bootstrap = RestoreBootstrap::new(
        vec![
            ("a".into(), vec!["http://127.0.0.1:1".into()]),
            ("b".into(), vec!["http://127.0.0.1:2".into()]),
        ],
        "fuzz",
    )
    .unwrap();
    let wal = bootstrap.wal_bytes("a").unwrap();
    let snap = bootstrap.snap_bytes();
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let mut rejected = 0;
    for _ in 0..ROUNDS {
        let bad_wal = rng.mutate(&wal);
        rejected += usize::from(read_segment(&bad_wal).is_err());
        let bad_snap = rng.mutate(&snap[..snap.len().min(512)]);
        let _ = decode_snap_file(&bad_snap);
        rejected += usize::from(decode_snap_file(&rng.mutate(&snap)).is_err());
        let member = rng.mutate(bootstrap.members()[0].to_json().as_bytes());
        let _ = Member::from_json(&member);
    }
    // The CRCs catch nearly every mutation; a decoder that accepted them would be suspect.
    assert!(
        rejected > ROUNDS,
        "only {rejected} of {} mutations rejected",
        2 * ROUNDS
    );
}
