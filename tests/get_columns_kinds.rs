//! `get` prints kubectl's columns: core, storage, networking and cluster kinds and custom
//! resources, from the shared fixtures, against rows worked out from kube-apiserver's printer
//! rules (see `get_columns.rs`).

mod printer_fixtures;

use printer_fixtures::*;
use revkeeper::printers::{Ctx, Printer};
use serde_json::json;

#[test]
fn core_kinds_from_the_round_trip_fixtures() {
    let Some(svc) = k8s_api("core.v1.Service") else {
        return;
    };
    assert_eq!(
        row("", "services", &svc, K8S_API_NOW),
        [
            "nameValue",
            "typeValue",
            // clusterIPs[0].
            "clusterIPsValue",
            // A type that is none of ClusterIP/NodePort/LoadBalancer/ExternalName.
            "<unknown>",
            // port:nodePort/protocol.
            "3:5/protocolValue",
            "2y1d",
            "selectorKey=selectorValue",
        ]
    );
    let ev = k8s_api("core.v1.Event").unwrap();
    assert_eq!(
        headers("", "events")[..4],
        ["Last Seen", "Type", "Reason", "Object"]
    );
    assert_eq!(
        row("", "events", &ev, K8S_API_NOW),
        [
            // A series: its lastObservedTime (2002-01-01T01:01:01.000002Z, 2 µs short of
            // 8 years: 7y, but ≥ 70080 h prints years alone) and its count.
            "8y",
            "typeValue",
            "reasonValue",
            // kind in lower case / name.
            "kindvalue/nameValue",
            "fieldPathValue",
            // source.component, source.host.
            "componentValue, hostValue",
            "messageValue",
            // firstTimestamp 2006-01-01.
            "4y1d",
            "1",
            "nameValue",
        ]
    );
    let cm = k8s_api("core.v1.ConfigMap").unwrap();
    // DATA counts data and binaryData.
    assert_eq!(
        row("", "configmaps", &cm, K8S_API_NOW),
        ["nameValue", "2", "2y1d"]
    );
    let secret = k8s_api("core.v1.Secret").unwrap();
    // stringData is write-only: only data counts.
    assert_eq!(
        row("", "secrets", &secret, K8S_API_NOW),
        ["nameValue", "typeValue", "1", "2y1d"]
    );
    let sa = k8s_api("core.v1.ServiceAccount").unwrap();
    assert_eq!(
        row("", "serviceaccounts", &sa, K8S_API_NOW),
        ["nameValue", "1", "2y1d"]
    );
    let ns = k8s_api("core.v1.Namespace").unwrap();
    assert_eq!(
        row("", "namespaces", &ns, K8S_API_NOW),
        ["nameValue", "phaseValue", "2y1d"]
    );
    let ep = k8s_api("core.v1.Endpoints").unwrap();
    // ip:port of the ready addresses (not notReadyAddresses).
    assert_eq!(
        row("", "endpoints", &ep, K8S_API_NOW),
        ["nameValue", "ipValue:2", "2y1d"]
    );
    let quota = k8s_api("core.v1.ResourceQuota").unwrap();
    // Every status.hard resource as name: used/hard (used 0 when absent); none is limits.*.
    assert_eq!(
        row("", "resourcequotas", &quota, K8S_API_NOW),
        ["nameValue", "hardKey: 0/0", "", "2y1d"]
    );
}

#[test]
fn core_kinds_from_cluster_dev() {
    let Some(objects) = cluster_dev_objects() else {
        return;
    };
    let get = |key: &str| &objects[key];
    let scheduled = get("/registry/events/media-prod/media-backup-29920232-287r8.18e9e18e006844e0");
    assert_eq!(
        row("", "events", scheduled, CLUSTER_NOW),
        [
            // No first/lastTimestamp: eventTime 22:32:06.49 → 59m45s (Go truncates).
            "59m",
            "Normal",
            "Scheduled",
            "pod/media-backup-29920232-287r8",
            "",
            // source is empty: reportingComponent, reportingInstance.
            "default-scheduler, default-scheduler-ip-10-0-37-241.eu-central-1.compute.internal",
            "Successfully assigned media-prod/media-backup-29920232-287r8 to ip-10-0-35-20.eu-central-1.compute.internal",
            "59m",
            // No count and no series: one occurrence.
            "1",
            "media-backup-29920232-287r8.18e9e18e006844e0",
        ]
    );
    let probe = get("/registry/events/media-prod/media-auth-dcvvvk9r4-zbcqw.18e9e341341f08e3");
    let r = row("", "events", probe, CLUSTER_NOW);
    // lastTimestamp 23:27:21 (4m31s), firstTimestamp 23:03:15 (28m37s), count 4.
    assert_eq!(
        [&r[0], &r[3], &r[7], &r[8]],
        ["4m31s", "pod/media-auth-dcvvvk9r4-zbcqw", "28m", "4"]
    );
    let svc = get("/registry/services/specs/argocd/argocd-application-controller-headless");
    // Headless: clusterIPs[0] is None; ClusterIP without externalIPs: <none>.
    assert_eq!(
        row("", "services", svc, CLUSTER_NOW)[1..5],
        ["ClusterIP", "None", "<none>", "80/TCP"]
    );
    let mut lb = svc.clone();
    lb["spec"]["type"] = json!("LoadBalancer");
    lb["spec"]["ports"][0]["nodePort"] = json!(30080);
    // LoadBalancer without an address yet: <pending>; a nodePort shows as port:nodePort.
    assert_eq!(
        row("", "services", &lb, CLUSTER_NOW)[3..5],
        ["<pending>", "80:30080/TCP"]
    );
    lb["status"]["loadBalancer"]["ingress"] =
        json!([{"hostname": "b.example.com"}, {"ip": "10.9.9.9"}]);
    lb["spec"]["externalIPs"] = json!(["192.0.2.1"]);
    // Balancer addresses (IP, else host name) sorted, then externalIPs; never cut (the
    // apiserver prints wide).
    assert_eq!(
        row("", "services", &lb, CLUSTER_NOW)[3],
        "10.9.9.9,b.example.com,192.0.2.1"
    );
}

#[test]
fn storage_and_networking_from_the_round_trip_fixtures() {
    let Some(pv) = k8s_api("core.v1.PersistentVolume") else {
        return;
    };
    assert_eq!(
        row("", "persistentvolumes", &pv, K8S_API_NOW),
        [
            "nameValue",
            // No storage capacity: the zero quantity.
            "0",
            // An access mode that is none of the four: nothing.
            "",
            "persistentVolumeReclaimPolicyValue",
            // deletionTimestamp: Terminating.
            "Terminating",
            "namespaceValue/nameValue",
            "storageClassNameValue",
            "volumeAttributesClassNameValue",
            "reasonValue",
            "2y1d",
            "volumeModeValue",
        ]
    );
    let pvc = k8s_api("core.v1.PersistentVolumeClaim").unwrap();
    assert_eq!(
        row("", "persistentvolumeclaims", &pvc, K8S_API_NOW),
        [
            "nameValue",
            "Terminating",
            "volumeNameValue",
            // Bound to a volume: status capacity (none for storage: 0) and access modes.
            "0",
            "",
            "storageClassNameValue",
            "volumeAttributesClassNameValue",
            "2y1d",
            "volumeModeValue",
        ]
    );
    let sc = k8s_api("storage.k8s.io.v1.StorageClass").unwrap();
    assert_eq!(
        row("storage.k8s.io", "storageclasses", &sc, K8S_API_NOW),
        [
            "nameValue",
            "provisionerValue",
            "reclaimPolicyValue",
            "volumeBindingModeValue",
            "true",
            "2y1d"
        ]
    );
    let ing = k8s_api("networking.k8s.io.v1.Ingress").unwrap();
    assert_eq!(
        row("networking.k8s.io", "ingresses", &ing, K8S_API_NOW),
        // TLS configured: "80, 443"; the balancer's IP.
        [
            "nameValue",
            "ingressClassNameValue",
            "hostValue",
            "ipValue",
            "80, 443",
            "2y1d"
        ]
    );
    let slice = k8s_api("discovery.k8s.io.v1.EndpointSlice").unwrap();
    assert_eq!(
        row("discovery.k8s.io", "endpointslices", &slice, K8S_API_NOW),
        [
            "nameValue",
            "addressTypeValue",
            "3",
            "addressesValue",
            "2y1d"
        ]
    );
    let np = k8s_api("networking.k8s.io.v1.NetworkPolicy").unwrap();
    assert_eq!(
        row("networking.k8s.io", "networkpolicies", &np, K8S_API_NOW),
        ["nameValue", "<error>", "2y1d"]
    );
    let class = k8s_api("networking.k8s.io.v1.IngressClass").unwrap();
    assert_eq!(
        row("networking.k8s.io", "ingressclasses", &class, K8S_API_NOW),
        // Parameters: kind.apiGroup/name.
        [
            "nameValue",
            "controllerValue",
            "kindValue.apiGroupValue/nameValue",
            "2y1d"
        ]
    );
    let va = k8s_api("storage.k8s.io.v1.VolumeAttachment").unwrap();
    let r = row("storage.k8s.io", "volumeattachments", &va, K8S_API_NOW);
    assert_eq!(r[1..3], ["attacherValue", "persistentVolumeNameValue"]);
    let csinode = k8s_api("storage.k8s.io.v1.CSINode").unwrap();
    assert_eq!(
        row("storage.k8s.io", "csinodes", &csinode, K8S_API_NOW),
        ["nameValue", "1", "2y1d"]
    );
    let driver = k8s_api("storage.k8s.io.v1.CSIDriver").unwrap();
    assert_eq!(
        row("storage.k8s.io", "csidrivers", &driver, K8S_API_NOW),
        [
            "nameValue",
            "true",
            "true",
            "true",
            "audienceValue",
            "true",
            "volumeLifecycleModesValue",
            "2y1d"
        ]
    );
}

#[test]
fn cluster_kinds_from_the_round_trip_fixtures() {
    let Some(lease) = k8s_api("coordination.k8s.io.v1.Lease") else {
        return;
    };
    assert_eq!(
        row("coordination.k8s.io", "leases", &lease, K8S_API_NOW),
        ["nameValue", "holderIdentityValue", "2y1d"]
    );
    let rb = k8s_api("rbac.authorization.k8s.io.v1.RoleBinding").unwrap();
    assert_eq!(
        row(
            "rbac.authorization.k8s.io",
            "rolebindings",
            &rb,
            K8S_API_NOW
        ),
        // roleRef kind/name; a subject of another kind is in none of the wide columns.
        ["nameValue", "kindValue/nameValue", "2y1d", "", "", ""]
    );
    let pc = k8s_api("scheduling.k8s.io.v1.PriorityClass").unwrap();
    assert_eq!(
        row("scheduling.k8s.io", "priorityclasses", &pc, K8S_API_NOW),
        ["nameValue", "2", "true", "2y1d", "preemptionPolicyValue"]
    );
    let csr = k8s_api("certificates.k8s.io.v1.CertificateSigningRequest").unwrap();
    assert_eq!(
        row(
            "certificates.k8s.io",
            "certificatesigningrequests",
            &csr,
            K8S_API_NOW
        ),
        // No Approved/Denied condition: Pending; a certificate: ,Issued; 8 s requested.
        [
            "nameValue",
            "2y1d",
            "signerNameValue",
            "usernameValue",
            "8s",
            "Pending,Issued"
        ]
    );
    let fs = k8s_api("flowcontrol.apiserver.k8s.io.v1.FlowSchema").unwrap();
    assert_eq!(
        row(
            "flowcontrol.apiserver.k8s.io",
            "flowschemas",
            &fs,
            K8S_API_NOW
        ),
        // No Dangling condition: "?".
        ["nameValue", "nameValue", "2", "typeValue", "2y1d", "?"]
    );
    let plc = k8s_api("flowcontrol.apiserver.k8s.io.v1.PriorityLevelConfiguration").unwrap();
    assert_eq!(
        row(
            "flowcontrol.apiserver.k8s.io",
            "prioritylevelconfigurations",
            &plc,
            K8S_API_NOW
        ),
        ["nameValue", "typeValue", "1", "1", "2", "3", "2y1d"]
    );
    let hook = k8s_api("admissionregistration.k8s.io.v1.ValidatingWebhookConfiguration").unwrap();
    assert_eq!(
        row(
            "admissionregistration.k8s.io",
            "validatingwebhookconfigurations",
            &hook,
            K8S_API_NOW
        ),
        ["nameValue", "1", "2y1d"]
    );
    let vap = k8s_api("admissionregistration.k8s.io.v1.ValidatingAdmissionPolicy").unwrap();
    assert_eq!(
        row(
            "admissionregistration.k8s.io",
            "validatingadmissionpolicies",
            &vap,
            K8S_API_NOW
        )[2],
        "apiVersionValue/kindValue"
    );
    let binding =
        k8s_api("admissionregistration.k8s.io.v1.ValidatingAdmissionPolicyBinding").unwrap();
    assert_eq!(
        row(
            "admissionregistration.k8s.io",
            "validatingadmissionpolicybindings",
            &binding,
            K8S_API_NOW
        ),
        // paramRef with a name: namespace/name (the selector is not looked at).
        [
            "nameValue",
            "policyNameValue",
            "namespaceValue/nameValue",
            "2y1d"
        ]
    );
    let rc = k8s_api("node.k8s.io.v1.RuntimeClass").unwrap();
    assert_eq!(
        row("node.k8s.io", "runtimeclasses", &rc, K8S_API_NOW),
        ["nameValue", "handlerValue", "2y1d"]
    );
    let role = k8s_api("rbac.authorization.k8s.io.v1.ClusterRole").unwrap();
    // No printer: the apiserver's default table, NAME and CREATED AT (RFC 3339).
    assert_eq!(
        headers("rbac.authorization.k8s.io", "clusterroles"),
        ["Name", "Created At"]
    );
    assert_eq!(
        row(
            "rbac.authorization.k8s.io",
            "clusterroles",
            &role,
            K8S_API_NOW
        ),
        ["nameValue", "2008-01-01T01:01:01Z"]
    );
}

#[test]
fn custom_resources_use_their_crds_columns() {
    let Some(objects) = cluster_dev_objects() else {
        return;
    };
    let crd = &objects["/registry/apiextensions.k8s.io/customresourcedefinitions/certificates.cert-manager.io"];
    let crd = revkeeper::printers::custom::Crd::from_object(crd);
    assert_eq!((crd.namespaced, crd.kind.as_str()), (true, "Certificate"));
    assert!(crd.is_named("certs") && crd.is_named("cert") && crd.is_named("certificate"));
    let printer = Printer::Custom(crd.columns);
    let names: Vec<String> = printer.columns().into_iter().map(|c| c.name).collect();
    // v1beta1: the top-level additionalPrinterColumns after NAME.
    assert_eq!(names, ["Name", "Ready", "Age"]);
    let ctx = Ctx { now: CLUSTER_NOW };
    let ready = &objects["/registry/cert-manager.io/certificates/catalog-prod/catalog-web-tls"];
    // .status.conditions[?(@.type=="Ready")].status (string); creationTimestamp (date → age).
    assert_eq!(
        printer.cells(ready, &ctx),
        ["catalog-web-tls", "True", "205d"]
    );
    let unready = &objects["/registry/cert-manager.io/certificates/old-feature-x/old-feature-tls"];
    // No conditions: no match, an empty cell.
    assert_eq!(printer.cells(unready, &ctx), ["old-feature-tls", "", "18d"]);
}
