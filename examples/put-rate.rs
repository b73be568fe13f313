//! Puts 1 KiB values into a real etcd at a fixed rate for a while, for `scripts/bench-follow.sh`
//! (a follower must keep up with it). Prints the rate reached and the last revision.
//!
//! ```sh
//! cargo run --release --example put-rate -- --endpoints http://127.0.0.1:2379 --rate 5000 --seconds 60
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use etcd_client::Client;

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:2379", value_delimiter = ',')]
    endpoints: Vec<String>,
    /// Puts per second
    #[arg(long, default_value_t = 5000)]
    rate: u64,
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Bytes per value
    #[arg(long, default_value_t = 1024)]
    value_bytes: usize,
    /// Distinct keys (puts cycle over them: updates, as a cluster's status writes are)
    #[arg(long, default_value_t = 20_000)]
    keys: u64,
    #[arg(long, default_value_t = 64)]
    concurrency: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let client = Client::connect(&args.endpoints, None).await?;
    let total = args.rate * args.seconds;
    let next = Arc::new(AtomicU64::new(0));
    let last_rev = Arc::new(AtomicI64::new(0));
    let start = Instant::now();
    let per_put = Duration::from_secs_f64(1.0 / args.rate as f64);
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (mut c, next, last_rev) = (client.clone(), next.clone(), last_rev.clone());
        let (keys, size) = (args.keys, args.value_bytes);
        tasks.push(tokio::spawn(async move {
            // Status-like text that compresses about 2:1, not a run of one byte.
            let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ next.load(Ordering::Relaxed);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                // Paced: put i is due at start + i / rate.
                let due = start + per_put * i as u32;
                tokio::time::sleep_until(due.into()).await;
                let key = format!("/registry/pods/bench/pod-{:06}", i % keys);
                let mut value = Vec::with_capacity(size + 16);
                while value.len() < size {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    value.extend_from_slice(format!("{x:016x}").as_bytes());
                }
                value.truncate(size);
                let rev = c
                    .put(key, value, None)
                    .await?
                    .header()
                    .map_or(0, |h| h.revision());
                last_rev.fetch_max(rev, Ordering::Relaxed);
            }
            Ok::<(), etcd_client::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "puts {total} seconds {secs:.2} rate {:.0} last_revision {}",
        total as f64 / secs,
        last_rev.load(Ordering::Relaxed)
    );
    Ok(())
}
