//! The generated cluster: which objects exist, their names, and the bytes kube-apiserver would
//! store for them. Everything is a function of the object count and the templates, so the same
//! `--objects` gives the same cluster.
//!
//! The cluster is made of apps, 25 to a namespace. An app is a Deployment, three ReplicaSets
//! (the current one and two scaled to zero), 4–16 Pods of the current one on the cluster's
//! Nodes, Events about those Pods (on shared leases, 1000 to a lease, as kube-apiserver does),
//! 2–3 Secrets (encrypted at rest), 1–2 ConfigMaps, a Service and a custom resource. Each
//! namespace has its Namespace, `kube-root-ca.crt` and `default` ServiceAccount; every Node a
//! Lease in `kube-node-lease`. History: 4 of 5 Pods are created Pending and then updated to
//! their running status, each app has one Pod created and deleted, and every node Lease is
//! renewed at least three times, last of all (so the newest writes give the snapshot's "now").

use revkeeper_formats::k8s::Keyring;
use revkeeper_formats::k8s::proto;
use serde_json::{Value, json};

use crate::templates::Templates;

pub const APPS_PER_NAMESPACE: u64 = 25;
pub const EVENTS_PER_LEASE: u64 = 1000;
/// `--event-ttl=1h` plus the minute kube-apiserver reuses a lease for.
pub const EVENT_LEASE_TTL: i64 = 3660;
const SYSTEM_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];
/// Which provider encrypts a Secret, by Secret number mod 20: mostly the current write key,
/// some written before a key rotation, a few from before encryption was enabled.
const SECRET_PROVIDERS: [(&str, &str); 20] = {
    const GCM: (&str, &str) = ("aesgcm", "gcm-2026-10");
    let mut p = [GCM; 20];
    p[5] = ("secretbox", "sb-2026-07");
    p[11] = ("aescbc", "cbc-2026-05");
    p[17] = ("aescbc", "cbc-2026-02");
    p[19] = ("identity", "");
    p
};

/// One write.
pub enum Op {
    /// Key, value, and the event lease (an index into the granted leases) if any.
    Put(String, Vec<u8>, Option<u64>),
    Delete(String),
}

/// How many live objects of each sort an app has, before the total is cut to `--objects`.
#[derive(Clone, Copy)]
struct Shape {
    pods: u64,
    events: u64,
    secrets: u64,
    configmaps: u64,
}

const REPLICASETS: u64 = 3;

impl Shape {
    fn of(app: u64) -> Shape {
        let h = mix(app ^ 0xA11);
        let pods = 4 + h % 13;
        Shape {
            pods,
            events: (pods * 17 + 10) / 20,
            secrets: 2 + (h >> 8) % 2,
            configmaps: 1 + (h >> 12) % 2,
        }
    }
    /// Live objects, in the order they are written: Deployment, ReplicaSets, Pods, Events,
    /// Secrets, ConfigMaps, Service, custom resource.
    fn len(&self) -> u64 {
        1 + REPLICASETS + self.pods + self.events + self.secrets + self.configmaps + 2
    }
}

pub struct Plan {
    pub apps: u64,
    /// Live objects kept of each app (all of them but for the last app).
    keep: Vec<u64>,
    /// Index of each app's first Event among all Events (to pick its lease).
    event_start: Vec<u64>,
    pub events: u64,
    pub nodes: u64,
    pub namespaces: u64,
    pub fixed: u64,
}

impl Plan {
    pub fn new(objects: u64, t: &Templates) -> Result<Plan, String> {
        let nodes = (objects / 2500).clamp(10, 500);
        let fixed = t.crds.len() as u64
            + t.system_leases.len() as u64
            + 2 * nodes
            + 3 * SYSTEM_NAMESPACES.len() as u64;
        if objects < fixed + 40 {
            return Err(format!(
                "--objects {objects}: at least {} are needed",
                fixed + 40
            ));
        }
        let (mut total, mut keep, mut event_start, mut events) = (fixed, Vec::new(), Vec::new(), 0);
        let mut app = 0;
        while total < objects {
            if app % APPS_PER_NAMESPACE == 0 {
                total += 3;
            }
            let shape = Shape::of(app);
            let kept = shape.len().min(objects.saturating_sub(total));
            let kept_events = kept
                .saturating_sub(1 + REPLICASETS + shape.pods)
                .min(shape.events);
            event_start.push(events);
            events += kept_events;
            keep.push(kept);
            total += kept;
            app += 1;
        }
        Ok(Plan {
            apps: app,
            keep,
            event_start,
            events,
            nodes,
            namespaces: app.div_ceil(APPS_PER_NAMESPACE),
            fixed,
        })
    }

    pub fn event_leases(&self) -> u64 {
        self.events.div_ceil(EVENTS_PER_LEASE)
    }
}

/// splitmix64: names, uids and choices derived from numbers.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn uid(what: u64, n: u64) -> String {
    let (a, b) = (
        mix(what.wrapping_mul(0x1_0000_0001) ^ n),
        mix(n ^ what.rotate_left(17)),
    );
    format!(
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        8 + (b >> 62),
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

/// kube-controller-manager's alphabet for generated name suffixes (no vowels, no 0/1/3).
fn suffix(seed: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h = mix(seed);
    (0..len)
        .map(|_| {
            let c = ALPHABET[(h % ALPHABET.len() as u64) as usize] as char;
            h /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

fn set(v: &mut Value, pointer: &str, value: Value) {
    if let Some(slot) = v.pointer_mut(pointer) {
        *slot = value;
    }
}

/// Drops the ownerReferences of a template whose owner is not generated (cert-manager's TLS
/// Secrets, Helm-owned objects): the generated cluster has no dangling owners.
fn unowned(v: &mut Value) {
    if let Some(meta) = v["metadata"].as_object_mut() {
        meta.remove("ownerReferences");
    }
}

/// Sets name, namespace (none for cluster-scoped objects) and uid.
fn rename(v: &mut Value, name: &str, namespace: Option<&str>, uid: String) {
    let meta = v["metadata"]
        .as_object_mut()
        .expect("templates have metadata");
    meta.insert("name".into(), json!(name));
    match namespace {
        Some(ns) => meta.insert("namespace".into(), json!(ns)),
        None => meta.remove("namespace"),
    };
    meta.insert("uid".into(), json!(uid));
}

fn set_owner(v: &mut Value, name: &str, uid: &str) {
    set(v, "/metadata/ownerReferences/0/name", json!(name));
    set(v, "/metadata/ownerReferences/0/uid", json!(uid));
}

fn rfc3339(secs: i64, micros: Option<u32>) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(secs).expect("a valid time");
    let (y, mo, d, h, mi, s) = (
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    );
    match micros {
        Some(us) => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}Z"),
        None => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
    }
}

fn ip(prefix: &str, seed: u64) -> String {
    let h = mix(seed);
    format!("{prefix}.{}.{}", (h >> 8) % 256, 1 + h % 254)
}

/// Makes the objects' bytes: protobuf envelopes for built-in kinds, JSON for CRDs and custom
/// resources, Secrets encrypted as the EncryptionConfiguration says.
pub struct Cluster<'a> {
    pub t: &'a Templates,
    pub plan: &'a Plan,
    pub keyring: &'a Keyring,
}

impl Cluster<'_> {
    fn builtin(&self, key: String, object: &Value) -> Op {
        let value = proto::encode(object)
            .unwrap_or_else(|e| panic!("cannot encode the object for {key}: {e}"));
        Op::Put(key, value, None)
    }

    fn json(key: String, object: &Value) -> Op {
        let mut value = serde_json::to_vec(object).expect("a Value serializes");
        value.push(b'\n');
        Op::Put(key, value, None)
    }

    fn secret(&self, key: String, object: &Value, n: u64) -> Op {
        let plain = proto::encode(object)
            .unwrap_or_else(|e| panic!("cannot encode the object for {key}: {e}"));
        let (provider, key_name) = SECRET_PROVIDERS[(n % 20) as usize];
        let value = if provider == "identity" {
            plain
        } else {
            self.keyring
                .encrypt(key.as_bytes(), provider, key_name, &plain)
                .unwrap_or_else(|e| panic!("cannot encrypt {key}: {e}"))
        };
        Op::Put(key, value, None)
    }

    pub fn node_name(&self, n: u64) -> String {
        let h = mix(n ^ 0x40DE);
        format!(
            "ip-10-{}-{}-{}.eu-central-1.compute.internal",
            n / 256 % 256,
            n % 256,
            1 + h % 254
        )
    }

    fn namespace_name(ns: u64) -> String {
        format!("apps-{ns:04}")
    }

    /// Namespaces (each with its root CA ConfigMap and default ServiceAccount), CRDs, Nodes,
    /// their Leases and the kube-system Leases.
    pub fn setup(&self) -> Vec<Op> {
        let t = self.t;
        let mut ops = Vec::new();
        let names = SYSTEM_NAMESPACES
            .iter()
            .map(|s| s.to_string())
            .chain((0..self.plan.namespaces).map(Self::namespace_name));
        for (i, ns) in names.enumerate() {
            let i = i as u64;
            let mut o = t.namespace.clone();
            rename(&mut o, &ns, None, uid(1, i));
            if let Some(labels) = o["metadata"]["labels"].as_object_mut() {
                labels.clear();
                labels.insert("kubernetes.io/metadata.name".into(), json!(ns));
            }
            ops.push(self.builtin(format!("/registry/namespaces/{ns}"), &o));
            let mut o = t.root_ca.clone();
            rename(&mut o, "kube-root-ca.crt", Some(&ns), uid(2, i));
            ops.push(self.builtin(format!("/registry/configmaps/{ns}/kube-root-ca.crt"), &o));
            let mut o = t.service_account.clone();
            rename(&mut o, "default", Some(&ns), uid(3, i));
            ops.push(self.builtin(format!("/registry/serviceaccounts/{ns}/default"), &o));
        }
        for (key, crd) in &t.crds {
            ops.push(Self::json(key.clone(), crd));
        }
        for (key, lease) in &t.system_leases {
            ops.push(self.builtin(key.clone(), lease));
        }
        for n in 0..self.plan.nodes {
            let name = self.node_name(n);
            let node_uid = uid(4, n);
            let mut o = t.nodes[(n % t.nodes.len() as u64) as usize].clone();
            rename(&mut o, &name, None, node_uid.clone());
            set(
                &mut o,
                "/metadata/labels/kubernetes.io~1hostname",
                json!(name),
            );
            if let Some(addresses) = o
                .pointer_mut("/status/addresses")
                .and_then(Value::as_array_mut)
            {
                for a in addresses {
                    match a["type"].as_str() {
                        Some("InternalIP") => a["address"] = json!(ip("10.0", n)),
                        Some("Hostname" | "InternalDNS") => a["address"] = json!(name),
                        _ => {}
                    }
                }
            }
            ops.push(self.builtin(format!("/registry/minions/{name}"), &o));
            ops.push(self.node_lease(n, 0, &node_uid));
        }
        ops
    }

    /// Node `n`'s Lease at renewal `round` (0 = created; the last round is the newest write).
    pub fn node_lease(&self, n: u64, round: i64, node_uid: &str) -> Op {
        let name = self.node_name(n);
        let mut o = self.t.node_lease.clone();
        rename(&mut o, &name, Some("kube-node-lease"), uid(5, n));
        set(&mut o, "/spec/holderIdentity", json!(name));
        set_owner(&mut o, &name, node_uid);
        let age = (self.renewals_rounds() - round) * 10 + (n % 8) as i64 + 1;
        let micros = (mix(n ^ round as u64) % 1_000_000) as u32;
        set(
            &mut o,
            "/spec/renewTime",
            json!(rfc3339(self.t.now - age, Some(micros))),
        );
        self.builtin(format!("/registry/leases/kube-node-lease/{name}"), &o)
    }

    /// Renewal rounds after the first write: at least three, and enough that the newest 64
    /// writes are all node Lease renewals (the inspector's estimate of "now" looks at those).
    pub fn renewals_rounds(&self) -> i64 {
        3.max(70u64.div_ceil(self.plan.nodes) as i64)
    }

    pub fn renewals(&self, round: i64) -> Vec<Op> {
        (0..self.plan.nodes)
            .map(|n| self.node_lease(n, round, &uid(4, n)))
            .collect()
    }

    /// App `a`'s live objects (cut to the plan) and, after them, its Pod that gets deleted.
    pub fn create(&self, a: u64) -> Vec<Op> {
        let app = App::new(self, a);
        let mut ops = Vec::new();
        let keep = self.plan.keep[a as usize] as usize;
        app.objects(self, &mut ops, keep);
        ops.truncate(keep);
        ops.push(self.builtin(app.doomed_pod_key(), &app.pod(self, u64::MAX, true)));
        ops
    }

    /// App `a`'s second writes: running status for 4 of 5 Pods, and the deleted Pod.
    pub fn update(&self, a: u64) -> Vec<Op> {
        let app = App::new(self, a);
        let keep = self.plan.keep[a as usize];
        let pods = keep.saturating_sub(1 + REPLICASETS).min(app.shape.pods);
        let mut ops: Vec<Op> = (0..pods)
            .filter(|p| p % 5 != 0)
            .map(|p| self.builtin(app.pod_key(p), &app.pod(self, p, false)))
            .collect();
        ops.push(Op::Delete(app.doomed_pod_key()));
        ops
    }
}

/// The names and uids of one app.
struct App {
    a: u64,
    shape: Shape,
    ns: String,
    name: String,
    template: usize,
    rs_hash: [String; REPLICASETS as usize],
}

impl App {
    fn new(c: &Cluster<'_>, a: u64) -> App {
        let template = (mix(a ^ 0x7E) % c.t.apps.len() as u64) as usize;
        let base = c.t.apps[template].deployment["metadata"]["name"]
            .as_str()
            .unwrap_or("app");
        App {
            a,
            shape: Shape::of(a),
            ns: Cluster::namespace_name(a / APPS_PER_NAMESPACE),
            name: format!("{base}-{a:05}"),
            template,
            rs_hash: std::array::from_fn(|r| suffix(a * 8 + r as u64, 10)),
        }
    }

    fn rs_name(&self, r: usize) -> String {
        format!("{}-{}", self.name, self.rs_hash[r])
    }

    fn pod_name(&self, p: u64) -> String {
        if p == u64::MAX {
            return format!("{}-{}", self.rs_name(1), suffix(self.a ^ 0xDEAD, 5));
        }
        format!("{}-{}", self.rs_name(0), suffix((self.a << 16) + p, 5))
    }

    fn pod_key(&self, p: u64) -> String {
        format!("/registry/pods/{}/{}", self.ns, self.pod_name(p))
    }

    fn doomed_pod_key(&self) -> String {
        self.pod_key(u64::MAX)
    }

    fn uid(&self, what: u64, n: u64) -> String {
        uid(100 + what, (self.a << 20) + n)
    }

    /// Pod `p` of the current ReplicaSet (`u64::MAX`: the one of an old ReplicaSet that gets
    /// deleted), Pending as first written or with its running status.
    fn pod(&self, c: &Cluster<'_>, p: u64, pending: bool) -> Value {
        let pods = &c.t.apps[self.template].pods;
        let mut o = pods[(p % pods.len() as u64) as usize].clone();
        let (r, n) = if p == u64::MAX { (1, 1 << 19) } else { (0, p) };
        let name = self.pod_name(p);
        rename(&mut o, &name, Some(&self.ns), self.uid(2, n));
        let rs = self.rs_name(r);
        set(&mut o, "/metadata/generateName", json!(format!("{rs}-")));
        set(
            &mut o,
            "/metadata/labels/pod-template-hash",
            json!(self.rs_hash[r]),
        );
        set_owner(&mut o, &rs, &self.uid(1, r as u64));
        let node = c.node_name(mix(self.a * 64 + n) % c.plan.nodes);
        set(&mut o, "/spec/nodeName", json!(node));
        let pod_ip = ip("100.64", (self.a << 16) + n);
        set(&mut o, "/status/podIP", json!(pod_ip));
        set(&mut o, "/status/podIPs", json!([{ "ip": pod_ip }]));
        if pending {
            let created = o["metadata"]["creationTimestamp"].clone();
            let qos = o["status"]["qosClass"].clone();
            o["status"] = json!({
                "phase": "Pending",
                "conditions": [{"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": created}],
                "qosClass": qos,
            });
            if let Some(mf) = o["metadata"]["managedFields"].as_array_mut() {
                mf.retain(|m| m.get("subresource").is_none());
            }
        }
        o
    }

    /// Events are written as things happen: their times follow the order apps are written in,
    /// over the last ten minutes before the snapshot, as a real cluster's do.
    fn event_times(&self, c: &Cluster<'_>, o: &mut Value, e: u64) {
        let apps = c.plan.apps.max(1);
        let secs = c.t.now - 60 - (600 * (apps - 1 - self.a) / apps) as i64 - (e % 7) as i64;
        let at = json!(rfc3339(secs, None));
        for p in [
            "/metadata/creationTimestamp",
            "/firstTimestamp",
            "/lastTimestamp",
        ] {
            set(o, p, at.clone());
        }
        for p in ["/eventTime", "/series/lastObservedTime"] {
            if o.pointer(p).is_some_and(|v| !v.is_null()) {
                set(o, p, json!(rfc3339(secs, Some(0))));
            }
        }
        if let Some(mf) = o["metadata"]["managedFields"].as_array_mut() {
            for m in mf {
                m["time"] = at.clone();
            }
        }
    }

    fn objects(&self, c: &Cluster<'_>, ops: &mut Vec<Op>, keep: usize) {
        let t = c.t;
        let ns = self.ns.as_str();
        let tpl = &t.apps[self.template];
        let mut o = tpl.deployment.clone();
        rename(&mut o, &self.name, Some(ns), self.uid(0, 0));
        ops.push(c.builtin(format!("/registry/deployments/{ns}/{}", self.name), &o));
        for r in 0..REPLICASETS as usize {
            let mut o = tpl.replicaset.clone();
            let name = self.rs_name(r);
            rename(&mut o, &name, Some(ns), self.uid(1, r as u64));
            set_owner(&mut o, &self.name, &self.uid(0, 0));
            let hash = json!(self.rs_hash[r]);
            set(&mut o, "/metadata/labels/pod-template-hash", hash.clone());
            set(
                &mut o,
                "/spec/selector/matchLabels/pod-template-hash",
                hash.clone(),
            );
            set(
                &mut o,
                "/spec/template/metadata/labels/pod-template-hash",
                hash,
            );
            if r > 0 {
                set(&mut o, "/spec/replicas", json!(0));
                if let Some(status) = o["status"].as_object_mut() {
                    status.insert("replicas".into(), json!(0));
                    for f in ["readyReplicas", "availableReplicas", "fullyLabeledReplicas"] {
                        status.remove(f);
                    }
                }
            } else {
                set(&mut o, "/spec/replicas", json!(self.shape.pods));
            }
            ops.push(c.builtin(format!("/registry/replicasets/{ns}/{name}"), &o));
        }
        for p in 0..self.shape.pods {
            ops.push(c.builtin(self.pod_key(p), &self.pod(c, p, p % 5 != 0)));
        }
        for e in 0..self.shape.events {
            if ops.len() >= keep {
                return;
            }
            let p = e % self.shape.pods;
            let mut o = t.events[(mix(self.a * 32 + e) % t.events.len() as u64) as usize].clone();
            let pod = self.pod_name(p);
            let name = format!("{pod}.{:016x}", mix((self.a << 20) + e) >> 4 | 1 << 60);
            rename(&mut o, &name, Some(ns), self.uid(3, e));
            set(&mut o, "/involvedObject/name", json!(pod));
            set(&mut o, "/involvedObject/namespace", json!(ns));
            set(&mut o, "/involvedObject/uid", json!(self.uid(2, p)));
            self.event_times(c, &mut o, e);
            let key = format!("/registry/events/{ns}/{name}");
            let Op::Put(key, value, _) = c.builtin(key, &o) else {
                unreachable!()
            };
            let lease = (c.plan.event_start[self.a as usize] + e) / EVENTS_PER_LEASE;
            ops.push(Op::Put(key, value, Some(lease)));
        }
        for s in 0..self.shape.secrets {
            let n = self.a * 4 + s;
            let mut o = t.secrets[(mix(n ^ 0x5EC) % t.secrets.len() as u64) as usize].clone();
            let helm = o["type"] == json!("helm.sh/release.v1");
            let name = if helm {
                format!("sh.helm.release.v1.{}.v{}", self.name, s + 1)
            } else {
                format!("{}-{}", self.name, suffix(n, 5))
            };
            rename(&mut o, &name, Some(ns), self.uid(4, s));
            unowned(&mut o);
            if helm {
                set(&mut o, "/metadata/labels/name", json!(self.name));
                set(
                    &mut o,
                    "/metadata/labels/version",
                    json!((s + 1).to_string()),
                );
            }
            ops.push(c.secret(format!("/registry/secrets/{ns}/{name}"), &o, n));
        }
        for k in 0..self.shape.configmaps {
            let n = self.a * 4 + k;
            let mut o = t.configmaps[(mix(n ^ 0xC0F) % t.configmaps.len() as u64) as usize].clone();
            let name = format!("{}-config-{k}", self.name);
            rename(&mut o, &name, Some(ns), self.uid(5, k));
            unowned(&mut o);
            ops.push(c.builtin(format!("/registry/configmaps/{ns}/{name}"), &o));
        }
        let mut o = t.services[(mix(self.a ^ 0x5E7) % t.services.len() as u64) as usize].clone();
        rename(&mut o, &self.name, Some(ns), self.uid(6, 0));
        unowned(&mut o);
        let cluster_ip = ip("10.96", self.a);
        set(&mut o, "/spec/clusterIP", json!(cluster_ip));
        set(&mut o, "/spec/clusterIPs", json!([cluster_ip]));
        ops.push(c.builtin(format!("/registry/services/specs/{ns}/{}", self.name), &o));
        let cr = &t.crs[(mix(self.a ^ 0xC4) % t.crs.len() as u64) as usize];
        let mut o = cr.object.clone();
        rename(&mut o, &self.name, Some(ns), self.uid(7, 0));
        ops.push(Cluster::json(
            format!("{}/{ns}/{}", cr.prefix, self.name),
            &o,
        ));
    }
}
