#!/usr/bin/env bash
# Measures `revkeeper tui` on a big snapshot: the time to the first frame, the time until the
# keyspace counts are filled in (background scan), and key-press latency (a key handled and the
# screen redrawn) while browsing and filtering a large list.
#
# Usage: scripts/bench-tui.sh [--objects 1000000] [--snapshot FILE]
#   --objects   size of the realistic cluster (scripts/gen-realistic.sh, cached; a plain
#               snapshot, so opening it is a memory map; --keys is the same)
#   --snapshot  measure an existing snapshot instead
# Environment: ENCRYPTION_CONFIG (default ../shared/fixtures/cluster-dev/encryption-config.yaml),
# BENCH_DIR (default bench-out/).
# Needs tmux (apt-get install tmux).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-etcd.sh

OBJECTS=1000000
SNAPSHOT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --objects|--keys) OBJECTS=$2; shift 2 ;;
    --snapshot) SNAPSHOT=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "bench-tui: unknown argument $1" >&2; exit 3 ;;
  esac
done
say() { echo "bench-tui: $*" >&2; }
command -v tmux >/dev/null || { say "please install tmux"; exit 1; }

[ -n "$SNAPSHOT" ] || SNAPSHOT=$(scripts/gen-realistic.sh --objects "$OBJECTS")
say "building (release)"
bench_build
RK=$PWD/$BIN/revkeeper
ENC=$(realpath "${ENCRYPTION_CONFIG:-../shared/fixtures/cluster-dev/encryption-config.yaml}")
OUT=${BENCH_DIR:-bench-out}
WORK="$OUT/tui"
mkdir -p "$WORK"
say "snapshot: $SNAPSHOT ($(( $(stat -c %s "$SNAPSHOT") / 1024 / 1024 )) MiB)"

TIMINGS="$WORK/timings.txt"
: >"$TIMINGS"
SOCK=revkeeper-bench-$$
tm() { tmux -L "$SOCK" "$@"; }
screen() { tm capture-pane -p -t b; }
wait_for() { # text timeout-seconds
  local end=$(( $(date +%s) + $2 ))
  until screen | grep -qF -- "$1"; do
    [ "$(date +%s)" -lt "$end" ] || { say "timed out waiting for '$1'"; screen >&2; exit 1; }
    sleep 0.02
  done
}
t0=$(date +%s%N)
tm new-session -d -x 160 -y 45 -s b "REVKEEPER_TUI_TIMINGS=$PWD/$TIMINGS $RK tui --snapshot $SNAPSHOT --encryption-config $ENC; sleep 1000"
trap 'tm kill-server 2>/dev/null || true; kill "${ETCD_PID:-0}" 2>/dev/null || true' EXIT
wait_for "Overview" 10
t1=$(date +%s%N)
wait_for "Resources  " 600
t2=$(date +%s%N)
say "first frame seen after $(( (t1 - t0) / 1000000 )) ms; keyspace counts filled after $(( (t2 - t0) / 1000000 )) ms"

# Browse: the biggest resource across all namespaces, then move, page and filter in it.
tm send-keys -t b Enter; wait_for "Resources[" 10
tm send-keys -t b s s; sleep 0.3          # sort by object count, largest first
tm send-keys -t b Enter; wait_for "(namespaces)[" 10
tm send-keys -t b Enter; wait_for "(all)[" 120
for _ in $(seq 1 40); do tm send-keys -t b j; sleep 0.05; done
for _ in $(seq 1 5); do tm send-keys -t b C-f; sleep 0.1; done
tm send-keys -t b G; sleep 0.2; tm send-keys -t b g; sleep 0.2
tm send-keys -t b /; sleep 0.1
for c in 1 2 3; do tm send-keys -t b -l "$c"; sleep 0.15; done
tm send-keys -t b Escape; sleep 0.3
tm send-keys -t b Enter; sleep 0.2
screen | sed -n 2p >&2
tm send-keys -t b Escape; sleep 0.2
tm send-keys -t b q
sleep 0.5

awk '$1 == "first-frame" { printf "first frame (process start to drawn, in-process): %.1f ms\n", $2 }' "$TIMINGS"
awk '$1 == "key" { print $2 }' "$TIMINGS" | sort -n | awk '
  { v[NR] = $1 }
  END {
    if (NR == 0) exit
    printf "keys: %d, latency median %.1f ms, p95 %.1f ms, max %.1f ms\n", NR, v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.5)], v[NR]
  }'
