#!/usr/bin/env bash
# Checks `ruzk txnlog recover` against Java's `TxnLogToolkit -r -y` on a log with a broken
# CRC: both must report the same number of fixes and write the same records (Java's .fixed
# file is additionally zero-padded to 64 MiB). Usage: recover-matches-java.sh [RUZK_BIN]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUZK=${1:-}
if [ -z "$RUZK" ]; then (cd "$ROOT" && cargo build -q --bin ruzk); RUZK=$ROOT/target/debug/ruzk; fi
J=/usr/share/java
CP=$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-nop.jar:$J/commons-cli.jar:$J/metrics-core.jar
WORK=$(mktemp -d /tmp/zk-storage-recover.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
status=0
for src in "$ROOT"/tests/data/storage/java-3.8.0/log.*; do
  name=$(basename "$src")
  mkdir -p "$WORK/java" "$WORK/ruzk"
  # Flip one bit in the stored crc of the first and of the last record.
  python3 - "$src" "$WORK/java/$name" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
pos, starts = 16, []
while pos + 12 <= len(b):
    crc, n = struct.unpack(">qi", b[pos:pos + 12])
    if n <= 0:
        break
    starts.append(pos)
    pos += 12 + n + 1
for s in {starts[0], starts[-1]}:
    b[s + 5] ^= 0x10
open(sys.argv[2], "wb").write(b)
PY
  cp "$WORK/java/$name" "$WORK/ruzk/$name"
  j=$(java -cp "$CP" org.apache.zookeeper.server.persistence.TxnLogToolkit -r -y "$WORK/java/$name" | grep -ao 'with [0-9]* fixed')
  r=$("$RUZK" txnlog recover "$WORK/ruzk/$name" | grep -ao 'with [0-9]* fixed')
  if ! python3 - "$WORK/java/$name.fixed" "$WORK/ruzk/$name.fixed" <<'PY'
import sys
a = open(sys.argv[1], "rb").read(); b = open(sys.argv[2], "rb").read()
sys.exit(0 if a[:len(b)] == b and not any(a[len(b):]) else 1)
PY
  then echo "FAIL: $name: recovered files differ"; status=1; fi
  [ "$j" = "$r" ] || { echo "FAIL: $name: Java says '$j', ruzk says '$r'"; status=1; }
done
[ $status = 0 ] && echo "OK: ruzk txnlog recover matches Java's TxnLogToolkit -r -y"
exit $status
