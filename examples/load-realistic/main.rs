//! Fills a real etcd with a realistic Kubernetes cluster, as kube-apiserver stores it, for every
//! benchmark (`scripts/gen-realistic.sh` runs it and caches the snapshot).
//!
//! ```sh
//! cargo run --release --example load-realistic -- --endpoints http://127.0.0.1:2379 --objects 1000000
//! cargo run --release --example load-realistic -- --print-version   # cache key of the data
//! cargo run --release --example load-realistic -- --print-etcd-bin  # the vendored etcd 3.6
//! ```
//!
//! The objects are the real ones of `../shared/fixtures/cluster-dev` (Pods with status and
//! managedFields, Events, ReplicaSets, Deployments, Nodes, Leases, ConfigMaps, Secrets,
//! Services, custom resources and their CRDs) multiplied under new names, with uids, owners,
//! nodes and involved objects that agree with each other; the mix and the history are described
//! in `cluster.rs`. Built-in kinds are stored as `k8s\0` protobuf envelopes, CRDs and custom
//! resources as JSON, Secrets encrypted with cluster-dev's `encryption-config.yaml` (so the
//! snapshot decodes with `--encryption-config` that file), Events on shared 3660 s leases.
//! The same `--objects` gives the same objects (the nonces of encrypted Secrets and the
//! interleaving of concurrent transactions differ between runs).

mod cluster;
mod templates;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use etcd_client::{Client, PutOptions, Txn, TxnOp};
use revkeeper_formats::k8s::Keyring;

use cluster::{Cluster, EVENT_LEASE_TTL, Op, Plan};
use templates::Templates;

/// Bump when the generated data changes: scripts cache snapshots by object count and this.
const GENERATOR_VERSION: u32 = 1;

#[derive(Debug, Parser)]
struct Args {
    /// etcd client URLs, comma-separated
    #[arg(long, default_value = "http://127.0.0.1:2379", value_delimiter = ',')]
    endpoints: Vec<String>,
    /// Live objects in the generated cluster
    #[arg(long, default_value_t = 1_000_000)]
    objects: u64,
    /// Concurrent transactions
    #[arg(long, default_value_t = 16)]
    concurrency: u64,
    /// Puts per transaction (etcd allows 128 by default)
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// The cluster-dev fixture directory (objects.jsonl, truth.json, encryption-config.yaml)
    #[arg(long)]
    fixtures: Option<PathBuf>,
    /// Write counts of what was written as JSON to this file
    #[arg(long)]
    stats: Option<PathBuf>,
    /// Print the generator's version (the cache key of its data) and exit
    #[arg(long)]
    print_version: bool,
    /// Print the etcd server the test harness would run (ETCD_BIN or the vendored 3.6) and exit
    #[arg(long)]
    print_etcd_bin: bool,
}

/// Writes ops in transactions of `batch` from `concurrency` tasks, and counts them.
struct Writer {
    client: Client,
    leases: Vec<i64>,
    concurrency: u64,
    batch: usize,
    writes: AtomicU64,
    bytes: AtomicU64,
    /// Live objects by resource (`/registry/<resource>/`), from puts of new keys and deletes.
    live: Mutex<BTreeMap<String, i64>>,
}

fn resource(key: &str) -> String {
    let mut parts = key.split('/').skip(2);
    let first = parts.next().unwrap_or("");
    if first == "services" || first.contains('.') {
        format!("{first}/{}", parts.next().unwrap_or(""))
    } else {
        first.to_string()
    }
}

impl Writer {
    async fn txn(&self, c: &mut Client, ops: &[Op]) -> Result<(), etcd_client::Error> {
        let txn_ops: Vec<TxnOp> = ops
            .iter()
            .map(|op| match op {
                Op::Put(k, v, lease) => {
                    let opts = lease.map(|l| PutOptions::new().with_lease(self.leases[l as usize]));
                    TxnOp::put(k.as_str(), v.clone(), opts)
                }
                Op::Delete(k) => TxnOp::delete(k.as_str(), None),
            })
            .collect();
        let mut tries = 0;
        loop {
            match c.txn(Txn::new().and_then(txn_ops.clone())).await {
                Ok(_) => break,
                Err(e) if tries < 5 => {
                    tries += 1;
                    eprintln!("load-realistic: retrying a transaction after: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(e),
            }
        }
        self.writes.fetch_add(ops.len() as u64, Ordering::Relaxed);
        let bytes: usize = ops
            .iter()
            .map(|op| match op {
                Op::Put(_, v, _) => v.len(),
                Op::Delete(_) => 0,
            })
            .sum();
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        Ok(())
    }

    fn count(&self, ops: &[Op], new_keys: bool) {
        let mut live = self.live.lock().expect("not poisoned");
        for op in ops {
            match op {
                Op::Put(k, ..) if new_keys => *live.entry(resource(k)).or_default() += 1,
                Op::Delete(k) => *live.entry(resource(k)).or_default() -= 1,
                Op::Put(..) => {}
            }
        }
    }

    /// Writes the ops of units `0..units` (`make(u)`); each task claims a unit at a time and
    /// sends full transactions. Within a unit, order is kept; `new_keys`: puts create keys.
    async fn run<F>(self: &Arc<Self>, units: u64, new_keys: bool, make: F) -> Result<(), String>
    where
        F: Fn(u64) -> Vec<Op> + Send + Sync + 'static,
    {
        let make = Arc::new(make);
        let next = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..self.concurrency {
            let (w, make, next) = (self.clone(), make.clone(), next.clone());
            let mut c = self.client.clone();
            tasks.push(tokio::spawn(async move {
                let mut pending: Vec<Op> = Vec::new();
                loop {
                    let u = next.fetch_add(1, Ordering::Relaxed);
                    let done = u >= units;
                    if !done {
                        let ops = make(u);
                        w.count(&ops, new_keys);
                        pending.extend(ops);
                    }
                    while pending.len() >= w.batch || (done && !pending.is_empty()) {
                        let n = pending.len().min(w.batch);
                        let chunk: Vec<Op> = pending.drain(..n).collect();
                        w.txn(&mut c, &chunk).await?;
                    }
                    if done {
                        return Ok::<(), etcd_client::Error>(());
                    }
                }
            }));
        }
        for t in tasks {
            t.await
                .map_err(|e| format!("a writer task failed: {e}"))?
                .map_err(|e| format!("a transaction failed: {e}"))?;
        }
        Ok(())
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if args.print_version {
        println!("{GENERATOR_VERSION}");
        return Ok(());
    }
    if args.print_etcd_bin {
        println!("{}", revkeeper_harness::etcd_bin().display());
        return Ok(());
    }
    let dir = args
        .fixtures
        .clone()
        .unwrap_or_else(|| revkeeper_harness::fixtures_dir().join("cluster-dev"));
    let templates: &'static Templates = Box::leak(Box::new(Templates::load(&dir)?));
    let plan: &'static Plan = Box::leak(Box::new(Plan::new(args.objects, templates)?));
    let keyring: &'static Keyring = Box::leak(Box::new(Keyring::load(
        &dir.join("encryption-config.yaml"),
    )?));
    let cluster: &'static Cluster<'static> = Box::leak(Box::new(Cluster {
        t: templates,
        plan,
        keyring,
    }));

    let mut client = Client::connect(args.endpoints.clone(), None).await?;
    let started = Instant::now();
    let mut leases = Vec::new();
    for _ in 0..plan.event_leases() {
        leases.push(client.lease_grant(EVENT_LEASE_TTL, None).await?.id());
    }
    let w = Arc::new(Writer {
        client,
        leases,
        concurrency: args.concurrency,
        batch: args.batch.clamp(1, 128),
        writes: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        live: Mutex::new(BTreeMap::new()),
    });
    let progress = {
        let w = w.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                eprintln!(
                    "load-realistic: {} writes, {} MiB, {:.0}s",
                    w.writes.load(Ordering::Relaxed),
                    w.bytes.load(Ordering::Relaxed) >> 20,
                    started.elapsed().as_secs_f64()
                );
            }
        })
    };

    eprintln!(
        "load-realistic: {} objects: {} apps in {} namespaces, {} nodes, {} events on {} leases",
        args.objects,
        plan.apps,
        plan.namespaces,
        plan.nodes,
        plan.events,
        plan.event_leases()
    );
    let setup: Arc<Vec<Mutex<Option<Vec<Op>>>>> = Arc::new(
        chunks(cluster.setup(), w.batch)
            .into_iter()
            .map(|c| Mutex::new(Some(c)))
            .collect(),
    );
    let n = setup.len() as u64;
    w.run(n, true, move |u| {
        setup[u as usize]
            .lock()
            .expect("not poisoned")
            .take()
            .unwrap_or_default()
    })
    .await?;
    w.run(plan.apps, true, |a| cluster.create(a)).await?;
    w.run(plan.apps, false, |a| cluster.update(a)).await?;
    for round in 1..=cluster.renewals_rounds() {
        let ops = Arc::new(Mutex::new(Some(cluster.renewals(round))));
        w.run(1, false, move |_| {
            ops.lock().expect("not poisoned").take().unwrap_or_default()
        })
        .await?;
    }
    progress.abort();

    let secs = started.elapsed().as_secs_f64();
    let live = w.live.lock().expect("not poisoned").clone();
    let total: i64 = live.values().sum();
    let writes = w.writes.load(Ordering::Relaxed);
    let status = w.client.clone().status().await?;
    eprintln!(
        "load-realistic: {total} live objects, {writes} writes ({:.2} per object), {} MiB of values in {secs:.1}s ({:.0} writes/s); db size {} MiB",
        writes as f64 / total as f64,
        w.bytes.load(Ordering::Relaxed) >> 20,
        writes as f64 / secs,
        status.db_size() >> 20
    );
    if let Some(path) = &args.stats {
        let stats = serde_json::json!({
            "generator_version": GENERATOR_VERSION,
            "objects": total,
            "writes": writes,
            "value_bytes": w.bytes.load(Ordering::Relaxed),
            "apps": plan.apps,
            "namespaces": plan.namespaces,
            "nodes": plan.nodes,
            "event_leases": plan.event_leases(),
            "fixed_objects": plan.fixed,
            "live_by_resource": live,
        });
        std::fs::write(path, serde_json::to_vec_pretty(&stats)?)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn chunks(mut ops: Vec<Op>, size: usize) -> Vec<Vec<Op>> {
    let mut out = Vec::new();
    while !ops.is_empty() {
        let rest = ops.split_off(ops.len().min(size));
        out.push(std::mem::replace(&mut ops, rest));
    }
    out
}
