//! Writes a fresh, compact bbolt file in one pass (`docs/format-bbolt.md#writer`), as `revkeeper
//! snapshot restore` needs: buckets and keys arrive in ascending order, and each page is written
//! out as soon as its content is known, so memory stays proportional to the height of the tree, not
//! to the data.
//!
//! The layout is the one bbolt itself gives a single transaction that loads sorted keys with
//! `FillPercent = 1.0` (what `bbolt compact` sets): nodes split into pages by bbolt's `splitTwo`
//! rule, small buckets stored inline (`docs/format-bbolt.md#buckets`), big nodes on overflow pages.
//! Page ids are allocated in writing order after the two metas and the optional empty freelist
//! page; the metas are written last, so an interrupted write leaves no valid db behind.

mod node;
mod tree;

#[cfg(test)]
mod test_walker;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use super::meta::{MAGIC, Meta, VERSION};
use super::page::{
    BUCKET_HEADER_SIZE, BUCKET_LEAF_FLAG, FLAG_FREELIST, PGID_NO_FREELIST, PageHeader, Pgid,
};
use tree::{PageSink, TreeBuilder};

/// bbolt's `MaxKeySize`; bucket names are keys of the root bucket and share it.
pub const MAX_KEY_SIZE: usize = 32768;
/// bbolt's `MaxValueSize`.
pub const MAX_VALUE_SIZE: usize = (1 << 31) - 2;

/// Output buffer size: large sequential writes, few syscalls.
const WRITE_BUFFER: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriterOptions {
    /// Page size in bytes. Keep the source db's (4096 on x86_64 Linux, 16384 on Apple silicon);
    /// a power of two from 1024 to 1 MiB.
    pub page_size: u32,
    /// `true`: an empty freelist page at pgid 2, as bbolt writes by default. `false`: no freelist
    /// page and `meta.freelist = u64::MAX` ("not synced"), as etcd writes on Linux.
    pub freelist_page: bool,
    /// Transaction id of the newer meta, stored in page `txid % 2`; the other meta gets
    /// `txid - 1`. At least 1.
    pub txid: u64,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            page_size: 4096,
            freelist_page: true,
            txid: 2,
        }
    }
}

/// Streams a bbolt db to `W`: [`DbWriter::begin_bucket`] for each top-level bucket in ascending
/// name order, [`DbWriter::put`] for its keys in ascending order, then [`DbWriter::finish`].
///
/// Order violations, empty keys and oversize keys or values are `InvalidInput` errors that leave
/// the writer usable. After any other (I/O) error the output is incomplete: drop the writer.
pub struct DbWriter<W: Write + Seek> {
    sink: PageSink<BufWriter<W>>,
    opts: WriterOptions,
    /// Offset of meta page 0 in `W` (where `W` was positioned when the writer was made).
    start: u64,
    /// The root bucket's tree: one entry per finished bucket.
    root: TreeBuilder,
    /// The bucket being filled, named `last_bucket`.
    bucket: Option<OpenBucket>,
    /// Name of the last bucket begun; empty before the first.
    last_bucket: Vec<u8>,
}

struct OpenBucket {
    tree: TreeBuilder,
    /// Last key put; empty before the first.
    last_key: Vec<u8>,
}

impl<W: Write + Seek> DbWriter<W> {
    /// Starts a db at `out`'s current position (normally the start of an empty file).
    pub fn new(mut out: W, opts: WriterOptions) -> io::Result<Self> {
        let page_size = opts.page_size;
        if !page_size.is_power_of_two() || !(1024..=1 << 20).contains(&page_size) {
            return Err(invalid(format!(
                "page size {page_size} is not a power of two from 1024 to 1048576"
            )));
        }
        if opts.txid == 0 {
            return Err(invalid("txid must be at least 1".into()));
        }
        let start = out.stream_position()?;
        let buffered = BufWriter::with_capacity(WRITE_BUFFER, out);
        let mut sink = PageSink::new(buffered, page_size as usize);
        // Placeholders for the two metas, filled in by `finish`.
        sink.write_raw_page(&[])?;
        sink.write_raw_page(&[])?;
        if opts.freelist_page {
            let empty_freelist = PageHeader {
                id: 2,
                flags: FLAG_FREELIST,
                count: 0,
                overflow: 0,
            };
            sink.write_raw_page(&empty_freelist.encode())?;
        }
        Ok(DbWriter {
            sink,
            opts,
            start,
            root: TreeBuilder::new(),
            bucket: None,
            last_bucket: Vec::new(),
        })
    }

    /// Ends the current bucket (if any) and starts a top-level bucket. Names must be strictly
    /// ascending (byte order), non-empty and at most [`MAX_KEY_SIZE`] bytes.
    pub fn begin_bucket(&mut self, name: &[u8]) -> io::Result<()> {
        check_key("bucket name", name)?;
        if name <= self.last_bucket.as_slice() {
            return Err(invalid(format!(
                "bucket {} does not come after bucket {}: names must be strictly ascending",
                show(name),
                show(&self.last_bucket)
            )));
        }
        self.close_bucket()?;
        self.last_bucket.clear();
        self.last_bucket.extend_from_slice(name);
        self.bucket = Some(OpenBucket {
            tree: TreeBuilder::new(),
            last_key: Vec::new(),
        });
        Ok(())
    }

    /// Adds a key to the current bucket. Keys must be strictly ascending (byte order), non-empty
    /// and at most [`MAX_KEY_SIZE`] bytes; values at most [`MAX_VALUE_SIZE`] bytes.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        let Some(bucket) = self.bucket.as_mut() else {
            return Err(invalid("put before begin_bucket".into()));
        };
        check_key("key", key)?;
        if value.len() > MAX_VALUE_SIZE {
            return Err(invalid(format!(
                "value of {} bytes for key {} is over bbolt's limit of {MAX_VALUE_SIZE}",
                value.len(),
                show(key)
            )));
        }
        if key <= bucket.last_key.as_slice() {
            return Err(invalid(format!(
                "key {} does not come after key {} in bucket {}: keys must be strictly ascending",
                show(key),
                show(&bucket.last_key),
                show(&self.last_bucket)
            )));
        }
        bucket.tree.put(&mut self.sink, 0, key, value)?;
        bucket.last_key.clear();
        bucket.last_key.extend_from_slice(key);
        Ok(())
    }

    /// Writes the pending pages, the root bucket and both metas, and returns `W` positioned at
    /// the end of the db (`pgid * page_size` bytes after the start), e.g. to append a checksum.
    pub fn finish(mut self) -> io::Result<W> {
        self.close_bucket()?;
        let DbWriter {
            mut sink,
            opts,
            start,
            root,
            ..
        } = self;
        let root_pgid = root.finish(&mut sink)?;
        let high_water = sink.next_pgid();
        let meta = Meta {
            magic: MAGIC,
            version: VERSION,
            page_size: opts.page_size,
            flags: 0,
            root: root_pgid,
            sequence: 0,
            freelist: if opts.freelist_page {
                2
            } else {
                PGID_NO_FREELIST
            },
            pgid: high_water,
            txid: opts.txid,
            checksum: 0,
        };
        let mut out = sink.into_inner();
        out.seek(SeekFrom::Start(start))?;
        for id in 0..2 {
            let txid = if id == opts.txid % 2 {
                opts.txid
            } else {
                opts.txid - 1
            };
            out.write_all(&Meta { txid, ..meta }.encode_page(id))?;
        }
        let mut out = out.into_inner().map_err(|e| e.into_error())?;
        out.seek(SeekFrom::Start(start + high_water * opts.page_size as u64))?;
        Ok(out)
    }

    /// Adds the open bucket to the root bucket: inline when bbolt would inline it, else as a
    /// header pointing at its root page.
    fn close_bucket(&mut self) -> io::Result<()> {
        let Some(bucket) = self.bucket.take() else {
            return Ok(());
        };
        let value = match bucket.tree.inline_value(self.sink.page_size()) {
            Some(inline) => inline,
            None => bucket_header(bucket.tree.finish(&mut self.sink)?).to_vec(),
        };
        self.root
            .put(&mut self.sink, BUCKET_LEAF_FLAG, &self.last_bucket, &value)
    }
}

/// Writes a whole db to a new file at `path` (replacing any) and syncs it. For tests and small
/// dbs; large ones stream through [`DbWriter`].
pub fn write_db_file(
    path: &Path,
    opts: WriterOptions,
    buckets: impl IntoIterator<Item = (Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>)>,
) -> io::Result<()> {
    let with_path = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let write = || -> io::Result<()> {
        let mut writer = DbWriter::new(File::create(path)?, opts)?;
        for (name, entries) in buckets {
            writer.begin_bucket(&name)?;
            for (key, value) in entries {
                writer.put(&key, &value)?;
            }
        }
        writer.finish()?.sync_all()
    };
    write().map_err(with_path)
}

/// The value of a non-inline bucket: its root page and a zero sequence.
fn bucket_header(root: Pgid) -> [u8; BUCKET_HEADER_SIZE] {
    let mut header = [0; BUCKET_HEADER_SIZE];
    header[..8].copy_from_slice(&root.to_le_bytes());
    header
}

fn check_key(what: &str, key: &[u8]) -> io::Result<()> {
    if key.is_empty() {
        return Err(invalid(format!("empty {what}")));
    }
    if key.len() > MAX_KEY_SIZE {
        return Err(invalid(format!(
            "{what} of {} bytes is over bbolt's limit of {MAX_KEY_SIZE}",
            key.len()
        )));
    }
    Ok(())
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// A key for an error message: quoted, escaped, cut after 64 bytes.
fn show(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(64)];
    let more = if bytes.len() > 64 { "…" } else { "" };
    format!("\"{}\"{more}", shown.escape_ascii())
}
