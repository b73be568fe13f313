#!/usr/bin/env bash
# Benchmarks `revkeeper leases` + `revkeeper stale` on a large snapshot against scans of the same
# file: `get --prefix / -o json` (raw records), `get --prefix / --decode -o json` (every value
# decoded) and `analyze` (decoded, aggregated), one run each after a warm-up, with wall time and
# peak RSS (/usr/bin/time). Target: leases + stale <= 2x the decode scan.
#
# Usage: scripts/bench-inspect.sh [--keys N] [--size 512MiB] [--protobuf] [SNAPSHOT.db]
#   SNAPSHOT   an existing snapshot to measure (skips building one)
#   --keys     keys to load when building (default 1000000)
#   --size     bytes of values to load (default 512MiB; JSON data only)
#   --protobuf build with examples/load-k8s.rs (protobuf objects as kube-apiserver stores them,
#              the data of scripts/bench-decode.sh) instead of examples/load-etcd.rs (JSON-ish
#              keys in namespaces ns-00..ns-96, which are created too; 25% of values
#              encrypted-looking, Events without leases)
# The snapshot is saved with `revkeeper snapshot save`. Work dir: BENCH_DIR (default bench-out/).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-etcd.sh

KEYS=1000000
SIZE=512MiB
SNAP=""
LOADER=load-etcd
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) KEYS=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --protobuf) LOADER=load-k8s; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "bench-inspect: unknown argument $1" >&2; exit 3 ;;
    *) SNAP=$1; shift ;;
  esac
done
say() { echo "bench-inspect: $*" >&2; }
[ -x /usr/bin/time ] || { say "please install GNU time (apt-get install time)"; exit 1; }

cargo build --release --quiet --bin revkeeper --example load-etcd --example load-k8s
RK=target/release/revkeeper
OUT=${BENCH_DIR:-bench-out}
mkdir -p "$OUT"

if [ -z "$SNAP" ]; then
  ETCDCTL=${ETCDCTL_BIN:-.etcd-tools/3.5/usr/bin/etcdctl}
  [ -x "$ETCDCTL" ] || sh ../shared/tools/fetch-etcd-tools.sh .etcd-tools >&2
  ETCD=${ETCD_BIN:-$(target/release/examples/load-etcd --print-etcd-bin)}
  WORK="$OUT/inspect-run"
  rm -rf "$WORK"; mkdir -p "$WORK"
  start_bench_etcd "$WORK"
  trap 'kill "$ETCD_PID" 2>/dev/null; wait "$ETCD_PID" 2>/dev/null || true' EXIT
  wait_bench_etcd
  if [ "$LOADER" = load-k8s ]; then names=$(seq -f 'ns-%03g' 0 199; echo kube-node-lease)
  else names=$(seq -f 'ns-%02g' 0 96); fi
  for ns in $names; do
    "$ETCDCTL" --endpoints "$EP" put "/registry/namespaces/$ns" \
      "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ns\",\"uid\":\"uid-$ns\"}}" >/dev/null
  done
  if [ "$LOADER" = load-k8s ]; then
    say "loading $KEYS protobuf objects"
    target/release/examples/load-k8s --endpoints "$EP" --objects "$KEYS" >&2
  else
    say "loading $KEYS keys, $SIZE of values"
    target/release/examples/load-etcd --endpoints "$EP" --keys "$KEYS" --bytes "$SIZE" >&2
  fi
  SNAP="$OUT/inspect-$LOADER-$KEYS.db"
  rm -f "$SNAP" "$SNAP.manifest.json"
  "$RK" snapshot save --endpoints "$EP" --compress none "$SNAP" >&2
  kill "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null || true
  trap - EXIT
fi

# "seconds peak-KiB" of one command, output discarded.
measure() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -n1; }

say "snapshot $SNAP ($(du -h "$SNAP" | cut -f1)); warming the page cache"
cat "$SNAP" >/dev/null
read -r raw_s raw_kb < <(measure "$RK" get --snapshot "$SNAP" --prefix / -o json)
read -r scan_s scan_kb < <(measure "$RK" get --snapshot "$SNAP" --prefix / --decode -o json)
read -r analyze_s analyze_kb < <(measure "$RK" analyze --snapshot "$SNAP")
read -r leases_s leases_kb < <(measure "$RK" leases --snapshot "$SNAP" -o json)
read -r stale_s stale_kb < <(measure "$RK" stale --snapshot "$SNAP" -o json)
keys=$("$RK" snapshot status "$SNAP" -w json | grep -o '"totalKey": *[0-9]*' | tr -dc 0-9)
findings=$("$RK" stale --snapshot "$SNAP" -o json | grep -c '"check"' || true)
printf '%-36s %10s %12s\n' "command ($keys keys, $findings findings)" "seconds" "peak RSS MiB"
printf '%-36s %10s %12d\n' "get --prefix / -o json (raw)" "$raw_s" $(( raw_kb / 1024 ))
printf '%-36s %10s %12d\n' "get --prefix / --decode -o json" "$scan_s" $(( scan_kb / 1024 ))
printf '%-36s %10s %12d\n' "analyze" "$analyze_s" $(( analyze_kb / 1024 ))
printf '%-36s %10s %12d\n' "leases -o json" "$leases_s" $(( leases_kb / 1024 ))
printf '%-36s %10s %12d\n' "stale -o json" "$stale_s" $(( stale_kb / 1024 ))
awk -v a="$leases_s" -v b="$stale_s" -v s="$scan_s" -v r="$raw_s" \
  'BEGIN { printf "leases + stale = %.2fs = %.2fx the decode scan (target <= 2x), %.2fx the raw scan\n", a + b, (a + b) / s, (a + b) / r }'
