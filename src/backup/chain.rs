//! Continuous backups in a location: full snapshots (with manifests) and delta segments (named
//! by cluster and revision range), and the chain a point-in-time restore needs — the newest
//! full snapshot at or below the target and the unbroken run of segments after it.
//! See `docs/format-delta.md`.

use std::io::Read;

use time::OffsetDateTime;

use super::manifest::{self, Entry, FileState};
use crate::location::{Decryptor, Store, error_from_io, is_age};
use crate::{Error, Result};
use revkeeper_formats::delta::Segment;

/// What a segment's name says: `PREFIX-delta-CLUSTER-revFIRST-LAST-TIME.zst[.age]`, with the
/// revisions zero-padded (names sort by cluster, then revision) and the time of its last
/// event in milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentName {
    pub prefix: String,
    /// Hex, as in manifests.
    pub cluster_id: String,
    pub first: i64,
    pub last: i64,
    pub last_time: OffsetDateTime,
    pub encrypted: bool,
}

const MARK: &str = "-delta-";

impl SegmentName {
    pub fn to_name(&self) -> String {
        format!(
            "{}{MARK}{}-rev{:012}-{:012}-{}.zst{}",
            self.prefix,
            self.cluster_id,
            self.first,
            self.last,
            compact_ms(self.last_time),
            if self.encrypted { ".age" } else { "" }
        )
    }

    pub fn parse(name: &str) -> Option<SegmentName> {
        let (prefix, rest) = name.split_once(MARK)?;
        let (rest, encrypted) = match rest.strip_suffix(".age") {
            Some(r) => (r, true),
            None => (rest, false),
        };
        let rest = rest.strip_suffix(".zst")?;
        let mut parts = rest.split('-');
        let cluster_id = parts.next()?.to_string();
        let first = parts.next()?.strip_prefix("rev")?.parse().ok()?;
        let last = parts.next()?.parse().ok()?;
        let last_time = parse_compact_ms(parts.next()?)?;
        if parts.next().is_some() || cluster_id.is_empty() || first > last {
            return None;
        }
        Some(SegmentName {
            prefix: prefix.to_string(),
            cluster_id,
            first,
            last,
            last_time,
            encrypted,
        })
    }
}

fn compact_ms(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default()
}

fn parse_compact_ms(s: &str) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!(
        "[year][month][day]T[hour][minute][second].[subsecond digits:3]Z"
    );
    time::PrimitiveDateTime::parse(s, format)
        .ok()
        .map(|t| t.assume_utc())
}

/// A segment found in a location.
#[derive(Clone, Debug)]
pub struct SegmentEntry {
    pub name: String,
    pub parsed: SegmentName,
    pub size: u64,
}

/// Everything of a location that continuous backups use.
pub struct Contents {
    pub snapshots: Vec<Entry>,
    pub segments: Vec<SegmentEntry>,
}

/// The full snapshots (oldest first, with their manifests; see [`Contents::usable`]) and the
/// segments (by cluster, then revision) of a location.
pub fn scan(store: &Store) -> Result<Contents> {
    let (snapshots, skipped) = manifest::scan(store)?;
    for (path, why) in skipped {
        crate::log::warn(
            "ignoring manifest",
            &[
                ("file", serde_json::json!(path)),
                ("reason", serde_json::json!(why)),
            ],
        );
    }
    let mut segments: Vec<SegmentEntry> = store
        .list("")?
        .into_iter()
        .filter_map(|o| {
            Some(SegmentEntry {
                parsed: SegmentName::parse(&o.name)?,
                name: o.name,
                size: o.size,
            })
        })
        .collect();
    segments.sort_by(|a, b| {
        (&a.parsed.cluster_id, a.parsed.first, a.parsed.last).cmp(&(
            &b.parsed.cluster_id,
            b.parsed.first,
            b.parsed.last,
        ))
    });
    Ok(Contents {
        snapshots,
        segments,
    })
}

/// A maximal run of segments of one cluster whose revisions follow each other.
#[derive(Clone, Debug)]
pub struct Run {
    pub cluster_id: String,
    pub segments: Vec<SegmentEntry>,
}

impl Run {
    pub fn first(&self) -> i64 {
        self.segments[0].parsed.first
    }
    pub fn last(&self) -> i64 {
        self.segments[self.segments.len() - 1].parsed.last
    }
    pub fn last_time(&self) -> OffsetDateTime {
        self.segments[self.segments.len() - 1].parsed.last_time
    }
}

impl Contents {
    /// The full snapshots whose file is there at the size recorded.
    pub fn usable(&self) -> impl Iterator<Item = &Entry> {
        self.snapshots.iter().filter(|e| e.state == FileState::Ok)
    }

    /// The runs of contiguous segments, by cluster and revision.
    pub fn runs(&self) -> Vec<Run> {
        let mut runs: Vec<Run> = Vec::new();
        for s in &self.segments {
            match runs.last_mut() {
                Some(r)
                    if r.cluster_id == s.parsed.cluster_id && r.last() + 1 == s.parsed.first =>
                {
                    r.segments.push(s.clone())
                }
                _ => runs.push(Run {
                    cluster_id: s.parsed.cluster_id.clone(),
                    segments: vec![s.clone()],
                }),
            }
        }
        runs
    }

    /// The restorable window of each cluster: from its oldest full snapshot that a run starts
    /// from (or its oldest snapshot) to the end of the run continuing from its newest one.
    pub fn windows(&self) -> Vec<Window> {
        let mut out = Vec::new();
        let mut clusters: Vec<&str> = self
            .usable()
            .map(|e| e.manifest.cluster_id.as_str())
            .collect();
        clusters.sort();
        clusters.dedup();
        for cluster in clusters {
            let snaps: Vec<&Entry> = self
                .usable()
                .filter(|e| e.manifest.cluster_id == cluster)
                .collect();
            let newest = snaps
                .iter()
                .max_by_key(|e| e.manifest.revision)
                .expect("one snapshot");
            let run = self.runs().into_iter().find(|r| {
                r.cluster_id == cluster
                    && r.first() <= newest.manifest.revision + 1
                    && r.last() >= newest.manifest.revision
            });
            let oldest = snaps
                .iter()
                .min_by_key(|e| e.manifest.revision)
                .expect("one snapshot");
            let (last, last_time) = match &run {
                Some(r) => (r.last(), r.last_time()),
                None => (newest.manifest.revision, newest.started),
            };
            out.push(Window {
                cluster_id: cluster.to_string(),
                first: oldest.manifest.revision,
                first_time: oldest.started,
                last,
                last_time,
                segments: run.map_or(0, |r| r.segments.len()),
            });
        }
        out
    }
}

/// Revisions a location can restore to, for one cluster.
#[derive(Clone, Debug)]
pub struct Window {
    pub cluster_id: String,
    pub first: i64,
    pub first_time: OffsetDateTime,
    pub last: i64,
    pub last_time: OffsetDateTime,
    pub segments: usize,
}

/// What a point-in-time restore aims at.
#[derive(Clone, Copy, Debug)]
pub enum Point {
    Revision(i64),
    Time(OffsetDateTime),
    /// The last revision the backups hold.
    Latest,
}

/// The base snapshot and the segments to apply on it, up to `target`.
pub struct Chain {
    pub base: Entry,
    pub segments: Vec<SegmentEntry>,
    pub target: i64,
}

impl Chain {
    /// When the target revision was backed up, at the latest: the last segment's time (the
    /// base snapshot's start without segments).
    pub fn target_time(&self) -> OffsetDateTime {
        self.segments
            .last()
            .map_or(self.base.started, |s| s.parsed.last_time)
    }
}

/// Picks the chain for `point` in the newest cluster of the location (the cluster of its
/// newest full snapshot): verifies that segments follow each other from the base to the target,
/// or names the gap.
pub fn plan(store: &Store, point: Point, decryptor: Option<&Decryptor>) -> Result<Chain> {
    let contents = scan(store)?;
    let location = store.location().to_string();
    let newest = contents
        .usable()
        .max_by_key(|e| (e.started, e.manifest.revision))
        .ok_or_else(|| {
            Error::invalid(format!(
                "{location} holds no full snapshot with a revkeeper manifest; a point-in-time restore starts from one"
            ))
        })?;
    let cluster = newest.manifest.cluster_id.clone();
    let snapshots: Vec<&Entry> = contents
        .usable()
        .filter(|e| e.manifest.cluster_id == cluster)
        .collect();
    let segments: Vec<&SegmentEntry> = contents
        .segments
        .iter()
        .filter(|s| s.parsed.cluster_id == cluster)
        .collect();
    let target = match point {
        Point::Revision(r) => r,
        Point::Latest => latest_covered(&snapshots, &segments),
        Point::Time(t) => revision_at(store, &snapshots, &segments, t, decryptor)?,
    };
    let base = snapshots
        .iter()
        .filter(|e| e.manifest.revision <= target)
        .max_by_key(|e| e.manifest.revision)
        .ok_or_else(|| {
            let oldest = snapshots.iter().map(|e| e.manifest.revision).min().unwrap_or(0);
            Error::invalid(format!(
                "revision {target} is before the oldest full snapshot of {location} (revision {oldest}); restore a revision at or after it"
            ))
        })?;
    let mut need = base.manifest.revision + 1;
    let mut chain = Vec::new();
    for s in &segments {
        if need > target {
            break;
        }
        if s.parsed.last < need {
            continue;
        }
        if s.parsed.first > need {
            return Err(Error::invalid(format!(
                "{location} has no delta segment holding revision {need} (the next one, {}, starts at {}); restore revision {} or earlier, or a revision after the gap that a newer full snapshot covers",
                s.name,
                s.parsed.first,
                need - 1
            )));
        }
        chain.push((*s).clone());
        need = s.parsed.last + 1;
    }
    if need <= target {
        return Err(Error::invalid(format!(
            "{location} holds revisions up to {} for cluster {cluster}; revision {target} is not backed up yet",
            need - 1
        )));
    }
    Ok(Chain {
        base: (*base).clone(),
        segments: chain,
        target,
    })
}

/// The highest revision reachable without a gap from the newest full snapshot.
fn latest_covered(snapshots: &[&Entry], segments: &[&SegmentEntry]) -> i64 {
    let Some(newest) = snapshots.iter().map(|e| e.manifest.revision).max() else {
        return 0;
    };
    chain_end(newest, segments.iter().copied())
}

/// The last revision reachable without a gap from a full snapshot at `from`, through
/// `segments` (by revision).
pub fn chain_end<'a>(from: i64, segments: impl Iterator<Item = &'a SegmentEntry>) -> i64 {
    let mut end = from;
    for s in segments {
        if s.parsed.first <= end + 1 && s.parsed.last > end {
            end = s.parsed.last;
        }
    }
    end
}

/// The last revision received at or before `t`: from the segment whose range holds `t`, or a
/// full snapshot's revision when `t` falls before any later segment.
fn revision_at(
    store: &Store,
    snapshots: &[&Entry],
    segments: &[&SegmentEntry],
    t: OffsetDateTime,
    decryptor: Option<&Decryptor>,
) -> Result<i64> {
    let location = store.location().to_string();
    let before_snapshot = snapshots
        .iter()
        .filter(|e| e.started <= t)
        .map(|e| e.manifest.revision)
        .max();
    let Some(from_snapshot) = before_snapshot else {
        return Err(Error::invalid(format!(
            "{} is before the oldest full snapshot of {location}",
            crate::timefmt::rfc3339(t)
        )));
    };
    let end = segments.iter().map(|s| s.parsed.last_time).max();
    if end.is_none_or(|end| t > end) {
        let covered = latest_covered(snapshots, segments);
        return Err(Error::invalid(format!(
            "{} is after the last backed-up change of {location} ({}, revision {covered}); use --to-revision {covered} or --latest if that is what you want",
            crate::timefmt::rfc3339(t),
            end.map(crate::timefmt::rfc3339)
                .unwrap_or_else(|| "no delta segments".into())
        )));
    }
    let Some(holding) = segments.iter().find(|s| s.parsed.last_time >= t) else {
        return Ok(from_snapshot);
    };
    let segment = read_segment(store, holding, decryptor)?;
    let last_at = segment
        .events
        .iter()
        .take_while(|e| e.received_unix_ms <= unix_ms(t))
        .map(|e| e.mod_revision)
        .last()
        .unwrap_or(segment.first_revision - 1);
    Ok(last_at.max(from_snapshot))
}

pub fn unix_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Downloads, decrypts, decompresses and checks one segment (in memory: segments are small).
pub fn read_segment(
    store: &Store,
    entry: &SegmentEntry,
    decryptor: Option<&Decryptor>,
) -> Result<Segment> {
    let shown = store.location().describe(&entry.name);
    let mut raw = Vec::with_capacity(entry.size as usize);
    store
        .open_read(&entry.name)?
        .read_to_end(&mut raw)
        .map_err(|e| error_from_io(e, &shown))?;
    let compressed = if is_age(&raw) {
        let d = decryptor.ok_or_else(|| Decryptor::missing(&shown))?;
        let mut clear = Vec::new();
        d.wrap(&raw[..], &shown)?
            .read_to_end(&mut clear)
            .map_err(|e| error_from_io(e, &shown))?;
        clear
    } else {
        raw
    };
    let plain = zstd::decode_all(&compressed[..]).map_err(|e| {
        Error::invalid(format!(
            "delta segment {shown} is damaged: {e}; restore a revision before it"
        ))
    })?;
    let segment = Segment::decode(&plain).map_err(|e| {
        Error::invalid(format!(
            "delta segment {shown} is damaged: {e}; restore a revision before it"
        ))
    })?;
    let p = &entry.parsed;
    if (segment.first_revision, segment.last_revision) != (p.first, p.last)
        || format!("{:x}", segment.cluster_id) != p.cluster_id
    {
        return Err(Error::invalid(format!(
            "delta segment {shown} holds cluster {:x} revisions {}–{}, not what its name says; it was renamed or replaced",
            segment.cluster_id, segment.first_revision, segment.last_revision
        )));
    }
    Ok(segment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort_by_revision() {
        let n = SegmentName {
            prefix: "etcd".into(),
            cluster_id: "cdf818194e3a8c32".into(),
            first: 121,
            last: 150,
            last_time: time::macros::datetime!(2026-12-04 03:00:00.123 UTC),
            encrypted: true,
        };
        let name = n.to_name();
        assert_eq!(
            name,
            "etcd-delta-cdf818194e3a8c32-rev000000000121-000000000150-20261204T030000.123Z.zst.age"
        );
        assert_eq!(SegmentName::parse(&name), Some(n.clone()));
        let later = SegmentName {
            first: 1000,
            last: 1001,
            ..n.clone()
        };
        assert!(later.to_name() > name);
        for bad in [
            "etcd-20261204T030000Z-rev5.db.zst",
            "etcd-delta-c-rev10-5-20261204T030000.123Z.zst",
            "etcd-delta-c-rev1-5-nottime.zst",
        ] {
            assert_eq!(SegmentName::parse(bad), None, "{bad}");
        }
    }
}

/// What `snapshot prune` does with one delta segment.
#[derive(Clone, Debug)]
pub struct SegmentPlan {
    pub segment: SegmentEntry,
    pub keep: bool,
    pub reason: String,
}

/// Prune for segments, given the full snapshots prune keeps (`(cluster, revision)`): a segment
/// is useful only after a kept full snapshot of its run, so segments up to the oldest kept
/// snapshot of their run go, and a run without a kept snapshot goes whole. A full snapshot the
/// kept segments need is therefore always one that is kept.
pub fn plan_segments(
    store: &Store,
    kept: &[(String, i64)],
    prefix: Option<&str>,
) -> Result<Vec<SegmentPlan>> {
    let contents = scan(store)?;
    let mut out = Vec::new();
    for run in contents.runs() {
        let base = kept
            .iter()
            .filter(|(c, r)| *c == run.cluster_id && *r >= run.first() - 1 && *r <= run.last())
            .map(|(_, r)| *r)
            .min();
        for s in run.segments {
            if prefix.is_some_and(|p| s.parsed.prefix != p) {
                continue;
            }
            let (keep, reason) = match base {
                Some(b) if s.parsed.last > b => (
                    true,
                    format!("after the kept full snapshot at revision {b} of its chain"),
                ),
                Some(b) => (
                    false,
                    format!("before the oldest kept full snapshot of its chain (revision {b})"),
                ),
                None => (
                    false,
                    "no kept full snapshot in its chain: it cannot be restored".to_string(),
                ),
            };
            out.push(SegmentPlan {
                segment: s,
                keep,
                reason,
            });
        }
    }
    Ok(out)
}
