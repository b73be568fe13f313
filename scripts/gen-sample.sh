#!/usr/bin/env bash
# Regenerates testdata/sample.db from a real etcd server (vendored 3.6, or ETCD_BIN).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run -q --example gen-sample -- testdata/sample.db
