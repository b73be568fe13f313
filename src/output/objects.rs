//! Kubernetes objects printed as kubectl prints them: JSON in the object's own (Go) key order with 4-space
//! indents, YAML with keys sorted, several objects as a `v1` `List` — streamed item by item so
//! a million objects never sit in memory — and JSON lines for scripts.

use std::io::Write;

use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectFormat {
    Json,
    Yaml,
    /// One compact JSON object per line.
    JsonLines,
}

/// The object as `kubectl get -o yaml` prints it (see [`super::yaml`]).
pub fn to_yaml(value: &Value) -> String {
    super::yaml::to_yaml(value)
}

pub fn to_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    value
        .serialize(&mut ser)
        .expect("a JSON value always serializes");
    out
}

/// Prints one object.
pub fn write_object(
    out: &mut dyn Write,
    format: ObjectFormat,
    object: &Value,
) -> std::io::Result<()> {
    match format {
        ObjectFormat::Json => {
            out.write_all(&to_json(object))?;
            out.write_all(b"\n")
        }
        ObjectFormat::Yaml => out.write_all(to_yaml(object).as_bytes()),
        ObjectFormat::JsonLines => {
            serde_json::to_writer(&mut *out, object)?;
            out.write_all(b"\n")
        }
    }
}

/// kubectl hides `metadata.managedFields` unless `--show-managed-fields`.
pub fn hide_managed_fields(object: &mut Value) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.shift_remove("managedFields");
    }
}

/// Objects as the `v1` `List` kubectl prints (and runs `-o jsonpath` on) when it shows several.
pub fn list_of(items: Vec<Value>) -> Value {
    serde_json::json!({
        "apiVersion": "v1",
        "items": items,
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    })
}

/// Writes a kubectl `List` one item at a time: `begin`, `item`…, `end`.
pub struct ListWriter {
    format: ObjectFormat,
    items: u64,
}

impl ListWriter {
    pub fn begin(out: &mut dyn Write, format: ObjectFormat) -> std::io::Result<ListWriter> {
        match format {
            ObjectFormat::Json => {
                out.write_all(b"{\n    \"apiVersion\": \"v1\",\n    \"items\": [")?
            }
            ObjectFormat::Yaml => out.write_all(b"apiVersion: v1\nitems:")?,
            ObjectFormat::JsonLines => {}
        }
        Ok(ListWriter { format, items: 0 })
    }

    pub fn item(&mut self, out: &mut dyn Write, object: &Value) -> std::io::Result<()> {
        let first = self.items == 0;
        self.items += 1;
        match self.format {
            ObjectFormat::Json => {
                out.write_all(if first { b"\n" } else { b",\n" })?;
                let json = to_json(object);
                for (i, line) in json.split(|b| *b == b'\n').enumerate() {
                    if i > 0 {
                        out.write_all(b"\n")?;
                    }
                    out.write_all(b"        ")?;
                    out.write_all(line)?;
                }
                Ok(())
            }
            ObjectFormat::Yaml => {
                if first {
                    out.write_all(b"\n")?;
                }
                let yaml = to_yaml(object);
                for (i, line) in yaml.lines().enumerate() {
                    // A blank line inside a `|` block stays blank, as kubectl prints it.
                    if i == 0 {
                        out.write_all(b"- ")?;
                    } else if !line.is_empty() {
                        out.write_all(b"  ")?;
                    }
                    out.write_all(line.as_bytes())?;
                    out.write_all(b"\n")?;
                }
                Ok(())
            }
            ObjectFormat::JsonLines => write_object(out, ObjectFormat::JsonLines, object),
        }
    }

    pub fn end(self, out: &mut dyn Write) -> std::io::Result<()> {
        match self.format {
            ObjectFormat::Json => {
                if self.items > 0 {
                    out.write_all(b"\n    ")?;
                }
                out.write_all(
                    b"],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n",
                )
            }
            ObjectFormat::Yaml => {
                if self.items == 0 {
                    out.write_all(b" []\n")?;
                }
                out.write_all(b"kind: List\nmetadata:\n  resourceVersion: \"\"\n")
            }
            ObjectFormat::JsonLines => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list(format: ObjectFormat, items: &[Value]) -> String {
        let mut out = Vec::new();
        let mut w = ListWriter::begin(&mut out, format).unwrap();
        for i in items {
            w.item(&mut out, i).unwrap();
        }
        w.end(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn lists_look_like_kubectls() {
        let a = json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "a"}});
        let b = json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "b", "labels": {"z": "1", "a": "2"}}});
        let j = list(ObjectFormat::Json, &[a.clone(), b.clone()]);
        let parsed: Value = serde_json::from_str(&j).unwrap();
        assert_eq!(
            parsed,
            json!({"apiVersion": "v1", "items": [a, b], "kind": "List", "metadata": {"resourceVersion": ""}})
        );
        assert!(
            j.contains("\n        {\n            \"kind\": \"Pod\""),
            "{j}"
        );
        let y = list(ObjectFormat::Yaml, std::slice::from_ref(&b));
        assert_eq!(
            y,
            "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    labels:\n      a: \"2\"\n      z: \"1\"\n    name: b\nkind: List\nmetadata:\n  resourceVersion: \"\"\n"
        );
        let parsed: Value = serde_norway::from_str(&y).unwrap();
        assert_eq!(parsed["items"][0], b);
        let c = json!({"data": {"f": "a\n\nb\n"}});
        let y = list(ObjectFormat::Yaml, std::slice::from_ref(&c));
        assert!(
            y.contains("\n- data:\n    f: |\n      a\n\n      b\nkind: List"),
            "{y}"
        );
        let parsed: Value = serde_norway::from_str(&y).unwrap();
        assert_eq!(parsed["items"][0], c);
        assert_eq!(
            serde_json::from_str::<Value>(&list(ObjectFormat::Json, std::slice::from_ref(&a)))
                .unwrap(),
            list_of(vec![a.clone()])
        );
        let empty: Value = serde_json::from_str(&list(ObjectFormat::Json, &[])).unwrap();
        assert_eq!(empty["items"], json!([]));
        let empty: Value = serde_norway::from_str(&list(ObjectFormat::Yaml, &[])).unwrap();
        assert_eq!(empty["items"], json!([]));
        assert_eq!(
            list(ObjectFormat::JsonLines, &[a.clone(), a])
                .lines()
                .count(),
            2
        );
    }
}
