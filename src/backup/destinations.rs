//! Where `snapshot save` and `backup run` write: the destinations (`--dir`, a `FILE`), opened
//! and checked before anything is streamed, a pending upload in each, and how the snapshot is
//! named in them.

use serde_json::json;
use time::OffsetDateTime;

use super::fsutil;
use super::manifest;
use super::save::{SaveOptions, Target};
use super::writer::{Fanout, Slot};
use crate::error::{Error, Result};
use crate::location::{Location, Store};
use crate::log;

/// The destinations, opened: a store and how the snapshot is named in it. Uploads run on
/// writer threads of our own (a store blocks on its own runtime, which cannot be done from an
/// async task); [`Destinations::wait_writers`] lets them finish aborting after a signal.
pub struct Destinations {
    pub(crate) stores: Vec<(Store, Naming)>,
    pub(crate) writers: std::sync::Mutex<Vec<std::thread::JoinHandle<()>>>,
}

#[derive(Clone)]
pub(crate) enum Naming {
    Exactly(String),
    ByRevision(String),
}

/// The file extension of a snapshot: `db`, `db.zst`, and `.age` when encrypted.
pub fn extension(opts: &SaveOptions) -> String {
    let ext = opts.compression.extension();
    match opts.encryptor {
        Some(_) => format!("{ext}.age"),
        None => ext.to_string(),
    }
}

/// Opens and checks the destinations before connecting: exit 3 if a file exists (without
/// `--force`) or a directory does not; a bucket is asked once (credentials, existence).
pub fn check_target(opts: &SaveOptions) -> Result<Destinations> {
    let mut stores = Vec::new();
    match &opts.target {
        Target::File(path) => {
            if path.is_dir() {
                return Err(Error::invalid(format!(
                    "{} is a directory; use --dir {0} for named snapshots",
                    path.display()
                )));
            }
            let dir = fsutil::parent_dir(path);
            if !dir.is_dir() {
                return Err(Error::invalid(format!(
                    "directory {} does not exist",
                    dir.display()
                )));
            }
            if !opts.force {
                for p in [path.clone(), manifest::manifest_path(path)] {
                    if p.symlink_metadata().is_ok() {
                        return Err(Error::invalid(format!(
                            "{} already exists; pass --force to replace it",
                            p.display()
                        )));
                    }
                }
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| Error::invalid(format!("{} names no file", path.display())))?;
            let store = Location::Local(dir.to_path_buf()).open(&opts.store_options)?;
            stores.push((store, Naming::Exactly(name)));
        }
        Target::Locations { locations, prefix } => {
            for location in locations {
                if let Location::Local(dir) = location {
                    create_private_dir(dir)?;
                }
                let store = location.open(&opts.store_options)?;
                store.check()?;
                stores.push((store, Naming::ByRevision(prefix.clone())));
            }
        }
    }
    Ok(Destinations {
        stores,
        writers: Default::default(),
    })
}

/// A local `--dir` that does not exist yet is created, 0700 (its parent must exist: a typo in
/// a long path should not create a tree somewhere unexpected).
fn create_private_dir(dir: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {
            log::info(
                "created the backup directory (0700)",
                &[("dir", json!(dir.display().to_string()))],
            );
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::invalid(format!(
            "--dir {}: its parent directory does not exist; create it first",
            dir.display()
        ))),
        Err(e) => Err(Error::io("cannot create --dir", dir, e)),
    }
}

impl Destinations {
    /// The pending names: the final one, or the start time until the revision is known.
    pub(crate) fn stems(&self, opts: &SaveOptions, started: OffsetDateTime) -> Vec<String> {
        self.stores
            .iter()
            .map(|(_, naming)| match naming {
                Naming::Exactly(name) => name.clone(),
                Naming::ByRevision(prefix) => format!(
                    "{prefix}-{}.{}",
                    crate::timefmt::compact(started),
                    extension(opts)
                ),
            })
            .collect()
    }

    /// A pending upload into every destination (blocking: call it on a writer thread).
    pub(crate) fn start(&self, stems: &[String], force: bool) -> Result<Fanout> {
        let mut slots = Vec::with_capacity(self.stores.len());
        for ((store, _), stem) in self.stores.iter().zip(stems) {
            slots.push(Slot {
                shown: store.location().to_string(),
                upload: Some(store.put_pending(stem, force)?),
                error: None,
            });
        }
        Ok(Fanout { slots })
    }

    /// The opened locations, in `--dir` order.
    pub fn stores(&self) -> impl Iterator<Item = &Store> {
        self.stores.iter().map(|(s, _)| s)
    }

    /// Waits for writer threads still running (aborting uploads after a signal).
    pub fn wait_writers(&self) {
        let handles: Vec<_> = self
            .writers
            .lock()
            .map(|mut w| w.drain(..).collect())
            .unwrap_or_default();
        for h in handles {
            let _ = h.join();
        }
    }
}
