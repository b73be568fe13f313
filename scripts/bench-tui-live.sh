#!/usr/bin/env bash
# What long-lived readers cost a live etcd: a real etcd 3.5 serving the realistic snapshot, then
#   idle    nothing connected, for the window (the baseline);
#   tui     `revkeeper tui` on it in tmux, left on the overview: its first load (etcd CPU, bytes and
#           time, from the TUI's header), then the window after it;
#   backup  `revkeeper backup run` on it: after its full snapshot, the window (a delta segment,
#           with the lease table, at each --delta-interval that saw writes);
#   peer    the same as tui with another revkeeper binary (--peer BIN, e.g. main's build), for a
#           before/after figure (added to --modes when --peer is given without peer or backup-peer);
#   backup-peer  the same as backup with the --peer binary.
# etcd's CPU is utime+stime of its process (/proc/PID/stat) over each window; a light write load
# (--writes N per second, one key rewritten; default 1) runs in every window, so revisions move
# as on a real cluster and the baseline includes it.
#
# Usage: scripts/bench-tui-live.sh [--objects 100000] [--snapshot FILE] [--minutes 3]
#                                  [--modes idle,tui,backup,peer,backup-peer] [--peer BIN]
#                                  [--writes 1] [--bin BIN]
#   --modes runs in this order (tui,idle: the baseline after the TUI's load); --bin measures this
#   revkeeper binary instead of building one.
# Environment: ENCRYPTION_CONFIG (default ../shared/fixtures/cluster-dev/encryption-config.yaml),
# BENCH_DIR (default bench-out/), ETCD_BIN/ETCDUTL_BIN/ETCDCTL_BIN (default .etcd-tools/3.5).
# Needs tmux. Time 1M runs under `flock /work/bench.lock` (the machine has 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-etcd.sh

OBJECTS=100000
SNAPSHOT=""
MINUTES=3
MODES=idle,tui,backup
PEER_BIN=""
WRITES=1
RK=""
while [ $# -gt 0 ]; do
  case "$1" in
    --objects) OBJECTS=$2; shift 2 ;;
    --snapshot) SNAPSHOT=$2; shift 2 ;;
    --minutes) MINUTES=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    --peer) PEER_BIN=$(realpath "$2"); shift 2 ;;
    --writes) WRITES=$2; shift 2 ;;
    --bin) RK=$(realpath "$2"); shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "bench-tui-live: unknown argument $1" >&2; exit 3 ;;
  esac
done
[ -z "$PEER_BIN" ] || [[ ",$MODES," == *,peer,* || ",$MODES," == *,backup-peer,* ]] || MODES="$MODES,peer"
say() { echo "bench-tui-live: $*" >&2; }
command -v tmux >/dev/null || { say "please install tmux"; exit 1; }

[ -n "$SNAPSHOT" ] || SNAPSHOT=$(scripts/gen-realistic.sh --objects "$OBJECTS")
if [ -z "$RK" ]; then
  say "building (release)"
  bench_build
  RK=$PWD/$BIN/revkeeper
fi
ENC=$(realpath "${ENCRYPTION_CONFIG:-../shared/fixtures/cluster-dev/encryption-config.yaml}")
ETCD=${ETCD_BIN:-.etcd-tools/3.5/usr/bin/etcd}
ETCDUTL=${ETCDUTL_BIN:-.etcd-tools/3.5/usr/bin/etcdutl}
ETCDCTL=${ETCDCTL_BIN:-.etcd-tools/3.5/usr/bin/etcdctl}
WORK=${BENCH_DIR:-bench-out}/tui-live
rm -rf "$WORK"
mkdir -p "$WORK"
WINDOW=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 }')
TICK=$(getconf CLK_TCK)

SOCK=revkeeper-bench-live-$$
tm() { tmux -L "$SOCK" "$@"; }
screen() { tm capture-pane -p -t b 2>/dev/null || true; }
WRITER_PID=""
BACKUP_PID=""
cleanup() {
  tm kill-server 2>/dev/null || true
  [ -z "$WRITER_PID" ] || kill "$WRITER_PID" 2>/dev/null || true
  [ -z "$BACKUP_PID" ] || kill "$BACKUP_PID" 2>/dev/null || true
  [ -z "${ETCD_PID:-}" ] || { kill "$ETCD_PID" 2>/dev/null; wait "$ETCD_PID" 2>/dev/null || true; }
  rm -rf "$WORK/etcd" "$WORK/backups"
}
trap cleanup EXIT

say "snapshot: $SNAPSHOT ($(( $(stat -c %s "$SNAPSHOT") / 1024 / 1024 )) MiB); restoring into etcd $("$ETCD" --version | head -n1 | awk '{print $3}')"
serve_snapshot "$SNAPSHOT" "$WORK"
wait_bench_etcd
say "etcd on $EP (pid $ETCD_PID); leases: $("$ETCDCTL" --endpoints "$EP" lease list | tail -n +2 | wc -l)"

# etcd's CPU seconds so far (user + system).
cpu() { awk -v t="$TICK" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$ETCD_PID/stat"; }
# Seconds with two decimals since the epoch.
now() { date +%s.%N | cut -c1-14; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
pct() { awk -v c="$1" -v s="$2" 'BEGIN { printf "%.2f", 100 * c / s }'; }

if [ "$WRITES" != 0 ]; then
  ( n=0; while sleep "$(awk -v w="$WRITES" 'BEGIN { print 1 / w }')"; do
      n=$((n + 1)); "$ETCDCTL" --endpoints "$EP" put /bench/heartbeat "$n" >/dev/null 2>&1 || true
    done ) &
  WRITER_PID=$!
fi
sleep 5 # etcd settles after its start

# One window of WINDOW seconds: prints "CPU-seconds percent-of-a-core".
window() {
  local c0 c1
  c0=$(cpu); sleep "$WINDOW"; c1=$(cpu)
  echo "$(sub "$c1" "$c0") $(pct "$(sub "$c1" "$c0")" "$WINDOW")"
}

wait_for() { # text timeout-seconds
  local end=$(( $(date +%s) + $2 ))
  until screen | grep -qF -- "$1"; do
    [ "$(date +%s)" -lt "$end" ] || { say "timed out waiting for '$1'"; screen >&2; exit 1; }
    sleep 0.2
  done
}

# The TUI with binary $1 on the overview: first load, then the window. Prints a table row.
tui_run() {
  local bin=$1 label=$2 c0 t0 c1 t1 header w
  c0=$(cpu); t0=$(now)
  tm new-session -d -x 200 -y 45 -s b "$bin tui --endpoints $EP --encryption-config $ENC --readonly; sleep 100000"
  wait_for "Overview" 30
  # Loaded when the keyspace counts (no spinner) and the findings are in.
  local end=$(( $(date +%s) + 1800 ))
  until screen | grep -qE "Resources +[0-9]" && screen | grep -qE "Findings +[0-9]+ critical" &&
      ! screen | grep -q "scanning"; do
    [ "$(date +%s)" -lt "$end" ] || { say "the first load did not finish"; screen >&2; exit 1; }
    sleep 0.5
  done
  c1=$(cpu); t1=$(now)
  sleep 6 # the header's reads line comes with the next overview poll
  header=$(screen | head -n 1)
  say "$label header: $header"
  echo "$label first load: etcd $(sub "$c1" "$c0") CPU-s in $(sub "$t1" "$t0") s; $(echo "$header" | grep -oE 'first load [^·│]*' || echo 'first load: not in the header')"
  w=$(window)
  header=$(screen | head -n 1)
  echo "$label open ${MINUTES} min after the load: etcd $(echo "$w" | cut -d' ' -f1) CPU-s = $(echo "$w" | cut -d' ' -f2)% of a core; $(echo "$header" | grep -oE 'relists [0-9]+' || echo 'relists: not shown')"
  tm kill-server 2>/dev/null || true
  sleep 3
}

# `backup run` with binary $1: its full snapshot, then the window. Prints table rows.
backup_run() {
  local bin=$1 label=$2 c0 t0 end w segments
  [ -n "$bin" ] || { say "$label needs --peer BIN"; exit 3; }
  mkdir -p "$WORK/backups"
  c0=$(cpu); t0=$(now)
  "$bin" backup run --endpoints "$EP" --dir "$WORK/backups" >"$WORK/backup.log" 2>&1 &
  BACKUP_PID=$!
  end=$(( $(date +%s) + 1800 ))
  until grep -q "following this member" "$WORK/backup.log"; do
    kill -0 "$BACKUP_PID" 2>/dev/null || { cat "$WORK/backup.log" >&2; exit 1; }
    [ "$(date +%s)" -lt "$end" ] || { say "$label did not start following"; exit 1; }
    sleep 0.5
  done
  echo "$label full snapshot: etcd $(sub "$(cpu)" "$c0") CPU-s in $(sub "$(now)" "$t0") s"
  w=$(window)
  segments=$(grep -c "delta segment written" "$WORK/backup.log" || true)
  echo "$label ${MINUTES} min after the full snapshot: etcd $(echo "$w" | cut -d' ' -f1) CPU-s = $(echo "$w" | cut -d' ' -f2)% of a core; $segments delta segments (each with the lease table)"
  kill -TERM "$BACKUP_PID"; wait "$BACKUP_PID" 2>/dev/null || true; BACKUP_PID=""
  rm -rf "$WORK/backups"
}

for mode in ${MODES//,/ }; do
  case "$mode" in
    idle)
      w=$(window)
      echo "idle ${MINUTES} min (writes ${WRITES}/s): etcd $(echo "$w" | cut -d' ' -f1) CPU-s = $(echo "$w" | cut -d' ' -f2)% of a core"
      ;;
    tui) tui_run "$RK" "tui" ;;
    peer) tui_run "$PEER_BIN" "peer tui ($PEER_BIN)" ;;
    backup) backup_run "$RK" "backup run" ;;
    backup-peer) backup_run "$PEER_BIN" "peer backup run ($PEER_BIN)" ;;
    *) say "unknown mode $mode"; exit 3 ;;
  esac
done
say "load: $(uptime | sed 's/.*load average/load average/')"
