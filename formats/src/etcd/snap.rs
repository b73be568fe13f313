//! The `.snap` file (`docs/format-restore.md#snap-file`): `snappb.Snapshot{crc, data}` where `data`
//! is a marshaled `raftpb.Snapshot` and `crc` its CRC-32C. A restore's snapshot data is the v2
//! store JSON.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::error::SchemaError;
use super::proto::{FieldReader, put_bytes_field, put_varint_field};
use super::raftpb::Snapshot;

/// `%016x-%016x.snap` of (term, index).
pub fn snap_file_name(term: u64, index: u64) -> String {
    format!("{term:016x}-{index:016x}.snap")
}

/// The (term, index) a `.snap` file name stands for.
pub fn parse_snap_file_name(name: &str) -> Option<(u64, u64)> {
    let stem = name.strip_suffix(".snap")?;
    let (term, index) = stem.split_once('-')?;
    let hex16 = |s: &str| {
        let valid = s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit());
        valid.then(|| u64::from_str_radix(s, 16).ok()).flatten()
    };
    Some((hex16(term)?, hex16(index)?))
}

/// The bytes of a `.snap` file holding `snapshot`.
pub fn encode_snap_file(snapshot: &Snapshot) -> Vec<u8> {
    let data = snapshot.encode();
    let mut out = Vec::with_capacity(data.len() + 16);
    put_varint_field(&mut out, 1, u64::from(crc32c::crc32c(&data)));
    put_bytes_field(&mut out, 2, &data);
    out
}

/// Reads a `.snap` file, checking its CRC as etcd's snapshotter does.
pub fn decode_snap_file(bytes: &[u8]) -> Result<Snapshot, SchemaError> {
    let mut crc = None;
    let mut data: Option<&[u8]> = None;
    let mut r = FieldReader::new("snappb.Snapshot", bytes);
    while let Some((field, value)) = r.next_field()? {
        match field {
            1 => crc = Some(r.expect_varint(field, value)? as u32),
            2 => data = Some(r.expect_bytes(field, value)?),
            _ => {}
        }
    }
    let (Some(crc), Some(data)) = (crc.filter(|c| *c != 0), data.filter(|d| !d.is_empty())) else {
        return Err(SchemaError::Snap("empty snapshot".into()));
    };
    let computed = crc32c::crc32c(data);
    if computed != crc {
        return Err(SchemaError::Snap(format!(
            "crc mismatch: stored {crc:#010x}, computed {computed:#010x}"
        )));
    }
    Snapshot::decode(data)
}

/// Writes `bytes` as `dir/name` with mode 0666 minus the umask (as etcd does: 0644 under the
/// usual umask 022) and syncs it. The file must not exist yet.
pub fn write_snap_file(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let path = dir.join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o666);
    let mut file = options.open(&path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etcd::raftpb::{ConfState, SnapshotMetadata};

    fn sample() -> Snapshot {
        Snapshot {
            data: Some(b"{}".to_vec()),
            metadata: SnapshotMetadata {
                conf_state: ConfState {
                    voters: vec![7],
                    ..ConfState::default()
                },
                index: 3,
                term: 1,
            },
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            snap_file_name(1, 3),
            "0000000000000001-0000000000000003.snap"
        );
        assert_eq!(
            parse_snap_file_name("0000000000000001-00000000000000ff.snap"),
            Some((1, 255))
        );
        for bad in [
            "1-2.snap",
            "0000000000000001-0000000000000003.wal",
            "x000000000000001-0000000000000003.snap",
        ] {
            assert_eq!(parse_snap_file_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trips_and_detects_corruption() {
        let bytes = encode_snap_file(&sample());
        assert_eq!(bytes[0], 0x08);
        assert_eq!(decode_snap_file(&bytes).unwrap(), sample());
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let err = decode_snap_file(&flipped).unwrap_err();
        assert!(err.to_string().contains("crc mismatch"), "{err}");
        assert!(decode_snap_file(&bytes[..bytes.len() - 2]).is_err());
        assert!(decode_snap_file(&[]).is_err());
        assert!(decode_snap_file(&[0x08, 0x01]).is_err());
    }

    #[test]
    fn writes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = encode_snap_file(&sample());
        let path = write_snap_file(dir.path(), &snap_file_name(1, 3), &bytes).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert!(write_snap_file(dir.path(), &snap_file_name(1, 3), &bytes).is_err());
    }
}
