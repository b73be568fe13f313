//! Times, uids, metadata and managedFields, and the writer that stores objects the way
//! kube-apiserver does (protobuf for built-in kinds, JSON for custom resources and CRDs).

use std::io::Write;

use etcd_client::{Client, CompactionOptions, PutOptions};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

/// The moment the sample pretends to be taken: the newest heartbeat (node leases renewed then).
pub const T: i64 = 1_795_231_012; // 2026-11-21T03:16:52Z

/// `secs` before [`T`] as the apiserver prints times.
pub fn ago(secs: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(T - secs).expect("a valid time");
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&f).expect("formats")
}

/// `secs` before [`T`] with microseconds, as Lease renewTime (MicroTime) is printed.
pub fn ago_micro(secs: i64, micros: u32) -> String {
    ago(secs).replace('Z', &format!(".{micros:06}Z"))
}

pub const MIN: i64 = 60;
pub const HOUR: i64 = 3600;
pub const DAY: i64 = 86_400;

/// FNV-1a of `seed`, salted: the sample's only source of "randomness".
pub fn hash(seed: &str, salt: u64) -> u64 {
    seed.bytes().fold(0xcbf29ce484222325u64 ^ salt, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

/// A stable uid for an object, from its kind, namespace and name.
pub fn uid(seed: &str) -> String {
    let (a, b) = (hash(seed, 1), hash(seed, 2));
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

/// A lowercase alphanumeric suffix like the ones generated names get (`-7d9f8b6c5d`, `-x2kq9`).
pub fn suffix(seed: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h = hash(seed, 3);
    (0..len)
        .map(|_| {
            let c = ALPHABET[(h % ALPHABET.len() as u64) as usize] as char;
            h = h.wrapping_mul(0x100000001b3).rotate_left(17) ^ 0x9e3779b97f4a7c15;
            c
        })
        .collect()
}

/// The owner reference a controller sets.
pub fn owner(api: &str, kind: &str, ns: Option<&str>, name: &str) -> Value {
    json!({"apiVersion": api, "kind": kind, "name": name,
        "uid": uid(&format!("{kind}/{}/{name}", ns.unwrap_or(""))),
        "controller": true, "blockOwnerDeletion": true})
}

/// The skeleton of an object: apiVersion, kind and metadata (uid from kind/namespace/name).
pub fn object(api: &str, kind: &str, ns: Option<&str>, name: &str, created: i64) -> Value {
    let mut meta = Map::new();
    meta.insert("name".into(), json!(name));
    if let Some(ns) = ns {
        meta.insert("namespace".into(), json!(ns));
    }
    meta.insert(
        "uid".into(),
        json!(uid(&format!("{kind}/{}/{name}", ns.unwrap_or("")))),
    );
    meta.insert("creationTimestamp".into(), json!(ago(created)));
    json!({"kind": kind, "apiVersion": api, "metadata": meta})
}

/// Sets `obj[field] = value` for each pair (dotted paths under metadata: `metadata.labels`).
pub fn set(mut obj: Value, fields: Value) -> Value {
    for (k, v) in fields.as_object().expect("an object of fields") {
        match k.split_once('.') {
            Some((outer, inner)) => obj[outer][inner] = v.clone(),
            None => obj[k.as_str()] = v.clone(),
        }
    }
    obj
}

/// The `fieldsV1` set of a JSON subtree, as server-side apply records it: `f:` per field, `.`
/// for maps that exist, `k:{"name":…}` for list items keyed by name.
fn fields_v1(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            out.insert(".".into(), json!({}));
            for (k, v) in m {
                out.insert(format!("f:{k}"), fields_v1(v));
            }
            Value::Object(out)
        }
        Value::Array(items) if items.iter().all(|i| i.get("name").is_some()) => {
            let mut out = Map::new();
            for i in items {
                let key = format!("k:{{\"name\":{}}}", i["name"]);
                out.insert(key, fields_v1(i));
            }
            Value::Object(out)
        }
        _ => json!({}),
    }
}

/// Appends a managedFields entry: `manager` wrote `paths` (`spec`, `metadata.labels`, `status`)
/// `secs` ago; a `status` entry is recorded on the status subresource.
pub fn managed(mut obj: Value, manager: &str, secs: i64, paths: &[&str]) -> Value {
    let mut set = Map::new();
    for path in paths {
        let (outer, inner) = path.split_once('.').unwrap_or((path, ""));
        let sub = if inner.is_empty() {
            obj[outer].clone()
        } else {
            obj[outer][inner].clone()
        };
        if sub.is_null() {
            continue;
        }
        let mut f = fields_v1(&sub);
        if let Some(m) = f.as_object_mut() {
            m.remove(".");
        }
        let entry = set.entry(format!("f:{outer}")).or_insert_with(|| json!({}));
        if inner.is_empty() {
            *entry = f;
        } else {
            let mut f = f;
            if let Some(m) = f.as_object_mut() {
                m.insert(".".into(), json!({}));
            }
            entry[format!("f:{inner}")] = f;
        }
    }
    let mut e = json!({"manager": manager, "operation": "Update",
        "apiVersion": obj["apiVersion"], "time": ago(secs),
        "fieldsType": "FieldsV1", "fieldsV1": set});
    if paths == ["status"] {
        e["subresource"] = json!("status");
    }
    let list = obj["metadata"]
        .as_object_mut()
        .expect("metadata")
        .entry("managedFields")
        .or_insert_with(|| json!([]));
    list.as_array_mut().expect("a list").push(e);
    obj
}

/// The etcd key kube-apiserver stores `obj` under.
fn key_of(resource: &str, obj: &Value) -> String {
    let m = &obj["metadata"];
    let name = m["name"].as_str().expect("a name");
    match m["namespace"].as_str() {
        Some(ns) => format!("/registry/{resource}/{ns}/{name}"),
        None => format!("/registry/{resource}/{name}"),
    }
}

/// Writes to the sample's etcd, in order (revisions follow the story).
pub struct Store {
    rt: tokio::runtime::Runtime,
    client: Client,
    /// The shared lease Events are attached to (3660 s, as `--event-ttl=1h` plus reuse).
    pub events: i64,
    pub objects: usize,
    /// Objects carrying a heartbeat (Leases, Nodes, Events), written last in the order of their
    /// heartbeats, as a running cluster wrote them: (seconds before T, resource, object, lease).
    beats: Vec<(i64, String, Value, i64)>,
}

impl Store {
    pub fn connect(endpoint: &str) -> Store {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let mut client = rt
            .block_on(Client::connect([endpoint], None))
            .expect("connect to etcd");
        let events = rt
            .block_on(client.lease_grant(3660, None))
            .expect("grant")
            .id();
        Store {
            rt,
            client,
            events,
            objects: 0,
            beats: Vec::new(),
        }
    }

    pub fn raw(&mut self, key: &str, value: Vec<u8>, lease: i64) {
        let opts = (lease != 0).then(|| PutOptions::new().with_lease(lease));
        self.rt
            .block_on(self.client.put(key, value, opts))
            .unwrap_or_else(|e| panic!("put {key}: {e}"));
    }

    /// A built-in kind, stored as protobuf under `/registry/<resource>/…`.
    pub fn put(&mut self, resource: &str, obj: &Value) {
        self.put_leased(resource, obj, 0);
    }

    pub fn put_leased(&mut self, resource: &str, obj: &Value, lease: i64) {
        let value = revkeeper_formats::k8s::proto::encode(obj)
            .unwrap_or_else(|e| panic!("encode {}: {e}", key_of(resource, obj)));
        self.objects += 1;
        self.raw(&key_of(resource, obj), value, lease);
    }

    /// An object whose heartbeat was `secs` before T: written by [`Store::write_beats`].
    pub fn beat(&mut self, secs: i64, resource: &str, obj: Value, lease: i64) {
        self.beats.push((secs, resource.into(), obj, lease));
    }

    /// An Event, on the shared event lease, written in the order of its lastTimestamp.
    pub fn event(&mut self, obj: &Value) {
        let last = OffsetDateTime::parse(
            obj["lastTimestamp"].as_str().expect("a lastTimestamp"),
            &time::format_description::well_known::Rfc3339,
        )
        .expect("an RFC 3339 time");
        let lease = self.events;
        self.beat(T - last.unix_timestamp(), "events", obj.clone(), lease);
    }

    /// Writes the objects with heartbeats, oldest heartbeat first.
    pub fn write_beats(&mut self) {
        let mut beats = std::mem::take(&mut self.beats);
        beats.sort_by_key(|(secs, resource, obj, _)| {
            (
                std::cmp::Reverse(*secs),
                resource.clone(),
                key_of(resource, obj),
            )
        });
        for (_, resource, obj, lease) in beats {
            self.put_leased(&resource, &obj, lease);
        }
    }

    /// A custom resource, CRD or APIService: JSON with a trailing newline, as the apiserver
    /// stores them.
    pub fn put_json(&mut self, resource: &str, obj: &Value) {
        let mut value = serde_json::to_vec(obj).expect("json");
        value.push(b'\n');
        self.objects += 1;
        self.raw(&key_of(resource, obj), value, 0);
    }

    pub fn delete(&mut self, key: &str) {
        self.rt
            .block_on(self.client.delete(key, None))
            .unwrap_or_else(|e| panic!("delete {key}: {e}"));
    }

    pub fn grant(&mut self, ttl: i64) -> i64 {
        self.rt
            .block_on(self.client.lease_grant(ttl, None))
            .expect("grant")
            .id()
    }

    pub fn revision(&mut self) -> i64 {
        self.rt
            .block_on(self.client.get("compact_rev_key", None))
            .expect("get")
            .header()
            .map(|h| h.revision())
            .expect("a header")
    }

    /// Compacts at `rev` and records it in `compact_rev_key`, as kube-apiserver's compactor does.
    pub fn compact(&mut self, rev: i64) {
        self.rt
            .block_on(
                self.client
                    .compact(rev, Some(CompactionOptions::new().with_physical())),
            )
            .expect("compact");
        self.raw("compact_rev_key", rev.to_string().into_bytes(), 0);
    }

    /// Defragments (the snapshot then holds no free pages) and saves the snapshot to `out`.
    pub fn snapshot(&mut self, out: &str) {
        self.rt
            .block_on(self.client.defragment())
            .expect("defragment");
        let tmp = format!("{out}.part");
        let mut f = std::fs::File::create(&tmp).expect("create the snapshot");
        self.rt.block_on(async {
            let mut stream = self.client.snapshot().await.expect("snapshot");
            while let Some(resp) = stream.message().await.expect("snapshot stream") {
                f.write_all(resp.blob()).expect("write");
            }
        });
        f.sync_all().expect("sync");
        std::fs::rename(&tmp, out).expect("rename");
    }
}
