//! What a reading command was given as its snapshot — a file, `file://`, an object URL, or a
//! directory/bucket with `--latest` — opened as a [`SnapshotSource`]. Encrypted (age) and
//! compressed (zstd) files are recognised by their first bytes and streamed, in one pass, into
//! an unnamed 0600 temp file: nothing is left behind by a signal, a crash or SIGKILL.

use std::io::{Read, Write};
use std::path::PathBuf;

use super::SnapshotSource;
use crate::backup::manifest;
use crate::backup::progress::{self, Progress};
use crate::location::{Decryptor, Location, LocationOptions, Store, error_from_io, is_age};
use crate::{Error, Result, log};

/// First bytes of a zstd frame.
pub(crate) const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// How to reach and unlock snapshots: the CLI fills it from `--s3-*`, `--identity`, `--latest`.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    pub location: LocationOptions,
    /// `--identity` files (else `REVKEEPER_AGE_IDENTITY`).
    pub identities: Vec<PathBuf>,
    /// The argument is a directory or bucket prefix: read its newest snapshot.
    pub latest: bool,
}

/// Where the snapshot is.
enum Found {
    File(PathBuf),
    Object { store: Store, name: String },
}

/// Opens what the user typed as a snapshot.
pub fn open(text: &str, opts: &OpenOptions) -> Result<SnapshotSource> {
    match find(text, opts)? {
        Found::File(path) => SnapshotSource::open_with(&path, opts),
        Found::Object { store, name } => {
            let shown = store.location().describe(&name);
            let reader = store.open_read(&name)?;
            let reader = Box::new(download_progress(&store, &name).wrap_read(reader));
            let file = unpack(reader, &shown, opts)?;
            SnapshotSource::from_file(&file, &shown)
        }
    }
}

/// A bar over the bytes read from the object (its size from a listing, else a spinner); nothing
/// unless stderr is a terminal, so a cron job never pays for the listing.
fn download_progress(store: &Store, name: &str) -> Progress {
    if !progress::on_terminal() {
        return Progress::new(false);
    }
    let size = store
        .list(name)
        .ok()
        .and_then(|entries| entries.into_iter().find(|e| e.name == name))
        .map(|e| e.size);
    Progress::download("download", size)
}

/// [`open`] for a reading command: warns once when the bytes cannot be proven intact.
pub fn open_for_reading(text: &str, opts: &OpenOptions) -> Result<SnapshotSource> {
    let source = open(text, opts)?;
    source.warn_if_unproven();
    Ok(source)
}

fn find(text: &str, opts: &OpenOptions) -> Result<Found> {
    let location = Location::parse(text)?;
    if opts.latest {
        let store = location.open(&opts.location)?;
        let entry = manifest::latest(&store)?;
        log::info(
            "reading the newest snapshot of the location (--latest)",
            &[
                ("snapshot", serde_json::json!(entry.path)),
                ("revision", serde_json::json!(entry.manifest.revision)),
                ("taken", serde_json::json!(entry.manifest.started_at)),
            ],
        );
        return Ok(match location {
            Location::Local(dir) => Found::File(dir.join(entry.snapshot_name)),
            _ => Found::Object {
                store,
                name: entry.snapshot_name,
            },
        });
    }
    match location {
        Location::Local(path) => {
            if path.is_dir() {
                return Err(Error::invalid(format!(
                    "snapshot {} is not a regular file (a directory); name a snapshot file in it, or add --latest for its newest snapshot",
                    path.display()
                )));
            }
            Ok(Found::File(path))
        }
        cloud => {
            let (parent, name) = cloud.split_object().ok_or_else(|| {
                Error::invalid(format!(
                    "{cloud} names no object; give s3://BUCKET/PREFIX/FILE, or add --latest for the newest snapshot under it"
                ))
            })?;
            Ok(Found::Object {
                store: parent.open(&opts.location)?,
                name,
            })
        }
    }
}

/// Whether a local file needs unpacking (age or zstd) before it can be read in place.
pub(crate) fn needs_unpacking(head: &[u8]) -> bool {
    is_age(head) || head.starts_with(&ZSTD_MAGIC)
}

/// Streams `input` — age-encrypted or not, zstd-compressed or not — into an unnamed temp file
/// in `$TMPDIR` (0600 and without a name, so never left behind) and returns it.
pub(crate) fn unpack(
    input: Box<dyn Read + Send>,
    shown: &str,
    opts: &OpenOptions,
) -> Result<std::fs::File> {
    let mut input = std::io::BufReader::with_capacity(1 << 20, input);
    let head = peek(&mut input, shown)?;
    let plain: Box<dyn Read> = if is_age(&head) {
        let decryptor =
            Decryptor::from_args(&opts.identities)?.ok_or_else(|| Decryptor::missing(shown))?;
        let mut clear = std::io::BufReader::with_capacity(1 << 20, decryptor.wrap(input, shown)?);
        let inner = peek(&mut clear, shown)?;
        if inner.starts_with(&ZSTD_MAGIC) {
            Box::new(zstd_reader(clear, shown)?)
        } else {
            Box::new(clear)
        }
    } else if head.starts_with(&ZSTD_MAGIC) {
        Box::new(zstd_reader(input, shown)?)
    } else {
        Box::new(input)
    };
    copy_to_temp(plain, shown)
}

fn peek(input: &mut impl std::io::BufRead, shown: &str) -> Result<Vec<u8>> {
    let buf = input.fill_buf().map_err(|e| error_from_io(e, shown))?;
    Ok(buf[..buf.len().min(64)].to_vec())
}

fn zstd_reader<R: std::io::BufRead>(input: R, shown: &str) -> Result<zstd::Decoder<'static, R>> {
    zstd::Decoder::with_buffer(input)
        .map_err(|e| Error::invalid(format!("cannot decompress {shown}: {e}")))
}

fn copy_to_temp(mut plain: Box<dyn Read>, shown: &str) -> Result<std::fs::File> {
    let tmp_dir = std::env::temp_dir();
    let no_room = |e: std::io::Error| {
        Error::general(format!(
            "cannot write the readable copy of {shown} in {}: {e} (set TMPDIR to a roomier place)",
            tmp_dir.display()
        ))
    };
    let mut tmp = tempfile::tempfile_in(&tmp_dir).map_err(no_room)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match plain.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if e.get_ref().is_some_and(|i| i.is::<Error>()) => {
                return Err(error_from_io(e, shown));
            }
            Err(e) => {
                return Err(Error::invalid(format!(
                    "cannot read {shown}: {e} (the file is truncated or damaged)"
                )));
            }
        };
        tmp.write_all(&buf[..n]).map_err(no_room)?;
    }
    tmp.flush().map_err(no_room)?;
    Ok(tmp)
}
