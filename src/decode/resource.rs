//! `revkeeper get RESOURCE`: a kubectl resource name to the etcd keys that hold it.

use revkeeper_formats::k8s::resources;

use crate::{Error, Result};

/// Where one resource's objects live below the etcd prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// e.g. `pods`, `minions`, `services/specs`, `example.com/widgets`.
    pub etcd_resource: String,
    /// `None` for custom resources: their scope is not known without the CRD, so both shapes
    /// of key are accepted.
    pub namespaced: Option<bool>,
}

/// A built-in by plural, singular, short name, kind or `plural.group`; a custom resource as
/// `<plural>.<group>` or `<group>/<plural>`.
pub fn resolve(arg: &str) -> Result<Target> {
    if let Some(r) = resources::lookup(arg) {
        return Ok(Target {
            etcd_resource: r.etcd_resource.to_string(),
            namespaced: Some(r.namespaced),
        });
    }
    let lower = arg.to_ascii_lowercase();
    let custom = match lower.split_once('/') {
        Some((group, plural))
            if group.contains('.') && !plural.is_empty() && !plural.contains('/') =>
        {
            Some(resources::custom_etcd_resource(plural, group))
        }
        Some(_) => None,
        None => lower
            .split_once('.')
            .filter(|(plural, group)| !plural.is_empty() && group.contains('.'))
            .map(|(plural, group)| resources::custom_etcd_resource(plural, group)),
    };
    match custom {
        Some(etcd_resource) => Ok(Target {
            etcd_resource,
            namespaced: None,
        }),
        None => Err(Error::invalid(format!(
            "the server doesn't have a resource type {arg:?}: not a built-in resource; name a \
             custom resource as <plural>.<group> (e.g. certificates.cert-manager.io)"
        ))),
    }
}

/// The resource part of a `-o name` line: `pod`, `deployment.apps`, `widget.example.com`.
pub fn name_prefix(object: &serde_json::Value) -> String {
    let kind = object["kind"]
        .as_str()
        .unwrap_or("unknown")
        .to_ascii_lowercase();
    match object["apiVersion"]
        .as_str()
        .and_then(|v| v.split_once('/'))
    {
        Some((group, _)) => format!("{kind}.{group}"),
        None => kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_to_etcd_resources() {
        let t = |a: &str| resolve(a).map(|t| (t.etcd_resource, t.namespaced)).unwrap();
        assert_eq!(t("nodes"), ("minions".into(), Some(false)));
        assert_eq!(t("svc"), ("services/specs".into(), Some(true)));
        assert_eq!(t("endpoints"), ("services/endpoints".into(), Some(true)));
        assert_eq!(t("rc"), ("controllers".into(), Some(true)));
        assert_eq!(t("ingresses"), ("ingress".into(), Some(true)));
        assert_eq!(t("Deployment"), ("deployments".into(), Some(true)));
        assert_eq!(
            t("certificates.cert-manager.io"),
            ("cert-manager.io/certificates".into(), None)
        );
        assert_eq!(
            t("cert-manager.io/certificates"),
            ("cert-manager.io/certificates".into(), None)
        );
        assert!(
            resolve("widgets")
                .unwrap_err()
                .to_string()
                .contains("<plural>.<group>")
        );
        assert!(resolve("a/b/c").is_err());
    }

    #[test]
    fn names_print_like_kubectl() {
        assert_eq!(
            name_prefix(&serde_json::json!({"kind": "Pod", "apiVersion": "v1"})),
            "pod"
        );
        assert_eq!(
            name_prefix(&serde_json::json!({"kind": "Deployment", "apiVersion": "apps/v1"})),
            "deployment.apps"
        );
    }
}
