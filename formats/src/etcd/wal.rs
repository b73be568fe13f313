//! etcd's write-ahead log segment format (`docs/format-restore.md#wal`): each record is an 8-byte
//! little-endian length (top byte: 0x80 | pad count when padded), a `walpb.Record`, and zeros up to
//! a multiple of 8. Record CRCs are CRC-32C chained over the data of all records so far.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::error::SchemaError;
use super::raftpb::{Entry, HardState, Metadata, WalRecord, WalSnapshot};

/// `walpb.Record` types.
pub const RECORD_METADATA: i64 = 1;
pub const RECORD_ENTRY: i64 = 2;
pub const RECORD_STATE: i64 = 3;
pub const RECORD_CRC: i64 = 4;
pub const RECORD_SNAPSHOT: i64 = 5;

/// Size etcd preallocates every segment file to.
pub const SEGMENT_SIZE_BYTES: u64 = 64 * 1000 * 1000;

/// `%016x-%016x.wal` of sequence 0, index 0: the only segment a restore writes.
pub const FIRST_SEGMENT_NAME: &str = "0000000000000000-0000000000000000.wal";

/// Bits of the length field that hold the record length.
const LENGTH_MASK: u64 = 0x00FF_FFFF_FFFF_FFFF;

/// Builds a segment's bytes record by record, keeping the CRC chain.
#[derive(Debug)]
pub struct WalEncoder {
    out: Vec<u8>,
    crc: u32,
}

impl WalEncoder {
    /// Starts a segment as `wal.Create` does: a crc record carrying `prev_crc` (0 for the
    /// first segment of a WAL), which also seeds the chain.
    pub fn new(prev_crc: u32) -> WalEncoder {
        let mut encoder = WalEncoder {
            out: Vec::new(),
            crc: prev_crc,
        };
        encoder.append(RECORD_CRC, None);
        encoder
    }

    /// Appends one record. `data` is `None` for a record without data (only crc records).
    pub fn append(&mut self, record_type: i64, data: Option<&[u8]>) {
        if let Some(data) = data {
            self.crc = crc32c::crc32c_append(self.crc, data);
        }
        let record = WalRecord {
            record_type,
            crc: self.crc,
            data: data.map(<[u8]>::to_vec),
        }
        .encode();
        let pad = (8 - record.len() % 8) % 8;
        let mut length = record.len() as u64;
        if pad != 0 {
            length |= (0x80 | pad as u64) << 56;
        }
        self.out.extend_from_slice(&length.to_le_bytes());
        self.out.extend_from_slice(&record);
        self.out.resize(self.out.len() + pad, 0);
    }

    /// The running CRC (what the next segment's crc record would carry).
    pub fn crc(&self) -> u32 {
        self.crc
    }

    /// The segment bytes written so far (without the preallocated zero tail).
    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

/// The records a restore writes (`docs/format-restore.md#wal`): crc, metadata, an empty snapshot,
/// the entries, the hard state, and the snapshot record of the restore point.
pub fn encode_restore_segment(
    metadata: &Metadata,
    entries: &[Entry],
    hard_state: &HardState,
    snapshot: &WalSnapshot,
) -> Vec<u8> {
    let mut encoder = WalEncoder::new(0);
    encoder.append(RECORD_METADATA, Some(&metadata.encode()));
    encoder.append(RECORD_SNAPSHOT, Some(&WalSnapshot::default().encode()));
    for entry in entries {
        encoder.append(RECORD_ENTRY, Some(&entry.encode()));
    }
    encoder.append(RECORD_STATE, Some(&hard_state.encode()));
    encoder.append(RECORD_SNAPSHOT, Some(&snapshot.encode()));
    encoder.finish()
}

/// Writes `segment` as `dir/0000000000000000-0000000000000000.wal`, mode 0600, preallocated
/// to exactly [`SEGMENT_SIZE_BYTES`] as etcd does (so a full disk fails here, with ENOSPC, and
/// not the member once it runs), and syncs it. The file must not exist yet. Returns its path.
pub fn write_first_segment(dir: &Path, segment: &[u8]) -> io::Result<PathBuf> {
    if segment.len() as u64 > SEGMENT_SIZE_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("WAL records ({} bytes) exceed one segment", segment.len()),
        ));
    }
    let path = dir.join(FIRST_SEGMENT_NAME);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path)?;
    preallocate(&file, SEGMENT_SIZE_BYTES)?;
    file.write_all(segment)?;
    file.sync_all()?;
    Ok(path)
}

/// Allocates the first `len` bytes of `file` on disk, extending it, as etcd's
/// `fileutil.Preallocate(f, size, true)`; where the filesystem cannot (EOPNOTSUPP), or off
/// Linux, it only extends the size, as etcd falls back to.
fn preallocate(file: &std::fs::File, len: u64) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let len = libc::off_t::try_from(len).map_err(io::Error::other)?;
        loop {
            // SAFETY: a plain syscall on an open descriptor; no memory is passed.
            if unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, len) } == 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EOPNOTSUPP) => break,
                _ => return Err(e),
            }
        }
    }
    file.set_len(len)
}

/// Reads the framed records of one segment up to its end (a zero length field or fewer than
/// 8 bytes left), checking the CRC chain. The chain is seeded by the segment's crc records.
pub fn decode_records(segment: &[u8]) -> Result<Vec<WalRecord>, SchemaError> {
    let mut records = Vec::new();
    let mut crc: u32 = 0;
    let mut offset = 0usize;
    while let Some(field) = segment.get(offset..offset + 8) {
        let length = u64::from_le_bytes(field.try_into().expect("8 bytes"));
        if length == 0 {
            break;
        }
        let fail = |reason: String| SchemaError::Wal { offset, reason };
        let record_len = length & LENGTH_MASK;
        let pad = if (length as i64) < 0 {
            (length >> 56) & 7
        } else {
            0
        };
        let start = offset + 8;
        let end = usize::try_from(record_len)
            .ok()
            .and_then(|len| start.checked_add(len))
            .filter(|end| end.saturating_add(pad as usize) <= segment.len())
            .ok_or_else(|| {
                fail(format!(
                    "length {record_len} (+{pad} padding) runs past the end"
                ))
            })?;
        let record = WalRecord::decode(&segment[start..end]).map_err(|e| fail(e.to_string()))?;
        if record.record_type == RECORD_CRC {
            if crc != 0 && record.crc != crc {
                return Err(fail(format!(
                    "crc record {:#010x} != running {crc:#010x}",
                    record.crc
                )));
            }
            crc = record.crc;
        } else {
            if let Some(data) = &record.data {
                crc = crc32c::crc32c_append(crc, data);
            }
            if record.crc != crc {
                return Err(fail(format!(
                    "crc {:#010x}, computed {crc:#010x}",
                    record.crc
                )));
            }
        }
        records.push(record);
        offset = end + pad as usize;
    }
    Ok(records)
}

/// What a segment says, record by record decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WalContents {
    pub metadata: Option<Metadata>,
    pub entries: Vec<Entry>,
    /// The last state record.
    pub hard_state: Option<HardState>,
    pub snapshots: Vec<WalSnapshot>,
}

/// Decodes a segment's records (see [`decode_records`]) into their messages.
pub fn read_segment(segment: &[u8]) -> Result<WalContents, SchemaError> {
    let mut contents = WalContents::default();
    for record in decode_records(segment)? {
        let data = record.data.as_deref().unwrap_or_default();
        match record.record_type {
            RECORD_METADATA => {
                let metadata = Metadata::decode(data)?;
                if contents.metadata.is_some_and(|m| m != metadata) {
                    return Err(SchemaError::invalid("WAL", "conflicting metadata records"));
                }
                contents.metadata = Some(metadata);
            }
            RECORD_ENTRY => contents.entries.push(Entry::decode(data)?),
            RECORD_STATE => contents.hard_state = Some(HardState::decode(data)?),
            RECORD_SNAPSHOT => contents.snapshots.push(WalSnapshot::decode(data)?),
            RECORD_CRC => {}
            other => {
                return Err(SchemaError::invalid(
                    "WAL",
                    format!("unknown record type {other}"),
                ));
            }
        }
    }
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_record_frame_matches_spec() {
        let bytes = WalEncoder::new(0).finish();
        assert_eq!(
            bytes,
            [
                4, 0, 0, 0, 0, 0, 0, 0x84, 0x08, 0x04, 0x10, 0x00, 0, 0, 0, 0
            ]
        );
    }

    #[test]
    fn frames_are_8_byte_aligned_and_decode() {
        let mut encoder = WalEncoder::new(0);
        for len in 0..20 {
            encoder.append(RECORD_ENTRY, Some(&vec![len as u8; len]));
        }
        let crc = encoder.crc();
        let bytes = encoder.finish();
        assert_eq!(bytes.len() % 8, 0);
        let records = decode_records(&bytes).unwrap();
        assert_eq!(records.len(), 21);
        assert_eq!(records[20].data.as_deref(), Some(&[19u8; 19][..]));
        assert_eq!(records[20].crc, crc);
        let mut padded = bytes.clone();
        padded.resize(bytes.len() + 4096, 0);
        assert_eq!(decode_records(&padded).unwrap(), records);
    }

    #[test]
    fn corruption_is_detected() {
        let mut encoder = WalEncoder::new(0);
        encoder.append(RECORD_ENTRY, Some(b"hello"));
        let bytes = encoder.finish();
        let mut flipped = bytes.clone();
        let last = bytes.len() - 4;
        flipped[last] ^= 1;
        let err = decode_records(&flipped).unwrap_err();
        assert!(err.to_string().contains("crc"), "{err}");
        assert!(decode_records(&bytes[..bytes.len() - 1]).is_err());
        let mut huge = bytes.clone();
        huge[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode_records(&huge).is_err());
    }

    #[test]
    fn a_second_segment_continues_the_chain() {
        let mut first = WalEncoder::new(0);
        first.append(RECORD_ENTRY, Some(b"a"));
        let mut second = WalEncoder::new(first.crc());
        second.append(RECORD_ENTRY, Some(b"b"));
        let records = decode_records(&second.finish()).unwrap();
        assert_eq!(records[1].crc, crc32c::crc32c(b"ab"));
    }

    #[test]
    fn unknown_record_types_are_errors() {
        let mut encoder = WalEncoder::new(0);
        encoder.append(9, Some(b""));
        assert!(read_segment(&encoder.finish()).is_err());
    }

    #[test]
    fn writes_a_preallocated_file() {
        let dir = tempfile::tempdir().unwrap();
        let segment = WalEncoder::new(0).finish();
        let path = write_first_segment(dir.path(), &segment).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.len(), SEGMENT_SIZE_BYTES);
        #[cfg(unix)]
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
            0o600
        );
        assert!(write_first_segment(dir.path(), &segment).is_err());
        let written = std::fs::read(&path).unwrap();
        assert_eq!(&written[..segment.len()], &segment[..]);
        assert!(written[segment.len()..].iter().all(|&b| b == 0));
    }

    /// etcdutl allocates the segment's blocks (a sparse file would fail the running member on
    /// a full disk instead of the restore).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_segment_blocks_are_allocated_not_sparse() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = write_first_segment(dir.path(), &WalEncoder::new(0).finish()).unwrap();
        let allocated = std::fs::metadata(&path).unwrap().blocks() * 512;
        assert!(
            allocated >= SEGMENT_SIZE_BYTES,
            "{allocated} of {SEGMENT_SIZE_BYTES} bytes allocated"
        );
    }
}
