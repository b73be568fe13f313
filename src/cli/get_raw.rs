//! `get --key/--prefix` as etcdctl prints them: `-w simple` (etcdctl's default: a key line,
//! then the value as raw bytes and a newline; `--print-value-only`, `--keys-only`), a table
//! of records (values previewed), or etcdctl's JSON (keys and values in base64).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use super::get::GetArgs;
use crate::output::{OutputFormat, print_json, print_table, with_stdout};
use crate::source::{KeyRange, KeyRecord, RangeQuery};
use crate::{Error, Result};

/// `--key/--prefix` as etcdctl prints them.
pub(super) fn run(args: GetArgs, format: OutputFormat) -> Result<()> {
    if args.print_value_only && format != OutputFormat::Simple {
        return Err(Error::invalid(format!(
            "--print-value-only cannot be used with -w {}: it prints raw values, as etcdctl's -w \
             simple does (leave -w out)",
            format.name()
        )));
    }
    let source = args.source.open()?;
    let range = match (&args.key, &args.prefix) {
        (Some(k), _) => KeyRange::key(k.as_bytes()),
        (None, p) => KeyRange::prefix(p.as_deref().unwrap_or_default().as_bytes()),
    };
    let query = RangeQuery {
        range,
        revision: args.rev,
        keys_only: args.keys_only,
    };
    let records = source.range(&query)?;
    match format {
        OutputFormat::Json => {
            let revision = match args.rev {
                Some(r) => r,
                None => source.overview()?.revision,
            };
            print_json(&etcdctl_json(revision, &records))
        }
        OutputFormat::Simple => with_stdout(|out| {
            // etcdctl's printKV: the key line unless values only, then the value (empty with
            // --keys-only), each ended by a newline; bytes as stored.
            for r in &records {
                if !args.print_value_only {
                    out.write_all(&r.key)?;
                    out.write_all(b"\n")?;
                }
                out.write_all(&r.value)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        }),
        _ => {
            let mut headers = vec!["KEY", "CREATE", "MOD", "VERSION", "LEASE"];
            if !args.keys_only {
                headers.push("VALUE");
            }
            let rows: Vec<Vec<String>> = records
                .iter()
                .map(|r| {
                    let mut row = vec![
                        String::from_utf8_lossy(&r.key).into_owned(),
                        r.create_revision.to_string(),
                        r.mod_revision.to_string(),
                        r.version.to_string(),
                        lease_hex(r.lease),
                    ];
                    if !args.keys_only {
                        row.push(preview(&r.value));
                    }
                    row
                })
                .collect();
            print_table(&headers, &rows)
        }
    }
}

/// The shape of `etcdctl get -w json`: keys and values in base64.
fn etcdctl_json(revision: i64, records: &[KeyRecord]) -> Value {
    let kvs: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "key": B64.encode(&r.key),
                "create_revision": r.create_revision,
                "mod_revision": r.mod_revision,
                "version": r.version,
                "value": B64.encode(&r.value),
                "lease": r.lease,
            })
        })
        .collect();
    json!({"header": {"revision": revision}, "kvs": kvs, "count": records.len()})
}

pub fn lease_hex(lease: i64) -> String {
    if lease == 0 {
        "-".into()
    } else {
        revkeeper_formats::etcd::lease::id_hex(lease)
    }
}

/// Printable text as is (shortened), anything else as a labelled hex preview.
pub fn preview(value: &[u8]) -> String {
    const MAX: usize = 60;
    match std::str::from_utf8(value) {
        Ok(s) if s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t') => {
            let one_line = s.replace(['\n', '\t'], " ");
            if one_line.chars().count() > MAX {
                format!("{}…", one_line.chars().take(MAX).collect::<String>())
            } else {
                one_line
            }
        }
        _ => {
            let shown = &value[..value.len().min(16)];
            format!("<binary {} bytes> {}…", value.len(), hex::encode(shown))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_text_and_binary() {
        assert_eq!(preview(b"hello\nworld"), "hello world");
        assert_eq!(preview(b"k8s\0\x0a\x02"), "<binary 6 bytes> 6b3873000a02…");
        let long = "x".repeat(100);
        assert_eq!(preview(long.as_bytes()).chars().count(), 61);
    }

    #[test]
    fn json_is_etcdctl_shaped() {
        let r = KeyRecord {
            key: b"a".to_vec(),
            create_revision: 2,
            mod_revision: 3,
            version: 2,
            value: b"v".to_vec(),
            lease: 0,
        };
        let v = etcdctl_json(3, &[r]);
        assert_eq!(v["kvs"][0]["key"], "YQ==");
        assert_eq!(v["kvs"][0]["value"], "dg==");
        assert_eq!(v["count"], 1);
        assert_eq!(v["header"]["revision"], 3);
    }
}
