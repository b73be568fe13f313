#!/usr/bin/env bash
# Makes (once) the realistic benchmark snapshot and prints its path on stdout.
#
# A real etcd is filled by examples/load-realistic (a Kubernetes cluster built from the real
# objects of ../shared/fixtures/cluster-dev: Pods with status and managedFields, Events on shared
# leases, ReplicaSets, Deployments, Nodes and their Leases, ConfigMaps, Secrets encrypted at rest
# with cluster-dev's encryption-config.yaml, Services, CRs and their CRDs; ~1.35 writes per live
# object) and saved with `etcdctl snapshot save`. The snapshot is cached as
# BENCH_DIR/realistic/realistic-N-vV.db (N objects, V the generator's version, with a
# .stats.json beside it), so every benchmark reuses it; delete it to make it again.
#
# Usage: scripts/gen-realistic.sh [--objects N]     (default 1000000; 1M needs ~6 GB of disk)
# Decode it with: --encryption-config ../shared/fixtures/cluster-dev/encryption-config.yaml
# Environment: ETCD_BIN (server; default: the vendored etcd 3.6 the tests use), ETCDCTL_BIN,
# BENCH_DIR (default bench-out/, gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-etcd.sh

OBJECTS=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --objects) OBJECTS=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "gen-realistic: unknown argument $1" >&2; exit 3 ;;
  esac
done
say() { echo "gen-realistic: $*" >&2; }

bench_build
GEN=$BIN/examples/load-realistic
OUT=${BENCH_DIR:-bench-out}/realistic
SNAP="$OUT/realistic-$OBJECTS-v$("$GEN" --print-version).db"
if [ -f "$SNAP" ]; then
  say "cached: $SNAP"
  echo "$SNAP"
  exit 0
fi

ETCDCTL=${ETCDCTL_BIN:-.etcd-tools/3.5/usr/bin/etcdctl}
[ -x "$ETCDCTL" ] || sh ../shared/tools/fetch-etcd-tools.sh .etcd-tools >&2
ETCD=${ETCD_BIN:-$("$GEN" --print-etcd-bin)}
WORK="$OUT/gen-$$"
rm -rf "$WORK"
mkdir -p "$WORK"
start_bench_etcd "$WORK"
trap 'kill "$ETCD_PID" 2>/dev/null; wait "$ETCD_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
wait_bench_etcd
say "etcd $("$ETCD" --version | head -n1 | awk '{print $3}') on $EP; generating $OBJECTS objects"
"$GEN" --endpoints "$EP" --objects "$OBJECTS" --stats "$WORK/stats.json" >&2
"$ETCDCTL" --endpoints "$EP" snapshot save "$WORK/snap.db" >/dev/null 2>"$WORK/save.err" ||
  { cat "$WORK/save.err" >&2; exit 1; }
mv "$WORK/stats.json" "${SNAP%.db}.stats.json"
mv "$WORK/snap.db" "$SNAP"
say "saved $SNAP ($(du -h "$SNAP" | cut -f1))"
echo "$SNAP"
