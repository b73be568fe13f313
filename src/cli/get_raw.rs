//! `get --key/--prefix` as etcdctl prints them: `-w simple` (etcdctl's default: a key line,
//! then the value as raw bytes and a newline; `--print-value-only`, `--keys-only`), a table
//! of records (values previewed), or etcdctl's JSON (keys and values in base64), each written as the scan yields it.

use std::io::Write;

use super::get::GetArgs;
use crate::output::kv_json::KvJson;
use crate::output::{OutputFormat, Stdout, print_table};
use crate::source::{KeyRange, KeyView, RangeQuery, Source};
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
    match format {
        OutputFormat::Json => {
            let revision = match args.rev {
                Some(r) => r,
                None => source.description_and_revision()?.1,
            };
            let mut out = Stdout::new();
            let mut doc = None;
            out.run(|o| {
                doc = Some(KvJson::begin(o, revision)?);
                Ok(())
            })?;
            let Some(mut doc) = doc else {
                return Ok(()); // stdout closed at once
            };
            streamed(&*source, &query, &mut out, |o, kv| doc.record(o, kv))?;
            out.run(|o| doc.finish(o))?;
            out.finish()
        }
        OutputFormat::Simple => {
            let mut out = Stdout::new();
            // etcdctl's printKV: the key line unless values only, then the value (empty with
            // --keys-only), each ended by a newline; bytes as stored.
            streamed(&*source, &query, &mut out, |o, kv| {
                if !args.print_value_only {
                    o.write_all(kv.key)?;
                    o.write_all(b"\n")?;
                }
                o.write_all(kv.value)?;
                o.write_all(b"\n")
            })?;
            out.finish()
        }
        _ => {
            let mut headers = vec!["KEY", "CREATE", "MOD", "VERSION", "LEASE"];
            if !args.keys_only {
                headers.push("VALUE");
            }
            // Only the rows are kept (values previewed), not the records they come from.
            let mut rows: Vec<Vec<String>> = Vec::new();
            source.scan(&query, &mut |r| {
                let mut row = vec![
                    String::from_utf8_lossy(r.key).into_owned(),
                    r.create_revision.to_string(),
                    r.mod_revision.to_string(),
                    r.version.to_string(),
                    lease_hex(r.lease),
                ];
                if !args.keys_only {
                    row.push(preview(r.value));
                }
                rows.push(row);
                Ok(())
            })?;
            print_table(&headers, &rows)
        }
    }
}

/// Writes each record of `query` to stdout as the scan yields it; a closed pipe (`| head`)
/// stops the scan, so a live cluster is not read to the end for nothing.
fn streamed(
    source: &dyn Source,
    query: &RangeQuery,
    out: &mut Stdout,
    mut write: impl FnMut(&mut dyn Write, &KeyView<'_>) -> std::io::Result<()>,
) -> Result<()> {
    let scanned = source.scan(query, &mut |kv| {
        out.run(|o| write(o, &kv))?;
        if out.closed() {
            return Err(Error::general("stdout closed"));
        }
        Ok(())
    });
    match scanned {
        Err(_) if out.closed() => Ok(()),
        other => other,
    }
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
}
