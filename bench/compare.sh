#!/usr/bin/env bash
# Side-by-side benchmark: Debian's Java ZooKeeper 3.8.0 vs ruzk on this machine.
#
#   bench/compare.sh            full run (about 10-20 minutes), updates bench/results/latest
#   bench/compare.sh --quick    tiny sizes (a couple of minutes) to check the runner
#
# Any other flag goes to `ruzk bench compare` (see `ruzk bench compare --help`), e.g.
# --load 200000, --duration 10, --servers ruzk, --java-heap 2g, --port 21510.
# Needs: cargo, java (JDK 17) and the Debian zookeeper package (/usr/share/java/zookeeper.jar).
set -euo pipefail
cd "$(dirname "$0")/.."

for need in java cargo; do
    command -v "$need" >/dev/null || { echo "compare.sh: $need not found" >&2; exit 1; }
done
[ -r /usr/share/java/zookeeper.jar ] || {
    echo "compare.sh: /usr/share/java/zookeeper.jar missing (apt-get install zookeeper libzookeeper-java)" >&2
    exit 1
}

cargo build --release --quiet
exec target/release/ruzk bench compare "$@"
