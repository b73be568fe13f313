//! Damaged snapshots never give wrong output with exit 0 (issue 11, items 1–3). Every damaged
//! file is derived at test time from `../shared/fixtures/cluster-dev/cluster.db`: one bit or
//! byte changed, then (where the damage happened before the save) the sha256 trailer recomputed
//! so it matches the damaged bytes, as a server computing it over a damaged db would.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, run};
use revkeeper_formats::bbolt::Db;
use revkeeper_formats::etcd::revision::{Revision, RevisionKey};
use revkeeper_formats::k8s::key::ObjectKey;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The fixture's db bytes (without the trailer), page size and `key` bucket entries.
struct Fixture {
    dir: PathBuf,
    data: Vec<u8>,
    page_size: usize,
    revisions: Vec<Value>,
}

fn fixture() -> Fixture {
    let dir = common::cluster_dev()
        .expect("../shared/fixtures/cluster-dev/cluster.db is required by these tests");
    let file = std::fs::read(dir.join("cluster.db")).unwrap();
    let (data, _) = common::split_checked(&file);
    let page_size = Db::from_bytes(data.to_vec()).unwrap().page_size();
    let revisions = std::fs::read_to_string(dir.join("revisions.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Fixture {
        dir,
        data: data.to_vec(),
        page_size,
        revisions,
    }
}

impl Fixture {
    /// The entries of `key`, oldest first.
    fn history(&self, key: &str) -> Vec<&Value> {
        self.revisions.iter().filter(|r| r["key"] == key).collect()
    }

    /// The revisions of ConfigMaps.
    fn configmaps(&self) -> impl Iterator<Item = &Value> {
        self.revisions.iter().filter(|r| {
            r["key"]
                .as_str()
                .unwrap()
                .starts_with("/registry/configmaps/")
        })
    }

    /// A ConfigMap written once and still live: (key, its only revision).
    fn written_once(&self) -> (String, RevisionKey) {
        self.configmaps()
            .find(|r| {
                self.history(r["key"].as_str().unwrap()).len() == 1 && r["tombstone"] == false
            })
            .map(|r| (r["key"].as_str().unwrap().to_string(), revision_key(r)))
            .expect("a ConfigMap with one revision")
    }

    /// A ConfigMap put, then deleted: (key, its tombstone).
    fn deleted(&self) -> (String, RevisionKey) {
        self.configmaps()
            .find(|r| {
                let h = self.history(r["key"].as_str().unwrap());
                h.len() >= 2 && h.last().unwrap()["tombstone"] == true
            })
            .map(|r| {
                let key = r["key"].as_str().unwrap();
                (
                    key.to_string(),
                    revision_key(self.history(key).last().unwrap()),
                )
            })
            .expect("a deleted ConfigMap")
    }

    /// The db with the leaf element of `rev` in the `key` bucket flagged as a sub-bucket.
    fn flip_to_bucket(&self, rev: RevisionKey) -> Vec<u8> {
        let mut data = self.data.clone();
        let elements = leaf_elements(&data, self.page_size, &rev.to_bytes());
        assert!(!elements.is_empty(), "revision {rev:?} is in a leaf page");
        for at in elements {
            data[at] ^= 1; // bbolt's bucketLeafFlag
        }
        data
    }

    /// The db with `edit` applied to the stored value of `key` (every copy of it).
    fn edit_value(&self, key: &str, edit: impl Fn(&mut [u8])) -> Vec<u8> {
        self.edit_bytes(&current_value(&self.dir.join("cluster.db"), key), edit)
    }

    /// The db with `edit` applied to every copy of `value`.
    fn edit_bytes(&self, value: &[u8], edit: impl Fn(&mut [u8])) -> Vec<u8> {
        let mut data = self.data.clone();
        let at: Vec<usize> = data
            .windows(value.len())
            .enumerate()
            .filter(|(_, w)| *w == value)
            .map(|(i, _)| i)
            .collect();
        assert!(!at.is_empty(), "the value is in the file");
        for i in at {
            edit(&mut data[i..i + value.len()]);
        }
        data
    }

    /// `garbled.db` in `dir`, sealed: the value of a ConfigMap written once no longer decodes
    /// (the first field tag of the runtime.Unknown after `k8s\0` gets wire type 7, which does not
    /// exist). Returns the file, the key and its revision.
    fn garbled(&self, dir: &tempfile::TempDir) -> (PathBuf, String, RevisionKey) {
        let (key, rev) = self.written_once();
        let file = write_sealed(dir, "garbled.db", &self.edit_value(&key, |v| v[4] = 0x0f));
        (file, key, rev)
    }
}

fn revision_key(r: &Value) -> RevisionKey {
    RevisionKey {
        rev: Revision::new(r["main"].as_i64().unwrap(), r["sub"].as_i64().unwrap()),
        tombstone: r["tombstone"].as_bool().unwrap(),
    }
}

/// Offsets of the flags of every leaf element whose key is `key`, in every leaf page.
fn leaf_elements(data: &[u8], page_size: usize, key: &[u8]) -> Vec<usize> {
    let u16_at = |o: usize| u16::from_le_bytes(data[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().unwrap()) as usize;
    let mut found = Vec::new();
    let mut id = 0;
    while (id + 1) * page_size <= data.len() {
        let page = id * page_size;
        let stored_id = u64::from_le_bytes(data[page..page + 8].try_into().unwrap());
        let (flags, count, overflow) = (u16_at(page + 8), u16_at(page + 10), u32_at(page + 12));
        if stored_id != id as u64 {
            id += 1;
            continue;
        }
        if flags == 0x02 {
            for i in 0..count {
                let elem = page + 16 + i * 16;
                let (pos, ksize) = (u32_at(elem + 4), u32_at(elem + 8));
                let start = elem + pos;
                if data.get(start..start + ksize) == Some(key) {
                    found.push(elem);
                }
            }
        }
        id += 1 + overflow;
    }
    found
}

/// The value of `key` in a snapshot, read through revkeeper's own reader.
fn current_value(snapshot: &Path, key: &str) -> Vec<u8> {
    use revkeeper::source::{KeyRange, RangeQuery, SnapshotSource, Source};
    let source = SnapshotSource::open(snapshot).unwrap();
    let found = source
        .range(&RangeQuery::latest(KeyRange::prefix(
            key.as_bytes().to_vec(),
        )))
        .unwrap();
    found
        .into_iter()
        .find(|r| r.key == key.as_bytes())
        .unwrap()
        .value
}

fn sealed(data: &[u8]) -> Vec<u8> {
    [data, Sha256::digest(data).as_slice()].concat()
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `data` with its sha256 trailer, written to `dir/name`.
fn write_sealed(dir: &tempfile::TempDir, name: &str, data: &[u8]) -> PathBuf {
    write(dir, name, &sealed(data))
}

fn namespace_and_name(key: &str) -> (String, String) {
    let k = ObjectKey::parse(key.as_bytes(), "/registry").unwrap();
    (k.namespace.unwrap().to_string(), k.name.to_string())
}

fn assert_refused_as_damaged(r: &Run, file: &Path, rev: RevisionKey) {
    assert_ne!(r.code, 0, "a damaged snapshot must not read as fine: {r:?}");
    let line = r.last_err_line();
    assert!(
        line.contains(&file.display().to_string()),
        "names the file: {r:?}"
    );
    assert!(
        line.contains(&format!("revision {}/{}", rev.rev.main, rev.rev.sub))
            && line.contains("sub-bucket"),
        "names the damaged revision: {r:?}"
    );
}

// Item 1: restore refuses what verify rejects, before writing anything.

fn restore(file: &Path, data_dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "snapshot".to_string(),
        "restore".into(),
        file.display().to_string(),
        "--data-dir".into(),
        data_dir.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&args)
}

fn assert_restore_refused(file: &Path, extra: &[&str], why: &str) {
    let target = tempfile::tempdir().unwrap();
    let data_dir = target.path().join("restored.etcd");
    let r = restore(file, &data_dir, extra);
    assert_eq!(r.code, 3, "restore {extra:?} must refuse: {r:?}");
    assert!(r.last_err_line().contains("failed verification"), "{r:?}");
    assert!(
        r.last_err_line().contains(why),
        "says which check failed: {r:?}"
    );
    assert_eq!(
        common::files_in(target.path()),
        Vec::<String>::new(),
        "nothing written: {r:?}"
    );
}

#[test]
fn restore_refuses_a_key_revision_flagged_as_a_bucket() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let (_, rev) = f.written_once();
    let file = write_sealed(&tmp, "flipped.db", &f.flip_to_bucket(rev));
    let here = |r: RevisionKey| {
        format!(
            "key bucket, revision {}/{}: a sub-bucket",
            r.rev.main, r.rev.sub
        )
    };
    let verify = run(&["snapshot", "verify", file.to_str().unwrap()]);
    assert_eq!(verify.code, 1, "verify rejects it: {verify:?}");
    assert!(verify.stdout.contains(&here(rev)), "{verify:?}");
    assert_restore_refused(&file, &[], &here(rev));
    assert_restore_refused(&file, &["--skip-hash-check"], &here(rev));
    let (_, tombstone) = f.deleted();
    let file = write_sealed(&tmp, "tomb.db", &f.flip_to_bucket(tombstone));
    assert_restore_refused(&file, &["--skip-hash-check"], &here(tombstone));
}

#[test]
fn restore_refuses_a_root_bucket_flagged_as_a_plain_key() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let mut data = f.data.clone();
    let root_elements: Vec<usize> = leaf_elements(&data, f.page_size, b"cluster")
        .into_iter()
        .filter(|&at| data[at] & 1 == 1)
        .collect();
    // The live root page and stale copies of it in free pages: flip them all.
    assert!(
        !root_elements.is_empty(),
        "a bucket named cluster in the root"
    );
    for at in root_elements {
        data[at] ^= 1;
    }
    let file = write(&tmp, "plain-root-key.db", &sealed(&data));
    let verify = run(&["snapshot", "verify", file.to_str().unwrap()]);
    assert_eq!(verify.code, 1, "verify rejects it: {verify:?}");
    assert!(verify.stdout.contains("root: a plain key"), "{verify:?}");
    assert_restore_refused(&file, &[], "root: a plain key");
    assert_restore_refused(&file, &["--skip-hash-check"], "root: a plain key");
}

#[test]
fn restore_refuses_a_value_that_no_longer_decodes() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let (file, _, rev) = f.garbled(&tmp);
    let here = format!("key bucket, revision {}/{}", rev.rev.main, rev.rev.sub);
    assert_restore_refused(&file, &[], &here);
    assert_restore_refused(&file, &["--skip-hash-check"], &here);
}

#[test]
fn a_pre_compacted_restore_decodes_the_values_it_keeps() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let bump = ["--bump-revision", "1000", "--mark-compacted"];
    let here = |r: RevisionKey| format!("key bucket, revision {}/{}", r.rev.main, r.rev.sub);
    // The newest value of a live key is restored: refused when it does not decode.
    let (file, _, rev) = f.garbled(&tmp);
    assert_restore_refused(&file, &bump, &here(rev));

    // The value a deleted key held is not: a plain restore keeps it and refuses the file, a
    // pre-compacted one drops it (only "compacted" could be read at its revision) and restores.
    let (key, _) = f.deleted();
    let history = f.history(&key);
    let put = revision_key(history[history.len() - 2]);
    assert!(!put.tombstone, "the revision before the delete is a put");
    use revkeeper::source::{SnapshotSource, Source};
    let changes = SnapshotSource::open(&f.dir.join("cluster.db"))
        .unwrap()
        .history(key.as_bytes())
        .unwrap();
    let old = changes
        .iter()
        .find(|c| c.revision == put.rev.main)
        .expect("the put is in the snapshot's history");
    let file = write_sealed(
        &tmp,
        "garbled-deleted.db",
        &f.edit_bytes(&old.record.value, |v| v[4] = 0x0f),
    );
    let verify = run(&["snapshot", "verify", file.to_str().unwrap()]);
    assert_eq!(verify.code, 1, "verify rejects it: {verify:?}");
    assert!(verify.stdout.contains(&here(put)), "{verify:?}");
    assert_restore_refused(&file, &[], &here(put));
    let target = tempfile::tempdir().unwrap();
    let r = restore(&file, &target.path().join("restored.etcd"), &bump);
    assert_eq!(r.code, 0, "the damaged value is not restored: {r:?}");
}

#[test]
fn restore_still_accepts_the_intact_fixture() {
    let f = fixture();
    let target = tempfile::tempdir().unwrap();
    let data_dir = target.path().join("restored.etcd");
    let r = restore(&f.dir.join("cluster.db"), &data_dir, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(data_dir.join("member/snap/db").is_file(), "{r:?}");
}

// Item 2: readers stop at a damaged `key` entry and warn about an unproven trailer.

#[test]
fn readers_stop_at_a_missing_key_revision() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let (key, rev) = f.written_once();
    let (ns, name) = namespace_and_name(&key);
    let file = write_sealed(&tmp, "flipped.db", &f.flip_to_bucket(rev));
    let snap = file.to_str().unwrap();
    let dump_dir = tmp.path().join("dump");
    let dump = dump_dir.to_str().unwrap();
    for args in [
        vec![
            "get",
            "--snapshot",
            snap,
            "--prefix",
            "/registry/configmaps/",
        ],
        vec!["get", "--snapshot", snap, "--key", &key],
        vec!["get", "--snapshot", snap, "configmaps", "-n", &ns],
        vec!["get", "--snapshot", snap, "configmaps", &name, "-n", &ns],
        vec!["analyze", "--snapshot", snap],
        vec!["dump", dump, "--snapshot", snap],
    ] {
        let r = run(&args);
        assert_refused_as_damaged(&r, &file, rev);
        assert!(!r.stderr.contains("sha256"), "the trailer matches: {r:?}");
    }
}

#[test]
fn readers_do_not_bring_a_deleted_object_back() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let (key, tombstone) = f.deleted();
    let (ns, _) = namespace_and_name(&key);
    let file = write_sealed(&tmp, "tomb.db", &f.flip_to_bucket(tombstone));
    let snap = file.to_str().unwrap();
    for args in [
        vec!["get", "--snapshot", snap, "--key", &key],
        vec![
            "get",
            "--snapshot",
            snap,
            "configmaps",
            "-n",
            &ns,
            "-o",
            "name",
        ],
        vec!["get", "--snapshot", snap, "--key", &key, "--history"],
    ] {
        let r = run(&args);
        assert_refused_as_damaged(&r, &file, tombstone);
        assert!(!r.stdout.contains(&key), "no resurrected object: {r:?}");
    }
}

#[test]
fn readers_warn_once_when_the_trailer_does_not_prove_the_bytes() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let (key, _) = f.written_once();
    let (ns, name) = namespace_and_name(&key);
    // A flipped byte after the save: the trailer no longer matches.
    let mut changed = sealed(&f.data);
    let value = current_value(&f.dir.join("cluster.db"), &key);
    let at = changed
        .windows(value.len())
        .position(|w| w == value.as_slice())
        .unwrap();
    changed[at + value.len() - 1] ^= 0x01;
    let cases = [
        ("changed.db", changed, "does not match"),
        ("raw.db", f.data.clone(), "no sha256 trailer"),
        (
            "cut.db",
            sealed(&f.data)[..f.data.len() + 20].to_vec(),
            "truncated",
        ),
    ];
    for (name_of_file, bytes, says) in cases {
        let file = write(&tmp, name_of_file, &bytes);
        let snap = file.to_str().unwrap();
        let dump_dir = tmp.path().join(format!("dump-{name_of_file}"));
        for args in [
            vec!["get", "--snapshot", snap, "configmaps", &name, "-n", &ns],
            vec![
                "get",
                "--snapshot",
                snap,
                "--prefix",
                "/registry/configmaps/",
            ],
            // -o jsonl checks the trailer while it decodes; the warning still comes, once.
            vec![
                "get",
                "--snapshot",
                snap,
                "--prefix",
                "/registry/configmaps/",
                "--decode",
                "-o",
                "jsonl",
            ],
            vec!["get", "--snapshot", snap, "configmaps", "-A", "-o", "jsonl"],
            vec![
                "get",
                "--snapshot",
                snap,
                "configmaps",
                &name,
                "-n",
                &ns,
                "-o",
                "jsonl",
            ],
            vec!["analyze", "--snapshot", snap],
            vec!["dump", dump_dir.to_str().unwrap(), "--snapshot", snap],
        ] {
            let r = run(&args);
            let warnings: Vec<&str> = r.stderr.lines().filter(|l| l.contains(says)).collect();
            assert_eq!(warnings.len(), 1, "one warning for {name_of_file}: {r:?}");
            assert!(warnings[0].contains(snap), "names the file: {r:?}");
            assert!(
                warnings[0].contains("snapshot verify"),
                "says what to do: {r:?}"
            );
        }
    }
    // -o name: a table would also state the snapshot's estimated time on stderr.
    let intact = run(&[
        "get",
        "--snapshot",
        f.dir.join("cluster.db").to_str().unwrap(),
        "configmaps",
        &name,
        "-n",
        &ns,
        "-o",
        "name",
    ]);
    assert_eq!((intact.code, intact.stderr.as_str()), (0, ""), "{intact:?}");
}

// Item 3: verify rejects a cut trailer and values that no longer decode.

#[test]
fn verify_rejects_a_trailer_cut_short() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let whole = sealed(&f.data);
    for cut in [1, 16, 31] {
        let file = write(&tmp, "cut.db", &whole[..whole.len() - cut]);
        let r = run(&["snapshot", "verify", file.to_str().unwrap()]);
        assert_eq!(r.code, 1, "cut by {cut}: {r:?}");
        assert!(r.stdout.contains("sha256 trailer: TRUNCATED"), "{r:?}");
        assert!(
            r.stdout
                .contains(&format!("ends {} bytes into the 32-byte", 32 - cut)),
            "{r:?}"
        );
        assert!(!r.stdout.contains("OK"), "{r:?}");
    }
    let raw = write(&tmp, "raw.db", &f.data);
    let r = run(&["snapshot", "verify", raw.to_str().unwrap()]);
    assert_eq!(
        r.code, 0,
        "whole pages without a trailer are a raw db: {r:?}"
    );
}

#[test]
fn verify_decodes_every_kubernetes_value() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let (file, key, rev) = f.garbled(&tmp);
    let r = run(&["snapshot", "verify", file.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("sha256 trailer: ok"), "{r:?}");
    let here = format!(
        "key bucket, revision {}/{}: {key}: value does not decode",
        rev.rev.main, rev.rev.sub
    );
    assert!(r.stdout.contains(&here), "{r:?}");
    // `get --decode` agrees that it does not decode.
    let get = run(&[
        "get",
        "--snapshot",
        file.to_str().unwrap(),
        "--key",
        &key,
        "--decode",
    ]);
    assert_eq!(get.code, 1, "{get:?}");
}

#[test]
fn verify_checks_encrypted_values_as_far_as_it_can() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let config = f.dir.join("encryption-config.yaml");
    let config = config.to_str().unwrap();
    let intact = f.dir.join("cluster.db");
    let intact = intact.to_str().unwrap();
    let r = run(&["snapshot", "verify", intact]);
    assert_eq!(r.code, 0, "intact encrypted values are not damage: {r:?}");
    let notes: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("not decrypted"))
        .collect();
    assert_eq!(notes.len(), 1, "said once: {r:?}");
    assert!(notes[0].contains("--encryption-config"), "{r:?}");
    let r = run(&["snapshot", "verify", intact, "--encryption-config", config]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains("not decrypted"), "all decrypted: {r:?}");

    let secret = f
        .revisions
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .find(|k| {
            k.starts_with("/registry/secrets/")
                && current_value(&f.dir.join("cluster.db"), k).starts_with(b"k8s:enc:aescbc:")
        })
        .expect("an aescbc Secret");
    // The envelope broken: found without the keys.
    let bad_envelope = write_sealed(&tmp, "envelope.db", &f.edit_value(secret, |v| v[13] = b'x'));
    let r = run(&["snapshot", "verify", bad_envelope.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "{secret}: value does not decode: value has an unknown encryption prefix"
        )),
        "{r:?}"
    );
    // The ciphertext changed: only the keys can tell.
    let bad_ciphertext = write_sealed(
        &tmp,
        "ciphertext.db",
        &f.edit_value(secret, |v| *v.last_mut().unwrap() ^= 0x01),
    );
    let path = bad_ciphertext.to_str().unwrap();
    assert_eq!(run(&["snapshot", "verify", path]).code, 0);
    let r = run(&["snapshot", "verify", path, "--encryption-config", config]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains(&format!("{secret}: value does not decode")),
        "{r:?}"
    );
}
