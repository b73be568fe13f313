#!/usr/bin/env bash
# Benchmarks decoding Kubernetes objects. A real etcd is filled with protobuf-stored objects
# (`examples/load-k8s.rs`: ConfigMaps, Secrets, node Leases as kube-apiserver writes them) and
# saved as a real snapshot; then, page cache warm:
#   1. revkeeper get --snapshot F --prefix /registry/ -o jsonl   decode every object to JSON lines
#   2. revkeeper dump --snapshot F DIR                            every object to a YAML file, all cores
#   3. etcdctl get --prefix /registry/ --write-out=json           on the same data, served by etcd
# and prints wall time, objects/s, objects/s per core used (user+sys CPU), and peak RSS.
#
# Usage: scripts/bench-decode.sh [--objects N] [--skip-dump] [--skip-live]
#   --objects    default 1000000 (the README figures use 1M)
#   --skip-dump  leave out dump (writing and removing 1M files takes minutes on a slow disk)
#   --skip-live  leave out the live decode (revkeeper pages the range; see the README)
# Environment: ETCD_BIN (server; default: the vendored etcd the tests use), ETCDCTL_BIN,
# BENCH_DIR (work directory, default bench-out/, gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-etcd.sh

OBJECTS=1000000
DUMP=1
LIVE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --objects) OBJECTS=$2; shift 2 ;;
    --skip-dump) DUMP=0; shift ;;
    --skip-live) LIVE=0; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bench-decode: unknown argument $1" >&2; exit 3 ;;
  esac
done
say() { echo "bench-decode: $*" >&2; }

[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; } >&2
ETCDCTL=${ETCDCTL_BIN:-.etcd-tools/3.5/usr/bin/etcdctl}
if [ ! -x "$ETCDCTL" ]; then
  say "etcdctl 3.5 not found; fetching it with ../shared/tools/fetch-etcd-tools.sh"
  sh ../shared/tools/fetch-etcd-tools.sh .etcd-tools >&2
fi
say "building (release)"
cargo build --release --quiet --bin revkeeper --example load-k8s --example load-etcd
RK=target/release/revkeeper
ETCD=${ETCD_BIN:-$(target/release/examples/load-etcd --print-etcd-bin)}

OUT=${BENCH_DIR:-bench-out}
WORK="$OUT/decode"
rm -rf "$WORK"
mkdir -p "$WORK"
start_bench_etcd "$WORK"
trap 'kill "$ETCD_PID" 2>/dev/null; wait "$ETCD_PID" 2>/dev/null || true; rm -rf "$WORK/dump"' EXIT
wait_bench_etcd
say "loading $OBJECTS objects into etcd on $EP"
target/release/examples/load-k8s --endpoints "$EP" --objects "$OBJECTS"
SNAP="$WORK/snap.db"
"$ETCDCTL" --endpoints "$EP" snapshot save "$SNAP" >/dev/null 2>&1
say "snapshot $(du -h "$SNAP" | cut -f1)"
cat "$SNAP" >/dev/null

# Runs a command with output to /dev/null; prints "wall user+sys maxrss_kib".
measure() {
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || {
    echo "bench-decode: failed: $* ($(grep -v '^Command exited' "$WORK/stderr" | tail -n1))" >&2; return 1; }
  awk '{printf "%s %.2f %s", $1, $2 + $3, $4}' "$WORK/time"
}
report() { # name wall cpu rss
  awk -v n="$1" -v w="$2" -v c="$3" -v r="$4" -v o="$OBJECTS" 'BEGIN {
    printf "%-34s %8.2fs %10.0f obj/s %10.0f obj/s/core %8.0f MiB\n", n, w, o / w, o / c, r / 1024 }'
}

echo "decode benchmark: $OBJECTS objects, snapshot $(du -h "$SNAP" | cut -f1), $(nproc) CPUs"
printf '%-34s %9s %16s %21s %12s\n' method wall rate "per core (cpu time)" "peak RSS"
m=$(measure "$RK" get --snapshot "$SNAP" --prefix /registry/ -o jsonl) || exit 1
report "revkeeper get -o jsonl (snapshot)" $m
if [ "$DUMP" = 1 ]; then
  m=$(measure "$RK" dump --snapshot "$SNAP" "$WORK/dump") || exit 1
  report "revkeeper dump (snapshot, $(nproc) jobs)" $m
fi
m=$(measure "$ETCDCTL" --endpoints "$EP" --command-timeout 600s get --prefix /registry/ --write-out=json) || exit 1
report "etcdctl get -w json (raw, live)" $m
etcdctl_wall=${m%% *}
if [ "$LIVE" = 1 ]; then
  m=$(measure "$RK" get --endpoints "$EP" --command-timeout 600s --prefix /registry/ -o jsonl) || exit 1
  report "revkeeper get -o jsonl (live)" $m
  awk -v a="${m%% *}" -v b="$etcdctl_wall" 'BEGIN {printf "live: revkeeper decode takes %.2fx the time of etcdctl raw JSON\n", a / b}'
fi
