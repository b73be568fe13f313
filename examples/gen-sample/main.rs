//! Generates `testdata/sample.db`, the bundled demo snapshot (`revkeeper tui` with no source,
//! the README's first command): a small kubeadm 1.32 cluster as kube-apiserver stores it in a
//! real etcd (the vendored 3.6 server, or `ETCD_BIN`). Run through `scripts/gen-sample.sh`,
//! which documents what is in it.
//!
//! Reproducible: no randomness and no wall clock in the data. Times are fixed relative to
//! [`meta::T`] (2026-11-21T03:16:52Z, the newest node heartbeat, so the estimated snapshot time
//! is T), uids and generated name suffixes are hashes of the object's kind, namespace and name.
//! Shapes follow the objects of `../shared/fixtures/cluster-dev` (kube-apiserver 1.32 storage:
//! protobuf for built-in kinds, JSON for CRDs, APIServices and custom resources; managedFields
//! and status included). etcd's own ids (cluster, member, lease ids) differ from run to run.

mod access;
mod addons;
mod cluster;
mod findings;
mod meta;
mod shop;
mod workloads;

use revkeeper_harness::Member;

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "testdata/sample.db".into());
    let member = Member::start_single();
    let mut s = meta::Store::connect(&member.endpoint());

    cluster::namespaces(&mut s);
    cluster::nodes(&mut s);
    access::access(&mut s);
    cluster::kube_system(&mut s);
    addons::cert_manager(&mut s);
    addons::monitoring(&mut s);
    addons::metrics_server(&mut s);
    findings::history(&mut s);
    shop::shop(&mut s);
    findings::demo(&mut s);
    cluster::leases(&mut s);
    // Heartbeats come last, in their order, as the newest writes of a running cluster: the
    // estimate of the snapshot's time reads them.
    s.write_beats();
    findings::masterlease(&mut s);

    s.snapshot(&out);
    eprintln!("wrote {out}: {} objects", s.objects);
}
