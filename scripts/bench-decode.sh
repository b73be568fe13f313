#!/usr/bin/env bash
# Decoding every object of the realistic snapshot (scripts/gen-realistic.sh) to JSON lines,
# side by side with the Go reference decoder (../shared/tools/k8s-reference-decoder: Kubernetes'
# own codecs), in one run:
#   1. correctness: both outputs, streamed (nothing written to disk), must be equal object for
#      object (scripts/compare-jsonl.py; revkeeper's resourceVersion dropped); the first
#      difference fails the script, naming the object and the field;
#   2. timing, page cache warm, RUNS alternating runs of each (output to /dev/null):
#        revkeeper get --prefix /registry/ --decode -o jsonl --snapshot F --encryption-config E
#        k8s-reference-decoder -snapshot F -encryption-config E
#      median wall, CPU (user+sys), objects/s, peak RSS, and revkeeper's ratio to Go.
#
# Usage: scripts/bench-decode.sh [--objects N] [--runs 3] [--snapshot F] [--skip-check]
#   --objects     size of the generated cluster (default 1000000)
#   --snapshot    an existing snapshot instead (with ENCRYPTION_CONFIG if its Secrets need another)
#   --skip-check  timing only
# Environment: REFDEC_BIN (the reference decoder; default: built with its build.sh into
# REFDEC_WORK, default /tmp/k8s-reference-decoder), REVKEEPER_BIN (another build to measure;
# default: built now), ENCRYPTION_CONFIG (default cluster-dev's), BENCH_DIR (default bench-out/).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-etcd.sh

OBJECTS=1000000
RUNS=3
SNAP=""
CHECK=1
while [ $# -gt 0 ]; do
  case "$1" in
    --objects) OBJECTS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --snapshot) SNAP=$2; shift 2 ;;
    --skip-check) CHECK=0; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "bench-decode: unknown argument $1" >&2; exit 3 ;;
  esac
done
say() { echo "bench-decode: $*" >&2; }
[ -x /usr/bin/time ] || { say "please install GNU time (apt-get install time)"; exit 1; }
command -v python3 >/dev/null || { say "please install python3"; exit 1; }

ENC=${ENCRYPTION_CONFIG:-../shared/fixtures/cluster-dev/encryption-config.yaml}
REFDEC_WORK=${REFDEC_WORK:-/tmp/k8s-reference-decoder}
REF=${REFDEC_BIN:-$REFDEC_WORK/bin/k8s-reference-decoder}
if [ ! -x "$REF" ]; then
  say "building the reference decoder into $REFDEC_WORK (takes a few minutes)"
  REFDEC_WORK=$REFDEC_WORK nice -n 19 sh ../shared/tools/k8s-reference-decoder/build.sh >&2
fi
[ -n "$SNAP" ] || SNAP=$(scripts/gen-realistic.sh --objects "$OBJECTS")
if [ -n "${REVKEEPER_BIN:-}" ]; then RK=$REVKEEPER_BIN; else bench_build; RK=$BIN/revkeeper; fi
WORK=${BENCH_DIR:-bench-out}/decode
rm -rf "$WORK"
mkdir -p "$WORK"

OURS=("$RK" get --prefix /registry/ --decode -o jsonl --snapshot "$SNAP" --encryption-config "$ENC")
THEIRS=("$REF" -snapshot "$SNAP" -encryption-config "$ENC")

say "snapshot $SNAP ($(du -h "$SNAP" | cut -f1)); warming the page cache"
cat "$SNAP" >/dev/null
if [ "$CHECK" = 1 ]; then
  say "correctness: comparing both outputs object for object"
  if ! objects=$(python3 scripts/compare-jsonl.py <("${OURS[@]}" 2>"$WORK/ours.err") <("${THEIRS[@]}" 2>"$WORK/ref.err")); then
    say "revkeeper's output differs from the reference decoder's (above)"; exit 1
  fi
  for f in ours ref; do
    if [ -s "$WORK/$f.err" ]; then say "$f printed on stderr:"; head -n5 "$WORK/$f.err" >&2; exit 1; fi
  done
  say "correctness: $objects objects, equal"
else
  objects=$("${THEIRS[@]}" | wc -l)
fi

# "wall cpu maxrss_kib" of one run, output discarded.
measure() {
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || {
    say "failed: $* ($(tail -n1 "$WORK/stderr"))"; return 1; }
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$WORK/time"
}
: >"$WORK/runs"
for r in $(seq 1 "$RUNS"); do
  order="ours theirs"; [ $(( r % 2 )) = 1 ] || order="theirs ours"
  for who in $order; do
    if [ "$who" = ours ]; then m=$(measure "${OURS[@]}"); else m=$(measure "${THEIRS[@]}"); fi
    echo "$who $m" >>"$WORK/runs"
    say "run $r: $who $m"
  done
done
median() { sort -g | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
col() { awk -v w="$1" -v c="$2" '$1 == w {print $c}' "$WORK/runs" | median; }
{
  echo "decode benchmark: $objects objects, snapshot $(du -h "$SNAP" | cut -f1), $RUNS alternating runs, page cache warm, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
  printf '%-44s %9s %9s %12s %10s\n' "" "wall" "CPU" "objects/s" "peak RSS"
  for who in ours theirs; do
    name=$([ "$who" = ours ] && echo "revkeeper get --decode -o jsonl" || echo "Go reference decoder")
    awk -v n="$name" -v w="$(col "$who" 2)" -v c="$(col "$who" 3)" -v r="$(col "$who" 4)" -v o="$objects" 'BEGIN {
      printf "%-44s %8.2fs %8.2fs %12.0f %6.0f MiB\n", n, w, c, o / w, r / 1024 }'
  done
  awk -v w1="$(col ours 2)" -v w2="$(col theirs 2)" -v c1="$(col ours 3)" -v c2="$(col theirs 3)" \
    -v r1="$(col ours 4)" -v r2="$(col theirs 4)" 'BEGIN {
    printf "revkeeper / Go: wall %.2fx (goal <= 0.25x), CPU %.2fx, peak RSS %.2fx\n", w1 / w2, c1 / c2, r1 / r2 }'
} | tee "$WORK/result.txt"
