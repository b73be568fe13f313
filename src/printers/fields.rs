//! `--field-selector` as kubectl sends it and kube-apiserver applies it, for the fields every
//! stored object can answer offline: `metadata.name`, `metadata.namespace` and `status.phase`
//! (`=`, `==`, `!=`; comma: and). An absent field is the empty string.

use serde_json::Value;

const FIELDS: [&str; 3] = ["metadata.name", "metadata.namespace", "status.phase"];

#[derive(Clone, Debug, PartialEq, Eq)]
struct Requirement {
    field: &'static str,
    value: String,
    equal: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    requirements: Vec<Requirement>,
}

impl FieldSelector {
    pub fn parse(text: &str) -> Result<FieldSelector, String> {
        let mut requirements = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, value, equal) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, false)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, v, true)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, v, true)
            } else {
                return Err(format!(
                    "field selector {text:?}: {part:?} is not FIELD=VALUE or FIELD!=VALUE"
                ));
            };
            let field = FIELDS.iter().find(|f| **f == field.trim()).ok_or_else(|| {
                format!(
                    "field selector {text:?}: {:?} is not supported (use {})",
                    field.trim(),
                    FIELDS.join(", ")
                )
            })?;
            requirements.push(Requirement {
                field,
                value: value.trim().to_string(),
                equal,
            });
        }
        Ok(FieldSelector { requirements })
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.requirements.iter().all(|r| {
            let at = r.field.split('.').fold(object, |v, k| &v[k]);
            (at.as_str().unwrap_or("") == r.value) == r.equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn name_namespace_and_phase() {
        let pod =
            json!({"metadata": {"name": "a", "namespace": "ns"}, "status": {"phase": "Running"}});
        for (query, want) in [
            ("metadata.name=a", true),
            ("metadata.name==b", false),
            ("status.phase!=Running", false),
            ("status.phase!=Failed,metadata.namespace=ns", true),
            ("", true),
        ] {
            assert_eq!(
                FieldSelector::parse(query).unwrap().matches(&pod),
                want,
                "{query}"
            );
        }
        assert!(
            FieldSelector::parse("spec.nodeName=x")
                .unwrap_err()
                .contains("not supported")
        );
        assert!(FieldSelector::parse("metadata.name").is_err());
    }
}
