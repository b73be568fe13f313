//! `snapshot prune`: restic-style retention over the snapshots of a directory.
//!
//! Rules (`--keep-last/-hourly/-daily/-weekly/-monthly/-yearly N`) are OR-combined: a snapshot
//! kept by any rule is kept. Each time rule walks the snapshots newest first and keeps the newest
//! one of each of its N most recent buckets (UTC hour, day, ISO week, month, year); like restic,
//! a rule with buckets left over when the history runs out also keeps the oldest snapshot, so the
//! history is as long as possible. On top of restic: the newest snapshot of each cluster is always
//! kept, and so is its highest revision (a manifest dated in the future by a skewed clock must
//! not push the real latest snapshot out); clusters (by `cluster_id`) are pruned independently,
//! and only files described by a revkeeper manifest are ever deleted.

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

use super::manifest::{Entry, FileState, Skipped, scan};
use crate::error::{Error, Result};
use crate::location::Store;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub last: u32,
    pub hourly: u32,
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
    pub yearly: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    Last,
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl Rule {
    fn flag(self) -> &'static str {
        match self {
            Rule::Last => "keep-last",
            Rule::Hourly => "keep-hourly",
            Rule::Daily => "keep-daily",
            Rule::Weekly => "keep-weekly",
            Rule::Monthly => "keep-monthly",
            Rule::Yearly => "keep-yearly",
        }
    }

    /// The bucket of a snapshot, and its label for the reason text.
    fn bucket(self, t: OffsetDateTime, position: usize) -> (i64, String) {
        let t = t.to_offset(time::UtcOffset::UTC);
        let (y, m, d, h) = (t.year() as i64, t.month() as i64, t.day(), t.hour());
        match self {
            Rule::Last => (position as i64, format!("#{}", position + 1)),
            Rule::Hourly => (
                ((y * 1000 + t.ordinal() as i64) * 100) + h as i64,
                format!("{y:04}-{m:02}-{d:02}T{h:02}"),
            ),
            Rule::Daily => (
                y * 1000 + t.ordinal() as i64,
                format!("{y:04}-{m:02}-{d:02}"),
            ),
            Rule::Weekly => {
                let (iy, w, _) = t.to_iso_week_date();
                (iy as i64 * 100 + w as i64, format!("{iy:04}-W{w:02}"))
            }
            Rule::Monthly => (y * 100 + m, format!("{y:04}-{m:02}")),
            Rule::Yearly => (y, format!("{y:04}")),
        }
    }
}

impl Policy {
    fn rules(&self) -> Vec<(Rule, u32)> {
        [
            (Rule::Last, self.last),
            (Rule::Hourly, self.hourly),
            (Rule::Daily, self.daily),
            (Rule::Weekly, self.weekly),
            (Rule::Monthly, self.monthly),
            (Rule::Yearly, self.yearly),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
    }

    /// No rule keeps anything: prune refuses to run.
    pub fn is_empty(&self) -> bool {
        self.rules().is_empty()
    }

    /// `keep-last 3, keep-daily 7`.
    pub fn describe(&self) -> String {
        self.rules()
            .iter()
            .map(|(r, n)| format!("{} {n}", r.flag()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Keep or not, and every reason to keep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    pub keep: bool,
    pub reasons: Vec<String>,
}

/// Decides for snapshots taken at `times` (any order; equal times: the later index counts as
/// newer). The result is indexed like `times`.
pub fn plan(policy: &Policy, times: &[OffsetDateTime]) -> Vec<Decision> {
    let n = times.len();
    let mut out = vec![Decision::default(); n];
    if n == 0 {
        return out;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| times[b].cmp(&times[a]).then(b.cmp(&a)));
    out[order[0]].keep = true;
    out[order[0]].reasons.push("newest".into());
    for (rule, count) in policy.rules() {
        let mut left = count;
        let mut last_bucket = None;
        for (pos, &i) in order.iter().enumerate() {
            if left == 0 {
                break;
            }
            let (bucket, label) = rule.bucket(times[i], pos);
            let oldest = pos + 1 == n;
            if last_bucket != Some(bucket) {
                last_bucket = Some(bucket);
                left -= 1;
                out[i].keep = true;
                out[i]
                    .reasons
                    .push(format!("{} {count} ({label})", rule.flag()));
            } else if oldest {
                out[i].keep = true;
                out[i].reasons.push(format!(
                    "{} {count} (oldest: fewer buckets than {count})",
                    rule.flag()
                ));
            }
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Keep,
    Remove,
    /// The manifest of a snapshot file that is gone.
    RemoveManifest,
}

#[derive(Clone, Debug)]
pub struct Item {
    pub entry: Entry,
    pub action: Action,
    pub reasons: Vec<String>,
}

/// What prune would do in a location, oldest first. `prefix` limits it to files named
/// `PREFIX-…`. Also returns the manifests it ignored, with why.
pub fn plan_location(
    store: &Store,
    policy: &Policy,
    prefix: Option<&str>,
) -> Result<(Vec<Item>, Vec<Skipped>)> {
    if policy.is_empty() {
        return Err(Error::invalid(
            "no keep rule given: pass at least one of --keep-last, --keep-hourly, --keep-daily, \
             --keep-weekly, --keep-monthly, --keep-yearly (with N > 0)",
        ));
    }
    let (entries, skipped) = scan(store)?;
    let entries: Vec<Entry> = entries
        .into_iter()
        .filter(|e| prefix.is_none_or(|p| e.manifest.file.starts_with(&format!("{p}-"))))
        .collect();
    let mut items: Vec<Item> = Vec::with_capacity(entries.len());
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for e in entries {
        let i = items.len();
        let (action, reasons) = match e.state {
            FileState::Ok => {
                groups
                    .entry(e.manifest.cluster_id.clone())
                    .or_default()
                    .push(i);
                (Action::Remove, Vec::new())
            }
            FileState::Missing => (
                Action::RemoveManifest,
                vec!["snapshot file is missing; removing its manifest".to_string()],
            ),
            FileState::SizeMismatch => (
                Action::Keep,
                vec!["file size differs from its manifest; left alone".to_string()],
            ),
        };
        items.push(Item {
            entry: e,
            action,
            reasons,
        });
    }
    for members in groups.values() {
        let times: Vec<OffsetDateTime> = members.iter().map(|&i| items[i].entry.started).collect();
        for (d, &i) in plan(policy, &times).into_iter().zip(members) {
            if d.keep {
                items[i].action = Action::Keep;
                items[i].reasons = d.reasons;
            } else {
                items[i].reasons = vec![format!("kept by no rule ({})", policy.describe())];
            }
        }
        keep_highest_revision(&mut items, members);
    }
    Ok((items, skipped))
}

/// Keeps the highest revision of a cluster whatever the dates say: dates come from the clock of
/// the host that saved, revisions from etcd itself. Says so when a lower revision is dated later.
fn keep_highest_revision(items: &mut [Item], members: &[usize]) {
    let key = |i: usize| (items[i].entry.manifest.revision, items[i].entry.started, i);
    let (Some(&top), Some(&latest)) = (
        members.iter().max_by_key(|&&i| key(i)),
        members.iter().max_by_key(|&&i| (items[i].entry.started, i)),
    ) else {
        return;
    };
    let revision = items[top].entry.manifest.revision;
    let mut reason = format!("highest revision ({revision})");
    if items[latest].entry.manifest.revision < revision {
        reason.push_str(&format!(
            "; {} is dated later with a lower revision ({}): clock skew?",
            items[latest].entry.manifest.file, items[latest].entry.manifest.revision
        ));
    }
    let item = &mut items[top];
    if item.action != Action::Keep {
        item.action = Action::Keep;
        item.reasons.clear();
    }
    item.reasons.push(reason);
}

/// Deletes what the plan removes: the snapshot file, then its manifest (so an interruption
/// leaves a manifest whose file is missing, which the next prune cleans up). Returns how many
/// snapshots were removed.
pub fn execute(store: &Store, items: &[Item]) -> Result<usize> {
    let mut removed = 0;
    for item in items {
        let e = &item.entry;
        match item.action {
            Action::Keep => continue,
            Action::Remove => {
                store.delete(&e.snapshot_name)?;
                removed += 1;
            }
            Action::RemoveManifest => {}
        }
        store.delete(&e.manifest_name)?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn local(d: &std::path::Path) -> Store {
        crate::location::Location::Local(d.to_path_buf())
            .open(&Default::default())
            .unwrap()
    }

    fn kept(policy: Policy, times: &[OffsetDateTime]) -> Vec<usize> {
        plan(&policy, times)
            .iter()
            .enumerate()
            .filter(|(_, d)| d.keep)
            .map(|(i, _)| i)
            .collect()
    }

    /// One snapshot every 6 hours for 20 days, oldest first (index 0 = 2026-01-01 00:00).
    fn every_6h(days: usize) -> Vec<OffsetDateTime> {
        (0..days * 4)
            .map(|i| datetime!(2026-01-01 00:00 UTC) + time::Duration::hours(6 * i as i64))
            .collect()
    }

    #[test]
    fn table_of_policies() {
        let t = every_6h(20); // 80 snapshots; newest index 79 = 2026-01-20 18:00
        let n = t.len();
        let cases: Vec<(&str, Policy, Vec<usize>)> = vec![
            (
                "last 3",
                Policy {
                    last: 3,
                    ..Policy::default()
                },
                vec![n - 3, n - 2, n - 1],
            ),
            (
                // Newest of each of the 3 newest days: 01-20 18h, 01-19 18h, 01-18 18h.
                "daily 3",
                Policy {
                    daily: 3,
                    ..Policy::default()
                },
                vec![n - 9, n - 5, n - 1],
            ),
            (
                // Hours differ for every snapshot: the 4 newest.
                "hourly 4",
                Policy {
                    hourly: 4,
                    ..Policy::default()
                },
                vec![n - 4, n - 3, n - 2, n - 1],
            ),
            (
                "last 1 + daily 2 overlap",
                Policy {
                    last: 1,
                    daily: 2,
                    ..Policy::default()
                },
                vec![n - 5, n - 1],
            ),
            (
                // ISO weeks: 2026-01-20 is in W04, 01-18 (Sun) ends W03, 01-11 ends W02.
                "weekly 3",
                Policy {
                    weekly: 3,
                    ..Policy::default()
                },
                vec![4 * 10 + 3, 4 * 17 + 3, n - 1],
            ),
            (
                // One month only: newest + the oldest (buckets left over).
                "monthly 6",
                Policy {
                    monthly: 6,
                    ..Policy::default()
                },
                vec![0, n - 1],
            ),
            (
                "more than there are: all kept",
                Policy {
                    last: 100,
                    ..Policy::default()
                },
                (0..n).collect(),
            ),
        ];
        for (name, policy, want) in cases {
            assert_eq!(kept(policy, &t), want, "{name}");
        }
    }

    #[test]
    fn reasons_name_the_rule_and_bucket() {
        let t = every_6h(2);
        let d = plan(
            &Policy {
                daily: 1,
                last: 1,
                ..Policy::default()
            },
            &t,
        );
        let newest = d.last().unwrap();
        assert_eq!(
            newest.reasons,
            vec!["newest", "keep-last 1 (#1)", "keep-daily 1 (2026-01-02)"]
        );
        assert!(!d[0].keep);
    }

    #[test]
    fn newest_is_always_kept_and_ties_are_stable() {
        let same = vec![datetime!(2026-05-05 05:05 UTC); 3];
        // keep-yearly 1: one bucket, filled by the newest (the highest index on ties); the
        // oldest is not kept since the rule has no bucket left.
        assert_eq!(
            kept(
                Policy {
                    yearly: 1,
                    ..Policy::default()
                },
                &same
            ),
            vec![2]
        );
        assert_eq!(plan(&Policy::default(), &[]).len(), 0);
        assert!(Policy::default().is_empty());
        assert!(
            Policy {
                last: 0,
                ..Policy::default()
            }
            .is_empty()
        );
    }

    #[test]
    fn unordered_input() {
        let t = vec![
            datetime!(2026-03-01 00:00 UTC),
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2026-02-01 00:00 UTC),
        ];
        assert_eq!(
            kept(
                Policy {
                    last: 2,
                    ..Policy::default()
                },
                &t
            ),
            vec![0, 2]
        );
    }

    #[test]
    fn refuses_without_rules_and_keeps_foreign_files() {
        use crate::backup::manifest::tests::sample;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let e = plan_location(&local(d), &Policy::default(), None).unwrap_err();
        assert_eq!(e.exit_code(), 3);

        for (i, day) in ["2026-01-01", "2026-01-02", "2026-01-03"]
            .iter()
            .enumerate()
        {
            let name = format!("etcd-{i}.db.zst");
            std::fs::write(d.join(&name), b"abc").unwrap();
            sample(&name, &format!("{day}T00:00:00Z"), i as i64)
                .write_beside(&d.join(&name))
                .unwrap();
        }
        std::fs::write(d.join("etcd-old.db"), b"not ours").unwrap();
        // A manifest for a file that is gone.
        sample("gone.db", "2025-01-01T00:00:00Z", 1)
            .write_beside(&d.join("gone.db"))
            .unwrap();
        let policy = Policy {
            last: 1,
            ..Policy::default()
        };
        let (items, _) = plan_location(&local(d), &policy, Some("etcd")).unwrap();
        let actions: Vec<_> = items
            .iter()
            .map(|i| (i.entry.manifest.file.as_str(), i.action))
            .collect();
        assert_eq!(
            actions,
            vec![
                ("etcd-0.db.zst", Action::Remove),
                ("etcd-1.db.zst", Action::Remove),
                ("etcd-2.db.zst", Action::Keep)
            ]
        );
        let (items, _) = plan_location(&local(d), &policy, None).unwrap();
        assert_eq!(items[0].action, Action::RemoveManifest);
        assert_eq!(execute(&local(d), &items).unwrap(), 2);
        let mut left: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            vec![
                "etcd-2.db.zst",
                "etcd-2.db.zst.manifest.json",
                "etcd-old.db"
            ]
        );
    }

    #[test]
    fn highest_revision_is_kept_when_a_lower_one_is_dated_in_the_future() {
        use crate::backup::manifest::tests::sample;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for (name, day, rev) in [
            ("a.db.zst", "2026-01-01", 10),
            ("b.db.zst", "2026-01-02", 30),
            ("skewed.db.zst", "2099-01-01", 20),
        ] {
            std::fs::write(d.join(name), b"abc").unwrap();
            sample(name, &format!("{day}T00:00:00Z"), rev)
                .write_beside(&d.join(name))
                .unwrap();
        }
        let policy = Policy {
            last: 1,
            ..Policy::default()
        };
        let (items, _) = plan_location(&local(d), &policy, None).unwrap();
        let by_file = |f: &str| items.iter().find(|i| i.entry.manifest.file == f).unwrap();
        assert_eq!(by_file("a.db.zst").action, Action::Remove);
        assert_eq!(by_file("skewed.db.zst").action, Action::Keep);
        let b = by_file("b.db.zst");
        assert_eq!(b.action, Action::Keep);
        assert_eq!(
            b.reasons,
            vec![
                "highest revision (30); skewed.db.zst is dated later with a lower revision (20): \
                 clock skew?"
            ]
        );
    }
}
