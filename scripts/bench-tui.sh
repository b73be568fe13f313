#!/usr/bin/env bash
# Measures `revkeeper tui` on a big snapshot: the time to the first frame, the time until the
# keyspace counts and the findings (the inspector's pass) are shown on the overview (background
# scans, goal for findings <= 8 s), opening the largest object list (every namespace), opening
# objects from it (goal <= 100 ms each), and key-press latency (a key handled and the screen
# redrawn) while browsing and filtering that list. Times are seen on the screen (tmux, polled
# every 20 ms).
#
# Usage: scripts/bench-tui.sh [--objects 1000000] [--snapshot FILE]
#   --objects   size of the realistic cluster (scripts/gen-realistic.sh, cached; a plain
#               snapshot, so opening it is a memory map; --keys is the same)
#   --snapshot  measure an existing snapshot instead
# Environment: ENCRYPTION_CONFIG (default ../shared/fixtures/cluster-dev/encryption-config.yaml),
# BENCH_DIR (default bench-out/), REVKEEPER_BIN (measure this binary instead of building one).
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
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "bench-tui: unknown argument $1" >&2; exit 3 ;;
  esac
done
say() { echo "bench-tui: $*" >&2; }
command -v tmux >/dev/null || { say "please install tmux"; exit 1; }

[ -n "$SNAPSHOT" ] || SNAPSHOT=$(scripts/gen-realistic.sh --objects "$OBJECTS")
if [ -n "${REVKEEPER_BIN:-}" ]; then
  RK=$(realpath "$REVKEEPER_BIN")
else
  say "building (release)"
  bench_build
  RK=$PWD/$BIN/revkeeper
fi
ENC=$(realpath "${ENCRYPTION_CONFIG:-../shared/fixtures/cluster-dev/encryption-config.yaml}")
OUT=${BENCH_DIR:-bench-out}
WORK="$OUT/tui"
mkdir -p "$WORK"
say "snapshot: $SNAPSHOT ($(( $(stat -c %s "$SNAPSHOT") / 1024 / 1024 )) MiB)"

TIMINGS="$WORK/timings.txt"
: >"$TIMINGS"
TIMINGS=$(realpath "$TIMINGS")
SOCK=revkeeper-bench-$$
tm() { tmux -L "$SOCK" "$@"; }
screen() { tm capture-pane -p -t b; }
wait_for() { # text timeout-seconds [grep flag: -F text (default), -E regex]
  local end=$(( $(date +%s) + $2 ))
  until screen | grep -q "${3:--F}" -- "$1"; do
    [ "$(date +%s)" -lt "$end" ] || { say "timed out waiting for '$1'"; screen >&2; exit 1; }
    sleep 0.02
  done
}
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
# CPU seconds the TUI process has used so far (user + system, all its threads): a figure the
# other load on a shared machine does not stretch as it stretches wall times.
TICKS=$(getconf CLK_TCK)
cpu_s() { awk -v t="$TICKS" '{ sub(/^.*\) /, ""); printf "%.1f", ($12 + $13) / t }' "/proc/$RK_PID/stat"; }
t0=$(date +%s%N)
tm new-session -d -x 160 -y 45 -s b "REVKEEPER_TUI_TIMINGS=$TIMINGS $RK tui --snapshot $SNAPSHOT --encryption-config $ENC; sleep 1000"
trap 'tm kill-server 2>/dev/null || true; [ -z "${ETCD_PID:-}" ] || kill "$ETCD_PID" 2>/dev/null || true' EXIT
wait_for "Overview" 10
first_ms=$(ms_since "$t0")
RK_PID=$(pgrep -n -f "^$RK tui --snapshot")
# The keyspace counts and the findings load side by side: note when each appears.
keys_ms=""; findings_ms=""
end=$(( $(date +%s) + 900 ))
while [ -z "$keys_ms" ] || [ -z "$findings_ms" ]; do
  s=$(screen)
  [ -n "$keys_ms" ] || ! grep -qF "Resources  " <<<"$s" || keys_ms=$(ms_since "$t0")
  if [ -z "$findings_ms" ] && grep -qE "Findings +[0-9]+ critical, " <<<"$s"; then
    findings_ms=$(ms_since "$t0"); findings_cpu=$(cpu_s)
  fi
  if grep -E "^ *Findings " <<<"$s" | grep -qvE "inspecting|critical, "; then
    say "the findings failed:"; echo "$s" >&2; exit 1
  fi
  [ "$(date +%s)" -lt "$end" ] || { say "timed out waiting for the keyspace and the findings"; echo "$s" >&2; exit 1; }
  sleep 0.02
done
findings_line=$(screen | grep -oE "[0-9]+ critical, [0-9]+ warning, [0-9]+ info" | head -1)
say "first frame after $first_ms ms; keyspace counts after $keys_ms ms; findings after $findings_ms ms ($findings_line)"

# Browse: the biggest resource across all namespaces, then move, page and filter in it.
tm send-keys -t b Enter; wait_for "Resources[" 10
tm send-keys -t b s s; sleep 0.3          # sort by object count, largest first
tm send-keys -t b Enter; wait_for "(namespaces)[" 10
t_list=$(date +%s%N); cpu_before_list=$(cpu_s)
tm send-keys -t b Enter; wait_for '\(all\)\[[1-9]' 300 -E
list_ms=$(ms_since "$t_list")
list_cpu=$(awk -v a="$cpu_before_list" -v b="$(cpu_s)" 'BEGIN { printf "%.1f", b - a }')
list_title=$(screen | grep -oE "[A-Za-z]+\(all\)\[[0-9]+\]" | head -1)
say "$list_title listed after $list_ms ms"
# Open five objects of the list, one after another (each read and decoded when asked).
open_ms=()
for _ in 1 2 3 4 5; do
  tm send-keys -t b j; sleep 0.1
  t_open=$(date +%s%N)
  tm send-keys -t b Enter; wait_for "apiVersion" 30
  open_ms+=("$(ms_since "$t_open")")
  tm send-keys -t b Escape; wait_for '\(all\)\[[1-9]' 10 -E
done
say "objects opened in ${open_ms[*]} ms"
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

{
  echo "tui benchmark: $SNAPSHOT ($(( $(stat -c %s "$SNAPSHOT") / 1024 / 1024 )) MiB), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
  awk '$1 == "first-frame" { printf "first frame (process start to drawn, in-process): %.1f ms\n", $2 }' "$TIMINGS"
  echo "first frame seen: $first_ms ms; keyspace counts: $keys_ms ms"
  awk '$1 == "phase" && !seen[$2]++ {
    printf "  first load, %s: %d ms, %.1f CPU-s (%.1f on its thread)\n", $2, $3, $4, $5 }' "$TIMINGS"
  echo "findings shown: $findings_ms ms, $findings_cpu CPU-s so far (goal <= 8000 ms): $findings_line"
  echo "largest list, every namespace ($list_title): $list_ms ms, $list_cpu CPU-s"
  printf '%s\n' "${open_ms[@]}" | sort -n | awk '{ v[NR] = $1 } END {
    printf "opening an object: median %d ms, max %d ms of %d (goal <= 100 ms)\n", v[int((NR + 1) / 2)], v[NR], NR }'
  awk '$1 == "key" { print $2 }' "$TIMINGS" | sort -n | awk '
    { v[NR] = $1 }
    END {
      if (NR == 0) exit
      printf "keys: %d, latency median %.1f ms, p95 %.1f ms, max %.1f ms\n", NR, v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.5)], v[NR]
    }'
} | tee "$OUT/bench-tui.txt"
