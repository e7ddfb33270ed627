#!/usr/bin/env bash
# Checks that Java ZooKeeper 3.8.0 loads a data dir written by ruzk's storage writers.
#
# Usage: java-loads-ruzk-datadir.sh [RUZK_BIN] [PORT]
# For each snapshot codec (plain, gz, snappy): every snapshot and log of the captured Java
# dir (tests/data/storage/java-3.8.0) is read and re-written by `ruzk snapshot rewrite` /
# `ruzk txnlog rewrite` (64 MiB preallocated logs, like Java's). Java is started on the
# result and on a copy of the original; the check fails if Java logs ERROR, an unexpected
# WARN or "Digests are not matching", or if the snapshot Java writes at startup (its view of
# the restored tree and sessions) differs from the one it writes for the original dir.
# Runs in about 30-40 s on 2 cores.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUZK=${1:-}
PORT=${2:-21410}
if [ -z "$RUZK" ]; then
  (cd "$ROOT" && cargo build -q --bin ruzk)
  RUZK=$ROOT/target/debug/ruzk
fi
SRC=$ROOT/tests/data/storage/java-3.8.0
J=/usr/share/java
CP=$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-simple.jar:$J/snappy-java.jar:$J/netty-handler.jar:$J/netty-transport.jar:$J/netty-common.jar:$J/netty-buffer.jar:$J/metrics-core.jar:$J/commons-cli.jar
WORK=$(mktemp -d /tmp/zk-storage-load.XXXXXX)
PID=
cleanup() {
  if [ -n "$PID" ]; then kill -9 "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Starts Java on $1 (a dataDir), waits until it serves, stops it; leaves the log in $1.log.
run_java() {
  local dir=$1
  cat > "$dir.cfg" <<CFG
tickTime=2000
dataDir=$dir
clientPort=$PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
extendedTypesEnabled=true
4lw.commands.whitelist=*
CFG
  java -Xmx256m -cp "$CP" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir.cfg" > "$dir.log" 2>&1 &
  PID=$!
  local ok=
  for _ in $(seq 1 150); do
    if out=$(timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0 && printf srvr >&3 && cat <&3' "$PORT" 2>/dev/null) && [[ $out == *"Node count"* ]]; then
      ok=1; echo "$out" | grep -E 'Zxid|Node count' | sed "s|^|  $(basename "$dir"): |"; break
    fi
    sleep 0.2
  done
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
  [ -n "$ok" ] || { echo "FAIL: Java did not come up on $dir"; tail -20 "$dir.log"; exit 1; }
}

# The startup snapshot Java wrote, as text with data (times included: nothing may differ).
startup_snapshot_dump() {
  local newest
  newest=$(ls "$1/version-2" | grep '^snapshot\.' | sort -t. -k2,2 | while read -r f; do
    printf '%d %s\n' "0x$(echo "$f" | cut -d. -f2)" "$f"; done | sort -n | tail -1 | cut -d' ' -f2)
  "$RUZK" snapshot dump --data "$1/version-2/$newest"
}

complaints() {
  grep -E 'ERROR|WARN|Digests are not matching|Exception' "$1.log" | sed "s|$1|DIR|g" | sort -u || true
}

mkdir -p "$WORK/orig/version-2"
cp "$SRC"/* "$WORK/orig/version-2/"
run_java "$WORK/orig"
startup_snapshot_dump "$WORK/orig" > "$WORK/orig.txt"

status=0
for comp in "" gz snappy; do
  name=ruzk${comp:+-$comp}
  dst=$WORK/$name/version-2
  mkdir -p "$dst"
  for f in "$SRC"/snapshot.*; do
    "$RUZK" snapshot rewrite "$f" "$dst/$(basename "$f")${comp:+.$comp}" --compression "$comp"
  done
  for f in "$SRC"/log.*; do
    "$RUZK" txnlog rewrite "$f" "$dst"
  done
  # Our logs are named by their first zxid exactly as Java named them.
  diff <(ls "$SRC" | grep '^log\.' | sort) <(ls "$dst" | grep '^log\.' | sort) > /dev/null \
    || { echo "FAIL: log names differ"; status=1; }
  run_java "$WORK/$name"
  # Any ERROR/WARN line (or digest complaint) that Java did not also log for its own files.
  if comm -23 <(complaints "$WORK/$name") <(complaints "$WORK/orig") | grep .; then
    echo "FAIL ($name): Java logged the lines above"; status=1
  fi
  startup_snapshot_dump "$WORK/$name" > "$WORK/$name.txt"
  if [ ! -s "$WORK/$name.txt" ] || ! diff "$WORK/$name.txt" "$WORK/orig.txt" > "$WORK/$name.diff"; then
    echo "FAIL ($name): Java's view of the restored tree differs:"; head -20 "$WORK/$name.diff"; status=1
  fi
done
[ $status = 0 ] && echo "OK: Java 3.8.0 loads ruzk-written snapshots (plain, gz, snappy) and logs"
exit $status
