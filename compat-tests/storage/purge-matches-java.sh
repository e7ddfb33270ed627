#!/usr/bin/env bash
# Checks `ruzk purge DIR -n N` against Java's PurgeTxnLog (what zkCleanup.sh runs) on copies
# of the captured data dir, for several N: the surviving files must be the same.
# Usage: purge-matches-java.sh [RUZK_BIN]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUZK=${1:-}
if [ -z "$RUZK" ]; then (cd "$ROOT" && cargo build -q --bin ruzk); RUZK=$ROOT/target/debug/ruzk; fi
J=/usr/share/java
CP=$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-nop.jar:$J/metrics-core.jar
WORK=$(mktemp -d /tmp/zk-storage-purge.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
status=0
for n in 3 5 12; do
  for side in java ruzk; do
    mkdir -p "$WORK/$side$n/version-2"
    cp "$ROOT"/tests/data/storage/java-3.8.0/* "$WORK/$side$n/version-2/"
  done
  # A torn newest snapshot must not count as one of the N.
  head -c 100 "$WORK/java$n/version-2/snapshot.5f" > "$WORK/java$n/version-2/snapshot.70"
  cp "$WORK/java$n/version-2/snapshot.70" "$WORK/ruzk$n/version-2/snapshot.70"
  java -cp "$CP" org.apache.zookeeper.server.PurgeTxnLog "$WORK/java$n" -n "$n" > /dev/null
  "$RUZK" purge "$WORK/ruzk$n" -n "$n" > /dev/null
  if ! diff <(ls "$WORK/java$n/version-2") <(ls "$WORK/ruzk$n/version-2"); then
    echo "FAIL: purge -n $n keeps different files (< Java, > ruzk)"; status=1
  fi
done
[ $status = 0 ] && echo "OK: ruzk purge keeps the same files as Java's PurgeTxnLog"
exit $status
