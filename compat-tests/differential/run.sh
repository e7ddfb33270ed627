#!/usr/bin/env bash
# Differential test: the same seeded random operation sequences against Debian's Java
# ZooKeeper 3.8.0 (side A) and ruzk (side B); every reply and watch event must match.
# Usage: compat-tests/differential/run.sh [--seed N] [--seeds K] [--ops N] [--a KIND] [--b KIND]
#        [--b-cfg KEY=VALUE] [--transcript FILE] [--keep]
# KIND: java | ruzk (one standalone server) | an ensemble topology of compat-tests/ensemble
# (java3, ruzk3, ruzk5, mixed_java_leader, mixed_ruzk_leader, observer_java, observer_ruzk).
# Exits 1 on any mismatch (or a member that died, members whose trees differ, forbidden Java log
# lines), 2 when only harness problems happened (a server that never came up, no reply in time).
# Builds target/release/ruzk first when a side needs it and RUZK_BIN is not set.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
py="$repo/compat-tests/.venv/bin/python"
[ -x "$py" ] || py="$(command -v python3)"

args=("$@")
# ruzk is needed when side A or B is ruzk or an ensemble topology with a ruzk member
# (ruzk3, ruzk5, mixed_*, observer_ruzk); side B defaults to ruzk.
side_a=java
side_b=ruzk
prev=""
for arg in "$@"; do
  case "$prev" in --a) side_a="$arg" ;; --b) side_b="$arg" ;; esac
  case "$arg" in --a=*) side_a="${arg#--a=}" ;; --b=*) side_b="${arg#--b=}" ;; esac
  prev="$arg"
done
needs_ruzk=0
case "$side_a $side_b" in
  *ruzk*|*mixed*) needs_ruzk=1 ;;
esac
if [ -n "${RUZK_BIN:-}" ]; then
  args+=(--ruzk-bin "$RUZK_BIN")
elif [ "$needs_ruzk" = 1 ]; then
  (cd "$repo" && cargo build --release --quiet --bin ruzk)
fi
exec "$py" "$here/difftest.py" "${args[@]}"
