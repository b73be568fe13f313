#!/usr/bin/env bash
# Benchmarks `revkeeper snapshot save` against `etcdctl snapshot save` on a real etcd, on two sets
# of data: the realistic cluster (scripts/gen-realistic.sh's cached snapshot, restored with
# etcdutl 3.5 and served by etcd) and incompressible data (examples/load-etcd.rs with
# --random-percent, encrypted-looking random values). Methods run alternately (rotating order
# each round) in one invocation:
#   1. etcdctl snapshot save                    (etcd 3.5 client from .etcd-tools)
#   2-4. revkeeper snapshot save --zstd-level 1 (the default), 2, 3, multi-threaded, pipelined
#   5. revkeeper snapshot save --compress none
#   6. etcdctl snapshot save, then zstd -3 -T0  (sequentially)
# and prints, per data set, the median wall time, its ratio to etcdctl, CPU, the peak RSS
# (/usr/bin/time -v) and the file size (and how many times smaller than etcdctl's).
#
# Usage: scripts/bench-save.sh [--data realistic|incompressible|both] [--objects N]
#                              [--size 1GiB] [--keys N] [--rounds 3] [--random-percent 100]
#   --data            which data sets (default both)
#   --objects         objects of the realistic cluster (default 1000000)
#   --snapshot FILE   the realistic cluster's snapshot, made before (instead of gen-realistic's)
#   --size, --keys    the incompressible data: bytes of values (KiB/MiB/GiB; default 1GiB) and
#                     keys (default: about 1M per GiB)
#   --random-percent  percent of random values in that data (default 100)
#   --rounds          runs of each method (default 3; the median is reported)
# Environment: ETCD_BIN (server; default: the vendored etcd 3.6 the tests use), ETCDCTL_BIN,
# ETCDUTL_BIN, BENCH_DIR (work directory, default bench-out/, gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-etcd.sh

SIZE=1GiB
KEYS=""
ROUNDS=3
RANDOM_PERCENT=100
DATA=both
OBJECTS=1000000
SNAP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA=$2; shift 2 ;;
    --objects) OBJECTS=$2; shift 2 ;;
    --snapshot) SNAP=$(realpath "$2"); shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --keys) KEYS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --random-percent) RANDOM_PERCENT=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "bench-save: unknown argument $1" >&2; exit 3 ;;
  esac
done

say() { echo "bench-save: $*" >&2; }

size_bytes() {
  awk -v s="$1" 'BEGIN {
    m = 1; n = s
    if (s ~ /GiB$|G$/) { m = 1024^3; sub(/GiB$|G$/, "", n) }
    else if (s ~ /MiB$|M$/) { m = 1024^2; sub(/MiB$|M$/, "", n) }
    else if (s ~ /KiB$|K$/) { m = 1024; sub(/KiB$|K$/, "", n) }
    printf "%d", n * m }'
}
BYTES=$(size_bytes "$SIZE")
[ -n "$KEYS" ] || KEYS=$(( BYTES / 1024 ))

# --- tools ---------------------------------------------------------------------------------
apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing $*"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >&2
  else
    say "please install: $*"; exit 1
  fi
}
command -v zstd >/dev/null 2>&1 || apt_install zstd
[ -x /usr/bin/time ] || apt_install time

ETCDCTL=${ETCDCTL_BIN:-.etcd-tools/3.5/usr/bin/etcdctl}
ETCDUTL=${ETCDUTL_BIN:-.etcd-tools/3.5/usr/bin/etcdutl}
if [ ! -x "$ETCDCTL" ] || [ ! -x "$ETCDUTL" ]; then
  say "etcdctl/etcdutl 3.5 not found; fetching them with ../shared/tools/fetch-etcd-tools.sh"
  sh ../shared/tools/fetch-etcd-tools.sh .etcd-tools >&2
fi
case "$DATA" in realistic|incompressible|both) ;; *) say "--data: realistic, incompressible or both"; exit 3 ;; esac

say "building (release)"
[ "$DATA" = incompressible ] || [ -n "$SNAP" ] || SNAP=$(scripts/gen-realistic.sh --objects "$OBJECTS")
bench_build --example load-etcd
RK=$BIN/revkeeper
LOADER=$BIN/examples/load-etcd
ETCD=${ETCD_BIN:-$("$LOADER" --print-etcd-bin)}
OUT=${BENCH_DIR:-bench-out}
WORK="$OUT/run"
HZ=$(getconf CLK_TCK)
etcd_ticks() { awk '{ print $14 + $15 }' "/proc/$ETCD_PID/stat"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- the methods ---------------------------------------------------------------------------
NAMES=("etcdctl snapshot save" "revkeeper (zstd -1, default)" "revkeeper --zstd-level 2" "revkeeper --zstd-level 3" "revkeeper --compress none" "etcdctl + zstd -3 -T0")
METHODS=${#NAMES[@]}
cmd_of() {
  case "$1" in
    0) echo "\"$ETCDCTL\" --endpoints $EP snapshot save $WORK/s.db" ;;
    1|2|3) echo "\"$RK\" snapshot save --endpoints $EP --zstd-level $1 $WORK/s.db.zst" ;;
    4) echo "\"$RK\" snapshot save --endpoints $EP --compress none $WORK/s.db" ;;
    5) echo "\"$ETCDCTL\" --endpoints $EP snapshot save $WORK/t.db && zstd -3 -T0 -q --rm -f $WORK/t.db -o $WORK/t.db.zst" ;;
  esac
}
file_of() {
  case "$1" in
    0|4) echo "$WORK/s.db" ;;
    1|2|3) echo "$WORK/s.db.zst" ;;
    5) echo "$WORK/t.db.zst" ;;
  esac
}
clean() { rm -f "$WORK"/s.db "$WORK"/s.db.zst "$WORK"/t.db "$WORK"/t.db.zst "$WORK"/*.manifest.json "$WORK"/*.part; }

# bench DATASET: a real etcd with that data, every method ROUNDS times, the table.
bench() {
  local data=$1 round k m cmd e0 e1 t0 t1 wall rss cpu ecpu size what
  rm -rf "$WORK"
  mkdir -p "$WORK"
  if [ "$data" = realistic ]; then
    serve_snapshot "$SNAP" "$WORK"
    what="realistic cluster of $OBJECTS objects ($(basename "$SNAP"))"
  else
    start_bench_etcd "$WORK"
    what="$SIZE of values in $KEYS keys ($RANDOM_PERCENT% random)"
  fi
  trap 'kill "$ETCD_PID" 2>/dev/null; wait "$ETCD_PID" 2>/dev/null || true' EXIT
  wait_bench_etcd
  if [ "$data" = incompressible ]; then
    say "etcd on $EP; loading $SIZE in $KEYS keys ($RANDOM_PERCENT% random)"
    "$LOADER" --endpoints "$EP" --bytes "$BYTES" --keys "$KEYS" --random-percent "$RANDOM_PERCENT"
  fi
  local db_size
  db_size=$("$ETCDCTL" --endpoints "$EP" endpoint status -w json | grep -o '"dbSize":[0-9]*' | cut -d: -f2)
  say "$data: etcd $("$ETCD" --version | head -n1 | awk '{print $3}') on $EP, db size $(( db_size / 1024 / 1024 )) MiB"
  local results="$OUT/bench-save-$data.tsv"
  : >"$results"
  clean
  say "warm-up run"
  bash -c "$(cmd_of 0)" >/dev/null 2>&1
  clean
  for round in $(seq 1 "$ROUNDS"); do
    for k in $(seq 0 $(( METHODS - 1 ))); do
      m=$(( (k + round - 1) % METHODS ))
      cmd=$(cmd_of "$m")
      e0=$(etcd_ticks)
      t0=$(date +%s%N)
      if ! /usr/bin/time -v -o "$WORK/time.txt" bash -c "$cmd" >/dev/null 2>"$WORK/err.txt"; then
        say "method '${NAMES[$m]}' failed:"; cat "$WORK/err.txt" >&2; exit 1
      fi
      t1=$(date +%s%N)
      e1=$(etcd_ticks)
      wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
      rss=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$WORK/time.txt")
      cpu=$(awk -F: '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$WORK/time.txt")
      ecpu=$(awk -v a="$e0" -v b="$e1" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz }')
      size=$(stat -c %s "$(file_of "$m")")
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$wall" "$rss" "$size" "$cpu" "$ecpu" >>"$results"
      say "$data round $round: ${NAMES[$m]}: ${wall}s, client CPU ${cpu}s, etcd CPU ${ecpu}s, peak RSS $(( rss / 1024 )) MiB, $(( size / 1024 / 1024 )) MiB"
      clean
    done
  done
  kill "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null || true
  trap - EXIT
  rm -rf "$WORK"

  stat_of() { awk -F'\t' -v m="$1" -v c="$2" '$1 == m { print $c }' "$results"; }
  local base_wall base_size
  base_wall=$(stat_of 0 2 | median)
  base_size=$(stat_of 0 4 | median)
  {
    echo
    echo "snapshot save benchmark, $data data: $what, db $(( db_size / 1024 / 1024 )) MiB, $ROUNDS rounds, $(nproc) CPUs"
    printf '%-29s %11s %10s %11s %9s %12s %12s %10s\n' "method" "median wall" "vs etcdctl" "client CPU" "etcd CPU" "peak RSS" "file size" "smaller by"
    for m in $(seq 0 $(( METHODS - 1 ))); do
      awk -v n="${NAMES[$m]}" -v w="$(stat_of "$m" 2 | median)" -v bw="$base_wall" -v r="$(stat_of "$m" 3 | sort -n | tail -n1)" \
        -v s="$(stat_of "$m" 4 | median)" -v bs="$base_size" -v c="$(stat_of "$m" 5 | median)" -v e="$(stat_of "$m" 6 | median)" 'BEGIN {
        printf "%-29s %10.2fs %9.2fx %10.2fs %8.2fs %8.1f MiB %8.1f MiB %9.2fx\n", n, w, w / bw, c, e, r / 1024, s / 1048576, bs / s }'
    done
    echo "(medians over the rounds; CPU = user + system seconds; peak RSS = the highest of the rounds; load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
    [ "$data" != realistic ] || awk -v zw="$(stat_of 1 2 | median)" -v bw="$base_wall" 'BEGIN {
      printf "goal: the default (zstd -1) <= 1.0x etcdctl on realistic data: %.2fx\n", zw / bw }'
  } | tee "$OUT/bench-save-$data.txt"
}

[ "$DATA" = incompressible ] || bench realistic
[ "$DATA" = realistic ] || bench incompressible
