#!/usr/bin/env bash
# A data directory moves between Java ZooKeeper 3.8.0 and ruzk, both ways, at scale.
#   Java -> ruzk: Java builds >100k znodes of every type (several logs and snapshots, live
#   sessions with ephemerals), is stopped; ruzk starts on the same dataDir and must serve the
#   identical tree: every path, data, ACL and full Stat (times and owners included).
#   ruzk -> Java: the same the other way; Java must also log no ERROR and no digest mismatch.
# Usage: interop.sh [RUZK_BIN] [NODES]   (PY: python with kazoo; default compat-tests/.venv)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUZK=${1:-$ROOT/target/release/ruzk}
NODES=${2:-110000}
PY=${PY:-$ROOT/compat-tests/.venv/bin/python}
PORT=21710
J=/usr/share/java
CP=$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-simple.jar:$J/snappy-java.jar:$J/netty-handler.jar:$J/netty-transport.jar:$J/netty-common.jar:$J/netty-buffer.jar:$J/metrics-core.jar:$J/commons-cli.jar
SUPER_DIGEST=$("$PY" -c 'import hashlib,base64;print("super:"+base64.b64encode(hashlib.sha1(b"super:interop-super-secret").digest()).decode())')
PROPS=("-Dzookeeper.DigestAuthenticationProvider.superDigest=$SUPER_DIGEST" "-Dzookeeper.extendedTypesEnabled=true" "-Dznode.container.checkIntervalMs=3600000")
WORK=$(mktemp -d /tmp/ruzk-interop.XXXXXX)
PID=
cleanup() { if [ -n "$PID" ]; then kill -9 "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi; [ -n "${KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT

cfg() { # dir
  mkdir -p "$1"
  printf 'tickTime=2000\nmaxSessionTimeout=600000\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\nadmin.enableServer=false\nsnapCount=20000\n4lw.commands.whitelist=*\n' "$1" "$PORT" > "$1.cfg"
}
wait_up() { # log
  # Java accepts connections before it serves and may never answer (nor close) a 4lw sent
  # that early, so every probe is bounded; the whole wait is bounded by time, not attempts,
  # so a loaded machine gets the same 300 s.
  local deadline=$((SECONDS + 300))
  while [ $SECONDS -lt $deadline ]; do
    if [ "$(printf ruok | timeout 3 nc -q1 -w2 127.0.0.1 $PORT 2>/dev/null)" = imok ]; then return 0; fi
    if ! kill -0 "$PID" 2>/dev/null; then echo "interop: the server on 127.0.0.1:$PORT died while waited for to answer ruok; log $1:"; tail -30 "$1"; return 1; fi
    sleep 0.1
  done
  echo "interop: the server on 127.0.0.1:$PORT did not answer ruok with imok within 300 s; log $1:"; tail -30 "$1"; return 1
}
start_java() { java -Xmx2g "${PROPS[@]}" -cp "$CP" org.apache.zookeeper.server.quorum.QuorumPeerMain "$1.cfg" > "$2" 2>&1 & PID=$!; wait_up "$2"; }
start_ruzk() { "$RUZK" server "$1.cfg" "${PROPS[@]}" > "$2" 2>&1 & PID=$!; wait_up "$2"; }
stop() { kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=; }
compare() { # a b what
  if cmp -s "$1" "$2"; then echo "  identical: $(wc -l < "$1") znodes ($3)"; else
    echo "  DIFFERENT ($3):"; diff "$1" "$2" | head -20; exit 1; fi
}
fail=0
echo "== Java -> ruzk ($NODES znodes)"
D=$WORK/j2r; cfg $D
start_java $D $WORK/j2r-java.log
"$PY" "$HERE/tree_tool.py" build 127.0.0.1:$PORT $NODES
"$PY" "$HERE/tree_tool.py" dump 127.0.0.1:$PORT $WORK/j2r-java.jsonl
stop
echo "  Java's files: $(ls $D/version-2 | tr '\n' ' ')"
start_ruzk $D $WORK/j2r-ruzk.log
"$PY" "$HERE/tree_tool.py" dump 127.0.0.1:$PORT $WORK/j2r-ruzk.jsonl
stop
grep -E "Restored|Digests are not matching" $WORK/j2r-ruzk.log | head -3
if grep -q "Digests are not matching" $WORK/j2r-ruzk.log; then echo "  ruzk saw digest mismatches replaying Java's log"; fail=1; fi
compare $WORK/j2r-java.jsonl $WORK/j2r-ruzk.jsonl "Java wrote, ruzk served"

echo "== ruzk -> Java ($NODES znodes)"
D=$WORK/r2j; cfg $D
start_ruzk $D $WORK/r2j-ruzk.log
"$PY" "$HERE/tree_tool.py" build 127.0.0.1:$PORT $NODES
"$PY" "$HERE/tree_tool.py" dump 127.0.0.1:$PORT $WORK/r2j-ruzk.jsonl
stop
echo "  ruzk's files: $(ls $D/version-2 | tr '\n' ' ')"
start_java $D $WORK/r2j-java.log
"$PY" "$HERE/tree_tool.py" dump 127.0.0.1:$PORT $WORK/r2j-java.jsonl
stop
if grep -E "ERROR|Digests are not matching|digest mismatch" $WORK/r2j-java.log; then echo "  Java logged errors loading ruzk's dir"; fail=1; else echo "  Java logged no ERROR and no digest mismatch"; fi
compare $WORK/r2j-ruzk.jsonl $WORK/r2j-java.jsonl "ruzk wrote, Java served"
[ $fail = 0 ] && echo "interop: PASS" || { echo "interop: FAIL"; exit 1; }
