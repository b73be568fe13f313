//! Private temp files for downloads and decrypted copies: 0600, named with the pid so a later
//! run removes what a killed one left, removed on drop and on SIGINT/SIGTERM/SIGHUP.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::interrupt::{self, RemoveOnSignal};
use crate::{Error, Result};

const PREFIX: &str = "revkeeper-download-";

/// A 0600 file in the temp dir (`TMPDIR`), deleted when dropped or when a signal stops the
/// process.
pub struct TempFile {
    file: tempfile::NamedTempFile,
    // Dropped after the file, so a signal at any moment still finds the path registered.
    _on_signal: RemoveOnSignal,
}

impl TempFile {
    /// A new empty temp file; `suffix` ends its name (`.db.zst`) so tools that look at
    /// extensions still work. Leftovers of dead processes are removed first.
    pub fn new(suffix: &str) -> Result<TempFile> {
        let dir = std::env::temp_dir();
        interrupt::remove_stale(&dir, PREFIX);
        let file = tempfile::Builder::new()
            .prefix(&interrupt::temp_prefix(PREFIX))
            .suffix(suffix)
            .tempfile_in(&dir)
            .map_err(|e| Error::io("cannot create a temp file in", &dir, e))?;
        Ok(TempFile {
            _on_signal: interrupt::remove_on_signal(file.path()),
            file,
        })
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    pub fn file(&self) -> &File {
        self.file.as_file()
    }

    pub fn file_mut(&mut self) -> &mut File {
        self.file.as_file_mut()
    }
}

/// An object made readable as a local file: the file itself for a local location, else a
/// [`TempFile`] holding the download (removed when this is dropped).
pub enum Fetched {
    InPlace(PathBuf),
    Temp(TempFile),
}

impl Fetched {
    pub fn path(&self) -> &Path {
        match self {
            Fetched::InPlace(p) => p,
            Fetched::Temp(t) => t.path(),
        }
    }

    /// A fresh read handle, at the start of the file.
    pub fn open(&self) -> Result<File> {
        File::open(self.path()).map_err(|e| Error::io("cannot open", self.path(), e))
    }

    pub fn is_temp(&self) -> bool {
        matches!(self, Fetched::Temp(_))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn temp_files_are_private_pid_named_and_removed_on_drop() {
        let t = TempFile::new(".db").unwrap();
        let path = t.path().to_path_buf();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        assert!(name.starts_with(&interrupt::temp_prefix(PREFIX)), "{name}");
        assert!(name.ends_with(".db"));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        drop(t);
        assert!(!path.exists());
    }
}
