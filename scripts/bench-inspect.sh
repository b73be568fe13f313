#!/usr/bin/env bash
# Benchmarks `revkeeper stale` + `revkeeper leases` on the realistic snapshot against the decode
# scan of the same file (`get --prefix /registry/ --decode -o jsonl`, every value decoded), and
# the raw scan (`get --prefix / -o json`), one run each after a warm-up, with wall time and peak
# RSS (/usr/bin/time). Goal (issue 16): stale + leases <= 1.0x the decode scan, RSS <= the
# snapshot + 512 MiB.
#
# Usage: scripts/bench-inspect.sh [--objects N] [SNAPSHOT.db]
#   SNAPSHOT   an existing snapshot to measure (with ENCRYPTION_CONFIG if cluster-dev's is not
#              its key)
#   --objects  size of the realistic cluster (scripts/gen-realistic.sh; default 1000000;
#              --keys is the same)
# Environment: ENCRYPTION_CONFIG (default ../shared/fixtures/cluster-dev/encryption-config.yaml),
# BENCH_DIR (default bench-out/).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-etcd.sh

OBJECTS=1000000
SNAP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --objects|--keys) OBJECTS=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "bench-inspect: unknown argument $1" >&2; exit 3 ;;
    *) SNAP=$1; shift ;;
  esac
done
say() { echo "bench-inspect: $*" >&2; }
[ -x /usr/bin/time ] || { say "please install GNU time (apt-get install time)"; exit 1; }
ENC=${ENCRYPTION_CONFIG:-../shared/fixtures/cluster-dev/encryption-config.yaml}
[ -n "$SNAP" ] || SNAP=$(scripts/gen-realistic.sh --objects "$OBJECTS")
bench_build
RK=$BIN/revkeeper

# "seconds peak-KiB" of one command, output discarded.
measure() {
  /usr/bin/time -f "%e %M" -o "${BENCH_DIR:-bench-out}/inspect.time" "$@" >/dev/null 2>/dev/null || {
    say "failed: $*"; exit 1; }
  cat "${BENCH_DIR:-bench-out}/inspect.time"
}

say "snapshot $SNAP ($(du -h "$SNAP" | cut -f1)); warming the page cache"
cat "$SNAP" >/dev/null
read -r raw_s raw_kb < <(measure "$RK" get --snapshot "$SNAP" --prefix / -o json)
read -r scan_s scan_kb < <(measure "$RK" get --snapshot "$SNAP" --prefix /registry/ --decode -o jsonl --encryption-config "$ENC")
read -r leases_s leases_kb < <(measure "$RK" leases --snapshot "$SNAP" -o json --encryption-config "$ENC")
read -r stale_s stale_kb < <(measure "$RK" stale --snapshot "$SNAP" -o json --encryption-config "$ENC")
rm -f "${BENCH_DIR:-bench-out}/inspect.time"
keys=$("$RK" snapshot status "$SNAP" -w json | grep -o '"totalKey": *[0-9]*' | tr -dc 0-9)
findings=$("$RK" stale --snapshot "$SNAP" -o json --encryption-config "$ENC" | grep -c '"check"' || true)
snap_mib=$(( $(stat -c %s "$SNAP") / 1024 / 1024 ))
{
  echo "inspect benchmark: $SNAP ($snap_mib MiB, $keys keys, $findings findings), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
  printf '%-40s %10s %12s\n' "command" "seconds" "peak RSS MiB"
  printf '%-40s %10s %12d\n' "get --prefix / -o json (raw scan)" "$raw_s" $(( raw_kb / 1024 ))
  printf '%-40s %10s %12d\n' "get --decode -o jsonl (decode scan)" "$scan_s" $(( scan_kb / 1024 ))
  printf '%-40s %10s %12d\n' "leases -o json" "$leases_s" $(( leases_kb / 1024 ))
  printf '%-40s %10s %12d\n' "stale -o json" "$stale_s" $(( stale_kb / 1024 ))
  awk -v a="$leases_s" -v b="$stale_s" -v s="$scan_s" -v r="$raw_s" -v ra="$leases_kb" -v rb="$stale_kb" -v m="$snap_mib" \
    'BEGIN { rss = (ra > rb ? ra : rb) / 1024
      printf "stale + leases = %.2fs = %.2fx the decode scan (goal <= 1.0x), %.2fx the raw scan; peak RSS %.0f MiB = snapshot + %.0f MiB (goal <= + 512)\n", a + b, (a + b) / s, (a + b) / r, rss, rss - m }'
} | tee "${BENCH_DIR:-bench-out}/bench-inspect.txt"
