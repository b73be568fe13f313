//! JSON text exactly as Go's `encoding/json` writes it, for the pieces etcd marshals that a
//! restore must reproduce byte for byte (member JSON, v2-store JSON).

use std::fmt::Write;

/// Appends `s` as a Go `json.Marshal` string literal: HTML-safe (`<`, `>`, `&` as `\u003c`…),
/// U+2028/U+2029 escaped, `\b \f \n \r \t` short forms (Go ≥ 1.22), other controls `\u00XX`.
pub(crate) fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                write!(out, "\\u{:04x}", u32::from(c)).expect("write to String");
            }
            c if u32::from(c) < 0x20 => {
                write!(out, "\\u{:04x}", u32::from(c)).expect("write to String");
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a JSON array of strings (`null` when empty, as Go writes a nil slice).
pub(crate) fn push_string_array(out: &mut String, items: &[String]) {
    if items.is_empty() {
        out.push_str("null");
        return;
    }
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_string(out, item);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(s: &str) -> String {
        let mut out = String::new();
        push_string(&mut out, s);
        out
    }

    #[test]
    fn escapes_like_go() {
        assert_eq!(quoted("plain"), "\"plain\"");
        assert_eq!(quoted("a<b>&c"), r#""a\u003cb\u003e\u0026c""#);
        assert_eq!(quoted("q\"\\"), r#""q\"\\""#);
        assert_eq!(quoted("\n\t\r\u{8}\u{c}\u{1}"), r#""\n\t\r\b\f\u0001""#);
        assert_eq!(quoted("\u{2028}é"), "\"\\u2028é\"");
    }

    #[test]
    fn arrays() {
        let mut out = String::new();
        push_string_array(&mut out, &[]);
        push_string_array(&mut out, &["a".into(), "b".into()]);
        assert_eq!(out, r#"null["a","b"]"#);
    }
}
