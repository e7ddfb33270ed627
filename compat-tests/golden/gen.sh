#!/usr/bin/env bash
# Regenerates the golden bytes in tests/data/golden/ from Debian's Java ZooKeeper 3.8.0:
#  1. records: GenGolden serialises every jute record with the real Java classes;
#  2. wire: a Java 3.8.0 server on 127.0.0.1:$ZK_PORT, proxy.py on $PROXY_PORT recording frames,
#     zkCli.sh and cli_mt (piped commands) and GenGolden's multi client talking through the proxy.
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
CLI_MT="${CLI_MT:-/usr/lib/zookeeper/bin/cli_mt}"

TMP="$(mktemp -d)"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -n "${KEEP_TMP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
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
java -Xmx256m -Dzookeeper.admin.enableServer=false -Dzookeeper.extendedTypesEnabled=true -cp "$J/zookeeper.jar:$J/slf4j-api.jar:$J/slf4j-nop.jar" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$TMP/zoo.cfg" > "$TMP/server.log" 2>&1 &
PIDS+=($!)
python3 "$HERE/proxy.py" "$PROXY_PORT" "$ZK_PORT" "$TMP/frames.jsonl" --drop-on /golden/drop > "$TMP/proxy.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $ZK_PORT), 0.2)" 2>/dev/null; then break; fi
    sleep 0.2
done
# Each get of a /golden/drop* path makes the proxy cut the connection: the client reconnects
# (connect with a session id) and replays its watches, first with setWatches, then (after the
# persistent addWatch) with setWatches2. The sleeps leave time for the reconnects; the last one
# is long enough for the client to send a ping.
{
    echo 'create /golden g'
    echo 'create /golden/a hello'
    echo 'get -w /golden/a'
    echo 'ls -w /golden'
    echo 'stat -w /golden/none'
    echo 'get /golden/drop'
    sleep 4
    echo 'set /golden/a world'
    echo 'create /golden/none x'
    echo 'addWatch -m PERSISTENT /golden/p'
    echo 'addauth digest user:secret'
    sleep 1
    echo 'get /golden/drop2'
    sleep 4
    echo 'create /golden/p p'
    echo 'stat /golden'
    echo 'ls -s /golden'
    echo 'getAcl /golden/a'
    echo 'setAcl /golden/a world:anyone:cdrwa'
    echo 'create -e /golden/eph e'
    echo 'create -s /golden/seq- s'
    echo 'create -c /golden/cont c'
    echo 'create -t 60000 /golden/ttl t'
    echo 'getEphemerals /'
    echo 'getAllChildrenNumber /golden'
    echo 'sync /golden'
    echo 'whoami'
    echo 'config'
    echo 'removewatches /golden/p'
    echo 'delete /golden/cont'
    sleep 11
    echo 'quit'
} | "$ZKCLI" -server "127.0.0.1:$PROXY_PORT" > "$TMP/zkcli.log" 2>&1
# The C client: its own connect, setWatches with xid -8 after a reconnect, create2, ls2.
{
    # cli_mt does not wait for one reply before reading the next command.
    for cmd in 'create /golden/c' 'wexists /golden/cw' 'create2 /golden/c2' 'set /golden/c cdata' \
        'get /golden/c' 'ls2 /golden'; do
        echo "$cmd"
        sleep 0.5
    done
    echo 'get /golden/dropc'
    sleep 3
    echo 'create /golden/cw'
    sleep 1
    echo 'quit'
} | "$CLI_MT" -h "127.0.0.1:$PROXY_PORT" > "$TMP/cli_mt.log" 2>&1 || true
java -cp "$TMP/classes:$CP" GenGolden multi-client "127.0.0.1:$PROXY_PORT"
sleep 0.5
python3 "$HERE/extract.py" "$TMP/frames.jsonl" "$OUT/wire"
echo "== done: $(ls "$OUT"/*.bin | wc -l) record files, $(ls "$OUT"/wire/*.bin | wc -l) wire frames"
