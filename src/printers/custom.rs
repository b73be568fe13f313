//! Custom resources: the columns their CRD defines (`additionalPrinterColumns`, per version in
//! `apiextensions.k8s.io/v1`, also top-level in `v1beta1`) after NAME, printed the way
//! apiextensions-apiserver's table convertor does; AGE alone when the CRD defines none, or
//! when there is no CRD at all.

use serde_json::Value;

use super::cells::{go_float, go_json, go_scalar, items, s};
use super::jsonpath::JsonPath;
use super::time::{between, parse};
use super::{Column, Ctx};

/// What a CRD says about its custom resources: their names, scope and printer columns.
pub struct Crd {
    pub group: String,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub short_names: Vec<String>,
    pub namespaced: bool,
    pub columns: Columns,
}

impl Crd {
    /// Reads a CRD object (`apiextensions.k8s.io/v1` or `v1beta1`).
    pub fn from_object(crd: &Value) -> Crd {
        let spec = &crd["spec"];
        let names = &spec["names"];
        let lower = |v: &Value| s(v).to_lowercase();
        Crd {
            group: s(&spec["group"]).to_string(),
            plural: lower(&names["plural"]),
            singular: lower(&names["singular"]),
            kind: s(&names["kind"]).to_string(),
            short_names: items(&names["shortNames"]).iter().map(lower).collect(),
            namespaced: s(&spec["scope"]) != "Cluster",
            columns: Columns::for_crd(crd),
        }
    }

    /// Whether kubectl would take `name` (lower case) for this resource: its plural,
    /// singular, kind or a short name.
    pub fn is_named(&self, name: &str) -> bool {
        name == self.plural
            || name == self.singular
            || name == self.kind.to_lowercase()
            || self.short_names.iter().any(|n| n == name)
    }
}

/// A custom resource's printer columns (after NAME).
pub struct Columns {
    columns: Vec<CrdColumn>,
}

struct CrdColumn {
    name: String,
    kind: String,
    wide: bool,
    /// `Err`: a path this reader does not understand (the apiserver accepted it).
    path: Result<JsonPath, String>,
}

impl Columns {
    /// AGE from `metadata.creationTimestamp`: the apiserver's columns for a CRD without any.
    pub fn age_only() -> Columns {
        Columns {
            columns: vec![CrdColumn {
                name: "Age".into(),
                kind: "date".into(),
                wide: false,
                path: JsonPath::parse(".metadata.creationTimestamp"),
            }],
        }
    }

    /// The columns of the version kubectl reads: the served version its discovery prefers
    /// (GA over beta over alpha, then the higher number).
    fn for_crd(crd: &Value) -> Columns {
        let spec = &crd["spec"];
        let versions = items(&spec["versions"]);
        let preferred = versions
            .iter()
            .filter(|v| v["served"].as_bool() != Some(false))
            .min_by(|a, b| version_order(s(&a["name"]), s(&b["name"])));
        let defined = preferred
            .map(|v| &v["additionalPrinterColumns"])
            .filter(|c| c.is_array())
            .unwrap_or(&spec["additionalPrinterColumns"]);
        let columns: Vec<CrdColumn> = items(defined)
            .iter()
            .map(|c| {
                let path = c["jsonPath"]
                    .as_str()
                    .or(c["JSONPath"].as_str())
                    .unwrap_or("");
                CrdColumn {
                    name: s(&c["name"]).to_string(),
                    kind: s(&c["type"]).to_string(),
                    wide: c["priority"].as_i64().unwrap_or(0) > 0,
                    path: JsonPath::parse(path),
                }
            })
            .collect();
        if columns.is_empty() {
            Columns::age_only()
        } else {
            Columns { columns }
        }
    }

    /// Columns whose JSONPath this reader cannot evaluate: `(column, why)`.
    pub fn unsupported(&self) -> Vec<(String, String)> {
        self.columns
            .iter()
            .filter_map(|c| c.path.as_ref().err().map(|e| (c.name.clone(), e.clone())))
            .collect()
    }

    pub fn columns(&self) -> Vec<Column> {
        let mut out = vec![Column {
            name: "Name".into(),
            wide: false,
        }];
        out.extend(self.columns.iter().map(|c| Column {
            name: c.name.clone(),
            wide: c.wide,
        }));
        out
    }

    pub fn cells(&self, object: &Value, ctx: &Ctx) -> Vec<String> {
        let mut out = vec![s(&object["metadata"]["name"]).to_string()];
        for c in &self.columns {
            // Only the first match counts; no match is an empty cell.
            let value = c
                .path
                .as_ref()
                .ok()
                .and_then(|p| p.find(object).first().copied());
            out.push(value.map_or(String::new(), |v| cell(&c.kind, v, ctx)));
        }
        out
    }
}

/// `cellForJSONValue` (and JSONPath's printing for `string` columns); a value of the wrong
/// type is an empty cell.
fn cell(kind: &str, v: &Value, ctx: &Ctx) -> String {
    match (kind, v) {
        ("string", Value::String(t)) => t.clone(),
        ("string", Value::Number(_) | Value::Bool(_)) => go_scalar(v),
        ("string", Value::Object(_) | Value::Array(_)) => go_json(v),
        ("integer", Value::Number(x)) => x
            .as_i64()
            .or_else(|| x.as_f64().map(|f| f as i64))
            .map_or(String::new(), |i| i.to_string()),
        ("number", Value::Number(x)) => x.as_f64().map_or(String::new(), go_float),
        ("boolean", Value::Bool(b)) => b.to_string(),
        ("date", Value::String(t)) if t.is_empty() || t == "null" => "<unknown>".into(),
        ("date", Value::String(t)) => match parse(t) {
            Some(at) => between(at, ctx.now),
            None => "<invalid>".into(),
        },
        _ => String::new(),
    }
}

/// Kubernetes' version priority (`CompareKubeAwareVersionStrings`): `v2` < `v1` <
/// `v1beta2` < `v1beta1` < `v1alpha1` < anything else (alphabetically) — smaller first.
fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn key(v: &str) -> (u8, i64, i64, String) {
        let parsed = v.strip_prefix('v').and_then(|rest| {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let major: i64 = rest[..digits].parse().ok()?;
            let tail = &rest[digits..];
            if tail.is_empty() {
                return Some((0, -major, 0));
            }
            for (word, rank) in [("beta", 1), ("alpha", 2)] {
                if let Some(minor) = tail.strip_prefix(word).and_then(|m| m.parse::<i64>().ok()) {
                    return Some((rank, -major, -minor));
                }
            }
            None
        });
        match parsed {
            Some((rank, major, minor)) => (rank, major, minor, String::new()),
            None => (3, 0, 0, v.to_string()),
        }
    }
    key(a).cmp(&key(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_sort_as_kubernetes_prefers_them() {
        let mut v = vec![
            "v1alpha1",
            "foo",
            "v1beta2",
            "v2",
            "v1",
            "v1beta1",
            "v11alpha2",
            "bar",
        ];
        v.sort_by(|a, b| version_order(a, b));
        assert_eq!(
            v,
            [
                "v2",
                "v1",
                "v1beta2",
                "v1beta1",
                "v11alpha2",
                "v1alpha1",
                "bar",
                "foo"
            ]
        );
    }

    #[test]
    fn typed_cells_follow_cell_for_json_value() {
        let ctx = Ctx {
            now: time::macros::datetime!(2026-01-01 00:10:00 UTC),
        };
        for (kind, value, want) in [
            ("string", json!("x"), "x"),
            ("string", json!(3), "3"),
            ("string", json!(2.5), "2.5"),
            (
                "string",
                json!({"b": 1, "a": "<"}),
                r#"{"a":"\u003c","b":1}"#,
            ),
            ("integer", json!(7), "7"),
            ("integer", json!(7.9), "7"),
            ("integer", json!("7"), ""),
            ("number", json!(2), "2"),
            ("number", json!(1e6), "1e+06"),
            ("boolean", json!(true), "true"),
            ("boolean", json!("true"), ""),
            ("date", json!("2026-01-01T00:00:00Z"), "10m"),
            ("date", json!("yesterday"), "<invalid>"),
            ("date", json!(""), "<unknown>"),
            ("mystery", json!("x"), ""),
        ] {
            assert_eq!(cell(kind, &value, &ctx), want, "{kind} {value}");
        }
    }

    #[test]
    fn columns_come_from_the_preferred_served_version() {
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "spec": {
            "group": "example.com", "scope": "Cluster",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [
                {"name": "v1beta1", "served": true, "additionalPrinterColumns": [
                    {"name": "Old", "type": "string", "jsonPath": ".spec.old"}]},
                {"name": "v1", "served": true, "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {"name": "Detail", "type": "string", "jsonPath": ".spec.detail", "priority": 1}]},
                {"name": "v2", "served": false}]}});
        let crd = Crd::from_object(&crd);
        assert!(!crd.namespaced);
        assert!(crd.is_named("wd") && crd.is_named("widget") && !crd.is_named("gadget"));
        let names: Vec<(String, bool)> = crd
            .columns
            .columns()
            .into_iter()
            .map(|c| (c.name, c.wide))
            .collect();
        assert_eq!(
            names,
            [
                ("Name".into(), false),
                ("Size".into(), false),
                ("Detail".into(), true)
            ]
        );
        // v1beta1 CRDs: top-level columns, `JSONPath`; none at all: AGE.
        let old = json!({"spec": {"version": "v1", "versions": [{"name": "v1", "served": true}],
            "additionalPrinterColumns": [{"name": "Ready", "type": "string",
                "JSONPath": ".status.conditions[?(@.type==\"Ready\")].status"}]}});
        let cols = Crd::from_object(&old).columns;
        let obj = json!({"metadata": {"name": "a"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}});
        let ctx = Ctx {
            now: time::OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(cols.cells(&obj, &ctx), ["a", "False"]);
        let bare = Crd::from_object(&json!({"spec": {"versions": [{"name": "v1"}]}}));
        assert_eq!(bare.columns.columns().len(), 2);
        assert!(bare.namespaced);
    }
}
