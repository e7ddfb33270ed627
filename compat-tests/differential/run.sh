#!/usr/bin/env bash
# Differential test: the same seeded random operation sequences against Debian's Java
# ZooKeeper 3.8.0 (side A) and ruzk (side B); every reply and watch event must match.
# Usage: compat-tests/differential/run.sh [--seed N] [--seeds K] [--ops N] [--a java|ruzk]
#        [--b java|ruzk] [--b-cfg KEY=VALUE] [--transcript FILE] [--keep]
# Exits non-zero on any mismatch. Builds target/release/ruzk first when side A or B is ruzk
# and RUZK_BIN is not set.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
py="$repo/compat-tests/.venv/bin/python"
[ -x "$py" ] || py="$(command -v python3)"

args=("$@")
needs_ruzk=1
case " $* " in
  *" --b java "*|*" --b=java "*) needs_ruzk=0 ;;
esac
case " $* " in
  *" --a ruzk "*|*" --a=ruzk "*) needs_ruzk=1 ;;
esac
if [ -n "${RUZK_BIN:-}" ]; then
  args+=(--ruzk-bin "$RUZK_BIN")
elif [ "$needs_ruzk" = 1 ]; then
  (cd "$repo" && cargo build --release --quiet --bin ruzk)
fi
exec "$py" "$here/difftest.py" "${args[@]}"
