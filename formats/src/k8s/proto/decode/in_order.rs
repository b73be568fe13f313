//! The in-order path: a message whose fields arrive in declaration order (as Go writes nearly
//! every Kubernetes type) is written straight to its place, with no field collection, sort or
//! copy. Whether a message qualifies is decided ONCE, before anything of it is written, by
//! reading this level's field keys only (children are skipped, not looked into): each level
//! decides for itself, nothing is ever decoded twice, and the walk stays linear however deep
//! and however damaged the value. A message that does not qualify takes the general path
//! (`Decoder::object`), whose output and errors are the reference; so that every error comes
//! from the same code as before, anything unusual at this level (a bad key or wire type, a
//! truncated field, a duplicate, a map entry out of order) sends the message there.

use std::ops::Range;

use super::super::ProtoError;
use super::super::json::{write_scalar, write_str};
use super::super::schema::{FieldType, Scalar};
use super::super::wire::{LEN, Reader};
use super::{Decoder, Output, malformed, native_wire, next_key, reason};

impl<'a, O: Output> Decoder<'a, O> {
    /// Whether message `msg` in `data` can be written as its fields arrive: known fields in
    /// declaration order, a repeated field's occurrences (or a map's entries, by a text key in
    /// strictly increasing order) together, no embedded struct, every field well-formed at
    /// this level.
    pub(super) fn in_order(&self, msg: usize, data: &[u8]) -> bool {
        let def = &self.schema.messages[msg];
        let mut r = Reader::new(data);
        let mut last: Option<usize> = None;
        let mut last_key: &[u8] = &[];
        while !r.is_empty() {
            let Ok((number, wire_type)) = r.key() else {
                return false;
            };
            let Some((i, field)) = def.field(number) else {
                if r.skip(wire_type).is_err() {
                    return false;
                }
                continue;
            };
            let again = last == Some(i);
            if field.inline || last.is_some_and(|l| i < l) || (again && !field.repeated) {
                return false;
            }
            match field.ty {
                FieldType::Message(entry) if field.map => {
                    if wire_type != LEN {
                        return false;
                    }
                    let Some(key) = r.len_delimited().ok().and_then(|e| self.text_key(entry, e))
                    else {
                        return false;
                    };
                    if again && key <= last_key {
                        return false;
                    }
                    last_key = key;
                }
                FieldType::Message(_) => {
                    if wire_type != LEN || r.len_delimited().is_err() {
                        return false;
                    }
                }
                FieldType::Scalar(s) => {
                    let native = native_wire(s);
                    if field.repeated && wire_type == LEN && native != LEN {
                        let Ok(packed) = r.len_delimited() else {
                            return false;
                        };
                        let mut p = Reader::new(packed);
                        while !p.is_empty() {
                            if p.skip(native).is_err() {
                                return false;
                            }
                        }
                    } else if wire_type != native || r.skip(native).is_err() {
                        return false;
                    }
                }
            }
            last = Some(i);
        }
        true
    }

    /// The key of a map entry whose first field is its text key, met once; `None` otherwise.
    fn text_key<'e>(&self, entry: usize, data: &'e [u8]) -> Option<&'e [u8]> {
        let def = &self.schema.messages[entry];
        let (_, key_field) = def.field(1)?;
        if !matches!(
            key_field.ty,
            FieldType::Scalar(Scalar::String | Scalar::Bytes)
        ) {
            return None;
        }
        let mut r = Reader::new(data);
        if r.key().ok()? != (1, LEN) {
            return None;
        }
        let key = r.len_delimited().ok()?;
        while !r.is_empty() {
            let (number, wire_type) = r.key().ok()?;
            if number == 1 {
                return None;
            }
            r.skip(wire_type).ok()?;
        }
        Some(key)
    }

    /// Writes message `msg` (for which [`Self::in_order`] holds) as a JSON object at the end
    /// of the output, each field where it arrives.
    pub(super) fn object_in_order(
        &mut self,
        msg: usize,
        data: &'a [u8],
        base: usize,
        header: Option<&[u8]>,
    ) -> Result<Range<usize>, ProtoError> {
        let schema = self.schema;
        let def = &schema.messages[msg];
        let begin = self.out.len();
        self.out.push(b'{');
        let mut first = true;
        if let Some(h) = header {
            self.out.extend_from_slice(h);
            first = h.is_empty();
        }
        // The read's resourceVersion, written at its place in ObjectMeta (over a stored one).
        let mut resource_version = self.pending_resource_version(msg);
        // The repeated field or map whose `[`/`{` is open, and its closing byte.
        let mut open: Option<(usize, u8)> = None;
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
            if let Some((o, close)) = open {
                if o != i {
                    self.out.push(close);
                    open = None;
                }
            }
            if let Some((rv_index, rv)) = resource_version {
                if i >= rv_index {
                    self.write_key(&mut first, &def.fields[rv_index].json_key);
                    self.write_resource_version(rv);
                    resource_version = None;
                    if i == rv_index {
                        r.skip(wire_type)
                            .map_err(|e| malformed(def.short_name(), "resourceVersion", e, at))?;
                        continue;
                    }
                }
            }
            let read_err = |e| ProtoError::Malformed {
                field: super::field_label(schema, msg, field),
                reason: reason(e),
                at,
            };
            let close = if field.map { b'}' } else { b']' };
            match field.ty {
                FieldType::Message(target) => {
                    let data = r.len_delimited().map_err(read_err)?;
                    let data_base = base + r.pos() - data.len();
                    if field.map {
                        self.open_element(&mut open, &mut first, i, &field.json_key, close);
                        let key = self.text_key(target, data).unwrap_or_default();
                        write_str(&mut self.out, key);
                        self.out.push(b':');
                        self.map_entry(target, data, data_base)?;
                    } else if field.repeated {
                        self.open_element(&mut open, &mut first, i, &field.json_key, close);
                        self.message(target, data, data_base)?;
                    } else {
                        let mark = (self.out.len(), first);
                        self.write_key(&mut first, &field.json_key);
                        let value = self.message(target, data, data_base)?;
                        if field.omit_null && &self.out[value] == b"null" {
                            self.out.truncate(mark.0);
                            first = mark.1;
                        }
                    }
                }
                FieldType::Scalar(scalar) if field.repeated => {
                    let native = native_wire(scalar);
                    if wire_type == LEN && native != LEN {
                        let mut packed = Reader::new(r.len_delimited().map_err(read_err)?);
                        while !packed.is_empty() {
                            self.open_element(&mut open, &mut first, i, &field.json_key, close);
                            write_scalar(&mut self.out, scalar, &mut packed).map_err(read_err)?;
                        }
                    } else {
                        self.open_element(&mut open, &mut first, i, &field.json_key, close);
                        write_scalar(&mut self.out, scalar, &mut r).map_err(read_err)?;
                    }
                }
                FieldType::Scalar(scalar) => {
                    let mark = (self.out.len(), first);
                    self.write_key(&mut first, &field.json_key);
                    let zero = write_scalar(&mut self.out, scalar, &mut r).map_err(read_err)?;
                    if zero && !field.keep_zero {
                        self.out.truncate(mark.0);
                        first = mark.1;
                    }
                }
            }
        }
        if let Some((_, close)) = open {
            self.out.push(close);
        }
        if let Some((rv_index, rv)) = resource_version {
            self.write_key(&mut first, &def.fields[rv_index].json_key);
            self.write_resource_version(rv);
        }
        self.out.push(b'}');
        Ok(begin..self.out.len())
    }

    /// `,"key":` (no comma before the first field).
    fn write_key(&mut self, first: &mut bool, json_key: &[u8]) {
        if !*first {
            self.out.push(b',');
        }
        *first = false;
        self.out.extend_from_slice(json_key);
    }

    /// Before one element of repeated field (or map) `i`: `,` within the open array, or the
    /// field's key and the opening bracket.
    fn open_element(
        &mut self,
        open: &mut Option<(usize, u8)>,
        first: &mut bool,
        i: usize,
        json_key: &[u8],
        close: u8,
    ) {
        if *open == Some((i, close)) {
            self.out.push(b',');
            return;
        }
        self.write_key(first, json_key);
        self.out.push(if close == b'}' { b'{' } else { b'[' });
        *open = Some((i, close));
    }
}
