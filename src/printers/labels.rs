//! Labels and label selectors as kubectl writes and reads them: `labels.FormatLabels` (the
//! LABELS column, a Service's SELECTOR), `metav1.FormatLabelSelector` (a workload's SELECTOR)
//! and `-l/--selector` queries, equality-based (`app=web`, `tier!=db`) and set-based
//! (`env in (prod,qa)`, `env notin (dev)`, `canary`, `!canary`).

use serde_json::{Map, Value};

/// `labels.FormatLabels`: `k=v` pairs sorted by key, comma-separated; `<none>` when empty.
pub fn format_labels(labels: &Value) -> String {
    let Some(map) = labels.as_object().filter(|m| !m.is_empty()) else {
        return "<none>".into();
    };
    let mut pairs: Vec<(&String, &str)> = map
        .iter()
        .map(|(k, v)| (k, v.as_str().unwrap_or("")))
        .collect();
    pairs.sort();
    let pairs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join(",")
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Equals,
    DoubleEquals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

/// One requirement of a selector (`labels.Requirement`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
    values: Vec<String>,
}

impl Requirement {
    fn matches(&self, labels: &Map<String, Value>) -> bool {
        let value = labels.get(&self.key).map(|v| v.as_str().unwrap_or(""));
        let number = |v: &str| v.parse::<i64>().ok();
        match self.op {
            Op::Equals | Op::DoubleEquals | Op::In => {
                value.is_some_and(|v| self.values.iter().any(|w| w == v))
            }
            Op::NotEquals | Op::NotIn => value.is_none_or(|v| self.values.iter().all(|w| w != v)),
            Op::Exists => value.is_some(),
            Op::DoesNotExist => value.is_none(),
            Op::GreaterThan | Op::LessThan => {
                let (Some(have), Some(limit)) = (value.and_then(number), number(&self.values[0]))
                else {
                    return false;
                };
                if self.op == Op::GreaterThan {
                    have > limit
                } else {
                    have < limit
                }
            }
        }
    }

    /// `Requirement.String()`: `!key`, `key`, `key=v`, `key in (a,b)` (values sorted).
    fn text(&self) -> String {
        let key = &self.key;
        let mut values = self.values.clone();
        values.sort();
        let values = values.join(",");
        match self.op {
            Op::Exists => key.clone(),
            Op::DoesNotExist => format!("!{key}"),
            Op::Equals => format!("{key}={values}"),
            Op::DoubleEquals => format!("{key}=={values}"),
            Op::NotEquals => format!("{key}!={values}"),
            Op::In => format!("{key} in ({values})"),
            Op::NotIn => format!("{key} notin ({values})"),
            Op::GreaterThan => format!("{key}>{values}"),
            Op::LessThan => format!("{key}<{values}"),
        }
    }
}

/// A label query: every requirement must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    /// `-l` as kubectl parses it; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Selector, String> {
        let mut requirements = Vec::new();
        for part in split_top_level(text)? {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!(
                    "selector {text:?}: an empty requirement (a stray comma?)"
                ));
            }
            requirements
                .push(parse_requirement(part).map_err(|e| format!("selector {text:?}: {e}"))?);
        }
        Ok(Selector { requirements })
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        let empty = Map::new();
        let labels = object["metadata"]["labels"].as_object().unwrap_or(&empty);
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// `metav1.LabelSelectorAsSelector` of a stored `LabelSelector` (`matchLabels`,
    /// `matchExpressions`); `None` when it cannot be converted (an unknown operator, `In`
    /// without values, …). A missing selector selects nothing and an empty one everything:
    /// both have no requirements.
    pub fn from_label_selector(selector: &Value) -> Option<Selector> {
        let mut requirements = Vec::new();
        if let Some(labels) = selector["matchLabels"].as_object() {
            for (k, v) in labels {
                requirements.push(Requirement {
                    key: k.clone(),
                    op: Op::Equals,
                    values: vec![v.as_str().unwrap_or("").to_string()],
                });
            }
        }
        for e in selector["matchExpressions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let values: Vec<String> = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| v.as_str().unwrap_or("").to_string())
                .collect();
            let op = match e["operator"].as_str()? {
                "In" => Op::In,
                "NotIn" => Op::NotIn,
                "Exists" => Op::Exists,
                "DoesNotExist" => Op::DoesNotExist,
                _ => return None,
            };
            let with_values = matches!(op, Op::In | Op::NotIn);
            if with_values == values.is_empty() {
                return None;
            }
            requirements.push(Requirement {
                key: e["key"].as_str().unwrap_or("").to_string(),
                op,
                values,
            });
        }
        // `selector.Add` keeps the requirements sorted by key.
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Some(Selector { requirements })
    }

    /// `Selector.String()`: the requirements joined with commas (`""` for none).
    pub fn text(&self) -> String {
        let parts: Vec<String> = self.requirements.iter().map(Requirement::text).collect();
        parts.join(",")
    }
}

/// `metav1.FormatLabelSelector`: a stored selector as text, `<none>` when it has no
/// requirements, `<error>` when it cannot be converted.
pub fn format_label_selector(selector: &Value) -> String {
    match Selector::from_label_selector(selector) {
        None => "<error>".into(),
        Some(s) if s.requirements.is_empty() => "<none>".into(),
        Some(s) => s.text(),
    }
}

/// Splits at commas outside parentheses (`a in (x,y),b` is two requirements).
fn split_top_level(text: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return Err(format!("selector {text:?}: unbalanced parentheses"));
        }
    }
    if depth != 0 {
        return Err(format!("selector {text:?}: unbalanced parentheses"));
    }
    if !text.trim().is_empty() {
        parts.push(&text[start..]);
    }
    Ok(parts)
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement {
            key: label_key(key.trim())?,
            op: Op::DoesNotExist,
            values: Vec::new(),
        });
    }
    // Set-based: `key in (a,b)`, `key notin (a,b)`.
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if words.len() == 2 {
        let rest = words[1].trim_start();
        for (word, op) in [("notin", Op::NotIn), ("in", Op::In)] {
            let Some(set) = rest.strip_prefix(word) else {
                continue;
            };
            let set = set.trim();
            let Some(inner) = set.strip_prefix('(').and_then(|s| s.strip_suffix(')')) else {
                return Err(format!(
                    "{part:?}: expected a set of values in parentheses after {word:?}"
                ));
            };
            let values: Vec<String> = inner.split(',').map(|v| v.trim().to_string()).collect();
            for v in &values {
                label_value(v)?;
            }
            return Ok(Requirement {
                key: label_key(words[0])?,
                op,
                values,
            });
        }
    }
    for (token, op) in [
        ("==", Op::DoubleEquals),
        ("!=", Op::NotEquals),
        ("=", Op::Equals),
        (">", Op::GreaterThan),
        ("<", Op::LessThan),
    ] {
        if let Some((key, value)) = part.split_once(token) {
            let value = value.trim();
            label_value(value)?;
            if matches!(op, Op::GreaterThan | Op::LessThan) && value.parse::<i64>().is_err() {
                return Err(format!("{part:?}: {token} needs an integer"));
            }
            return Ok(Requirement {
                key: label_key(key.trim())?,
                op,
                values: vec![value.to_string()],
            });
        }
    }
    Ok(Requirement {
        key: label_key(part)?,
        op: Op::Exists,
        values: Vec::new(),
    })
}

/// A label key: an optional DNS prefix and `/`, then a name of letters, digits, `-_.`.
fn label_key(key: &str) -> Result<String, String> {
    let name = key.rsplit_once('/').map_or(key, |(_, n)| n);
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 253
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    };
    if ok(key) && !name.is_empty() && name.len() <= 63 {
        Ok(key.to_string())
    } else {
        Err(format!("{key:?} is not a valid label key"))
    }
}

fn label_value(value: &str) -> Result<(), String> {
    if value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        Ok(())
    } else {
        Err(format!("{value:?} is not a valid label value"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labelled(labels: Value) -> Value {
        json!({"metadata": {"labels": labels}})
    }

    #[test]
    fn labels_format_sorted_or_none() {
        assert_eq!(format_labels(&json!({"b": "2", "a": "1"})), "a=1,b=2");
        assert_eq!(format_labels(&json!({})), "<none>");
        assert_eq!(format_labels(&Value::Null), "<none>");
    }

    #[test]
    fn equality_and_set_based_queries() {
        let web = labelled(json!({"app": "web", "env": "prod", "replicas": "3"}));
        let db = labelled(json!({"app": "db", "canary": "true"}));
        for (query, on_web, on_db) in [
            ("app=web", true, false),
            ("app==web", true, false),
            ("app!=web", false, true),
            ("env in (prod, qa)", true, false),
            ("env notin (prod)", false, true),
            ("canary", false, true),
            ("!canary", true, false),
            ("app in (web,db),!canary", true, false),
            ("replicas>2", true, false),
            ("replicas<2", false, false),
            ("", true, true),
        ] {
            let s = Selector::parse(query).unwrap();
            assert_eq!(
                (s.matches(&web), s.matches(&db)),
                (on_web, on_db),
                "{query}"
            );
        }
        for bad in ["app in web", "a,,b", "app=(x", "bad key=x", "x>y"] {
            assert!(Selector::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stored_selectors_print_as_kubectl_prints_them() {
        let s = json!({"matchLabels": {"tier": "web", "app": "x"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["qa", "prod"]},
                                 {"key": "gone", "operator": "DoesNotExist"}]});
        assert_eq!(
            format_label_selector(&s),
            "app=x,env in (prod,qa),!gone,tier=web"
        );
        assert_eq!(format_label_selector(&json!({})), "<none>");
        assert_eq!(format_label_selector(&Value::Null), "<none>");
        let bad = json!({"matchExpressions": [{"key": "a", "operator": "Near"}]});
        assert_eq!(format_label_selector(&bad), "<error>");
    }
}
