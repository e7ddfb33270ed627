#!/usr/bin/env bash
# Leader election of ruzk against real Java 3.8.0 servers (see run.py). Needs java and
# /usr/share/java/zookeeper.jar (compat-tests/install.sh) and target/release/ruzk.
# Usage: compat-tests/election/run.sh [--keep] [a|b|cd ...]   (about 45 s; hard limit 300 s)
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
RUZK="${RUZK:-$HERE/../../target/release/ruzk}"
exec timeout --kill-after=10 300 python3 "$HERE/run.py" --ruzk "$RUZK" "$@"
