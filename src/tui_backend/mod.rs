//! The TUI's view of the core: [`CoreBackend`] implements `revkeeper_ui::Backend` over a
//! [`Source`] (live or snapshot), the decoder, the backup manifests and `snapshot verify`.
//! The ui crate calls it from worker threads only.

mod backups;
mod document;
pub mod index;
mod inspector;
mod objects;

pub use inspector::Writer;

use std::sync::{Arc, Mutex};

use revkeeper_formats::k8s::Keyring;
use revkeeper_ui::{
    Backend, BackendResult, DeleteTarget, Findings, Keyspace, LeaseReport, Member, ObjectDoc,
    ObjectTable, Overview, RevisionRow, SnapshotDiff, SnapshotRow, VerifyResult,
};

use crate::backup::manifest::{Manifest, manifest_path};
use crate::printers::now::{self, ReferenceTime};
use crate::source::open::{self, OpenOptions};
use crate::source::{MemberRecord, SnapshotSource, Source};
use index::KeyspaceIndex;

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

pub struct CoreBackend {
    opened: Opened,
    settings: Settings,
    /// Built by the first keyspace scan; a snapshot keeps it, a live source rebuilds it.
    index: Mutex<Option<Arc<KeyspaceIndex>>>,
    /// Held while an index is built, so a second request waits for the first scan.
    building: Mutex<()>,
    inspector: inspector::Inspector,
    /// A snapshot's reference time of ages, estimated once (a live cluster uses the clock).
    snapshot_now: Mutex<Option<ReferenceTime>>,
}

impl CoreBackend {
    pub fn new(opened: Opened, settings: Settings) -> CoreBackend {
        let inspector =
            inspector::Inspector::new(&settings.prefix, matches!(opened, Opened::Live(_)));
        CoreBackend {
            inspector,
            opened,
            settings,
            index: Mutex::new(None),
            building: Mutex::new(()),
            snapshot_now: Mutex::new(None),
        }
    }

    fn source(&self) -> &dyn Source {
        match &self.opened {
            Opened::Snapshot(s) => s,
            Opened::Live(s) => s.as_ref(),
        }
    }

    fn is_live(&self) -> bool {
        matches!(self.opened, Opened::Live(_))
    }

    /// The index, built now if there is none (or, for a live source, when `fresh`).
    fn index(&self, fresh: bool, progress: &dyn Fn(u64)) -> crate::Result<Arc<KeyspaceIndex>> {
        let _building = self.building.lock().unwrap_or_else(|p| p.into_inner());
        if !fresh {
            if let Some(i) = self.index.lock().unwrap_or_else(|p| p.into_inner()).clone() {
                return Ok(i);
            }
        }
        let built = Arc::new(KeyspaceIndex::build(
            self.source(),
            &self.settings.prefix,
            progress,
        )?);
        *self.index.lock().unwrap_or_else(|p| p.into_inner()) = Some(built.clone());
        Ok(built)
    }

    /// A snapshot with the keyspace index already built: object lists and documents read keys
    /// by revision through it (see `objects`).
    fn snapshot_index(&self) -> Option<(&SnapshotSource, Arc<KeyspaceIndex>)> {
        let Opened::Snapshot(snapshot) = &self.opened else {
            return None;
        };
        let index = self
            .index
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()?;
        Some((snapshot, index))
    }

    /// What ages are measured from, as `get` measures them.
    fn reference_time(&self) -> crate::Result<ReferenceTime> {
        if self.is_live() {
            return Ok(ReferenceTime {
                now: time::OffsetDateTime::now_utc(),
                estimated: None,
            });
        }
        let mut cached = self.snapshot_now.lock().unwrap_or_else(|p| p.into_inner());
        if cached.is_none() {
            let s = &self.settings;
            *cached = Some(now::reference_time(
                self.source(),
                false,
                None,
                &s.prefix,
                &s.keyring,
            )?);
        }
        let r = cached.as_ref().expect("filled above");
        Ok(ReferenceTime {
            now: r.now,
            estimated: r.estimated.clone(),
        })
    }

    fn snapshot_extras(&self, s: &SnapshotSource, o: &mut Overview) {
        let mpath = manifest_path(s.path());
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
            ..Overview::default()
        };
        if let Opened::Snapshot(s) = &self.opened {
            self.snapshot_extras(s, &mut out);
        }
        Ok(out)
    }

    fn keyspace(&self, progress: &dyn Fn(u64)) -> BackendResult<Keyspace> {
        let index = self.index(self.is_live(), progress).map_err(err)?;
        let leases = self.source().leases().map_err(err)?.len() as u64;
        Ok(index.keyspace(leases))
    }

    fn objects(
        &self,
        resource: &str,
        namespace: Option<&str>,
        progress: &dyn Fn(u64),
    ) -> BackendResult<ObjectTable> {
        let reference = self.reference_time().map_err(err)?;
        let index = self.snapshot_index();
        let cx = objects::ListContext {
            source: self.source(),
            prefix: &self.settings.prefix,
            keyring: &self.settings.keyring,
            indexed: index.as_ref().map(|(snap, i)| (*snap, i.as_ref())),
            now: reference.now,
            now_note: reference.estimated.as_deref(),
        };
        objects::object_table(&cx, resource, namespace, progress).map_err(err)
    }

    fn object(&self, key: &str, revision: Option<i64>) -> BackendResult<ObjectDoc> {
        let index = self.snapshot_index();
        let s = &self.settings;
        document::read(
            self.source(),
            index.as_ref().map(|(snap, i)| (*snap, i.as_ref())),
            &s.prefix,
            key,
            revision,
            &s.keyring,
        )
        .map_err(err)
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
        self.inspector
            .leases(self.source(), &self.settings.keyring)
            .map_err(err)
    }

    fn findings(&self) -> BackendResult<Findings> {
        self.inspector
            .findings(self.source(), &self.settings.keyring)
            .map_err(err)
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
        match (&self.opened, self.settings.readonly, &self.settings.writer) {
            (Opened::Snapshot(_), _, _) => Some("the source is a snapshot file (read-only)".into()),
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
        self.inspector.forget();
        Ok(done)
    }
}
