//! `snapshot diff`'s output, streamed as [`crate::diff::compare`] finds the differences: the
//! table of counts per resource (after the objects' diffs with `--show`), or one JSON document
//! whose `objects` are written one at a time. `--show` renders each difference as a unified
//! diff of the objects' YAML (`kubectl get -o yaml`'s form): added and removed objects whole,
//! Secrets' values redacted unless asked for, `managedFields` hidden as kubectl diff hides them.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};
use similar::TextDiff;

use super::objects::hide_managed_fields;
use super::{Stdout, render_table, yaml};
use crate::Result;
use crate::diff::{Change, Entry, ResourceCounts, Side, Summary};

/// How much of each difference is printed.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiffView {
    /// A unified YAML diff per object.
    pub show: bool,
    /// Secrets' `data`/`stringData` (and the last-applied annotation) as stored.
    pub show_secrets: bool,
    pub show_managed_fields: bool,
}

pub const RESOURCE_HEADERS: [&str; 4] = ["RESOURCE", "ADDED", "REMOVED", "CHANGED"];

/// Writes the differences in the chosen format as they come.
pub struct DiffPrinter {
    json: bool,
    view: DiffView,
    objects: u64,
}

impl DiffPrinter {
    /// Starts the output; `from` and `to` describe the two sources.
    pub fn begin(
        out: &mut Stdout,
        json: bool,
        view: DiffView,
        from: &str,
        to: &str,
    ) -> Result<DiffPrinter> {
        if json {
            let (from, to) = (json_string(from), json_string(to));
            out.run(|o| {
                write!(
                    o,
                    "{{\n  \"from\": {from},\n  \"to\": {to},\n  \"objects\": ["
                )
            })?;
        }
        Ok(DiffPrinter {
            json,
            view,
            objects: 0,
        })
    }

    pub fn entry(&mut self, out: &mut Stdout, entry: &Entry<'_>) -> Result<()> {
        let first = self.objects == 0;
        self.objects += 1;
        let diff = self.view.show.then(|| unified(entry, &self.view));
        if !self.json {
            return match diff {
                Some(text) => out.run(|o| o.write_all(text.as_bytes())),
                None => Ok(()),
            };
        }
        let item = JsonEntry {
            change: entry.change,
            resource: entry.resource(),
            namespace: entry.namespace,
            name: &entry.name,
            key: String::from_utf8_lossy(entry.key),
            from_revision: entry.from.as_ref().map(|s| s.revision),
            to_revision: entry.to.as_ref().map(|s| s.revision),
            undecodable: entry.undecodable.as_deref(),
            diff,
        };
        let text = indent(&pretty(&item), "    ");
        out.run(|o| write!(o, "{}{text}", if first { "\n" } else { ",\n" }))
    }

    /// Ends the output with the counts per resource.
    pub fn end(self, out: &mut Stdout, summary: &Summary) -> Result<()> {
        if self.json {
            let resources = indent(&pretty(&summary.resources), "  ");
            let close = if self.objects > 0 { "\n  ]" } else { "]" };
            return out.run(|o| {
                write!(
                    o,
                    "{close},\n  \"resources\": {}\n}}\n",
                    resources.trim_start()
                )
            });
        }
        if summary.is_empty() {
            return Ok(());
        }
        let table = render_table(&RESOURCE_HEADERS, &counts_rows(&summary.resources));
        let gap = if self.view.show { "\n" } else { "" };
        out.run(|o| write!(o, "{gap}{table}"))
    }
}

/// The table's rows.
pub fn counts_rows(resources: &[ResourceCounts]) -> Vec<Vec<String>> {
    resources
        .iter()
        .map(|r| {
            vec![
                r.resource.clone(),
                r.added.to_string(),
                r.removed.to_string(),
                r.changed.to_string(),
            ]
        })
        .collect()
}

#[derive(Serialize)]
struct JsonEntry<'a> {
    change: Change,
    resource: String,
    namespace: Option<&'a str>,
    name: &'a str,
    key: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_revision: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_revision: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    undecodable: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<String>,
}

fn pretty<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("the diff's JSON always serializes")
}

fn json_string(s: &str) -> String {
    Value::from(s).to_string()
}

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| format!("{by}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One difference as a unified diff: `a/` is the first source, `b/` the second, each labelled
/// with the key's mod_revision there. Keys that are not objects get diff(1)'s one line.
pub fn unified(entry: &Entry<'_>, view: &DiffView) -> String {
    let path = match entry.namespace {
        Some(ns) => format!("{}/{ns}/{}", entry.resource(), entry.name),
        None if entry.is_object() => format!("{}/{}", entry.resource(), entry.name),
        None => entry.name.trim_start_matches('/').to_string(),
    };
    if !entry.is_object() {
        return match entry.change {
            Change::Added => format!("Only in b: {path}\n"),
            Change::Removed => format!("Only in a: {path}\n"),
            Change::Changed => format!("Values a/{path} and b/{path} differ (not objects)\n"),
        };
    }
    let label = |side: &str, s: &Option<Side>| match s {
        Some(s) => format!("{side}/{path}\trevision {}", s.revision),
        None => "/dev/null".to_string(),
    };
    let mut out = format!(
        "--- {}\n+++ {}\n",
        label("a", &entry.from),
        label("b", &entry.to)
    );
    if let Some(why) = &entry.undecodable {
        out.push_str(&format!("# cannot decode: {why}\n"));
        return out;
    }
    let object = |s: &Option<Side>| s.as_ref().map(|s| s.object.clone());
    let (from, to) = (object(&entry.from), object(&entry.to));
    if [&from, &to].iter().any(|o| matches!(o, Some(None))) {
        out.push_str("# the stored value is not a Kubernetes object\n");
        return out;
    }
    let (mut from, mut to) = (from.flatten(), to.flatten());
    if entry.etcd_resource == "secrets" && !view.show_secrets {
        redact_secret(from.as_mut(), to.as_mut());
    }
    if !view.show_managed_fields {
        from.iter_mut()
            .chain(to.iter_mut())
            .for_each(hide_managed_fields);
    }
    let text = |o: &Option<Value>| o.as_ref().map(yaml::to_yaml).unwrap_or_default();
    let (old, new) = (text(&from), text(&to));
    let diff = TextDiff::from_lines(&old, &new);
    let udiff = diff.unified_diff();
    let mut hunks = 0;
    for hunk in udiff.iter_hunks() {
        hunks += 1;
        out.push_str(&hunk.to_string());
    }
    if entry.newer_fields_only {
        out.push_str(&format!(
            "# the decoded objects are equal, but both carry fields newer than revkeeper's \
             Kubernetes {} schema, which were skipped: they may differ there\n",
            revkeeper_formats::k8s::SCHEMA_VERSION
        ));
    } else if hunks == 0 {
        out.push_str("# only metadata.managedFields differ (--show-managed-fields shows them)\n");
    }
    out
}

const REDACTED: &str = "(redacted)";
const REDACTED_CHANGED: &str = "(redacted, changed)";
/// `kubectl apply` keeps the whole applied Secret, values included, in this annotation.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Replaces a Secret's values (`data`, `stringData`, the last-applied annotation) by
/// placeholders that still tell which of them changed.
fn redact_secret(mut from: Option<&mut Value>, mut to: Option<&mut Value>) {
    fn map<'v>(
        object: &'v mut Option<&mut Value>,
        path: &[&str],
    ) -> Option<&'v mut Map<String, Value>> {
        let mut v: &mut Value = object.as_deref_mut()?;
        for field in path {
            v = v.get_mut(*field)?;
        }
        v.as_object_mut()
    }
    for (path, only) in [
        (&["data"][..], None),
        (&["stringData"][..], None),
        (&["metadata", "annotations"][..], Some(LAST_APPLIED)),
    ] {
        let (mut old, mut new) = (map(&mut from, path), map(&mut to, path));
        let mut keys: Vec<String> = [&old, &new]
            .iter()
            .filter_map(|m| m.as_ref())
            .flat_map(|m| m.keys().cloned())
            .filter(|k| only.is_none_or(|o| o == k))
            .collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let a = old.as_mut().and_then(|m| m.get_mut(&k));
            let b = new.as_mut().and_then(|m| m.get_mut(&k));
            let changed = matches!((&a, &b), (Some(x), Some(y)) if x != y);
            if let Some(a) = a {
                *a = REDACTED.into();
            }
            if let Some(b) = b {
                *b = if changed { REDACTED_CHANGED } else { REDACTED }.into();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(data: Value) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "db",
                "namespace": "prod",
                "annotations": {LAST_APPLIED: format!("{{\"data\":{data}}}"), "team": "a"},
                "managedFields": [{"manager": "kubectl"}],
            },
            "data": data,
        })
    }

    fn entry<'a>(
        etcd_resource: &'a str,
        change: Change,
        from: Option<Value>,
        to: Option<Value>,
    ) -> Entry<'a> {
        let side = |o: Option<Value>, revision| {
            o.map(|o| Side {
                revision,
                object: Some(o),
            })
        };
        Entry {
            change,
            key: b"/registry/secrets/prod/db",
            etcd_resource,
            namespace: Some("prod"),
            name: "db".into(),
            from: side(from, 7),
            to: side(to, 9),
            undecodable: None,
            newer_fields_only: false,
        }
    }

    #[test]
    fn secret_values_never_show_but_their_changes_do() {
        let a = secret(json!({"user": "YWRtaW4=", "password": "b2xkLXB3", "gone": "eA=="}));
        let b = secret(json!({"user": "YWRtaW4=", "password": "bmV3LXB3", "new": "eQ=="}));
        let e = entry("secrets", Change::Changed, Some(a), Some(b));
        let text = unified(&e, &DiffView::default());
        for value in ["YWRtaW4=", "b2xkLXB3", "bmV3LXB3", "eA==", "eQ=="] {
            assert!(!text.contains(value), "{value} leaked:\n{text}");
        }
        assert!(text.starts_with(
            "--- a/secrets/prod/db\trevision 7\n+++ b/secrets/prod/db\trevision 9\n@@ "
        ));
        let changed: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(['-', '+']) && !l.starts_with("---") && !l.starts_with("+++"))
            .collect();
        assert_eq!(
            changed,
            [
                "-  gone: (redacted)",
                "-  password: (redacted)",
                "+  new: (redacted)",
                "+  password: (redacted, changed)",
                format!("-    {LAST_APPLIED}: (redacted)").as_str(),
                format!("+    {LAST_APPLIED}: (redacted, changed)").as_str(),
            ],
            "{text}"
        );
        assert!(!text.contains("managedFields"), "{text}");
        let shown = unified(
            &e,
            &DiffView {
                show: true,
                show_secrets: true,
                show_managed_fields: true,
            },
        );
        assert!(shown.contains("\n-  password: b2xkLXB3\n"), "{shown}");
        assert!(shown.contains("\n+  password: bmV3LXB3\n"), "{shown}");
        assert!(shown.contains("managedFields"), "{shown}");
    }

    #[test]
    fn added_objects_show_whole_and_other_keys_in_one_line() {
        let o = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}});
        let mut e = entry("configmaps", Change::Added, None, Some(o));
        e.namespace = None;
        e.name = "c".into();
        assert_eq!(
            unified(&e, &DiffView::default()),
            "--- /dev/null\n+++ b/configmaps/c\trevision 9\n@@ -0,0 +1,6 @@\n+apiVersion: v1\n+data:\n+  k: v\n+kind: ConfigMap\n+metadata:\n+  name: c\n"
        );
        let mut other = entry(
            revkeeper_formats::k8s::resources::OTHER_KEYS,
            Change::Changed,
            None,
            None,
        );
        other.namespace = None;
        other.name = "/registry/ranges/serviceips".into();
        assert_eq!(
            unified(&other, &DiffView::default()),
            "Values a/registry/ranges/serviceips and b/registry/ranges/serviceips differ (not objects)\n"
        );
    }

    #[test]
    fn a_difference_only_in_hidden_fields_says_so() {
        let a = json!({"kind": "ConfigMap", "metadata": {"name": "c", "managedFields": [{"time": "1"}]}});
        let b = json!({"kind": "ConfigMap", "metadata": {"name": "c", "managedFields": [{"time": "2"}]}});
        let e = entry("configmaps", Change::Changed, Some(a), Some(b));
        assert!(unified(&e, &DiffView::default()).ends_with(
            "\n# only metadata.managedFields differ (--show-managed-fields shows them)\n"
        ));
    }
}
