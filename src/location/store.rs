//! [`Store`]: the operations the snapshot verbs need, the same for a directory and a bucket.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use tokio::runtime::Runtime;

use super::errors::{error_from_io, into_io, map_store_error};
use super::parse::check_name;
use super::temp::{Fetched, TempFile};
use super::upload::{CloudTarget, PART_SIZE, Upload};
use super::{Location, LocationOptions, cloud};
use crate::backup::fsutil;
use crate::{Error, Result};

/// One object (file) of a location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The name inside the location (no prefix, no directory).
    pub name: String,
    pub size: u64,
    pub modified: SystemTime,
}

/// An opened location.
pub struct Store {
    location: Location,
    backend: Backend,
}

enum Backend {
    Local(PathBuf),
    Cloud {
        store: Arc<dyn ObjectStore>,
        prefix: ObjectPath,
        runtime: Arc<Runtime>,
    },
}

impl Location {
    /// Opens the location. Cloud stores read their settings and credentials now (see
    /// [`LocationOptions`]) but send nothing until the first operation.
    pub fn open(&self, opts: &LocationOptions) -> Result<Store> {
        let backend = match self {
            Location::Local(dir) => Backend::Local(dir.clone()),
            _ => {
                let store = cloud::build(self, opts)?;
                let (_, prefix) = self.bucket_and_prefix().expect("a cloud location");
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("revkeeper-store")
                    .enable_all()
                    .build()
                    .map_err(|e| Error::general(format!("cannot start the I/O runtime: {e}")))?;
                Backend::Cloud {
                    store,
                    prefix: ObjectPath::from(prefix),
                    runtime: Arc::new(runtime),
                }
            }
        };
        Ok(Store {
            location: self.clone(),
            backend,
        })
    }
}

impl Store {
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The objects directly in the location whose names start with `prefix` (`""` for all),
    /// sorted by name. Unfinished uploads are not objects: local `.part` and temp files are
    /// left out, as a bucket leaves out incomplete multipart uploads.
    pub fn list(&self, prefix: &str) -> Result<Vec<Entry>> {
        let target = self.location.to_string();
        let mut entries = match &self.backend {
            Backend::Local(dir) => list_dir(dir)?,
            Backend::Cloud {
                store,
                prefix: base,
                runtime,
            } => {
                let base = (!base.as_ref().is_empty()).then_some(base);
                let listed = runtime
                    .block_on(store.list_with_delimiter(base))
                    .map_err(|e| map_store_error(e, &self.location, "list", &target))?;
                listed
                    .objects
                    .into_iter()
                    .filter_map(|meta| {
                        let name = meta.location.filename()?;
                        if name.ends_with(".part") {
                            return None;
                        }
                        Some(Entry {
                            name: name.to_string(),
                            size: meta.size,
                            modified: SystemTime::from(meta.last_modified),
                        })
                    })
                    .collect()
            }
        };
        entries.retain(|e| e.name.starts_with(prefix));
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// Fails unless the location can be used now: a directory that exists, or a bucket that
    /// exists and answers a listing with these credentials (one request). Run it before
    /// starting work whose output goes there.
    pub fn check(&self) -> Result<()> {
        let target = self.location.to_string();
        match &self.backend {
            Backend::Local(dir) => match std::fs::metadata(dir) {
                Ok(m) if m.is_dir() => Ok(()),
                Ok(_) => Err(Error::invalid(format!("{target} is not a directory"))),
                Err(e) => Err(Error::io("cannot use", dir, e)),
            },
            Backend::Cloud {
                store,
                prefix,
                runtime,
            } => {
                let base = (!prefix.as_ref().is_empty()).then_some(prefix);
                // The first page of a listing is enough: it needs the bucket and the rights.
                match runtime.block_on(async { store.list(base).next().await }) {
                    Some(Err(e)) => Err(map_store_error(e, &self.location, "list", &target)),
                    _ => Ok(()),
                }
            }
        }
    }

    /// Whether `name` exists.
    pub fn exists(&self, name: &str) -> Result<bool> {
        check_name(&self.location, name)?;
        let target = self.location.describe(name);
        match &self.backend {
            Backend::Local(dir) => match std::fs::symlink_metadata(dir.join(name)) {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(Error::io("cannot stat", &dir.join(name), e)),
            },
            Backend::Cloud {
                store,
                prefix,
                runtime,
            } => match runtime.block_on(store.head(&prefix.clone().join(name))) {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(map_store_error(e, &self.location, "look up", &target)),
            },
        }
    }

    /// A streaming reader of `name` (no local copy).
    pub fn open_read(&self, name: &str) -> Result<Box<dyn Read + Send>> {
        check_name(&self.location, name)?;
        let target = self.location.describe(name);
        match &self.backend {
            Backend::Local(dir) => {
                let path = dir.join(name);
                let file =
                    std::fs::File::open(&path).map_err(|e| Error::io("cannot open", &path, e))?;
                Ok(Box::new(file))
            }
            Backend::Cloud {
                store,
                prefix,
                runtime,
            } => {
                let got = runtime
                    .block_on(store.get(&prefix.clone().join(name)))
                    .map_err(|e| map_store_error(e, &self.location, "download", &target))?;
                Ok(Box::new(ObjectReader {
                    expected: got.meta.size,
                    received: 0,
                    stream: got.into_stream(),
                    runtime: runtime.clone(),
                    location: self.location.clone(),
                    target,
                    chunk: bytes::Bytes::new(),
                }))
            }
        }
    }

    /// `name` as a local file: the file itself for a directory, else a streamed download into
    /// a 0600 temp file that is removed when the result is dropped or a signal stops the
    /// process. A download shorter than the object is an error.
    pub fn get_to_temp(&self, name: &str) -> Result<Fetched> {
        if let Backend::Local(dir) = &self.backend {
            check_name(&self.location, name)?;
            let path = dir.join(name);
            std::fs::metadata(&path).map_err(|e| Error::io("cannot open", &path, e))?;
            return Ok(Fetched::InPlace(path));
        }
        let target = self.location.describe(name);
        let mut reader = self.open_read(name)?;
        let suffix = name.find('.').map(|i| &name[i..]).unwrap_or("");
        let mut temp = TempFile::new(suffix)?;
        let file = temp.file_mut();
        io::copy(&mut reader, file).map_err(|e| error_from_io(e, &target))?;
        file.flush()
            .map_err(|e| Error::general(format!("cannot write the download of {target}: {e}")))?;
        Ok(Fetched::Temp(temp))
    }

    /// A writer into a new object `name`, visible only after [`Upload::finish`]. An existing
    /// object is refused unless `replace` (checked now, and again at the rename for a
    /// directory).
    pub fn put_stream(&self, name: &str, replace: bool) -> Result<Upload> {
        check_name(&self.location, name)?;
        if !replace && self.exists(name)? {
            return Err(Error::invalid(format!(
                "{} already exists; pass --force to replace it",
                self.location.describe(name)
            )));
        }
        self.start_upload(name, name, replace)
    }

    /// A writer into an object whose name is given only at the end, by
    /// [`Upload::finish_named`]. Until then the data goes to `STEM.part`, which listings leave
    /// out: a `.part` file of a directory, a multipart upload to `STEM.part` in a bucket.
    pub fn put_pending(&self, stem: &str, replace: bool) -> Result<Upload> {
        check_name(&self.location, stem)?;
        self.start_upload(stem, &format!("{stem}.part"), replace)
    }

    fn start_upload(&self, name: &str, cloud_key: &str, replace: bool) -> Result<Upload> {
        let target = self.location.describe(name);
        match &self.backend {
            Backend::Local(dir) => Upload::local(dir.join(name), replace),
            Backend::Cloud {
                store,
                prefix,
                runtime,
            } => {
                // Some servers accept the start of an upload into a missing bucket.
                self.check()?;
                let key = prefix.clone().join(cloud_key);
                let upload = runtime
                    .block_on(store.put_multipart(&key))
                    .map_err(|e| map_store_error(e, &self.location, "upload", &target))?;
                let writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
                let to = CloudTarget {
                    store: store.clone(),
                    runtime: runtime.clone(),
                    location: self.location.clone(),
                    key,
                    prefix: prefix.clone(),
                };
                Ok(Upload::cloud(to, writer, target))
            }
        }
    }

    /// Writes a small object (a manifest) in one request, or atomically into a 0600 file;
    /// replaces an existing one.
    pub fn put_small(&self, name: &str, bytes: &[u8]) -> Result<()> {
        check_name(&self.location, name)?;
        let target = self.location.describe(name);
        match &self.backend {
            Backend::Local(dir) => fsutil::write_atomic(&dir.join(name), bytes, 0o600),
            Backend::Cloud {
                store,
                prefix,
                runtime,
            } => runtime
                .block_on(store.put(&prefix.clone().join(name), bytes.to_vec().into()))
                .map(|_| ())
                .map_err(|e| map_store_error(e, &self.location, "upload", &target)),
        }
    }

    /// Deletes `name`; a name that is already gone is not an error (buckets work that way).
    pub fn delete(&self, name: &str) -> Result<()> {
        check_name(&self.location, name)?;
        let target = self.location.describe(name);
        match &self.backend {
            Backend::Local(dir) => {
                let path = dir.join(name);
                match std::fs::remove_file(&path) {
                    Ok(()) => fsutil::sync_dir(dir),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(Error::io("cannot delete", &path, e)),
                }
            }
            Backend::Cloud {
                store,
                prefix,
                runtime,
            } => runtime
                .block_on(store.delete(&prefix.clone().join(name)))
                .map_err(|e| map_store_error(e, &self.location, "delete", &target)),
        }
    }
}

fn list_dir(dir: &std::path::Path) -> Result<Vec<Entry>> {
    let read = std::fs::read_dir(dir).map_err(|e| Error::io("cannot list", dir, e))?;
    let mut entries = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| Error::io("cannot list", dir, e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if name.ends_with(".part") || name.ends_with(".tmp") {
            continue;
        }
        let meta = std::fs::metadata(entry.path())
            .map_err(|e| Error::io("cannot stat", &entry.path(), e))?;
        if !meta.is_file() {
            continue;
        }
        entries.push(Entry {
            name,
            size: meta.len(),
            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        });
    }
    Ok(entries)
}

/// A blocking `Read` over an object's byte stream.
struct ObjectReader {
    stream: BoxStream<'static, object_store::Result<bytes::Bytes>>,
    runtime: Arc<Runtime>,
    location: Location,
    target: String,
    chunk: bytes::Bytes,
    expected: u64,
    received: u64,
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            match self.runtime.block_on(self.stream.next()) {
                None if self.received == self.expected => return Ok(0),
                None => {
                    return Err(into_io(Error::general(format!(
                        "download of {} ended after {} of {} bytes; try again",
                        self.target, self.received, self.expected
                    ))));
                }
                Some(Ok(chunk)) => {
                    self.received += chunk.len() as u64;
                    self.chunk = chunk;
                }
                Some(Err(e)) => {
                    let err = map_store_error(e, &self.location, "download", &self.target);
                    return Err(into_io(err));
                }
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}
