//! Helpers shared by the integration tests: a tokio runtime, a client for a harness member,
//! snapshots taken straight from the server, and the shared fixtures.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use etcd_client::Client;
use revkeeper::source::LiveSource;
use revkeeper_harness::Member;

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

pub fn client(rt: &tokio::runtime::Runtime, member: &Member) -> Client {
    rt.block_on(Client::connect([member.endpoint()], None))
        .expect("connect to test etcd")
}

/// A live source on `member`, as the CLI would build it.
pub fn live_source(member: &Member) -> LiveSource {
    let rt = runtime();
    let c = client(&rt, member);
    LiveSource::new(rt, c, member.endpoint(), Duration::from_secs(10))
}

/// Saves a snapshot with the server's own stream (db bytes + sha256 trailer) to `path`.
pub fn save_snapshot(rt: &tokio::runtime::Runtime, client: &mut Client, path: &Path) {
    rt.block_on(async {
        let mut stream = client.snapshot().await.expect("snapshot stream");
        let mut f = std::fs::File::create(path).expect("create snapshot file");
        while let Some(resp) = stream.message().await.expect("snapshot message") {
            f.write_all(resp.blob()).expect("write snapshot");
        }
    });
}

/// `../shared/fixtures/cluster-dev`, or `None` (with a notice) when this checkout has no
/// shared directory beside it.
pub fn cluster_dev() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/cluster-dev");
    if dir.join("cluster.db").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "notice: {} not found; skipping the fixture checks",
            dir.display()
        );
        None
    }
}

pub fn revkeeper() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_revkeeper"))
}
