//! Kubernetes objects read from a source (live or snapshot): decoding with the options every
//! decoding command shares and per-key failure accounting (kubectl's table columns are
//! `crate::printers`, printing is `crate::output`). The value formats themselves live in
//! `revkeeper_formats::k8s`.

pub mod analyze;
pub mod batches;
pub mod dump;
pub mod jsonl;

use std::path::PathBuf;

pub use revkeeper_formats::k8s::set_resource_version;
use revkeeper_formats::k8s::{Decoded, Encoding, Keyring, ValueError, decode_value};

use crate::source::KeyView;
use crate::{Error, Result, log};

/// Flags of every decoding command.
#[derive(Clone, Debug, clap::Args)]
pub struct DecodeOptions {
    /// The prefix kube-apiserver keeps its objects under (its --etcd-prefix; OpenShift uses /kubernetes.io)
    #[arg(long, value_name = "PREFIX", default_value = revkeeper_formats::k8s::key::DEFAULT_PREFIX)]
    pub etcd_prefix: String,
    /// The apiserver's EncryptionConfiguration (YAML or JSON), to decrypt values encrypted at rest
    #[arg(long, value_name = "FILE")]
    pub encryption_config: Option<PathBuf>,
}

impl DecodeOptions {
    /// The etcd prefix without its trailing `/`.
    pub fn prefix(&self) -> &str {
        self.etcd_prefix.trim_end_matches('/')
    }

    pub fn keyring(&self) -> Result<Keyring> {
        match &self.encryption_config {
            None => Ok(Keyring::default()),
            Some(path) => Keyring::load(path).map_err(|e| Error::invalid(e.to_string())),
        }
    }
}

/// Decodes one key's value; objects get `metadata.resourceVersion` from the key's mod_revision
/// (as the apiserver fills it on read).
pub fn decode_kv(kv: &KeyView<'_>, keys: &Keyring) -> std::result::Result<Decoded, ValueError> {
    let mut d = decode_value(kv.key, kv.value, keys)?;
    if let Some(o) = &mut d.object {
        set_resource_version(o, kv.mod_revision);
    }
    Ok(d)
}

/// Counts the keys a command looked at and the ones it could not decode. Each failure is one
/// line on stderr naming the key; [`Failures::finish`] turns any into exit code 1. Objects with
/// fields newer than the schema are counted too, and reported once by [`Failures::finish`].
#[derive(Debug, Default)]
pub struct Failures {
    pub total: u64,
    pub failed: u64,
    pub newer: NewerFields,
}

impl Failures {
    pub fn ok(&mut self) {
        self.total += 1;
    }

    /// [`Failures::ok`] for a decoded value, noting fields newer than the schema.
    pub fn decoded(&mut self, key: &[u8], d: &Decoded) {
        self.ok();
        self.newer.note(key, d);
    }

    pub fn fail(&mut self, key: &[u8], why: impl std::fmt::Display) {
        self.total += 1;
        self.failed += 1;
        log::error(&format!("{}: {why}", String::from_utf8_lossy(key)), &[]);
    }

    pub fn add(&mut self, other: &Failures) {
        self.total += other.total;
        self.failed += other.failed;
        self.newer.add(&other.newer);
    }

    pub fn finish(&self) -> Result<()> {
        self.newer.warn();
        if self.failed == 0 {
            return Ok(());
        }
        Err(Error::general(format!(
            "{} of {} keys could not be decoded",
            self.failed, self.total
        )))
    }
}

/// Objects that carry protobuf fields the vendored schema does not know (written by a newer
/// Kubernetes): decoded without them, worth one warning per run, never one per object.
#[derive(Debug, Default)]
pub struct NewerFields {
    pub objects: u64,
    /// The first such key in key order.
    pub example: Option<Vec<u8>>,
}

impl NewerFields {
    pub fn note(&mut self, key: &[u8], d: &Decoded) {
        self.note_count(key, d.unknown_fields);
    }

    /// [`NewerFields::note`] for a value that had `unknown_fields`.
    pub fn note_count(&mut self, key: &[u8], unknown_fields: u32) {
        if unknown_fields > 0 {
            self.objects += 1;
            self.keep_example(key);
        }
    }

    pub fn add(&mut self, other: &NewerFields) {
        self.objects += other.objects;
        if let Some(key) = &other.example {
            self.keep_example(key);
        }
    }

    fn keep_example(&mut self, key: &[u8]) {
        if self.example.as_deref().is_none_or(|e| key < e) {
            self.example = Some(key.to_vec());
        }
    }

    /// The warning line, if any object had newer fields.
    pub fn message(&self) -> Option<String> {
        let example = self.example.as_deref()?;
        let objects = if self.objects == 1 {
            "object carries"
        } else {
            "objects carry"
        };
        Some(format!(
            "{} {objects} fields newer than revkeeper's Kubernetes {} schema; they were skipped: e.g. {}",
            self.objects,
            revkeeper_formats::k8s::SCHEMA_VERSION,
            String::from_utf8_lossy(example)
        ))
    }

    pub fn warn(&self) {
        if let Some(m) = self.message() {
            log::warn(&m, &[]);
        }
    }
}

/// Notes a key whose value is not an object (e.g. `compact_rev_key`): not a failure.
pub fn note_not_an_object(key: &[u8], encoding: &Encoding, len: usize) {
    log::info(
        &format!(
            "{}: not a Kubernetes object ({}, {len} bytes); skipped",
            String::from_utf8_lossy(key),
            encoding.label()
        ),
        &[],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resource_version_goes_after_uid() {
        let mut o = json!({"kind": "Pod", "metadata": {"name": "a", "namespace": "n", "uid": "u", "generation": 1}});
        set_resource_version(&mut o, 42);
        let keys: Vec<&String> = o["metadata"].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["name", "namespace", "uid", "resourceVersion", "generation"]
        );
        assert_eq!(o["metadata"]["resourceVersion"], "42");
        let mut o = json!({"metadata": {"resourceVersion": "", "name": "a"}});
        set_resource_version(&mut o, 7);
        assert_eq!(o["metadata"]["resourceVersion"], "7");
        let mut text = json!("1789");
        set_resource_version(&mut text, 7);
        assert_eq!(text, json!("1789"));
    }

    #[test]
    fn newer_fields_make_one_line_naming_the_first_key() {
        let d = |unknown_fields| Decoded {
            encoding: revkeeper_formats::k8s::Encoding::Protobuf,
            object: Some(json!({})),
            unknown_fields,
        };
        let mut a = Failures::default();
        a.decoded(b"/registry/pods/n/b", &d(2));
        a.decoded(b"/registry/pods/n/c", &d(0));
        assert_eq!(
            a.newer.message().unwrap(),
            "1 object carries fields newer than revkeeper's Kubernetes 1.35 schema; they were skipped: e.g. /registry/pods/n/b"
        );
        let mut b = Failures::default();
        b.decoded(b"/registry/pods/n/a", &d(1));
        a.add(&b);
        assert_eq!((a.total, a.newer.objects), (3, 2));
        assert!(a.newer.message().unwrap().starts_with("2 objects carry "));
        assert!(
            a.newer
                .message()
                .unwrap()
                .ends_with("e.g. /registry/pods/n/a")
        );
        assert_eq!(Failures::default().newer.message(), None);
    }
}
