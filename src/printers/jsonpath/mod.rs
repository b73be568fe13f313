//! The JSONPath kubectl and kube-apiserver use (k8s.io/client-go/util/jsonpath): fields
//! (`.spec.x`, `['a.b/c']`), indexes and slices (`[0]`, `[-1]`, `[1:3]`), unions
//! (`['name','kind']`, `[0,2]`), wildcards (`[*]`, `.*`), recursive descent (`..name`) and
//! filters (`[?(@.type=="Ready")]`, `[?(@.port>=8000)]`, `[?(@.ready)]`). Missing keys give no
//! result, as with `AllowMissingKeys(true)`. One path serves printer columns, `--sort-by` and
//! `-o custom-columns`; [`template`] adds the text, literals and `range … end` of
//! `-o jsonpath=TEMPLATE`.

pub mod template;

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Field(String),
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    Wildcard,
    Descendants,
    Filter(Filter),
    /// `['a','b']`, `[0,2]`: the results of each, in order.
    Union(Vec<Step>),
}

#[derive(Clone, Debug, PartialEq)]
struct Filter {
    path: Vec<Step>,
    test: Option<(Cmp, Literal)>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq)]
enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
}

impl JsonPath {
    /// Parses `.a.b[0]`, with or without kubectl's `{…}` and leading `$` (or `@`); a bare
    /// `a.b` is taken as `.a.b` (kubectl's relaxed form of `--sort-by` and custom columns).
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let inner = text.trim();
        let inner = inner
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(inner)
            .trim();
        let inner = inner
            .strip_prefix('$')
            .or_else(|| inner.strip_prefix('@'))
            .unwrap_or(inner);
        let steps = Parser { s: inner, at: 0 }
            .steps(false)
            .map_err(|e| format!("JSONPath {text:?}: {e}"))?;
        Ok(JsonPath {
            text: text.to_string(),
            steps,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Every value the path selects, in document order.
    pub fn find<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        eval(&self.steps, vec![root])
    }
}

struct Parser<'a> {
    s: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        let s = self.s;
        &s[self.at..]
    }

    fn eat(&mut self, prefix: &str) -> bool {
        if self.rest().starts_with(prefix) {
            self.at += prefix.len();
            true
        } else {
            false
        }
    }

    /// Steps up to the end, or (inside a filter) up to an operator or `)`.
    fn steps(&mut self, in_filter: bool) -> Result<Vec<Step>, String> {
        let mut steps = Vec::new();
        let mut first = true;
        loop {
            let rest = self.rest().trim_start();
            self.at = self.s.len() - rest.len();
            if rest.is_empty() || (in_filter && !rest.starts_with(['.', '['])) {
                return Ok(steps);
            }
            if self.eat("..") {
                steps.push(Step::Descendants);
                if self.rest().starts_with('[') {
                    continue;
                }
                steps.push(self.field()?);
            } else if self.eat(".") {
                if self.rest().starts_with('[') {
                    continue;
                }
                steps.push(self.field()?);
            } else if self.eat("[") {
                steps.push(self.bracket()?);
            } else if first && !in_filter {
                steps.push(self.field()?);
            } else {
                return Err(format!(
                    "unexpected {:?}",
                    rest.chars().next().unwrap_or(' ')
                ));
            }
            first = false;
        }
    }

    fn field(&mut self) -> Result<Step, String> {
        if self.eat("*") {
            return Ok(Step::Wildcard);
        }
        let end = self
            .rest()
            .find(|c: char| c == '.' || c == '[' || c.is_whitespace() || "=!<>)".contains(c))
            .unwrap_or(self.rest().len());
        let name = &self.rest()[..end];
        if name.is_empty() {
            return Err(format!("a field name is missing at {:?}", self.rest()));
        }
        self.at += end;
        Ok(Step::Field(name.to_string()))
    }

    fn bracket(&mut self) -> Result<Step, String> {
        let step = if self.eat("*") {
            Step::Wildcard
        } else if self.eat("?(") {
            let filter = self.filter()?;
            if !self.eat(")") {
                return Err("a filter must end with )".into());
            }
            Step::Filter(filter)
        } else if let Some(union) = self.union()? {
            union
        } else if let Some(q) = self
            .rest()
            .chars()
            .next()
            .filter(|c| *c == '\'' || *c == '"')
        {
            self.at += 1;
            let end = self.rest().find(q).ok_or("an unterminated quoted name")?;
            let name = self.rest()[..end].to_string();
            self.at += end + 1;
            Step::Field(name)
        } else {
            let end = self.rest().find(']').ok_or("a [ without ]")?;
            let inside = self.rest()[..end].trim().to_string();
            self.at += end;
            let int = |t: &str| -> Result<Option<i64>, String> {
                let t = t.trim();
                if t.is_empty() {
                    return Ok(None);
                }
                t.parse::<i64>()
                    .map(Some)
                    .map_err(|_| format!("{t:?} is not an index"))
            };
            match inside.split(':').collect::<Vec<_>>().as_slice() {
                [i] => Step::Index(int(i)?.ok_or("an empty index")?),
                [a, b] => Step::Slice(int(a)?, int(b)?),
                _ => return Err(format!("[{inside}]: slices with a step are not supported")),
            }
        };
        if !self.eat("]") {
            return Err("a [ without ]".into());
        }
        Ok(step)
    }

    /// `['a', 'b']` or `[0, 2]` (before the closing `]`), or `None` when the bracket holds one
    /// item.
    fn union(&mut self) -> Result<Option<Step>, String> {
        let rest = self.rest();
        let mut parts = Vec::new();
        let (mut start, mut quote) = (0, None);
        let mut end = None;
        for (i, c) in rest.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, ',') => {
                    parts.push(&rest[start..i]);
                    start = i + 1;
                }
                (None, ']') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            return Err("a [ without ]".into());
        };
        if parts.is_empty() {
            return Ok(None);
        }
        parts.push(&rest[start..end]);
        let steps = parts
            .iter()
            .map(|p| {
                let p = p.trim();
                let unquoted = p
                    .strip_prefix('\'')
                    .and_then(|p| p.strip_suffix('\''))
                    .or_else(|| p.strip_prefix('"').and_then(|p| p.strip_suffix('"')));
                match unquoted {
                    Some(name) => Ok(Step::Field(name.to_string())),
                    None => p.parse::<i64>().map(Step::Index).map_err(|_| {
                        format!("[{}]: a union takes quoted names or indexes", &rest[..end])
                    }),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.at += end;
        Ok(Some(Step::Union(steps)))
    }

    fn filter(&mut self) -> Result<Filter, String> {
        let rest = self.rest().trim_start();
        self.at = self.s.len() - rest.len();
        if !self.eat("@") {
            return Err("a filter must start with @".into());
        }
        let path = self.steps(true)?;
        let rest = self.rest().trim_start();
        self.at = self.s.len() - rest.len();
        if rest.starts_with(')') {
            return Ok(Filter { path, test: None });
        }
        let cmp = [
            ("==", Cmp::Eq),
            ("!=", Cmp::Ne),
            ("<=", Cmp::Le),
            (">=", Cmp::Ge),
            ("<", Cmp::Lt),
            (">", Cmp::Gt),
        ]
        .into_iter()
        .find(|(t, _)| self.eat(t))
        .map(|(_, c)| c)
        .ok_or_else(|| format!("unexpected {rest:?} in a filter"))?;
        let rest = self.rest().trim_start();
        self.at = self.s.len() - rest.len();
        let literal = if let Some(q) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') {
            let body = &rest[1..];
            let end = body.find(q).ok_or("an unterminated string in a filter")?;
            self.at += end + 2;
            Literal::Str(body[..end].to_string())
        } else {
            let end = rest
                .find(|c: char| c == ')' || c.is_whitespace())
                .unwrap_or(rest.len());
            let word = &rest[..end];
            self.at += end;
            match word {
                "true" => Literal::Bool(true),
                "false" => Literal::Bool(false),
                _ => Literal::Num(
                    word.parse::<f64>()
                        .map_err(|_| format!("{word:?} is not a literal (quote strings)"))?,
                ),
            }
        };
        let rest = self.rest().trim_start();
        self.at = self.s.len() - rest.len();
        Ok(Filter {
            path,
            test: Some((cmp, literal)),
        })
    }
}

fn eval<'a>(steps: &[Step], mut current: Vec<&'a Value>) -> Vec<&'a Value> {
    for step in steps {
        let mut next = Vec::new();
        for v in current {
            apply(step, v, &mut next);
        }
        current = next;
    }
    current
}

fn apply<'a>(step: &Step, v: &'a Value, out: &mut Vec<&'a Value>) {
    match step {
        Step::Field(name) => out.extend(v.as_object().and_then(|o| o.get(name))),
        Step::Wildcard => match v {
            Value::Object(o) => out.extend(o.values()),
            Value::Array(a) => out.extend(a.iter()),
            _ => {}
        },
        Step::Index(i) => {
            if let Some(a) = v.as_array() {
                let at = if *i < 0 { a.len() as i64 + i } else { *i };
                out.extend(usize::try_from(at).ok().and_then(|at| a.get(at)));
            }
        }
        Step::Slice(start, end) => {
            if let Some(a) = v.as_array() {
                let len = a.len() as i64;
                let clamp = |x: i64| (if x < 0 { len + x } else { x }).clamp(0, len) as usize;
                let (s, e) = (clamp(start.unwrap_or(0)), clamp(end.unwrap_or(len)));
                if s < e {
                    out.extend(a[s..e].iter());
                }
            }
        }
        Step::Descendants => descendants(v, out),
        Step::Union(steps) => steps.iter().for_each(|s| apply(s, v, out)),
        Step::Filter(f) => {
            for item in v.as_array().into_iter().flatten() {
                if f.holds(item) {
                    out.push(item);
                }
            }
        }
    }
}

fn descendants<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    out.push(v);
    match v {
        Value::Object(o) => o.values().for_each(|c| descendants(c, out)),
        Value::Array(a) => a.iter().for_each(|c| descendants(c, out)),
        _ => {}
    }
}

impl Filter {
    fn holds(&self, item: &Value) -> bool {
        let found = eval(&self.path, vec![item]);
        let Some(left) = found.first() else {
            return false;
        };
        let Some((cmp, right)) = &self.test else {
            return true;
        };
        let order = match (left, right) {
            (Value::String(l), Literal::Str(r)) => l.as_str().cmp(r.as_str()),
            (Value::Number(l), Literal::Num(r)) => {
                match l.as_f64().and_then(|l| l.partial_cmp(r)) {
                    Some(o) => o,
                    None => return false,
                }
            }
            (Value::Bool(l), Literal::Bool(r)) => l.cmp(r),
            _ => return false,
        };
        match cmp {
            Cmp::Eq => order.is_eq(),
            Cmp::Ne => order.is_ne(),
            Cmp::Lt => order.is_lt(),
            Cmp::Le => order.is_le(),
            Cmp::Gt => order.is_gt(),
            Cmp::Ge => order.is_ge(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn find(path: &str, v: &Value) -> Vec<Value> {
        JsonPath::parse(path)
            .unwrap()
            .find(v)
            .into_iter()
            .cloned()
            .collect()
    }

    #[test]
    fn paths_of_real_printer_columns() {
        let cert = json!({
            "metadata": {"name": "web", "creationTimestamp": "2026-01-01T00:00:00Z",
                         "annotations": {"cert-manager.io/issuer": "le"}},
            "spec": {"ports": [{"port": 80}, {"port": 8443}], "x": true},
            "status": {"conditions": [
                {"type": "Issuing", "status": "False"},
                {"type": "Ready", "status": "True", "message": "up to date"}]}});
        assert_eq!(
            find(r#".status.conditions[?(@.type=="Ready")].status"#, &cert),
            [json!("True")]
        );
        assert_eq!(
            find(r#"{.status.conditions[?(@.type=='Ready')].message}"#, &cert),
            [json!("up to date")]
        );
        assert_eq!(
            find(".metadata.creationTimestamp", &cert),
            [json!("2026-01-01T00:00:00Z")]
        );
        assert_eq!(
            find(".metadata.annotations['cert-manager.io/issuer']", &cert),
            [json!("le")]
        );
        assert_eq!(find(".spec.ports[*].port", &cert), [json!(80), json!(8443)]);
        assert_eq!(find(".spec.ports[-1].port", &cert), [json!(8443)]);
        assert_eq!(find(".spec.ports[0:1].port", &cert), [json!(80)]);
        assert_eq!(
            find(".spec.ports[?(@.port>=1000)].port", &cert),
            [json!(8443)]
        );
        assert_eq!(find("..port", &cert), [json!(80), json!(8443)]);
        assert_eq!(find("spec.x", &cert), [json!(true)]);
        assert_eq!(find("$.spec.x", &cert), [json!(true)]);
        assert_eq!(
            find(".spec.ports[*]['port','name']", &cert),
            [json!(80), json!(8443)]
        );
        assert_eq!(
            find(".metadata['name', 'annotations']", &cert),
            [json!("web"), json!({"cert-manager.io/issuer": "le"})]
        );
        assert_eq!(
            find(".spec.ports[1,0].port", &cert),
            [json!(8443), json!(80)]
        );
        assert_eq!(find("@.spec.x", &cert), [json!(true)]);
        assert!(find(".status.missing.deeper", &cert).is_empty());
        assert!(find(r#".status.conditions[?(@.type=="Gone")].status"#, &cert).is_empty());
        for bad in [
            ".a[",
            ".a[?(@.b=x)]",
            ".a[1:2:3]",
            ".a[?(b)]",
            ".a[x,y]",
            ".a['x',",
        ] {
            assert!(JsonPath::parse(bad).is_err(), "{bad}");
        }
    }
}
