#!/usr/bin/env bash
# Starts a throwaway ruzk and runs scripts/bench-smoke.sh against it (the CI check that the
# bench builds and a tiny run works).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=21720
WORK=$(mktemp -d /tmp/ruzk-bench-smoke.XXXXXX)
printf 'tickTime=2000\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\n' "$WORK" "$PORT" > "$WORK/zoo.cfg"
target/release/ruzk server "$WORK/zoo.cfg" > "$WORK/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
ZK_HOST=127.0.0.1:$PORT bash scripts/bench-smoke.sh
