#!/usr/bin/env bash
# Benchmarks backup locations: a bucket against a local directory, on a real etcd filled with
# Kubernetes-like data (examples/load-etcd) and a local S3 server (s3s-fs, started as the test
# harness starts it: tests/harness/src/s3.rs). Methods run alternately (rotating order each
# round) in one invocation:
#   saves     revkeeper snapshot save --dir LOCALDIR | --dir s3://bench/plain |
#             --dir s3://bench/age --encrypt-to AGE_RECIPIENT          (zstd -3, the default)
#   restores  revkeeper snapshot restore LOCAL.db.zst | s3://…/OBJECT | s3://…/OBJECT.age
#             --identity, each with --bump-revision 1000000000 --mark-compacted; and the raw
#             download of the object (curl, SigV4) the bucket restore is compared with;
#             and the server-side copy of the object (curl, CopyObject) that names it at the end
#             of a save (the revision is known only then).
# and prints the median wall time, client and server CPU, peak RSS (/usr/bin/time -v) and size
# as a table, with the targets of issue 13: save to the bucket <= 1.1x the local save, its peak
# RSS <= 128 MiB, restore from the bucket <= 1.2x (local restore + raw download).
#
# Usage: scripts/bench-locations.sh [--mib 1024] [--keys N] [--rounds 3] [--random-percent 25]
#   --mib       MiB of values to load (default 1024: a ~1.5 GiB db)
#   --keys      number of keys (default: 1024 per MiB)
#   --rounds    runs of each method (default 3; the median is reported)
# Environment: ETCD_BIN (server; default: the vendored etcd 3.6 the tests use), S3S_FS_BIN
# (default: where scripts/test.sh installs it), BENCH_DIR (work directory, default bench-out/).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-etcd.sh

MIB=1024
KEYS=""
ROUNDS=3
RANDOM_PERCENT=25
while [ $# -gt 0 ]; do
  case "$1" in
    --mib) MIB=$2; shift 2 ;;
    --keys) KEYS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --random-percent) RANDOM_PERCENT=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "bench-locations: unknown argument $1" >&2; exit 3 ;;
  esac
done
[ -n "$KEYS" ] || KEYS=$(( MIB * 1024 ))

say() { echo "bench-locations: $*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { say "please install $1 ($2)"; exit 1; }; }
need curl "apt-get install curl"
need age-keygen "apt-get install age"
[ -x /usr/bin/time ] || { say "please install time (apt-get install time)"; exit 1; }
S3S_FS=${S3S_FS_BIN:-${REVKEEPER_CACHE:-$HOME/.cache/revkeeper}/bin/s3s-fs}
[ -x "$S3S_FS" ] || { say "no s3s-fs at $S3S_FS: run scripts/test.sh once (it installs it) or set S3S_FS_BIN"; exit 1; }

say "building (release)"
cargo build --release --quiet --bin revkeeper --example load-etcd
RK=target/release/revkeeper
LOADER=target/release/examples/load-etcd
ETCD=${ETCD_BIN:-$("$LOADER" --print-etcd-bin)}

# --- a real etcd and a real S3 server --------------------------------------------------------
OUT=${BENCH_DIR:-bench-out}
WORK="$OUT/locations"
rm -rf "$WORK"
mkdir -p "$WORK/local" "$WORK/tmp" "$WORK/s3/bench"
WORK=$(cd "$WORK" && pwd)
start_bench_etcd "$WORK"
S3_PORT=$(( PORT + 2 ))
while ! port_free "$S3_PORT"; do S3_PORT=$(( S3_PORT + 1 )); done
S3_KEY="bench-$S3_PORT"
S3_SECRET=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
RUST_LOG=warn "$S3S_FS" --host 127.0.0.1 --port "$S3_PORT" --access-key "$S3_KEY" \
  --secret-key "$S3_SECRET" "$WORK/s3" >"$WORK/s3s-fs.log" 2>&1 &
S3_PID=$!
trap 'kill "$ETCD_PID" "$S3_PID" 2>/dev/null; wait "$ETCD_PID" "$S3_PID" 2>/dev/null || true; rm -rf "$WORK/etcd" "$WORK/s3" "$WORK/local" "$WORK/tmp" "$WORK"/restore*' EXIT
wait_bench_etcd
export AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_REGION=us-east-1 \
  AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT" AWS_ALLOW_HTTP=true TMPDIR="$WORK/tmp"
for _ in $(seq 1 100); do
  curl -s -o /dev/null "$AWS_ENDPOINT_URL/" && break
  sleep 0.1
done

age-keygen -o "$WORK/key.txt" 2>/dev/null
RECIPIENT=$(age-keygen -y "$WORK/key.txt")
# s3s-fs wants x-amz-content-sha256; curl signs it with the request.
CURL="curl -sSf --aws-sigv4 aws:amz:us-east-1:s3 -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' --user $S3_KEY:$S3_SECRET"

say "etcd $("$ETCD" --version | head -n1 | awk '{print $3}') on $EP, s3s-fs on $AWS_ENDPOINT_URL; loading $MIB MiB in $KEYS keys ($RANDOM_PERCENT% random)"
"$LOADER" --endpoints "$EP" --bytes "${MIB}MiB" --keys "$KEYS" --random-percent "$RANDOM_PERCENT"
DB_SIZE=$(stat -c %s "$WORK/etcd/member/snap/db")
say "db size: $(( DB_SIZE / 1024 / 1024 )) MiB"

# --- the methods ---------------------------------------------------------------------------
NAMES=("save --dir LOCALDIR" "save --dir s3://" "save --dir s3:// --encrypt-to"
  "restore LOCAL.db.zst" "raw download (curl)" "restore s3://…/OBJECT" "restore s3://…/OBJECT.age"
  "server-side copy (curl)")
SAVES=(0 1 2)
RESTORES=(3 4 5 6 7)
RESTORE_FLAGS="--bump-revision 1000000000 --mark-compacted"
# Where each save writes (emptied before it runs, so the last round's output stays for restores).
dest_of() {
  case "$1" in
    0) echo "$WORK/local" ;;
    1) echo "$WORK/s3/bench/plain" ;;
    2) echo "$WORK/s3/bench/age" ;;
  esac
}
snapshot_in() { find "$1" -maxdepth 1 -name 'etcd-*.db.zst*' ! -name '*.json' | head -n1; }
object_of() { echo "$(basename "$(snapshot_in "$WORK/s3/bench/$1")")"; }
cmd_of() {
  case "$1" in
    0) echo "\"$RK\" snapshot save --endpoints $EP --dir $WORK/local" ;;
    1) echo "\"$RK\" snapshot save --endpoints $EP --dir s3://bench/plain" ;;
    2) echo "\"$RK\" snapshot save --endpoints $EP --dir s3://bench/age --encrypt-to $RECIPIENT" ;;
    3) echo "\"$RK\" snapshot restore $(snapshot_in "$WORK/local") --data-dir $WORK/restore3 $RESTORE_FLAGS" ;;
    4) echo "$CURL -o $WORK/tmp/raw $AWS_ENDPOINT_URL/bench/plain/$(object_of plain)" ;;
    5) echo "\"$RK\" snapshot restore s3://bench/plain/$(object_of plain) --data-dir $WORK/restore5 $RESTORE_FLAGS" ;;
    6) echo "\"$RK\" snapshot restore s3://bench/age/$(object_of age) --identity $WORK/key.txt --data-dir $WORK/restore6 $RESTORE_FLAGS" ;;
    7) echo "$CURL -X PUT -H 'x-amz-copy-source: /bench/plain/$(object_of plain)' $AWS_ENDPOINT_URL/bench/copy/$(object_of plain)" ;;
  esac
}
size_of() {
  case "$1" in
    0|1|2) stat -c %s "$(snapshot_in "$(dest_of "$1")")" ;;
    4) stat -c %s "$WORK/tmp/raw" ;;
    7) stat -c %s "$(snapshot_in "$WORK/s3/bench/copy")" ;;
    *) du -sb "$WORK/restore$1" | cut -f1 ;;
  esac
}
before() { case "$1" in 0|1|2) rm -rf "$(dest_of "$1")"; mkdir -p "$(dest_of "$1")" ;; esac; }
after() { rm -rf "$WORK/restore$1" "$WORK/tmp/raw" "$WORK/s3/bench/copy"; }

HZ=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
RESULTS="$OUT/bench-locations.tsv"
: >"$RESULTS"
run_method() {
  local m=$1 round=$2 cmd e0 s0 t0 t1 e1 s1 wall rss cpu ecpu scpu size
  before "$m"
  cmd=$(cmd_of "$m")
  e0=$(ticks "$ETCD_PID"); s0=$(ticks "$S3_PID")
  t0=$(date +%s%N)
  if ! /usr/bin/time -v -o "$WORK/time.txt" bash -c "$cmd" >/dev/null 2>"$WORK/err.txt"; then
    say "method '${NAMES[$m]}' failed:"; cat "$WORK/err.txt" >&2; exit 1
  fi
  t1=$(date +%s%N)
  e1=$(ticks "$ETCD_PID"); s1=$(ticks "$S3_PID")
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  rss=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$WORK/time.txt")
  cpu=$(awk -F: '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$WORK/time.txt")
  ecpu=$(awk -v a="$e0" -v b="$e1" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz }')
  scpu=$(awk -v a="$s0" -v b="$s1" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz }')
  size=$(size_of "$m")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$wall" "$rss" "$size" "$cpu" "$ecpu" "$scpu" >>"$RESULTS"
  say "round $round: ${NAMES[$m]}: ${wall}s, client CPU ${cpu}s, etcd CPU ${ecpu}s, s3s-fs CPU ${scpu}s, peak RSS $(( rss / 1024 )) MiB, $(( size / 1024 / 1024 )) MiB"
  after "$m"
}

say "warm-up save"
run_method 0 0 && : >"$RESULTS"
for round in $(seq 1 "$ROUNDS"); do
  for k in 0 1 2; do run_method "${SAVES[$(( (k + round - 1) % 3 ))]}" "$round"; done
done
for round in $(seq 1 "$ROUNDS"); do
  for k in 0 1 2 3 4; do run_method "${RESTORES[$(( (k + round - 1) % 5 ))]}" "$round"; done
done

# --- the table -----------------------------------------------------------------------------
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
stat_of() { awk -F'\t' -v m="$1" -v c="$2" '$1 == m { print $c }' "$RESULTS"; }
wall_of() { stat_of "$1" 2 | median; }
{
  echo
  echo "locations benchmark: $MIB MiB of values in $KEYS keys ($RANDOM_PERCENT% random), db $(( DB_SIZE / 1024 / 1024 )) MiB, $ROUNDS rounds, $(nproc) CPUs"
  printf '%-30s %11s %9s %11s %9s %11s %12s %11s\n' "method" "median wall" "ratio" "client CPU" "etcd CPU" "s3s-fs CPU" "peak RSS" "size"
  for m in 0 1 2 3 4 5 6 7; do
    case $m in
      0|1|2) base=$(wall_of 0) ;;
      3|4|7) base="" ;;
      *) base=$(awk -v a="$(wall_of 3)" -v b="$(wall_of 4)" 'BEGIN { print a + b }') ;;
    esac
    awk -v n="${NAMES[$m]}" -v w="$(wall_of "$m")" -v b="$base" -v r="$(stat_of "$m" 3 | sort -n | tail -n1)" \
      -v s="$(stat_of "$m" 4 | median)" -v c="$(stat_of "$m" 5 | median)" -v e="$(stat_of "$m" 6 | median)" \
      -v f="$(stat_of "$m" 7 | median)" 'BEGIN {
      ratio = (b == "") ? "" : sprintf("%.2fx", w / b)
      printf "%-30s %10.2fs %9s %10.2fs %8.2fs %10.2fs %8.1f MiB %7.0f MiB\n", n, w, ratio, c, e, f, r / 1024, s / 1048576 }'
  done
  echo "(medians over the rounds; saves compare with the local save, bucket restores with local restore + raw download;"
  echo " CPU = user + system seconds; peak RSS = the highest of the rounds; size = file, download or restored data dir;"
  echo " load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
  awk -v l="$(wall_of 0)" -v s="$(wall_of 1)" -v rss="$(stat_of 1 3 | sort -n | tail -n1)" \
    -v rl="$(wall_of 3)" -v dl="$(wall_of 4)" -v rs="$(wall_of 5)" 'BEGIN {
    a = (s / l <= 1.1) ? "met" : "MISSED"
    b = (rss / 1024 <= 128) ? "met" : "MISSED"
    c = (rs / (rl + dl) <= 1.2) ? "met" : "MISSED"
    printf "targets: save to s3 <= 1.1x local: %s (%.2fx); its peak RSS <= 128 MiB: %s (%.1f MiB); restore from s3 <= 1.2x (local + download): %s (%.2fx)\n", a, s / l, b, rss / 1024, c, rs / (rl + dl) }'
  # When every core is busy, wall time is the CPU of everything that ran: the server's share is
  # this machine's, not the client's (a real bucket runs elsewhere).
  awk -v l="$(wall_of 0)" -v s="$(wall_of 1)" -v f="$(stat_of 1 7 | median)" \
    -v cl="$(stat_of 0 5 | median)" -v cs="$(stat_of 1 5 | median)" 'BEGIN {
    printf "save to s3 without the s3s-fs CPU on this machine: %.2fx local; client CPU %.2fx local\n", (s - f) / l, cs / cl }'
} | tee "$OUT/bench-locations.txt"
