//! Crash-safe file handling: private `.part` files removed on failure, fsync of file and
//! directory, renames that never replace an existing file unless asked, atomic small writes.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// `path` with `suffix` appended to its file name: `a.db` + `.part` → `a.db.part`.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// The directory holding `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// fsync a directory so a rename or unlink in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("cannot fsync directory", dir, e))
}

/// A `.part` file being written: created 0600, locked against a second writer, and deleted
/// when dropped unless [`PartFile::commit`] renamed it into place.
pub struct PartFile {
    path: PathBuf,
    armed: bool,
}

impl PartFile {
    /// Creates (or takes over a stale) `path`, mode 0600, never following a symlink. A `.part`
    /// file locked by another running revkeeper is an error; an unlocked one is a leftover of a
    /// killed run and is truncated.
    pub fn create(path: &Path) -> Result<(PartFile, File)> {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| Error::io("cannot create", path, e))?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(Error::general(format!(
                "{} is being written by another revkeeper process",
                path.display()
            )));
        }
        let stale = file.metadata().map(|m| m.len()).unwrap_or(0);
        file.set_len(0)
            .and_then(|_| file.set_permissions(std::fs::Permissions::from_mode(0o600)))
            .map_err(|e| Error::io("cannot truncate", path, e))?;
        if stale > 0 {
            crate::log::warn(
                "replaced a partial file left by an interrupted run",
                &[("file", serde_json::json!(path.display().to_string()))],
            );
        }
        Ok((
            PartFile {
                path: path.to_path_buf(),
                armed: true,
            },
            file,
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the (already fsynced) part file to `dest` and fsyncs the directory. Without
    /// `replace`, an existing `dest` is never overwritten (exit 3).
    pub fn commit(mut self, dest: &Path, replace: bool) -> Result<()> {
        rename(&self.path, dest, replace)?;
        self.armed = false;
        sync_dir(parent_dir(dest))
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `rename(2)`, or `renameat2(RENAME_NOREPLACE)` when an existing `to` must be kept (with a
/// link-then-unlink fallback on file systems without it).
pub fn rename(from: &Path, to: &Path, replace: bool) -> Result<()> {
    let exists = || {
        Error::invalid(format!(
            "{} already exists; pass --force to replace it",
            to.display()
        ))
    };
    if replace {
        return std::fs::rename(from, to).map_err(|e| Error::io("cannot rename to", to, e));
    }
    let c_from = std::ffi::CString::new(from.as_os_str().as_bytes())
        .map_err(|_| Error::invalid(format!("bad path {}", from.display())))?;
    let c_to = std::ffi::CString::new(to.as_os_str().as_bytes())
        .map_err(|_| Error::invalid(format!("bad path {}", to.display())))?;
    // SAFETY: valid NUL-terminated paths; AT_FDCWD resolves them like rename(2).
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            c_from.as_ptr(),
            libc::AT_FDCWD,
            c_to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EEXIST) => Err(exists()),
        Some(libc::EINVAL) | Some(libc::ENOSYS) => {
            std::fs::hard_link(from, to).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    exists()
                } else {
                    Error::io("cannot link to", to, e)
                }
            })?;
            std::fs::remove_file(from).map_err(|e| Error::io("cannot remove", from, e))
        }
        _ => Err(Error::io("cannot rename to", to, err)),
    }
}

/// Writes a small file atomically: `path.part` (with `mode`), fsync, rename over `path`, fsync
/// the directory.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let tmp = with_suffix(path, &format!(".{}.tmp", std::process::id()));
    let res = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)
            .map_err(|e| Error::io("cannot create", &tmp, e))?;
        f.set_permissions(std::fs::Permissions::from_mode(mode))
            .and_then(|_| f.write_all(bytes))
            .and_then(|_| f.sync_all())
            .map_err(|e| Error::io("cannot write", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io("cannot rename to", path, e))?;
        sync_dir(parent_dir(path))
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_file_is_private_and_removed_unless_committed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.db.part");
        let (part, _f) = PartFile::create(&p).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        drop(part);
        assert!(!p.exists());

        let (part, _f) = PartFile::create(&p).unwrap();
        let dest = dir.path().join("a.db");
        std::fs::write(&dest, b"old").unwrap();
        let again = PartFile::create(&p);
        assert!(again.is_err(), "second writer must be refused while locked");
        drop(again);
        let e = rename(&p, &dest, false).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert_eq!(std::fs::read(&dest).unwrap(), b"old");
        part.commit(&dest, true).unwrap();
        assert!(!p.exists());
        assert_eq!(std::fs::read(&dest).unwrap(), b"");
    }

    #[test]
    fn atomic_write_sets_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.json");
        write_atomic(&p, b"{}", 0o600).unwrap();
        write_atomic(&p, b"{\"a\":1}", 0o600).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{\"a\":1}");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
