#!/usr/bin/env bash
# CI smoke test for `ruzk bench`: builds, then runs a 1-2 s workload using every op kind
# against the server at $ZK_HOST (host:port, default 127.0.0.1:2181). Fails if the bench
# cannot connect, nothing completes, or any request gets an error reply.
set -euo pipefail
cd "$(dirname "$0")/.."
ZK_HOST="${ZK_HOST:-127.0.0.1:2181}"

cargo build --release --quiet
target/release/ruzk bench --server "$ZK_HOST" --no-progress --setup --keys 100 \
    --mix get=60,exists=5,children=5,set=15,create=5,delete=5,multi=5 \
    --conns 2 --inflight 8 --warmup 0.2 --duration 1.5 --verify --fail-on-error
echo "bench-smoke: ok"
