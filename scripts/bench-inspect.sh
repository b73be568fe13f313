#!/usr/bin/env bash
# Benchmarks `revkeeper inspect` (`stale` + `leases` in one pass) on the realistic snapshot
# against the decode scan of the same file (`get --prefix /registry/ --decode -o jsonl`, every
# value decoded), one run each after a warm-up, with wall time, CPU time and peak RSS
# (/usr/bin/time). Goal (issue 16): the one pass for both <= 1.0x the decode scan, RSS <= the
# snapshot + 512 MiB.
#
# Usage: scripts/bench-inspect.sh [--objects N] [--raw] [SNAPSHOT.db]
#   SNAPSHOT   an existing snapshot to measure (with ENCRYPTION_CONFIG if cluster-dev's is not
#              its key)
#   --objects  size of the realistic cluster (scripts/gen-realistic.sh; default 1000000;
#              --keys is the same)
#   --raw      also the raw scan (`get --prefix / -o json`; it holds every record in memory:
#              about 4x the snapshot)
# Environment: ENCRYPTION_CONFIG (default ../shared/fixtures/cluster-dev/encryption-config.yaml),
# BENCH_DIR (default bench-out/).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-etcd.sh

OBJECTS=1000000
SNAP=""
RAW=""
while [ $# -gt 0 ]; do
  case "$1" in
    --objects|--keys) OBJECTS=$2; shift 2 ;;
    --raw) RAW=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
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

T=${BENCH_DIR:-bench-out}/inspect.time
# "seconds cpu-seconds peak-KiB" of one command, its output into $2 ("-": discarded).
measure() {
  local out=$1; shift
  [ "$out" != - ] || out=/dev/null
  /usr/bin/time -f "%e %U %S %M" -o "$T" "$@" >"$out" 2>/dev/null || { say "failed: $*"; exit 1; }
  awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$T"
}

say "snapshot $SNAP ($(du -h "$SNAP" | cut -f1)); warming the page cache"
cat "$SNAP" >/dev/null
REPORT=${BENCH_DIR:-bench-out}/inspect.json
raw=""
[ -z "$RAW" ] || raw=$(measure - "$RK" get --snapshot "$SNAP" --prefix / -o json)
read -r scan_s scan_cpu scan_kb < <(measure - "$RK" get --snapshot "$SNAP" --prefix /registry/ --decode -o jsonl --encryption-config "$ENC")
read -r both_s both_cpu both_kb < <(measure "$REPORT" "$RK" inspect --snapshot "$SNAP" -o json --encryption-config "$ENC")
keys=$(grep -o '"keys": *[0-9]*' "$REPORT" | head -1 | tr -dc 0-9)
findings=$(grep -c '"check"' "$REPORT" || true)
leases=$(grep -c '"class"' "$REPORT" || true)
rm -f "$T" "$REPORT"
snap_mib=$(( $(stat -c %s "$SNAP") / 1024 / 1024 ))
{
  echo "inspect benchmark: $SNAP ($snap_mib MiB, $keys keys, $leases leases, $findings findings), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
  printf '%-44s %10s %12s %12s\n' "command" "seconds" "CPU seconds" "peak RSS MiB"
  if [ -n "$raw" ]; then
    read -r raw_s raw_cpu raw_kb <<<"$raw"
    printf '%-44s %10s %12s %12d\n' "get --prefix / -o json (raw scan)" "$raw_s" "$raw_cpu" $(( raw_kb / 1024 ))
  fi
  printf '%-44s %10s %12s %12d\n' "get --decode -o jsonl (decode scan)" "$scan_s" "$scan_cpu" $(( scan_kb / 1024 ))
  printf '%-44s %10s %12s %12d\n' "inspect -o json (stale + leases, one pass)" "$both_s" "$both_cpu" $(( both_kb / 1024 ))
  awk -v b="$both_s" -v bc="$both_cpu" -v s="$scan_s" -v sc="$scan_cpu" -v kb="$both_kb" -v m="$snap_mib" \
    'BEGIN { rss = kb / 1024
      printf "stale + leases (inspect) = %.2fs = %.2fx the decode scan (goal <= 1.0x), CPU %.2fx; peak RSS %.0f MiB = snapshot + %.0f MiB (goal <= + 512)\n", b, b / s, bc / sc, rss, rss - m }'
} | tee "${BENCH_DIR:-bench-out}/bench-inspect.txt"
