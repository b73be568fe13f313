//! etcdctl's `get -w json` document, written record by record as a scan yields them, so a
//! whole keyspace never sits in memory: `header.revision`, `kvs` (keys and values in base64)
//! and `count`, byte for byte as `serde_json::to_string_pretty` printed the whole document
//! (two-space indents, fields in this order, a newline at the end).

use std::io::{self, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::source::KeyView;

/// One document in the making: [`KvJson::begin`], a [`KvJson::record`] per key, then
/// [`KvJson::finish`]. An error in between leaves the document unclosed, never valid JSON.
pub struct KvJson {
    count: usize,
    /// Base64 of the field being written, reused from one record to the next.
    scratch: String,
}

impl KvJson {
    pub fn begin(out: &mut dyn Write, revision: i64) -> io::Result<KvJson> {
        write!(
            out,
            "{{\n  \"header\": {{\n    \"revision\": {revision}\n  }},\n  \"kvs\": ["
        )?;
        Ok(KvJson {
            count: 0,
            scratch: String::new(),
        })
    }

    pub fn record(&mut self, out: &mut dyn Write, kv: &KeyView<'_>) -> io::Result<()> {
        out.write_all(if self.count == 0 { b"\n" } else { b",\n" })?;
        self.count += 1;
        out.write_all(b"    {\n      \"key\": ")?;
        self.base64(out, kv.key)?;
        write!(
            out,
            ",\n      \"create_revision\": {},\n      \"mod_revision\": {},\n      \"version\": {},\n      \"value\": ",
            kv.create_revision, kv.mod_revision, kv.version
        )?;
        self.base64(out, kv.value)?;
        write!(out, ",\n      \"lease\": {}\n    }}", kv.lease)
    }

    pub fn finish(self, out: &mut dyn Write) -> io::Result<()> {
        let close = if self.count == 0 { "]" } else { "\n  ]" };
        writeln!(out, "{close},\n  \"count\": {}\n}}", self.count)
    }

    /// A JSON string of base64, which never needs escaping.
    fn base64(&mut self, out: &mut dyn Write, bytes: &[u8]) -> io::Result<()> {
        self.scratch.clear();
        B64.encode_string(bytes, &mut self.scratch);
        out.write_all(b"\"")?;
        out.write_all(self.scratch.as_bytes())?;
        out.write_all(b"\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The document as it was built before streaming: a `serde_json::Value`, pretty-printed.
    fn whole_document(revision: i64, records: &[KeyView<'_>]) -> String {
        let kvs: Vec<_> = records
            .iter()
            .map(|r| {
                json!({
                    "key": B64.encode(r.key),
                    "create_revision": r.create_revision,
                    "mod_revision": r.mod_revision,
                    "version": r.version,
                    "value": B64.encode(r.value),
                    "lease": r.lease,
                })
            })
            .collect();
        let doc = json!({"header": {"revision": revision}, "kvs": kvs, "count": records.len()});
        format!("{}\n", serde_json::to_string_pretty(&doc).unwrap())
    }

    fn streamed(revision: i64, records: &[KeyView<'_>]) -> String {
        let mut out = Vec::new();
        let mut doc = KvJson::begin(&mut out, revision).unwrap();
        for r in records {
            doc.record(&mut out, r).unwrap();
        }
        doc.finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn streams_the_same_bytes_as_the_whole_document() {
        let a = KeyView {
            key: b"/registry/pods/default/a",
            create_revision: 2,
            mod_revision: 3,
            version: 2,
            value: b"k8s\0\x0a\xff\x00binary",
            lease: 0,
        };
        let b = KeyView {
            key: b"b",
            create_revision: 9_223_372_036_854_775_807,
            mod_revision: 1,
            version: 1,
            value: b"",
            lease: -7_587_869_112_406_254_590,
        };
        for records in [&[][..], &[a][..], &[a, b, a][..]] {
            assert_eq!(
                streamed(1_000_000_042, records),
                whole_document(1_000_000_042, records)
            );
        }
        assert!(streamed(5, &[]).contains("\"kvs\": [],\n  \"count\": 0\n}"));
    }
}
