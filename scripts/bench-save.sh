#!/usr/bin/env bash
# Benchmarks `revkeeper snapshot save` against `etcdctl snapshot save` on a real etcd filled with
# Kubernetes-like data. Methods run alternately (rotating order each round) in one invocation:
#   1. etcdctl snapshot save                    (etcd 3.5 client from .etcd-tools)
#   2. revkeeper snapshot save   (zstd -3, multi-threaded, pipelined with the stream)
#   3. revkeeper snapshot save --compress none
#   4. etcdctl snapshot save, then zstd -3 -T0  (sequentially)
# and prints the median wall time, its ratio to etcdctl, the peak RSS (/usr/bin/time -v) and the
# file size (and how many times smaller than etcdctl's) as a table.
#
# Usage: scripts/bench-save.sh [--size 1GiB] [--keys N] [--rounds 3] [--random-percent 25]
#   --size      bytes of values to load (KiB/MiB/GiB suffixes; default 1GiB)
#   --keys      number of keys (default: about 1M per GiB)
#   --rounds    runs of each method (default 3; the median is reported)
# Environment: ETCD_BIN (server; default: the vendored etcd 3.6 the tests use), ETCDCTL_BIN,
# BENCH_DIR (work directory, default bench-out/, gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-etcd.sh

SIZE=1GiB
KEYS=""
ROUNDS=3
RANDOM_PERCENT=25
while [ $# -gt 0 ]; do
  case "$1" in
    --size) SIZE=$2; shift 2 ;;
    --keys) KEYS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --random-percent) RANDOM_PERCENT=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
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
if [ ! -x "$ETCDCTL" ]; then
  say "etcdctl 3.5 not found; fetching it with ../shared/tools/fetch-etcd-tools.sh"
  sh ../shared/tools/fetch-etcd-tools.sh .etcd-tools >&2
fi

say "building (release)"
cargo build --release --quiet --bin revkeeper --example load-etcd
RK=target/release/revkeeper
LOADER=target/release/examples/load-etcd
ETCD=${ETCD_BIN:-$("$LOADER" --print-etcd-bin)}

# --- a real etcd ---------------------------------------------------------------------------
OUT=${BENCH_DIR:-bench-out}
WORK="$OUT/run"
rm -rf "$WORK"
mkdir -p "$WORK"
start_bench_etcd "$WORK"
trap 'kill "$ETCD_PID" 2>/dev/null; wait "$ETCD_PID" 2>/dev/null || true' EXIT
wait_bench_etcd
say "etcd $("$ETCD" --version | head -n1 | awk '{print $3}') on $EP; loading $SIZE in $KEYS keys ($RANDOM_PERCENT% random)"
"$LOADER" --endpoints "$EP" --bytes "$BYTES" --keys "$KEYS" --random-percent "$RANDOM_PERCENT"
DB_SIZE=$("$ETCDCTL" --endpoints "$EP" endpoint status -w json | grep -o '"dbSize":[0-9]*' | cut -d: -f2)
say "db size: $(( DB_SIZE / 1024 / 1024 )) MiB"

# --- the methods ---------------------------------------------------------------------------
NAMES=("etcdctl snapshot save" "revkeeper (zstd -3)" "revkeeper --compress none" "etcdctl + zstd -3 -T0")
cmd_of() {
  case "$1" in
    0) echo "\"$ETCDCTL\" --endpoints $EP snapshot save $WORK/s.db" ;;
    1) echo "\"$RK\" snapshot save --endpoints $EP $WORK/s.db.zst" ;;
    2) echo "\"$RK\" snapshot save --endpoints $EP --compress none $WORK/s.db" ;;
    3) echo "\"$ETCDCTL\" --endpoints $EP snapshot save $WORK/t.db && zstd -3 -T0 -q --rm -f $WORK/t.db -o $WORK/t.db.zst" ;;
  esac
}
file_of() {
  case "$1" in
    0|2) echo "$WORK/s.db" ;;
    1) echo "$WORK/s.db.zst" ;;
    3) echo "$WORK/t.db.zst" ;;
  esac
}
clean() { rm -f "$WORK"/s.db "$WORK"/s.db.zst "$WORK"/t.db "$WORK"/t.db.zst "$WORK"/*.manifest.json "$WORK"/*.part; }

HZ=$(getconf CLK_TCK)
etcd_ticks() { awk '{ print $14 + $15 }' "/proc/$ETCD_PID/stat"; }
RESULTS="$OUT/bench-save.tsv"
: >"$RESULTS"
clean
say "warm-up run"
bash -c "$(cmd_of 0)" >/dev/null 2>&1
clean
for round in $(seq 1 "$ROUNDS"); do
  for k in 0 1 2 3; do
    m=$(( (k + round - 1) % 4 ))
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
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$wall" "$rss" "$size" "$cpu" "$ecpu" >>"$RESULTS"
    say "round $round: ${NAMES[$m]}: ${wall}s, client CPU ${cpu}s, etcd CPU ${ecpu}s, peak RSS $(( rss / 1024 )) MiB, $(( size / 1024 / 1024 )) MiB"
    clean
  done
done

# --- the table -----------------------------------------------------------------------------
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
stat_of() { awk -F'\t' -v m="$1" -v c="$2" '$1 == m { print $c }' "$RESULTS"; }
base_wall=$(stat_of 0 2 | median)
base_size=$(stat_of 0 4 | median)
{
  echo
  echo "snapshot save benchmark: $SIZE of values in $KEYS keys ($RANDOM_PERCENT% random), db $(( DB_SIZE / 1024 / 1024 )) MiB, $ROUNDS rounds, $(nproc) CPUs"
  printf '%-27s %11s %10s %11s %9s %12s %12s %10s\n' "method" "median wall" "vs etcdctl" "client CPU" "etcd CPU" "peak RSS" "file size" "smaller by"
  for m in 0 1 2 3; do
    wall=$(stat_of "$m" 2 | median)
    rss=$(stat_of "$m" 3 | sort -n | tail -n1)
    size=$(stat_of "$m" 4 | median)
    cpu=$(stat_of "$m" 5 | median)
    ecpu=$(stat_of "$m" 6 | median)
    awk -v n="${NAMES[$m]}" -v w="$wall" -v bw="$base_wall" -v r="$rss" -v s="$size" -v bs="$base_size" -v c="$cpu" -v e="$ecpu" 'BEGIN {
      printf "%-27s %10.2fs %9.2fx %10.2fs %8.2fs %8.1f MiB %8.1f MiB %9.2fx\n", n, w, w / bw, c, e, r / 1024, s / 1048576, bs / s }'
  done
  echo "(medians over the rounds; CPU = user + system seconds; peak RSS = the highest of the rounds; load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
  zw=$(stat_of 1 2 | median); zs=$(stat_of 1 4 | median); nw=$(stat_of 2 2 | median)
  awk -v zw="$zw" -v zs="$zs" -v nw="$nw" -v bw="$base_wall" -v bs="$base_size" 'BEGIN {
    z = (zw / bw <= 1.05 && bs / zs >= 2) ? "met" : "MISSED"
    p = (nw / bw <= 1.00) ? "met" : "MISSED"
    printf "targets: zstd <= 1.05x etcdctl time with a file >= 2x smaller: %s (%.2fx, %.2fx smaller); --compress none <= 1.00x: %s (%.2fx)\n", z, zw / bw, bs / zs, p, nw / bw }'
} | tee "$OUT/bench-save.txt"
