//! kubectl's `-o custom-columns=HEADER:JSONPATH,…` and `-o custom-columns-file=FILE` (a line
//! of headers, then a line of paths, both split on whitespace): one row per object, each
//! cell every value the path finds (Go's `%v`, joined by commas), `<none>` when it finds
//! nothing; headers as given. Paths are kubectl's relaxed form (`.a.b`, `{.a.b}`, `a.b`).

use serde_json::Value;

use super::cells::go_scalar;
use super::jsonpath::JsonPath;

#[derive(Clone, Debug)]
pub struct CustomColumns {
    columns: Vec<(String, JsonPath)>,
}

impl CustomColumns {
    /// `NAME:.metadata.name,PHASE:.status.phase`.
    pub fn parse(spec: &str) -> Result<CustomColumns, String> {
        if spec.trim().is_empty() {
            return Err("-o custom-columns: no columns given (HEADER:JSONPATH,…)".into());
        }
        let columns = spec
            .split(',')
            .map(|part| match part.split_once(':') {
                Some((header, path)) => column(header, path),
                None => Err(format!(
                    "-o custom-columns: {part:?} is not HEADER:JSONPATH"
                )),
            })
            .collect::<Result<_, _>>()?;
        Ok(CustomColumns { columns })
    }

    /// The text of a `custom-columns-file`: headers on the first line, paths on the second.
    pub fn from_file_text(text: &str) -> Result<CustomColumns, String> {
        let mut lines = text.lines();
        let (Some(headers), Some(paths)) = (lines.next(), lines.next()) else {
            return Err(
                "expected a line of headers, then a line of JSONPaths (both split on whitespace)"
                    .into(),
            );
        };
        let headers: Vec<&str> = headers.split_whitespace().collect();
        let paths: Vec<&str> = paths.split_whitespace().collect();
        if headers.len() != paths.len() || headers.is_empty() {
            return Err(format!(
                "{} headers over {} JSONPaths: give one path per header",
                headers.len(),
                paths.len()
            ));
        }
        let columns = headers
            .iter()
            .zip(&paths)
            .map(|(h, p)| column(h, p))
            .collect::<Result<_, _>>()?;
        Ok(CustomColumns { columns })
    }

    pub fn headers(&self) -> Vec<String> {
        self.columns.iter().map(|(h, _)| h.clone()).collect()
    }

    pub fn row(&self, object: &Value) -> Vec<String> {
        self.columns
            .iter()
            .map(|(_, path)| {
                let found = path.find(object);
                if found.is_empty() {
                    return "<none>".into();
                }
                let cells: Vec<String> = found.into_iter().map(go_value).collect();
                escape_terminal(&cells.join(","))
            })
            .collect()
    }
}

fn column(header: &str, path: &str) -> Result<(String, JsonPath), String> {
    if path.trim().is_empty() {
        return Err(format!("-o custom-columns {header}: the JSONPath is empty"));
    }
    let path = JsonPath::parse(path).map_err(|e| format!("-o custom-columns {header}: {e}"))?;
    Ok((header.to_string(), path))
}

/// Go's `fmt.Sprintf("%v")` of an unstructured value: maps as `map[k:v …]` (keys sorted),
/// lists as `[a b]`.
fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_value).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let pairs: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{k}:{}", go_value(&m[k.as_str()])))
                .collect();
            format!("map[{}]", pairs.join(" "))
        }
        _ => go_scalar(v),
    }
}

/// kubectl's `EscapeTerminal`: a value cannot move the cursor or change the terminal.
fn escape_terminal(cell: &str) -> String {
    cell.replace('\x1b', "^[").replace('\r', "\\r")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_as_kubectl_prints_them() {
        let c = CustomColumns::parse(
            "NAME:.metadata.name,PORTS:.spec.ports[*].port,LABELS:{.metadata.labels},\
             NODE:spec.nodeName,SEL:.spec.selector,BAD:.status.x",
        )
        .unwrap();
        assert_eq!(
            c.headers(),
            ["NAME", "PORTS", "LABELS", "NODE", "SEL", "BAD"]
        );
        let svc = json!({"metadata": {"name": "web\u{1b}[2J", "labels": {"b": "2", "a": "1"}},
            "spec": {"ports": [{"port": 80}, {"port": 443}], "selector": null, "nodeName": "n1"},
            "status": {}});
        assert_eq!(
            c.row(&svc),
            [
                "web^[[2J",
                "80,443",
                "map[a:1 b:2]",
                "n1",
                "<nil>",
                "<none>"
            ]
        );
        let c = CustomColumns::parse("C:.status.conditions[?(@.type==\"Ready\")].status").unwrap();
        let obj = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        assert_eq!(c.row(&obj), ["True"]);
        assert_eq!(
            go_value(&json!([{"a": [1, 2.5]}, true])),
            "[map[a:[1 2.5]] true]"
        );
    }

    #[test]
    fn specs_and_files() {
        let f = CustomColumns::from_file_text("NAME   PHASE\n.metadata.name  {.status.phase}\n")
            .unwrap();
        assert_eq!(f.headers(), ["NAME", "PHASE"]);
        for bad in ["", "NAME", "NAME:.a,", "N:.a[", "N:.a,PHASE"] {
            assert!(CustomColumns::parse(bad).is_err(), "{bad}");
        }
        for bad in ["NAME\n", "A B\n.a\n", "\n\n"] {
            assert!(CustomColumns::from_file_text(bad).is_err(), "{bad:?}");
        }
    }
}
