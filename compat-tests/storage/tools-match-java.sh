#!/usr/bin/env bash
# Checks the dump tools against Java's on every captured file:
# - `ruzk snapshot dump F` must print exactly what SnapshotFormatter prints (JVM at UTC).
# - `ruzk txnlog dump F` must agree with TxnLogToolkit on the header, the count and, for every
#   txn, the prefix "<date> session .. cxid .. zxid .. <type>" (the bodies differ on purpose:
#   Java prints jute's CSV toString and raw multi bytes).
# Usage: tools-match-java.sh [RUZK_BIN]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUZK=${1:-}
if [ -z "$RUZK" ]; then (cd "$ROOT" && cargo build -q --bin ruzk); RUZK=$ROOT/target/debug/ruzk; fi
J=/usr/share/java
CP=$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-nop.jar:$J/metrics-core.jar:$J/commons-cli.jar
JAVA=(java -Duser.timezone=UTC -Duser.language=en -Duser.country=US -cp "$CP")
WORK=$(mktemp -d /tmp/zk-storage-tools.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
status=0
for f in "$ROOT"/tests/data/storage/java-3.8.0/snapshot.*; do
  "${JAVA[@]}" org.apache.zookeeper.server.SnapshotFormatter "$f" > "$WORK/java.txt"
  "$RUZK" snapshot dump "$f" > "$WORK/ruzk.txt"
  diff "$WORK/java.txt" "$WORK/ruzk.txt" > /dev/null || { echo "FAIL: snapshot dump of $(basename "$f") differs"; diff "$WORK/java.txt" "$WORK/ruzk.txt" | head -5; status=1; }
done
# Java's multi bodies contain raw bytes and newlines: keep only lines that start a txn.
prefix() { grep -a -E '^(ZooKeeper|EOF|[0-9]+/[0-9]+/[0-9]+, )' | sed -E 's/^([0-9/]+, [0-9:]+ [AP]M UTC session \S+ cxid \S+ zxid \S+ \S+).*/\1/'; }
for f in "$ROOT"/tests/data/storage/java-3.8.0/log.*; do
  "${JAVA[@]}" org.apache.zookeeper.server.persistence.TxnLogToolkit "$f" | prefix > "$WORK/java.txt"
  "$RUZK" txnlog dump "$f" | prefix > "$WORK/ruzk.txt"
  diff "$WORK/java.txt" "$WORK/ruzk.txt" > /dev/null || { echo "FAIL: txnlog dump of $(basename "$f") differs"; diff "$WORK/java.txt" "$WORK/ruzk.txt" | head -5; status=1; }
done
[ $status = 0 ] && echo "OK: snapshot dump matches SnapshotFormatter; txnlog dump matches TxnLogToolkit line for line"
exit $status
