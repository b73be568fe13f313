//! What the TUI needs from the core, as a trait, and the plain view models it exchanges. The
//! core (`revkeeper`) implements [`Backend`] over its sources, decoder and inspector; the UI
//! calls it only from worker threads, never from the thread that draws and reads keys.

/// Every backend answer: a value, or a one-line message for the status bar.
pub type BackendResult<T> = Result<T, String>;

/// Where the data comes from and what the source says about itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overview {
    /// `snapshot FILE` or `cluster via ENDPOINT`.
    pub source: String,
    pub live: bool,
    pub cluster_id: Option<String>,
    pub members: Vec<Member>,
    pub leader: Option<String>,
    /// etcd server version (live) or storage version (snapshot).
    pub version: Option<String>,
    pub revision: i64,
    pub compact_revision: i64,
    pub db_size: u64,
    pub db_size_in_use: u64,
    pub alarms: Vec<String>,
    /// The snapshot's manifest, as `label: value` lines (empty without one).
    pub manifest: Vec<(String, String)>,
    /// When the snapshot was taken (from its manifest) or an estimate from object timestamps.
    pub estimated_time: Option<String>,
    /// What keeping the loaded data current costs a live source (`None` before the first load
    /// and for a snapshot).
    pub reads: Option<ReadCost>,
    /// A snapshot whose bytes cannot be proven intact (its sha256 trailer does not match, is
    /// absent or is cut): the warning the CLI readers print.
    pub unproven: Option<String>,
    /// A snapshot's trailer is still being checked.
    pub checking_trailer: bool,
}

/// A live source's reads: one first load, then one watch; a full list again only when the
/// watch's history was compacted away.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadCost {
    /// The revision the keys were last listed at; the watch follows from the next one.
    pub listed_at: i64,
    /// Keys and values the first load read, and how long it took.
    pub first_load_bytes: u64,
    pub first_load: std::time::Duration,
    /// Full lists after the first one.
    pub relists: u64,
    /// Why the last one was needed.
    pub relist_reason: Option<String>,
    /// Set while the watch is down (it resumes from where it stopped).
    pub watch_error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub client_urls: Vec<String>,
    pub is_learner: bool,
}

/// Counts for the whole keyspace, built by one scan.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Keyspace {
    pub total_keys: u64,
    pub total_bytes: u64,
    pub leases: u64,
    pub resources: Vec<ResourceGroup>,
}

/// One etcd resource (`pods`, `services/specs`, `example.com/foos`, or `(other keys)` for keys
/// outside the Kubernetes prefix) with its namespaces.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceGroup {
    pub resource: String,
    /// kubectl's name when the resource is known (`services` for `services/specs`).
    pub display: String,
    pub namespaced: bool,
    pub count: u64,
    pub bytes: u64,
    /// Empty for cluster-scoped resources.
    pub namespaces: Vec<NamespaceGroup>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NamespaceGroup {
    pub namespace: String,
    pub count: u64,
    pub bytes: u64,
}

/// A resource's objects as `revkeeper get RESOURCE` prints them (`-A` when across
/// namespaces): kubectl's columns and cells, with each object's etcd facts beside them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectTable {
    /// kubectl's columns, NAMESPACE first when the list spans namespaces; `wide` ones are
    /// those `-o wide` adds.
    pub columns: Vec<TableColumn>,
    pub rows: Vec<ObjectRow>,
    /// A remark about the whole list: what ages are relative to, values that did not decode.
    pub note: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableColumn {
    /// In capitals, as kubectl prints it (`NOMINATED NODE`).
    pub name: String,
    pub wide: bool,
}

/// One object (or key) in a list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectRow {
    /// The full etcd key (UTF-8 lossy).
    pub key: String,
    pub namespace: Option<String>,
    pub name: String,
    /// One per column of the table; empty when the value is not an object that decodes.
    pub cells: Vec<String>,
    /// `protobuf`, `json`, `encrypted:aescbc:key1+protobuf`…; why not, when it did not decode.
    pub encoding: String,
    pub bytes: u64,
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    /// 0 when no lease is attached.
    pub lease: i64,
}

/// One object, decoded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectDoc {
    pub key: String,
    /// `protobuf`, `json`, `encrypted:aescbc:key1+protobuf`, `text`, `binary`…
    pub encoding: String,
    pub yaml: String,
    pub json: String,
    /// The revision this document is at, and its mod_revision (the delete guard).
    pub revision: i64,
    pub mod_revision: i64,
    pub lease: i64,
    /// Why the value is not shown decoded (encrypted without a key, unknown format…).
    pub note: Option<String>,
}

/// One change of a key that the source still keeps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RevisionRow {
    pub revision: i64,
    pub deleted: bool,
    pub version: i64,
    pub bytes: u64,
}

/// etcd leases and what is attached to them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeaseReport {
    pub leases: Vec<LeaseRow>,
    /// Why there are no findings, when the inspector could not run.
    pub note: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeaseRow {
    pub id: i64,
    pub ttl: i64,
    /// Live clusters only.
    pub remaining_ttl: Option<i64>,
    /// The inspector's class (`events`, `masterleases`, `keyless`, `dangling`…).
    pub class: String,
    pub keys: Vec<String>,
    /// Finding checks that name this lease.
    pub findings: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    #[default]
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// One finding of the inspector: a stale object or a leaked lease.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Finding {
    /// The detector (`orphaned-owner`, `lease-keyless`…).
    pub check: String,
    pub severity: Severity,
    /// The object's etcd key; empty for findings about a lease alone.
    pub key: String,
    pub lease: i64,
    pub evidence: String,
    pub fix: String,
}

/// The inspector's findings, or why there are none.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Findings {
    pub items: Vec<Finding>,
    pub note: Option<String>,
}

/// One snapshot of a backup directory, from its manifest.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SnapshotRow {
    pub path: String,
    pub file: String,
    pub taken: String,
    pub revision: i64,
    pub db_size: u64,
    pub file_size: u64,
    pub member: String,
    /// `ok`, `missing`, `size-mismatch`.
    pub status: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct VerifyResult {
    pub path: String,
    pub clean: bool,
    /// `location: message` for every problem; a summary line when clean.
    pub lines: Vec<String>,
}

/// Objects of one resource added, removed and changed (decoded objects differ) between two
/// sources; keys that are not objects are counted under `(other keys)`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiffRow {
    pub resource: String,
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SnapshotDiff {
    /// `a → b` in words.
    pub title: String,
    pub rows: Vec<DiffRow>,
}

/// What a delete removes, and the guard: only if the key still has this mod_revision and lease.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DeleteTarget {
    pub key: String,
    pub mod_revision: i64,
    pub lease: i64,
}

/// The core, as the TUI sees it. Every method may be slow (a scan of a big snapshot, a live
/// cluster that does not answer); the UI calls them off its drawing thread.
pub trait Backend: Send + Sync {
    fn overview(&self) -> BackendResult<Overview>;

    /// The overview once what was still being checked when [`Backend::overview`] answered (a
    /// snapshot's sha256 trailer, `checking_trailer`) is known: it may wait for that check.
    fn settled_overview(&self) -> BackendResult<Overview> {
        self.overview()
    }

    /// Counts by resource and namespace; `progress` is called now and then with keys seen.
    fn keyspace(&self, progress: &dyn Fn(u64)) -> BackendResult<Keyspace>;

    /// Objects of `resource` (all namespaces when `namespace` is `None`), sorted by key, with
    /// kubectl's columns; `progress` is called now and then with objects decoded.
    fn objects(
        &self,
        resource: &str,
        namespace: Option<&str>,
        progress: &dyn Fn(u64),
    ) -> BackendResult<ObjectTable>;

    /// The object at `key`, at `revision` (`None`: latest).
    fn object(&self, key: &str, revision: Option<i64>) -> BackendResult<ObjectDoc>;

    /// Every change of `key` the source keeps, oldest first.
    fn history(&self, key: &str) -> BackendResult<Vec<RevisionRow>>;

    fn leases(&self) -> BackendResult<LeaseReport>;

    fn findings(&self) -> BackendResult<Findings>;

    /// The backup directory's snapshots, oldest first (`Err` says why there is no list).
    fn snapshots(&self) -> BackendResult<Vec<SnapshotRow>>;

    fn verify_snapshot(&self, path: &str) -> BackendResult<VerifyResult>;

    /// Objects added/removed/changed from snapshot `from` to `to` (`None`: the open source).
    fn diff_snapshots(&self, from: &str, to: Option<&str>) -> BackendResult<SnapshotDiff>;

    /// A kubectl name, short name or etcd resource (`po`, `deploy`, `minions`) → the etcd
    /// resource, or `None` when unknown. Called on the drawing thread: a table lookup, no I/O.
    fn resolve_resource(&self, name: &str) -> Option<String>;

    /// kubectl's name of an etcd resource (`services/specs` → `services`), for titles. Called
    /// on the drawing thread: a table lookup, no I/O.
    fn display_name(&self, resource: &str) -> String;

    /// `None` when deletes are possible; otherwise why not (read-only, snapshot source…).
    /// Called on the drawing thread: a flag, no I/O.
    fn write_blocked(&self) -> Option<String>;

    /// Deletes the target if it is unchanged (mod_revision and lease); returns what was done.
    fn delete(&self, target: &DeleteTarget) -> BackendResult<String>;
}
