//! Fills a real etcd with Kubernetes-like data, fast, for benchmarks (`scripts/bench-save.sh`).
//!
//! ```sh
//! cargo run --release --example load-etcd -- --endpoints http://127.0.0.1:2379 \
//!     --bytes 1GiB --keys 1000000
//! cargo run --release --example load-etcd -- --print-etcd-bin   # the vendored etcd 3.6 path
//! ```
//!
//! Keys look like `/registry/<resource>/<namespace>/<name>`. Values mix compressibility the way
//! a real cluster does: most are JSON-ish object text (repetitive field names, random ids and
//! words), `--random-percent` of them are random bytes behind a `k8s:enc:aescbc:v1:key1:` prefix
//! (encrypted Secrets). Puts go in transactions of `--batch` keys from `--concurrency` tasks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use etcd_client::{Client, Txn, TxnOp};

#[derive(Debug, Parser)]
struct Args {
    /// etcd client URLs, comma-separated
    #[arg(long, default_value = "http://127.0.0.1:2379", value_delimiter = ',')]
    endpoints: Vec<String>,
    /// Total bytes of values to write (suffixes: KiB, MiB, GiB)
    #[arg(long, default_value = "1GiB")]
    bytes: String,
    /// Number of keys
    #[arg(long, default_value_t = 1_000_000)]
    keys: u64,
    /// Percent of values that are random (incompressible) bytes
    #[arg(long, default_value_t = 25)]
    random_percent: u64,
    /// Concurrent writers
    #[arg(long, default_value_t = 32)]
    concurrency: u64,
    /// Puts per transaction (etcd allows 128 by default)
    #[arg(long, default_value_t = 64)]
    batch: u64,
    /// Seed of the generator (same seed, same data)
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the etcd server the test harness would run (ETCD_BIN or the vendored 3.6) and exit
    #[arg(long)]
    print_etcd_bin: bool,
}

fn parse_bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = [
        ("GiB", 1u64 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("G", 1 << 30),
        ("M", 1 << 20),
        ("K", 1 << 10),
    ]
    .iter()
    .find_map(|(suffix, m)| s.strip_suffix(suffix).map(|n| (n, *m)))
    .unwrap_or((s, 1));
    let n: f64 = num.trim().parse().map_err(|_| format!("bad size {s:?}"))?;
    Ok((n * mult as f64) as u64)
}

/// xorshift64*: fast, deterministic, good enough for filler.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn fill(&mut self, out: &mut Vec<u8>, len: usize) {
        while out.len() < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(len);
    }
}

const RESOURCES: &[(&str, &str)] = &[
    ("pods", "Pod"),
    ("configmaps", "ConfigMap"),
    ("events", "Event"),
    ("leases", "Lease"),
    ("deployments", "Deployment"),
    ("services/specs", "Service"),
    ("endpointslices", "EndpointSlice"),
    ("secrets", "Secret"),
];

const WORDS: &[&str] = &[
    "container",
    "image",
    "registry.k8s.io",
    "ready",
    "true",
    "false",
    "Running",
    "node",
    "kubelet",
    "app.kubernetes.io/name",
    "controller-revision-hash",
    "ownerReferences",
    "resources",
    "limits",
    "requests",
    "cpu",
    "memory",
    "100m",
    "128Mi",
    "volumeMounts",
    "serviceAccountToken",
    "tolerations",
    "NoSchedule",
    "managedFields",
    "Apply",
    "FieldsV1",
    "f:metadata",
    "f:labels",
    "f:spec",
    "f:status",
    "conditions",
    "lastTransitionTime",
];

fn key(i: u64) -> (String, usize) {
    let r = (i % RESOURCES.len() as u64) as usize;
    let (res, _) = RESOURCES[r];
    (
        format!(
            "/registry/{res}/ns-{:02}/{}-{i:08}",
            i % 97,
            res.replace('/', "-")
        ),
        r,
    )
}

fn value(i: u64, size: usize, random: bool, rng: &mut Rng) -> Vec<u8> {
    let mut v = Vec::with_capacity(size + 64);
    if random {
        const PREFIX: &[u8] = b"k8s:enc:aescbc:v1:key1:";
        v.extend_from_slice(PREFIX);
        // An IV and whole 16-byte blocks, as aescbc stores them: restore's checks accept it.
        let sealed = size
            .saturating_sub(PREFIX.len())
            .max(32)
            .next_multiple_of(16);
        rng.fill(&mut v, PREFIX.len() + sealed);
        return v;
    }
    let (_, kind) = RESOURCES[(i % RESOURCES.len() as u64) as usize];
    v.extend_from_slice(
        format!(
            "{{\"apiVersion\":\"v1\",\"kind\":\"{kind}\",\"metadata\":{{\"name\":\"obj-{i:08}\",\
             \"namespace\":\"ns-{:02}\",\"uid\":\"{:016x}-{:08x}\",\"resourceVersion\":\"{}\",\
             \"labels\":{{\"app\":\"app-{}\",\"pod-template-hash\":\"{:010x}\"}}}},\"spec\":{{",
            i % 97,
            rng.next(),
            rng.next() as u32,
            i + 1,
            i % 1000,
            rng.next() & 0xff_ffff_ffff
        )
        .as_bytes(),
    );
    let mut n = 0;
    while v.len() + 8 < size {
        let w = WORDS[rng.below(WORDS.len() as u64) as usize];
        let field = format!("\"f{}\":\"{w}-{:x}\",", n % 13, rng.below(4096));
        v.extend_from_slice(field.as_bytes());
        n += 1;
    }
    v.extend_from_slice(b"\"z\":0}}");
    v
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if args.print_etcd_bin {
        println!("{}", revkeeper_harness::etcd_bin().display());
        return Ok(());
    }
    let total = parse_bytes(&args.bytes)?;
    let avg = (total / args.keys.max(1)).max(16) as usize;
    let client = Client::connect(&args.endpoints, None).await?;
    let written = Arc::new(AtomicU64::new(0));
    let done_keys = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..args.concurrency {
        let mut c = client.clone();
        let written = written.clone();
        let done_keys = done_keys.clone();
        let (keys, batch, pct, seed, conc) = (
            args.keys,
            args.batch.clamp(1, 128),
            args.random_percent,
            args.seed,
            args.concurrency,
        );
        tasks.push(tokio::spawn(async move {
            let mut rng =
                Rng((seed.wrapping_add(1) << 20) ^ (w + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            // Batches are dealt round-robin to the writers.
            let mut b = w;
            while b * batch < keys {
                let mut ops = Vec::with_capacity(batch as usize);
                let mut bytes = 0u64;
                for i in b * batch..((b + 1) * batch).min(keys) {
                    let (k, _) = key(i);
                    let size = avg / 2 + rng.below(avg as u64 + 1) as usize;
                    let val = value(i, size, (i.wrapping_mul(7919) % 100) < pct, &mut rng);
                    bytes += val.len() as u64;
                    ops.push(TxnOp::put(k, val, None));
                }
                let n = ops.len() as u64;
                let mut tries = 0;
                loop {
                    match c.txn(Txn::new().and_then(ops.clone())).await {
                        Ok(_) => break,
                        Err(e) if tries < 5 => {
                            tries += 1;
                            eprintln!("retrying a batch after: {e}");
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        Err(e) => panic!("txn failed: {e}"),
                    }
                }
                written.fetch_add(bytes, Ordering::Relaxed);
                done_keys.fetch_add(n, Ordering::Relaxed);
                b += conc;
            }
        }));
    }
    let progress = {
        let (written, done_keys, keys) = (written.clone(), done_keys.clone(), args.keys);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                let k = done_keys.load(Ordering::Relaxed);
                eprintln!(
                    "load-etcd: {k}/{keys} keys, {} MiB, {:.0}s",
                    written.load(Ordering::Relaxed) >> 20,
                    start.elapsed().as_secs_f64()
                );
            }
        })
    };
    for t in tasks {
        t.await?;
    }
    progress.abort();
    let secs = start.elapsed().as_secs_f64();
    let bytes = written.load(Ordering::Relaxed);
    let mut c = client.clone();
    let status = c.status().await?;
    eprintln!(
        "load-etcd: wrote {} keys, {} MiB of values in {secs:.1}s ({:.0} MiB/s); db size {} MiB",
        done_keys.load(Ordering::Relaxed),
        bytes >> 20,
        (bytes >> 20) as f64 / secs,
        status.db_size() >> 20
    );
    Ok(())
}
