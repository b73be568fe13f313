#!/usr/bin/env bash
# Offline benchmarks on one snapshot file, side by side with etcdutl 3.5 in one run:
#   status warm   revkeeper snapshot status  vs  etcdutl snapshot status  (page cache warm)
#   status cold   the same with the file evicted from the page cache before each run
#   restore       revkeeper snapshot restore vs  etcdutl snapshot restore
#                 (--bump-revision 1000000000 --mark-compacted; wall and peak RSS), and cp + sync
#                 of the same file (the floor)
#   started       restore + etcd 3.5 start until it serves with no compaction left to run:
#                 etcdutl's member compacts at start ("finished scheduled compaction" in its
#                 log); revkeeper's is pre-compacted (it must log "restored last compact
#                 revision", never "resume scheduled compaction")
#   scan          revkeeper get --prefix "" --keys-only: keys per second over the whole keyspace
# RUNS alternating runs of each pair (median); ratios are revkeeper / etcdutl. Restore runs start
# after "sync; sleep 5", so the previous run's writeback does not slow the next one.
# Usage: scripts/bench-offline.sh [--objects N] [--runs RUNS] [--status-only | --restore-only] [SNAPSHOT.db] [RUNS]
#   --status-only  the two status rows only
#   --restore-only the restore rows only (restore, cp + sync, started)
#   default SNAPSHOT: the realistic snapshot of N objects (default 1000000) made and cached by
#   scripts/gen-realistic.sh; RUNS default 5
# Environment: REVKEEPER_BIN (another build to measure, e.g. the previous release), ETCDUTL_BIN (default .etcd-tools/3.5), BENCH_DIR (default bench-out/),
#   REVKEEPER_BASE_BIN (a build to compare with: its restore and started rows run in the same rounds).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-etcd.sh
OBJECTS=1000000
STATUS_ONLY=0
RESTORE_ONLY=0
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --objects) OBJECTS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --status-only) STATUS_ONLY=1; shift ;;
    --restore-only) RESTORE_ONLY=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
snap=${args[0]:-}
runs=${args[1]:-${RUNS:-5}}
[ -n "$snap" ] || snap=$(scripts/gen-realistic.sh --objects "$OBJECTS")
[ -f "$snap" ] || { echo "bench-offline: no snapshot at $snap" >&2; exit 3; }
etcdutl=${ETCDUTL_BIN:-.etcd-tools/3.5/usr/bin/etcdutl}
[ -x "$etcdutl" ] || sh ../shared/tools/fetch-etcd-tools.sh .etcd-tools >/dev/null
if [ -n "${REVKEEPER_BIN:-}" ]; then rk=$REVKEEPER_BIN; else bench_build; rk=$BIN/revkeeper; fi
[ -x /usr/bin/time ] || { echo "bench-offline: please install GNU time" >&2; exit 1; }
work=$(mktemp -d "${BENCH_DIR:-bench-out}/offline.XXXXXX")
trap 'rm -rf "$work"' EXIT

# "wall maxrss_kib" of one command, output discarded.
t() { /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || {
  echo "bench-offline: failed: $* ($(tail -n1 "$work/err"))" >&2; exit 1; }; cat "$work/time"; }
# Evicts the file from the page cache (POSIX_FADV_DONTNEED; no root needed for clean pages).
evict() { python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$1"; }
settle() { sync; sleep 5; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
median() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }
row() { # name file-of-"wall rss"-lines-for-revkeeper file-for-etcdutl
  local ra rb ma mb
  ra=$(cut -d' ' -f1 "$2" | median); rb=$(cut -d' ' -f1 "$3" | median)
  ma=$(cut -d' ' -f2 "$2" | sort -n | tail -n1); mb=$(cut -d' ' -f2 "$3" | sort -n | tail -n1)
  awk -v n="$1" -v a="$ra" -v b="$rb" -v ma="$ma" -v mb="$mb" 'BEGIN {
    printf "%-14s %9.2fs %9.2fs %8.2fx %10.0f MiB %10.0f MiB %7.2fx\n", n, a, b, a / b, ma / 1024, mb / 1024, ma / mb }'
}
# pair NAME COLD ARGS...: RUNS alternating runs of "revkeeper ARGS" and "etcdutl ARGS"; COLD=1
# evicts the snapshot from the page cache before each run; a DIR argument becomes a fresh dir.
pair() {
  local name=$1 cold=$2 i who; shift 2
  : >"$work/a"; : >"$work/b"
  for i in $(seq "$runs"); do
    for who in a b; do
      [ $(( i % 2 )) = 1 ] || who=$([ "$who" = a ] && echo b || echo a)
      [ "$cold" = 1 ] && evict "$snap"
      [ "$cold" = 1 ] || [ "$1 $2" != "snapshot restore" ] || settle
      local argv=("${@/#DIR/$work/restore}")
      if [ "$who" = a ]; then t "$rk" "${argv[@]}" >>"$work/a"; else t "$etcdutl" "${argv[@]}" >>"$work/b"; fi
      rm -rf "$work/restore"
    done
  done
  [ "$cold" = 0 ] || cat "$snap" >/dev/null
  row "$name" "$work/a" "$work/b"
}

size=$(stat -c %s "$snap")
cat "$snap" >/dev/null
keys=$("$rk" get --snapshot "$snap" --prefix "" --keys-only | grep -c .)
echo "snapshot: $snap ($(( size / 1024 / 1024 )) MiB, $keys live keys), $runs alternating runs, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-14s %10s %10s %9s %14s %14s %8s\n' "" revkeeper etcdutl ratio "RSS revkeeper" "RSS etcdutl" ratio
if [ "$RESTORE_ONLY" = 0 ]; then
  pair "status warm" 0 snapshot status "$snap"
  pair "status cold" 1 snapshot status "$snap"
fi
[ "$STATUS_ONLY" = 0 ] || exit 0
pair "restore" 0 snapshot restore "$snap" --data-dir DIR --bump-revision 1000000000 --mark-compacted
base=${REVKEEPER_BASE_BIN:-}
if [ -n "$base" ]; then
  : >"$work/base"; : >"$work/new"
  for _ in $(seq "$runs"); do
    for b in "$base" "$rk"; do
      settle; t "$b" snapshot restore "$snap" --data-dir "$work/restore" --bump-revision 1000000000 --mark-compacted >>"$work/$([ "$b" = "$base" ] && echo base || echo new)"
      rm -rf "$work/restore"
    done
  done
  row "restore new/base" "$work/new" "$work/base"
fi
c=()
for _ in $(seq "$runs"); do
  c+=("$(t sh -c "cp '$snap' '$work/cp.db' && sync '$work/cp.db'" | cut -d' ' -f1)")
  rm -f "$work/cp.db"
done
echo "cp + sync of the same file (restore's floor): $(printf '%s\n' "${c[@]}" | median)s"
# Restore with TOOL into DIR, start etcd 3.5 on it and wait until it serves and has no
# compaction left; prints "SERVING_S DONE_S" (seconds from the start of the restore).
etcd35=${ETCD35_BIN:-.etcd-tools/3.5/usr/bin/etcd}
etcdctl35=${ETCDCTL35_BIN:-.etcd-tools/3.5/usr/bin/etcdctl}
restore_and_start() {
  local tool=$1 dir=$2 port peer ep s pid serving="" done="" now
  port=$(( 20000 + RANDOM % 20000 ))
  while ! port_free "$port" || ! port_free $(( port + 1 )); do port=$(( port + 2 )); done
  peer=$(( port + 1 )); ep="http://127.0.0.1:$port"
  settle
  s=$(date +%s.%N)
  "$tool" snapshot restore "$snap" --data-dir "$dir" --name bench \
    --initial-cluster "bench=http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --bump-revision 1000000000 --mark-compacted >/dev/null 2>&1
  "$etcd35" --name bench --data-dir "$dir" --listen-client-urls "$ep" --advertise-client-urls "$ep" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "bench=http://127.0.0.1:$peer" --quota-backend-bytes 17179869184 \
    --log-level info >"$dir.log" 2>&1 &
  pid=$!
  while [ -z "$done" ]; do
    kill -0 "$pid" 2>/dev/null || { echo "etcd on $dir exited; its log: $dir.log" >&2; exit 1; }
    now=$(date +%s.%N)
    if [ -z "$serving" ] && "$etcdctl35" --endpoints "$ep" --command-timeout 1s endpoint health >/dev/null 2>&1; then
      serving=$now
    fi
    if [ -n "$serving" ]; then
      if grep -q "finished scheduled compaction" "$dir.log"; then
        done=$now
      elif grep -q "restored last compact revision" "$dir.log" && ! grep -q "resume scheduled compaction" "$dir.log"; then
        done=$serving
      fi
    fi
    [ -n "$done" ] || sleep 0.1
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  awk -v s="$s" -v a="$serving" -v b="$done" 'BEGIN {printf "%.3f %.3f\n", a - s, b - s}'
  rm -rf "$dir" "$dir.log"
}
a=(); b=(); as=(); bs=(); c=(); cs=()
for i in $(seq "$runs"); do
  read -r x y < <(restore_and_start "$rk" "$work/sr$i"); [ -n "$y" ] || exit 1; as+=("$x"); a+=("$y")
  read -r x y < <(restore_and_start "$etcdutl" "$work/se$i"); [ -n "$y" ] || exit 1; bs+=("$x"); b+=("$y")
  if [ -n "$base" ]; then
    read -r x y < <(restore_and_start "$base" "$work/sb$i"); [ -n "$y" ] || exit 1; cs+=("$x"); c+=("$y")
  fi
done
ra=$(printf '%s\n' "${a[@]}" | median); rb=$(printf '%s\n' "${b[@]}" | median)
sa=$(printf '%s\n' "${as[@]}" | median); sb=$(printf '%s\n' "${bs[@]}" | median)
echo "started  revkeeper ${ra}s (serving at ${sa}s)  etcdutl + etcd 3.5 ${rb}s (serving at ${sb}s)  ratio $(ratio "$ra" "$rb")x  (restore + start until served with compaction finished)"
echo "started  each run: revkeeper ${a[*]}  etcdutl ${b[*]}"
if [ -n "$base" ]; then
  rc=$(printf '%s\n' "${c[@]}" | median)
  echo "started  base $base ${rc}s (runs ${c[*]}), ratio to etcdutl $(ratio "$rc" "$rb")x; new / base $(ratio "$ra" "$rc")x"
fi
[ "$RESTORE_ONLY" = 0 ] || exit 0
s=$( (t "$rk" get --snapshot "$snap" --prefix "" --keys-only) | cut -d' ' -f1)
echo "scan: $keys keys in ${s}s = $(awk -v k="$keys" -v s="$s" 'BEGIN {printf "%.0f", k / s}') keys/s (latest state of every key)"
