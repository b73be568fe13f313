//! kubectl's resource names for the built-in kinds and where kube-apiserver keeps them in etcd
//! (`DefaultStorageFactory`: the plural without its group, except the special prefixes of
//! `SpecialDefaultResourcePrefixes`, and `<group>/<plural>` for apiextensions, apiregistration
//! and custom resources). Spec: `k8s-encoding.md` §1.

/// One built-in resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resource {
    /// API group ("" for core).
    pub group: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    /// Where its keys live below the etcd prefix (`/registry`), e.g. `minions`.
    pub etcd_resource: &'static str,
    pub short_names: &'static [&'static str],
}

const fn r(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    etcd_resource: &'static str,
    short_names: &'static [&'static str],
) -> Resource {
    Resource {
        group,
        kind,
        plural,
        namespaced,
        etcd_resource,
        short_names,
    }
}

const NS: bool = true;
const CLUSTER: bool = false;

/// Every built-in resource kube-apiserver persists.
pub static BUILTIN: &[Resource] = &[
    r("", "Pod", "pods", NS, "pods", &["po"]),
    r("", "Service", "services", NS, "services/specs", &["svc"]),
    r(
        "",
        "Endpoints",
        "endpoints",
        NS,
        "services/endpoints",
        &["ep"],
    ),
    r("", "Node", "nodes", CLUSTER, "minions", &["no"]),
    r(
        "",
        "Namespace",
        "namespaces",
        CLUSTER,
        "namespaces",
        &["ns"],
    ),
    r("", "ConfigMap", "configmaps", NS, "configmaps", &["cm"]),
    r("", "Secret", "secrets", NS, "secrets", &[]),
    r(
        "",
        "ServiceAccount",
        "serviceaccounts",
        NS,
        "serviceaccounts",
        &["sa"],
    ),
    r("", "Event", "events", NS, "events", &["ev"]),
    r(
        "",
        "PersistentVolume",
        "persistentvolumes",
        CLUSTER,
        "persistentvolumes",
        &["pv"],
    ),
    r(
        "",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        NS,
        "persistentvolumeclaims",
        &["pvc"],
    ),
    r(
        "",
        "ReplicationController",
        "replicationcontrollers",
        NS,
        "controllers",
        &["rc"],
    ),
    r(
        "",
        "ResourceQuota",
        "resourcequotas",
        NS,
        "resourcequotas",
        &["quota"],
    ),
    r(
        "",
        "LimitRange",
        "limitranges",
        NS,
        "limitranges",
        &["limits"],
    ),
    r("", "PodTemplate", "podtemplates", NS, "podtemplates", &[]),
    r(
        "apps",
        "Deployment",
        "deployments",
        NS,
        "deployments",
        &["deploy"],
    ),
    r(
        "apps",
        "ReplicaSet",
        "replicasets",
        NS,
        "replicasets",
        &["rs"],
    ),
    r(
        "apps",
        "StatefulSet",
        "statefulsets",
        NS,
        "statefulsets",
        &["sts"],
    ),
    r("apps", "DaemonSet", "daemonsets", NS, "daemonsets", &["ds"]),
    r(
        "apps",
        "ControllerRevision",
        "controllerrevisions",
        NS,
        "controllerrevisions",
        &[],
    ),
    r("batch", "Job", "jobs", NS, "jobs", &[]),
    r("batch", "CronJob", "cronjobs", NS, "cronjobs", &["cj"]),
    r(
        "autoscaling",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        NS,
        "horizontalpodautoscalers",
        &["hpa"],
    ),
    r(
        "policy",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        NS,
        "poddisruptionbudgets",
        &["pdb"],
    ),
    r(
        "networking.k8s.io",
        "Ingress",
        "ingresses",
        NS,
        "ingress",
        &["ing"],
    ),
    r(
        "networking.k8s.io",
        "IngressClass",
        "ingressclasses",
        CLUSTER,
        "ingressclasses",
        &[],
    ),
    r(
        "networking.k8s.io",
        "NetworkPolicy",
        "networkpolicies",
        NS,
        "networkpolicies",
        &["netpol"],
    ),
    r(
        "networking.k8s.io",
        "IPAddress",
        "ipaddresses",
        CLUSTER,
        "ipaddresses",
        &["ip"],
    ),
    r(
        "networking.k8s.io",
        "ServiceCIDR",
        "servicecidrs",
        CLUSTER,
        "servicecidrs",
        &[],
    ),
    r(
        "discovery.k8s.io",
        "EndpointSlice",
        "endpointslices",
        NS,
        "endpointslices",
        &[],
    ),
    r("coordination.k8s.io", "Lease", "leases", NS, "leases", &[]),
    r(
        "coordination.k8s.io",
        "LeaseCandidate",
        "leasecandidates",
        NS,
        "leasecandidates",
        &[],
    ),
    r(
        "rbac.authorization.k8s.io",
        "Role",
        "roles",
        NS,
        "roles",
        &[],
    ),
    r(
        "rbac.authorization.k8s.io",
        "RoleBinding",
        "rolebindings",
        NS,
        "rolebindings",
        &[],
    ),
    r(
        "rbac.authorization.k8s.io",
        "ClusterRole",
        "clusterroles",
        CLUSTER,
        "clusterroles",
        &[],
    ),
    r(
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        "clusterrolebindings",
        CLUSTER,
        "clusterrolebindings",
        &[],
    ),
    r(
        "storage.k8s.io",
        "StorageClass",
        "storageclasses",
        CLUSTER,
        "storageclasses",
        &["sc"],
    ),
    r(
        "storage.k8s.io",
        "VolumeAttachment",
        "volumeattachments",
        CLUSTER,
        "volumeattachments",
        &[],
    ),
    r(
        "storage.k8s.io",
        "CSIDriver",
        "csidrivers",
        CLUSTER,
        "csidrivers",
        &[],
    ),
    r(
        "storage.k8s.io",
        "CSINode",
        "csinodes",
        CLUSTER,
        "csinodes",
        &[],
    ),
    r(
        "storage.k8s.io",
        "CSIStorageCapacity",
        "csistoragecapacities",
        NS,
        "csistoragecapacities",
        &[],
    ),
    r(
        "storage.k8s.io",
        "VolumeAttributesClass",
        "volumeattributesclasses",
        CLUSTER,
        "volumeattributesclasses",
        &["vac"],
    ),
    r(
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        CLUSTER,
        "validatingwebhookconfigurations",
        &[],
    ),
    r(
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        CLUSTER,
        "mutatingwebhookconfigurations",
        &[],
    ),
    r(
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        CLUSTER,
        "validatingadmissionpolicies",
        &[],
    ),
    r(
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        CLUSTER,
        "validatingadmissionpolicybindings",
        &[],
    ),
    r(
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicy",
        "mutatingadmissionpolicies",
        CLUSTER,
        "mutatingadmissionpolicies",
        &[],
    ),
    r(
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
        "mutatingadmissionpolicybindings",
        CLUSTER,
        "mutatingadmissionpolicybindings",
        &[],
    ),
    r(
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        CLUSTER,
        "apiextensions.k8s.io/customresourcedefinitions",
        &["crd", "crds"],
    ),
    r(
        "apiregistration.k8s.io",
        "APIService",
        "apiservices",
        CLUSTER,
        "apiregistration.k8s.io/apiservices",
        &[],
    ),
    r(
        "scheduling.k8s.io",
        "PriorityClass",
        "priorityclasses",
        CLUSTER,
        "priorityclasses",
        &["pc"],
    ),
    r(
        "node.k8s.io",
        "RuntimeClass",
        "runtimeclasses",
        CLUSTER,
        "runtimeclasses",
        &[],
    ),
    r(
        "certificates.k8s.io",
        "CertificateSigningRequest",
        "certificatesigningrequests",
        CLUSTER,
        "certificatesigningrequests",
        &["csr"],
    ),
    r(
        "certificates.k8s.io",
        "ClusterTrustBundle",
        "clustertrustbundles",
        CLUSTER,
        "clustertrustbundles",
        &[],
    ),
    r(
        "flowcontrol.apiserver.k8s.io",
        "FlowSchema",
        "flowschemas",
        CLUSTER,
        "flowschemas",
        &[],
    ),
    r(
        "flowcontrol.apiserver.k8s.io",
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
        CLUSTER,
        "prioritylevelconfigurations",
        &[],
    ),
    r(
        "resource.k8s.io",
        "DeviceClass",
        "deviceclasses",
        CLUSTER,
        "deviceclasses",
        &[],
    ),
    r(
        "resource.k8s.io",
        "ResourceClaim",
        "resourceclaims",
        NS,
        "resourceclaims",
        &[],
    ),
    r(
        "resource.k8s.io",
        "ResourceClaimTemplate",
        "resourceclaimtemplates",
        NS,
        "resourceclaimtemplates",
        &[],
    ),
    r(
        "resource.k8s.io",
        "ResourceSlice",
        "resourceslices",
        CLUSTER,
        "resourceslices",
        &[],
    ),
    r(
        "internal.apiserver.k8s.io",
        "StorageVersion",
        "storageversions",
        CLUSTER,
        "storageversions",
        &[],
    ),
    r(
        "storagemigration.k8s.io",
        "StorageVersionMigration",
        "storageversionmigrations",
        CLUSTER,
        "storageversionmigrations",
        &[],
    ),
];

/// A resource as kubectl names it: plural, singular, short name, kind (any case), or
/// `plural.group`. Only built-ins; a custom resource is named `<plural>.<group>` by the caller.
pub fn lookup(name: &str) -> Option<&'static Resource> {
    let lower = name.to_ascii_lowercase();
    let (base, group) = match lower.split_once('.') {
        Some((b, g)) => (b, Some(g)),
        None => (lower.as_str(), None),
    };
    BUILTIN.iter().find(|r| {
        let named =
            r.plural == base || r.kind.eq_ignore_ascii_case(base) || r.short_names.contains(&base);
        named && group.is_none_or(|g| g == r.group || (g == "core" && r.group.is_empty()))
    })
}

/// The resource of an `apiVersion` ("apps/v1", "v1") and kind, as ownerReferences name them.
/// `events.k8s.io` Events are core Events in storage.
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static Resource> {
    let group = match api_version.split_once('/') {
        Some((g, _)) => g,
        None => "",
    };
    let group = if group == "events.k8s.io" { "" } else { group };
    let group = if group == "extensions" {
        // extensions/v1beta1 cohabits with apps and networking.k8s.io.
        return BUILTIN
            .iter()
            .find(|r| r.kind == kind && (r.group == "apps" || r.group == "networking.k8s.io"));
    } else {
        group
    };
    BUILTIN.iter().find(|r| r.group == group && r.kind == kind)
}

/// The built-in resource stored under `etcd_resource` (e.g. `minions`, `services/specs`).
pub fn by_etcd_resource(etcd_resource: &str) -> Option<&'static Resource> {
    BUILTIN.iter().find(|r| r.etcd_resource == etcd_resource)
}

/// Where a custom resource `<plural>.<group>` lives: `<group>/<plural>`.
pub fn custom_etcd_resource(plural: &str, group: &str) -> String {
    format!("{group}/{plural}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_like_kubectl() {
        for (name, prefix) in [
            ("po", "pods"),
            ("Pod", "pods"),
            ("nodes", "minions"),
            ("svc", "services/specs"),
            ("endpoints", "services/endpoints"),
            ("rc", "controllers"),
            ("ingresses.networking.k8s.io", "ingress"),
            ("crd", "apiextensions.k8s.io/customresourcedefinitions"),
            ("deploy.apps", "deployments"),
            ("configmaps.core", "configmaps"),
        ] {
            assert_eq!(
                lookup(name).map(|r| r.etcd_resource),
                Some(prefix),
                "{name}"
            );
        }
        assert_eq!(lookup("widgets"), None);
        assert_eq!(lookup("deployments.batch"), None);
    }

    #[test]
    fn kinds_resolve_from_owner_references() {
        assert_eq!(
            by_kind("apps/v1", "ReplicaSet").unwrap().plural,
            "replicasets"
        );
        assert_eq!(by_kind("v1", "Node").unwrap().etcd_resource, "minions");
        assert_eq!(
            by_kind("events.k8s.io/v1", "Event").unwrap().plural,
            "events"
        );
        assert_eq!(
            by_kind("extensions/v1beta1", "Ingress")
                .unwrap()
                .etcd_resource,
            "ingress"
        );
        assert_eq!(by_kind("v1", "ReplicaSet"), None);
    }

    #[test]
    fn every_etcd_resource_is_unique() {
        for (i, a) in BUILTIN.iter().enumerate() {
            for b in &BUILTIN[i + 1..] {
                assert_ne!(a.etcd_resource, b.etcd_resource);
                assert_ne!((a.group, a.kind), (b.group, b.kind));
            }
        }
    }
}
