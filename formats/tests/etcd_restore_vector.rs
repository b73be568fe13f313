//! The restore test vector of `docs/format-restore.md#test-vector` (etcdutl 3.5.30 output for the
//! defaults) and the member/cluster IDs of `#member-and-cluster-ids`, byte for byte.

use revkeeper_formats::etcd::bootstrap::RestoreBootstrap;
use revkeeper_formats::etcd::members::{InitialCluster, cluster_id, id_hex, member_id};
use revkeeper_formats::etcd::raftpb::ConfChange;
use revkeeper_formats::etcd::snap::decode_snap_file;
use revkeeper_formats::etcd::wal::{self, RECORD_CRC, decode_records, read_segment};
use sha2::{Digest, Sha256};

const MEMBER_JSON: &str =
    r#"{"id":10276657743932975437,"peerURLs":["http://localhost:2380"],"name":"default"}"#;

fn hex(s: &str) -> Vec<u8> {
    ::hex::decode(s.split_whitespace().collect::<String>()).expect("hex test vector")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first 288 WAL bytes of the test vector, record by record.
fn expected_wal() -> Vec<u8> {
    let mut v = hex("0400000000000084 08041000 00000000");
    v.extend(hex(
        "2000000000000000 080110bb81c7fc051a16 08cdd2918bd2b881cf8e01 10b298eaf1948386fccd01",
    ));
    v.extend(hex("0e00000000000082 08051094bbc7ed0e1a04 08001000 0000"));
    v.extend(hex(
        "7400000000000084 080210c2ee92950b1a6a 0801 1001 1801 2262 0800 1000 18cdd2918bd2b881cf8e01 2251",
    ));
    v.extend(MEMBER_JSON.as_bytes());
    v.extend(hex("00000000"));
    v.extend(hex(
        "1900000000000087 0803109b98d6c3081a0f 0801 10cdd2918bd2b881cf8e01 1801 00000000000000",
    ));
    v.extend(hex(
        "1d00000000000083 0805108d9eaeef0d1a13 0801 1001 1a0d 08cdd2918bd2b881cf8e01 2800 000000",
    ));
    v
}

fn defaults() -> RestoreBootstrap {
    let cluster = InitialCluster::parse("default=http://localhost:2380").unwrap();
    RestoreBootstrap::from_initial_cluster(&cluster, "etcd-cluster").unwrap()
}

#[test]
fn default_ids() {
    let b = defaults();
    assert_eq!(id_hex(b.members()[0].id), "8e9e05c52164694d");
    assert_eq!(id_hex(b.cluster_id()), "cdf818194e3a8c32");
    assert_eq!(b.members()[0].to_json(), MEMBER_JSON);
}

#[test]
fn verified_live_server_ids() {
    let id = member_id(&["http://127.0.0.1:24801"], "tok-src35");
    assert_eq!(id, 5598121844046460979);
    assert_eq!(cluster_id(&[id]), 2043834500597931507);
}

#[test]
fn wal_matches_the_vector() {
    let wal = defaults().wal_bytes("default").unwrap();
    let want = expected_wal();
    assert_eq!(want.len(), 288);
    assert_eq!(wal, want);
    assert_eq!(
        sha256_hex(&wal),
        "5d6ef1158b8cf9062b717f2d86ae1cf6ef98f09cb5a0af0f259a839ff2050928"
    );

    let crcs: Vec<u32> = decode_records(&wal)
        .unwrap()
        .iter()
        .filter(|r| r.record_type != RECORD_CRC)
        .map(|r| r.crc)
        .collect();
    assert_eq!(
        crcs,
        [0x5f91c0bb, 0xedb1dd94, 0xb2a4b742, 0x88758c1b, 0xddeb8f0d]
    );

    let contents = read_segment(&wal).unwrap();
    let cc = ConfChange::decode(contents.entries[0].data.as_deref().unwrap()).unwrap();
    assert_eq!(cc.context.as_deref(), Some(MEMBER_JSON.as_bytes()));
}

#[test]
fn wal_file_is_preallocated_with_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let path = wal::write_first_segment(dir.path(), &expected_wal()).unwrap();
    assert_eq!(
        path.file_name().unwrap(),
        "0000000000000000-0000000000000000.wal"
    );
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len(), 64_000_000);
    assert_eq!(&bytes[..288], expected_wal().as_slice());
    assert!(bytes[288..].iter().all(|&b| b == 0));
    assert_eq!(
        read_segment(&bytes).unwrap(),
        read_segment(&bytes[..288]).unwrap()
    );
}

#[test]
fn snap_matches_the_vector() {
    let b = defaults();
    let snap = b.snap_bytes();
    assert_eq!(b.snap_file_name(), "0000000000000001-0000000000000001.snap");
    assert_eq!(snap.len(), 6490);
    assert_eq!(
        sha256_hex(&snap),
        "391e233526d2ed237b95d33b9d3c7975cf3db23b1913a478baacdeee4177b533"
    );
    assert_eq!(&snap[..12], hex("08 b6f8818f01 12 d132 0a b932").as_slice());
    let metadata = hex("0a0d 08cdd2918bd2b881cf8e01 2800 1001 1801");
    assert!(snap.ends_with(&metadata));

    let decoded = decode_snap_file(&snap).unwrap();
    assert_eq!(decoded.data.as_ref().unwrap().len(), 6457);
    assert_eq!(decoded.metadata.index, 1);
    assert_eq!(decoded.metadata.term, 1);
    assert_eq!(decoded.metadata.conf_state.voters, [0x8e9e05c52164694d]);
}
