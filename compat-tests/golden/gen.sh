#!/usr/bin/env bash
# Regenerates the golden bytes in tests/data/golden/ from Debian's Java ZooKeeper 3.8.0:
#  1. records: GenGolden serialises every jute record with the real Java classes;
#  2. wire: a Java 3.8.0 server on 127.0.0.1:$ZK_PORT, proxy.py on $PROXY_PORT recording frames,
#     zkCli.sh (piped commands) and GenGolden's multi client talking through the proxy.
# Nothing compiled is kept: classes and server data live in a temp dir removed on exit.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$REPO/tests/data/golden"
ZK_PORT="${ZK_PORT:-21601}"
PROXY_PORT="${PROXY_PORT:-21602}"
J=/usr/share/java
CP="$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-nop.jar"
ZKCLI="${ZKCLI:-/usr/share/zookeeper/bin/zkCli.sh}"

TMP="$(mktemp -d)"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

echo "== compiling GenGolden"
mkdir -p "$TMP/classes"
javac -encoding UTF-8 -d "$TMP/classes" -cp "$CP" "$HERE/GenGolden.java"

echo "== records"
mkdir -p "$OUT"
rm -f "$OUT"/*.bin "$OUT/manifest.txt"
java -cp "$TMP/classes:$CP" GenGolden records "$OUT"

echo "== wire capture (server :$ZK_PORT, proxy :$PROXY_PORT)"
mkdir -p "$TMP/data"
cat > "$TMP/zoo.cfg" <<CFG
tickTime=2000
dataDir=$TMP/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
CFG
java -Xmx256m -Dzookeeper.admin.enableServer=false -cp "$J/zookeeper.jar:$J/slf4j-api.jar:$J/slf4j-nop.jar" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$TMP/zoo.cfg" > "$TMP/server.log" 2>&1 &
PIDS+=($!)
python3 "$HERE/proxy.py" "$PROXY_PORT" "$ZK_PORT" "$TMP/frames.jsonl" --drop-on /golden/drop > "$TMP/proxy.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $ZK_PORT), 0.2)" 2>/dev/null; then break; fi
    sleep 0.2
done
# get /golden/drop makes the proxy cut the connection: the client reconnects (connect with a
# session id) and replays its data/exist/child watches with setWatches; the set and create below
# then fire notifications. The sleeps leave time for that reconnect.
{
    echo 'create /golden g'
    echo 'create /golden/a hello'
    echo 'get -w /golden/a'
    echo 'ls -w /golden'
    echo 'stat -w /golden/none'
    echo 'get /golden/drop'
    sleep 5
    echo 'set /golden/a world'
    echo 'create /golden/none x'
    sleep 1
    echo 'quit'
} | "$ZKCLI" -server "127.0.0.1:$PROXY_PORT" > "$TMP/zkcli.log" 2>&1
java -cp "$TMP/classes:$CP" GenGolden multi-client "127.0.0.1:$PROXY_PORT"
sleep 0.5
python3 "$HERE/extract.py" "$TMP/frames.jsonl" "$OUT/wire"
echo "== done: $(ls "$OUT"/*.bin | wc -l) record files, $(ls "$OUT"/wire/*.bin | wc -l) wire frames"
