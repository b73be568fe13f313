//! One stored value as the object view shows it: decoded as `get -o yaml` / `-o json` print
//! it (the decode module's printers). Undecodable values are described, never dumped: they may
//! be Secrets.

use revkeeper_formats::k8s::{Encoding, Keyring};
use revkeeper_ui::ObjectDoc;

use crate::Result;
use crate::decode::decode_kv;
use crate::output::objects as output;
use crate::source::{KeyRange, KeyRecord, RangeQuery, SnapshotSource, Source};

/// `key` at `revision` (the latest when `None`), decoded. On a snapshot whose keyspace index is
/// loaded (`indexed`: the snapshot and the key's mod_revision in the index, `None` when the index
/// does not hold it), a key the index holds, or a revision that wrote the key, is read with one seek
/// of the revision-ordered `key` bucket; anything else (a delete, a revision between writes, a
/// live cluster) is a range of the source.
pub fn read(
    source: &dyn Source,
    indexed: Option<(&SnapshotSource, Option<i64>)>,
    key: &str,
    revision: Option<i64>,
    keyring: &Keyring,
) -> Result<ObjectDoc> {
    if let Some((snapshot, latest)) = indexed {
        let written = match revision {
            // A compacted revision is refused, as a range at it is.
            Some(r) if r < snapshot.compact_revision()? => None,
            Some(r) => Some(r),
            None => latest,
        };
        if let Some(r) = written
            && let Some(kv) = snapshot.written_at(key.as_bytes(), r)?
        {
            return Ok(document(&kv.to_record(), r, keyring));
        }
    }
    let query = RangeQuery {
        range: KeyRange::key(key.as_bytes().to_vec()),
        revision,
        keys_only: false,
    };
    let mut found = None;
    source.scan(&query, &mut |kv| {
        found = Some(kv.to_record());
        Ok(())
    })?;
    Ok(match found {
        Some(r) => document(&r, revision.unwrap_or(r.mod_revision), keyring),
        None => absent(key, revision),
    })
}

/// Decodes `record` (the state of `key` at `revision`).
pub fn document(record: &KeyRecord, revision: i64, keyring: &Keyring) -> ObjectDoc {
    let key = String::from_utf8_lossy(&record.key).into_owned();
    let mut doc = ObjectDoc {
        key: key.clone(),
        revision,
        mod_revision: record.mod_revision,
        lease: record.lease,
        ..ObjectDoc::default()
    };
    match decode_kv(&record.view(), keyring) {
        Ok(decoded) => {
            doc.encoding = decoded.encoding.label();
            match (decoded.object, &decoded.encoding) {
                (Some(object), _) => {
                    doc.yaml = output::to_yaml(&object);
                    doc.json = String::from_utf8_lossy(&output::to_json(&object)).into_owned();
                }
                (None, Encoding::Text) => {
                    let text = String::from_utf8_lossy(&record.value).into_owned();
                    doc.yaml = text.clone();
                    doc.json = serde_json::to_string(&text).unwrap_or_default();
                }
                (None, _) => {
                    doc.note = Some(format!(
                        "binary value of {} bytes, not an object",
                        record.value.len()
                    ))
                }
            }
        }
        Err(e) => {
            doc.encoding = "undecodable".into();
            doc.note = Some(format!("cannot decode {key}: {e}"));
        }
    }
    doc
}

/// A document for a key that does not exist at `revision`.
pub fn absent(key: &str, revision: Option<i64>) -> ObjectDoc {
    ObjectDoc {
        key: key.to_string(),
        revision: revision.unwrap_or(0),
        encoding: "-".into(),
        note: Some(match revision {
            Some(r) => format!("{key} does not exist at revision {r} (deleted or not yet created)"),
            None => format!("{key} does not exist (deleted since the list was read?)"),
        }),
        ..ObjectDoc::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(value: &[u8]) -> KeyRecord {
        KeyRecord {
            key: b"/registry/pods/default/web".to_vec(),
            create_revision: 2,
            mod_revision: 5,
            version: 2,
            value: value.to_vec(),
            lease: 0,
        }
    }

    #[test]
    fn json_objects_print_as_sorted_yaml() {
        let doc = document(
            &record(br#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web"}}"#),
            5,
            &Keyring::default(),
        );
        assert_eq!(doc.encoding, "json");
        assert_eq!(
            doc.yaml,
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  resourceVersion: \"5\"\n"
        );
        assert!(doc.json.contains("\"kind\": \"Pod\""));
        assert_eq!(doc.mod_revision, 5);
    }

    #[test]
    fn binary_values_are_described_not_shown() {
        let doc = document(&record(&[0, 1, 2, 0xff]), 5, &Keyring::default());
        assert_eq!(doc.encoding, "binary");
        assert!(doc.yaml.is_empty());
        assert_eq!(
            doc.note.as_deref(),
            Some("binary value of 4 bytes, not an object")
        );
    }
}
