#!/usr/bin/env bash
# Offline benchmarks on one snapshot file, side by side with etcdutl 3.5 in one run:
#   status   revkeeper snapshot status  vs  etcdutl snapshot status   (alternating, median)
#   restore  revkeeper snapshot restore vs  etcdutl snapshot restore  (with --bump-revision)
#   scan     revkeeper get --prefix "" --keys-only: keys per second over the whole keyspace
# Usage: scripts/bench-offline.sh [SNAPSHOT.db] [RUNS]
#   default SNAPSHOT: bench-out/etcdctl.db, left by scripts/bench-save.sh (~1 GiB, ~1M keys)
set -euo pipefail
cd "$(dirname "$0")/.."
snap=${1:-bench-out/etcdctl.db}
runs=${2:-5}
[ -f "$snap" ] || { echo "no snapshot at $snap: run scripts/bench-save.sh first, or pass a file" >&2; exit 3; }
etcdutl=${ETCDUTL_BIN:-.etcd-tools/3.5/usr/bin/etcdutl}
[ -x "$etcdutl" ] || sh ../shared/tools/fetch-etcd-tools.sh .etcd-tools >/dev/null
cargo build -q --release
rk=target/release/revkeeper
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
echo "restore  revkeeper ${ra}s  etcdutl ${rb}s  ratio $(ratio "$ra" "$rb")x"

keys=$("$rk" get --snapshot "$snap" --prefix "" --keys-only | wc -l)
s=$(t "$rk" get --snapshot "$snap" --prefix "" --keys-only)
echo "scan     $keys keys in ${s}s = $(awk -v k="$keys" -v s="$s" 'BEGIN {printf "%.0f", k / s}') keys/s (latest state of every key, one core)"
