//! MVCC revisions and the `key` bucket's revision keys (`docs/format-etcd.md#revision-keys`):
//! 8-byte big-endian `main`, `'_'`, 8-byte big-endian `sub`, and a trailing `'t'` for tombstones.
//! Big-endian makes byte order equal revision order.

use super::error::SchemaError;

/// Length of a revision key without the tombstone marker.
pub const REVISION_BYTES: usize = 17;
/// Length of a tombstone revision key.
pub const TOMBSTONE_REVISION_BYTES: usize = 18;
const SEPARATOR: u8 = b'_';
const TOMBSTONE_MARKER: u8 = b't';

/// A revision: `main` is the transaction's revision, `sub` the change's index within it.
/// Orders by `main`, then `sub`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Revision {
    pub main: i64,
    pub sub: i64,
}

impl Revision {
    pub fn new(main: i64, sub: i64) -> Revision {
        Revision { main, sub }
    }

    /// The 17-byte form, as used for `key` bucket keys and `meta` compaction revisions.
    pub fn to_bytes(&self) -> [u8; REVISION_BYTES] {
        let mut out = [0u8; REVISION_BYTES];
        out[..8].copy_from_slice(&self.main.to_be_bytes());
        out[8] = SEPARATOR;
        out[9..].copy_from_slice(&self.sub.to_be_bytes());
        out
    }
}

impl std::fmt::Display for Revision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}_{}", self.main, self.sub)
    }
}

/// A `key` bucket key: a revision, and whether it records a deletion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RevisionKey {
    pub rev: Revision,
    pub tombstone: bool,
}

impl RevisionKey {
    /// Parses a `key` bucket key with the checks of etcd 3.6's `BytesToBucketKey`: 17 or 18
    /// bytes, `'_'` at byte 8, `'t'` at byte 17 if present, `main` and `sub` non-negative.
    pub fn parse(bytes: &[u8]) -> Result<RevisionKey, SchemaError> {
        let bad = |reason: String| SchemaError::invalid("revision key", reason);
        let tombstone = match bytes.len() {
            REVISION_BYTES => false,
            TOMBSTONE_REVISION_BYTES => true,
            n => return Err(bad(format!("{n} bytes, want 17 or 18"))),
        };
        if bytes[8] != SEPARATOR {
            return Err(bad(format!("byte 8 is {:#04x}, want '_'", bytes[8])));
        }
        if tombstone && bytes[17] != TOMBSTONE_MARKER {
            return Err(bad(format!("byte 17 is {:#04x}, want 't'", bytes[17])));
        }
        let main = i64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"));
        let sub = i64::from_be_bytes(bytes[9..17].try_into().expect("8 bytes"));
        if main < 0 || sub < 0 {
            return Err(bad(format!("negative revision {main}_{sub}")));
        }
        Ok(RevisionKey {
            rev: Revision { main, sub },
            tombstone,
        })
    }

    /// The 17- or 18-byte bucket key.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.rev.to_bytes().to_vec();
        if self.tombstone {
            out.push(TOMBSTONE_MARKER);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_key_round_trips() {
        let bytes = [0, 0, 0, 0, 0, 0, 0, 7, b'_', 0, 0, 0, 0, 0, 0, 0, 0];
        let key = RevisionKey::parse(&bytes).unwrap();
        assert_eq!(key.rev, Revision::new(7, 0));
        assert!(!key.tombstone);
        assert_eq!(key.to_bytes(), bytes);
        assert_eq!(key.rev.to_string(), "7_0");
    }

    #[test]
    fn tombstone_round_trips() {
        let key = RevisionKey {
            rev: Revision::new(1_000_000_011, 3),
            tombstone: true,
        };
        let bytes = key.to_bytes();
        assert_eq!(bytes.len(), 18);
        assert_eq!(&bytes[..8], &[0, 0, 0, 0, 0x3b, 0x9a, 0xca, 0x0b]);
        assert_eq!(bytes[17], b't');
        assert_eq!(RevisionKey::parse(&bytes).unwrap(), key);
    }

    #[test]
    fn byte_order_is_revision_order() {
        let revs = [
            Revision::new(1, 5),
            Revision::new(2, 0),
            Revision::new(2, 1),
            Revision::new(256, 0),
        ];
        for pair in revs.windows(2) {
            assert!(pair[0] < pair[1]);
            assert!(pair[0].to_bytes() < pair[1].to_bytes());
        }
    }

    #[test]
    fn malformed_keys_are_errors() {
        let good = Revision::new(3, 1).to_bytes();
        assert!(RevisionKey::parse(&good[..16]).is_err());
        assert!(RevisionKey::parse(&[]).is_err());
        let mut long = good.to_vec();
        long.extend_from_slice(b"tt");
        assert!(RevisionKey::parse(&long).is_err());

        let mut bad_sep = good;
        bad_sep[8] = b'-';
        assert!(RevisionKey::parse(&bad_sep).is_err());

        let mut bad_marker = good.to_vec();
        bad_marker.push(b'x');
        assert!(RevisionKey::parse(&bad_marker).is_err());

        let negative = Revision::new(-1, 0).to_bytes();
        let err = RevisionKey::parse(&negative).unwrap_err();
        assert!(err.to_string().contains("negative"), "{err}");
        assert!(RevisionKey::parse(&Revision::new(1, -2).to_bytes()).is_err());
    }
}
