# Sourced by the bench-*.sh scripts: the build, and one real etcd for a benchmark.
#   bench_build ARGS...    cargo build (nice 19) of revkeeper, the load-realistic example and
#                          ARGS, always together (an example turns on dev-dependency features,
#                          so building the binary alone would compile the crate a second time),
#                          in the profile BENCH_PROFILE (default release; "dev" to smoke-test a
#                          script quickly, not for figures); sets BIN to its output directory.
#   start_bench_etcd DIR   starts "$ETCD" with its data in DIR/etcd and its log in DIR/etcd.log
#                          on a free port pair; sets PORT, PEER, EP and ETCD_PID.
#   wait_bench_etcd        returns once it answers ("$ETCDCTL endpoint health" when ETCDCTL is
#                          set, else once the client port listens, plus a second).
#   serve_snapshot SNAP DIR
#                          restores SNAP into DIR/etcd with "$ETCDUTL" (etcdutl 3.5) and starts
#                          "$ETCD" on it as start_bench_etcd does: a live etcd serving a cached
#                          snapshot (scripts/gen-realistic.sh) without generating it again.
# Between the two the caller sets its own EXIT trap (what to clean up differs per script).

bench_build() {
  local profile=${BENCH_PROFILE:-release}
  nice -n 19 cargo build --profile "$profile" --quiet --bin revkeeper --example load-realistic "$@" >&2
  BIN=target/$([ "$profile" = dev ] && echo debug || echo "$profile")
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

serve_snapshot() {
  local snap=$1 dir=$2
  "$ETCDUTL" snapshot restore "$snap" --data-dir "$dir/etcd" --name bench \
    --initial-cluster bench=http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    >"$dir/restore.log" 2>&1 || { cat "$dir/restore.log" >&2; return 1; }
  start_bench_etcd "$dir"
}

start_bench_etcd() {
  local dir=$1
  PORT=$(( 20000 + RANDOM % 20000 ))
  while ! port_free "$PORT" || ! port_free $(( PORT + 1 )); do PORT=$(( PORT + 2 )); done
  PEER=$(( PORT + 1 ))
  EP="http://127.0.0.1:$PORT"
  "$ETCD" --name bench --data-dir "$dir/etcd" \
    --listen-client-urls "$EP" --advertise-client-urls "$EP" \
    --listen-peer-urls "http://127.0.0.1:$PEER" --initial-advertise-peer-urls "http://127.0.0.1:$PEER" \
    --initial-cluster "bench=http://127.0.0.1:$PEER" \
    --quota-backend-bytes $(( 16 * 1024 * 1024 * 1024 )) --log-level warn >"$dir/etcd.log" 2>&1 &
  ETCD_PID=$!
}

wait_bench_etcd() {
  if [ -n "${ETCDCTL:-}" ]; then
    for _ in $(seq 1 200); do
      "$ETCDCTL" --endpoints "$EP" endpoint health >/dev/null 2>&1 && return 0
      sleep 0.1
    done
  else
    for _ in $(seq 1 200); do port_free "$PORT" || break; sleep 0.1; done
    sleep 1
  fi
}
