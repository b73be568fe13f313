#!/usr/bin/env bash
# Offline benchmarks on one snapshot file, side by side with etcdutl 3.5 in one run:
#   status   revkeeper snapshot status  vs  etcdutl snapshot status   (alternating, median)
#   restore  revkeeper snapshot restore vs  etcdutl snapshot restore  (with --bump-revision),
#            peak RSS of each, and cp + sync of the same file (the floor)
#   started  restore + etcd 3.5 start until it serves with no compaction left to run: etcdutl's
#            member compacts at start ("finished scheduled compaction" in its log), revkeeper's
#            is pre-compacted (it must log "restored last compact revision", never "resume
#            scheduled compaction")
#   scan     revkeeper get --prefix "" --keys-only: keys per second over the whole keyspace
# Usage: [REVKEEPER_BIN=…] scripts/bench-offline.sh [SNAPSHOT.db] [RUNS]
#   default SNAPSHOT: bench-out/etcdctl.db, left by scripts/bench-save.sh (~1 GiB, ~1M keys)
set -euo pipefail
cd "$(dirname "$0")/.."
snap=${1:-bench-out/etcdctl.db}
runs=${2:-5}
[ -f "$snap" ] || { echo "no snapshot at $snap: run scripts/bench-save.sh first, or pass a file" >&2; exit 3; }
etcdutl=${ETCDUTL_BIN:-.etcd-tools/3.5/usr/bin/etcdutl}
[ -x "$etcdutl" ] || sh ../shared/tools/fetch-etcd-tools.sh .etcd-tools >/dev/null
# REVKEEPER_BIN: another build to measure (e.g. a copy of the previous release, for before/after).
rk=${REVKEEPER_BIN:-target/release/revkeeper}
[ -n "${REVKEEPER_BIN:-}" ] || cargo build -q --release
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Wall seconds of one command, output discarded.
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); awk -v a="$s" -v b="$e" 'BEGIN {print b - a}'; }
median() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n1; }

echo "snapshot: $snap ($(du -h "$snap" | cut -f1)), $runs alternating runs, page cache warm"
cat "$snap" >/dev/null
a=(); b=()
for _ in $(seq "$runs"); do
  a+=("$(t "$rk" snapshot status "$snap")")
  b+=("$(t "$etcdutl" snapshot status "$snap")")
done
ra=$(printf '%s\n' "${a[@]}" | median); rb=$(printf '%s\n' "${b[@]}" | median)
echo "status   revkeeper ${ra}s  etcdutl ${rb}s  ratio $(ratio "$ra" "$rb")x  rss $(rss "$rk" snapshot status "$snap") KiB vs $(rss "$etcdutl" snapshot status "$snap") KiB"

a=(); b=()
for i in $(seq "$runs"); do
  a+=("$(t "$rk" snapshot restore "$snap" --data-dir "$work/r$i" --bump-revision 1000000000 --mark-compacted)")
  b+=("$(t "$etcdutl" snapshot restore "$snap" --data-dir "$work/e$i" --bump-revision 1000000000 --mark-compacted)")
  rm -rf "$work/r$i" "$work/e$i"
done
ra=$(printf '%s\n' "${a[@]}" | median); rb=$(printf '%s\n' "${b[@]}" | median)
c=()
for i in $(seq "$runs"); do
  c+=("$(t sh -c "cp '$snap' '$work/cp.db' && sync '$work/cp.db'")")
  rm -f "$work/cp.db"
done
rc=$(printf '%s\n' "${c[@]}" | median)
rssa=$(rss "$rk" snapshot restore "$snap" --data-dir "$work/ra" --bump-revision 1000000000 --mark-compacted)
rssb=$(rss "$etcdutl" snapshot restore "$snap" --data-dir "$work/rb" --bump-revision 1000000000 --mark-compacted)
rm -rf "$work/ra" "$work/rb"
snap_kib=$(( $(stat -c %s "$snap") / 1024 ))
echo "restore  revkeeper ${ra}s  etcdutl ${rb}s  ratio $(ratio "$ra" "$rb")x  cp+sync ${rc}s ($(ratio "$ra" "$rc")x the floor)  rss $rssa KiB ($(ratio "$rssa" "$snap_kib")x the snapshot) vs $rssb KiB"

# Restore with TOOL into DIR, start etcd 3.5 on it and wait until it serves and has no
# compaction left; prints "SERVING_S DONE_S" (seconds from the start of the restore).
etcd35=${ETCD35_BIN:-.etcd-tools/3.5/usr/bin/etcd}
etcdctl35=${ETCDCTL35_BIN:-.etcd-tools/3.5/usr/bin/etcdctl}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
restore_and_start() {
  local tool=$1 dir=$2 port peer ep s pid serving="" done="" now
  port=$(( 20000 + RANDOM % 20000 ))
  while ! port_free "$port" || ! port_free $(( port + 1 )); do port=$(( port + 2 )); done
  peer=$(( port + 1 )); ep="http://127.0.0.1:$port"
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
a=(); b=(); as=(); bs=()
for i in $(seq "$runs"); do
  read -r x y < <(restore_and_start "$rk" "$work/sr$i"); [ -n "$y" ] || exit 1; as+=("$x"); a+=("$y")
  read -r x y < <(restore_and_start "$etcdutl" "$work/se$i"); [ -n "$y" ] || exit 1; bs+=("$x"); b+=("$y")
done
ra=$(printf '%s\n' "${a[@]}" | median); rb=$(printf '%s\n' "${b[@]}" | median)
sa=$(printf '%s\n' "${as[@]}" | median); sb=$(printf '%s\n' "${bs[@]}" | median)
echo "started  revkeeper ${ra}s (serving at ${sa}s)  etcdutl + etcd 3.5 ${rb}s (serving at ${sb}s)  ratio $(ratio "$ra" "$rb")x  (restore + start until served with compaction finished)"

keys=$("$rk" get --snapshot "$snap" --prefix "" --keys-only | wc -l)
s=$(t "$rk" get --snapshot "$snap" --prefix "" --keys-only)
echo "scan     $keys keys in ${s}s = $(awk -v k="$keys" -v s="$s" 'BEGIN {printf "%.0f", k / s}') keys/s (latest state of every key, one core)"
