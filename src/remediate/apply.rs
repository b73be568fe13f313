//! Applying a [`Plan`] to a live cluster: deletes as mod_revision+lease-guarded txns, revokes
//! after a re-read, every step written to the audit log (JSON lines) before and after.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use etcd_client::{Client, Compare, CompareOp, DeleteOptions, LeaseTimeToLiveOptions, Txn, TxnOp};
use serde_json::json;
use sha2::Digest;

use super::plan::{DRAIN_ABOVE, Plan, Step};
use crate::inspect::EtcdOp;
use crate::{Error, Result};

/// Operations per delete txn (etcd's `--max-txn-ops` default is 128).
pub(super) const BATCH: usize = 100;

/// What happened to one step.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    pub op: EtcdOp,
    /// `deleted`, `revoked`, `gone` (already absent), `changed` (kept: modified since the
    /// inspection), `refused`, `failed`.
    pub result: &'static str,
    pub message: String,
}

impl Outcome {
    /// Whether the step leaves the cluster as the user asked (done, or nothing left to do).
    pub fn ok(&self) -> bool {
        matches!(self.result, "deleted" | "revoked" | "gone")
    }
}

pub struct ApplyOptions {
    /// Append-only JSON-lines audit log.
    pub audit_log: Option<PathBuf>,
    /// Refuse to revoke leases granted (or renewed) less than this long ago: kube-apiserver may
    /// still be attaching Events to them (lease reuse window 60 s + margin).
    pub min_lease_age: Duration,
    /// Pause between the two polls that reveal a kept-alive lease (at least 1 s).
    pub keepalive_probe: Duration,
    /// For the audit log: where the changes go.
    pub endpoint: String,
}

impl Default for ApplyOptions {
    fn default() -> ApplyOptions {
        ApplyOptions {
            audit_log: None,
            min_lease_age: Duration::from_secs(90),
            keepalive_probe: Duration::from_millis(1200),
            endpoint: String::new(),
        }
    }
}

struct Audit {
    file: Option<std::fs::File>,
    endpoint: String,
}

impl Audit {
    fn open(path: Option<&Path>, endpoint: &str) -> Result<Audit> {
        let file = match path {
            Some(p) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|e| Error::io("cannot open the audit log", p, e))?,
            ),
            None => None,
        };
        Ok(Audit {
            file,
            endpoint: endpoint.to_string(),
        })
    }

    fn write(&mut self, phase: &str, mut record: serde_json::Value) -> Result<()> {
        let Some(f) = &mut self.file else {
            return Ok(());
        };
        let extra = json!({
            "time": crate::timefmt::now_rfc3339(),
            "phase": phase,
            "user": std::env::var("USER").unwrap_or_default(),
            "tool": format!("revkeeper {}", env!("CARGO_PKG_VERSION")),
            "endpoint": self.endpoint,
        });
        if let (Some(r), Some(x)) = (record.as_object_mut(), extra.as_object()) {
            for (k, v) in x {
                r.insert(k.clone(), v.clone());
            }
        }
        let mut line = record.to_string();
        line.push('\n');
        f.write_all(line.as_bytes())
            .and_then(|()| f.sync_data())
            .map_err(|e| Error::general(format!("cannot write the audit log: {e}")))
    }
}

fn rpc(what: &str, e: etcd_client::Error) -> Error {
    Error::server(format!("{what}: {e}"))
}

/// Runs `plan` against a live cluster. Refused steps are reported, not run. Stops at the first
/// RPC failure (connection lost) after recording it; per-key verdicts are in the outcomes.
pub async fn apply(client: &mut Client, plan: &Plan, opts: &ApplyOptions) -> Result<Vec<Outcome>> {
    let mut audit = Audit::open(opts.audit_log.as_deref(), &opts.endpoint)?;
    let mut out = Vec::new();
    let deletes: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.op, EtcdOp::Delete { .. }))
        .collect();
    for batch in deletes.chunks(BATCH) {
        out.extend(delete_batch(client, batch, &mut audit).await?);
    }
    for s in &plan.steps {
        if let EtcdOp::Revoke { lease, keys } = &s.op {
            let outcome = match &s.refused {
                Some(r) => Outcome {
                    op: s.op.clone(),
                    result: "refused",
                    message: r.clone(),
                },
                None => revoke(client, *lease, keys, opts, &mut audit).await?,
            };
            out.push(outcome);
        }
    }
    Ok(out)
}

fn delete_parts(op: &EtcdOp) -> (&str, i64, i64) {
    match op {
        EtcdOp::Delete {
            key,
            mod_revision,
            lease,
        } => (key, *mod_revision, *lease),
        EtcdOp::Revoke { .. } => unreachable!("only deletes are batched"),
    }
}

async fn delete_batch(
    client: &mut Client,
    steps: &[&Step],
    audit: &mut Audit,
) -> Result<Vec<Outcome>> {
    let mut compares = Vec::new();
    let mut ops = Vec::new();
    for s in steps {
        let (key, rev, lease) = delete_parts(&s.op);
        audit.write(
            "intent",
            json!({"op": "delete", "key": key, "mod_revision": rev, "lease": format!("{lease:016x}"), "checks": s.checks}),
        )?;
        compares.push(Compare::mod_revision(key, CompareOp::Equal, rev));
        compares.push(Compare::lease(key, CompareOp::Equal, lease));
        ops.push(TxnOp::delete(
            key,
            Some(DeleteOptions::new().with_prev_key()),
        ));
    }
    let resp = client
        .txn(Txn::new().when(compares).and_then(ops))
        .await
        .map_err(|e| rpc("delete txn", e))?;
    if !resp.succeeded() {
        if steps.len() == 1 {
            return Ok(vec![
                verdict_after_failed_compare(client, steps[0], audit).await?,
            ]);
        }
        let mut out = Vec::new();
        for s in steps {
            out.extend(Box::pin(delete_batch(client, &[*s], audit)).await?);
        }
        return Ok(out);
    }
    let revision = resp.header().map(|h| h.revision()).unwrap_or(0);
    let mut out = Vec::new();
    for (s, r) in steps.iter().zip(resp.op_responses()) {
        let (key, _, _) = delete_parts(&s.op);
        let prev_sha = match r {
            etcd_client::TxnOpResponse::Delete(d) => d
                .prev_kvs()
                .first()
                .map(|kv| hex::encode(sha2::Sha256::digest(kv.value()))),
            _ => None,
        };
        audit.write(
            "result",
            json!({"op": "delete", "key": key, "succeeded": true, "revision": revision, "prev_value_sha256": prev_sha}),
        )?;
        out.push(Outcome {
            op: s.op.clone(),
            result: "deleted",
            message: format!("deleted at revision {revision}"),
        });
    }
    Ok(out)
}

async fn verdict_after_failed_compare(
    client: &mut Client,
    s: &Step,
    audit: &mut Audit,
) -> Result<Outcome> {
    let (key, rev, lease) = delete_parts(&s.op);
    let now = client.get(key, None).await.map_err(|e| rpc("get", e))?;
    let (result, message) = match now.kvs().first() {
        None => ("gone", "already deleted".to_string()),
        Some(kv) => (
            "changed",
            format!(
                "kept: changed since the inspection (mod_revision {rev} → {}, lease {lease:016x} → {:016x}); inspect again",
                kv.mod_revision(),
                kv.lease()
            ),
        ),
    };
    audit.write(
        "result",
        json!({"op": "delete", "key": key, "succeeded": false, "result": result, "message": message}),
    )?;
    Ok(Outcome {
        op: s.op.clone(),
        result,
        message,
    })
}

async fn revoke(
    client: &mut Client,
    lease: i64,
    expected_keys: &[String],
    opts: &ApplyOptions,
    audit: &mut Audit,
) -> Result<Outcome> {
    let op = EtcdOp::Revoke {
        lease,
        keys: expected_keys.to_vec(),
    };
    let hex = format!("{lease:016x}");
    audit.write(
        "intent",
        json!({"op": "revoke", "lease": hex, "keys": expected_keys.len()}),
    )?;
    let finish = |result: &'static str, message: String, audit: &mut Audit| -> Result<Outcome> {
        audit.write(
            "result",
            json!({"op": "revoke", "lease": hex, "result": result, "message": message}),
        )?;
        Ok(Outcome {
            op: op.clone(),
            result,
            message,
        })
    };
    let first = client
        .lease_time_to_live(lease, Some(LeaseTimeToLiveOptions::new().with_keys()))
        .await
        .map_err(|e| rpc("lease time-to-live", e))?;
    if first.ttl() < 0 {
        return finish("gone", "lease no longer exists".into(), audit);
    }
    let mut now_keys: Vec<String> = first
        .keys()
        .iter()
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .collect();
    now_keys.sort();
    let reread = Reread {
        keys: &now_keys,
        granted_ttl: first.granted_ttl(),
        ttl: first.ttl(),
    };
    if let Some(why) = refuse_after_reread(expected_keys, &reread, opts.min_lease_age) {
        return finish("refused", why, audit);
    }
    tokio::time::sleep(opts.keepalive_probe).await;
    let second = client
        .lease_time_to_live(lease, None)
        .await
        .map_err(|e| rpc("lease time-to-live", e))?;
    if let Some(why) = kept_alive(first.ttl(), second.ttl()) {
        return finish("refused", why, audit);
    }
    for chunk in drain_batches(&now_keys) {
        let compares: Vec<Compare> = chunk
            .iter()
            .map(|k| Compare::lease(k.as_str(), CompareOp::Equal, lease))
            .collect();
        let ops: Vec<TxnOp> = chunk
            .iter()
            .map(|k| TxnOp::delete(k.as_str(), None))
            .collect();
        let resp = client
            .txn(Txn::new().when(compares).and_then(ops))
            .await
            .map_err(|e| rpc("drain txn", e))?;
        if !resp.succeeded() {
            return finish(
                "failed",
                "a key moved off the lease while draining: stopped; inspect again".into(),
                audit,
            );
        }
    }
    match client.lease_revoke(lease).await {
        Ok(_) => finish(
            "revoked",
            format!("revoked with {} keys", now_keys.len()),
            audit,
        ),
        Err(e) if e.to_string().contains("not found") => {
            finish("gone", "lease expired meanwhile".into(), audit)
        }
        Err(e) => {
            let message = format!("lease revoke: {e}");
            finish("failed", message, audit)
        }
    }
}

/// A lease as `LeaseTimeToLive` (with keys) answered just before its revoke.
pub(super) struct Reread<'a> {
    /// Its attached keys now, sorted.
    pub(super) keys: &'a [String],
    pub(super) granted_ttl: i64,
    /// Seconds left.
    pub(super) ttl: i64,
}

/// Why a re-read lease must not be revoked: its keys are no longer those inspected, or it was
/// granted or renewed less than `min_age` ago.
pub(super) fn refuse_after_reread(
    expected_keys: &[String],
    now: &Reread,
    min_age: Duration,
) -> Option<String> {
    let mut want = expected_keys.to_vec();
    want.sort();
    if now.keys != want {
        return Some(format!(
            "its keys changed since the inspection ({} then, {} now): inspect again",
            want.len(),
            now.keys.len()
        ));
    }
    // Remaining above granted (negative age) means etcd just extended it, e.g. after a leader
    // change: as young as it gets.
    let age = now.granted_ttl - now.ttl;
    if age < 0 || (age as u64) < min_age.as_secs() {
        return Some(format!(
            "granted or renewed {age}s ago: kube-apiserver may still attach objects to it (wait, or lower --min-age)"
        ));
    }
    None
}

/// Why two polls at least a second apart say a client keeps the lease alive: an untouched lease
/// has lost at least a second of its remaining TTL.
pub(super) fn kept_alive(first_ttl: i64, second_ttl: i64) -> Option<String> {
    (second_ttl >= first_ttl).then(|| {
        format!(
            "remaining TTL {first_ttl}s, then {second_ttl}s a moment later: a client keeps it alive"
        )
    })
}

/// The batches of keys deleted before revoking a lease with these keys: none up to
/// [`DRAIN_ABOVE`] keys (the revoke takes them), else all of them, [`BATCH`] at a time.
pub(super) fn drain_batches(keys: &[String]) -> std::slice::Chunks<'_, String> {
    let drained = if keys.len() > DRAIN_ABOVE { keys } else { &[] };
    drained.chunks(BATCH)
}

/// Connects with `config` and applies `plan` there: the one write path of `stale fix --apply`,
/// `leases revoke --apply` and the TUI's delete. `opts.endpoint` is set to the member used.
pub fn apply_live(
    runtime: &tokio::runtime::Runtime,
    config: &crate::connect::ConnectConfig,
    plan: &Plan,
    opts: ApplyOptions,
) -> Result<Vec<Outcome>> {
    runtime.block_on(async {
        let mut conn = config.connect().await?;
        let opts = ApplyOptions {
            endpoint: conn.endpoint.clone(),
            ..opts
        };
        apply(&mut conn.client, plan, &opts).await
    })
}
