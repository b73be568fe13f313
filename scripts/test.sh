#!/usr/bin/env bash
# Installs what the tests need, then runs every test of the workspace.
#   - protoc: found or installed by scripts/protoc.sh when cargo builds etcd-client;
#   - etcd server 3.6: the etcd-bin-vendored-linux-amd64 dev-dependency (no download);
#   - etcd 3.4/3.5 with etcdctl/etcdutl, for side-by-side comparisons: unpacked from Debian's
#     packages by ../shared/tools/fetch-etcd-tools.sh into .etcd-tools/ (tests that need them
#     print a notice and skip their comparison when they are not there);
#   - s3s-fs (cargo install into ${REVKEEPER_CACHE:-~/.cache/revkeeper}) and age (apt): the
#     location tests' S3 server and reference age CLI.
set -euo pipefail
cd "$(dirname "$0")/.."

# s3s-fs: the S3-compatible server of the location tests (tests/harness/src/s3.rs), built once
# into a cache dir (0.14.1: newer releases need a newer rustc).
s3s_cache=${REVKEEPER_CACHE:-$HOME/.cache/revkeeper}
if [ ! -x "$s3s_cache/bin/s3s-fs" ]; then
  echo "installing s3s-fs into $s3s_cache (once; a few minutes)" >&2
  mkdir -p "$s3s_cache"
  cargo install s3s-fs --version 0.14.1 --features binary --locked --root "$s3s_cache" \
    >"$s3s_cache/s3s-fs-install.log" 2>&1 \
    || echo "notice: could not install s3s-fs (see $s3s_cache/s3s-fs-install.log); S3 tests will skip" >&2
fi
if [ -x "$s3s_cache/bin/s3s-fs" ]; then
  export S3S_FS_BIN="$s3s_cache/bin/s3s-fs"
fi

# age/age-keygen: the reference CLI our age encryption must interoperate with.
if ! command -v age-keygen >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get install -y age >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y age >/dev/null 2>&1; }) \
    || echo "notice: could not install age; the age interoperability tests will skip" >&2
fi

fetch=../shared/tools/fetch-etcd-tools.sh
if [ ! -x .etcd-tools/3.5/usr/bin/etcdutl ] && [ -f "$fetch" ]; then
  sh "$fetch" .etcd-tools >/dev/null 2>&1 \
    || echo "notice: could not unpack etcd 3.4/3.5 tools; comparison tests will skip" >&2
fi

# tmux: the TUI's end-to-end test drives the real binary in a tmux pseudo-terminal.
if ! command -v tmux >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get install -y tmux >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y tmux >/dev/null 2>&1; }) \
    || echo "notice: could not install tmux; the TUI end-to-end test will skip" >&2
fi

cargo test --workspace --all-targets

# The version matrix: the tests that start servers on restored or snapshotted data run again on
# Debian's etcd 3.5 and 3.4 servers.
for v in 3.5 3.4; do
  bin=$PWD/.etcd-tools/$v/usr/bin/etcd
  if [ -x "$bin" ]; then
    echo "== the same server tests on etcd $v ($bin)" >&2
    ETCD_BIN=$bin cargo test --test restore --test source_parity
  else
    echo "notice: no etcd $v server in .etcd-tools; skipping the $v matrix run" >&2
  fi
done
