//! Fills a real etcd with Kubernetes objects stored as kube-apiserver stores them — `k8s\0` +
//! `runtime.Unknown` protobuf envelopes around ConfigMaps, Secrets and coordination Leases —
//! for the decode benchmark (`scripts/bench-decode.sh`).
//!
//! ```sh
//! cargo run --release --example load-k8s -- --endpoints http://127.0.0.1:2379 --objects 1000000
//! ```
//!
//! The messages are built with prost from the field numbers of k8s.io/api `generated.proto`
//! (ObjectMeta, ConfigMap, Secret, Lease), so the values are the bytes the apiserver writes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use clap::Parser;
use etcd_client::{Client, Txn, TxnOp};
use prost::Message;

#[derive(Debug, Parser)]
struct Args {
    /// etcd client URLs, comma-separated
    #[arg(long, default_value = "http://127.0.0.1:2379", value_delimiter = ',')]
    endpoints: Vec<String>,
    /// Number of objects
    #[arg(long, default_value_t = 1_000_000)]
    objects: u64,
    /// Concurrent writers
    #[arg(long, default_value_t = 16)]
    concurrency: u64,
    /// Puts per transaction (etcd allows 128 by default)
    #[arg(long, default_value_t = 100)]
    batch: u64,
}

#[derive(Clone, PartialEq, Message)]
struct TypeMeta {
    #[prost(string, optional, tag = "1")]
    api_version: Option<String>,
    #[prost(string, optional, tag = "2")]
    kind: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct Unknown {
    #[prost(message, optional, tag = "1")]
    type_meta: Option<TypeMeta>,
    #[prost(bytes = "vec", optional, tag = "2")]
    raw: Option<Vec<u8>>,
    #[prost(string, optional, tag = "3")]
    content_encoding: Option<String>,
    #[prost(string, optional, tag = "4")]
    content_type: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct Time {
    #[prost(int64, optional, tag = "1")]
    seconds: Option<i64>,
    #[prost(int32, optional, tag = "2")]
    nanos: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
struct ObjectMeta {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(string, optional, tag = "3")]
    namespace: Option<String>,
    #[prost(string, optional, tag = "5")]
    uid: Option<String>,
    #[prost(string, optional, tag = "6")]
    resource_version: Option<String>,
    #[prost(int64, optional, tag = "7")]
    generation: Option<i64>,
    #[prost(message, optional, tag = "8")]
    creation_timestamp: Option<Time>,
    #[prost(btree_map = "string, string", tag = "11")]
    labels: BTreeMap<String, String>,
    #[prost(btree_map = "string, string", tag = "12")]
    annotations: BTreeMap<String, String>,
}

#[derive(Clone, PartialEq, Message)]
struct ConfigMap {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(btree_map = "string, string", tag = "2")]
    data: BTreeMap<String, String>,
}

#[derive(Clone, PartialEq, Message)]
struct Secret {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(btree_map = "string, bytes", tag = "2")]
    data: BTreeMap<String, Vec<u8>>,
    #[prost(string, optional, tag = "3")]
    r#type: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct LeaseSpec {
    #[prost(string, optional, tag = "1")]
    holder_identity: Option<String>,
    #[prost(int32, optional, tag = "2")]
    lease_duration_seconds: Option<i32>,
    #[prost(message, optional, tag = "3")]
    acquire_time: Option<Time>,
    #[prost(message, optional, tag = "4")]
    renew_time: Option<Time>,
    #[prost(int32, optional, tag = "5")]
    lease_transitions: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
struct Lease {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<LeaseSpec>,
}

fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let u = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(api_version.into()),
            kind: Some(kind.into()),
        }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut out = b"k8s\0".to_vec();
    u.encode(&mut out).expect("encoding to a Vec cannot fail");
    out
}

fn meta(i: u64, name: &str, ns: &str) -> ObjectMeta {
    let mut labels = BTreeMap::new();
    labels.insert("app.kubernetes.io/name".into(), format!("app-{}", i % 97));
    labels.insert(
        "app.kubernetes.io/part-of".into(),
        format!("team-{}", i % 13),
    );
    let mut annotations = BTreeMap::new();
    if i % 3 == 0 {
        annotations.insert(
            "kubectl.kubernetes.io/last-applied-configuration".into(),
            format!("{{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"{name}\",\"namespace\":\"{ns}\"}}}}"),
        );
    }
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(ns.into()),
        uid: Some(format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            i as u32,
            i % 0xffff,
            i % 0xfff,
            (i / 7) % 0xfff,
            i.wrapping_mul(0x9E37_79B9) & 0xffff_ffff_ffff
        )),
        resource_version: Some(String::new()),
        generation: Some(0),
        creation_timestamp: Some(Time {
            seconds: Some(1_760_000_000 + i as i64),
            nanos: None,
        }),
        labels,
        annotations,
    }
}

/// Object `i`: its key and stored value.
fn object(i: u64) -> (String, Vec<u8>) {
    let ns = format!("ns-{:03}", i % 200);
    match i % 10 {
        0..=5 => {
            let name = format!("cm-{i:07}");
            let mut data = BTreeMap::new();
            for k in 0..(2 + i % 5) {
                data.insert(
                    format!("key-{k}.conf"),
                    format!(
                        "setting_{k} = value-{i}-{k}\nenabled = true\nlimit = {}\n",
                        i % 1000
                    ),
                );
            }
            let cm = ConfigMap {
                metadata: Some(meta(i, &name, &ns)),
                data,
            };
            let key = format!("/registry/configmaps/{ns}/{name}");
            (key, envelope("v1", "ConfigMap", cm.encode_to_vec()))
        }
        6..=7 => {
            let name = format!("secret-{i:07}");
            let mut data = BTreeMap::new();
            data.insert("username".into(), format!("user-{i}").into_bytes());
            data.insert(
                "password".into(),
                format!("pw-{:x}", i.wrapping_mul(0x2545F4914F6CDD1D)).into_bytes(),
            );
            let s = Secret {
                metadata: Some(meta(i, &name, &ns)),
                data,
                r#type: Some("Opaque".into()),
            };
            let key = format!("/registry/secrets/{ns}/{name}");
            (key, envelope("v1", "Secret", s.encode_to_vec()))
        }
        _ => {
            let name = format!("node-{i:07}");
            let now = Time {
                seconds: Some(1_760_000_000 + i as i64),
                nanos: Some(123_456_000),
            };
            let l = Lease {
                metadata: Some(meta(i, &name, "kube-node-lease")),
                spec: Some(LeaseSpec {
                    holder_identity: Some(name.clone()),
                    lease_duration_seconds: Some(40),
                    acquire_time: None,
                    renew_time: Some(now),
                    lease_transitions: None,
                }),
            };
            let key = format!("/registry/leases/kube-node-lease/{name}");
            (
                key,
                envelope("coordination.k8s.io/v1", "Lease", l.encode_to_vec()),
            )
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let client = Client::connect(args.endpoints.clone(), None).await?;
    let next = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (mut c, next, bytes) = (client.clone(), next.clone(), bytes.clone());
        let (total, batch) = (args.objects, args.batch);
        tasks.push(tokio::spawn(async move {
            loop {
                let start = next.fetch_add(batch, Ordering::Relaxed);
                if start >= total {
                    return Ok::<(), etcd_client::Error>(());
                }
                let ops: Vec<TxnOp> = (start..(start + batch).min(total))
                    .map(|i| {
                        let (k, v) = object(i);
                        bytes.fetch_add(v.len() as u64, Ordering::Relaxed);
                        TxnOp::put(k, v, None)
                    })
                    .collect();
                c.txn(Txn::new().and_then(ops)).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "load-k8s: {} objects, {} MiB of values in {secs:.1}s ({:.0} objects/s)",
        args.objects,
        bytes.load(Ordering::Relaxed) >> 20,
        args.objects as f64 / secs
    );
    Ok(())
}
