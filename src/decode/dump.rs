//! `revkeeper dump DIR`: every object as `DIR/<resource>/[<namespace>/]<name>.yaml`.
//!
//! Decoded on every core by [`super::batches`] (memory stays bounded: a few batches in
//! flight). Files are 0600 and directories 0700 (Secrets are dumped in clear), each
//! written as `.part` and renamed, so a file is never partial.

use std::fs::{DirBuilder, OpenOptions};
use std::io::{IsTerminal, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use revkeeper_formats::k8s::Keyring;
use revkeeper_formats::k8s::key::ObjectKey;
use revkeeper_formats::k8s::resources;

use super::batches::for_each_in_order;
use super::{Failures, decode_kv, note_not_an_object};
use crate::output::objects as output;
use crate::source::{KeyRange, KeyView, RangeQuery, Source};
use crate::{Error, Result, log};

#[derive(Debug, Default)]
pub struct DumpSummary {
    pub written: u64,
    pub skipped: u64,
    /// Decoded, but the filesystem refused the file's path (too long).
    pub unwritten: u64,
    pub failures: Failures,
}

/// Longest file name most filesystems take (bytes).
const NAME_MAX: usize = 255;
/// Longest object name kept as its file name: `<name>.yaml.part` must fit in [`NAME_MAX`].
const KEPT_NAME_MAX: usize = NAME_MAX - ".yaml".len() - ".part".len();

/// Where an object's file goes below the dump directory.
#[derive(Debug, PartialEq)]
pub struct ObjectPath {
    pub rel: PathBuf,
    /// The name was too long for a file name: see [`file_stem`].
    pub shortened: bool,
}

/// Where an object's file goes below the dump directory: the kubectl plural for built-ins
/// (`nodes`, `services`), `<group>/<plural>` for custom resources, the etcd resource otherwise;
/// `None` for keys that are not `<prefix>/<resource>/[<ns>/]<name>` or whose parts are not safe
/// path segments.
pub fn object_path(key: &[u8], prefix: &str) -> Option<ObjectPath> {
    let k = ObjectKey::parse(key, prefix)?;
    let resource = resources::by_etcd_resource(k.resource).map_or(k.resource, |r| r.plural);
    let safe = |s: &str| !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\0']);
    let mut rel = PathBuf::new();
    for part in resource.split('/').chain(k.namespace) {
        if !safe(part) {
            return None;
        }
        rel.push(part);
    }
    if !safe(k.name) {
        return None;
    }
    let (stem, shortened) = file_stem(k.name);
    rel.push(format!("{stem}.yaml"));
    Some(ObjectPath { rel, shortened })
}

/// The name itself, or for a name longer than [`KEPT_NAME_MAX`] bytes (Kubernetes allows 253)
/// its start, `%` and 32 hex digits of its SHA-256. Kubernetes refuses `%` in names, so a
/// shortened name never equals a kept one, and two long names share one only if they share
/// their first 212 bytes and 128 bits of hash.
fn file_stem(name: &str) -> (String, bool) {
    use sha2::{Digest, Sha256};
    if name.len() <= KEPT_NAME_MAX {
        return (name.to_string(), false);
    }
    let hash = hex::encode(&Sha256::digest(name.as_bytes())[..16]);
    let mut keep = KEPT_NAME_MAX - 1 - hash.len();
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    (format!("{}%{hash}", &name[..keep]), true)
}

/// Makes `dir` (it must not exist, or be an empty directory).
pub fn prepare_dir(dir: &Path) -> Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::invalid(format!(
                    "{} is not empty; dump into a new or empty directory",
                    dir.display()
                )));
            }
            // Decrypted Secrets go here: others must not be able to add, swap or list files.
            let meta = std::fs::metadata(dir).map_err(|e| Error::io("cannot read", dir, e))?;
            if meta.uid() != unsafe { libc::geteuid() } || meta.mode() & 0o022 != 0 {
                return Err(Error::invalid(format!(
                    "{} is writable by others or not yours; dump into a new directory (created 0700) or `chmod go-w` it",
                    dir.display()
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io("cannot create", dir, e)),
        Err(e) => Err(Error::io("cannot read", dir, e)),
    }
}

/// Dumps every object of `source` under `prefix` into `dir` with `workers` decoding threads.
pub fn dump(
    source: &dyn Source,
    query: &RangeQuery,
    prefix: &str,
    keys: &Keyring,
    dir: &Path,
    workers: usize,
) -> Result<DumpSummary> {
    prepare_dir(dir)?;
    let progress = std::io::stderr().is_terminal();
    let mut last_progress = Instant::now();
    let mut summary = DumpSummary::default();
    let mut seen = 0u64;
    let work = |batch: &[KeyView<'_>]| dump_batch(batch, prefix, keys, dir);
    let dumped = for_each_in_order(source, query, workers, &|_| true, &work, &mut |part| {
        let part = part?;
        seen += part.failures.total + part.skipped + part.unwritten;
        summary.written += part.written;
        summary.skipped += part.skipped;
        summary.unwritten += part.unwritten;
        summary.failures.add(&part.failures);
        if progress && last_progress.elapsed() > Duration::from_millis(300) {
            last_progress = Instant::now();
            eprint!(
                "\rdump: {seen} keys read, {} files written",
                summary.written
            );
        }
        Ok(())
    });
    if progress {
        eprintln!();
    }
    dumped?;
    Ok(summary)
}

/// Writes the objects of one batch; a filesystem error that every later file would meet too
/// (a full disk, a read-only directory) stops the dump.
fn dump_batch(
    batch: &[KeyView<'_>],
    prefix: &str,
    keys: &Keyring,
    dir: &Path,
) -> Result<DumpSummary> {
    let mut mine = DumpSummary::default();
    for kv in batch {
        let d = match decode_kv(kv, keys) {
            Ok(d) => d,
            Err(e) => {
                mine.failures.fail(kv.key, e);
                continue;
            }
        };
        let Some(object) = &d.object else {
            note_not_an_object(kv.key, &d.encoding, kv.value.len());
            mine.skipped += 1;
            continue;
        };
        let Some(path) = object_path(kv.key, prefix) else {
            log::warn(
                &format!(
                    "{}: not a <prefix>/<resource>/[<namespace>/]<name> key; not dumped",
                    String::from_utf8_lossy(kv.key)
                ),
                &[],
            );
            mine.skipped += 1;
            continue;
        };
        let file = dir.join(&path.rel);
        match write_file(&file, output::to_yaml(object).as_bytes()) {
            Ok(()) => {}
            // This path only (a deep dir, a filesystem with shorter names): the rest can go on.
            Err(e) if e.raw_os_error() == Some(libc::ENAMETOOLONG) => {
                log::error(
                    &format!(
                        "{}: cannot write {}: {e}; not dumped",
                        String::from_utf8_lossy(kv.key),
                        file.display()
                    ),
                    &[],
                );
                mine.unwritten += 1;
                continue;
            }
            Err(e) => return Err(Error::io("cannot write", &file, e)),
        }
        if path.shortened {
            log::warn(
                &format!(
                    "{}: the name is too long for a file name; written as {}",
                    String::from_utf8_lossy(kv.key),
                    path.rel.display()
                ),
                &[],
            );
        }
        mine.failures.decoded(kv.key, &d);
        mine.written += 1;
    }
    Ok(mine)
}

fn write_file(path: &Path, content: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)?;
    }
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    let part = PathBuf::from(part);
    let result = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&part)
        .and_then(|mut f| f.write_all(content))
        .and_then(|()| std::fs::rename(&part, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    result
}

/// The whole key space below the prefix.
pub fn prefix_query(prefix: &str) -> RangeQuery {
    RangeQuery::latest(KeyRange::prefix(format!("{prefix}/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_kubectl_names() {
        let p =
            |k: &str| object_path(k.as_bytes(), "/registry").map(|p| p.rel.display().to_string());
        assert_eq!(p("/registry/pods/ns/a").as_deref(), Some("pods/ns/a.yaml"));
        assert_eq!(p("/registry/minions/n1").as_deref(), Some("nodes/n1.yaml"));
        assert_eq!(
            p("/registry/services/specs/ns/s").as_deref(),
            Some("services/ns/s.yaml")
        );
        assert_eq!(
            p("/registry/services/endpoints/ns/s").as_deref(),
            Some("endpoints/ns/s.yaml")
        );
        assert_eq!(
            p("/registry/example.com/widgets/ns/w").as_deref(),
            Some("example.com/widgets/ns/w.yaml")
        );
        assert_eq!(p("/registry/pods/ns/.."), None);
        assert_eq!(p("/registry/pods/../x"), None);
        assert_eq!(p("compact_rev_key"), None);
    }

    #[test]
    fn names_too_long_for_a_file_get_a_short_distinct_one() {
        let path = |name: &str| {
            object_path(
                format!("/registry/configmaps/ns/{name}").as_bytes(),
                "/registry",
            )
            .unwrap()
        };
        let kept = "k".repeat(KEPT_NAME_MAX);
        assert_eq!(
            path(&kept).rel,
            PathBuf::from(format!("configmaps/ns/{kept}.yaml"))
        );
        assert!(!path(&kept).shortened);

        let (a, b) = ("a".repeat(253), format!("{}b", "a".repeat(252)));
        let (pa, pb) = (path(&a), path(&b));
        assert!(pa.shortened && pb.shortened);
        assert_ne!(pa.rel, pb.rel);
        for p in [&pa.rel, &pb.rel] {
            let file = p.file_name().unwrap().to_str().unwrap();
            assert_eq!(file.len() + ".part".len(), NAME_MAX, "{file}");
            assert!(
                file.starts_with(&"a".repeat(200)) && file.contains('%'),
                "{file}"
            );
        }
        // Multi-byte characters are never cut in half.
        let wide = path(&"€".repeat(84));
        let file = wide.rel.file_name().unwrap().to_str().unwrap();
        assert!(
            file.starts_with(&"€".repeat(70)) && file.len() < NAME_MAX,
            "{file}"
        );
    }

    #[test]
    fn the_directory_must_be_new_or_empty() {
        let t = tempfile::tempdir().unwrap();
        let fresh = t.path().join("a/b");
        prepare_dir(&fresh).unwrap();
        prepare_dir(&fresh).unwrap();
        std::fs::write(fresh.join("x"), b"").unwrap();
        assert!(
            prepare_dir(&fresh)
                .unwrap_err()
                .to_string()
                .contains("is not empty")
        );
    }

    #[test]
    fn an_empty_directory_others_can_write_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let shared = t.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = prepare_dir(&shared).unwrap_err().to_string();
        assert!(err.contains("writable by others"), "{err}");
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
        prepare_dir(&shared).unwrap();
    }
}
