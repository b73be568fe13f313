//! Objects of a key range as JSON lines (`get --decode -o jsonl`, `get RESOURCE -o jsonl`):
//! decoded on every core ([`super::batches`]), protobuf values straight from the wire to the
//! text (no `serde_json::Value`), written in key order. Each line is the object as the apiserver
//! serves it, `metadata.resourceVersion` being the key's mod_revision.

use revkeeper_formats::k8s::{Encoding, Keyring, ValueError, write_value_json};
use serde_json::Value;

use super::batches::{default_workers, for_each_in_order};
use super::{Failures, decode_kv, note_not_an_object};
use crate::output::Stdout;
use crate::source::{KeyView, RangeQuery, Source};
use crate::{Error, Result};

/// Which objects are printed, when not all: label and field selectors read the object, so
/// filtered listings decode through a `Value` (slower).
pub type ObjectFilter<'a> = &'a (dyn Fn(&Value) -> bool + Sync);

/// What one batch wrote, and what to report about it (in key order, by the writing thread).
#[derive(Default)]
struct Lines {
    text: Vec<u8>,
    objects: u64,
    counts: Failures,
    notes: Vec<Note>,
}

enum Note {
    Failed(Vec<u8>, String),
    NotAnObject(Vec<u8>, Encoding, usize),
}

/// A check of the source that must be done before the first line is printed, run beside the
/// decoding: it returns a warning for stderr (a snapshot's sha256 trailer check,
/// [`crate::source::SnapshotSource::unproven_warning`]).
pub type BeforeOutput<'a> = &'a (dyn Fn() -> Option<String> + Sync);

/// Decoded lines held back while the [`BeforeOutput`] check runs, at most this many bytes; then
/// the decoding waits for it.
const HELD_BYTES: usize = 512 << 20;

/// Writes every object of `query` whose key `keep` accepts as a JSON line on `out`; returns
/// how many were printed and the decoding failures (each already reported on stderr). A closed
/// pipe ends the listing quietly (`out.closed()`). `check` runs on its own thread while the
/// objects are decoded; its warning comes before any line.
pub fn write_json_lines(
    source: &dyn Source,
    query: &RangeQuery,
    keep: &(dyn Fn(&[u8]) -> bool + Sync),
    keys: &Keyring,
    filter: Option<ObjectFilter<'_>>,
    check: Option<BeforeOutput<'_>>,
    out: &mut Stdout,
) -> Result<(u64, Failures)> {
    let mut printer = Printer {
        out,
        printed: 0,
        failures: Failures::default(),
    };
    let keep = |kv: &KeyView<'_>| keep(kv.key);
    let work = |batch: &[KeyView<'_>]| lines(batch, keys, filter);
    let listed = std::thread::scope(|s| {
        let mut pending = check.map(|c| s.spawn(c));
        let mut held = Vec::new();
        let mut held_bytes = 0;
        let listed = for_each_in_order(
            source,
            query,
            default_workers(),
            &keep,
            &work,
            &mut |lines: Lines| {
                if let Some(check) = &pending {
                    if !check.is_finished() && held_bytes + lines.text.len() <= HELD_BYTES {
                        held_bytes += lines.text.len();
                        held.push(lines);
                        return Ok(());
                    }
                    warn_then_print(pending.take(), std::mem::take(&mut held), &mut printer)?;
                }
                printer.print(lines)
            },
        );
        // A short listing (or a failed one) ends before the check: its verdict, then the lines.
        warn_then_print(pending, held, &mut printer)?;
        listed
    });
    let Printer {
        out,
        printed,
        failures,
    } = printer;
    if !out.closed() {
        listed?;
    }
    Ok((printed, failures))
}

/// Waits for the check, prints its warning, then the lines held back for it.
fn warn_then_print(
    check: Option<std::thread::ScopedJoinHandle<'_, Option<String>>>,
    held: Vec<Lines>,
    printer: &mut Printer<'_>,
) -> Result<()> {
    if let Some(check) = check {
        let warning = check
            .join()
            .map_err(|_| Error::general("the snapshot's integrity check panicked"))?;
        if let Some(warning) = warning {
            crate::log::warn(&warning, &[]);
        }
    }
    held.into_iter().try_for_each(|lines| printer.print(lines))
}

/// Prints batches of lines in order and reports their failures.
struct Printer<'o> {
    out: &'o mut Stdout,
    printed: u64,
    failures: Failures,
}

impl Printer<'_> {
    fn print(&mut self, lines: Lines) -> Result<()> {
        if self.out.closed() {
            return Err(Error::general("output closed"));
        }
        self.out.run(|o| o.write_all(&lines.text))?;
        self.printed += lines.objects;
        self.failures.add(&lines.counts);
        for note in lines.notes {
            match note {
                Note::Failed(key, why) => self.failures.fail(&key, why),
                Note::NotAnObject(key, encoding, len) => note_not_an_object(&key, &encoding, len),
            }
        }
        if self.out.closed() {
            return Err(Error::general("output closed"));
        }
        Ok(())
    }
}

/// Decodes one batch into its lines.
fn lines(batch: &[KeyView<'_>], keys: &Keyring, filter: Option<ObjectFilter<'_>>) -> Lines {
    let mut l = Lines {
        text: Vec::with_capacity(batch.iter().map(|kv| kv.value.len() * 2).sum()),
        ..Lines::default()
    };
    for kv in batch {
        match write_line(kv, keys, filter, &mut l.text) {
            Ok((outcome, unknown_fields)) => {
                l.counts.ok();
                l.counts.newer.note_count(kv.key, unknown_fields);
                match outcome {
                    Outcome::Printed => {
                        l.text.push(b'\n');
                        l.objects += 1;
                    }
                    Outcome::Filtered => {}
                    Outcome::NotAnObject(encoding) => {
                        l.notes
                            .push(Note::NotAnObject(kv.key.to_vec(), encoding, kv.value.len()))
                    }
                }
            }
            Err(e) => l.notes.push(Note::Failed(kv.key.to_vec(), e.to_string())),
        }
    }
    l
}

enum Outcome {
    Printed,
    Filtered,
    NotAnObject(Encoding),
}

/// Appends one key's object to `text` (without the newline); also returns the number of fields
/// newer than the schema.
fn write_line(
    kv: &KeyView<'_>,
    keys: &Keyring,
    filter: Option<ObjectFilter<'_>>,
    text: &mut Vec<u8>,
) -> std::result::Result<(Outcome, u32), ValueError> {
    let Some(keep) = filter else {
        let w = write_value_json(kv.key, kv.value, keys, Some(kv.mod_revision), text)?;
        let outcome = if w.object {
            Outcome::Printed
        } else {
            Outcome::NotAnObject(w.encoding)
        };
        return Ok((outcome, w.unknown_fields));
    };
    let d = decode_kv(kv, keys)?;
    let outcome = match &d.object {
        None => Outcome::NotAnObject(d.encoding.clone()),
        Some(o) if !keep(o) => Outcome::Filtered,
        Some(o) => {
            serde_json::to_writer(&mut *text, o).expect("a JSON value always serializes to memory");
            Outcome::Printed
        }
    };
    Ok((outcome, d.unknown_fields))
}
