//! Resource names: kubectl's names → etcd resources ([`resources::lookup`],
//! [`resources::resolve`]) and back ([`resources::display_name`], [`resources::qualified_name`]).

use revkeeper_formats::k8s::resources::{self, *};

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

fn target(name: &str) -> (String, Option<bool>) {
    let t = resolve(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    (t.etcd_resource, t.namespaced)
}

#[test]
fn every_name_form_resolves_to_where_the_objects_live() {
    let builtin = |r: &str, namespaced| (r.to_string(), Some(namespaced));
    assert_eq!(target("pods"), builtin("pods", true), "plural");
    assert_eq!(target("pod"), builtin("pods", true), "singular");
    assert_eq!(target("po"), builtin("pods", true), "short name");
    assert_eq!(target("Pod"), builtin("pods", true), "kind");
    assert_eq!(target("nodes"), builtin("minions", false));
    assert_eq!(target("svc"), builtin("services/specs", true));
    assert_eq!(target("endpoints"), builtin("services/endpoints", true));
    assert_eq!(target("rc"), builtin("controllers", true));
    assert_eq!(target("ingresses"), builtin("ingress", true));
    assert_eq!(target("Deployment"), builtin("deployments", true));
    assert_eq!(target("deployments.apps"), builtin("deployments", true));
    assert_eq!(
        target("crd"),
        builtin("apiextensions.k8s.io/customresourcedefinitions", false)
    );
}

#[test]
fn custom_resources_resolve_in_both_spellings() {
    let custom = |r: &str| (r.to_string(), None);
    assert_eq!(
        target("certificates.cert-manager.io"),
        custom("cert-manager.io/certificates")
    );
    assert_eq!(
        target("cert-manager.io/certificates"),
        custom("cert-manager.io/certificates")
    );
    assert_eq!(target("foos.example.com"), custom("example.com/foos"));
    assert_eq!(target("Widgets.Example.COM"), custom("example.com/widgets"));
}

#[test]
fn unknown_names_are_refused_with_the_custom_resource_form() {
    for name in [
        "widgets",
        "nosuch",
        "a/b/c",
        "deployments.batch",
        "example.com/",
        ".example.com",
        "widgets/example.com/x",
        "group/widgets",
    ] {
        let e = resolve(name).unwrap_err();
        assert_eq!(e.name, name);
        let text = e.to_string();
        assert!(
            text.contains(&format!("resource type {name:?}")) && text.contains("<plural>.<group>"),
            "{text}"
        );
    }
}

#[test]
fn etcd_resources_display_as_the_user_names_them() {
    assert_eq!(display_name("services/specs"), "services");
    assert_eq!(display_name("services/endpoints"), "endpoints");
    assert_eq!(display_name("minions"), "nodes");
    assert_eq!(display_name("controllers"), "replicationcontrollers");
    assert_eq!(display_name("ingress"), "ingresses");
    assert_eq!(
        display_name("apiextensions.k8s.io/customresourcedefinitions"),
        "customresourcedefinitions"
    );
    assert_eq!(display_name("example.com/foos"), "foos.example.com");
    assert_eq!(
        display_name("cert-manager.io/certificates"),
        "certificates.cert-manager.io"
    );
    assert_eq!(display_name("masterleases"), "masterleases");
    assert_eq!(display_name(OTHER_KEYS), OTHER_KEYS);

    assert_eq!(qualified_name("replicasets"), "replicasets.apps");
    assert_eq!(qualified_name("minions"), "nodes");
    assert_eq!(
        qualified_name("kafka.strimzi.io/kafkatopics"),
        "kafkatopics.kafka.strimzi.io"
    );
}

#[test]
fn display_names_resolve_back_to_their_etcd_resource() {
    for r in BUILTIN {
        assert_eq!(target(&display_name(r.etcd_resource)).0, r.etcd_resource);
        assert_eq!(target(&qualified_name(r.etcd_resource)).0, r.etcd_resource);
    }
    assert_eq!(
        target(&display_name("cert-manager.io/certificates")).0,
        "cert-manager.io/certificates"
    );
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
    assert_eq!(
        resources::name_prefix(
            &serde_json::json!({"kind": "Certificate", "apiVersion": "cert-manager.io/v1"})
        ),
        "certificate.cert-manager.io"
    );
}
