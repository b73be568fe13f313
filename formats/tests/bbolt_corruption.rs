//! Corruption suite on the real etcd snapshot: truncations and byte/bit flips (fixed seed). Every
//! case runs open + check + free pages + a full iteration of every bucket, which must give an error
//! or a correct answer, never panic or hang.
//!
//! Since iteration is zero-copy, a run is summarised by the *offsets* of every key and value it
//! returns. One flipped byte never moves data, so whenever the reader answers without error, the
//! offsets tell exactly what it answered. Where the flip lands decides what is required:
//!
//! | flip in | required |
//! |---|---|
//! | a value | same offsets (the one value differs in that byte), `check` clean |
//! | a leaf key | same offsets, or an ordering error from both check and iteration |
//! | a free page, unused meta bytes | same offsets, `check` clean |
//! | a meta page | same offsets; `check` reports at most that meta as invalid |
//! | the sha256 trailer | same offsets, `check` clean, `verify_sha256() == Some(false)` |
//! | anything else | if `check` is clean, iteration and `free_pages` succeed |
//!
//! Cases: every page-boundary truncation, truncations inside pages, and
//! `REVKEEPER_CORRUPTION_CASES` (default 700) random flips, spread over two threads, with a
//! watchdog failing the test if one case takes too long.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use revkeeper_formats::bbolt::{Db, check};

const PS: usize = 4096;
const DEFAULT_FLIPS: usize = 700;
/// One case takes milliseconds; this only catches hangs (debug build, slow CI).
const CASE_LIMIT: Duration = Duration::from_secs(30);

fn fixture() -> Option<Vec<u8>> {
    let path = revkeeper_harness::require_fixture("cluster-dev/cluster.db")?;
    Some(std::fs::read(path).expect("read the fixture"))
}

/// What one bucket iteration returned: the name's and each key's and value's byte ranges.
#[derive(Debug, PartialEq, Eq)]
struct BucketView {
    name: Range<usize>,
    entries: Vec<(Range<usize>, Range<usize>)>,
}

/// The answer of one run on (possibly corrupt) bytes.
#[derive(Debug)]
struct Outcome {
    open: Result<(), String>,
    problems: Vec<String>,
    free_pages: Result<Vec<u64>, String>,
    buckets: Result<Vec<BucketView>, String>,
    sha_ok: Option<bool>,
}

/// Where `s` lies in `data`; every slice the reader returns must lie in it.
fn range_of(data: &[u8], s: &[u8]) -> Range<usize> {
    let start = (s.as_ptr() as usize).wrapping_sub(data.as_ptr() as usize);
    assert!(
        start <= data.len() && s.len() <= data.len() - start,
        "a returned slice is outside the file"
    );
    start..start + s.len()
}

/// Open, check, free pages, iterate every bucket (nested ones too, to a bounded depth).
fn run(bytes: Vec<u8>, want_sha: bool) -> Outcome {
    let db = match Db::from_bytes(bytes) {
        Ok(db) => db,
        Err(e) => {
            return Outcome {
                open: Err(e.to_string()),
                problems: vec![],
                free_pages: Err("not opened".into()),
                buckets: Err("not opened".into()),
                sha_ok: None,
            };
        }
    };
    let problems = check(&db).iter().map(|p| p.to_string()).collect();
    let free_pages = db.free_pages().map_err(|e| e.to_string());
    let base = db.data();
    let mut buckets = Vec::new();
    let mut iterate = || -> Result<(), String> {
        let root = db.root();
        for entry in root.iter() {
            let entry = entry.map_err(|e| e.to_string())?;
            if !entry.is_bucket {
                return Err("a top-level entry is not a bucket".into());
            }
            let bucket = root
                .bucket(entry.key)
                .map_err(|e| e.to_string())?
                .ok_or("a bucket entry does not open")?;
            let mut entries = Vec::new();
            for kv in bucket.iter() {
                let kv = kv.map_err(|e| e.to_string())?;
                entries.push((range_of(base, kv.key), range_of(base, kv.value)));
            }
            buckets.push(BucketView {
                name: range_of(base, entry.key),
                entries,
            });
        }
        Ok(())
    };
    let iterated = iterate();
    Outcome {
        open: Ok(()),
        problems,
        free_pages,
        buckets: iterated.map(|()| buckets),
        sha_ok: if want_sha { db.verify_sha256() } else { None },
    }
}

/// What the uncorrupted file looks like, for classifying flip positions.
struct Baseline {
    buckets: Vec<BucketView>,
    /// Sorted byte ranges of non-empty values and of keys (bucket names included).
    values: Vec<Range<usize>>,
    keys: Vec<Range<usize>>,
    free_pages: Vec<u64>,
    data_len: usize,
}

impl Baseline {
    fn new(file: &[u8]) -> Baseline {
        let out = run(file.to_vec(), true);
        assert_eq!(out.open, Ok(()));
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(out.sha_ok, Some(true));
        let buckets = out.buckets.expect("the fixture iterates");
        let mut values = Vec::new();
        let mut keys = Vec::new();
        for b in &buckets {
            keys.push(b.name.clone());
            for (k, v) in &b.entries {
                keys.push(k.clone());
                if !v.is_empty() {
                    values.push(v.clone());
                }
            }
        }
        values.sort_by_key(|r| r.start);
        keys.sort_by_key(|r| r.start);
        Baseline {
            buckets,
            values,
            keys,
            free_pages: out.free_pages.expect("free pages"),
            data_len: file.len() - 32,
        }
    }

    fn classify(&self, pos: usize) -> Region {
        let within = |ranges: &[Range<usize>]| {
            let i = ranges.partition_point(|r| r.start <= pos);
            i > 0 && ranges[i - 1].contains(&pos)
        };
        let page = (pos / PS) as u64;
        if pos >= self.data_len {
            Region::Trailer
        } else if page < 2 {
            Region::Meta(page)
        } else if self.free_pages.binary_search(&page).is_ok() {
            Region::FreePage
        } else if within(&self.values) {
            Region::Value
        } else if within(&self.keys) {
            Region::Key
        } else {
            Region::Structure
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Region {
    Trailer,
    Meta(u64),
    FreePage,
    Value,
    Key,
    Structure,
}

/// One corruption: truncate to a length, or set bytes.
#[derive(Clone, Debug)]
enum Case {
    Truncate(usize),
    Set(Vec<(usize, u8)>),
}

/// xorshift64*: a fixed-seed generator, enough for picking offsets.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn cases(file: &[u8], base: &Baseline, flips: usize) -> Vec<Case> {
    let pages = base.data_len / PS;
    let mut out: Vec<Case> = (0..=pages).map(|k| Case::Truncate(k * PS)).collect();
    for k in (0..pages).filter(|k| k % 37 == 0 || *k < 3 || *k + 3 >= pages) {
        for off in [1, 16, 32, 80, 100, 2048, 4095] {
            out.push(Case::Truncate(k * PS + off));
        }
    }
    out.push(Case::Truncate(file.len() - 1));
    let mut rng = Rng(0x5eed_b01d_c0ff_ee11);
    // Reachable pages that start a node (not the continuation of an overflow value).
    let heads: Vec<usize> = (2..pages)
        .filter(|p| base.free_pages.binary_search(&(*p as u64)).is_err())
        .filter(|p| file[p * PS..p * PS + 8] == (*p as u64).to_le_bytes())
        .collect();
    for i in 0..flips {
        let pos = match i % 10 {
            // Anywhere in the file (mostly values: they fill most pages).
            0 | 1 => rng.below(file.len()),
            // The head of a reachable page: header, element array, the first key.
            2..=5 => {
                let p = heads[rng.below(heads.len())] * PS;
                let count = u16::from_le_bytes([file[p + 10], file[p + 11]]) as usize;
                p + rng.below((16 + 16 * count + 24).min(PS))
            }
            // A key.
            6 => {
                let r = &base.keys[rng.below(base.keys.len())];
                r.start + rng.below(r.len())
            }
            // A free page.
            7 => base.free_pages[rng.below(base.free_pages.len())] as usize * PS + rng.below(PS),
            // The trailer, a few times only: hashing 7 MiB is slow in a debug build.
            9 if i < 40 => base.data_len + rng.below(32),
            // A meta page, mostly its record.
            _ => {
                let off = if rng.below(4) == 0 {
                    rng.below(PS)
                } else {
                    rng.below(80)
                };
                rng.below(2) * PS + off
            }
        };
        let byte = if rng.below(2) == 0 {
            file[pos] ^ (1 << rng.below(8))
        } else {
            file[pos] ^ (1 + rng.below(255) as u8)
        };
        let mut set = vec![(pos, byte)];
        // Every 16th case also smashes a few more bytes of the same page head.
        if i % 16 == 15 {
            for _ in 0..4 {
                let p = ((pos / PS) * PS + rng.below(200)).min(file.len() - 1);
                set.push((p, rng.next() as u8));
            }
        }
        out.push(Case::Set(set));
    }
    out
}

/// Runs one case and asserts what its region requires.
fn check_case(file: &[u8], base: &Baseline, case: &Case) {
    let (bytes, region) = match case {
        Case::Truncate(len) => (file[..*len].to_vec(), None),
        Case::Set(set) => {
            let mut bytes = file.to_vec();
            for &(pos, b) in set {
                bytes[pos] = b;
            }
            let region = (set.len() == 1).then(|| base.classify(set[0].0));
            (bytes, region)
        }
    };
    let out = run(bytes, region == Some(Region::Trailer));

    // Always: a file `check` finds sound reads without error.
    if out.open.is_ok() && out.problems.is_empty() {
        assert!(
            out.buckets.is_ok(),
            "check clean, iteration failed: {out:?}"
        );
        assert!(
            out.free_pages.is_ok(),
            "check clean, free_pages failed: {out:?}"
        );
    }
    let same = || out.buckets.as_ref().is_ok_and(|b| *b == base.buckets);
    match (case, region) {
        (Case::Truncate(len), _) => {
            if *len < base.data_len {
                let e = out
                    .open
                    .as_ref()
                    .expect_err("a truncated file must not open");
                assert!(
                    e.contains("truncated") || e.contains("not a valid bbolt file"),
                    "{e}"
                );
            } else {
                assert!(out.problems.is_empty() && same(), "{out:?}");
            }
        }
        (_, None | Some(Region::Structure)) => {}
        (_, Some(Region::Trailer)) => {
            assert!(out.problems.is_empty() && same(), "{out:?}");
            assert_eq!(out.sha_ok, Some(false));
        }
        (_, Some(Region::FreePage | Region::Value)) => {
            assert!(out.problems.is_empty() && same(), "{out:?}");
        }
        (_, Some(Region::Meta(page))) => {
            assert!(same(), "{out:?}");
            let bad_meta = format!("page {page}: invalid meta:");
            assert!(
                out.problems.is_empty()
                    || (out.problems.len() == 1 && out.problems[0].starts_with(&bad_meta)),
                "{out:?}"
            );
        }
        (_, Some(Region::Key)) => {
            if out.problems.is_empty() {
                assert!(same(), "{out:?}");
            } else {
                assert!(out.problems.iter().all(|p| p.contains(" key[")), "{out:?}");
                assert!(out.buckets.is_err(), "{out:?}");
            }
        }
    }
}

#[test]
fn corruptions_give_an_error_or_a_correct_answer() {
    let Some(file) = fixture() else { return };
    let started = Instant::now();
    let base = Baseline::new(&file);
    let flips = std::env::var("REVKEEPER_CORRUPTION_CASES")
        .ok()
        .map(|v| v.parse().expect("REVKEEPER_CORRUPTION_CASES is a number"))
        .unwrap_or(DEFAULT_FLIPS);
    let cases = cases(&file, &base, flips);
    let mut regions = std::collections::BTreeMap::new();
    for case in &cases {
        if let Case::Set(set) = case {
            let r = if set.len() == 1 {
                format!("{:?}", base.classify(set[0].0))
            } else {
                "multi-byte".into()
            };
            *regions.entry(r).or_insert(0) += 1;
        }
    }

    // Two workers; a watchdog fails the run if a case takes longer than CASE_LIMIT.
    const IDLE: u64 = u64::MAX;
    let clock = Instant::now();
    let current: [AtomicU64; 2] = [AtomicU64::new(IDLE), AtomicU64::new(IDLE)];
    let case_of: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
    let finished = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for w in 0..2 {
            let (file, base, cases) = (&file, &base, &cases);
            let (current, case_of, finished) = (&current, &case_of, &finished);
            s.spawn(move || {
                for (i, case) in cases.iter().enumerate().skip(w).step_by(2) {
                    case_of[w].store(i, Ordering::SeqCst);
                    current[w].store(clock.elapsed().as_millis() as u64, Ordering::SeqCst);
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        check_case(file, base, case)
                    }));
                    if let Err(panic) = result {
                        eprintln!("FAILED corruption case {i}: {case:?}");
                        current[w].store(IDLE, Ordering::SeqCst);
                        finished.fetch_add(1, Ordering::SeqCst);
                        std::panic::resume_unwind(panic);
                    }
                }
                current[w].store(IDLE, Ordering::SeqCst);
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
        s.spawn(|| {
            while finished.load(Ordering::SeqCst) < 2 {
                std::thread::sleep(Duration::from_millis(50));
                for w in 0..2 {
                    let since = current[w].load(Ordering::SeqCst);
                    let now = clock.elapsed().as_millis() as u64;
                    if since != IDLE && now.saturating_sub(since) > CASE_LIMIT.as_millis() as u64 {
                        let i = case_of[w].load(Ordering::SeqCst);
                        eprintln!(
                            "FAILED: corruption case {i} ({:?}) runs for more than {CASE_LIMIT:?}",
                            cases[i]
                        );
                        std::process::exit(101);
                    }
                }
            }
        });
    });
    eprintln!(
        "{} corruption cases ({} truncations, flips by region {regions:?}) in {:.1} s",
        cases.len(),
        cases
            .iter()
            .filter(|c| matches!(c, Case::Truncate(_)))
            .count(),
        started.elapsed().as_secs_f64()
    );
}
