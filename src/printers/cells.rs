//! Small pieces the table printers share: reading fields of a decoded object the way the Go
//! types read them (absent is the zero value), and kubectl's ways of writing some of them.

use serde_json::Value;

/// A string field; absent or not a string is `""` (Go's zero value).
pub fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// An integer field; absent is 0.
pub fn n(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_f64().map(|f| f as i64))
        .unwrap_or(0)
}

/// `<none>` for an empty string.
pub fn or_none(text: &str) -> String {
    if text.is_empty() {
        "<none>".into()
    } else {
        text.to_string()
    }
}

/// The elements of an array field; absent is empty.
pub fn items(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}

/// The number of entries of a map or array field.
pub fn count(v: &Value) -> usize {
    match v {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    }
}

/// Go's `%v` of a bool.
pub fn bool_text(b: bool) -> String {
    b.to_string()
}

/// `printBoolPtr`: `True`/`False`, `<unset>` when absent.
pub fn bool_ptr(v: &Value) -> String {
    match v.as_bool() {
        Some(true) => "True".into(),
        Some(false) => "False".into(),
        None => "<unset>".into(),
    }
}

/// `IntOrString.String()`: the number or the text (`1`, `25%`).
pub fn int_or_string(v: &Value) -> String {
    match v {
        Value::String(t) => t.clone(),
        Value::Number(x) => x.to_string(),
        _ => "0".into(),
    }
}

/// `layoutContainerCells`: container names and images, each comma-separated.
pub fn containers(pod_spec: &Value) -> [String; 2] {
    let list = items(&pod_spec["containers"]);
    let names: Vec<&str> = list.iter().map(|c| s(&c["name"])).collect();
    let images: Vec<&str> = list.iter().map(|c| s(&c["image"])).collect();
    [names.join(","), images.join(",")]
}

/// The status of the first condition of this type (`""` when there is none).
pub fn condition<'a>(conditions: &'a Value, kind: &str) -> Option<&'a Value> {
    items(conditions).iter().find(|c| s(&c["type"]) == kind)
}

/// `hasJobCondition`-style: the first condition of this type has status `True`.
pub fn condition_true(conditions: &Value, kind: &str) -> bool {
    condition(conditions, kind).is_some_and(|c| s(&c["status"]) == "True")
}

/// `listWithMoreString`: the first `max` entries, then `+ N more...`; `<unset>` when none.
pub fn list_with_more(all: &[String], max: usize) -> String {
    let shown = all.iter().take(max).cloned().collect::<Vec<_>>().join(",");
    if all.len() > max {
        format!("{shown} + {} more...", all.len() - max)
    } else if shown.is_empty() {
        "<unset>".into()
    } else {
        shown
    }
}

/// `helper.GetAccessModesAsString`: RWO, ROX, RWX, RWOP in that order, each once.
pub fn access_modes(modes: &Value) -> String {
    let have: Vec<&str> = items(modes).iter().map(s).collect();
    let short = [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ];
    let out: Vec<&str> = short
        .iter()
        .filter(|(long, _)| have.contains(long))
        .map(|(_, short)| *short)
        .collect();
    out.join(",")
}

/// A stored `resource.Quantity` as `Quantity.String()` prints it. The apiserver writes
/// quantities in their canonical form, so the stored text is what kubectl shows.
pub fn quantity(v: &Value) -> String {
    match v {
        Value::String(t) => t.clone(),
        Value::Number(x) => x.to_string(),
        _ => "0".into(),
    }
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): the shortest digits that
/// read back, in exponent form below 1e-4 and from 1e6 (`1e+06`, `2.5e-05`), else plain.
pub fn go_float(f: f64) -> String {
    if f == 0.0 || !f.is_finite() {
        return match f {
            x if x.is_nan() => "NaN".into(),
            x if x == f64::INFINITY => "+Inf".into(),
            x if x == f64::NEG_INFINITY => "-Inf".into(),
            _ => "0".into(),
        };
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

/// A JSON scalar as Go's `fmt.Print` writes the unstructured value (int64 or float64; null
/// is a nil interface, `<nil>`).
pub fn go_scalar(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Number(x) => match x.as_i64() {
            Some(i) => i.to_string(),
            None => x.as_f64().map_or(x.to_string(), go_float),
        },
        Value::Bool(b) => b.to_string(),
        Value::String(t) => t.clone(),
        _ => String::new(),
    }
}

/// Go's `json.Marshal` of an unstructured value: keys sorted, `<`, `>`, `&` escaped.
pub fn go_json(v: &Value) -> String {
    let mut out = String::new();
    write_go_json(v, &mut out);
    out
}

fn write_go_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(k, out);
                out.push(':');
                write_go_json(&m[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(x, out);
            }
            out.push(']');
        }
        Value::String(t) => write_go_string(t, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_go_string(t: &str, out: &mut String) {
    out.push('"');
    for c in t.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn helpers_read_like_the_go_types() {
        assert_eq!(
            access_modes(&json!(["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"])),
            "RWO,RWX"
        );
        assert_eq!(int_or_string(&json!("25%")), "25%");
        assert_eq!(int_or_string(&json!(1)), "1");
        assert_eq!(bool_ptr(&Value::Null), "<unset>");
        let three: Vec<String> = ["a", "b", "c", "d"].iter().map(|x| x.to_string()).collect();
        assert_eq!(list_with_more(&three, 3), "a,b,c + 1 more...");
        assert_eq!(list_with_more(&[], 3), "<unset>");
        for (f, want) in [
            (3.0, "3"),
            (2.5, "2.5"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
        ] {
            assert_eq!(go_float(f), want, "{f}");
        }
    }
}
