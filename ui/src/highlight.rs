//! Syntax colours for the YAML and JSON the object view shows: keys, strings, numbers and
//! literals. Line by line, with no parser: the text comes from our own emitter, so its shape is
//! known (one `key: value` or `- item` per line).

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::theme::Theme;

/// One line of YAML or JSON, coloured.
pub fn line(text: &str, theme: Theme) -> Line<'static> {
    let indent_len = text.len() - text.trim_start().len();
    let (indent, rest) = text.split_at(indent_len);
    let mut spans = vec![Span::raw(indent.to_string())];
    let (bullet, rest) = match rest.strip_prefix("- ") {
        Some(r) => ("- ", r),
        None => ("", rest),
    };
    if !bullet.is_empty() {
        spans.push(Span::styled(bullet, theme.dim()));
    }
    match split_key(rest) {
        Some((key, sep, value)) => {
            spans.push(Span::styled(key.to_string(), theme.key()));
            spans.push(Span::raw(sep.to_string()));
            spans.push(value_span(value, theme));
        }
        None => spans.push(value_span(rest, theme)),
    }
    Line::from(spans)
}

/// `key: value` (YAML) or `"key": value` (JSON) → (key, separator, value).
fn split_key(s: &str) -> Option<(&str, &str, &str)> {
    if let Some(inner) = s.strip_prefix('"') {
        let end = closing_quote(inner)? + 1;
        let (key, rest) = s.split_at(end + 1);
        let sep_len = rest
            .strip_prefix(": ")
            .map(|_| 2)
            .or_else(|| rest.strip_prefix(':').map(|_| 1))?;
        return Some((key, &rest[..sep_len], &rest[sep_len..]));
    }
    if s.starts_with(['\'', '{', '[']) {
        return None;
    }
    let colon = s
        .find(": ")
        .or_else(|| s.strip_suffix(':').map(|k| k.len()))?;
    let sep_len = if s[colon..].starts_with(": ") { 2 } else { 1 };
    Some((
        &s[..colon],
        &s[colon..colon + sep_len],
        &s[colon + sep_len..],
    ))
}

fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

fn value_span(value: &str, theme: Theme) -> Span<'static> {
    let bare = value.trim_end_matches(',');
    let style: Style = if bare.starts_with(['"', '\'']) {
        theme.string()
    } else if bare.parse::<f64>().is_ok() {
        theme.number()
    } else if matches!(bare, "true" | "false" | "null" | "~" | "{}" | "[]") {
        theme.literal()
    } else if matches!(bare, "{" | "}" | "[" | "]" | "|" | "|-" | ">" | "") {
        Style::new()
    } else {
        theme.string()
    };
    Span::styled(value.to_string(), style)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &str) -> Vec<String> {
        line(s, Theme { color: true })
            .spans
            .iter()
            .map(|s| s.content.to_string())
            .collect()
    }

    #[test]
    fn splits_keys_and_values() {
        assert_eq!(parts("  name: web-1"), ["  ", "name", ": ", "web-1"]);
        assert_eq!(parts("- image: nginx"), ["", "- ", "image", ": ", "nginx"]);
        assert_eq!(parts("metadata:"), ["", "metadata", ":", ""]);
        assert_eq!(
            parts(r#"  "kind": "Pod","#),
            ["  ", "\"kind\"", ": ", "\"Pod\","]
        );
        assert_eq!(parts("  - 3"), ["  ", "- ", "3"]);
    }

    #[test]
    fn colours_by_type_unless_no_color() {
        let l = line("replicas: 3", Theme { color: true });
        assert_eq!(l.spans[3].style, Theme { color: true }.number());
        let plain = line("replicas: 3", Theme { color: false });
        assert!(plain.spans.iter().all(|s| s.style.fg.is_none()));
    }
}
