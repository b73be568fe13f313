//! The fast path of [`Decoder::object`] for messages whose field numbers grow in declaration
//! order (`MessageDef::in_order`: ObjectMeta, managedFields entries, Pod, most small types).
//! gogo writes fields by number, so such a message arrives in the order it is printed, and each
//! field can be written straight to its place: no copy of the children, which the general path
//! makes at every level of nesting.
//!
//! Anything the general path would reorder, merge or reject gives up, and the caller writes the
//! message the general way: a field out of order or repeated when it should not be, map keys
//! not strictly sorted or not strings, a stored `resourceVersion`, packed scalars, an error.

use super::{Decoder, Item, next_key};
use crate::k8s::proto::ProtoError;
use crate::k8s::proto::json::{write_str, zero_scalar};
use crate::k8s::proto::schema::{Field, FieldType, Scalar};
use crate::k8s::proto::wire::{LEN, Reader, WireError};

/// What gave up: the caller decodes the message again the general way.
struct GiveUp;

impl From<ProtoError> for GiveUp {
    fn from(_: ProtoError) -> GiveUp {
        GiveUp
    }
}

impl From<WireError> for GiveUp {
    fn from(_: WireError) -> GiveUp {
        GiveUp
    }
}

/// The array or map being written (its closing byte), or none.
type Open = Option<u8>;

impl<'a> Decoder<'a> {
    /// Writes message `msg` as a JSON object at the end of `out` when its fields arrive in
    /// declaration order; otherwise leaves `out`, `scratch` and the counters as they were and
    /// returns false.
    pub(super) fn object_in_order(
        &mut self,
        msg: usize,
        data: &'a [u8],
        base: usize,
        header: Option<&[u8]>,
    ) -> bool {
        let (begin, scratch, unknown) = (self.out.len(), self.scratch.len(), self.unknown_fields);
        if self.write_in_order(msg, data, base, header).is_ok() {
            return true;
        }
        self.out.truncate(begin);
        self.scratch.truncate(scratch);
        self.unknown_fields = unknown;
        false
    }

    fn write_in_order(
        &mut self,
        msg: usize,
        data: &'a [u8],
        base: usize,
        header: Option<&[u8]>,
    ) -> Result<(), GiveUp> {
        let def = &self.schema.messages[msg];
        let mut resource_version = self.resource_version_in(msg);
        self.out.push(b'{');
        let mut first = true;
        if let Some(h) = header {
            self.out.extend_from_slice(h);
            first = h.is_empty();
        }
        let mut last: Option<u16> = None;
        let mut open: Open = None;
        let mut map_key: Option<&'a [u8]> = None;
        let mut r = Reader::new(data);
        while !r.is_empty() {
            let (number, wire_type, _) = next_key(&mut r, def, base)?;
            let Some((i, field)) = def.field(number) else {
                self.unknown_fields = self.unknown_fields.saturating_add(1);
                r.skip(wire_type)?;
                continue;
            };
            let i = i as u16;
            let again = last == Some(i);
            if last.is_some_and(|l| i < l) || (again && !field.repeated && !field.map) {
                return Err(GiveUp);
            }
            if !again {
                self.close(&mut open);
                map_key = None;
                if let Some((at, rv)) = resource_version {
                    if i == at {
                        return Err(GiveUp);
                    }
                    if i > at {
                        self.write_resource_version(msg, at, rv, &mut first);
                        resource_version = None;
                    }
                }
            }
            last = Some(i);
            if field.map {
                let FieldType::Message(entry) = field.ty else {
                    return Err(GiveUp);
                };
                if wire_type != LEN {
                    return Err(GiveUp);
                }
                let data = r.len_delimited()?;
                let data_base = base + r.pos() - data.len();
                if again {
                    self.out.push(b',');
                } else {
                    sep(&mut self.out, &mut first);
                    self.out.extend_from_slice(&field.json_key);
                    self.out.push(b'{');
                    open = Some(b'}');
                }
                self.map_entry_in_order(entry, data, data_base, &mut map_key)?;
            } else if field.repeated {
                if again {
                    self.out.push(b',');
                } else {
                    sep(&mut self.out, &mut first);
                    self.out.extend_from_slice(&field.json_key);
                    self.out.push(b'[');
                    open = Some(b']');
                }
                match self.one_value(msg, i, field, wire_type, &mut r, base)? {
                    Some(Item::Add(..)) => {}
                    _ => return Err(GiveUp),
                }
            } else {
                let (mark, was_first) = (self.out.len(), first);
                sep(&mut self.out, &mut first);
                if !field.inline {
                    self.out.extend_from_slice(&field.json_key);
                }
                let Some(Item::Set(_, value)) =
                    self.one_value(msg, i, field, wire_type, &mut r, base)?
                else {
                    return Err(GiveUp);
                };
                let dropped = match value {
                    None => true,
                    Some(span) if field.inline => {
                        // An embedded struct: its fields, without braces, in this object.
                        let inner = span.start + 1..span.end - 1;
                        self.out.copy_within(inner.clone(), span.start);
                        self.out.truncate(span.start + inner.len());
                        inner.is_empty()
                    }
                    Some(span) => field.omit_null && &self.out[span] == b"null",
                };
                if dropped {
                    self.out.truncate(mark);
                    first = was_first;
                }
            }
        }
        self.close(&mut open);
        if let Some((at, rv)) = resource_version {
            self.write_resource_version(msg, at, rv, &mut first);
        }
        self.out.push(b'}');
        Ok(())
    }

    /// Decodes one occurrence of a field in place at the end of `out`, as the general path
    /// does; its item, or a give-up when it made more than one (packed scalars) or none.
    fn one_value(
        &mut self,
        msg: usize,
        i: u16,
        field: &Field,
        wire_type: u8,
        r: &mut Reader<'a>,
        base: usize,
    ) -> Result<Option<Item<'a>>, GiveUp> {
        let start = self.scratch.len();
        self.field(msg, i, field, wire_type, r, base)?;
        if self.scratch.len() != start + 1 {
            return Err(GiveUp);
        }
        Ok(self.scratch.pop())
    }

    /// One map entry {1 key, 2 value} as `"key":value`, when it has a string key greater than
    /// the entry before it (Go prints maps sorted; gogo writes them sorted).
    fn map_entry_in_order(
        &mut self,
        entry: usize,
        data: &'a [u8],
        base: usize,
        previous: &mut Option<&'a [u8]>,
    ) -> Result<(), GiveUp> {
        let def = &self.schema.messages[entry];
        let mut r = Reader::new(data);
        let (number, wire_type, _) = next_key(&mut r, def, base)?;
        let is_text = |f: &Field| matches!(f.ty, FieldType::Scalar(Scalar::String | Scalar::Bytes));
        match def.field(1) {
            Some((_, f)) if number == 1 && wire_type == LEN && is_text(f) => {}
            _ => return Err(GiveUp),
        }
        let key = r.len_delimited()?;
        if previous.is_some_and(|p| key <= p) {
            return Err(GiveUp);
        }
        *previous = Some(key);
        write_str(&mut self.out, key);
        self.out.push(b':');
        let value = def.field(2).map(|(_, f)| f);
        if r.is_empty() {
            // Go fills in the zero value.
            match value.map(|f| f.ty) {
                Some(FieldType::Message(m)) => {
                    self.message(m, &[], base)?;
                }
                Some(FieldType::Scalar(s)) => self.out.extend_from_slice(zero_scalar(s)),
                None => self.out.extend_from_slice(b"null"),
            }
            return Ok(());
        }
        let (number, wire_type, _) = next_key(&mut r, def, base)?;
        let Some(value) = value.filter(|_| number == 2) else {
            return Err(GiveUp);
        };
        match self.one_value(entry, 0, value, wire_type, &mut r, base)? {
            Some(Item::Set(_, Some(_)) | Item::Add(..)) => {}
            Some(Item::Set(_, None)) => match value.ty {
                FieldType::Scalar(s) => self.out.extend_from_slice(zero_scalar(s)),
                FieldType::Message(_) => return Err(GiveUp),
            },
            _ => return Err(GiveUp),
        }
        if !r.is_empty() {
            return Err(GiveUp);
        }
        Ok(())
    }

    fn close(&mut self, open: &mut Open) {
        if let Some(b) = open.take() {
            self.out.push(b);
        }
    }

    fn write_resource_version(&mut self, msg: usize, at: u16, rv: i64, first: &mut bool) {
        let field = &self.schema.messages[msg].fields[at as usize];
        sep(&mut self.out, first);
        self.out.extend_from_slice(&field.json_key);
        self.out.push(b'"');
        self.out
            .extend_from_slice(itoa::Buffer::new().format(rv).as_bytes());
        self.out.push(b'"');
    }
}

fn sep(out: &mut Vec<u8>, first: &mut bool) {
    if !*first {
        out.push(b',');
    }
    *first = false;
}
