#!/usr/bin/env bash
# Regenerates testdata/sample.db, the bundled demo snapshot, from a real etcd server (the
# vendored 3.6 one, or ETCD_BIN): `revkeeper tui` with no source opens it, and so does the
# README's first command. The code is examples/gen-sample/.
#
# What it holds: a kubeadm 1.32 cluster "prod-eu" of a few hundred objects, stored as
# kube-apiserver stores them (protobuf for built-in kinds, JSON for CRDs, APIServices and custom
# resources; managedFields and status included; no encryption at rest, so it opens without an
# encryption config):
#   - 4 nodes, worker-3 NotReady for 7 minutes (its lease stopped, a pod evicted);
#   - pods Running, CrashLoopBackOff (shop/api), Pending (shop/worker: Insufficient cpu),
#     Completed (a CronJob's Job), Terminating (evicted from worker-3);
#   - Deployments, ReplicaSets, DaemonSets, a StatefulSet with its PVC and PV, a CronJob, an
#     HPA, a PDB, an Ingress, Services with Endpoints and EndpointSlices, ConfigMaps, Secrets,
#     ServiceAccounts, RBAC, priority classes, APIServices;
#   - cert-manager's Certificate CRD (apiextensions v1, printer columns) and its Certificates;
#   - Events of the last hour on a 3660 s lease, node and leader-election Leases, a masterlease;
#   - history: demo/settings edited 5 times, a compaction, a deleted and a re-created key;
#   - the findings of `revkeeper stale` and `leases`: a node lease without its Node
#     (worker-0), an orphaned ReplicaSet (demo/web-5f6d8), an Event without a lease, a custom
#     resource without its CRD (example.com/widgets), a namespace stuck Terminating (old-team), an event lease without keys.
#
# Reproducible: times are fixed relative to 2026-11-21T03:16:52Z (the newest node heartbeat,
# hence the estimated snapshot time), uids and name suffixes are hashes of kind/namespace/name;
# only etcd's own ids (cluster, member, leases) differ between runs. The db is defragmented
# before the snapshot, which must stay under 1 MiB (it is embedded in the binary).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run -q --example gen-sample -- testdata/sample.db
size=$(stat -c %s testdata/sample.db)
if [ "$size" -ge 1048576 ]; then
  echo "testdata/sample.db is $size bytes: over 1 MiB" >&2
  exit 1
fi
echo "testdata/sample.db: $size bytes"
