//! A `.db.zst` snapshot reads like the plain file, through a private temp file without a name.
//! (Alone in its own test binary: it points TMPDIR at a directory it counts files in.)

mod common;

use revkeeper::source::{KeyRange, RangeQuery, SnapshotSource, Source};
use revkeeper_harness::Member;

fn all() -> RangeQuery {
    RangeQuery::latest(KeyRange::prefix(""))
}

#[test]
fn compressed_snapshots_read_the_same_and_leave_no_temp_file() {
    let member = Member::start_single();
    let rt = common::rt();
    let mut c = common::member_client(&rt, &member);
    rt.block_on(async {
        for i in 0..20 {
            c.put(format!("k{i}"), "v", None).await.unwrap();
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("s.db");
    common::save_snapshot(&rt, &mut c, &plain);
    let zst = dir.path().join("s.db.zst");
    let data = std::fs::read(&plain).unwrap();
    std::fs::write(&zst, zstd::encode_all(&data[..], 3).unwrap()).unwrap();

    let tmpdir = tempfile::tempdir().unwrap();
    // SAFETY of the test: TMPDIR is read once by tempfile; tests in this binary don't race on it.
    unsafe { std::env::set_var("TMPDIR", tmpdir.path()) };
    {
        let a = SnapshotSource::open(&plain).unwrap();
        let b = SnapshotSource::open(&zst).unwrap();
        assert_eq!(a.range(&all()).unwrap(), b.range(&all()).unwrap());
        // The decompressed copy has no name even while it is open: nothing can leave it behind.
        assert_eq!(
            std::fs::read_dir(tmpdir.path()).unwrap().count(),
            0,
            "no named temp file while open"
        );
        let tmp = tmpdir.path().canonicalize().unwrap();
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        assert!(
            maps.lines()
                .any(|l| l.contains(tmp.to_str().unwrap()) && l.ends_with("(deleted)")),
            "the db is mapped from an unlinked file in TMPDIR"
        );
    }
    assert_eq!(
        std::fs::read_dir(tmpdir.path()).unwrap().count(),
        0,
        "temp file removed"
    );
}
