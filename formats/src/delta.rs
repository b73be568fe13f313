//! revkeeper's delta segment: the watch events of a contiguous revision range, in order, with the
//! lease table seen at its end. The plain bytes (before zstd and age) are described in
//! `docs/format-delta.md`; this module encodes and decodes them, with nothing else.
//!
//! ```text
//! "RKDELTA\0" u32 version=1 u64 cluster_id i64 first_revision i64 last_revision
//! records, each a tag byte:
//!   1 event: u8 kind (0 put, 1 delete) i64 create_revision i64 mod_revision i64 version
//!            i64 lease i64 received_unix_ms u32 key_len key u32 value_len value
//!   2 lease: i64 id i64 granted_ttl i64 remaining_ttl
//!   0xff footer: u64 events u64 leases [32] sha256 of every byte before this tag
//! ```
//! Integers are little-endian. Events of one revision are consecutive and in the order etcd
//! applied them, so their sub-revisions are their positions within the revision.

use sha2::{Digest, Sha256};

pub const MAGIC: &[u8; 8] = b"RKDELTA\0";
pub const VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8 + 8 + 8;
const TAG_EVENT: u8 = 1;
const TAG_LEASE: u8 = 2;
const TAG_FOOTER: u8 = 0xff;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Put,
    Delete,
}

/// One watch event, as etcd reported it (a delete carries the key and its revision only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    pub lease: i64,
    /// When the follower received it (Unix milliseconds): what `--to-time` goes by.
    pub received_unix_ms: i64,
}

/// A lease alive when the segment was cut (it was in `LeaseLeases`), with its TTLs as
/// `LeaseTimeToLive` reported them when the follower last read it (at most ~10 minutes earlier;
/// the granted TTL never changes, `remaining_ttl` is informational and restores do not use it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseRecord {
    pub id: i64,
    pub granted_ttl: i64,
    pub remaining_ttl: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub cluster_id: u64,
    pub first_revision: i64,
    pub last_revision: i64,
    pub events: Vec<Event>,
    pub leases: Vec<LeaseRecord>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeltaError {
    #[error("not a revkeeper delta segment (bad magic)")]
    Magic,
    #[error("delta segment version {0} is newer than this revkeeper reads ({VERSION}); upgrade")]
    Version(u32),
    #[error("delta segment truncated at byte {0}")]
    Truncated(usize),
    #[error("unknown record tag {tag:#04x} at byte {at}")]
    Tag { tag: u8, at: usize },
    #[error("checksum mismatch: the segment is damaged")]
    Checksum,
    #[error(
        "footer counts {events} events and {leases} leases, the segment holds {got_events} and {got_leases}"
    )]
    Counts {
        events: u64,
        leases: u64,
        got_events: u64,
        got_leases: u64,
    },
    #[error("{0}")]
    Order(String),
    #[error("{0} bytes after the footer")]
    Trailing(usize),
}

impl Segment {
    /// The plain bytes of the segment (checks nothing: see [`Segment::check`]).
    pub fn encode(&self) -> Vec<u8> {
        let size: usize = self
            .events
            .iter()
            .map(|e| 1 + 1 + 6 * 8 + 8 + e.key.len() + e.value.len())
            .sum::<usize>()
            + self.leases.len() * 25
            + HEADER_LEN
            + 1
            + 16
            + 32;
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&self.cluster_id.to_le_bytes());
        out.extend_from_slice(&self.first_revision.to_le_bytes());
        out.extend_from_slice(&self.last_revision.to_le_bytes());
        for e in &self.events {
            out.push(TAG_EVENT);
            out.push(match e.kind {
                EventKind::Put => 0,
                EventKind::Delete => 1,
            });
            for n in [
                e.create_revision,
                e.mod_revision,
                e.version,
                e.lease,
                e.received_unix_ms,
            ] {
                out.extend_from_slice(&n.to_le_bytes());
            }
            for bytes in [&e.key, &e.value] {
                out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
                out.extend_from_slice(bytes);
            }
        }
        for l in &self.leases {
            out.push(TAG_LEASE);
            for n in [l.id, l.granted_ttl, l.remaining_ttl] {
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
        let digest = Sha256::digest(&out);
        out.push(TAG_FOOTER);
        out.extend_from_slice(&(self.events.len() as u64).to_le_bytes());
        out.extend_from_slice(&(self.leases.len() as u64).to_le_bytes());
        out.extend_from_slice(&digest);
        out
    }

    /// Decodes and checks a segment: magic, version, checksum, counts, and the order rules of
    /// [`Segment::check`].
    pub fn decode(bytes: &[u8]) -> Result<Segment, DeltaError> {
        let mut r = Reader { bytes, at: 0 };
        let (cluster_id, first_revision, last_revision) = r.header()?;
        let mut events = Vec::new();
        let mut leases = Vec::new();
        loop {
            let at = r.at;
            match r.take(1)?[0] {
                TAG_EVENT => {
                    let kind = match r.take(1)?[0] {
                        0 => EventKind::Put,
                        1 => EventKind::Delete,
                        tag => return Err(DeltaError::Tag { tag, at: at + 1 }),
                    };
                    let (create_revision, mod_revision, version) = (r.i64()?, r.i64()?, r.i64()?);
                    let (lease, received_unix_ms) = (r.i64()?, r.i64()?);
                    let key = r.bytes()?.to_vec();
                    let value = r.bytes()?.to_vec();
                    events.push(Event {
                        kind,
                        key,
                        value,
                        create_revision,
                        mod_revision,
                        version,
                        lease,
                        received_unix_ms,
                    });
                }
                TAG_LEASE => leases.push(LeaseRecord {
                    id: r.i64()?,
                    granted_ttl: r.i64()?,
                    remaining_ttl: r.i64()?,
                }),
                TAG_FOOTER => {
                    let (n_events, n_leases) = (
                        u64::from_le_bytes(r.array()?),
                        u64::from_le_bytes(r.array()?),
                    );
                    let digest: [u8; 32] = r.array()?;
                    if Sha256::digest(&bytes[..at])[..] != digest {
                        return Err(DeltaError::Checksum);
                    }
                    if n_events != events.len() as u64 || n_leases != leases.len() as u64 {
                        return Err(DeltaError::Counts {
                            events: n_events,
                            leases: n_leases,
                            got_events: events.len() as u64,
                            got_leases: leases.len() as u64,
                        });
                    }
                    if r.at != bytes.len() {
                        return Err(DeltaError::Trailing(bytes.len() - r.at));
                    }
                    break;
                }
                tag => return Err(DeltaError::Tag { tag, at }),
            }
        }
        let segment = Segment {
            cluster_id,
            first_revision,
            last_revision,
            events,
            leases,
        };
        segment.check()?;
        Ok(segment)
    }

    /// The order rules: `first_revision <= last_revision`, every event inside the range,
    /// revisions never decreasing, a put's create revision not after its mod revision.
    pub fn check(&self) -> Result<(), DeltaError> {
        let bad = |why: String| Err(DeltaError::Order(why));
        if self.first_revision < 1 || self.first_revision > self.last_revision {
            return bad(format!(
                "revision range {}–{} is empty or negative",
                self.first_revision, self.last_revision
            ));
        }
        let mut previous = self.first_revision;
        for e in &self.events {
            if e.mod_revision < previous || e.mod_revision > self.last_revision {
                return bad(format!(
                    "event at revision {} out of order or outside {}–{}",
                    e.mod_revision, self.first_revision, self.last_revision
                ));
            }
            if e.kind == EventKind::Put && (e.create_revision > e.mod_revision || e.version < 1) {
                return bad(format!(
                    "put at revision {} has create revision {} and version {}",
                    e.mod_revision, e.create_revision, e.version
                ));
            }
            previous = e.mod_revision;
        }
        Ok(())
    }
}

/// The header fields, read without decoding the rest (for listings).
pub fn peek_header(bytes: &[u8]) -> Result<(u64, i64, i64), DeltaError> {
    Reader { bytes, at: 0 }.header()
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DeltaError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or(DeltaError::Truncated(self.at))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DeltaError> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }
    fn i64(&mut self) -> Result<i64, DeltaError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    /// Magic and version checked; cluster id, first and last revision.
    fn header(&mut self) -> Result<(u64, i64, i64), DeltaError> {
        if self.take(8)? != MAGIC {
            return Err(DeltaError::Magic);
        }
        let version = u32::from_le_bytes(self.array()?);
        if version != VERSION {
            return Err(DeltaError::Version(version));
        }
        Ok((u64::from_le_bytes(self.array()?), self.i64()?, self.i64()?))
    }

    fn bytes(&mut self) -> Result<&'a [u8], DeltaError> {
        let n = u32::from_le_bytes(self.array()?) as usize;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Segment {
        let put = |key: &str, rev: i64, create: i64, version: i64| Event {
            kind: EventKind::Put,
            key: key.as_bytes().to_vec(),
            value: format!("v{rev}").into_bytes(),
            create_revision: create,
            mod_revision: rev,
            version,
            lease: 0,
            received_unix_ms: 1_764_800_000_000 + rev,
        };
        let mut delete = put("/a", 12, 0, 0);
        delete.kind = EventKind::Delete;
        delete.value.clear();
        Segment {
            cluster_id: 0xcdf8_1819_4e3a_8c32,
            first_revision: 10,
            last_revision: 13,
            events: vec![
                put("/a", 10, 10, 1),
                put("/b", 11, 11, 1),
                put("/c", 11, 11, 1),
                delete,
                put("/a", 13, 13, 1),
            ],
            leases: vec![LeaseRecord {
                id: 0x694d_7a0b_1c2d_3e4f,
                granted_ttl: 60,
                remaining_ttl: 42,
            }],
        }
    }

    #[test]
    fn round_trips_and_peeks() {
        let s = sample();
        let bytes = s.encode();
        assert_eq!(Segment::decode(&bytes).unwrap(), s);
        assert_eq!(peek_header(&bytes).unwrap(), (s.cluster_id, 10, 13));
    }

    #[test]
    fn every_damage_is_an_error() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(Segment::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            assert!(Segment::decode(&b).is_err(), "flip at {i}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(Segment::decode(&longer), Err(DeltaError::Trailing(1)));
    }

    /// Seeds for the `delta_segment` fuzz target:
    /// `REVKEEPER_FUZZ_SEEDS=DIR cargo test -p revkeeper-formats --lib delta_seeds -- --ignored`.
    #[test]
    #[ignore = "writes fuzz seeds; run by hand"]
    fn write_delta_seeds() {
        let dir = std::env::var("REVKEEPER_FUZZ_SEEDS").expect("REVKEEPER_FUZZ_SEEDS=DIR");
        let mut empty_leases = sample();
        empty_leases.leases.clear();
        for (name, s) in [("sample", sample()), ("no-leases", empty_leases)] {
            std::fs::write(format!("{dir}/{name}"), s.encode()).unwrap();
        }
    }

    #[test]
    fn order_rules() {
        let mut s = sample();
        s.events.swap(0, 1);
        assert!(matches!(s.check(), Err(DeltaError::Order(_))));
        let mut s = sample();
        s.last_revision = 12;
        assert!(s.check().is_err());
        let mut s = sample();
        s.first_revision = 14;
        assert!(s.check().is_err());
    }
}
