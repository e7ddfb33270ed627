#!/usr/bin/env bash
# Captures a small ZooKeeper data dir written by Debian's Java ZooKeeper 3.8.0.
#
# Usage: make-java-datadir.sh OUT_DIR [PORT] [COMPRESSION]
#   COMPRESSION: "" (default, plain snapshots), gz or snappy.
# Starts Java standalone with snapCount=10 and extendedTypesEnabled=true, runs MakeTree.java
# (every node kind, ACLs, sessions with ephemerals, failed/ok multi, error txns), kills the
# server with SIGKILL so sessions stay in the image, then copies version-2/ into OUT_DIR with each
# txn log cut from its 64 MiB preallocation down to its real length plus one 12-byte zero
# end marker (the reader must stop there exactly as on a preallocated file).
set -euo pipefail
OUT=${1:?usage: make-java-datadir.sh OUT_DIR [PORT] [COMPRESSION]}
PORT=${2:-21401}
COMP=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
J=/usr/share/java
CP=$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-simple.jar:$J/snappy-java.jar:$J/netty-handler.jar:$J/netty-transport.jar:$J/netty-common.jar:$J/netty-buffer.jar:$J/metrics-core.jar:$J/commons-cli.jar
WORK=$(mktemp -d /tmp/zk-storage-capture.XXXXXX)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -9 "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/data" "$WORK/classes"
cat > "$WORK/zoo.cfg" <<CFG
tickTime=2000
dataDir=$WORK/data
clientPort=$PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
snapCount=10
extendedTypesEnabled=true
4lw.commands.whitelist=*
CFG

javac -nowarn -cp "$CP" -d "$WORK/classes" "$HERE/MakeTree.java"

java -Xmx256m -Dzookeeper.snapshot.compression.method="$COMP" -cp "$CP" \
  org.apache.zookeeper.server.quorum.QuorumPeerMain "$WORK/zoo.cfg" > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  if (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null; then break; fi
  sleep 0.2
done

java -cp "$CP:$WORK/classes" MakeTree "127.0.0.1:$PORT" 2> "$WORK/client.log" || {
  grep -v -E "^\[main|INFO" "$WORK/client.log" | tail -20 >&2; echo "MakeTree failed" >&2; exit 1; }
sleep 0.5
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=

if grep -E 'ERROR|Exception' "$WORK/server.log" | grep -v -E 'KeeperException|EndOfStreamException|Unable to read additional data' ; then
  echo "warning: the Java server logged errors (see above)" >&2
fi

mkdir -p "$OUT"
rm -rf "${OUT:?}"/*
cp "$WORK"/data/version-2/* "$OUT"/
# Cut each log after its last complete entry, keeping a 12-byte zero end marker.
python3 - "$OUT" <<'PY'
import os, struct, sys
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    if not name.startswith("log."):
        continue
    p = os.path.join(d, name)
    with open(p, "rb") as f:
        buf = f.read()
    pos = 16
    while pos + 12 <= len(buf):
        crc, n = struct.unpack(">qi", buf[pos:pos + 12])
        if n <= 0 or pos + 12 + n + 1 > len(buf) or buf[pos + 12 + n] != 0x42:
            break
        pos += 12 + n + 1
    with open(p, "r+b") as f:
        f.truncate(pos + 12)
    print(f"{name}: {pos + 12} bytes")
PY
ls -l "$OUT"
