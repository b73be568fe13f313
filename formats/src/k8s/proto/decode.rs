//! The wire walker: a typed message (bytes) + the compact schema → compact JSON text in the Go
//! form. Writing text directly (rather than building a `serde_json::Value`) is what makes it
//! fast; `proto::decode` parses the text when a `Value` is wanted.
//!
//! All output goes to one buffer. A message's children are written first (field by field, in
//! wire order), then the message itself is written after them in declaration order by copying
//! the children's bytes, and finally moved down over the children: every call leaves exactly its
//! own output at the end of the buffer.
//!
//! The well-known types with a JSON form of their own (`Time`, `Quantity`, raw JSON, …) are
//! written by `special.rs`; strings and scalars by `json.rs`.
//!
//! What the walk produces is a type parameter ([`Output`]): [`Json`] text, or nothing
//! ([`Check`]): the same walk, accepting and refusing exactly the same values with the same
//! errors, minus the text and the bookkeeping that only orders it.

use std::ops::Range;

use super::ProtoError;
use super::json::{write_scalar, write_str, zero_scalar};
use super::schema::{Field, FieldType, MessageDef, Scalar, Schema, Special};
use super::wire::{FIXED32, FIXED64, LEN, Reader, VARINT, WireError};

mod in_order;
mod plain_json;
mod special;

/// Message nesting bound (the deepest real objects, CRD schemas, stay far below it).
pub(super) const MAX_DEPTH: usize = 100;

/// What the walker writes; monomorphised, so [`Check`] carries none of [`Json`]'s text work.
pub(crate) trait Output {
    /// Whether JSON text is written (and field occurrences collected to order it).
    const TEXT: bool;
    /// Whether messages whose fields arrive in order are written as they arrive (`in_order.rs`).
    const IN_ORDER: bool = Self::TEXT;
}

/// Compact JSON text in `Decoder::out`.
pub(crate) enum Json {}

/// Nothing: only whether the value decodes (and how many fields the schema did not know).
/// Everything that can refuse a value happens while reading the wire, never while writing text
/// (which takes any string, number or raw JSON), so skipping the text changes no verdict.
pub(crate) enum Check {}

impl Output for Json {
    const TEXT: bool = true;
}

impl Output for Check {
    const TEXT: bool = false;
}

/// [`Json`] through the general path alone: the reference the in-order path is tested against.
pub(crate) enum GeneralJson {}

impl Output for GeneralJson {
    const TEXT: bool = true;
    const IN_ORDER: bool = false;
}

pub(super) struct Decoder<'a, O: Output> {
    schema: &'static Schema,
    depth: usize,
    /// The output; see the module comment.
    pub out: Vec<u8>,
    scratch: Vec<Item<'a>>,
    /// Fields whose number the schema does not know (data newer than the schema); skipped.
    pub unknown_fields: u32,
    /// Written as the top-level object's `metadata.resourceVersion` (what the apiserver fills
    /// in on read from the key's mod_revision), replacing a stored one.
    pub resource_version: Option<i64>,
    output: std::marker::PhantomData<O>,
}

/// What one field occurrence contributed, by declaration index; spans are in `out`.
enum Item<'a> {
    /// `None`: a zero that Go `omitempty` drops (still overrides an earlier occurrence).
    Set(u16, Option<Range<usize>>),
    Add(u16, Range<usize>),
    /// A map entry: the key's text (from the wire) and the value's JSON.
    Entry(u16, Key<'a>, Range<usize>),
}

impl Item<'_> {
    fn index(&self) -> u16 {
        match self {
            Item::Set(i, _) | Item::Add(i, _) | Item::Entry(i, _, _) => *i,
        }
    }
}

#[derive(Clone)]
enum Key<'a> {
    Text(&'a [u8]),
    Number(String),
}

impl Key<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Key::Text(b) => b,
            Key::Number(s) => s.as_bytes(),
        }
    }
}

/// Where a field sits, for error messages: `Pod.spec (2)`.
fn field_label(schema: &Schema, msg: usize, f: &Field) -> String {
    format!(
        "{}.{} ({})",
        schema.messages[msg].short_name(),
        f.json_name,
        f.number
    )
}

fn wire_name(wire_type: u8) -> &'static str {
    match wire_type {
        VARINT => "varint",
        FIXED64 => "64-bit",
        LEN => "length-delimited",
        FIXED32 => "32-bit",
        _ => "invalid",
    }
}

impl<'a, O: Output> Decoder<'a, O> {
    /// A decoder appending to `out` (left empty by [`Check`]).
    pub fn new(out: Vec<u8>) -> Self {
        Decoder {
            schema: Schema::get(),
            depth: 0,
            out,
            scratch: Vec::new(),
            unknown_fields: 0,
            resource_version: None,
            output: std::marker::PhantomData,
        }
    }

    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Writes message `msg` decoded from `data` (at absolute offset `base` of the stored value).
    pub fn message(
        &mut self,
        msg: usize,
        data: &'a [u8],
        base: usize,
    ) -> Result<Range<usize>, ProtoError> {
        if self.depth >= MAX_DEPTH {
            return Err(ProtoError::TooDeep { at: base });
        }
        self.depth += 1;
        let begin = self.out.len();
        let written = match self.schema.messages[msg].special {
            Special::None => self.object(msg, data, base, begin, None),
            special => self.special(msg, special, data, base, begin),
        };
        self.depth -= 1;
        written
    }

    /// Writes a plain message as a JSON object; `header` (already-quoted `"k":v` pairs) comes
    /// first. `begin` is where the output must end up.
    pub fn object(
        &mut self,
        msg: usize,
        data: &'a [u8],
        base: usize,
        begin: usize,
        header: Option<&[u8]>,
    ) -> Result<Range<usize>, ProtoError> {
        if O::IN_ORDER && begin == self.out.len() && self.in_order(msg, data) {
            return self.object_in_order(msg, data, base, header);
        }
        let start = self.scratch.len();
        if let Err(e) = self.collect_fields(msg, data, base) {
            self.scratch.truncate(start);
            return Err(e);
        }
        if !O::TEXT {
            self.scratch.truncate(start);
            return Ok(begin..begin);
        }
        self.add_resource_version(msg);
        let from = self.out.len();
        self.out.push(b'{');
        let mut first = true;
        if let Some(h) = header {
            self.out.extend_from_slice(h);
            first = h.is_empty();
        }
        self.emit(msg, start, first);
        self.out.push(b'}');
        Ok(self.settle(begin, from))
    }

    /// In the top-level object's ObjectMeta (depth 1: nested envelopes are deeper), adds
    /// `resourceVersion` after the fields read from the wire, so it wins over a stored one.
    fn add_resource_version(&mut self, msg: usize) {
        if let Some((i, rv)) = self.pending_resource_version(msg) {
            let begin = self.out.len();
            self.write_resource_version(rv);
            self.scratch
                .push(Item::Set(i as u16, Some(begin..self.out.len())));
        }
    }

    /// The declaration index of `resourceVersion` and the revision to write there, when `msg`
    /// is the top-level object's ObjectMeta and the read has a resourceVersion.
    fn pending_resource_version(&self, msg: usize) -> Option<(usize, i64)> {
        let (rv, (meta, i)) = (self.resource_version?, self.schema.resource_version?);
        (self.depth == 1 && msg == meta).then_some((i as usize, rv))
    }

    fn write_resource_version(&mut self, rv: i64) {
        self.out.push(b'"');
        self.out
            .extend_from_slice(itoa::Buffer::new().format(rv).as_bytes());
        self.out.push(b'"');
    }

    /// Moves the output written at `from..` down to `begin` (over the children it was copied
    /// from) and returns its span.
    fn settle(&mut self, begin: usize, from: usize) -> Range<usize> {
        let len = self.out.len() - from;
        if from != begin {
            self.out.copy_within(from.., begin);
            self.out.truncate(begin + len);
        }
        begin..begin + len
    }

    /// Pushes every field occurrence of message `msg` onto `scratch`.
    fn collect_fields(
        &mut self,
        msg: usize,
        data: &'a [u8],
        base: usize,
    ) -> Result<(), ProtoError> {
        let def = &self.schema.messages[msg];
        let mut r = Reader::new(data);
        while !r.is_empty() {
            let (number, wire_type, at) = next_key(&mut r, def, base)?;
            let Some((i, field)) = def.field(number) else {
                self.unknown_fields = self.unknown_fields.saturating_add(1);
                r.skip(wire_type).map_err(|e| {
                    malformed(def.short_name(), &format!("unknown field {number}"), e, at)
                })?;
                continue;
            };
            self.field(msg, i as u16, field, wire_type, &mut r, base)?;
        }
        Ok(())
    }

    /// Writes the fields collected on `scratch[start..]`, in declaration order.
    fn emit(&mut self, msg: usize, start: usize, mut first: bool) {
        let def = &self.schema.messages[msg];
        self.scratch[start..].sort_by_key(Item::index);
        let mut items = self.scratch.drain(start..).peekable();
        let out = &mut self.out;
        let mut sep = |out: &mut Vec<u8>| {
            if !first {
                out.push(b',');
            }
            first = false;
        };
        while let Some(item) = items.next() {
            let i = item.index();
            let field = &def.fields[i as usize];
            match item {
                Item::Set(_, mut span) => {
                    // The last occurrence wins.
                    while let Some(Item::Set(_, next)) = items.next_if(|n| n.index() == i) {
                        span = next;
                    }
                    let Some(span) = span else { continue };
                    if field.inline {
                        // An embedded struct: its fields, without braces, in this object.
                        if span.len() > 2 {
                            sep(out);
                            out.extend_from_within(span.start + 1..span.end - 1);
                        }
                        continue;
                    }
                    if field.omit_null && &out[span.clone()] == b"null" {
                        continue;
                    }
                    sep(out);
                    out.extend_from_slice(&field.json_key);
                    out.extend_from_within(span);
                }
                Item::Add(_, span) => {
                    sep(out);
                    out.extend_from_slice(&field.json_key);
                    out.push(b'[');
                    out.extend_from_within(span);
                    while let Some(Item::Add(_, next)) = items.next_if(|n| n.index() == i) {
                        out.push(b',');
                        out.extend_from_within(next);
                    }
                    out.push(b']');
                }
                Item::Entry(_, key, span) => {
                    let mut entries = vec![(key, span)];
                    while let Some(Item::Entry(_, k, v)) = items.next_if(|n| n.index() == i) {
                        entries.push((k, v));
                    }
                    // Go prints maps sorted by key; the last duplicate wins.
                    entries.reverse();
                    entries.sort_by(|a, b| a.0.bytes().cmp(b.0.bytes()));
                    entries.dedup_by(|a, b| a.0.bytes() == b.0.bytes());
                    sep(out);
                    out.extend_from_slice(&field.json_key);
                    out.push(b'{');
                    for (n, (k, v)) in entries.into_iter().enumerate() {
                        if n > 0 {
                            out.push(b',');
                        }
                        write_str(out, k.bytes());
                        out.push(b':');
                        out.extend_from_within(v);
                    }
                    out.push(b'}');
                }
            }
        }
    }

    fn field(
        &mut self,
        msg: usize,
        i: u16,
        field: &Field,
        wire_type: u8,
        r: &mut Reader<'a>,
        base: usize,
    ) -> Result<(), ProtoError> {
        let schema = self.schema;
        let at = base + r.pos();
        let wire_err = |expected: u8| ProtoError::WireType {
            field: field_label(schema, msg, field),
            got: wire_type,
            expected: wire_name(expected),
        };
        let read_err = |e: WireError| ProtoError::Malformed {
            field: field_label(schema, msg, field),
            reason: reason(e),
            at,
        };
        match field.ty {
            FieldType::Message(target) => {
                if wire_type != LEN {
                    return Err(wire_err(LEN));
                }
                let data = r.len_delimited().map_err(read_err)?;
                let data_base = base + r.pos() - data.len();
                if field.map {
                    let (k, v) = self.map_entry(target, data, data_base)?;
                    self.scratch.push(Item::Entry(i, k, v));
                } else {
                    let v = self.message(target, data, data_base)?;
                    self.scratch.push(if field.repeated {
                        Item::Add(i, v)
                    } else {
                        Item::Set(i, Some(v))
                    });
                }
            }
            FieldType::Scalar(scalar) => {
                let native = native_wire(scalar);
                if field.repeated && wire_type == LEN && native != LEN {
                    // Packed encoding.
                    let data = r.len_delimited().map_err(read_err)?;
                    let mut packed = Reader::new(data);
                    if !O::TEXT {
                        while !packed.is_empty() {
                            packed.skip(native).map_err(read_err)?;
                        }
                        return Ok(());
                    }
                    while !packed.is_empty() {
                        let begin = self.out.len();
                        write_scalar(&mut self.out, scalar, &mut packed).map_err(read_err)?;
                        self.scratch.push(Item::Add(i, begin..self.out.len()));
                    }
                    return Ok(());
                }
                if wire_type != native {
                    return Err(wire_err(native));
                }
                if !O::TEXT {
                    // The same reads as `write_scalar`, so the same errors.
                    return r.skip(native).map_err(read_err);
                }
                let begin = self.out.len();
                let zero = write_scalar(&mut self.out, scalar, r).map_err(read_err)?;
                let span = begin..self.out.len();
                self.scratch.push(if field.repeated {
                    Item::Add(i, span)
                } else if field.keep_zero || !zero {
                    Item::Set(i, Some(span))
                } else {
                    self.out.truncate(begin);
                    Item::Set(i, None)
                });
            }
        }
        Ok(())
    }

    /// Reads a map entry {1 key, 2 value}: the key's text and the value's JSON span.
    fn map_entry(
        &mut self,
        entry: usize,
        data: &'a [u8],
        base: usize,
    ) -> Result<(Key<'a>, Range<usize>), ProtoError> {
        let def = &self.schema.messages[entry];
        let mut key = Key::Text(b"");
        let mut value = None;
        let mut r = Reader::new(data);
        while !r.is_empty() {
            let (number, wire_type, at) = next_key(&mut r, def, base)?;
            let bad = |e| malformed(def.short_name(), "entry", e, at);
            match (number, def.field(number)) {
                (1, Some((_, f))) if wire_type == native_of(f) => match f.ty {
                    FieldType::Scalar(Scalar::String | Scalar::Bytes) => {
                        key = Key::Text(r.len_delimited().map_err(bad)?);
                    }
                    FieldType::Scalar(_) if !O::TEXT => r.skip(wire_type).map_err(bad)?,
                    FieldType::Scalar(s) => {
                        let mut text = Vec::new();
                        write_scalar(&mut text, s, &mut r).map_err(bad)?;
                        key = Key::Number(String::from_utf8_lossy(&text).into_owned());
                    }
                    FieldType::Message(_) => {
                        r.skip(wire_type).map_err(bad)?;
                    }
                },
                (2, Some((_, f))) => {
                    // Decoded like a plain field, into a throwaway slot on `scratch`.
                    let start = self.scratch.len();
                    self.field(entry, 0, f, wire_type, &mut r, base)?;
                    if let Some(Item::Set(_, Some(span)) | Item::Add(_, span)) = self.scratch.pop()
                    {
                        value = Some(span);
                    }
                    self.scratch.truncate(start);
                }
                _ => {
                    self.unknown_fields = self.unknown_fields.saturating_add(1);
                    r.skip(wire_type).map_err(bad)?;
                }
            }
        }
        let value = match value {
            Some(v) => v,
            // Go fills in the zero value.
            None => match def.field(2).map(|(_, f)| f.ty) {
                Some(FieldType::Message(m)) => self.message(m, &[], base)?,
                Some(FieldType::Scalar(_)) if !O::TEXT => 0..0,
                Some(FieldType::Scalar(s)) => {
                    let begin = self.out.len();
                    self.out.extend_from_slice(zero_scalar(s));
                    begin..self.out.len()
                }
                None if !O::TEXT => 0..0,
                None => {
                    let begin = self.out.len();
                    self.out.extend_from_slice(b"null");
                    begin..self.out.len()
                }
            },
        };
        Ok((key, value))
    }
}

fn reason(e: WireError) -> &'static str {
    match e {
        WireError::Truncated => "truncated",
        WireError::BadVarint => "bad varint",
        WireError::BadWireType(_) => "unsupported wire type",
    }
}

/// The next field key (number, wire type) of message `msg` and its offset in the stored value.
/// (The message's name is only worked out for an error: this runs for every field.)
fn next_key(
    r: &mut Reader<'_>,
    msg: &MessageDef,
    base: usize,
) -> Result<(u32, u8, usize), ProtoError> {
    let at = base + r.pos();
    let (number, wire_type) = r
        .key()
        .map_err(|e| malformed(msg.short_name(), "key", e, at))?;
    Ok((number, wire_type, at))
}

fn malformed(msg: &str, what: &str, e: WireError, at: usize) -> ProtoError {
    ProtoError::Malformed {
        field: format!("{msg} {what}"),
        reason: reason(e),
        at,
    }
}

fn native_wire(s: Scalar) -> u8 {
    match s {
        Scalar::Double | Scalar::Fixed64 | Scalar::SFixed64 => FIXED64,
        Scalar::Float | Scalar::Fixed32 | Scalar::SFixed32 => FIXED32,
        Scalar::String | Scalar::Bytes => LEN,
        _ => VARINT,
    }
}

fn native_of(f: &Field) -> u8 {
    match f.ty {
        FieldType::Scalar(s) => native_wire(s),
        FieldType::Message(_) => LEN,
    }
}
