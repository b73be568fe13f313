//! Writing into a target dir without ever leaving a partial result there: everything goes into
//! a private temp dir inside the target (so on the target's filesystem, even when it is a mount
//! point), and [`Staging::commit`] renames its entries into the target. An existing empty
//! target keeps its inode, owner, mode, ACLs and labels; one that did not exist is created 0700.
//!
//! Until [`Staging::finish`], dropping undoes everything (the temp dir, entries already moved,
//! and the dirs this created), and so does a signal. The temp dir is named with the process id,
//! so the next run removes what a SIGKILL left ([`remove_stale`]).

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::interrupt::{RemoveOnSignal, remove_on_signal, temp_prefix};
use crate::{Error, Result};

use super::{set_mode, sync_dir};

const TEMP_PREFIX: &str = ".revkeeper-restore-";

/// Removes the temp dirs of dead restores inside `target` (none when it does not exist).
pub fn remove_stale(target: &Path) {
    crate::interrupt::remove_stale(target, TEMP_PREFIX);
}

pub struct Staging {
    target: PathBuf,
    /// The outermost dir this created for `target` (itself or an ancestor).
    created: Option<PathBuf>,
    temp: PathBuf,
    moved: Vec<PathBuf>,
    finished: bool,
    _on_signal: Vec<RemoveOnSignal>,
}

impl Staging {
    /// Creates `target` (0700) and its missing parents when absent, then the temp dir in it.
    pub fn new(target: &Path) -> Result<Staging> {
        let mut on_signal = Vec::new();
        let created = match std::fs::metadata(target) {
            Ok(m) if m.is_dir() => None,
            Ok(_) => {
                return Err(Error::invalid(format!(
                    "{} is not a directory",
                    target.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let outermost = outermost_missing(target);
                on_signal.push(remove_on_signal(&outermost));
                if let Err(e) = create_dirs(target) {
                    let _ = std::fs::remove_dir_all(&outermost);
                    return Err(e);
                }
                Some(outermost)
            }
            Err(e) => return Err(Error::io("cannot read", target, e)),
        };
        let mut staging = Staging {
            target: target.to_path_buf(),
            created,
            temp: PathBuf::new(),
            moved: Vec::new(),
            finished: false,
            _on_signal: on_signal,
        };
        staging.temp = staging.create_temp_dir()?;
        Ok(staging)
    }

    /// `.revkeeper-restore-<pid>-<n>`, registered for removal before it exists, so a signal
    /// can never leave it.
    fn create_temp_dir(&mut self) -> Result<PathBuf> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let temp = self.target.join(format!("{}{n}", temp_prefix(TEMP_PREFIX)));
            self._on_signal.push(remove_on_signal(&temp));
            match DirBuilder::new().mode(0o700).create(&temp) {
                Ok(()) => return Ok(temp),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::io("cannot create a temp dir in", &self.target, e)),
            }
        }
    }

    /// The private temp dir to write into.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// Renames every entry of the temp dir into the target, removes the temp dir and syncs.
    /// Run it inside [`crate::interrupt::critical`].
    pub fn commit(&mut self) -> Result<()> {
        let entries =
            std::fs::read_dir(&self.temp).map_err(|e| Error::io("cannot read", &self.temp, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("cannot read", &self.temp, e))?;
            let to = self.target.join(entry.file_name());
            if std::fs::symlink_metadata(&to).is_ok() {
                return Err(Error::general(format!(
                    "{} appeared while restoring; nothing was restored",
                    to.display()
                )));
            }
            std::fs::rename(entry.path(), &to)
                .map_err(|e| Error::io("cannot move the restored data into", &to, e))?;
            self.moved.push(to);
        }
        std::fs::remove_dir(&self.temp).map_err(|e| Error::io("cannot remove", &self.temp, e))?;
        sync_dir(&self.target)?;
        if let Some(created) = &self.created {
            match created.parent() {
                Some(p) if !p.as_os_str().is_empty() => sync_dir(p)?,
                _ => sync_dir(Path::new("."))?,
            }
        }
        Ok(())
    }

    /// Keeps what [`Staging::commit`] moved into place.
    pub fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let Some(created) = &self.created {
            let _ = std::fs::remove_dir_all(created);
            return;
        }
        for path in &self.moved {
            let _ = std::fs::remove_dir_all(path).or_else(|_| std::fs::remove_file(path));
        }
        let _ = std::fs::remove_dir_all(&self.temp);
    }
}

fn outermost_missing(target: &Path) -> PathBuf {
    let mut outermost = target.to_path_buf();
    for ancestor in target.ancestors().skip(1) {
        if ancestor.as_os_str().is_empty() || ancestor.exists() {
            break;
        }
        outermost = ancestor.to_path_buf();
    }
    outermost
}

fn create_dirs(target: &Path) -> Result<()> {
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("cannot create", parent, e))?;
    }
    DirBuilder::new()
        .mode(0o700)
        .create(target)
        .map_err(|e| Error::io("cannot create", target, e))?;
    // The umask may have narrowed it; etcd wants exactly 0700.
    set_mode(target, 0o700)
}
