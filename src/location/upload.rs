//! [`Upload`]: a `Write` into a new object that becomes visible only when [`Upload::finish`]
//! returns Ok. Local: a 0600 `.part` file, fsync, rename, directory fsync. Cloud: a multipart
//! upload with a bounded number of parts in flight, aborted on error, on [`Upload::abort`] and on
//! drop.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use tokio::runtime::Runtime;

use super::Location;
use super::errors::{into_io, map_store_error};
use crate::backup::fsutil::{self, PartFile};
use crate::interrupt::{self, RemoveOnSignal};
use crate::{Error, Result};

/// The size of one part of a multipart upload (S3 wants ≥ 5 MiB but the last).
pub const PART_SIZE: usize = 8 << 20;
/// Parts uploading at once; memory stays below `(PARTS_IN_FLIGHT + 1) * PART_SIZE`.
pub const PARTS_IN_FLIGHT: usize = 4;

/// Where a cloud upload goes.
pub(crate) struct CloudTarget {
    pub store: Arc<dyn ObjectStore>,
    pub runtime: Arc<Runtime>,
    pub location: Location,
    pub key: ObjectPath,
    pub prefix: ObjectPath,
}

pub struct Upload {
    target: String,
    written: u64,
    state: State,
}

enum State {
    Local {
        part: PartFile,
        file: File,
        dest: PathBuf,
        replace: bool,
        _on_signal: RemoveOnSignal,
    },
    Cloud {
        writer: WriteMultipart,
        runtime: Arc<Runtime>,
        location: Location,
        /// Where the object is being uploaded, and the prefix its final name goes under.
        store: Arc<dyn ObjectStore>,
        key: ObjectPath,
        prefix: ObjectPath,
        /// The first error: every later write and `finish` return it.
        failed: Option<Error>,
    },
    Done,
}

impl Upload {
    pub(crate) fn local(dest: PathBuf, replace: bool) -> Result<Upload> {
        let part_path = fsutil::with_suffix(&dest, ".part");
        let (part, file) = PartFile::create(&part_path)?;
        let on_signal = interrupt::remove_on_signal(&part_path);
        Ok(Upload {
            target: dest.display().to_string(),
            written: 0,
            state: State::Local {
                part,
                file,
                dest,
                replace,
                _on_signal: on_signal,
            },
        })
    }

    pub(crate) fn cloud(to: CloudTarget, writer: WriteMultipart, target: String) -> Upload {
        let CloudTarget {
            store,
            runtime,
            location,
            key,
            prefix,
        } = to;
        Upload {
            target,
            written: 0,
            state: State::Cloud {
                writer,
                runtime,
                location,
                store,
                key,
                prefix,
                failed: None,
            },
        }
    }

    /// The object being written, as messages name it.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Bytes accepted so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Completes the object: only now does it appear under its name. On error nothing is left.
    pub fn finish(self) -> Result<u64> {
        self.finish_as(None)
    }

    /// Completes an upload started by [`super::Store::put_pending`] under its final `name`
    /// (known only at the end, such as a snapshot's revision). A bucket gets the object under
    /// the pending name first, then a server-side copy to `name`; the pending object is deleted
    /// in both outcomes.
    pub fn finish_named(self, name: &str) -> Result<u64> {
        self.finish_as(Some(name))
    }

    fn finish_as(mut self, name: Option<&str>) -> Result<u64> {
        let written = self.written;
        match std::mem::replace(&mut self.state, State::Done) {
            State::Local {
                part,
                file,
                dest,
                replace,
                _on_signal,
            } => {
                let dest = match name {
                    Some(n) => fsutil::parent_dir(&dest).join(n),
                    None => dest,
                };
                file.sync_all()
                    .map_err(|e| Error::io("cannot fsync", part.path(), e))?;
                drop(file);
                interrupt::critical(|| part.commit(&dest, replace))?;
                self.target = dest.display().to_string();
            }
            State::Cloud {
                writer,
                runtime,
                location,
                store,
                key,
                prefix,
                failed,
            } => {
                if let Some(err) = failed {
                    let _ = runtime.block_on(abort(writer));
                    return Err(err);
                }
                runtime
                    .block_on(writer.finish())
                    .map_err(|e| map_store_error(e, &location, "upload", &self.target))?;
                if let Some(name) = name {
                    let to = prefix.clone().join(name);
                    let target = location.describe(name);
                    let copied = runtime.block_on(store.copy(&key, &to));
                    let removed = runtime.block_on(store.delete(&key));
                    copied.map_err(|e| map_store_error(e, &location, "copy into", &target))?;
                    removed.map_err(|e| map_store_error(e, &location, "delete", &self.target))?;
                    self.target = target;
                }
            }
            State::Done => unreachable!("finish consumes the upload"),
        }
        Ok(written)
    }

    /// Gives up: the `.part` file is removed, the multipart upload aborted (its parts deleted).
    pub fn abort(mut self) -> Result<()> {
        self.abort_in_place()
    }

    fn abort_in_place(&mut self) -> Result<()> {
        match std::mem::replace(&mut self.state, State::Done) {
            // PartFile removes itself when dropped.
            State::Local { .. } | State::Done => Ok(()),
            State::Cloud {
                writer,
                runtime,
                location,
                ..
            } => runtime
                .block_on(abort(writer))
                .map_err(|e| map_store_error(e, &location, "abort the upload of", &self.target)),
        }
    }

    fn write_cloud(&mut self, buf: &[u8]) -> Result<()> {
        let State::Cloud {
            writer,
            runtime,
            location,
            failed,
            ..
        } = &mut self.state
        else {
            unreachable!()
        };
        if let Some(err) = failed {
            return Err(Error::new(err.kind, err.message.clone()));
        }
        // One part at a time, waiting for room first: memory stays bounded however large `buf`.
        for chunk in buf.chunks(PART_SIZE) {
            if let Err(e) = runtime.block_on(writer.wait_for_capacity(PARTS_IN_FLIGHT)) {
                let err = map_store_error(e, location, "upload", &self.target);
                *failed = Some(Error::new(err.kind, err.message.clone()));
                return Err(err);
            }
            // A full part is spawned onto the runtime right away.
            let _in_runtime = runtime.enter();
            writer.write(chunk);
        }
        Ok(())
    }
}

/// Lets the parts in flight end before aborting: a part cut off mid-request can leave the
/// server's temp file behind (s3s-fs does), while a finished part is deleted by the abort.
async fn abort(mut writer: WriteMultipart) -> object_store::Result<()> {
    let _ = writer.wait_for_capacity(0).await;
    writer.abort().await
}

impl Write for Upload {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match &mut self.state {
            State::Local { file, .. } => file.write(buf)?,
            State::Cloud { .. } => {
                self.write_cloud(buf).map_err(into_io)?;
                buf.len()
            }
            State::Done => return Err(io::Error::other("upload already finished")),
        };
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Local { file, .. } => file.flush(),
            // Parts go out as they fill; `finish` sends the rest.
            _ => Ok(()),
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        let _ = self.abort_in_place();
    }
}
