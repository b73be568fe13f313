#!/bin/sh
# protoc for etcd-client's build script (.cargo/config.toml points PROTOC here).
# Uses a protoc that is already installed; otherwise installs Debian's protobuf-compiler when it
# can (root + apt-get), and otherwise says exactly what to do.
set -eu
for p in "${REVKEEPER_PROTOC:-}" /usr/bin/protoc /usr/local/bin/protoc; do
  [ -n "$p" ] && [ -x "$p" ] && exec "$p" "$@"
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  # Several build scripts may ask at once: install only once.
  exec 9>/tmp/revkeeper-protoc.lock
  flock 9
  if [ ! -x /usr/bin/protoc ]; then
    echo "revkeeper: protoc not found, installing Debian's protobuf-compiler" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler libprotobuf-dev; } >&2 \
      || { echo "revkeeper: could not install protobuf-compiler with apt-get" >&2; exit 1; }
  fi
  exec /usr/bin/protoc "$@"
fi
echo "revkeeper: protoc is needed to build etcd-client. Install it with 'sudo apt-get install protobuf-compiler libprotobuf-dev', or set REVKEEPER_PROTOC=/path/to/protoc." >&2
exit 1
