#!/usr/bin/env bash
# Benchmarks continuous backups (`revkeeper backup run`) and point-in-time restore on a real etcd,
# in one run:
#   1. loads ~SIZE of Kubernetes-like data (examples/load-etcd), starts `backup run` (its full
#      snapshot of that data), then drives RATE puts/s of 1 KiB values for SECONDS
#      (examples/put-rate) while sampling the follower's /metrics every 0.2 s;
#      reports the follower's lag (p50/p99/max, in revisions and in seconds at that rate), its
#      CPU (% of one core over the load) and its peak RSS;
#   2. restores the revision EVENTS events after the full snapshot (`--to-revision`) and, for
#      comparison, the full snapshot alone (a plain restore), and reports the ratio.
# Goals (issue 14): p99 lag < 2 s at 5,000 puts/s, CPU <= 15% of one core, RSS < 256 MiB;
# restore 100,000 events after a ~1 GiB snapshot <= 1.2x the plain restore.
#
# Usage: scripts/bench-follow.sh [--size 1GiB] [--rate 5000] [--seconds 60] [--events 100000]
# Environment: ETCD_BIN (server; default the vendored etcd 3.6), BENCH_DIR (default bench-out/),
# REVKEEPER_BIN (the revkeeper measured; default this tree's release build).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-etcd.sh

SIZE=1GiB
RATE=5000
SECONDS_LOAD=60
EVENTS=100000
while [ $# -gt 0 ]; do
  case "$1" in
    --size) SIZE=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --seconds) SECONDS_LOAD=$2; shift 2 ;;
    --events) EVENTS=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "bench-follow: unknown argument $1" >&2; exit 3 ;;
  esac
done
say() { echo "bench-follow: $*" >&2; }

nice -n 19 cargo build --release --quiet --bin revkeeper --example load-etcd --example put-rate
RK=${REVKEEPER_BIN:-target/release/revkeeper}
LOADER=target/release/examples/load-etcd
PUTS=target/release/examples/put-rate
ETCD=${ETCD_BIN:-$("$LOADER" --print-etcd-bin)}
WORK=${BENCH_DIR:-bench-out}/follow
rm -rf "$WORK"
mkdir -p "$WORK/backups"

start_bench_etcd "$WORK"
FOLLOW_PID=""
cleanup() {
  [ -n "$FOLLOW_PID" ] && kill "$FOLLOW_PID" 2>/dev/null || true
  kill "$ETCD_PID" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
wait_bench_etcd

say "loading $SIZE into etcd ($EP)"
"$LOADER" --endpoints "$EP" --bytes "$SIZE" --keys $(( $(numfmt --from=iec "${SIZE%iB}") / 1000 )) >/dev/null

MPORT=$(( PORT + 7 ))
"$RK" backup run --endpoints "$EP" --dir "$WORK/backups" --delta-interval 1s \
  --full-interval 24h --metrics-addr "127.0.0.1:$MPORT" 2>"$WORK/follow.log" &
FOLLOW_PID=$!
say "waiting for the full snapshot"
until ls "$WORK"/backups/*.manifest.json >/dev/null 2>&1; do sleep 0.2; done
FULL_REV=$(python3 -c "import json,glob; print(json.load(open(glob.glob('$WORK/backups/*.manifest.json')[0]))['revision'])")
sleep 2

cpu_ticks() { awk '{print $14 + $15}' "/proc/$FOLLOW_PID/stat"; }
T0=$(cpu_ticks)
say "driving $RATE puts/s for ${SECONDS_LOAD}s"
"$PUTS" --endpoints "$EP" --rate "$RATE" --seconds "$SECONDS_LOAD" >"$WORK/puts.txt" &
PUTS_PID=$!
: >"$WORK/lag.txt"
while kill -0 "$PUTS_PID" 2>/dev/null; do
  curl -s "127.0.0.1:$MPORT/metrics" | awk '/^revkeeper_backup_lag_revisions /{print $2}' >>"$WORK/lag.txt" || true
  sleep 0.2
done
wait "$PUTS_PID"
T1=$(cpu_ticks)
LAST_REV=$(awk '{print $8}' "$WORK/puts.txt")
ACHIEVED=$(awk '{print $6}' "$WORK/puts.txt")
until [ "$(curl -s "127.0.0.1:$MPORT/metrics" | awk '/^revkeeper_backup_last_delta_revision /{print $2}')" -ge "$LAST_REV" ] 2>/dev/null; do sleep 0.2; done
RSS_KB=$(awk '/VmHWM/{print $2}' "/proc/$FOLLOW_PID/status")
kill -TERM "$FOLLOW_PID"; wait "$FOLLOW_PID" || true; FOLLOW_PID=""
CLK=$(getconf CLK_TCK)
CPU_PCT=$(awk -v a="$T0" -v b="$T1" -v c="$CLK" -v s="$SECONDS_LOAD" 'BEGIN{printf "%.1f", (b-a)/c/s*100}')
pct() { sort -n "$WORK/lag.txt" | awk -v q="$1" '{v[NR]=$1} END{if(NR==0){print 0; exit} i=int(NR*q)+1; if(i>NR)i=NR; print v[i]}'; }
P50=$(pct 0.5); P99=$(pct 0.99); MAX=$(pct 1)
SEGMENTS=$(ls "$WORK"/backups/*-delta-* | wc -l)
SEG_BYTES=$(du -cb "$WORK"/backups/*-delta-* | tail -1 | cut -f1)

TARGET=$(( FULL_REV + EVENTS ))
[ "$TARGET" -le "$LAST_REV" ] || TARGET=$LAST_REV
FULL_FILE=$(ls "$WORK"/backups/*.db.zst | head -1)
timed() { /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/restore.log"; cat "$WORK/time.txt"; }
rm -rf "$WORK/r-plain" "$WORK/r-point"
sync; read -r PLAIN_S PLAIN_KB < <(timed "$RK" snapshot restore "$FULL_FILE" --data-dir "$WORK/r-plain")
sync; read -r POINT_S POINT_KB < <(timed "$RK" snapshot restore "$WORK/backups" --to-revision "$TARGET" --data-dir "$WORK/r-point")

echo
echo "## backup run at $ACHIEVED puts/s of 1 KiB for ${SECONDS_LOAD}s (full snapshot at revision $FULL_REV, $SIZE loaded)"
echo
echo "| what | value | goal |"
echo "|---|---:|---|"
echo "| lag p50 / p99 / max (revisions) | $P50 / $P99 / $MAX | |"
awk -v p="$P99" -v r="$ACHIEVED" 'BEGIN{printf "| lag p99 (seconds at this rate) | %.2f | < 2 |\n", p/r}'
echo "| CPU of the follower (% of one core) | $CPU_PCT | <= 15 |"
echo "| peak RSS of the follower | $(( RSS_KB / 1024 )) MiB | < 256 MiB |"
echo "| delta segments written | $SEGMENTS, $(( SEG_BYTES / 1024 / 1024 )) MiB | |"
echo
echo "## restore $(( TARGET - FULL_REV )) events after the full snapshot"
echo
echo "| restore | seconds | peak RSS | ratio |"
echo "|---|---:|---:|---:|"
echo "| plain (the full snapshot) | $PLAIN_S | $(( PLAIN_KB / 1024 )) MiB | 1.00 |"
awk -v a="$POINT_S" -v b="$PLAIN_S" -v k="$POINT_KB" -v t="$TARGET" 'BEGIN{printf "| --to-revision %d | %s | %d MiB | %.2f (goal <= 1.2) |\n", t, a, k/1024, a/b}'
