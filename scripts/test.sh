#!/usr/bin/env bash
# Installs what the tests need, then runs every test of the workspace with
# REVKEEPER_REQUIRE_ALL=1: a test whose prerequisite is missing fails instead of skipping.
#   - protoc: found or installed by scripts/protoc.sh when cargo builds etcd-client;
#   - etcd server 3.6: the etcd-bin-vendored-linux-amd64 dev-dependency (no download);
#   - the shared fixtures and tools: $REVKEEPER_SHARED, default ../shared;
#   - etcd 3.4/3.5 with etcdctl/etcdutl, for side-by-side comparisons and the version matrix:
#     unpacked from Debian's packages by $REVKEEPER_SHARED/tools/fetch-etcd-tools.sh into
#     .etcd-tools/;
#   - tmux, for the TUI's end-to-end test: apt-get (as root);
#   - s3s-fs (cargo install into ${REVKEEPER_CACHE:-~/.cache/revkeeper}) and age (apt): the
#     location tests' S3 server and reference age CLI.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  echo "error: $*" >&2
  exit 1
}

shared=${REVKEEPER_SHARED:-../shared}
[ -d "$shared/fixtures" ] || die "no shared fixtures at $shared/fixtures (check out the shared directory beside the repository, or set REVKEEPER_SHARED)"
REVKEEPER_SHARED=$(cd "$shared" && pwd)
export REVKEEPER_SHARED REVKEEPER_REQUIRE_ALL=1

# s3s-fs: the S3-compatible server of the location tests (tests/harness/src/s3.rs), built once
# into a cache dir (0.14.1: newer releases need a newer rustc).
s3s_cache=${REVKEEPER_CACHE:-$HOME/.cache/revkeeper}
if [ ! -x "$s3s_cache/bin/s3s-fs" ]; then
  echo "installing s3s-fs into $s3s_cache (once; a few minutes)" >&2
  mkdir -p "$s3s_cache"
  cargo install s3s-fs --version 0.14.1 --features binary --locked --root "$s3s_cache" \
    >"$s3s_cache/s3s-fs-install.log" 2>&1 \
    || die "could not install s3s-fs (see $s3s_cache/s3s-fs-install.log)"
fi
export S3S_FS_BIN="$s3s_cache/bin/s3s-fs"

# age/age-keygen: the reference CLI our age encryption must interoperate with.
if ! command -v age-keygen >/dev/null 2>&1; then
  { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; } || die "age is not installed (apt-get install age)"
  apt-get install -y age >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y age >/dev/null 2>&1; } \
    || die "could not install age"
fi

if [ ! -x .etcd-tools/3.5/usr/bin/etcdutl ] || [ ! -x .etcd-tools/3.4/usr/bin/etcd ]; then
  fetch=$REVKEEPER_SHARED/tools/fetch-etcd-tools.sh
  [ -f "$fetch" ] || die "$fetch not found: cannot unpack etcd 3.4/3.5"
  sh "$fetch" .etcd-tools >/dev/null || die "$fetch could not unpack etcd 3.4/3.5 into .etcd-tools"
fi

# tmux: the TUI's end-to-end test drives the real binary in a tmux pseudo-terminal.
if ! command -v tmux >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
    || die "tmux is missing and cannot be installed here (apt-get as root): install tmux"
  apt-get install -y tmux >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y tmux >/dev/null; } \
    || die "apt-get could not install tmux"
fi

cargo test --workspace --all-targets

# The version matrix: the tests that start servers on restored or snapshotted data run again on
# Debian's etcd 3.5 and 3.4 servers.
for v in 3.5 3.4; do
  bin=$PWD/.etcd-tools/$v/usr/bin/etcd
  [ -x "$bin" ] || die "no etcd $v server at $bin"
  echo "== the same server tests on etcd $v ($bin)" >&2
  ETCD_BIN=$bin cargo test --test restore --test source_parity --test continuous_backup
done
