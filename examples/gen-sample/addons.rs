//! Add-ons: cert-manager (a CRD with printer columns and its custom resources), metrics-server
//! (an aggregated API) and monitoring, with Helm's release records.

use serde_json::json;

use crate::cluster::*;
use crate::meta::*;
use crate::workloads::*;

const RUN: State = State::Running { restarts: 0 };

pub fn cert_manager(s: &mut Store) {
    let created = AGE - 2 * DAY;
    for (name, image, node, ip) in [
        (
            "cert-manager",
            "quay.io/jetstack/cert-manager-controller:v1.16.2",
            &NODES[1],
            "10.244.1.7",
        ),
        (
            "cert-manager-webhook",
            "quay.io/jetstack/cert-manager-webhook:v1.16.2",
            &NODES[2],
            "10.244.2.4",
        ),
        (
            "cert-manager-cainjector",
            "quay.io/jetstack/cert-manager-cainjector:v1.16.2",
            &NODES[1],
            "10.244.1.8",
        ),
    ] {
        let w = Workload {
            ns: "cert-manager",
            name,
            created,
            labels: json!({"app.kubernetes.io/name": name, "app.kubernetes.io/instance": "cert-manager"}),
            image,
            port: 9402,
            replicas: 1,
            ready: 1,
            rolled: 41 * DAY,
            manager: "helm",
        };
        let pods = workload(s, &w, &[(node, ip, RUN, None)]);
        if name == "cert-manager-webhook" {
            service(
                s,
                "cert-manager",
                name,
                "10.100.12.31",
                443,
                json!({"app.kubernetes.io/name": name}),
                &[(&pods[0], ip, node.name)],
                created,
            );
        }
    }
    s.put(
        "serviceaccounts",
        &object(
            "v1",
            "ServiceAccount",
            Some("cert-manager"),
            "cert-manager",
            created,
        ),
    );
    helm_releases(s, "cert-manager", "cert-manager", 3, created);
    let crd = json!({
        "kind": "CustomResourceDefinition", "apiVersion": "apiextensions.k8s.io/v1",
        "metadata": {"name": "certificates.cert-manager.io", "uid": uid("CustomResourceDefinition//certificates.cert-manager.io"),
            "generation": 1, "creationTimestamp": ago(created),
            "labels": {"app.kubernetes.io/instance": "cert-manager", "app.kubernetes.io/name": "cert-manager"}},
        "spec": {"group": "cert-manager.io",
            "names": {"plural": "certificates", "singular": "certificate", "shortNames": ["cert", "certs"],
                "kind": "Certificate", "listKind": "CertificateList", "categories": ["cert-manager"]},
            "scope": "Namespaced",
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "description": "A Certificate resource should be created to ensure an up to date and signed X.509 certificate is stored in the Kubernetes Secret resource named in `spec.secretName`.",
                    "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
                    {"name": "Secret", "type": "string", "jsonPath": ".spec.secretName"},
                    {"name": "Issuer", "type": "string", "priority": 1, "jsonPath": ".spec.issuerRef.name"},
                    {"name": "Status", "type": "string", "priority": 1, "jsonPath": ".status.conditions[?(@.type==\"Ready\")].message"},
                    {"name": "Age", "type": "date", "description": "CreationTimestamp is a timestamp representing the server time when this object was created.", "jsonPath": ".metadata.creationTimestamp"}]}],
            "conversion": {"strategy": "None"}},
        "status": {"conditions": [
                {"type": "NamesAccepted", "status": "True", "lastTransitionTime": ago(created), "reason": "NoConflicts", "message": "no conflicts found"},
                {"type": "Established", "status": "True", "lastTransitionTime": ago(created), "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"}],
            "acceptedNames": {"plural": "certificates", "singular": "certificate", "shortNames": ["cert", "certs"],
                "kind": "Certificate", "listKind": "CertificateList", "categories": ["cert-manager"]},
            "storedVersions": ["v1"]}});
    let crd = managed(crd, "helm", created, &["metadata.labels", "spec"]);
    s.put_json("apiextensions.k8s.io/customresourcedefinitions", &crd);
    let issuer = set(
        object(
            "cert-manager.io/v1",
            "ClusterIssuer",
            None,
            "letsencrypt-prod",
            created,
        ),
        json!({"spec": {"acme": {"server": "https://acme-v02.api.letsencrypt.org/directory", "email": "ops@example.com",
            "privateKeySecretRef": {"name": "letsencrypt-prod"}, "solvers": [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]}}}),
    );
    let mut issuers = crd.clone();
    issuers["metadata"]["name"] = json!("clusterissuers.cert-manager.io");
    issuers["metadata"]["uid"] = json!(uid(
        "CustomResourceDefinition//clusterissuers.cert-manager.io"
    ));
    let names = json!({"plural": "clusterissuers", "singular": "clusterissuer", "kind": "ClusterIssuer",
        "listKind": "ClusterIssuerList", "categories": ["cert-manager"]});
    issuers["spec"]["names"] = names.clone();
    issuers["status"]["acceptedNames"] = names;
    issuers["spec"]["scope"] = json!("Cluster");
    issuers["spec"]["versions"][0]["additionalPrinterColumns"] = json!([
        {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]);
    s.put_json("apiextensions.k8s.io/customresourcedefinitions", &issuers);
    let mut issuer = issuer;
    issuer["status"] = json!({"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": ago(created - 30),
        "reason": "ACMEAccountRegistered", "message": "The ACME account was registered with the ACME server", "observedGeneration": 1}],
        "acme": {"uri": "https://acme-v02.api.letsencrypt.org/acme/acct/1873200417"}});
    s.put_json(
        "cert-manager.io/clusterissuers",
        &managed(issuer, "kubectl-client-side-apply", created, &["spec"]),
    );
    for (ns, name, ready, created) in [
        ("shop", "shop-tls", true, 95 * DAY),
        ("shop", "api-tls", false, 40 * MIN),
        ("monitoring", "grafana-tls", true, AGE - 3 * DAY),
        ("demo", "demo-tls", true, 19 * DAY),
    ] {
        let condition = if ready {
            json!({"type": "Ready", "status": "True", "lastTransitionTime": ago(created - 40), "observedGeneration": 1,
                "reason": "Ready", "message": "Certificate is up to date and has not expired"})
        } else {
            json!({"type": "Ready", "status": "False", "lastTransitionTime": ago(created - 2), "observedGeneration": 1,
                "reason": "DoesNotExist", "message": "Issuing certificate as Secret does not exist"})
        };
        let mut c = set(
            object("cert-manager.io/v1", "Certificate", Some(ns), name, created),
            json!({"spec": {"dnsNames": [format!("{}.{ns}.example.com", name.trim_end_matches("-tls"))], "secretName": name,
                    "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "letsencrypt-prod"}},
                "status": {"conditions": [condition]}}),
        );
        c["metadata"]["generation"] = json!(1);
        if ready {
            c["status"]["notBefore"] = json!(ago(created - 60));
            c["status"]["notAfter"] = json!(ago(created - 60 - 90 * DAY));
            c["status"]["revision"] = json!(1);
        }
        let c = managed(c, "kubectl-client-side-apply", created, &["spec"]);
        let c = managed(
            c,
            "cert-manager-certificates-readiness",
            created - 40,
            &["status"],
        );
        s.put_json("cert-manager.io/certificates", &c);
        if ready {
            let secret = set(
                object("v1", "Secret", Some(ns), name, created - 40),
                json!({"metadata.annotations": {"cert-manager.io/certificate-name": name, "cert-manager.io/issuer-kind": "ClusterIssuer", "cert-manager.io/issuer-name": "letsencrypt-prod"},
                    "data": {"tls.crt": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCihzYW1wbGUgZGF0YSkKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=",
                        "tls.key": "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCihzYW1wbGUgZGF0YSkKLS0tLS1FTkQgUFJJVkFURSBLRVktLS0tLQo="},
                    "type": "kubernetes.io/tls"}),
            );
            s.put(
                "secrets",
                &managed(
                    secret,
                    "cert-manager-certificates-issuing",
                    created - 40,
                    &["metadata.annotations", "data"],
                ),
            );
        }
    }
}

/// Helm's release records: one Secret per revision, the newest `deployed`, the others
/// `superseded` (the payload is a placeholder).
fn helm_releases(s: &mut Store, ns: &str, release: &str, revisions: i64, created: i64) {
    for v in 1..=revisions {
        let status = if v == revisions {
            "deployed"
        } else {
            "superseded"
        };
        let at = created - (v - 1) * 30 * DAY;
        let mut secret = set(
            object(
                "v1",
                "Secret",
                Some(ns),
                &format!("sh.helm.release.v1.{release}.v{v}"),
                at,
            ),
            json!({"data": {"release": "SDRzSUFBQUFBQUFDLytzYW1wbGUtcGxhY2Vob2xkZXI="}, "type": "helm.sh/release.v1"}),
        );
        secret["metadata"]["labels"] =
            json!({"name": release, "owner": "helm", "status": status, "version": v.to_string()});
        s.put(
            "secrets",
            &managed(secret, "helm", at, &["metadata.labels", "data"]),
        );
    }
}

/// metrics-server: an APIService backed by a Service.
pub fn metrics_server(s: &mut Store) {
    let created = AGE - DAY;
    let w = Workload {
        ns: "kube-system",
        name: "metrics-server",
        created,
        labels: json!({"k8s-app": "metrics-server"}),
        image: "registry.k8s.io/metrics-server/metrics-server:v0.7.2",
        port: 10250,
        replicas: 1,
        ready: 1,
        rolled: 41 * DAY,
        manager: "kubectl-client-side-apply",
    };
    let pods = workload(s, &w, &[(&NODES[2], "10.244.2.3", RUN, None)]);
    service(
        s,
        "kube-system",
        "metrics-server",
        "10.98.201.12",
        443,
        w.labels.clone(),
        &[(&pods[0], "10.244.2.3", "worker-2")],
        created,
    );
    s.put(
        "serviceaccounts",
        &object(
            "v1",
            "ServiceAccount",
            Some("kube-system"),
            "metrics-server",
            created,
        ),
    );
    let mut api = set(
        object(
            "apiregistration.k8s.io/v1",
            "APIService",
            None,
            "v1beta1.metrics.k8s.io",
            created,
        ),
        json!({"spec": {"service": {"namespace": "kube-system", "name": "metrics-server", "port": 443}, "group": "metrics.k8s.io",
                "version": "v1beta1", "insecureSkipTLSVerify": true, "groupPriorityMinimum": 100, "versionPriority": 100},
            "status": {"conditions": [{"type": "Available", "status": "True", "lastTransitionTime": ago(41 * DAY), "reason": "Passed", "message": "all checks passed"}]}}),
    );
    api["metadata"]["labels"] = w.labels.clone();
    s.put_json(
        "apiregistration.k8s.io/apiservices",
        &managed(api, "kubectl-client-side-apply", created, &["spec"]),
    );
}

pub fn monitoring(s: &mut Store) {
    let created = AGE - 2 * DAY;
    helm_releases(s, "monitoring", "node-exporter", 2, created);
    let ne = Workload {
        ns: "monitoring",
        name: "node-exporter",
        created,
        labels: json!({"app.kubernetes.io/name": "node-exporter"}),
        image: "quay.io/prometheus/node-exporter:v1.8.2",
        port: 9100,
        replicas: 4,
        ready: 3,
        rolled: created,
        manager: "helm",
    };
    s.put("daemonsets", &daemonset(&ne, 4));
    for n in &NODES {
        let name = format!("node-exporter-{}", suffix(&format!("ne/{}", n.name), 5));
        let mut p = pod(PodSpec {
            ns: "monitoring",
            name: &name,
            node: Some(n.name),
            node_ip: n.ip,
            pod_ip: n.ip,
            created: 41 * DAY,
            labels: json!({"app.kubernetes.io/name": "node-exporter", "controller-revision-hash": "6b9c8d7f5c", "pod-template-generation": "1"}),
            owner: Some(owner(
                "apps/v1",
                "DaemonSet",
                Some("monitoring"),
                "node-exporter",
            )),
            image: ne.image,
            container: "node-exporter",
            state: if n.name == "worker-3" {
                State::NodeLost { deleted: 0 }
            } else {
                RUN
            },
            restart_policy: "Always",
        });
        p["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("deletionTimestamp");
        p["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("deletionGracePeriodSeconds");
        s.put("pods", &p);
    }
    let ksm = Workload {
        ns: "monitoring",
        name: "kube-state-metrics",
        created,
        labels: json!({"app.kubernetes.io/name": "kube-state-metrics"}),
        image: "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.14.0",
        port: 8080,
        replicas: 1,
        ready: 1,
        rolled: 41 * DAY,
        manager: "helm",
    };
    let pods = workload(s, &ksm, &[(&NODES[2], "10.244.2.5", RUN, None)]);
    service(
        s,
        "monitoring",
        "kube-state-metrics",
        "10.101.7.44",
        8080,
        ksm.labels.clone(),
        &[(&pods[0], "10.244.2.5", "worker-2")],
        created,
    );
}
