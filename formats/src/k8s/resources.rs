//! kubectl's resource names for the built-in kinds and where kube-apiserver keeps them in etcd
//! (`DefaultStorageFactory`: the plural without its group, except the special prefixes of
//! `SpecialDefaultResourcePrefixes`, and `<group>/<plural>` for apiextensions, apiregistration
//! and custom resources). See `docs/format-k8s.md#keys`.
//!
//! The one way between the user's names and etcd's: [`resolve`] (a name typed to `get` or the
//! TUI → where the objects live) and [`display_name`] (an etcd resource → what the user sees).

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

/// The label of keys outside the Kubernetes prefix, or below it but of no object shape (e.g.
/// `compact_rev_key`): one group wherever keys are grouped by resource.
pub const OTHER_KEYS: &str = "(other keys)";

/// Where one resource's objects live below the etcd prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// e.g. `pods`, `minions`, `services/specs`, `example.com/widgets`.
    pub etcd_resource: String,
    /// `None` for custom resources: their scope is not known without the CRD, so both shapes
    /// of key are accepted.
    pub namespaced: Option<bool>,
}

/// A name [`resolve`] does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the server doesn't have a resource type {name:?}: not a built-in resource; name a custom \
     resource as <plural>.<group> (e.g. certificates.cert-manager.io)"
)]
pub struct UnknownResource {
    pub name: String,
}

/// A resource as the user names it → where its objects live: a built-in as [`lookup`] takes
/// it, a custom resource as `<plural>.<group>` or `<group>/<plural>` (a group has a dot).
pub fn resolve(name: &str) -> Result<Target, UnknownResource> {
    if let Some(r) = lookup(name) {
        return Ok(Target {
            etcd_resource: r.etcd_resource.to_string(),
            namespaced: Some(r.namespaced),
        });
    }
    let lower = name.to_ascii_lowercase();
    let custom = match lower.split_once('/') {
        Some((group, plural)) => Some((plural, group)).filter(|(plural, _)| !plural.contains('/')),
        None => lower.split_once('.'),
    };
    match custom {
        Some((plural, group)) if !plural.is_empty() && group.contains('.') => Ok(Target {
            etcd_resource: custom_etcd_resource(plural, group),
            namespaced: None,
        }),
        _ => Err(UnknownResource {
            name: name.to_string(),
        }),
    }
}

/// What the user sees for an etcd resource: a built-in's plural (`minions` → `nodes`,
/// `services/specs` → `services`), a custom resource as `<plural>.<group>`, anything else as is.
pub fn display_name(etcd_resource: &str) -> String {
    match by_etcd_resource(etcd_resource) {
        Some(r) => r.plural.to_string(),
        None => custom_name(etcd_resource),
    }
}

/// [`display_name`] with the group of built-ins too (`replicasets.apps`), as a kubectl command
/// needs it to be unambiguous.
pub fn qualified_name(etcd_resource: &str) -> String {
    match by_etcd_resource(etcd_resource) {
        Some(r) if !r.group.is_empty() => format!("{}.{}", r.plural, r.group),
        Some(r) => r.plural.to_string(),
        None => custom_name(etcd_resource),
    }
}

fn custom_name(etcd_resource: &str) -> String {
    match etcd_resource.split_once('/') {
        Some((group, plural)) if group.contains('.') => format!("{plural}.{group}"),
        _ => etcd_resource.to_string(),
    }
}

/// The resource part of a `-o name` line, from the object itself: `pod`, `deployment.apps`,
/// `widget.example.com`.
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
