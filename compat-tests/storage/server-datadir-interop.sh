#!/usr/bin/env bash
# Data dirs move between `ruzk server` and Java ZooKeeper 3.8.0, in both directions.
#
# Usage: server-datadir-interop.sh [RUZK_BIN] [PORT]
# 1. Java -> ruzk: ruzk serves a copy of the captured Java dir (tests/data/storage/java-3.8.0);
#    the snapshot ruzk writes at startup must equal, byte for byte in its dump, the one Java
#    writes at startup on another copy (same tree, times, sessions and digest).
# Needs a `ruzk server` that restores and persists through src/storage (the runtime's disk
# thread); against an in-memory server both parts fail.
# 2. ruzk -> Java: MakeTree.java runs against ruzk (snapCount=10, so ruzk rolls logs and
#    takes snapshots), ruzk is killed with SIGKILL, Java starts on the dir. Java must log no
#    ERROR/WARN it does not log for its own capture, no digest mismatch, and its restored
#    tree must equal the tree of the Java capture, apart from times and session ids
#    (zxids are deterministic, so czxid/mzxid/pzxid/versions must all match).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUZK=${1:-}
PORT=${2:-21420}
if [ -z "$RUZK" ]; then (cd "$ROOT" && cargo build -q --bin ruzk); RUZK=$ROOT/target/debug/ruzk; fi
SRC=$ROOT/tests/data/storage/java-3.8.0
J=/usr/share/java
CP=$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-simple.jar:$J/snappy-java.jar:$J/netty-handler.jar:$J/netty-transport.jar:$J/netty-common.jar:$J/netty-buffer.jar:$J/metrics-core.jar:$J/commons-cli.jar
WORK=$(mktemp -d /tmp/zk-storage-interop.XXXXXX)
PID=
cleanup() {
  if [ -n "$PID" ]; then kill -9 "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

write_cfg() { # dir
  cat > "$1.cfg" <<CFG
tickTime=2000
dataDir=$1
clientPort=$PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
extendedTypesEnabled=true
snapCount=10
4lw.commands.whitelist=*
CFG
}

wait_up() { # name
  for _ in $(seq 1 150); do
    if out=$(timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0 && printf srvr >&3 && cat <&3' "$PORT" 2>/dev/null) && [[ $out == *"Node count"* ]]; then
      echo "$out" | grep -E 'Zxid|Node count' | sed "s|^|  $1: |"; return 0
    fi
    sleep 0.2
  done
  echo "FAIL: $1 did not come up"; return 1
}

start_java() { write_cfg "$1"; java -Xmx256m -cp "$CP" org.apache.zookeeper.server.quorum.QuorumPeerMain "$1.cfg" > "$1.log" 2>&1 & PID=$!; }
start_ruzk() { write_cfg "$1"; "$RUZK" server "$1.cfg" > "$1.log" 2>&1 & PID=$!; }
stop() { kill "${1:--TERM}" "$PID"; wait "$PID" 2>/dev/null || true; PID=; }

newest_snapshot() {
  ls "$1/version-2" | grep '^snapshot\.' | while read -r f; do printf '%d %s\n' "0x$(echo "$f" | cut -d. -f2)" "$f"; done \
    | sort -n | tail -1 | cut -d' ' -f2
}
dump_newest() { "$RUZK" snapshot dump --data "$1/version-2/$(newest_snapshot "$1")"; }
# One line per node (or section), sorted: child order in a snapshot is arbitrary (Java
# walks HashSets, ruzk sorted maps), so it is not compared.
canonical() { awk 'BEGIN { RS = "----\n" } { gsub("\n", " | "); print }' | sort; }
complaints() { grep -E 'ERROR|WARN|Digests are not matching|Exception' "$1.log" | sed "s|$1|DIR|g" | sort -u || true; }

status=0
# --- 1. Java -> ruzk --------------------------------------------------------------------
for side in java ruzk; do
  mkdir -p "$WORK/j2$side/version-2"; cp "$SRC"/* "$WORK/j2$side/version-2/"
  "start_$side" "$WORK/j2$side"; wait_up "java dir on $side" || status=1; stop
  dump_newest "$WORK/j2$side" | canonical > "$WORK/j2$side.txt"
  # The tree digest too (it covers every stat field, so equal digests mean equal trees).
  "$RUZK" snapshot dump --json "$WORK/j2$side/version-2/$(newest_snapshot "$WORK/j2$side")" \
    | grep -o '"digest":{[^}]*}' >> "$WORK/j2$side.txt"
done
if ! diff "$WORK/j2ruzk.txt" "$WORK/j2java.txt" > "$WORK/j2.diff"; then
  echo "FAIL: ruzk's startup snapshot of the Java dir differs from Java's:"; head -30 "$WORK/j2.diff"; status=1
fi

# --- 2. ruzk -> Java --------------------------------------------------------------------
mkdir -p "$WORK/classes" "$WORK/r2java"
javac -nowarn -cp "$CP" -d "$WORK/classes" "$HERE/MakeTree.java"
start_ruzk "$WORK/r2java"; wait_up "ruzk fresh" > /dev/null || status=1
java -cp "$CP:$WORK/classes" MakeTree "127.0.0.1:$PORT" 2> "$WORK/client.log" > /dev/null \
  || { echo "FAIL: MakeTree against ruzk"; grep -v INFO "$WORK/client.log" | tail -5; status=1; }
sleep 0.5; stop -9
echo "  ruzk wrote: $(ls "$WORK/r2java/version-2" | tr '\n' ' ')"
mkdir -p "$WORK/jref/version-2"; cp "$SRC"/* "$WORK/jref/version-2/"
start_java "$WORK/jref"; wait_up "java dir on java" > /dev/null || status=1; stop
start_java "$WORK/r2java"; wait_up "ruzk dir on java" || status=1; stop
if comm -23 <(complaints "$WORK/r2java") <(complaints "$WORK/jref") | grep .; then
  echo "FAIL: Java logged the lines above for ruzk's data dir"; status=1
fi
# Times and session ids differ between the two runs; everything else must not.
normalize() {
  dump_newest "$1" | grep -v -E '^  (ctime|mtime) = ' | sed -E 's/0x1[0-9a-f]{14}\b/SESSION/g; s/^SESSION, /----\nSESSION, /' | canonical
}
normalize "$WORK/jref" > "$WORK/jref.txt"; normalize "$WORK/r2java" > "$WORK/r2java.txt"
if ! diff "$WORK/r2java.txt" "$WORK/jref.txt" > "$WORK/r2.diff"; then
  echo "FAIL: Java's view of ruzk's data dir differs from its own capture:"; head -40 "$WORK/r2.diff"; status=1
fi
[ $status = 0 ] && echo "OK: data dirs move between ruzk server and Java 3.8.0 both ways"
exit $status
