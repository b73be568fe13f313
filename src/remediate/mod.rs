//! Safe remediation (`docs/stale-and-leases.md#safe-writes`): a [`Plan`] of etcd operations taken
//! from a [`Report`](crate::inspect::Report), printed as a dry run, or applied to a live cluster:
//!
//! * key deletes are `Txn(If ModRevision(k)==seen ∧ Lease(k)==seen Then Delete k)`, in batches;
//!   a failed batch is retried key by key so every key gets its own verdict, and a key that
//!   changed since the inspection is kept and reported (never retried blindly);
//! * a lease is revoked only after re-reading it (`LeaseTimeToLive` with keys): refused when its
//!   keys changed, when it is foreign or kept alive, or when it is young enough to be the lease
//!   kube-apiserver is attaching Events to right now; leases with many keys are drained first;
//! * nothing here puts a key or grants a lease, so it works under a NOSPACE alarm;
//! * every step is written to the audit log (JSON lines) before (intent) and after (result).
//!
//! The one write path of revkeeper: `stale fix --apply`, `leases revoke --apply` and the TUI's
//! delete all go through [`apply_live`]. [`plan`] is pure; [`apply`] talks to etcd. Reading
//! (finding what to fix) lives in `crate::inspect`.

mod apply;
mod plan;

pub use apply::{ApplyOptions, Outcome, apply, apply_live};
pub use plan::{Plan, Step, describe, plan_fix, plan_revoke};

#[cfg(test)]
mod tests;
