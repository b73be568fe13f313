//! etcd keys of Kubernetes objects: `<prefix>/<resource>/[<namespace>/]<name>`, where the
//! resource is one segment (`pods`, `minions`), or two for `services/{specs,endpoints}` and for
//! `<group>/<plural>` (a group always has a dot). Names never contain `/`, so the number of
//! segments left says whether the object is namespaced. Keys are split ([`ObjectKey::parse`])
//! and built ([`object_key`], [`key_prefix`]) here only.

/// The default `--etcd-prefix` of kube-apiserver (OpenShift uses `/kubernetes.io`).
pub const DEFAULT_PREFIX: &str = "/registry";

/// An object key split into its parts (borrowed from the key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectKey<'a> {
    /// The etcd resource, e.g. `pods`, `services/specs`, `monitoring.coreos.com/prometheuses`.
    pub resource: &'a str,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
}

impl<'a> ObjectKey<'a> {
    /// Splits `key` below `prefix` (with or without its trailing `/`); `None` for keys outside
    /// it or of another shape (e.g. `compact_rev_key`, `/registry/ranges/serviceips` parses as
    /// resource `ranges`, name `serviceips`).
    pub fn parse(key: &'a [u8], prefix: &str) -> Option<ObjectKey<'a>> {
        let rest = below_prefix(key, prefix)?;
        let mut parts = rest.split('/');
        let first = parts.next()?;
        let resource_len = if first == "services" || first.contains('.') {
            let second = parts.next()?;
            first.len() + 1 + second.len()
        } else {
            first.len()
        };
        let resource = &rest[..resource_len];
        let tail: Vec<&str> = parts.collect();
        if resource.split('/').any(str::is_empty) {
            return None;
        }
        match tail.as_slice() {
            [name] if !name.is_empty() => Some(ObjectKey {
                resource,
                namespace: None,
                name,
            }),
            [ns, name] if !ns.is_empty() && !name.is_empty() => Some(ObjectKey {
                resource,
                namespace: Some(ns),
                name,
            }),
            _ => None,
        }
    }
}

/// The key of object `name` of `resource` (in `namespace`, or cluster-scoped when `None`) below
/// `prefix`: what [`ObjectKey::parse`] splits.
pub fn object_key(prefix: &str, resource: &str, namespace: Option<&str>, name: &str) -> String {
    key_prefix(prefix, resource, namespace) + name
}

/// Where the keys of `resource` start below `prefix` (with or without its trailing `/`): those
/// in `namespace`, or all of them (cluster-scoped or in any namespace) when it is `None`.
pub fn key_prefix(prefix: &str, resource: &str, namespace: Option<&str>) -> String {
    let prefix = prefix.trim_end_matches('/');
    match namespace {
        Some(ns) => format!("{prefix}/{resource}/{ns}/"),
        None => format!("{prefix}/{resource}/"),
    }
}

/// What follows `prefix/` in `key` (`None` for keys outside `prefix` or not UTF-8).
pub fn below_prefix<'a>(key: &'a [u8], prefix: &str) -> Option<&'a str> {
    std::str::from_utf8(key)
        .ok()?
        .strip_prefix(prefix.trim_end_matches('/'))?
        .strip_prefix('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(key: &str) -> Option<(String, Option<String>, String)> {
        ObjectKey::parse(key.as_bytes(), DEFAULT_PREFIX).map(|k| {
            (
                k.resource.to_string(),
                k.namespace.map(str::to_string),
                k.name.to_string(),
            )
        })
    }

    #[test]
    fn splits_every_shape() {
        let s = |x: &str| x.to_string();
        assert_eq!(
            parse("/registry/pods/default/web-1"),
            Some((s("pods"), Some(s("default")), s("web-1")))
        );
        assert_eq!(
            parse("/registry/minions/node-1"),
            Some((s("minions"), None, s("node-1")))
        );
        assert_eq!(
            parse("/registry/services/specs/default/kubernetes"),
            Some((s("services/specs"), Some(s("default")), s("kubernetes")))
        );
        assert_eq!(
            parse("/registry/apiextensions.k8s.io/customresourcedefinitions/foos.example.com"),
            Some((
                s("apiextensions.k8s.io/customresourcedefinitions"),
                None,
                s("foos.example.com")
            ))
        );
        assert_eq!(
            parse("/registry/example.com/foos/ns1/a"),
            Some((s("example.com/foos"), Some(s("ns1")), s("a")))
        );
        assert_eq!(
            parse("/registry/masterleases/10.0.0.1"),
            Some((s("masterleases"), None, s("10.0.0.1")))
        );
        assert_eq!(parse("compact_rev_key"), None);
        assert_eq!(parse("/registry/pods"), None);
        assert_eq!(parse("/registry/pods/a/b/c"), None);
        assert_eq!(parse("/registryx/pods/a"), None);
        let openshift =
            ObjectKey::parse(b"/kubernetes.io/secrets/ns/s", "/kubernetes.io/").unwrap();
        assert_eq!(
            (openshift.resource, openshift.namespace, openshift.name),
            ("secrets", Some("ns"), "s")
        );
    }

    #[test]
    fn keys_build_as_they_parse() {
        for key in [
            "/registry/pods/default/web-1",
            "/registry/minions/node-1",
            "/registry/services/specs/default/kubernetes",
            "/registry/services/endpoints/kube-system/kube-dns",
            "/registry/apiextensions.k8s.io/customresourcedefinitions/foos.example.com",
            "/registry/cert-manager.io/certificates/ns1/web-tls",
            "/registry/masterleases/10.0.0.1",
        ] {
            let k = ObjectKey::parse(key.as_bytes(), DEFAULT_PREFIX).unwrap();
            let build = |prefix| object_key(prefix, k.resource, k.namespace, k.name);
            assert_eq!(build(DEFAULT_PREFIX), key);
            assert_eq!(build("/registry/"), key, "a trailing / is the same prefix");
            assert!(key.starts_with(&key_prefix(DEFAULT_PREFIX, k.resource, k.namespace)));
        }
        let key = object_key("/kubernetes.io", "example.com/widgets", None, "w");
        assert_eq!(key, "/kubernetes.io/example.com/widgets/w");
        assert_eq!(
            ObjectKey::parse(key.as_bytes(), "/kubernetes.io"),
            Some(ObjectKey {
                resource: "example.com/widgets",
                namespace: None,
                name: "w"
            })
        );
        assert_eq!(
            key_prefix("/registry/", "pods", Some("demo")),
            "/registry/pods/demo/"
        );
        assert_eq!(
            key_prefix("/registry", "services/specs", None),
            "/registry/services/specs/"
        );
        assert_eq!(
            below_prefix(b"/registry/health", "/registry/"),
            Some("health")
        );
        assert_eq!(below_prefix(b"/registryx/a", "/registry"), None);
        assert_eq!(below_prefix(b"compact_rev_key", "/registry"), None);
    }
}
