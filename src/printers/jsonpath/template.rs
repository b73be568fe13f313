//! kubectl's `-o jsonpath=TEMPLATE`: text with `{…}` actions — a path (`{.metadata.name}`,
//! `{.items[*].metadata.name}`), a quoted literal (`{"\t"}`, `{'\n'}`), `{@}` for the current
//! object, and `{range PATH}…{end}`, whose body runs once per result with paths relative to
//! it. Several results of one path are joined by spaces; strings print as they are, maps and
//! lists as Go's `json.Marshal`, other values as Go's `fmt.Print` — as kubectl prints them.
//! Missing keys print nothing (kubectl's `--allow-missing-template-keys`, on by default).

use serde_json::Value;

use super::JsonPath;
use crate::printers::cells::{go_json, go_scalar};

#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Text(String),
    Path(JsonPath),
    /// `{range PATH}` … `{end}` (or the end of the template, as kubectl allows).
    Range(JsonPath, Vec<Node>),
}

impl Template {
    /// Parses a template; the error names it and what is wrong.
    pub fn parse(text: &str) -> Result<Template, String> {
        parse_nodes(text).map_err(|e| format!("JSONPath template {text:?}: {e}"))
    }

    /// The template run on `root` (an object, or a `List` of them).
    pub fn render(&self, root: &Value) -> String {
        let mut out = String::new();
        render_nodes(&self.nodes, root, &mut out);
        out
    }
}

fn parse_nodes(text: &str) -> Result<Template, String> {
    // `nodes` is the body being filled; `open` holds each enclosing range's path and the
    // nodes before it.
    let mut nodes = Vec::new();
    let mut open: Vec<(JsonPath, Vec<Node>)> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        if start > 0 {
            nodes.push(Node::Text(rest[..start].to_string()));
        }
        let inside = &rest[start + 1..];
        let end =
            action_end(inside).ok_or_else(|| format!("unclosed action {:?}", &rest[start..]))?;
        let action = inside[..end].trim();
        rest = &inside[end + 1..];
        if action == "end" {
            let (path, outer) = open.pop().ok_or("{end} without a {range}")?;
            let body = std::mem::replace(&mut nodes, outer);
            nodes.push(Node::Range(path, body));
        } else if let Some(path) = range_path(action) {
            open.push((JsonPath::parse(path)?, std::mem::take(&mut nodes)));
        } else if action.starts_with(['"', '\'']) {
            nodes.push(Node::Text(literal(action)?));
        } else {
            nodes.push(Node::Path(JsonPath::parse(action)?));
        }
    }
    if !rest.is_empty() {
        nodes.push(Node::Text(rest.to_string()));
    }
    while let Some((path, outer)) = open.pop() {
        let body = std::mem::replace(&mut nodes, outer);
        nodes.push(Node::Range(path, body));
    }
    Ok(Template { nodes })
}

/// Where the action opened before `inside` ends: the first `}` outside quotes.
fn action_end(inside: &str) -> Option<usize> {
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in inside.char_indices() {
        match (quote, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '}') => return Some(i),
            _ => {}
        }
    }
    None
}

/// The path of `range PATH`.
fn range_path(action: &str) -> Option<&str> {
    let path = action.strip_prefix("range")?;
    path.starts_with(|c: char| c.is_whitespace() || "[.@$".contains(c))
        .then_some(path.trim())
}

/// A quoted literal with Go's escapes (`strconv.Unquote`, single quotes allowed).
fn literal(action: &str) -> Result<String, String> {
    let mut chars = action.chars();
    let quote = chars.next().expect("a literal starts with its quote");
    let mut out = String::new();
    loop {
        match chars.next() {
            None => return Err(format!("unterminated literal {action}")),
            Some(c) if c == quote => break,
            Some('\\') => out.push(escape(&mut chars).ok_or_else(|| {
                format!("literal {action}: an unknown escape (use \\n, \\t, \\\", \\uXXXX, …)")
            })?),
            Some(c) => out.push(c),
        }
    }
    if !chars.as_str().trim().is_empty() {
        return Err(format!(
            "{action}: one literal or one path per {{…}} (write {{\"a\"}}{{.b}})"
        ));
    }
    Ok(out)
}

fn escape(chars: &mut std::str::Chars<'_>) -> Option<char> {
    let hex = |chars: &mut std::str::Chars<'_>, n: usize| -> Option<char> {
        let digits: String = chars.take(n).collect();
        (digits.len() == n)
            .then(|| u32::from_str_radix(&digits, 16).ok())
            .flatten()
            .and_then(char::from_u32)
    };
    Some(match chars.next()? {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        'a' => '\u{7}',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'v' => '\u{b}',
        c @ ('\\' | '"' | '\'') => c,
        'x' => hex(chars, 2)?,
        'u' => hex(chars, 4)?,
        'U' => hex(chars, 8)?,
        _ => return None,
    })
}

fn render_nodes(nodes: &[Node], current: &Value, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Path(p) => {
                for (i, v) in p.find(current).into_iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(&text_of(v));
                }
            }
            Node::Range(p, body) => {
                for v in p.find(current) {
                    render_nodes(body, v, out);
                }
            }
        }
    }
}

/// One result as kubectl's `PrintResults` writes it.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(_) | Value::Array(_) => go_json(v),
        _ => go_scalar(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(template: &str, v: &Value) -> String {
        Template::parse(template).unwrap().render(v)
    }

    fn list() -> Value {
        json!({"apiVersion": "v1", "kind": "List", "items": [
            {"metadata": {"name": "web-1", "labels": {"b": "2", "a": "<1>"}},
             "spec": {"replicas": 3, "ratio": 0.5, "paused": false},
             "status": {"phase": "Running", "conditions": [
                {"type": "Ready", "status": "True"}, {"type": "Synced", "status": "False"}]}},
            {"metadata": {"name": "web-2"}, "status": {"phase": "Pending"}}],
         "metadata": {"resourceVersion": ""}})
    }

    #[test]
    fn kubectls_template_forms() {
        let l = list();
        assert_eq!(run("{.items[*].metadata.name}", &l), "web-1 web-2");
        assert_eq!(
            run(
                r#"{range .items[*]}{.metadata.name}{"\t"}{.status.phase}{"\n"}{end}"#,
                &l
            ),
            "web-1\tRunning\nweb-2\tPending\n"
        );
        assert_eq!(
            run(
                r#"{range .items[*]}{.metadata.name}:{range .status.conditions[?(@.status=="True")]} {.type}{end};{end}"#,
                &l
            ),
            "web-1: Ready;web-2:;"
        );
        let pod = &l["items"][0];
        assert_eq!(
            run(r#"{.status.conditions[?(@.type=="Ready")].status}"#, pod),
            "True"
        );
        assert_eq!(run("name={.metadata.name} x", pod), "name=web-1 x");
        // Maps and lists as json.Marshal, scalars as fmt.Print; missing keys print nothing.
        assert_eq!(
            run("{.metadata.labels}", pod),
            r#"{"a":"\u003c1\u003e","b":"2"}"#
        );
        assert_eq!(
            run("{.spec.replicas} {.spec.ratio} {.spec.paused}", pod),
            "3 0.5 false"
        );
        assert_eq!(run("[{.spec.missing}]", pod), "[]");
        assert_eq!(run("{..phase}", &l), "Running Pending");
        assert_eq!(run("{.metadata['name']}", pod), "web-1");
        assert_eq!(run("{@.metadata.name}{$.metadata.name}", pod), "web-1web-1");
        assert_eq!(run(r#"{"{"}{'}'}{"\u00e9\x41"}"#, pod), "{}éA");
        // A range runs to the end when {end} is left out, as kubectl's does.
        assert_eq!(
            run(r#"{range .items[*]}{.metadata.name},"#, &l),
            "web-1,web-2,"
        );
        assert_eq!(run("plain text", pod), "plain text");
        assert_eq!(run("{@}", &json!({"b": [1, "x"]})), r#"{"b":[1,"x"]}"#);
    }

    #[test]
    fn malformed_templates_name_the_template() {
        for bad in [
            "{.metadata.name",
            "{end}",
            "{range .items[*]}{end}{end}",
            r#"{"abc}"#,
            r#"{"\q"}"#,
            r#"{"a" .b}"#,
            "{.a[?(@.b=x)]}",
            "{.items[}",
        ] {
            let e = Template::parse(bad).unwrap_err();
            assert!(
                e.starts_with(&format!("JSONPath template {bad:?}: ")),
                "{e}"
            );
        }
    }
}
