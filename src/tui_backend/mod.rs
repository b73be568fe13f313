//! The TUI's view of the core: [`CoreBackend`] implements `revkeeper_ui::Backend` over a
//! [`Source`] (live or snapshot), the decoder, the backup manifests and `snapshot verify`.
//! The ui crate calls it from worker threads only. The keyspace counts and the findings come
//! from one load kept current by a watch ([`tracker`]).

mod backups;
mod document;
pub mod index;
mod inspector;
mod objects;
mod phases;
pub mod tracker;
mod trailer;

pub use inspector::Writer;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use revkeeper_formats::k8s::Keyring;
use revkeeper_ui::{
    Backend, BackendResult, DeleteTarget, Findings, Keyspace, LeaseReport, Member, ObjectDoc,
    ObjectTable, Overview, RevisionRow, SnapshotDiff, SnapshotRow, VerifyResult,
};

use crate::backup::manifest::{Manifest, manifest_path};
use crate::printers::discovery;
use crate::printers::now::{self, ReferenceTime};
use crate::source::open::{self, OpenOptions};
use crate::source::{MemberRecord, SnapshotSource, Source};
use tracker::Tracker;
use trailer::{TrailerCheck, Verdict};

/// The source the TUI browses.
pub enum Opened {
    /// A snapshot file: always read-only.
    Snapshot(SnapshotSource),
    /// A live cluster.
    Live(Box<dyn Source>),
}

/// How the adapter reads and what it allows.
pub struct Settings {
    /// `--readonly`: no writes even on a live cluster.
    pub readonly: bool,
    /// The Snapshots view's directory or bucket URL.
    pub backup_dir: Option<String>,
    /// How snapshots of the Snapshots view are reached and decrypted.
    pub open: OpenOptions,
    /// kube-apiserver's `--etcd-prefix`.
    pub prefix: String,
    /// Keys to decrypt values encrypted at rest.
    pub keyring: Keyring,
    /// Where deletes go (live clusters with `--audit-log`); `None`: no deletes.
    pub writer: Option<Writer>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            readonly: false,
            backup_dir: None,
            open: OpenOptions::default(),
            prefix: revkeeper_formats::k8s::key::DEFAULT_PREFIX.into(),
            keyring: Keyring::default(),
            writer: None,
        }
    }
}

/// How long a delete waits for the watch to bring it back.
const DELETE_SEEN_WITHIN: Duration = Duration::from_secs(3);

pub struct CoreBackend {
    /// The snapshot file, when that is the source (the tracker reads it too).
    snapshot: Option<Arc<SnapshotSource>>,
    settings: Settings,
    /// The loaded keys and facts, kept current on a live source.
    tracker: Arc<Tracker>,
    inspector: inspector::Inspector,
    /// A snapshot's reference time of ages, estimated once (a live cluster uses the clock).
    snapshot_now: Mutex<Option<ReferenceTime>>,
    /// A snapshot's sha256 trailer, checked beside the first load.
    trailer: Option<TrailerCheck>,
}

impl CoreBackend {
    pub fn new(opened: Opened, settings: Settings) -> CoreBackend {
        phases::start();
        let live = matches!(opened, Opened::Live(_));
        let (prefix, keyring) = (&settings.prefix, settings.keyring.clone());
        let (tracker, snapshot) = match opened {
            Opened::Snapshot(s) => {
                let s = Arc::new(s);
                (Tracker::new(s.clone(), prefix, keyring, false), Some(s))
            }
            Opened::Live(s) => (Tracker::new(Arc::from(s), prefix, keyring, true), None),
        };
        CoreBackend {
            inspector: inspector::Inspector::new(&settings.prefix, live),
            trailer: snapshot.clone().map(TrailerCheck::start),
            snapshot,
            settings,
            tracker: Arc::new(tracker),
            snapshot_now: Mutex::new(None),
        }
    }

    fn source(&self) -> &dyn Source {
        self.tracker.source()
    }

    fn is_live(&self) -> bool {
        self.snapshot.is_none()
    }

    /// What ages are measured from on a snapshot, as `get` measures them: estimated once from
    /// the facts of the one load (no second pass over the snapshot).
    fn snapshot_time(&self, loaded: &mut tracker::Loaded) -> ReferenceTime {
        let mut cached = self.snapshot_now.lock().unwrap_or_else(|p| p.into_inner());
        let r = cached.get_or_insert_with(|| now::estimated(loaded.facts()));
        ReferenceTime {
            now: r.now,
            estimated: r.estimated.clone(),
        }
    }

    fn snapshot_extras(&self, path: &std::path::Path, o: &mut Overview) {
        let mpath = manifest_path(path);
        if let Ok(m) = Manifest::read(&mpath) {
            o.estimated_time = Some(format!("{} (from its manifest)", m.started_at));
            o.manifest = vec![
                ("file".into(), mpath.display().to_string()),
                ("revision".into(), m.revision.to_string()),
                (
                    "member".into(),
                    format!("{} {}", m.member_name, m.member_id),
                ),
                ("etcd".into(), m.etcd_version.clone()),
                ("sha256".into(), m.db_sha256.clone()),
            ];
        } else if let Some(r) = self.inspector.cached().filter(|r| r.now_estimated) {
            let when = time::OffsetDateTime::from_unix_timestamp(r.now)
                .map(crate::timefmt::rfc3339)
                .unwrap_or_else(|_| r.now.to_string());
            o.estimated_time = Some(format!("about {when} ({})", r.now_basis));
        }
    }
}

/// The leader as `NAME ID` (the id alone when it is not in the member list).
fn leader_label(id: u64, members: &[MemberRecord]) -> String {
    match members.iter().find(|m| m.id == id) {
        Some(m) if !m.name.is_empty() => format!("{} {id:x}", m.name),
        _ => format!("{id:x}"),
    }
}

fn err(e: crate::Error) -> String {
    e.to_string()
}

impl Backend for CoreBackend {
    fn overview(&self) -> BackendResult<Overview> {
        let o = self.source().overview().map_err(err)?;
        let mut out = Overview {
            source: o.description,
            live: self.is_live(),
            cluster_id: o.cluster_id.map(|id| format!("{id:x}")),
            members: o
                .members
                .iter()
                .map(|m| Member {
                    id: format!("{:x}", m.id),
                    name: m.name.clone(),
                    client_urls: m.client_urls.clone(),
                    is_learner: m.is_learner,
                })
                .collect(),
            leader: o.leader.map(|id| leader_label(id, &o.members)),
            alarms: o.alarms.iter().map(|a| a.to_string()).collect(),
            version: o.server_version,
            revision: o.revision,
            compact_revision: o.compact_revision,
            db_size: o.db_size,
            db_size_in_use: o.db_size_in_use,
            reads: self.tracker.cost(),
            ..Overview::default()
        };
        if let Some(path) = self.snapshot.as_ref().map(|s| s.path()) {
            self.snapshot_extras(path, &mut out);
        }
        match self.trailer.as_ref().map(|t| t.verdict(false)) {
            Some(Verdict::Checking) => out.checking_trailer = true,
            Some(Verdict::Unproven(warning)) => out.unproven = Some(warning),
            Some(Verdict::Intact) | None => {}
        }
        Ok(out)
    }

    fn settled_overview(&self) -> BackendResult<Overview> {
        if let Some(t) = &self.trailer {
            if self.inspector.cached().is_some() {
                t.hurry();
            }
            t.verdict(true);
        }
        self.overview()
    }

    fn keyspace(&self, progress: &dyn Fn(u64)) -> BackendResult<Keyspace> {
        let counts = self
            .tracker
            .with_loaded(progress, |l| l.keyspace.keyspace(0))
            .map_err(err)?;
        self.tracker.start_following().map_err(err)?;
        let leases = self.inspector.lease_count(&self.tracker).map_err(err)?;
        phases::mark("keyspace-counts");
        Ok(Keyspace { leases, ..counts })
    }

    fn objects(
        &self,
        resource: &str,
        namespace: Option<&str>,
        progress: &dyn Fn(u64),
    ) -> BackendResult<ObjectTable> {
        // On a snapshot, the list waits for the one load and reads the resource's keys by
        // revision (a copy of its part of the index, so the list does not hold the tracker).
        let (reference, listed) = match self.snapshot.as_deref() {
            Some(snap) => {
                let (part, reference) = (self.tracker)
                    .with_loaded(progress, |l| {
                        (
                            l.keyspace.only(&[resource, discovery::CRDS]),
                            self.snapshot_time(l),
                        )
                    })
                    .map_err(err)?;
                (reference, Some((snap, part)))
            }
            None => {
                let now = time::OffsetDateTime::now_utc();
                (
                    ReferenceTime {
                        now,
                        estimated: None,
                    },
                    None,
                )
            }
        };
        let cx = objects::ListContext {
            source: self.source(),
            prefix: &self.settings.prefix,
            keyring: &self.settings.keyring,
            indexed: listed.as_ref().map(|(snap, i)| (*snap, i)),
            now: reference.now,
            now_note: reference.estimated.as_deref(),
        };
        objects::object_table(&cx, resource, namespace, progress).map_err(err)
    }

    fn object(&self, key: &str, revision: Option<i64>) -> BackendResult<ObjectDoc> {
        let indexed = (self.snapshot.as_deref()).and_then(|snap| {
            let written = self
                .tracker
                .if_loaded(|l| (l.keyspace.entry(key.as_bytes())).map(|e| e.mod_revision))?;
            Some((snap, written))
        });
        let s = &self.settings;
        document::read(self.source(), indexed, key, revision, &s.keyring).map_err(err)
    }

    fn history(&self, key: &str) -> BackendResult<Vec<RevisionRow>> {
        let changes = self.source().history(key.as_bytes()).map_err(err)?;
        Ok(changes
            .iter()
            .map(|c| RevisionRow {
                revision: c.revision,
                deleted: c.deleted,
                version: c.record.version,
                bytes: c.record.value.len() as u64,
            })
            .collect())
    }

    fn leases(&self) -> BackendResult<LeaseReport> {
        let report = self.inspector.leases(&self.tracker).map_err(err)?;
        self.tracker.start_following().map_err(err)?;
        Ok(report)
    }

    fn findings(&self) -> BackendResult<Findings> {
        let findings = self.inspector.findings(&self.tracker).map_err(err)?;
        phases::mark("findings");
        // The first load is done (its last part, the detectors, too).
        if let Some(t) = &self.trailer {
            t.hurry();
        }
        self.tracker.start_following().map_err(err)?;
        Ok(findings)
    }

    fn snapshots(&self) -> BackendResult<Vec<SnapshotRow>> {
        let dir = self.settings.backup_dir.as_deref().ok_or(
            "no backup directory: start with `revkeeper tui --backup-dir DIR` (where `snapshot save --dir` writes)",
        )?;
        backups::list(dir, &self.settings.open).map_err(err)
    }

    fn verify_snapshot(&self, path: &str) -> BackendResult<VerifyResult> {
        backups::verify(path, &self.settings.open).map_err(err)
    }

    fn diff_snapshots(&self, from: &str, to: Option<&str>) -> BackendResult<SnapshotDiff> {
        let a = open::open(from, &self.settings.open).map_err(err)?;
        let name = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
        let (prefix, keyring) = (&self.settings.prefix, &self.settings.keyring);
        let ((rows, note), title) = match to {
            Some(to) => {
                let b = open::open(to, &self.settings.open).map_err(err)?;
                (
                    backups::diff(&a, &b, prefix, keyring).map_err(err)?,
                    format!("{} → {}", name(from), name(to)),
                )
            }
            None => (
                backups::diff(&a, self.source(), prefix, keyring).map_err(err)?,
                format!("{} → the open source", name(from)),
            ),
        };
        let title = match note {
            Some(note) => format!("{title} ({note})"),
            None => title,
        };
        Ok(SnapshotDiff { title, rows })
    }

    fn resolve_resource(&self, name: &str) -> Option<String> {
        index::resolve(name)
    }

    fn display_name(&self, resource: &str) -> String {
        revkeeper_formats::k8s::resources::display_name(resource)
    }

    fn write_blocked(&self) -> Option<String> {
        match (
            self.is_live(),
            self.settings.readonly,
            &self.settings.writer,
        ) {
            (false, _, _) => Some("the source is a snapshot file (read-only)".into()),
            (_, true, _) => Some("started with --readonly".into()),
            (_, _, None) => Some(
                "deletes need --audit-log FILE (every change is recorded before and after)".into(),
            ),
            _ => None,
        }
    }

    fn delete(&self, target: &DeleteTarget) -> BackendResult<String> {
        if let Some(why) = self.write_blocked() {
            return Err(why);
        }
        let writer = self.settings.writer.as_ref().ok_or("no writer")?;
        let done = writer.delete(target).map_err(err)?;
        // The watch brings the delete; wait for it so the views reloaded next show it.
        let key = target.key.as_bytes();
        self.tracker
            .wait_until(DELETE_SEEN_WITHIN, |l| !l.keyspace.contains(key));
        Ok(done)
    }
}

impl Drop for CoreBackend {
    fn drop(&mut self) {
        self.tracker.stop();
    }
}
