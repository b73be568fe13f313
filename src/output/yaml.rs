//! YAML text as `kubectl get -o yaml` prints it. kubectl goes JSON → sigs.k8s.io/yaml → go-yaml
//! v2, so this follows go-yaml v2's choices: keys sorted, 2-space indents, a sequence under a
//! key not indented, `{}`/`[]` for empty collections, strings plain unless they would read back
//! as something else (int, float, bool, null, timestamp, base-60 float) or start/contain a YAML
//! indicator, `|` blocks for multi-line strings, double quotes with escapes otherwise.
//!
//! Known differences from go-yaml: long strings are not folded at 80 columns, a `|+` block at
//! the very end of a document is not followed by `...`, keys longer than 128 bytes are not
//! written as `? key`, and U+0085/U+2028/U+2029 force double quotes instead of single ones.

use serde_json::{Map, Value};

/// Block scalar content and nested maps are indented by this much (go-yaml's best_indent).
const INDENT: usize = 2;

pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0, false),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0, false),
        scalar => write_scalar(&mut out, scalar, INDENT),
    }
    out
}

/// Writes `map` with its keys at column `indent`; with `inline` the first key continues the
/// current line (after `- `).
fn write_map(out: &mut String, map: &Map<String, Value>, indent: usize, inline: bool) {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 || !inline {
            pad(out, indent);
        }
        write_string(out, key, Context::Key, 0);
        out.push(':');
        match value {
            Value::Object(m) if !m.is_empty() => {
                out.push('\n');
                write_map(out, m, indent + INDENT, false);
            }
            // kubectl does not indent a sequence under a key.
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                write_seq(out, a, indent, false);
            }
            scalar => {
                out.push(' ');
                write_scalar(out, scalar, indent + INDENT);
            }
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize, inline: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => write_map(out, m, indent + INDENT, true),
            Value::Array(a) if !a.is_empty() => write_seq(out, a, indent + INDENT, true),
            scalar => write_scalar(out, scalar, indent + INDENT),
        }
    }
}

/// Writes a scalar or an empty collection and ends the line; a `|` block's lines go at
/// column `block_indent`.
fn write_scalar(out: &mut String, value: &Value, block_indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s, Context::Value, block_indent),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Key,
    Value,
}

#[derive(Debug, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

fn write_string(out: &mut String, s: &str, context: Context, block_indent: usize) {
    match style(s, context) {
        Style::Plain => out.push_str(s),
        Style::Single => {
            out.push('\'');
            out.push_str(&s.replace('\'', "''"));
            out.push('\'');
        }
        Style::Double => write_double_quoted(out, s),
        Style::Literal => write_literal(out, s, block_indent),
    }
}

/// go-yaml's choice: the encoder asks for `|` when there is a newline, plain when the text reads
/// back as a string, double quotes otherwise; the emitter then steps down to what the characters
/// allow (plain → single → double, literal → double).
fn style(s: &str, context: Context) -> Style {
    let a = Analysis::of(s);
    if s.contains('\n') {
        return if a.block_allowed && context == Context::Value {
            Style::Literal
        } else {
            Style::Double
        };
    }
    if resolves_to_non_string(s) || is_base60_float(s) {
        Style::Double
    } else if a.plain_allowed {
        Style::Plain
    } else if a.single_allowed {
        Style::Single
    } else {
        Style::Double
    }
}

/// What go-yaml's emitter (`yaml_emitter_analyze_scalar`) finds in a string, block context.
struct Analysis {
    plain_allowed: bool,
    single_allowed: bool,
    block_allowed: bool,
}

impl Analysis {
    fn of(s: &str) -> Analysis {
        if s.is_empty() {
            return Analysis {
                plain_allowed: true,
                single_allowed: true,
                block_allowed: false,
            };
        }
        let mut indicators = s.starts_with("---") || s.starts_with("...");
        let mut special = false;
        let (mut leading_space, mut leading_break) = (false, false);
        let (mut trailing_space, mut trailing_break) = (false, false);
        let (mut break_space, mut space_break, mut line_breaks) = (false, false, false);
        let (mut previous_space, mut previous_break) = (false, false);
        let mut preceded_by_whitespace = true;
        let chars: Vec<char> = s.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            let followed_by_whitespace = matches!(chars.get(i + 1), None | Some(' ' | '\t'));
            let last = i + 1 == chars.len();
            if i == 0 {
                match c {
                    '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\''
                    | '"' | '%' | '@' | '`' => indicators = true,
                    '?' | ':' | '-' if followed_by_whitespace => indicators = true,
                    _ => {}
                }
            } else {
                match c {
                    ':' if followed_by_whitespace => indicators = true,
                    '#' if preceded_by_whitespace => indicators = true,
                    _ => {}
                }
            }
            if !is_printable(c) || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}') {
                special = true;
            }
            if c == ' ' {
                leading_space |= i == 0;
                trailing_space |= last;
                break_space |= previous_break;
                (previous_space, previous_break) = (true, false);
            } else if c == '\n' {
                line_breaks = true;
                leading_break |= i == 0;
                trailing_break |= last;
                space_break |= previous_space;
                (previous_space, previous_break) = (false, true);
            } else {
                (previous_space, previous_break) = (false, false);
            }
            preceded_by_whitespace = matches!(
                c,
                ' ' | '\t' | '\r' | '\n' | '\0' | '\u{85}' | '\u{2028}' | '\u{2029}'
            );
        }
        let edges = leading_space || leading_break || trailing_space || trailing_break;
        Analysis {
            plain_allowed: !(edges
                || break_space
                || space_break
                || special
                || line_breaks
                || indicators),
            single_allowed: !(break_space || space_break || special),
            block_allowed: !(trailing_space || space_break || special),
        }
    }
}

/// go-yaml's printable set (with unicode output on): everything else is escaped.
fn is_printable(c: char) -> bool {
    matches!(c as u32, 0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD) && c != '\u{FEFF}'
}

fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        let escape = match c {
            '\0' => "\\0",
            '\u{7}' => "\\a",
            '\u{8}' => "\\b",
            '\t' => "\\t",
            '\n' => "\\n",
            '\u{b}' => "\\v",
            '\u{c}' => "\\f",
            '\r' => "\\r",
            '\u{1b}' => "\\e",
            '"' => "\\\"",
            '\\' => "\\\\",
            '\u{85}' => "\\N",
            '\u{2028}' => "\\L",
            '\u{2029}' => "\\P",
            c if !is_printable(c) || c == '\u{FEFF}' => {
                let v = c as u32;
                out.push_str(&match v {
                    0..=0xFF => format!("\\x{v:02X}"),
                    0x100..=0xFFFF => format!("\\u{v:04X}"),
                    _ => format!("\\U{v:08X}"),
                });
                continue;
            }
            c => {
                out.push(c);
                continue;
            }
        };
        out.push_str(escape);
    }
    out.push('"');
}

/// `|` with go-yaml's hints: an indentation digit when the text starts with a space or newline,
/// `-` without a final newline, `+` with more than one.
fn write_literal(out: &mut String, s: &str, indent: usize) {
    out.push('|');
    if s.starts_with([' ', '\n']) {
        out.push_str(&INDENT.to_string());
    }
    if !s.ends_with('\n') {
        out.push('-');
    } else if s == "\n" || s.ends_with("\n\n") {
        out.push('+');
    }
    out.push('\n');
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// Whether go-yaml's resolver (`resolve.go`) reads the plain text as anything but a string.
fn resolves_to_non_string(s: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
        "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF", "<<",
    ];
    if SPECIAL.contains(&s) {
        return true;
    }
    match s.as_bytes()[0] {
        b'.' => is_yaml_float(s),
        b'+' | b'-' | b'0'..=b'9' => {
            let plain = s.replace('_', "");
            is_timestamp(s) || is_go_int(&plain) || is_yaml_float(&plain)
        }
        _ => false,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` or `ParseUint(s, 0, 64)` succeeds.
fn is_go_int(s: &str) -> bool {
    let (sign, unsigned) = match s.as_bytes().first() {
        Some(b'+') => (Some('+'), &s[1..]),
        Some(b'-') => (Some('-'), &s[1..]),
        _ => (None, s),
    };
    let lower = unsigned.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return false;
    }
    let Ok(magnitude) = u64::from_str_radix(digits, radix) else {
        return false;
    };
    match sign {
        Some('-') => magnitude <= 1 << 63,
        Some(_) => magnitude <= i64::MAX as u64,
        None => true,
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`. (Go also needs the value in
/// range; out-of-range exponents are quoted here too, which reads back the same.)
fn is_yaml_float(s: &str) -> bool {
    let b = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = digits(0);
    if i == 0 {
        if b.first() != Some(&b'.') || digits(1) == 0 {
            return false;
        }
        i = 1 + digits(1);
    } else if b.get(i) == Some(&b'.') {
        i += 1 + digits(i + 1);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return false;
        }
        i += n;
    }
    i == b.len()
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`: YAML 1.1 sexagesimal, quoted by go-yaml
/// for other parsers' sake.
fn is_base60_float(s: &str) -> bool {
    let b = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    if !b.first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let mut i = b
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == b'_')
        .count();
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        let d = |k: usize| b.get(k).is_some_and(u8::is_ascii_digit);
        if d(i + 1) && d(i + 2) && b[i + 1] <= b'5' {
            i += 3;
        } else if d(i + 1) {
            i += 2;
        } else {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        i += b[i..]
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == b'_')
            .count();
    }
    i == b.len()
}

/// go-yaml's timestamp formats (Go layouts): `2006-1-2T15:4:5.999999999Z07:00` (also with `t`),
/// `2006-1-2 15:4:5.999999999` and `2006-1-2`, with Go's range checks.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let year: u32 = s[..4].parse().unwrap_or(0);
    let mut i = 5;
    // One or two digits, as Go's getnum reads them.
    let num = |i: &mut usize| -> Option<u32> {
        let n = b[*i..]
            .iter()
            .take(2)
            .take_while(|c| c.is_ascii_digit())
            .count();
        let v = s.get(*i..*i + n)?.parse().ok()?;
        *i += n;
        Some(v)
    };
    let eat = |i: &mut usize, c: u8| -> bool {
        let ok = b.get(*i) == Some(&c);
        *i += ok as usize;
        ok
    };
    let Some(month) = num(&mut i) else {
        return false;
    };
    if !eat(&mut i, b'-') {
        return false;
    }
    let Some(day) = num(&mut i) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let zoned = match b[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return false,
    };
    i += 1;
    let time_ok = num(&mut i).is_some_and(|h| h < 24)
        && eat(&mut i, b':')
        && num(&mut i).is_some_and(|m| m < 60)
        && eat(&mut i, b':')
        && num(&mut i).is_some_and(|s| s < 60);
    if !time_ok {
        return false;
    }
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1 + b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    if zoned {
        let rest = &b[i..];
        let offset = rest.len() == 6
            && matches!(rest[0], b'+' | b'-')
            && rest[1..3].iter().all(u8::is_ascii_digit)
            && rest[3] == b':'
            && rest[4..6].iter().all(u8::is_ascii_digit);
        return rest == b"Z" || offset;
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(s: &str) -> String {
        to_yaml(&json!({ "k": s }))
    }

    #[test]
    fn strings_are_quoted_as_go_yaml_quotes_them() {
        let cases: &[(&str, &str)] = &[
            ("plain", "k: plain\n"),
            ("web-1", "k: web-1\n"),
            ("52", "k: \"52\"\n"),
            ("-3", "k: \"-3\"\n"),
            ("+3", "k: \"+3\"\n"),
            ("1_000", "k: \"1_000\"\n"),
            ("0x1F", "k: \"0x1F\"\n"),
            ("0o17", "k: \"0o17\"\n"),
            ("0b101", "k: \"0b101\"\n"),
            ("08", "k: \"08\"\n"),
            ("1e3", "k: \"1e3\"\n"),
            ("1.5", "k: \"1.5\"\n"),
            (".5", "k: \".5\"\n"),
            ("1.", "k: \"1.\"\n"),
            ("1:20", "k: \"1:20\"\n"),
            ("80:8080", "k: 80:8080\n"),
            ("1.2.3", "k: 1.2.3\n"),
            ("10Gi", "k: 10Gi\n"),
            ("100m", "k: 100m\n"),
            ("true", "k: \"true\"\n"),
            ("False", "k: \"False\"\n"),
            ("yes", "k: \"yes\"\n"),
            ("on", "k: \"on\"\n"),
            ("N", "k: \"N\"\n"),
            ("null", "k: \"null\"\n"),
            ("~", "k: \"~\"\n"),
            ("", "k: \"\"\n"),
            (".inf", "k: \".inf\"\n"),
            ("-.Inf", "k: \"-.Inf\"\n"),
            ("nan", "k: nan\n"),
            ("2026-11-01T10:00:00Z", "k: \"2026-11-01T10:00:00Z\"\n"),
            (
                "2026-11-01T10:00:00.123456Z",
                "k: \"2026-11-01T10:00:00.123456Z\"\n",
            ),
            (
                "2026-11-01T10:00:00+02:00",
                "k: \"2026-11-01T10:00:00+02:00\"\n",
            ),
            ("2026-1-2", "k: \"2026-1-2\"\n"),
            ("2026-11-01 10:00:00", "k: \"2026-11-01 10:00:00\"\n"),
            ("2026-02-30", "k: 2026-02-30\n"),
            ("2026-11-01T10:00:00", "k: 2026-11-01T10:00:00\n"),
            ("- item", "k: '- item'\n"),
            ("-item", "k: -item\n"),
            (": x", "k: ': x'\n"),
            ("key: value", "k: 'key: value'\n"),
            ("a:b", "k: a:b\n"),
            ("http://x/y", "k: http://x/y\n"),
            ("a #b", "k: 'a #b'\n"),
            ("a#b", "k: a#b\n"),
            ("#c", "k: '#c'\n"),
            ("*", "k: '*'\n"),
            ("{x}", "k: '{x}'\n"),
            ("[x]", "k: '[x]'\n"),
            ("&a", "k: '&a'\n"),
            ("!t", "k: '!t'\n"),
            ("|", "k: '|'\n"),
            (">", "k: '>'\n"),
            ("%p", "k: '%p'\n"),
            ("@x", "k: '@x'\n"),
            ("`x`", "k: '`x`'\n"),
            ("'q'", "k: '''q'''\n"),
            ("\"q\"", "k: '\"q\"'\n"),
            ("it's", "k: it's\n"),
            ("---", "k: '---'\n"),
            ("a, b", "k: a, b\n"),
            (" lead", "k: ' lead'\n"),
            ("trail ", "k: 'trail '\n"),
            ("héllo wörld", "k: héllo wörld\n"),
            ("日本語", "k: 日本語\n"),
            ("smile 😀", "k: \"smile \\U0001F600\"\n"),
            ("a\tb", "k: \"a\\tb\"\n"),
            ("bell\u{7}", "k: \"bell\\a\"\n"),
            ("\u{1}\u{7f}", "k: \"\\x01\\x7F\"\n"),
            ("cr\r", "k: \"cr\\r\"\n"),
            ("back\\slash", "k: back\\slash\n"),
            ("line\nnext", "k: |-\n  line\n  next\n"),
            ("line\nnext\n", "k: |\n  line\n  next\n"),
            ("para\n\nnext\n", "k: |\n  para\n\n  next\n"),
            ("two\n\n", "k: |+\n  two\n\n"),
            (" lead\nx", "k: |2-\n   lead\n  x\n"),
            ("\nx", "k: |2-\n\n  x\n"),
            ("trailing \nx", "k: \"trailing \\nx\"\n"),
            ("tab\t\nx", "k: \"tab\\t\\nx\"\n"),
        ];
        let mut wrong = Vec::new();
        for (s, want) in cases {
            let got = one(s);
            if got != *want {
                wrong.push(format!("{s:?}: got {got:?}, want {want:?}"));
            }
            let back: Value = serde_norway::from_str(&got)
                .unwrap_or_else(|e| panic!("{s:?} printed as {got:?} does not parse: {e}"));
            assert_eq!(back["k"], json!(s), "{s:?} printed as {got:?}");
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn keys_are_quoted_too_and_never_blocks() {
        let v = json!({"": 1, "true": 2, "a b": 3, "x\ny": 4, "- k": 5, "b": 6});
        assert_eq!(
            to_yaml(&v),
            "\"\": 1\n'- k': 5\na b: 3\nb: 6\n\"true\": 2\n\"x\\ny\": 4\n"
        );
        assert_eq!(serde_norway::from_str::<Value>(&to_yaml(&v)).unwrap(), v);
    }

    #[test]
    fn collections_nest_as_kubectl_prints_them() {
        let v = json!({
            "z": null, "b": true, "n": 52, "f": 1.5, "neg": -7,
            "em": {}, "el": [],
            "m": {"y": {"x": 1}, "l": ["a", {"k": "v", "j": [1, 2]}, [], {}, [3, [4]], null]},
            "l": [{"name": "c", "ports": [{"containerPort": 80}]}, "s\nt"]
        });
        // go-yaml quotes the keys `y` and `n` (YAML 1.1 booleans), and so does kubectl.
        let want = "\
b: true
el: []
em: {}
f: 1.5
l:
- name: c
  ports:
  - containerPort: 80
- |-
  s
  t
m:
  l:
  - a
  - j:
    - 1
    - 2
    k: v
  - []
  - {}
  - - 3
    - - 4
  - null
  \"y\":
    x: 1
\"n\": 52
neg: -7
z: null
";
        assert_eq!(to_yaml(&v), want);
        assert_eq!(serde_norway::from_str::<Value>(want).unwrap(), v);
        assert_eq!(to_yaml(&json!({})), "{}\n");
        assert_eq!(to_yaml(&json!([])), "[]\n");
        assert_eq!(to_yaml(&json!(["a", 1])), "- a\n- 1\n");
        assert_eq!(to_yaml(&json!("52")), "\"52\"\n");
        assert_eq!(to_yaml(&json!(null)), "null\n");
    }

    #[test]
    fn a_pod_looks_like_kubectls() {
        let applied = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1"}}"#;
        let pod = json!({
            "kind": "Pod", "apiVersion": "v1",
            "metadata": {
                "name": "web-1", "namespace": "default", "uid": "0b4c6a2e-1d5f-4f3e-9a53-2f1c3d4e5f60",
                "resourceVersion": "52", "creationTimestamp": "2026-11-01T10:00:00Z",
                "labels": {"app": "web", "pod-template-hash": "7d4b9c8f6d"},
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": format!("{applied}\n")},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9c8f6d",
                    "uid": "9f8e7d6c-5b4a-4321-8765-43210fedcba9", "controller": true, "blockOwnerDeletion": true}]
            },
            "spec": {
                "containers": [{"name": "web", "image": "nginx:1.27", "args": ["--port", "8080"],
                    "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                    "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "1"}},
                    "env": [{"name": "DEBUG", "value": "false"}]}],
                "nodeSelector": {}, "tolerations": [], "restartPolicy": "Always"
            },
            "status": {"phase": "Running", "podIP": "10.0.0.7", "startTime": "2026-11-01T10:00:01Z"}
        });
        let want = format!(
            "\
apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {applied}
  creationTimestamp: \"2026-11-01T10:00:00Z\"
  labels:
    app: web
    pod-template-hash: 7d4b9c8f6d
  name: web-1
  namespace: default
  ownerReferences:
  - apiVersion: apps/v1
    blockOwnerDeletion: true
    controller: true
    kind: ReplicaSet
    name: web-7d4b9c8f6d
    uid: 9f8e7d6c-5b4a-4321-8765-43210fedcba9
  resourceVersion: \"52\"
  uid: 0b4c6a2e-1d5f-4f3e-9a53-2f1c3d4e5f60
spec:
  containers:
  - args:
    - --port
    - \"8080\"
    env:
    - name: DEBUG
      value: \"false\"
    image: nginx:1.27
    name: web
    ports:
    - containerPort: 8080
      protocol: TCP
    resources:
      limits:
        cpu: 500m
        memory: 128Mi
      requests:
        cpu: \"1\"
  nodeSelector: {{}}
  restartPolicy: Always
  tolerations: []
status:
  phase: Running
  podIP: 10.0.0.7
  startTime: \"2026-11-01T10:00:01Z\"
"
        );
        assert_eq!(to_yaml(&pod), want);
        assert_eq!(serde_norway::from_str::<Value>(&want).unwrap(), pod);
    }

    /// Every object of the shared cluster fixture reads back equal.
    #[test]
    fn fixture_objects_round_trip() {
        let Some(path) = revkeeper_harness::require_fixture("cluster-dev/objects.jsonl") else {
            return;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let mut checked = 0;
        for (n, line) in text.lines().take(300).enumerate() {
            let row: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: not JSON: {e}", path.display(), n + 1));
            let object = row.get("object").unwrap_or(&row);
            let yaml = to_yaml(object);
            let back: Value = serde_norway::from_str(&yaml).unwrap_or_else(|e| {
                panic!(
                    "{}:{}: printed YAML does not parse: {e}",
                    path.display(),
                    n + 1
                )
            });
            assert_eq!(&back, object, "{}:{}", path.display(), n + 1);
            checked += 1;
        }
        assert!(checked > 0, "{} has no objects", path.display());
    }
}
